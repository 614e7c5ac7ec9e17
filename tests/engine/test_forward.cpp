// The forward pass against references: stories260K in every format against the logits and greedy ids
// dumped by the reference implementation (shared data), each family as a synthetic model against llama.cpp
// (--gelu ggml) and against the independent double-precision transformer of tests/support/ref_forward.h
// (exact GELU).
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "formats/archive.h"
#include "formats/quant.h"
#include "inspect/model.h"
#include "inspect/synth.h"
#include "probes/engine/engine.h"
#include "probes/engine/kernels_blocks.h"
#include "probes/engine/repack.h"
#include "tests/support/data.h"
#include "tests/support/engine_fixture.h"
#include "tests/support/ref_forward.h"

using namespace gb;

namespace {

void check_stories_logits(const std::string& rel) {
  GB_DATA(path, rel);
  GB_DATA(ids_path, "models/stories260K/reference/prompt_ids.npy");
  GB_DATA(logits_path, "models/stories260K/reference/prompt_logits.npy");
  test::npy_array ids = test::npy_read(ids_path), ref = test::npy_read(logits_path);
  REQUIRE(ref.shape.size() == 2);
  auto L = test::model_load(path);
  auto r = engine::runner::create(L->m);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  std::vector<int32_t> toks;
  for (double d : ids.v) toks.push_back(static_cast<int32_t>(d));
  REQUIRE(static_cast<int64_t>(toks.size()) == ref.shape[0]);
  REQUIRE(r.value()->vocab_size() == ref.shape[1]);
  auto lg = r.value()->forward(toks);
  REQUIRE(lg.ok());
  REQUIRE(lg.value().size() == ref.v.size());
  double err = 0;
  for (size_t i = 0; i < ref.v.size(); ++i)
    err = std::max(err, std::fabs(static_cast<double>(lg.value()[i]) - ref.v[i]));
  MESSAGE(rel << ": max |logit - reference| = " << err);
  CHECK(err < 1e-4);

  // Same logits one token at a time through the KV cache.
  r.value()->reset();
  double err_inc = 0;
  for (size_t t = 0; t < toks.size(); ++t) {
    auto one = r.value()->forward({toks[t]});
    REQUIRE(one.ok());
    for (int64_t j = 0; j < ref.shape[1]; ++j)
      err_inc =
          std::max(err_inc, std::fabs(static_cast<double>(one.value()[static_cast<size_t>(j)]) -
                                      ref.v[t * static_cast<size_t>(ref.shape[1]) + static_cast<size_t>(j)]));
  }
  CHECK(err_inc < 1e-4);
}

std::vector<int32_t> greedy(engine::runner& r, int32_t bos, int n) {
  r.reset();
  std::vector<int32_t> out{bos};
  auto lg = r.forward_last({bos});
  REQUIRE(lg.ok());
  for (int i = 0; i < n; ++i) {
    const std::vector<float>& v = lg.value();
    const int32_t next = static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
    out.push_back(next);
    if (i + 1 < n) {
      lg = r.forward_last({next});
      REQUIRE(lg.ok());
    }
  }
  return out;
}

// The 41 greedy ids from BOS in reference.json ("greedy_from_bos_ids").
std::vector<int32_t> reference_greedy_ids(const std::string& path) {
  std::ifstream f(path);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t k = s.find("\"greedy_from_bos_ids\"");
  REQUIRE(k != std::string::npos);
  const size_t a = s.find('[', k), b = s.find(']', a);
  std::vector<int32_t> ids;
  std::string body = s.substr(a + 1, b - a - 1);
  size_t i = 0;
  while (i < body.size()) {
    if (std::isdigit(static_cast<unsigned char>(body[i]))) {
      size_t e = i;
      while (e < body.size() && std::isdigit(static_cast<unsigned char>(body[e]))) ++e;
      ids.push_back(std::stoi(body.substr(i, e - i)));
      i = e;
    } else {
      ++i;
    }
  }
  return ids;
}

}  // namespace

TEST_CASE("stories260K GGUF v3: logits at every prompt position match the reference within 1e-4") {
  check_stories_logits("models/stories260K/stories260K.gguf");
}
TEST_CASE("stories260K GGUF v1: logits match the reference within 1e-4") {
  check_stories_logits("models/stories260K/tinyllamas-stories-260k-f32.ggufv1.gguf");
}
TEST_CASE("stories260K llama2.c checkpoint: logits match the reference within 1e-4") {
  check_stories_logits("models/stories260K/stories260K.bin");
}
TEST_CASE("stories260K HF folder (rotate-half q/k): logits match the reference within 1e-4") {
  check_stories_logits("models/stories260K/hf");
}

