// probes/trace, logit_lens, npy: on stories260K the exported blk.N.resid.post tensors equal the independent
// double-precision forward of tests/support/ref_forward.h (weights read through tensor_reader), whose
// logits reproduce the PyTorch reference logits, and the logit lens predicts 432.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "formats/archive.h"
#include "inspect/model.h"
#include "inspect/tensor_values.h"
#include "probes/engine/activation_view.h"
#include "probes/logit_lens.h"
#include "probes/npy.h"
#include "probes/session.h"
#include "probes/trace.h"
#include "tests/support/data.h"
#include "tests/support/ref_forward.h"
#include "tests/support/session_fixture.h"

using namespace gb;

TEST_CASE("trace on stories260K: exported resid.post equal an independent forward; lens predicts 432") {
  GB_DATA(path, "models/stories260K/stories260K.gguf");
  GB_DATA(ids_path, "models/stories260K/reference/prompt_ids.npy");
  GB_DATA(logits_path, "models/stories260K/reference/prompt_logits.npy");
  probes::session S = test::session_runnable(path);
  const model& m = *S.m;
  std::vector<int32_t> ids = S.tok->encode("Once upon a time", true);
  const test::npy_array ids_npy = test::npy_read(ids_path), logits_npy = test::npy_read(logits_path);
  const std::vector<double>& ref_ids = ids_npy.v;
  const std::vector<double>& ref_logits = logits_npy.v;
  const std::vector<int64_t>& lshape = logits_npy.shape;
  REQUIRE(ids.size() == ref_ids.size());
  for (size_t i = 0; i < ids.size(); ++i) CHECK(ids[i] == static_cast<int32_t>(ref_ids[i]));
  REQUIRE(lshape.size() == 2);
  const int64_t T = static_cast<int64_t>(ids.size()), D = m.hp.n_embd, V = lshape[1];

  auto sel = probes::hook_select(m, {"blk.*.resid.post"});
  REQUIRE(sel);
  CHECK(sel.value().size() == static_cast<size_t>(m.hp.n_layer));
  const std::string dir = test::temp_dir("trace_export");
  const std::string st_path = dir + "/acts.safetensors";
  auto w = probes::activation_writer::open(st_path);
  REQUIRE(w);
  auto wn = probes::activation_writer::open(dir + "/npy");
  REQUIRE(wn);
  probes::trace_options o;
  o.export_hooks = sel.value();
  auto lens = probes::logit_lens::create(m);
  REQUIRE(lens);
  auto r = probes::trace_run(*S.run, ids, o, &lens.value(), w.value().get(), nullptr);
  REQUIRE(r);
  REQUIRE(w.value()->finish());
  auto r2 = probes::trace_run(*S.run, ids, o, nullptr, wn.value().get(), nullptr);
  REQUIRE(r2);
  REQUIRE(wn.value()->finish());

  // The exported file, read back by the project's safetensors reader (not by the writer).
  auto ar = archive_open(st_path);
  REQUIRE(ar);
  const test::ref_result R = test::ref_forward(m).run(ids);
  const auto& ref = R.resid_post;  // (L)(T)(D)
  double worst = 0;
  for (int l = 0; l < m.hp.n_layer; ++l) {
    const std::string name = "blk." + std::to_string(l) + ".resid.post";
    const tensor_view* tv = ar.value().tensor(name);
    REQUIRE_MESSAGE(tv != nullptr, name);
    REQUIRE(tv->shape == std::vector<int64_t>{T, D});
    REQUIRE(tv->type == dtype::f32);
    REQUIRE(tv->data != nullptr);
    REQUIRE(tv->nbytes == static_cast<uint64_t>(T * D) * 4);
    std::vector<float> data(static_cast<size_t>(T * D));
    std::memcpy(data.data(), tv->data, data.size() * 4);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t i = 0; i < D; ++i)
        worst = std::max(
            worst, std::fabs(static_cast<double>(data[t * D + i]) -
                             ref[static_cast<size_t>(l)][static_cast<size_t>(t)][static_cast<size_t>(i)]));
    // The .npy copy holds the same bytes after its header.
    const std::vector<uint8_t> npy = test::read_file(dir + "/npy/" + name + ".npy");
    REQUIRE(npy.size() > 10);
    const size_t hdr = 10 + (static_cast<size_t>(npy[8]) | static_cast<size_t>(npy[9]) << 8);  // v1.0 length
    CHECK(hdr % 64 == 0);
    REQUIRE(npy.size() == hdr + static_cast<size_t>(T * D) * 4);
    const std::string dict(npy.begin() + 10, npy.begin() + static_cast<long>(hdr));
    CHECK(dict.find("'shape': (" + std::to_string(T) + ", " + std::to_string(D) + ")") != std::string::npos);
    CHECK(std::memcmp(npy.data() + hdr, data.data(), data.size() * 4) == 0);
  }
  MESSAGE("max |exported resid.post - reference| = " << worst);
  CHECK(worst < 1e-4);

  // Last layer resid.post through the final norm + output reproduces the PyTorch reference logits.
  REQUIRE(static_cast<int64_t>(R.logits.size()) == T * V);
  REQUIRE(ref_logits.size() == R.logits.size());
  double worst_logit = 0;
  for (size_t i = 0; i < R.logits.size(); ++i)
    worst_logit = std::max(worst_logit, std::fabs(R.logits[i] - ref_logits[i]));
  MESSAGE("max |reference forward logits - PyTorch logits| = " << worst_logit);
  CHECK(worst_logit < 1e-4);

  // Logit lens: top token at the last position of the last layer is the model's prediction (432).
  const probes::trace_result& tr = r.value();
  CHECK(tr.prediction == 432);
  const probes::lens_row* top = nullptr;
  for (const auto& e : tr.lens)
    if (e.layer == m.hp.n_layer - 1 && e.position == T - 1) top = &e;
  REQUIRE(top != nullptr);
  REQUIRE(!top->top.empty());
  CHECK(top->top[0].first == 432);
  CHECK(top->final_rank == 0);
  int64_t arg = 0;
  for (int64_t v = 1; v < V; ++v)
    if (ref_logits[static_cast<size_t>((T - 1) * V + v)] > ref_logits[static_cast<size_t>((T - 1) * V + arg)])
      arg = v;
  CHECK(arg == 432);

  // Per-layer and per-head statistics are present and consistent with their definitions.
  REQUIRE(tr.layers.size() == static_cast<size_t>(m.hp.n_layer));
  for (const auto& l : tr.layers) {
    REQUIRE(l.resid_post.size() == static_cast<size_t>(T));
    double n = 0;
    for (int64_t i = 0; i < D; ++i)
      n += ref[static_cast<size_t>(l.layer)][static_cast<size_t>(T - 1)][static_cast<size_t>(i)] *
           ref[static_cast<size_t>(l.layer)][static_cast<size_t>(T - 1)][static_cast<size_t>(i)];
    CHECK(std::fabs(l.resid_post.back() - std::sqrt(n)) < 1e-3);
    for (double sp : l.mlp_sparsity) CHECK((sp >= 0 && sp <= 1));
  }
  REQUIRE(tr.heads.size() == static_cast<size_t>(m.hp.n_layer * m.hp.n_head));
  for (const auto& h : tr.heads) {
    REQUIRE(h.pattern.size() == static_cast<size_t>(T * T));
    CHECK(h.pattern[0] == doctest::Approx(1.0));  // the first query sees only itself
    CHECK(h.entropy >= 0);
    CHECK(h.entropy <= std::log(static_cast<double>(T)) + 1e-9);
  }
}

