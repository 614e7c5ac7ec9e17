// runner::forward_packed: many sequences as one prefix trie in one pass. Every packed row's logits must equal
// the logits runner::forward gives at that position of the sequence (run alone from position 0), for every
// family the engine runs (RoPE both layouts and partial rotary, learned positions, ALiBi, parallel blocks,
// GQA/MQA), on random tries (shared prefixes, branches, single tokens, duplicates, a lone long sequence),
// in any topological row order; independent of the thread count; the KV cache untouched; bad tries rejected.
// forward_packed_from (a pass from block l, given the rows' blk.l.resid.pre) gives the full pass's bits.
// forward_packed_rows (the logits of some rows only) gives those rows of forward_packed bit for bit.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "formats/archive.h"
#include "inspect/model.h"
#include "inspect/synth.h"
#include "probes/engine/engine.h"
#include "tests/support/data.h"

using namespace gb;

namespace {

struct loaded {  // the archive outlives the model that points into it
  std::shared_ptr<const archive> ar;
  std::unique_ptr<model> m;
};

std::unique_ptr<loaded> load(const std::string& path) {
  auto a = archive_open(path);
  REQUIRE_MESSAGE(a.ok(), (a.ok() ? "" : a.err().to_string()));
  auto L = std::make_unique<loaded>();
  L->ar = std::make_shared<const archive>(std::move(a.value()));
  auto m = model_build(L->ar);
  REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.err().to_string()));
  L->m = std::make_unique<model>(std::move(m.value()));
  return L;
}

std::string synth(const std::string& dir, const std::string& arch, int64_t kv, int64_t dim = 64,
                  int64_t ctx = 128) {
  synth_spec s;
  s.arch = arch;
  s.n_layer = 2, s.n_embd = dim, s.n_head = 4, s.n_head_kv = kv, s.n_vocab = 512, s.n_ctx = ctx;
  s.seed = 7;
  s.path = dir + "/" + arch + "-" + std::to_string(kv) + "-" + std::to_string(dim) + ".gguf";
  auto r = synth_write(s);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  return s.path;
}

std::unique_ptr<engine::runner> make_runner(const model& m, int threads = 0) {
  engine::run_options o;
  o.threads = threads;
  auto r = engine::runner::create(m, o);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  return std::move(r).value();
}

// A packed trie built by inserting sequences in order: a sequence walks the rows it shares with earlier ones
// and appends the rest, so rows are topological but not DFS when a later sequence branches off an early one.
struct trie {
  std::vector<int32_t> tokens, parent;
  std::vector<std::vector<int32_t>> rows_of;  // per sequence: the row of each of its tokens
  std::map<std::pair<int32_t, int32_t>, int32_t> child;

  void add(const std::vector<int32_t>& seq, bool merge = true) {
    std::vector<int32_t> rows;
    int32_t at = -1;
    for (int32_t tok : seq) {
      auto it = merge ? child.find({at, tok}) : child.end();
      if (it == child.end()) {
        tokens.push_back(tok);
        parent.push_back(at);
        const int32_t row = static_cast<int32_t>(tokens.size()) - 1;
        if (merge) child[{at, tok}] = row;
        at = row;
      } else {
        at = it->second;
      }
      rows.push_back(at);
    }
    rows_of.push_back(std::move(rows));
  }
};

// Random sequences over a 512-token vocabulary: fresh ones, branches off an earlier sequence at a random
// depth, prefixes of earlier ones, exact duplicates, single tokens, and (long = true) one 100-token sequence.
std::vector<std::vector<int32_t>> random_batch(std::mt19937& rng, int n, bool long_one) {
  std::uniform_int_distribution<int32_t> tok(0, 511);
  std::vector<std::vector<int32_t>> seqs;
  for (int i = 0; i < n; ++i) {
    std::vector<int32_t> s;
    const int kind = seqs.empty() ? 0 : static_cast<int>(rng() % 5);
    const std::vector<int32_t>& base = seqs.empty() ? s : seqs[rng() % seqs.size()];
    if (kind == 1 || kind == 2) {  // branch / prefix of an earlier sequence
      const size_t cut = 1 + rng() % base.size();
      s.assign(base.begin(), base.begin() + static_cast<std::ptrdiff_t>(cut));
      if (kind == 1)
        for (size_t k = 1 + rng() % 12; k > 0; --k) s.push_back(tok(rng));
    } else if (kind == 3) {  // duplicate
      s = base;
    } else {
      s.push_back(rng() % 3 == 0 ? 1 : tok(rng));  // many sequences open with the same "BOS"
      for (size_t k = rng() % 20; k > 0; --k) s.push_back(tok(rng));
    }
    seqs.push_back(std::move(s));
  }
  seqs.push_back({tok(rng)});  // a single token
  if (long_one) {
    std::vector<int32_t> s;
    for (int k = 0; k < 100; ++k) s.push_back(tok(rng));
    seqs.push_back(std::move(s));
  }
  return seqs;
}