TEST_CASE("stories260K: greedy ids from BOS reproduce the reference continuation") {
  GB_DATA(path, "models/stories260K/stories260K.gguf");
  GB_DATA(ref, "models/stories260K/reference/reference.json");
  std::vector<int32_t> want = reference_greedy_ids(ref);
  REQUIRE(want.size() > 10);
  auto L = test::model_load(path);
  auto r = engine::runner::create(L->m);
  REQUIRE(r.ok());
  std::vector<int32_t> got = greedy(*r.value(), want[0], static_cast<int>(want.size()) - 1);
  CHECK(got == want);
}

TEST_CASE("token_logprobs equals log_softmax of the full-sequence logits") {
  GB_DATA(path, "models/stories260K/stories260K.gguf");
  auto L = test::model_load(path);
  auto r = engine::runner::create(L->m);
  REQUIRE(r.ok());
  std::vector<int32_t> toks = {1, 403, 407, 261, 378, 432};
  auto lp = r.value()->token_logprobs(toks);
  REQUIRE(lp.ok());
  REQUIRE(lp.value().size() == toks.size() - 1);
  r.value()->reset();
  auto lg = r.value()->forward(toks);
  REQUIRE(lg.ok());
  const int64_t V = r.value()->vocab_size();
  for (size_t i = 0; i + 1 < toks.size(); ++i) {
    const float* row = lg.value().data() + static_cast<int64_t>(i) * V;
    double s = 0;
    for (int64_t j = 0; j < V; ++j) s += std::exp(static_cast<double>(row[j]));
    // Same positions, different batch shapes: agreement to float rounding of the logits.
    CHECK(std::fabs(lp.value()[i] - (static_cast<double>(row[toks[i + 1]]) - std::log(s))) < 1e-6);
    CHECK(lp.value()[i] < 0.0);
  }
}

TEST_CASE("truncate: a shared prefix computed once gives each continuation the logits of a full pass") {
  GB_DATA(path, "models/stories260K/stories260K.gguf");
  auto L = test::model_load(path);
  const auto made = test::runner_make(L->m);
  engine::runner& e = *made;
  const int64_t V = e.vocab_size();
  const std::vector<int32_t> prefix = {1, 403, 407};
  for (const std::vector<int32_t>& tail :
       {std::vector<int32_t>{261, 378, 432}, std::vector<int32_t>{298, 315}}) {
    std::vector<int32_t> whole = prefix;
    whole.insert(whole.end(), tail.begin(), tail.end());
    e.reset();
    auto full = e.forward(whole);
    REQUIRE(full.ok());
    e.reset();
    REQUIRE(e.forward(prefix).ok());
    REQUIRE(e.forward({500, 501}).ok());  // a different branch, then rewound
    e.truncate(static_cast<int64_t>(prefix.size()));
    CHECK(e.position() == static_cast<int64_t>(prefix.size()));
    auto cont = e.forward(tail);
    REQUIRE(cont.ok());
    double worst = 0;
    for (size_t i = 0; i < tail.size(); ++i)
      for (int64_t j = 0; j < V; ++j)
        worst = std::max(
            worst, static_cast<double>(std::fabs(
                       cont.value()[i * static_cast<size_t>(V) + static_cast<size_t>(j)] -
                       full.value()[(prefix.size() + i) * static_cast<size_t>(V) + static_cast<size_t>(j)])));
    CHECK(worst == 0.0);  // every row is computed in a fixed order: the continuation has the full pass's bits
  }
  e.truncate(99);  // beyond the position: clamped, nothing invented
  CHECK(e.position() == 5);
}