TEST_CASE("hook_select: globs, and a pattern that matches nothing lists the available names") {
  GB_DATA(path, "models/stories260K/stories260K.gguf");
  auto s = probes::session_open(path);
  REQUIRE(s);
  const model& m = *s.value().m;
  auto ok = probes::hook_select(m, {"blk.0.attn.probs", "logits", "blk.?.mlp.out"});
  REQUIRE(ok);
  CHECK(ok.value().size() == 2 + static_cast<size_t>(m.hp.n_layer));
  auto bad = probes::hook_select(m, {"blk.*.resid.poster"});
  REQUIRE(!bad);
  CHECK(bad.err().code == errc::not_found);
  CHECK(bad.err().message.find("blk.N.resid.post") != std::string::npos);
  CHECK(bad.err().message.find("final.norm") != std::string::npos);
  CHECK(probes::glob_match("blk.*.resid.post", "blk.12.resid.post"));
  CHECK(!probes::glob_match("blk.*.resid.post", "blk.12.resid.pre"));
  CHECK(probes::glob_match("*", "embed"));
}

TEST_CASE("aggregates over many prompts keep a fixed size and count every token") {
  GB_DATA(path, "models/stories260K/stories260K.gguf");
  auto s = probes::session_open(path);
  REQUIRE(s);
  probes::session& S = s.value();
  REQUIRE(S.run);
  probes::trace_aggregate agg(*S.m, 1e-2);
  probes::trace_options o;
  o.keep_patterns_max_t = 0;
  const size_t neurons = agg.neuron.size();
  int64_t tokens = 0;
  const char* prompts[] = {"Once upon a time", "The cat sat", "Lily went to the park with her mom", "Tom"};
  for (int rep = 0; rep < 5; ++rep)
    for (const char* p : prompts) {
      auto ids = S.tok->encode(p, true);
      tokens += static_cast<int64_t>(ids.size());
      REQUIRE(probes::trace_run(*S.run, ids, o, nullptr, nullptr, &agg));
    }
  CHECK(agg.prompts == 20);
  CHECK(agg.tokens == tokens);
  CHECK(agg.neuron.size() == neurons);
  CHECK(agg.neuron[0].n == tokens);
  for (const auto& h : agg.head_sink) CHECK(h.n == 20);
}