// max |packed row - forward() of the sequence alone| over every token of every sequence
double packed_vs_single(engine::runner& run, const std::vector<std::vector<int32_t>>& seqs, const trie& tr,
                        double* scale = nullptr) {
  auto packed = run.forward_packed(tr.tokens, tr.parent);
  REQUIRE_MESSAGE(packed.ok(), (packed.ok() ? "" : packed.err().to_string()));
  const int64_t V = run.vocab_size();
  REQUIRE(packed.value().size() == tr.tokens.size() * static_cast<size_t>(V));
  double err = 0, mx = 0;
  for (size_t s = 0; s < seqs.size(); ++s) {
    run.reset();
    auto single = run.forward(seqs[s]);
    REQUIRE(single.ok());
    for (size_t i = 0; i < seqs[s].size(); ++i) {
      const float* a = packed.value().data() + static_cast<int64_t>(tr.rows_of[s][i]) * V;
      const float* b = single.value().data() + static_cast<int64_t>(i) * V;
      for (int64_t j = 0; j < V; ++j) {
        err = std::max(err, std::fabs(static_cast<double>(a[j]) - static_cast<double>(b[j])));
        mx = std::max(mx, std::fabs(static_cast<double>(b[j])));
      }
    }
  }
  if (scale) *scale = mx;
  return err;
}

struct recorder : engine::hook {
  std::vector<std::string> wanted;
  std::map<std::string, std::vector<int64_t>> shapes;
  bool wants(std::string_view name) override {
    return std::find(wanted.begin(), wanted.end(), std::string(name)) != wanted.end();
  }
  bool observe(std::string_view name, engine::activation_view a) override {
    shapes[std::string(name)].assign(a.shape.begin(), a.shape.end());
    return true;
  }
};

}  // namespace

TEST_CASE(
    "forward_packed: every row of random tries equals forward() of its sequence alone, every family, bit for "
    "bit") {
  const std::string dir = test::temp_dir("engine_packed");
  struct fam {
    std::string arch;
    int64_t kv;
  };
  std::vector<fam> fams;
  for (const std::string& a : synth_architectures()) fams.push_back({a, 0});
  fams.push_back({"llama", 2});  // GQA
  fams.push_back({"llama", 1});  // MQA
  int ran = 0;
  for (const fam& f : fams) {
    CAPTURE(f.arch);
    CAPTURE(f.kv);
    auto L = load(synth(dir, f.arch, f.kv));
    if (!engine::engine_unsupported_reason(*L->m).empty()) {
      MESSAGE(f.arch << ": not run by the engine (" << engine::engine_unsupported_reason(*L->m) << ")");
      continue;
    }
    auto run = make_runner(*L->m);
    std::mt19937 rng(static_cast<uint32_t>(17 + ran));
    double worst = 0, scale = 0;
    size_t rows = 0;
    for (int round = 0; round < 3; ++round) {
      const auto seqs = random_batch(rng, 12, round == 0);
      trie tr;
      for (const auto& s : seqs) tr.add(s);
      size_t total = 0;
      for (const auto& s : seqs) total += s.size();
      CHECK(tr.tokens.size() < total);  // prefixes were shared
      double sc = 0;
      worst = std::max(worst, packed_vs_single(*run, seqs, tr, &sc));
      scale = std::max(scale, sc);
      rows += tr.tokens.size();
    }
    MESSAGE(f.arch << " (kv " << f.kv << "): max |packed - single| = " << worst << " over " << rows
                   << " packed rows (max |logit| " << scale << ")");
    CHECK(scale > 1e-3);
    CHECK(worst == 0.0);  // matmul rows, norms and attention are fixed-order per row: same bits
    ++ran;
  }
  CHECK(ran >= 10);
}

TEST_CASE(
    "forward_packed: 8 sequences without shared rows equal 8 separate runs; duplicates need not merge") {
  const std::string dir = test::temp_dir("engine_packed8");
  for (const std::string arch : {"llama", "bloom", "gpt2"}) {
    CAPTURE(arch);
    auto L = load(synth(dir, arch, 0));
    auto run = make_runner(*L->m);
    std::mt19937 rng(3);
    std::vector<std::vector<int32_t>> seqs;
    for (int s = 0; s < 8; ++s) {
      std::vector<int32_t> q;
      for (size_t k = 5 + rng() % 20; k > 0; --k) q.push_back(static_cast<int32_t>(rng() % 512));
      seqs.push_back(std::move(q));
    }
    seqs.push_back(seqs[2]);  // the same sequence again, packed as its own rows
    trie tr;
    for (const auto& s : seqs) tr.add(s, /*merge=*/false);
    const double err = packed_vs_single(*run, seqs, tr);
    MESSAGE(arch << ": 9 sequences, " << tr.tokens.size() << " rows: max |packed - single| = " << err);
    CHECK(err == 0.0);
  }
}