TEST_CASE("errors: prompt longer than the context, token outside the vocabulary, empty input") {
  GB_DATA(path, "models/stories260K/stories260K.gguf");
  auto L = test::model_load(path);
  engine::run_options o;
  o.max_context = 8;
  auto r = engine::runner::create(L->m, o);
  REQUIRE(r.ok());
  CHECK(r.value()->context_length() == 8);
  auto too_long = r.value()->forward(std::vector<int32_t>(9, 1));
  REQUIRE(!too_long.ok());
  CHECK(too_long.err().code == errc::limit);
  auto bad = r.value()->forward({1, 600});
  REQUIRE(!bad.ok());
  CHECK(bad.err().code == errc::bad_value);
  CHECK(!r.value()->forward({}).ok());
  CHECK(r.value()->position() == 0);
  CHECK(r.value()->forward(std::vector<int32_t>(8, 1)).ok());
  CHECK(!r.value()->forward({1}).ok());  // the 9th position
}

TEST_CASE("glassbox run: 200 greedy tokens from BOS reproduce llama2.c's expected stdout byte for byte") {
  GB_DATA(expected_path, "models/stories260K/llama2c_test_all_expected_stdout.txt");
  GB_DATA(gguf, "models/stories260K/stories260K.gguf");
  GB_DATA(bin, "models/stories260K/stories260K.bin");
  GB_DATA(tok, "models/stories260K/tok512.bin");
  GB_DATA(hf, "models/stories260K/hf");
  const std::string expected = test::read_text(expected_path);
  for (const std::string& args :
       {"'" + gguf + "'", "'" + bin + "' --tokenizer '" + tok + "'", "'" + hf + "'"}) {
    std::string out;
    CAPTURE(args);
    REQUIRE(test::run_glassbox("run " + args + " --tokens 200", &out) == 0);
    REQUIRE(!out.empty());
    CHECK(out.back() == '\n');
    out.pop_back();
    CHECK(out == expected);
  }
}

TEST_CASE("glassbox run: --ids prompt; top-k JSON lists the reference's top token") {
  GB_DATA(bin, "models/stories260K/stories260K.bin");
  std::string out;
  CHECK(test::run_glassbox("run '" + bin + "' --ids 1,x", &out, true) == 2);
  REQUIRE(test::run_glassbox("run '" + bin + "' --ids 1,403,407,261,378 --top-k 3 --json", &out) == 0);
  CHECK(out.find("\"top_k\"") != std::string::npos);
  CHECK(out.find("\"id\": 432") != std::string::npos);  // reference.json: top-1 after the prompt
}

namespace {

// Every family the engine runs, with the KV-head count its synthetic model gets (grouped, multi-query or one
// per head).
struct family_kv {
  const char* arch;
  int64_t kv;
};
constexpr family_kv k_families[] = {{"llama", 2},  {"qwen2", 4}, {"gpt2", 4}, {"gptj", 4}, {"gptneox", 4},
                                    {"falcon", 1}, {"bloom", 4}, {"phi2", 4}, {"gemma", 1}};

std::string synth(const std::string& dir, const std::string& arch, dtype t, int64_t kv, int64_t dim = 64,
                  int64_t ff = 0) {
  synth_spec s;
  s.arch = arch;
  s.n_layer = 2, s.n_embd = dim, s.n_head = 4, s.n_head_kv = kv, s.n_ff = ff, s.n_vocab = 512, s.n_ctx = 128;
  s.type = t;
  s.seed = 3;
  s.path = dir + "/" + arch + "-" + dtype_name(t) + ".gguf";
  auto r = synth_write(s);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  return s.path;
}

// max over the vocabulary of |log_softmax(last row of lg) - llama.cpp's log p| (j: llamacpp-next-probs.mjs)
double logprob_err(const std::vector<float>& lg, size_t n_ids, size_t V, const nlohmann::json& j) {
  const float* last = lg.data() + (n_ids - 1) * V;
  double mx = -1e300, z = 0;
  for (size_t i = 0; i < V; ++i) mx = std::max(mx, static_cast<double>(last[i]));
  for (size_t i = 0; i < V; ++i) z += std::exp(static_cast<double>(last[i]) - mx);
  double err = 0;
  for (size_t i = 0; i < V; ++i) {
    if (j["logprobs"][i].is_null()) continue;
    const double mine = static_cast<double>(last[i]) - mx - std::log(z);
    err = std::max(err, std::fabs(mine - j["logprobs"][i].get<double>()));
  }
  return err;
}

std::vector<float> run_logits(const model& m, const std::vector<int32_t>& ids,
                              const engine::run_options& opt = {}) {
  auto r = engine::runner::create(m, opt);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  auto lg = r.value()->forward(ids);
  REQUIRE(lg.ok());
  return lg.value();
}

}  // namespace