TEST_CASE("activation_writer: io and repeated-name errors") {
  auto bad = probes::activation_writer::open("/proc/glassbox-no-such-dir/acts.safetensors");
  REQUIRE(!bad);
  CHECK(bad.err().code == errc::io);
  const std::string dir = test::temp_dir("trace_writer_errors");
  auto w = probes::activation_writer::open(dir + "/a.safetensors");
  REQUIRE(w);
  const float v[2] = {1.0f, 2.0f};
  const std::vector<int64_t> shape{2};
  w.value()->put("x", {v, shape});
  try {
    w.value()->put("x", {v, shape});
    FAIL("a repeated name must throw");
  } catch (const failure& f) {
    CHECK(f.err().code == errc::bad_value);
  }
  auto done = w.value()->finish();
  REQUIRE(done);
  const std::vector<uint8_t> b = test::read_file(dir + "/a.safetensors");
  CHECK(b.size() == done.value());
  uint64_t hl = 0;
  for (int i = 0; i < 8; ++i) hl |= static_cast<uint64_t>(b[static_cast<size_t>(i)]) << (8 * i);
  CHECK((8 + hl) % 8 == 0);
  CHECK(b.size() == 8 + hl + sizeof v);
  CHECK(std::memcmp(b.data() + 8 + hl, v, sizeof v) == 0);
  auto again = w.value()->finish();
  REQUIRE(!again);
  CHECK(again.err().code == errc::bad_value);
}

namespace {

// Copies resid.post, mlp.pre and attn.probs of every layer (what trace's statistics read).
struct grab : engine::hook {
  std::map<std::string, std::pair<std::vector<float>, std::vector<int64_t>>> t;
  bool wants(std::string_view n) override {
    return n.ends_with("resid.post") || n.ends_with("mlp.pre") || n.ends_with("attn.probs");
  }
  bool observe(std::string_view n, engine::activation_view a) override {
    t[std::string(n)] = {std::vector<float>(a.data, a.data + a.size()), {a.shape.begin(), a.shape.end()}};
    return true;
  }
};

}  // namespace

