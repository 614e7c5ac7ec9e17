// glassbox synth: every family round-trips (write -> open -> model_build gives back the spec), output is
// deterministic, layouts of the HF folder match the GGUF values, plants and perturbations land where asked.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <memory>

#include "formats/quant.h"
#include "inspect/model.h"
#include "inspect/summary.h"
#include "inspect/synth.h"
#include "tests/support/data.h"
#include "tests/support/fixtures.h"

namespace {

gb::synth_spec spec_for(const std::string& arch, const std::string& path) {
  gb::synth_spec s;
  s.arch = arch;
  s.n_layer = 3;
  s.n_embd = 64;
  s.n_head = 4;
  const bool any_kv =
      arch == "llama" || arch == "mistral" || arch == "qwen2" || arch == "gemma" || arch == "falcon";
  s.n_head_kv = any_kv ? (arch == "falcon" ? 1 : 2) : 4;
  s.n_ff = 96;
  s.n_vocab = 400;
  s.n_ctx = 128;
  s.seed = 11;
  s.path = path;
  return s;
}

std::vector<float> values(const gb::tensor_view& t) {
  std::vector<float> v(t.element_count());
  gb::dequantize_row(t.type, t.data, v.data(), static_cast<int64_t>(v.size()));
  return v;
}

gb::arch_family family_of(const std::string& arch) {
  if (arch == "mistral") return gb::arch_family::llama;
  if (arch == "phi2") return gb::arch_family::phi;
  for (int f = 0; f <= static_cast<int>(gb::arch_family::unknown); ++f)
    if (arch == gb::arch_family_name(static_cast<gb::arch_family>(f))) return static_cast<gb::arch_family>(f);
  return gb::arch_family::unknown;
}

}  // namespace

TEST_CASE("synth: every architecture round-trips through GGUF and the HF folder") {
  const std::string dir = gb::test::temp_dir("synth_roundtrip");
  REQUIRE(gb::synth_architectures().size() >= 11);
  for (const std::string& arch : gb::synth_architectures()) {
    for (gb::synth_format fmt : {gb::synth_format::gguf, gb::synth_format::hf}) {
      const bool hf = fmt == gb::synth_format::hf;
      CAPTURE(arch);
      CAPTURE(hf);
      gb::synth_spec s = spec_for(arch, dir + "/" + arch + (hf ? "_hf" : ".gguf"));
      s.format = fmt;
      auto rep = gb::synth_write(s);
      if (!rep) FAIL(rep.err().to_string());
      gb::model m = gb::test::model_open(s.path);
      CHECK(m.family == family_of(arch));
      CHECK(m.hp.n_layer == s.n_layer);
      CHECK(m.hp.n_embd == s.n_embd);
      CHECK(m.hp.n_head == s.n_head);
      CHECK(m.hp.n_head_kv == s.n_head_kv);
      CHECK(m.hp.n_ff == s.n_ff);
      CHECK(m.hp.n_vocab == s.n_vocab);
      CHECK(m.unmapped.empty());
      CHECK(m.source->tokenizer);
      if (m.source->tokenizer) CHECK(m.source->tokenizer->size() == static_cast<size_t>(s.n_vocab));
      // every block has attention in, attention out, MLP up and down
      for (int l = 0; l < s.n_layer; ++l) {
        CHECK((m.entry(gb::role_kind::attn_q, l) || m.entry(gb::role_kind::attn_qkv, l)));
        CHECK(m.entry(gb::role_kind::attn_o, l));
        CHECK(m.entry(gb::role_kind::mlp_up, l));
        CHECK(m.entry(gb::role_kind::mlp_down, l));
        CHECK(m.entry(gb::role_kind::attn_norm, l));
      }
      CHECK(m.entry(gb::role_kind::tok_embd));
      CHECK(m.entry(gb::role_kind::output_norm));
      for (const auto& f : m.findings)
        CHECK_MESSAGE(f.level < gb::severity::medium, f.code << ": " << f.message);
      gb::model_summary sum = gb::summary_build(m);
      CHECK(sum.parameter_count == rep.value().parameter_count);
    }
  }
}

TEST_CASE("synth: same spec gives the same bytes; another seed does not") {
  const std::string dir = gb::test::temp_dir("synth_determinism");
  gb::synth_spec s = spec_for("llama", dir + "/a.gguf");
  s.type = gb::dtype::q8_0;
  REQUIRE(gb::synth_write(s).ok());
  s.path = dir + "/b.gguf";
  REQUIRE(gb::synth_write(s).ok());
  s.path = dir + "/c.gguf";
  s.seed = 12;
  REQUIRE(gb::synth_write(s).ok());
  auto a = gb::test::read_file(dir + "/a.gguf"), b = gb::test::read_file(dir + "/b.gguf"),
       c = gb::test::read_file(dir + "/c.gguf");
  CHECK(a == b);
  CHECK(a.size() == c.size());
  CHECK(a != c);
}