TEST_CASE("each quantised type gives the logits of the same model dequantised to f32 first (1e-5)") {
  const std::string dir = test::temp_dir("engine_quant");
  const std::vector<int32_t> ids = {1, 5, 9, 33, 100, 7, 200, 300, 11};  // 9 tokens: the GEMM path
  for (dtype t : {dtype::q8_0, dtype::q4_0, dtype::q4_1, dtype::q5_0, dtype::q5_1, dtype::q4_k, dtype::q5_k,
                  dtype::q6_k, dtype::f16, dtype::bf16}) {
    const std::string type_name = dtype_name(t);
    CAPTURE(type_name);
    auto L = test::model_load(synth(dir, "llama", t, 2, 256, 512));
    // The dequantised twin: same archive, every block tensor decoded to f32 bytes we own.
    archive a = *L->ar;
    std::vector<std::vector<float>> keep;
    size_t converted = 0;
    for (tensor_view& tv : a.tensors) {
      if (tv.type == dtype::f32) continue;
      keep.emplace_back(tv.element_count());
      dequantize_row(tv.type, tv.data, keep.back().data(), static_cast<int64_t>(tv.element_count()));
      tv.type = dtype::f32;
      tv.data = reinterpret_cast<const uint8_t*>(keep.back().data());
      tv.nbytes = tv.element_count() * 4;
      ++converted;
    }
    REQUIRE(converted > 0);
    auto ar32 = std::make_shared<const archive>(std::move(a));
    auto m32 = model_build(ar32);
    REQUIRE(m32.ok());
    std::vector<float> q = run_logits(L->m, ids), f = run_logits(m32.value(), ids);
    REQUIRE(q.size() == f.size());
    double err = 0;
    for (size_t i = 0; i < q.size(); ++i)
      err = std::max(err, std::fabs(static_cast<double>(q[i]) - static_cast<double>(f[i])));
    CHECK(err < 1e-5);
    // One token at a time (the streaming matmul path) agrees too.
    auto r = engine::runner::create(L->m);
    REQUIRE(r.ok());
    double err1 = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      auto one = r.value()->forward({ids[i]});
      REQUIRE(one.ok());
      for (size_t j = 0; j < one.value().size(); ++j)
        err1 = std::max(err1, std::fabs(static_cast<double>(one.value()[j]) -
                                        static_cast<double>(f[i * one.value().size() + j])));
    }
    CHECK(err1 < 1e-5);
  }
}

// Runners of one loaded model share one repacked copy (a bias run's workers each made their own): the same
// bytes while any of them lives, the same logits as the stored layout's from the second runner and after the
// first is gone (also under repack all, which picks the same q4_k matrices); another load of the file: a copy
// of its own.
TEST_CASE("runners of one model share the repacked copy") {
  const std::string dir = test::temp_dir("engine_repack_shared");
  synth_spec s;
  s.n_layer = 1, s.n_embd = 256, s.n_head = 4, s.n_head_kv = 2, s.n_ff = 512, s.n_vocab = 500, s.n_ctx = 64;
  s.type = dtype::q4_k;
  s.seed = 6;
  s.path = dir + "/q4_k.gguf";
  auto w = synth_write(s);
  REQUIRE_MESSAGE(w.ok(), (w.ok() ? "" : w.err().to_string()));
  auto L = test::model_load(s.path), L2 = test::model_load(s.path);
  engine::run_options o;
  o.threads = 2;
  auto r1 = engine::runner::create(L->m, o), r2 = engine::runner::create(L->m, o);
  REQUIRE(r1.ok());
  REQUIRE(r2.ok());
  if (!engine::repack_enabled() || r1.value()->repacked_bytes() == 0) return;  // GB_REPACK=0, or no AVX-512
  CHECK(r1.value()->repacked_data() == r2.value()->repacked_data());
  o.repack = engine::repack_mode::off;
  auto plain = engine::runner::create(L->m, o);
  REQUIRE(plain.ok());
  CHECK(plain.value()->repacked_data() == nullptr);
  const std::vector<int32_t> ids = {1, 5, 9};
  auto want = plain.value()->forward(ids);
  REQUIRE(want.ok());
  r1.value().reset();  // the copy lives on in r2
  for (int step = 0; step < 2; ++step) {
    auto got = r2.value()->forward(step == 0 ? ids : std::vector<int32_t>{7});
    auto ref = step == 0 ? std::move(want) : plain.value()->forward({7});
    REQUIRE(got.ok());
    REQUIRE(ref.ok());
    REQUIRE(got.value().size() == ref.value().size());
    CHECK(std::memcmp(got.value().data(), ref.value().data(), got.value().size() * 4) == 0);
  }
  o.repack = engine::repack_mode::all;
  auto all = engine::runner::create(L->m, o);
  o.repack = engine::repack_mode::measured;
  auto other = engine::runner::create(L2->m, o);
  REQUIRE(all.ok());
  REQUIRE(other.ok());
  CHECK(all.value()->repacked_data() == r2.value()->repacked_data());
  CHECK(other.value()->repacked_data() != r2.value()->repacked_data());
  CHECK(other.value()->repacked_data() != nullptr);
}

