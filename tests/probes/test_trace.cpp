// probes/trace, logit_lens, npy: on stories260K the exported blk.N.resid.post tensors equal an independent
// plain-loop llama forward written here (weights read through tensor_reader), the last layer through the
// final norm and output reproduces the PyTorch reference logits, and the logit lens predicts 432.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "formats/archive.h"
#include "inspect/model.h"
#include "inspect/tensor_values.h"
#include "probes/logit_lens.h"
#include "probes/npy.h"
#include "probes/session.h"
#include "probes/trace.h"
#include "tests/support/data.h"

using namespace gb;

namespace {

// Minimal .npy reader for the reference files (f4, i4, i8; little endian, C order).
std::vector<double> npy_values(const std::string& path, std::vector<int64_t>* shape) {
  std::vector<uint8_t> b = test::read_file(path);
  REQUIRE(b.size() > 10);
  REQUIRE(std::memcmp(b.data(), "\x93NUMPY", 6) == 0);
  const size_t hl = b[6] == 1 ? (b[8] | (b[9] << 8)) : (b[8] | (b[9] << 8) | (b[10] << 16) | (static_cast<size_t>(b[11]) << 24));
  const size_t off = b[6] == 1 ? 10 : 12;
  const std::string h(reinterpret_cast<const char*>(b.data()) + off, hl);
  shape->clear();
  const size_t sp = h.find("'shape': (");
  REQUIRE(sp != std::string::npos);
  int64_t cur = -1;
  for (size_t i = sp + 10; h[i] != ')'; ++i) {
    if (h[i] >= '0' && h[i] <= '9') cur = (cur < 0 ? 0 : cur * 10) + (h[i] - '0');
    else if (cur >= 0) shape->push_back(cur), cur = -1;
  }
  if (cur >= 0) shape->push_back(cur);
  const uint8_t* d = b.data() + off + hl;
  const size_t n = (b.size() - off - hl);
  std::vector<double> v;
  if (h.find("<f4") != std::string::npos) {
    for (size_t i = 0; i + 4 <= n; i += 4) { float f; std::memcpy(&f, d + i, 4); v.push_back(static_cast<double>(f)); }
  } else if (h.find("<i8") != std::string::npos) {
    for (size_t i = 0; i + 8 <= n; i += 8) { int64_t x; std::memcpy(&x, d + i, 8); v.push_back(static_cast<double>(x)); }
  } else if (h.find("<i4") != std::string::npos) {
    for (size_t i = 0; i + 4 <= n; i += 4) { int32_t x; std::memcpy(&x, d + i, 4); v.push_back(static_cast<double>(x)); }
  } else {
    FAIL("unsupported npy dtype " << h);
  }
  return v;
}

// Weights by canonical name, dequantised, [out, in] row-major.
struct weights {
  std::vector<tensor_item> items;
  std::map<std::string, std::vector<float>> w;
  explicit weights(const model& m) : items(tensor_items(m)) {
    for (const tensor_item& it : items) {
      tensor_reader rd(it);
      std::vector<float>& v = w[it.name];
      std::vector<float> row(static_cast<size_t>(rd.cols()));
      for (int64_t r = 0; r < rd.rows(); ++r) {
        const float* x = rd.row_f32(r, row.data());
        v.insert(v.end(), x, x + rd.cols());
      }
    }
  }
  const std::vector<float>& at(const std::string& n) const {
    auto it = w.find(n);
    REQUIRE_MESSAGE(it != w.end(), n);
    return it->second;
  }
};

// y (out) = W (out, in) x (in), in double.
std::vector<double> matvec(const std::vector<float>& W, const std::vector<double>& x) {
  const size_t in = x.size(), out = W.size() / in;
  std::vector<double> y(out, 0.0);
  for (size_t o = 0; o < out; ++o)
    for (size_t i = 0; i < in; ++i) y[o] += static_cast<double>(W[o * in + i]) * x[i];
  return y;
}
std::vector<double> rms(const std::vector<double>& x, const std::vector<float>& w, double eps) {
  double ss = 0;
  for (double v : x) ss += v * v;
  const double s = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps);
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * s * static_cast<double>(w[i]);
  return y;
}