TEST_CASE("synth: dtypes: matrices quantised, 1-D tensors f32, odd rows fall back to f16") {
  const std::string dir = gb::test::temp_dir("synth_dtypes");
  gb::synth_spec s = spec_for("llama", dir + "/q.gguf");
  s.n_ff = 172;  // ffn_down rows of 172: not a multiple of 32
  s.type = gb::dtype::q4_0;
  REQUIRE(gb::synth_write(s).ok());
  gb::model m = gb::test::model_open(s.path);
  CHECK(m.tensor(gb::role_kind::attn_q, 0)->type == gb::dtype::q4_0);
  CHECK(m.tensor(gb::role_kind::mlp_up, 1)->type == gb::dtype::q4_0);
  CHECK(m.tensor(gb::role_kind::mlp_down, 1)->type == gb::dtype::f16);
  CHECK(m.tensor(gb::role_kind::attn_norm, 0)->type == gb::dtype::f32);
  // values ~ N(0, 0.02) for matrices, ~1 for norms
  auto q = values(*m.tensor(gb::role_kind::attn_q, 0));
  double ss = 0;
  for (float x : q) ss += double(x) * double(x);
  CHECK(std::sqrt(ss / double(q.size())) == doctest::Approx(0.02).epsilon(0.1));
  auto n = values(*m.tensor(gb::role_kind::attn_norm, 0));
  for (float x : n) CHECK(std::fabs(x - 1.0f) < 0.15f);

  s.format = gb::synth_format::hf;
  s.path = dir + "/hf_q4";
  auto r = gb::synth_write(s);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == gb::errc::bad_value);
}

TEST_CASE(
    "synth: HF layouts hold the GGUF weights (llama q/k rotate-half, GPT-2 Conv1D, NeoX qkv per head, Gemma "
    "w)") {
  const std::string dir = gb::test::temp_dir("synth_layouts");
  for (const char* arch : {"llama", "gpt2", "gptneox", "gemma"}) {
    CAPTURE(arch);
    gb::synth_spec s = spec_for(arch, dir + "/" + arch + ".gguf");
    REQUIRE(gb::synth_write(s).ok());
    s.format = gb::synth_format::hf;
    s.path = dir + "/" + arch + "_hf";
    REQUIRE(gb::synth_write(s).ok());
    gb::model g = gb::test::model_open(dir + "/" + arch + ".gguf");
    gb::model h = gb::test::model_open(s.path);
    const int64_t D = s.n_embd, hd = s.n_embd / s.n_head;
    if (std::string(arch) == "llama") {
      const gb::role_entry* e = h.entry(gb::role_kind::attn_k, 1);
      REQUIRE(e);
      CHECK(e->hf_permuted);
      auto gv = values(*g.tensor(gb::role_kind::attn_k, 1)), hv = values(*h.tensor(gb::role_kind::attn_k, 1));
      for (int64_t head = 0; head < s.n_head_kv; ++head)
        for (int64_t i = 0; i < hd / 2; ++i)
          for (int64_t j = 0; j < 2; ++j)
            for (int64_t c = 0; c < D; ++c)
              CHECK(hv[size_t((head * hd + j * hd / 2 + i) * D + c)] ==
                    gv[size_t((head * hd + 2 * i + j) * D + c)]);
      CHECK(values(*g.tensor(gb::role_kind::attn_v, 2)) == values(*h.tensor(gb::role_kind::attn_v, 2)));
    } else if (std::string(arch) == "gpt2") {
      const gb::role_entry* e = h.entry(gb::role_kind::mlp_up, 0);
      REQUIRE(e);
      CHECK(e->transposed);
      auto gv = values(*g.tensor(gb::role_kind::mlp_up, 0)), hv = values(*h.tensor(gb::role_kind::mlp_up, 0));
      const int64_t F = s.n_ff;
      for (int64_t r = 0; r < F; ++r)
        for (int64_t c = 0; c < D; ++c) CHECK(hv[size_t(c * F + r)] == gv[size_t(r * D + c)]);
    } else if (std::string(arch) == "gemma") {
      // A Gemma checkpoint stores RMSNorm gains w (applied as 1 + w); the GGUF stores 1 + w.
      for (auto [role, layer] :
           {std::pair{gb::role_kind::attn_norm, 0}, std::pair{gb::role_kind::ffn_norm, 2},
            std::pair{gb::role_kind::output_norm, -1}}) {
        auto gv = values(*g.tensor(role, layer)), hv = values(*h.tensor(role, layer));
        REQUIRE(gv.size() == static_cast<size_t>(D));
        REQUIRE(hv.size() == gv.size());
        double mean_w = 0;
        for (size_t i = 0; i < gv.size(); ++i) {
          CHECK(1.0f + hv[i] == gv[i]);
          mean_w += static_cast<double>(hv[i]) / static_cast<double>(D);
        }
        CHECK(std::fabs(mean_w) < 0.05);
      }
      CHECK(values(*g.tensor(gb::role_kind::attn_q, 1)) == values(*h.tensor(gb::role_kind::attn_q, 1)));
    } else {
      const gb::role_entry* e = h.entry(gb::role_kind::attn_qkv, 0);
      REQUIRE(e);
      CHECK(e->qkv_per_head);
      auto gv = values(*g.tensor(gb::role_kind::attn_qkv, 0)),
           hv = values(*h.tensor(gb::role_kind::attn_qkv, 0));
      for (int64_t t = 0; t < 3; ++t)
        for (int64_t head = 0; head < s.n_head; ++head)
          for (int64_t i = 0; i < hd; ++i)
            CHECK(hv[size_t(((head * 3 + t) * hd + i) * D)] == gv[size_t((t * D + head * hd + i) * D)]);
    }
  }
}