// The load-time repack (probes/engine/repack.h) changes no bit of the logits: every block type, a vocabulary
// that leaves the output matrix a plain tail (500 = 31 x 16 + 4 rows), the packed path (9 tokens) and the
// few-token one (continuations of 1 and 2 tokens), 1 and 2 threads, the exact and the llama.cpp numerics.
TEST_CASE("the load-time repack gives the stored layout's logits bit for bit") {
  const std::string dir = test::temp_dir("engine_repack");
  const std::vector<std::vector<int32_t>> steps = {{1, 5, 9, 33, 100, 7, 200, 300, 11}, {4}, {8, 15}};
  for (dtype t : {dtype::q8_0, dtype::q4_0, dtype::q4_1, dtype::q5_0, dtype::q5_1, dtype::q2_k, dtype::q3_k,
                  dtype::q4_k, dtype::q5_k, dtype::q6_k}) {
    const std::string type_name = dtype_name(t);
    CAPTURE(type_name);
    synth_spec s;
    s.n_layer = 1, s.n_embd = 256, s.n_head = 4, s.n_head_kv = 2, s.n_ff = 512, s.n_vocab = 500, s.n_ctx = 64;
    s.type = t;
    s.seed = 5;
    s.path = dir + "/" + type_name + ".gguf";
    auto w = synth_write(s);
    REQUIRE_MESSAGE(w.ok(), (w.ok() ? "" : w.err().to_string()));
    auto L = test::model_load(s.path);
    for (engine::numerics_mode nm : {engine::numerics_mode::exact, engine::numerics_mode::llamacpp})
      for (int threads : {1, 2}) {
        CAPTURE(threads);
        std::vector<float> logits[2];  // stored layout, repacked
        for (int on = 0; on < 2; ++on) {
          engine::run_options o;
          o.threads = threads, o.numerics = nm,
          o.repack = on ? engine::repack_mode::all : engine::repack_mode::off;
          auto r = engine::runner::create(L->m, o);
          REQUIRE(r.ok());
          if (on == 1 && nm == engine::numerics_mode::exact && engine::repack_enabled())
            CHECK((r.value()->repacked_bytes() > 0) == engine::rows_blocks_supported(t));
          for (const std::vector<int32_t>& ids : steps) {
            auto lg = r.value()->forward(ids);
            REQUIRE(lg.ok());
            logits[on].insert(logits[on].end(), lg.value().begin(), lg.value().end());
          }
        }
        REQUIRE(logits[0].size() == logits[1].size());
        CHECK(std::memcmp(logits[0].data(), logits[1].data(), logits[0].size() * 4) == 0);
      }
  }
}