TEST_CASE("forward_packed: results do not depend on the thread count (bit for bit)") {
  const std::string dir = test::temp_dir("engine_packed_threads");
  // dim 256 and ~300 rows: every matmul is large enough to run parallel at 2+ threads
  auto L = load(synth(dir, "llama", 2, 256, 256));
  std::mt19937 rng(9);
  trie tr;
  for (const auto& s : random_batch(rng, 40, true)) tr.add(s);
  REQUIRE(tr.tokens.size() > 200);
  auto one = make_runner(*L->m, 1), two = make_runner(*L->m, 2), three = make_runner(*L->m, 3);
  auto a = one->forward_packed(tr.tokens, tr.parent), b = two->forward_packed(tr.tokens, tr.parent),
       c = three->forward_packed(tr.tokens, tr.parent);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  CHECK(a.value() == b.value());
  CHECK(a.value() == c.value());
}

TEST_CASE("forward_packed leaves the KV cache and position alone; per-token hooks see (T, ...)") {
  const std::string dir = test::temp_dir("engine_packed_state");
  auto L = load(synth(dir, "llama", 2));
  auto run = make_runner(*L->m);
  const std::vector<int32_t> head = {1, 40, 41, 42}, tail = {43, 44};
  std::vector<int32_t> all = head;
  all.insert(all.end(), tail.begin(), tail.end());
  auto whole = run->forward(all);
  REQUIRE(whole.ok());
  run->reset();
  REQUIRE(run->forward(head).ok());
  auto p = run->forward_packed({1, 5, 9, 7}, {-1, 0, 1, 0});
  REQUIRE(p.ok());
  CHECK(run->position() == 4);
  auto rest = run->forward(tail);
  REQUIRE(rest.ok());
  const int64_t V = run->vocab_size();
  double err = 0;
  for (size_t i = 0; i < rest.value().size(); ++i)
    err = std::max(err, std::fabs(static_cast<double>(rest.value()[i]) -
                                  static_cast<double>(whole.value()[4 * static_cast<size_t>(V) + i])));
  CHECK(err == 0.0);  // the continuation has the full pass's bits

  recorder h;
  h.wanted = {"embed", "blk.0.attn.q", "blk.1.mlp.pre", "logits"};
  REQUIRE(run->forward_packed({1, 5, 9, 7, 8}, {-1, 0, 1, 0, -1}, &h).ok());
  const auto& hp = L->m->hp;
  CHECK(h.shapes["embed"] == std::vector<int64_t>{5, hp.n_embd});
  CHECK(h.shapes["blk.1.mlp.pre"] == std::vector<int64_t>{5, hp.n_ff});
  CHECK(h.shapes["logits"] == std::vector<int64_t>{5, V});
  CHECK(h.shapes.count("blk.0.attn.q") == 1);
}

TEST_CASE("forward_packed errors: bad parents, too deep, bad tokens, empty, attention hook points") {
  const std::string dir = test::temp_dir("engine_packed_err");
  auto L = load(synth(dir, "llama", 2));  // n_ctx 128
  auto run = make_runner(*L->m);
  auto code = [&](const std::vector<int32_t>& t, const std::vector<int32_t>& p, engine::hook* h = nullptr) {
    auto r = run->forward_packed(t, p, h);
    REQUIRE_FALSE(r.ok());
    MESSAGE(r.err().to_string());
    return r.err().code;
  };
  CHECK(code({}, {}) == errc::bad_value);
  CHECK(code({1, 2}, {-1}) == errc::bad_value);           // sizes differ
  CHECK(code({1, 2}, {-1, 1}) == errc::bad_value);        // its own parent
  CHECK(code({1, 2, 3}, {-1, 2, 0}) == errc::bad_value);  // a later row as parent
  CHECK(code({1, 2}, {-1, -2}) == errc::bad_value);       // below -1
  CHECK(code({1, 512}, {-1, 0}) == errc::bad_value);      // outside the vocabulary
  std::vector<int32_t> t(129, 3), p(129);
  for (int32_t i = 0; i < 129; ++i) p[static_cast<size_t>(i)] = i - 1;
  CHECK(code(t, p) == errc::limit);  // row 128 at position 128 of a 128 context
  t.resize(128), p.resize(128);
  CHECK(run->forward_packed(t, p).ok());  // 128 positions fit
  // many short rows beyond the context in total are fine: only depth counts
  std::vector<int32_t> wide(300, 4), roots(300, -1);
  CHECK(run->forward_packed(wide, roots).ok());
  recorder h;
  h.wanted = {"blk.1.attn.probs"};
  CHECK(code({1, 2}, {-1, 0}, &h) == errc::unsupported);
  h.wanted = {"blk.0.attn.scores"};
  CHECK(code({1, 2}, {-1, 0}, &h) == errc::unsupported);
  CHECK(run->position() == 0);
}