TEST_CASE("trace statistics (xtensor views) equal plain loops over the same tensors, bit for bit") {
  GB_DATA(path, "models/stories260K/stories260K.gguf");
  probes::session S = test::session_runnable(path);
  const std::vector<int32_t> ids =
      S.tok->encode("Once upon a time there was a big dog who liked to run", true);
  probes::trace_options o;
  o.sparsity_eps = 0.05;  // a threshold some values of mlp.pre fall under
  o.outlier_sigma = 2.5;  // and one some coordinates pass
  probes::trace_aggregate agg(*S.m, o.sparsity_eps);
  auto r = probes::trace_run(*S.run, ids, o, nullptr, nullptr, &agg);
  REQUIRE(r);
  auto lens = probes::logit_lens::create(*S.m);
  REQUIRE(lens);
  std::vector<float> norm_w(size_t(S.m->hp.n_embd));  // (D) the output norm's weight
  REQUIRE(S.m->hp.norm == norm_kind::rms);
  for (const tensor_item& it : tensor_items(*S.m))
    if (it.role == role_kind::output_norm) {
      tensor_reader rd(it);
      const float* w = rd.row_f32(0, norm_w.data());
      std::copy(w, w + S.m->hp.n_embd, norm_w.begin());
    }
  grab g;
  S.run->reset();
  REQUIRE(S.run->forward_last(ids, &g));
  S.run->reset();
  const int64_t T = static_cast<int64_t>(ids.size());
  int64_t outliers = 0, sparse = 0;
  for (int l = 0; l < S.m->hp.n_layer; ++l) {
    const probes::layer_trace& L = r.value().layers[static_cast<size_t>(l)];
    const std::string b = "blk." + std::to_string(l) + ".";
    const auto& [x, xs] = g.t.at(b + "resid.post");  // (T, D)
    const auto& [h, hs] = g.t.at(b + "mlp.pre");     // (T, F)
    REQUIRE(L.resid_post.size() == static_cast<size_t>(T));
    REQUIRE(L.mlp_sparsity.size() == static_cast<size_t>(T));
    int64_t total = 0;
    for (int64_t t = 0; t < T; ++t) {
      const int64_t D = xs[1], F = hs[1];
      double ss = 0, mean = 0, var = 0;
      for (int64_t i = 0; i < D; ++i) ss += double(x[size_t(t * D + i)]) * double(x[size_t(t * D + i)]);
      CHECK(L.resid_post[size_t(t)] == std::sqrt(ss));
      for (int64_t i = 0; i < D; ++i) mean += double(x[size_t(t * D + i)]);
      mean /= double(D);
      for (int64_t i = 0; i < D; ++i)
        var += (double(x[size_t(t * D + i)]) - mean) * (double(x[size_t(t * D + i)]) - mean);
      const double sd = std::sqrt(var / double(D));
      for (int64_t i = 0; i < D; ++i)
        total += std::fabs((double(x[size_t(t * D + i)]) - mean) / sd) > o.outlier_sigma;
      int64_t small = 0;
      for (int64_t i = 0; i < F; ++i) small += double(std::fabs(h[size_t(t * F + i)])) < o.sparsity_eps;
      CHECK(L.mlp_sparsity[size_t(t)] == double(small) / double(F));
      sparse += small;
    }
    CHECK(L.outliers_total == total);
    outliers += total;
    const int64_t F = hs[1];  // aggregate over mlp.pre (T, F): max |x| and tokens with |x| >= eps per neuron
    for (int64_t i = 0; i < F; ++i) {
      double amax = 0;
      int64_t active = 0;
      for (int64_t t = 0; t < T; ++t) {
        const double v = std::fabs(double(h[size_t(t * F + i)]));
        amax = std::max(amax, v), active += v >= o.sparsity_eps;
      }
      CHECK(agg.neuron_absmax[size_t(l * F + i)] == amax);
      CHECK(agg.neuron_active[size_t(l * F + i)] == active);
    }
    const int64_t D = xs[1];  // logit lens: the final norm (RMS) of each resid.post row, then the top 5
    std::vector<float> y(static_cast<size_t>(D)), logits(static_cast<size_t>(lens.value().vocab()));
    for (int64_t t = 0; t < T; ++t) {
      const float* row = x.data() + t * D;
      lens.value().normalize(row, y.data());
      double ss = 0;
      for (int64_t i = 0; i < D; ++i) ss += double(row[i]) * double(row[i]);
      const float sc = float(1.0 / std::sqrt(ss / double(D) + double(float(S.m->hp.norm_eps))));
      for (int64_t i = 0; i < D; ++i) CHECK(y[size_t(i)] == row[i] * sc * norm_w[size_t(i)]);
      lens.value().unembed(y.data(), 1, logits.data());
      const int64_t V = lens.value().vocab();
      double mx = -INFINITY, sum = 0;
      for (int64_t i = 0; i < V; ++i) mx = std::max(mx, double(logits[size_t(i)]));
      for (int64_t i = 0; i < V; ++i) sum += std::exp(double(logits[size_t(i)]) - mx);
      const auto top = probes::top_k_probs(logits.data(), V, 5);
      REQUIRE(top.size() == 5);
      for (const auto& [id, pr] : top) CHECK(pr == std::exp(double(logits[size_t(id)]) - mx) / sum);
    }
    const auto& [p, ps] = g.t.at(b + "attn.probs");  // (H, T, P), P == T from position 0
    for (const probes::head_trace& ht : r.value().heads) {
      if (ht.layer != l) continue;
      double sink = 0, diag = 0, prev = 0;
      for (int64_t q = 0; q < T; ++q) {
        const float* row = p.data() + (ht.head * T + q) * ps[2];
        sink += double(row[0]), diag += double(row[q]);
        if (q >= 1) prev += double(row[q - 1]);
      }
      // -sum p log p over the causal keys with p > 0, mean over queries; trace.cpp's loop is the same but
      // GCC may fuse its multiply-subtract (-ffp-contract=fast), so equal to a few ulps, not bit for bit
      double ent = 0;
      for (int64_t q = 0; q < T; ++q) {
        const float* row = p.data() + (ht.head * T + q) * ps[2];
        double e = 0;
        for (int64_t j = 0; j <= q; ++j)
          if (row[j] > 0) e -= double(row[j]) * std::log(double(row[j]));
        ent += e;
      }
      CHECK(std::fabs(ht.entropy - ent / double(T)) <= 1e-14 * std::max(1.0, ent / double(T)));
      CHECK(ht.sink == sink / double(T));
      CHECK(ht.diagonal == diag / double(T));
      CHECK(ht.prev_token == prev / double(T - 1));
    }
  }
  CHECK(outliers > 0);  // the thresholds above exercise both counts
  CHECK(sparse > 0);
}