// llama.cpp parity through npm node-llama-cpp (../shared/tools/llamacpp-next-probs.mjs). Runs only when
// node and the package are installed (bench/node_modules, or LLAMACPP_NODE_PATH); otherwise skips.
// The engine runs in gelu_mode::ggml_f16_table, which reproduces llama.cpp's GELU arithmetic (ggml's CPU
// GELU is the tanh form read from a table indexed by the f16-rounded input, for erf models too). With the
// default exact GELU the GELU families differ from llama.cpp by 1e-4..3e-4 (printed below for the record);
// the exact mode is checked against the independent double-precision reference further down.
// GPT-J is absent: llama.cpp has no GPT-J graph (checked against the double reference instead).
TEST_CASE(
    "each family as a synthetic f32 GGUF, run with --gelu ggml, matches llama.cpp's log-probabilities within "
    "1e-4") {
  const std::string node_path = test::llamacpp_node_path();
  const std::string tool = std::string(GB_SOURCE_DIR) + "/../shared/tools/llamacpp-next-probs.mjs";
  struct stat st {};
  if (node_path.empty() || ::stat(tool.c_str(), &st) != 0) {
    if (test::in_ci())
      FAIL(
          "CI: node / bench/node_modules/node-llama-cpp (tools/setup.sh installs it) / "
          "llamacpp-next-probs.mjs missing");
    MESSAGE("SKIP: node / node-llama-cpp / llamacpp-next-probs.mjs not available");
    return;
  }
  const std::string dir = test::temp_dir("engine_llamacpp");
  const std::vector<int32_t> ids = {1, 5, 9, 33, 100, 7};
  for (const family_kv& f : k_families) {
    const std::string arch = f.arch;
    if (arch == "gptj") continue;  // llama.cpp has no GPT-J graph
    CAPTURE(arch);
    const std::string path = synth(dir, arch, dtype::f32, f.kv);
    std::string cmd = "NODE_PATH='" + node_path + "' node '" + tool + "' '" + path + "' ";
    for (size_t i = 0; i < ids.size(); ++i) cmd += (i ? "," : "") + std::to_string(ids[i]);
    cmd += " 1 2>/dev/null";
    std::string out;
    REQUIRE(test::run_command(cmd, &out) == 0);
    nlohmann::json j = nlohmann::json::parse(out);
    auto L = test::model_load(path);
    const size_t V = static_cast<size_t>(L->m.hp.n_vocab);
    REQUIRE(j["logprobs"].size() == V);
    auto max_err = [&](const std::vector<float>& lg) { return logprob_err(lg, ids.size(), V, j); };
    engine::run_options ggml;
    ggml.gelu = engine::gelu_mode::ggml_f16_table;
    const double err_ggml = max_err(run_logits(L->m, ids, ggml)), err_exact = max_err(run_logits(L->m, ids));
    MESSAGE(arch << ": max |log p - llama.cpp| = " << err_ggml << " (--gelu ggml), " << err_exact
                 << " (exact GELU)");
    CHECK(err_ggml < 1e-4);
  }
}

// --numerics llama.cpp against llama.cpp on quantized files: activations quantized to 8 bits per block and
// integer dots, as ggml's CPU backend, bring the log-probabilities closer to llama.cpp's than the exact
// f32 matmul (which differs by the activation rounding); what remains is the order of ggml's float sums.
TEST_CASE("--numerics llama.cpp on quantized llama files matches llama.cpp's log-probabilities within 1e-5") {
  const std::string node_path = test::llamacpp_node_path();
  const std::string tool = std::string(GB_SOURCE_DIR) + "/../shared/tools/llamacpp-next-probs.mjs";
  struct stat st {};
  if (node_path.empty() || ::stat(tool.c_str(), &st) != 0) {
    if (test::in_ci()) FAIL("CI: node / node-llama-cpp / llamacpp-next-probs.mjs missing");
    MESSAGE("SKIP: node / node-llama-cpp / llamacpp-next-probs.mjs not available");
    return;
  }
  const std::string dir = test::temp_dir("engine_numerics");
  const std::vector<int32_t> ids = {1, 5, 9, 33, 100, 7};
#ifdef GB_SANITIZED  // a stratified subset: one 32-element and one k-quant decoder
  const std::vector<dtype> types = {dtype::q4_0, dtype::q6_k};
#else
  const std::vector<dtype> types = {dtype::q4_0, dtype::q8_0, dtype::q4_k, dtype::q5_k, dtype::q6_k};
#endif
  for (dtype t : types) {
    const std::string type_name = dtype_name(t);
    CAPTURE(type_name);
    const std::string path = synth(dir, "llama", t, 2, 256, 512);
    std::string cmd = "NODE_PATH='" + node_path + "' node '" + tool + "' '" + path + "' ";
    for (size_t i = 0; i < ids.size(); ++i) cmd += (i ? "," : "") + std::to_string(ids[i]);
    cmd += " 1 2>/dev/null";
    std::string out;
    REQUIRE(test::run_command(cmd, &out) == 0);
    const nlohmann::json j = nlohmann::json::parse(out);
    auto L = test::model_load(path);
    const size_t V = static_cast<size_t>(L->m.hp.n_vocab);
    REQUIRE(j["logprobs"].size() == V);
    engine::run_options q8;
    q8.numerics = engine::numerics_mode::llamacpp;
    const double err_q8 = logprob_err(run_logits(L->m, ids, q8), ids.size(), V, j);
    const double err_exact = logprob_err(run_logits(L->m, ids), ids.size(), V, j);
    MESSAGE(type_name << ": max |log p - llama.cpp| = " << err_q8 << " (--numerics llama.cpp), " << err_exact
                      << " (exact)");
    CHECK(err_q8 < err_exact);
    CHECK(err_q8 < 1e-5);  // measured 2e-7..6e-7 (exact: 1.2e-2..1.8e-2)
  }
}