TEST_CASE(
    "attention tiles do not change bits: one pass == chunks == token by token == packed, head dims 16..160") {
  // A single pass attends in tiles of 16 query rows over blocks of 16 keys (scores) and 64 keys (values),
  // with groups of four rows and per-row tails; decoding goes one row at a time and a packed trie row by
  // row. Head dims 16, 80 (a masked last chunk) and 160 (the generic chunk loop) with 4 heads; 150 tokens
  // cross every tile, block and group boundary. Under ASan + UBSan (where this case took 38 of the file's 62
  // CPU s) 83: five full tiles and a 3-row tail, one 64-key value block and a 19-key tail.
#ifdef GB_SANITIZED
  constexpr int n_tokens = 83;
#else
  constexpr int n_tokens = 150;
#endif
  const std::string dir = test::temp_dir("engine_attn_tiles");
  for (const int64_t dim : {64, 320, 640}) {
    CAPTURE(dim);
    auto L = load(synth(dir, "llama", 2, dim, 256));
    auto run = make_runner(*L->m, 2);
    std::mt19937 rng(static_cast<uint32_t>(dim));
    std::vector<int32_t> toks;
    for (int i = 0; i < n_tokens; ++i) toks.push_back(static_cast<int32_t>(rng() % 512));
    const int64_t V = run->vocab_size();
    auto whole = run->forward(toks);
    REQUIRE(whole.ok());
    std::vector<float> chunked, stepped;
    run->reset();
    for (size_t s = 0; s < toks.size(); s += 37) {
      auto r = run->forward(
          std::vector<int32_t>(toks.begin() + static_cast<std::ptrdiff_t>(s),
                               toks.begin() + static_cast<std::ptrdiff_t>(std::min(toks.size(), s + 37))));
      REQUIRE(r.ok());
      chunked.insert(chunked.end(), r.value().begin(), r.value().end());
    }
    run->reset();
    for (int32_t t : toks) {
      auto r = run->forward({t});
      REQUIRE(r.ok());
      stepped.insert(stepped.end(), r.value().begin(), r.value().end());
    }
    std::vector<int32_t> parent(toks.size());
    for (size_t i = 0; i < toks.size(); ++i) parent[i] = static_cast<int32_t>(i) - 1;
    auto packed = run->forward_packed(toks, parent);
    REQUIRE(packed.ok());
    REQUIRE(whole.value().size() == toks.size() * static_cast<size_t>(V));
    CHECK(chunked == whole.value());
    CHECK(stepped == whole.value());
    CHECK(packed.value() == whole.value());
    double mx = 0;
    for (float x : whole.value()) mx = std::max(mx, std::fabs(static_cast<double>(x)));
    CHECK(mx > 1e-3);
  }
}

TEST_CASE("forward_last runs the last layer on the last row only, with the full pass's bits, every family") {
  // forward_last skips the last layer's attention output, MLP and final norm for all rows but the last
  // (K and V of every row still reach the cache). Its logits must equal the full pass's last row exactly,
  // a continuation must see the same cache, and a hook on a last-layer point gets every row (no skipping).
  const std::string dir = test::temp_dir("engine_last_row");
  int ran = 0;
  for (const std::string& arch : synth_architectures()) {
    CAPTURE(arch);
    auto L = load(synth(dir, arch, 0));
    if (!engine::engine_unsupported_reason(*L->m).empty()) continue;
    auto run = make_runner(*L->m, 2);
    std::mt19937 rng(5);
    std::vector<int32_t> toks, more;
    for (int i = 0; i < 40; ++i) toks.push_back(static_cast<int32_t>(rng() % 512));
    for (int i = 0; i < 7; ++i) more.push_back(static_cast<int32_t>(rng() % 512));
    const int64_t V = run->vocab_size();
    std::vector<int32_t> all = toks;
    all.insert(all.end(), more.begin(), more.end());
    auto whole = run->forward(all);
    REQUIRE(whole.ok());
    run->reset();
    auto last = run->forward_last(toks);
    REQUIRE(last.ok());
    REQUIRE(last.value().size() == static_cast<size_t>(V));
    const std::vector<float> want(
        whole.value().begin() + static_cast<std::ptrdiff_t>((toks.size() - 1) * static_cast<size_t>(V)),
        whole.value().begin() + static_cast<std::ptrdiff_t>(toks.size() * static_cast<size_t>(V)));
    CHECK(last.value() == want);
    auto cont = run->forward(more);  // the cache forward_last filled (every layer, every row)
    REQUIRE(cont.ok());
    CHECK(std::equal(
        cont.value().begin(), cont.value().end(),
        whole.value().begin() + static_cast<std::ptrdiff_t>(toks.size() * static_cast<size_t>(V))));
    recorder h;
    const int64_t n_layer = L->m->hp.n_layer;
    h.wanted = {"blk." + std::to_string(n_layer - 1) + ".mlp.out", "final.norm"};
    run->reset();
    auto hooked = run->forward_last(toks, &h);
    REQUIRE(hooked.ok());
    CHECK(hooked.value() == want);
    CHECK(h.shapes["blk." + std::to_string(n_layer - 1) + ".mlp.out"] ==
          std::vector<int64_t>{40, L->m->hp.n_embd});
    CHECK(h.shapes["final.norm"] == std::vector<int64_t>{40, L->m->hp.n_embd});
    ++ran;
  }
  CHECK(ran >= 10);
}