// Plain llama forward (GGUF interleaved RoPE, GQA, SwiGLU): resid.post per layer, (L)(T)(D).
std::vector<std::vector<std::vector<double>>> reference_resid_post(const model& m, const weights& W, const std::vector<int32_t>& ids) {
  const auto& hp = m.hp;
  const int64_t D = hp.n_embd, H = hp.n_head, Hk = hp.n_head_kv, E = hp.head_dim, T = static_cast<int64_t>(ids.size());
  const std::vector<float>& emb = W.at("tok_embd.weight");
  std::vector<std::vector<double>> x(static_cast<size_t>(T), std::vector<double>(static_cast<size_t>(D)));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < D; ++i) x[static_cast<size_t>(t)][static_cast<size_t>(i)] = static_cast<double>(emb[static_cast<size_t>(ids[static_cast<size_t>(t)] * D + i)]);
  auto rope = [&](std::vector<double>& v, int64_t heads, int64_t pos) {
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < E; i += 2) {
        const double th = static_cast<double>(pos) * std::pow(hp.rope_theta, -static_cast<double>(i) / static_cast<double>(E));
        double& a = v[static_cast<size_t>(h * E + i)];
        double& b = v[static_cast<size_t>(h * E + i + 1)];
        const double a0 = a, b0 = b;
        a = a0 * std::cos(th) - b0 * std::sin(th);
        b = a0 * std::sin(th) + b0 * std::cos(th);
      }
  };
  std::vector<std::vector<std::vector<double>>> out;
  const double eps = static_cast<double>(static_cast<float>(hp.norm_eps));
  for (int l = 0; l < hp.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    std::vector<std::vector<double>> q(static_cast<size_t>(T)), k(static_cast<size_t>(T)), v(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) {
      const auto xn = rms(x[static_cast<size_t>(t)], W.at(p + "attn_norm.weight"), eps);
      q[static_cast<size_t>(t)] = matvec(W.at(p + "attn.q.weight"), xn);
      k[static_cast<size_t>(t)] = matvec(W.at(p + "attn.k.weight"), xn);
      v[static_cast<size_t>(t)] = matvec(W.at(p + "attn.v.weight"), xn);
      rope(q[static_cast<size_t>(t)], H, t);
      rope(k[static_cast<size_t>(t)], Hk, t);
    }
    for (int64_t t = 0; t < T; ++t) {
      std::vector<double> att(static_cast<size_t>(H * E), 0.0);
      for (int64_t h = 0; h < H; ++h) {
        const int64_t g = h / (H / Hk);
        std::vector<double> s(static_cast<size_t>(t + 1));
        double mx = -1e300, sum = 0;
        for (int64_t j = 0; j <= t; ++j) {
          double d = 0;
          for (int64_t e = 0; e < E; ++e) d += q[static_cast<size_t>(t)][static_cast<size_t>(h * E + e)] * k[static_cast<size_t>(j)][static_cast<size_t>(g * E + e)];
          s[static_cast<size_t>(j)] = d / std::sqrt(static_cast<double>(E));
          mx = std::max(mx, s[static_cast<size_t>(j)]);
        }
        for (double& z : s) sum += (z = std::exp(z - mx));
        for (int64_t j = 0; j <= t; ++j)
          for (int64_t e = 0; e < E; ++e) att[static_cast<size_t>(h * E + e)] += s[static_cast<size_t>(j)] / sum * v[static_cast<size_t>(j)][static_cast<size_t>(g * E + e)];
      }
      const auto o = matvec(W.at(p + "attn.o.weight"), att);
      for (int64_t i = 0; i < D; ++i) x[static_cast<size_t>(t)][static_cast<size_t>(i)] += o[static_cast<size_t>(i)];
    }
    for (int64_t t = 0; t < T; ++t) {
      const auto xn = rms(x[static_cast<size_t>(t)], W.at(p + "ffn_norm.weight"), eps);
      auto g = matvec(W.at(p + "mlp.gate.weight"), xn);
      const auto u = matvec(W.at(p + "mlp.up.weight"), xn);
      for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
      const auto d = matvec(W.at(p + "mlp.down.weight"), g);
      for (int64_t i = 0; i < D; ++i) x[static_cast<size_t>(t)][static_cast<size_t>(i)] += d[static_cast<size_t>(i)];
    }
    out.push_back(x);
  }
  return out;
}

}  // namespace