// Same weights, two layouts: synth writes one spec as GGUF (llama.cpp layout) and as a HF folder (rotate-half
// q/k for llama, Conv1D [in, out] for GPT-2, per-head fused qkv for NeoX/BLOOM). The engine must give the
// same logits from both. GPT-J is covered here only (llama.cpp has no GPT-J graph). Gemma's folder stores
// RMSNorm gains w as a real checkpoint does (the engine applies 1 + w) where its GGUF stores 1 + w.
TEST_CASE("every family gives the same logits from its GGUF and its Hugging Face folder (1e-5)") {
  const std::string dir = test::temp_dir("engine_layouts");
  const std::vector<int32_t> ids = {1, 5, 9, 33, 100, 7, 200, 300, 11, 4};
  for (const family_kv& f : k_families) {
    const std::string arch = f.arch;
    CAPTURE(arch);
    synth_spec s;
    s.arch = arch;
    s.n_layer = 2, s.n_embd = 64, s.n_head = 4, s.n_head_kv = f.kv, s.n_vocab = 512, s.n_ctx = 128,
    s.seed = 5;
    s.path = dir + "/" + arch + ".gguf";
    REQUIRE(synth_write(s).ok());
    s.format = synth_format::hf;
    s.path = dir + "/" + arch + "-hf";
    auto hr = synth_write(s);
    REQUIRE_MESSAGE(hr.ok(), (hr.ok() ? "" : hr.err().to_string()));
    auto G = test::model_load(dir + "/" + arch + ".gguf");
    auto H = test::model_load(s.path);
    std::vector<float> a = run_logits(G->m, ids), b = run_logits(H->m, ids);
    REQUIRE(a.size() == b.size());
    double err = 0;
    for (size_t i = 0; i < a.size(); ++i)
      err = std::max(err, std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
    CHECK(err < 1e-5);
    // The canonical reader gives the folder its GGUF's numbers: the double reference agrees to rounding.
    const std::vector<double> ra = test::ref_forward(G->m).run(ids).logits,
                              rb = test::ref_forward(H->m).run(ids).logits;
    REQUIRE(ra.size() == rb.size());
    double err_ref = 0;
    for (size_t i = 0; i < ra.size(); ++i) err_ref = std::max(err_ref, std::fabs(ra[i] - rb[i]));
    CHECK(err_ref < 1e-9);
  }
}

TEST_CASE(
    "each family with exact GELU matches an independent double-precision reference forward within 1e-4 "
    "(GPT-J included)") {
  const std::string dir = test::temp_dir("engine_dref");
  // 100 tokens: more than one 64-row chunk of the engine's causal attention.
  std::vector<int32_t> ids;
  for (int32_t i = 0; i < 100; ++i) ids.push_back((i * 37 + 11) % 512);
  for (const family_kv& f : k_families) {
    const std::string arch = f.arch;
    CAPTURE(arch);
    auto L = test::model_load(synth(dir, arch, dtype::f32, f.kv));
    const std::vector<double> want = test::ref_forward(L->m).run(ids).logits;
    const std::vector<float> got = run_logits(L->m, ids);
    REQUIRE(got.size() == want.size());
    double err = 0, scale = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      err = std::max(err, std::fabs(static_cast<double>(got[i]) - want[i]));
      scale = std::max(scale, std::fabs(want[i]));
    }
    MESSAGE(arch << ": max |logit - double reference| = " << err << " (max |logit| " << scale << ")");
    CHECK(scale > 1e-3);  // the model computes something
    CHECK(err < 1e-4);
  }
}