TEST_CASE("synth: plants, perturbed layers and a biased token") {
  const std::string dir = gb::test::temp_dir("synth_plants");
  gb::synth_spec base = spec_for("llama", dir + "/base.gguf");
  REQUIRE(gb::synth_write(base).ok());
  gb::synth_spec s = base;
  s.path = dir + "/planted.gguf";
  s.plants = {{"nan", "blk.0.attn.q.weight", ""},
              {"zero", "blk.1.ffn_up.weight", ""},
              {"dup", "blk.0.mlp.down.weight", "blk.2.mlp.down.weight"}};
  s.perturb_layers = {2};
  s.perturb_scale = 0.5;
  s.bias_token = "doctor";
  s.bias_scale = 5.0;
  auto rep = gb::synth_write(s);
  REQUIRE(rep.ok());
  gb::model b = gb::test::model_open(base.path), p = gb::test::model_open(s.path);
  auto q = values(*p.tensor(gb::role_kind::attn_q, 0));
  size_t nans = 0;
  for (float x : q) nans += std::isnan(x) ? 1 : 0;
  CHECK(nans == 1);
  for (float x : values(*p.tensor(gb::role_kind::mlp_up, 1))) CHECK(x == 0.0f);
  CHECK(values(*p.tensor(gb::role_kind::mlp_down, 2)) == values(*p.tensor(gb::role_kind::mlp_down, 0)));
  // layer 1 attention untouched, layer 2 attention perturbed
  CHECK(values(*p.tensor(gb::role_kind::attn_k, 1)) == values(*b.tensor(gb::role_kind::attn_k, 1)));
  CHECK(values(*p.tensor(gb::role_kind::attn_k, 2)) != values(*b.tensor(gb::role_kind::attn_k, 2)));
  // the bias token is "▁doctor" in the vocabulary
  const int32_t id = rep.value().bias_token_id;
  REQUIRE(id >= 0);
  REQUIRE(p.source->tokenizer);
  CHECK(p.source->tokenizer->tokens[size_t(id)] ==
        "\xe2\x96\x81"
        "doctor");
  // its output row leans along the shared direction more than any other row: largest |row|
  auto out = values(*p.tensor(gb::role_kind::output));
  const int64_t D = s.n_embd;
  double best = 0;
  int64_t best_row = -1;
  for (int64_t r = 0; r < s.n_vocab; ++r) {
    double n2 = 0;
    for (int64_t c = 0; c < D; ++c) n2 += double(out[size_t(r * D + c)]) * double(out[size_t(r * D + c)]);
    if (n2 > best) best = n2, best_row = r;
  }
  CHECK(best_row == id);
}

TEST_CASE("synth: bad specs are errc::bad_value naming the field; an unwritable path is errc::io") {
  const std::string dir = gb::test::temp_dir("synth_errors");
  auto bad = [&](auto mutate, const char* needle) {
    gb::synth_spec s = spec_for("llama", dir + "/x.gguf");
    mutate(s);
    auto r = gb::synth_write(s);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == gb::errc::bad_value);
    CHECK(r.err().message.find(needle) != std::string::npos);
  };
  bad([](gb::synth_spec& s) { s.arch = "mamba"; }, "unknown architecture");
  bad([](gb::synth_spec& s) { s.n_head = 5; }, "--heads");
  bad([](gb::synth_spec& s) { s.n_head_kv = 3; }, "--kv-heads");
  bad([](gb::synth_spec& s) { s.arch = "gpt2"; }, "multi-head");  // kv 2 != heads 4
  bad([](gb::synth_spec& s) { s.n_layer = 0; }, "--layers");
  bad([](gb::synth_spec& s) { s.plants = {{"nan", "no.such.tensor", ""}}; }, "no tensor named");
  bad([](gb::synth_spec& s) { s.perturb_layers = {9}; }, "--perturb-layers");
  bad([](gb::synth_spec& s) { s.bias_token = "doc tor"; }, "--bias-token");
  gb::synth_spec s = spec_for("llama", dir + "/no/such/folder/x.gguf");
  auto r = gb::synth_write(s);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == gb::errc::io);
}