TEST_CASE(
    "quantized weights: one pass == chunks == token by token == packed, on 1 and 2 threads, every ggml "
    "type") {
  // The prompt path decodes ggml blocks into packed panels, token by token into few-token tiles: both
  // must give the same decoded values and FMA chains, so the same logits bit for bit, on any thread count.
  const std::string dir = test::temp_dir("engine_quant_paths");
  for (dtype t : {dtype::q4_0, dtype::q4_1, dtype::q5_0, dtype::q5_1, dtype::q8_0, dtype::q2_k, dtype::q3_k,
                  dtype::q4_k, dtype::q5_k, dtype::q6_k}) {
    const std::string type_name = dtype_name(t);
    CAPTURE(type_name);
    synth_spec s;
    s.arch = "llama";
    s.n_layer = 1, s.n_embd = 256, s.n_head = 4, s.n_head_kv = 2, s.n_vocab = 512, s.n_ctx = 64;
    s.seed = 11;
    s.type = t;
    s.path = dir + "/llama-" + type_name + ".gguf";
    auto w = synth_write(s);
    REQUIRE_MESSAGE(w.ok(), (w.ok() ? "" : w.err().to_string()));
    auto L = load(s.path);
    std::vector<int32_t> toks;
    for (int i = 0; i < 20; ++i) toks.push_back(static_cast<int32_t>((i * 37 + 5) % 512));
    std::vector<float> first;
    for (int threads : {1, 2}) {
      CAPTURE(threads);
      auto run = make_runner(*L->m, threads);
      auto whole = run->forward(toks);
      REQUIRE(whole.ok());
      std::vector<float> stepped;
      run->reset();
      for (int32_t tok : toks) {
        auto r = run->forward({tok});
        REQUIRE(r.ok());
        stepped.insert(stepped.end(), r.value().begin(), r.value().end());
      }
      run->reset();
      std::vector<float> chunked;
      for (size_t c = 0; c < toks.size(); c += 3) {  // 3-token steps: the few-token path with T 3 and 2
        auto r = run->forward(
            std::vector<int32_t>(toks.begin() + static_cast<std::ptrdiff_t>(c),
                                 toks.begin() + static_cast<std::ptrdiff_t>(std::min(toks.size(), c + 3))));
        REQUIRE(r.ok());
        chunked.insert(chunked.end(), r.value().begin(), r.value().end());
      }
      std::vector<int32_t> parent(toks.size());
      for (size_t i = 0; i < toks.size(); ++i) parent[i] = static_cast<int32_t>(i) - 1;
      auto packed = run->forward_packed(toks, parent);
      REQUIRE(packed.ok());
      CHECK(stepped == whole.value());
      CHECK(chunked == whole.value());
      CHECK(packed.value() == whole.value());
      if (first.empty()) first = whole.value();
      CHECK(whole.value() == first);
      double mx = 0;
      for (float x : whole.value()) mx = std::max(mx, std::fabs(static_cast<double>(x)));
      CHECK(mx > 1e-3);
    }
  }
}

// ---- forward_packed_from: a packed pass from block l, given each row's blk.l.resid.pre