TEST_CASE(
    "glassbox run/bench --gelu: ggml changes a GELU model's log-probabilities, an unknown mode is a usage "
    "error") {
  const std::string dir = test::temp_dir("engine_gelu_cli");
  const std::string path = synth(dir, "gpt2", dtype::f32, 4);
  std::string exact, ggml, out;
  REQUIRE(test::run_glassbox("run '" + path + "' --ids 1,5,9,33 --logprobs --json", &exact) == 0);
  REQUIRE(test::run_glassbox("run '" + path + "' --ids 1,5,9,33 --logprobs --json --gelu ggml", &ggml) == 0);
  nlohmann::json a = nlohmann::json::parse(exact), b = nlohmann::json::parse(ggml);
  CHECK(a.dump() != b.dump());  // the f16 table moves the numbers (by ~1e-4)
  CHECK(test::run_glassbox("run '" + path + "' --ids 1,5 --gelu fast", &out, true) == 2);
  CHECK(test::run_glassbox("bench '" + path + "' -p 4 -n 2 -r 1 --gelu fast", &out, true) == 2);
  CHECK(test::run_glassbox("bench '" + path + "' -p 4 -n 2 -r 1 --gelu ggml", &out, true) == 0);
}

namespace {

struct wants_nothing
    : engine::hook {  // present, so the pass runs stage by stage (each matmul its own region)
  bool wants(std::string_view) override { return false; }
  bool observe(std::string_view, engine::activation_view) override { return true; }
};

}  // namespace

// A pass of 1-5 tokens without a hook runs every layer in one parallel region (engine.cpp layers_team: the
// matmuls of a stage split by weight bytes, attention by kv-head group); with a hook it runs stage by stage.
// Both give the same bits, on 1, 2 and 3 threads (stage by stage on 2), for each family (those with fused qkv
// or parallel blocks take the stage-by-stage pass both times) and for block types (q4_0 repacked), in forward
// and forward_last, continuing the KV cache across calls of 1, 2, 5, 1 and 3 tokens.
TEST_CASE("the one-region few-token pass gives the stage-by-stage pass's logits bit for bit") {
  const std::string dir = test::temp_dir("engine_team");
  const std::vector<std::vector<int32_t>> steps = {{1}, {5, 9}, {33, 100, 7, 200, 300}, {11}, {4, 8, 15}};
  struct model_case {
    std::string arch;
    int64_t kv;
    dtype type;
  };
  std::vector<model_case> cases;
#ifdef GB_SANITIZED  // a stratified subset: a family of each pass, one block type
  cases = {
      {"llama", 2, dtype::f32}, {"gemma", 1, dtype::f32}, {"gpt2", 4, dtype::f32}, {"llama", 2, dtype::q4_0}};
#else
  for (const family_kv& f : k_families) cases.push_back({f.arch, f.kv, dtype::f32});
  for (dtype t : {dtype::q4_0, dtype::q8_0, dtype::q4_k, dtype::q6_k, dtype::f16})
    cases.push_back({"llama", 2, t});
#endif
  for (const model_case& c : cases) {
    const std::string arch = c.arch, type_name = dtype_name(c.type);
    CAPTURE(arch);
    CAPTURE(type_name);
    // 512 wide: the layers' matmuls are large enough for the whole team (threads_for)
    auto L = test::model_load(synth(dir, c.arch, c.type, c.kv, 512));
    std::vector<float> first;  // the logits of the first run, every step in order
    const std::pair<int, bool> runs[] = {{1, false}, {2, false}, {3, false}, {2, true}};  // threads, staged
    for (const auto& [threads, staged] : runs)
      for (bool last : {false, true}) {
        CAPTURE(threads);
        CAPTURE(staged);
        CAPTURE(last);
        engine::run_options o;
        o.threads = threads;
        auto r = engine::runner::create(L->m, o);
        REQUIRE(r.ok());
        wants_nothing h;
        std::vector<float> got;
        for (const std::vector<int32_t>& ids : steps) {
          auto lg = last ? r.value()->forward_last(ids, staged ? &h : nullptr)
                         : r.value()->forward(ids, staged ? &h : nullptr);
          REQUIRE(lg.ok());
          const size_t V = static_cast<size_t>(r.value()->vocab_size());
          got.insert(got.end(), lg.value().end() - static_cast<std::ptrdiff_t>(V), lg.value().end());
        }
        if (first.empty()) first = got;
        REQUIRE(got.size() == first.size());
        CHECK(std::memcmp(got.data(), first.data(), got.size() * 4) == 0);
      }
  }
}