TEST_CASE("trace on stories260K: exported resid.post equal an independent forward; lens predicts 432") {
  GB_DATA(path, "models/stories260K/stories260K.gguf");
  GB_DATA(ids_path, "models/stories260K/reference/prompt_ids.npy");
  GB_DATA(logits_path, "models/stories260K/reference/prompt_logits.npy");
  auto s = probes::session_open(path);
  REQUIRE(s);
  probes::session& S = s.value();
  REQUIRE(S.run);
  REQUIRE(S.tok);
  const model& m = *S.m;
  std::vector<int32_t> ids = S.tok->encode("Once upon a time", true);
  std::vector<int64_t> ishape, lshape;
  const std::vector<double> ref_ids = npy_values(ids_path, &ishape), ref_logits = npy_values(logits_path, &lshape);
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
  weights W(m);
  const auto ref = reference_resid_post(m, W, ids);
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
      for (int64_t i = 0; i < D; ++i) worst = std::max(worst, std::fabs(static_cast<double>(data[t * D + i]) - ref[static_cast<size_t>(l)][static_cast<size_t>(t)][static_cast<size_t>(i)]));
    // The .npy copy holds the same bytes after its header.
    const std::vector<uint8_t> npy = test::read_file(dir + "/npy/" + name + ".npy");
    const std::string hdr = probes::npy_header({T, D});
    REQUIRE(npy.size() == hdr.size() + static_cast<size_t>(T * D) * 4);
    CHECK(std::memcmp(npy.data(), hdr.data(), hdr.size()) == 0);
    CHECK(std::memcmp(npy.data() + hdr.size(), data.data(), data.size() * 4) == 0);
  }
  MESSAGE("max |exported resid.post - reference| = " << worst);
  CHECK(worst < 1e-4);

  // Last layer resid.post through the final norm + output reproduces the PyTorch reference logits.
  const auto& last = ref.back();
  double worst_logit = 0;
  for (int64_t t = 0; t < T; ++t) {
    const auto xn = rms(last[static_cast<size_t>(t)], W.at("output_norm.weight"), static_cast<double>(static_cast<float>(m.hp.norm_eps)));
    const auto lg = matvec(W.w.count("output.weight") ? W.at("output.weight") : W.at("tok_embd.weight"), xn);
    REQUIRE(static_cast<int64_t>(lg.size()) == V);
    for (int64_t v = 0; v < V; ++v) worst_logit = std::max(worst_logit, std::fabs(lg[static_cast<size_t>(v)] - ref_logits[static_cast<size_t>(t * V + v)]));
  }
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
    if (ref_logits[static_cast<size_t>((T - 1) * V + v)] > ref_logits[static_cast<size_t>((T - 1) * V + arg)]) arg = v;
  CHECK(arg == 432);

  // Per-layer and per-head statistics are present and consistent with their definitions.
  REQUIRE(tr.layers.size() == static_cast<size_t>(m.hp.n_layer));
  for (const auto& l : tr.layers) {
    REQUIRE(l.resid_post.size() == static_cast<size_t>(T));
    double n = 0;
    for (int64_t i = 0; i < D; ++i) n += ref[static_cast<size_t>(l.layer)][static_cast<size_t>(T - 1)][static_cast<size_t>(i)] * ref[static_cast<size_t>(l.layer)][static_cast<size_t>(T - 1)][static_cast<size_t>(i)];
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

TEST_CASE("activation_writer: io and repeated-name errors; npy header layout") {
  auto bad = probes::activation_writer::open("/proc/glassbox-no-such-dir/acts.safetensors");
  REQUIRE(!bad);
  CHECK(bad.err().code == errc::io);
  const std::string dir = test::temp_dir("trace_writer_errors");
  auto w = probes::activation_writer::open(dir + "/a.safetensors");
  REQUIRE(w);
  const float v[2] = {1.0f, 2.0f};
  w.value()->put("x", v, {2});
  try {
    w.value()->put("x", v, {2});
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
  // .npy: magic, version 1.0, header padded so the data starts at a multiple of 64, 1-D shape "(3,)".
  const std::string h = probes::npy_header({3});
  CHECK(h.size() % 64 == 0);
  CHECK(h.compare(0, 6, "\x93NUMPY") == 0);
  CHECK(h.find("'shape': (3,)") != std::string::npos);
  CHECK(h.back() == '\n');
}