namespace {

// Keeps every blk.N.resid.pre; adds `delta` to rows [r0, r1) of blk.<layer>.resid.pre (modify).
struct resid_hook : engine::hook {
  std::map<std::string, std::vector<float>, std::less<>> seen;
  std::string target;
  float delta = 0;
  int64_t r0 = 0, r1 = 0;
  bool wants(std::string_view n) override { return n.find(".resid.pre") != std::string_view::npos; }
  bool observe(std::string_view n, engine::activation_view a) override {
    seen[std::string(n)].assign(a.data, a.data + a.shape[0] * a.shape[1]);
    return true;
  }
  bool modify(std::string_view n, engine::mutable_activation_view a) override {
    if (n == target)
      for (int64_t i = r0 * a.shape[1]; i < r1 * a.shape[1]; ++i) a.data[i] += delta;
    return true;
  }
};

// The trie of the forward_packed_from/_staged cases: two sequences sharing a 3-token trunk, a third alone.
const std::vector<int32_t> trunk_tokens{1, 40, 41, 300, 301, 302, 7, 8, 9, 10, 1, 77, 78};
const std::vector<int32_t> trunk_parent{-1, 0, 1, 2, 3, 4, 2, 6, 7, 8, -1, 10, 11};

// The error cases' set-up: a llama runner (2 blocks, dim 64), a three-token chain and its residual rows.
struct chain_case {
  std::unique_ptr<loaded> L;
  std::unique_ptr<engine::runner> run;
  const std::vector<int32_t> tokens{1, 2, 3}, parent{-1, 0, 1};
  const std::vector<float> x = std::vector<float>(3 * 64, 0.5f);  // (T, D)
  explicit chain_case(const char* dir)
      : L(load(synth(test::temp_dir(dir), "llama", 0))), run(make_runner(*L->m)) {}
};

}  // namespace

TEST_CASE("forward_packed_from: from every block, the full packed pass's logits bit for bit, every family") {
  const std::string dir = test::temp_dir("engine_packed_from");
  const std::vector<int32_t>& tokens = trunk_tokens;
  const std::vector<int32_t>& parent = trunk_parent;
  int ran = 0;
  for (const std::string& arch : synth_architectures()) {
    CAPTURE(arch);
    auto L = load(synth(dir, arch, 0));
    if (!engine::engine_unsupported_reason(*L->m).empty()) continue;
    auto made = make_runner(*L->m);
    engine::runner& run = *made;
    resid_hook all;
    auto full = run.forward_packed(tokens, parent, &all);
    REQUIRE(full.ok());
    for (int l = 0; l < L->m->hp.n_layer; ++l) {
      CAPTURE(l);
      const std::string name = "blk." + std::to_string(l) + ".resid.pre";
      resid_hook seen;
      auto from = run.forward_packed_from(l, all.seen.at(name), tokens, parent, &seen);
      REQUIRE(from.ok());
      CHECK(from.value() == full.value());
      CHECK(seen.seen.count(name) == 1);  // block l's points are hooked, earlier ones are not run
      if (l > 0) CHECK(seen.seen.count("blk." + std::to_string(l - 1) + ".resid.pre") == 0);
      // a residual changed at block l: the same as a full pass whose hook changes it there
      resid_hook mod;
      mod.target = name, mod.delta = 0.25f, mod.r0 = 4, mod.r1 = 9;
      auto patched = run.forward_packed(tokens, parent, &mod);
      REQUIRE(patched.ok());
      std::vector<float> x = all.seen.at(name);  // (T, D)
      const size_t D = x.size() / tokens.size();
      for (size_t i = 4 * D; i < 9 * D; ++i) x[i] += 0.25f;
      auto from_patched = run.forward_packed_from(l, x, tokens, parent);
      REQUIRE(from_patched.ok());
      CHECK(from_patched.value() == patched.value());
      CHECK(from_patched.value() != full.value());
    }
    ++ran;
  }
  CHECK(ran >= 10);
}

TEST_CASE("forward_packed_from errors: a layer outside the model, a residual of the wrong size") {
  chain_case c("engine_packed_from_errors");
  for (int l : {-1, 2, 100}) {
    auto r = c.run->forward_packed_from(l, c.x, c.tokens, c.parent);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::bad_value);
  }
  auto r = c.run->forward_packed_from(1, std::vector<float>(3 * 64 - 1), c.tokens, c.parent);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::bad_value);
  CHECK(r.err().message.find("residual rows") != std::string::npos);
  auto bad =
      c.run->forward_packed_from(1, c.x, c.tokens, {-1, 0, 5});  // forward_packed's own checks still apply
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().code == errc::bad_value);
  CHECK(c.run->forward_packed_from(1, c.x, c.tokens, c.parent).ok());
}

// ---- forward_packed_staged: each row joins the pass at its own block

namespace {

// The shape of every blk.N.resid.pre the pass hands over.
struct rows_hook : engine::hook {
  std::map<std::string, int64_t, std::less<>> rows;
  bool wants(std::string_view n) override { return n.find(".resid.pre") != std::string_view::npos; }
  bool observe(std::string_view n, engine::activation_view a) override {
    rows[std::string(n)] = a.shape[0];
    return true;
  }
};

}  // namespace

TEST_CASE(
    "forward_packed_staged: rows joining at different blocks give the full passes' bits, every family") {
  const std::string dir = test::temp_dir("engine_packed_staged");
  const std::vector<int32_t>& tokens = trunk_tokens;
  const std::vector<int32_t>& parent = trunk_parent;
  const auto T = static_cast<int32_t>(tokens.size());
  // the trie twice: the first copy joins at block 0, the second at block 1 with a changed residual
  std::vector<int32_t> tokens2 = tokens, parent2 = parent, stage(tokens.size(), 0);
  for (int32_t t = 0; t < T; ++t) {
    tokens2.push_back(tokens[static_cast<size_t>(t)]);
    parent2.push_back(parent[static_cast<size_t>(t)] < 0 ? -1 : parent[static_cast<size_t>(t)] + T);
    stage.push_back(1);
  }
  int ran = 0;
  for (const std::string& arch : synth_architectures()) {
    CAPTURE(arch);
    auto L = load(synth(dir, arch, 0));
    if (!engine::engine_unsupported_reason(*L->m).empty()) continue;
    REQUIRE(L->m->hp.n_layer == 2);
    auto made = make_runner(*L->m);
    engine::runner& run = *made;
    resid_hook all;
    auto full = run.forward_packed(tokens, parent, &all);
    REQUIRE(full.ok());
    resid_hook mod;
    mod.target = "blk.1.resid.pre", mod.delta = 0.25f, mod.r0 = 4, mod.r1 = 9;
    auto patched = run.forward_packed(tokens, parent, &mod);
    REQUIRE(patched.ok());
    std::vector<float> x = all.seen.at("blk.0.resid.pre"), x1 = all.seen.at("blk.1.resid.pre");  // (T, D)
    const size_t D = x1.size() / tokens.size();
    for (size_t i = 4 * D; i < 9 * D; ++i) x1[i] += 0.25f;
    x.insert(x.end(), x1.begin(), x1.end());
    rows_hook seen;
    auto staged = run.forward_packed_staged(stage, x, tokens2, parent2, &seen);
    REQUIRE(staged.ok());
    const size_t V = full.value().size() / tokens.size();
    REQUIRE(staged.value().size() == 2 * tokens.size() * V);
    const auto mid = staged.value().begin() + static_cast<std::ptrdiff_t>(tokens.size() * V);
    CHECK(std::vector<float>(staged.value().begin(), mid) == full.value());
    CHECK(std::vector<float>(mid, staged.value().end()) == patched.value());
    CHECK(patched.value() != full.value());
    CHECK(seen.rows.at("blk.0.resid.pre") == T);  // block 0 runs on the rows that joined there
    CHECK(seen.rows.at("blk.1.resid.pre") == 2 * T);
    // every row from block 1: forward_packed_from's bits
    auto from = run.forward_packed_from(1, x1, tokens, parent);
    auto staged1 = run.forward_packed_staged(std::vector<int32_t>(tokens.size(), 1), x1, tokens, parent);
    REQUIRE(from.ok());
    REQUIRE(staged1.ok());
    CHECK(staged1.value() == from.value());
    ++ran;
  }
  CHECK(ran >= 10);
}

TEST_CASE("forward_packed_staged errors: blocks not nondecreasing or outside the model, wrong sizes") {
  chain_case c("engine_packed_staged_errors");
  for (const std::vector<int32_t>& st :
       std::vector<std::vector<int32_t>>{{1, 0, 1}, {0, 0, 2}, {-1, 0, 0}, {0, 0}}) {
    auto r = c.run->forward_packed_staged(st, c.x, c.tokens, c.parent);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::bad_value);
    CHECK(r.err().message.find("start block") != std::string::npos);
  }
  auto r = c.run->forward_packed_staged({0, 0, 1}, std::vector<float>(3 * 64 - 1), c.tokens, c.parent);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("residual rows") != std::string::npos);
  auto bad = c.run->forward_packed_staged({0, 0, 1}, c.x, c.tokens, {-1, 0, 5});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().code == errc::bad_value);
  CHECK(c.run->forward_packed_staged({0, 0, 1}, c.x, c.tokens, c.parent).ok());
}

// ---- forward_packed_rows: the logits of some rows only, into the caller's buffer

TEST_CASE("forward_packed_rows: the listed rows' logits are forward_packed's bit for bit, every family") {
  const std::string dir = test::temp_dir("engine_packed_rows");
  int ran = 0;
  for (const std::string& arch : synth_architectures()) {
    CAPTURE(arch);
    auto L = load(synth(dir, arch, arch == "llama" ? 2 : 0));
    if (!engine::engine_unsupported_reason(*L->m).empty()) continue;
    auto run = make_runner(*L->m);
    std::mt19937 rng(static_cast<uint32_t>(31 + ran));
    trie tr;
    for (const auto& s : random_batch(rng, 12, ran == 0)) tr.add(s);
    auto full = run->forward_packed(tr.tokens, tr.parent);
    REQUIRE(full.ok());
    const auto T = static_cast<int32_t>(tr.tokens.size());
    const auto V = static_cast<size_t>(run->vocab_size());
    std::vector<int32_t> all(static_cast<size_t>(T)), thirds, random_rows;
    for (int32_t t = 0; t < T; ++t) {
      all[static_cast<size_t>(t)] = t;
      if (t % 3 == 1) thirds.push_back(t);
      if (rng() % 4 == 0) random_rows.push_back(t);
    }
    for (const std::vector<int32_t>& rows : {all, thirds, random_rows, std::vector<int32_t>{T - 1}}) {
      CAPTURE(rows.size());
      std::vector<float> buf((rows.size() + 1) * V, -7.0f);  // one row more: must stay as it was
      auto r = run->forward_packed_rows(tr.tokens, tr.parent, rows, buf.data());
      REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
      CHECK(r.value() == rows.size());
      size_t differ = 0;
      for (size_t i = 0; i < rows.size(); ++i)
        differ += !std::equal(
            buf.begin() + static_cast<std::ptrdiff_t>(i * V),
            buf.begin() + static_cast<std::ptrdiff_t>((i + 1) * V),
            full.value().begin() + static_cast<std::ptrdiff_t>(rows[i]) * static_cast<std::ptrdiff_t>(V));
      CHECK(differ == 0);
      CHECK(std::all_of(buf.end() - static_cast<std::ptrdiff_t>(V), buf.end(),
                        [](float v) { return v == -7.0f; }));
    }
    CHECK(run->position() == 0);  // the KV cache is not touched, as by forward_packed
    ++ran;
  }
  CHECK(ran >= 10);
}

TEST_CASE("forward_packed_rows in chunks: each chunk's rows bit for bit, in order, in the chunk's buffer") {
  const std::string dir = test::temp_dir("engine_packed_rows_chunks");
  auto L = load(synth(dir, "llama", 2));
  auto run = make_runner(*L->m);
  std::mt19937 rng(77);
  trie tr;
  for (const auto& s : random_batch(rng, 12, true)) tr.add(s);
  auto full = run->forward_packed(tr.tokens, tr.parent);
  REQUIRE(full.ok());
  const auto T = static_cast<int32_t>(tr.tokens.size());
  const auto V = static_cast<size_t>(run->vocab_size());
  std::vector<int32_t> rows;
  for (int32_t t = 0; t < T; t += 2) rows.push_back(t);
  REQUIRE(rows.size() > 6);
  for (size_t chunk : {size_t{1}, size_t{3}, rows.size() - 1, rows.size(), rows.size() + 5}) {
    CAPTURE(chunk);
    const size_t held = std::min(chunk, rows.size());
    std::vector<float> buf((held + 1) * V, -7.0f);  // one row more: must stay as it was
    size_t next = 0, differ = 0, calls = 0;
    auto r =
        run->forward_packed_rows(tr.tokens, tr.parent, rows, buf.data(), chunk, [&](size_t first, size_t n) {
          ++calls;
          CHECK(first == next);
          CHECK(n == std::min(held, rows.size() - first));
          for (size_t i = 0; i < n; ++i)
            differ += !std::equal(buf.begin() + static_cast<std::ptrdiff_t>(i * V),
                                  buf.begin() + static_cast<std::ptrdiff_t>((i + 1) * V),
                                  full.value().begin() + static_cast<std::ptrdiff_t>(rows[first + i]) *
                                                             static_cast<std::ptrdiff_t>(V));
          next = first + n;
        });
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
    CHECK(r.value() == rows.size());
    CHECK(next == rows.size());
    CHECK(calls == (rows.size() + held - 1) / held);
    CHECK(differ == 0);
    CHECK(std::all_of(buf.end() - static_cast<std::ptrdiff_t>(V), buf.end(),
                      [](float v) { return v == -7.0f; }));
  }
}

TEST_CASE("forward_packed_rows errors: rows out of range or out of order, and forward_packed's own") {
  const std::string dir = test::temp_dir("engine_packed_rows_err");
  auto L = load(synth(dir, "llama", 2));
  auto run = make_runner(*L->m);
  const std::vector<int32_t> tokens = {1, 5, 9, 7}, parent = {-1, 0, 1, 0};
  std::vector<float> buf(4 * static_cast<size_t>(run->vocab_size()));
  for (const std::vector<int32_t>& rows : std::vector<std::vector<int32_t>>{{4}, {-1}, {2, 1}, {1, 1}}) {
    auto r = run->forward_packed_rows(tokens, parent, rows, buf.data());
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::bad_value);
    MESSAGE(r.err().to_string());
  }
  auto bad = run->forward_packed_rows(tokens, {-1, 0, 3, 0}, {0}, buf.data());  // a later row as parent
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().code == errc::bad_value);
  CHECK(run->forward_packed_rows(tokens, parent, {0, 3}, buf.data()).ok());
}
