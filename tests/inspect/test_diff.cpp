// diff and lineage: re-encodings with matching error figures, a simulated fine-tune named by layer,
// unrelated seeds, and stories260K across containers.
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "inspect/diff.h"
#include "inspect/synth.h"
#include "tests/inspect/integrity_fixture.h"
#include "tests/support/data.h"

namespace {

gb::diff_report run(gbt::mem_model& a, gbt::mem_model& b) {
  gb::diff_options o;
  o.threads = 2;
  return gb::diff_models(a.items, b.items, a.ar, b.ar, nullptr, nullptr, o);
}

const gb::tensor_diff* by_name(const gb::diff_report& d, const std::string& n) {
  for (const auto& t : d.tensors)
    if (t.name == n) return &t;
  return nullptr;
}

}  // namespace

TEST_CASE("diff: identical models are the same model") {
  gbt::mem_model a, b;
  gbt::llama_like(a, 1, gb::dtype::f32);
  gbt::llama_like(b, 1, gb::dtype::f32);
  a.finish();
  b.finish();
  gb::diff_report d = run(a, b);
  CHECK(d.verdict == gb::lineage::same_model);
  CHECK(d.verdict_text.find("same weights") != std::string::npos);
  for (const auto& t : d.tensors) CHECK(t.status == gb::tensor_delta::identical);
}

TEST_CASE("diff: f16, q8_0 and q4_0 conversions are re-encodings with errors that match the dtype") {
  for (gb::dtype t : {gb::dtype::f16, gb::dtype::q8_0, gb::dtype::q4_0}) {
    CAPTURE(gb::dtype_name(t));
    gbt::mem_model a, b;
    gbt::llama_like(a, 1, gb::dtype::f32);
    gbt::llama_like(b, 1, t);
    a.finish();
    b.finish();
    gb::diff_report d = run(a, b);
    CHECK(d.verdict == gb::lineage::reencoded);
    CHECK(d.verdict_text.find("same weights re-encoded") != std::string::npos);
    const gb::tensor_diff* q = by_name(d, "blk.2.attn.q.weight");
    REQUIRE(q);
    CHECK(q->status == gb::tensor_delta::close);
    // Measured error within a factor 2 of the dtype's typical figure, cosine near 1.
    const double typical = gb::diff_dtype_tolerance(t).typical;
    CHECK(q->rel_l2 > 0.5 * typical);
    CHECK(q->rel_l2 < 2.0 * typical);
    CHECK(q->cosine > 0.99);
    // Norm vectors stay f32 in both: identical.
    CHECK(by_name(d, "blk.2.attn_norm.weight")->status == gb::tensor_delta::identical);
  }
}

TEST_CASE("diff: q8_0 max error stays within half a quantisation step of each block") {
  std::vector<float> v = gbt::gaussian(32 * 64, 4);
  gbt::mem_model a, b;
  a.add("w", gb::dtype::f32, {32, 64}, v);
  b.add("w", gb::dtype::q8_0, {32, 64}, v);
  a.finish();
  b.finish();
  gb::diff_report d = run(a, b);
  double bound = 0;
  for (size_t blk = 0; blk < v.size() / 32; ++blk) {
    float amax = 0;
    for (size_t i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(v[blk * 32 + i]));
    // |x - q d16| <= d/2 + |q| |d - d16| <= d (1/2 + 127 * 2^-11): rounding plus the fp16 scale's rounding.
    const double dd = static_cast<double>(amax) / 127.0;
    bound = std::max(bound, dd * (0.5 + 127.0 / 2048.0) + 1e-9);
  }
  CHECK(d.tensors[0].max_abs <= bound);
  CHECK(d.tensors[0].max_abs > 0);
}

TEST_CASE("diff: a copy with layers 1 and 3 perturbed is derived, naming those layers") {
  gbt::mem_model a, b;
  gbt::llama_like(a, 1, gb::dtype::f32);
  gbt::llama_like(b, 1, gb::dtype::f32, {1, 3}, 0.1f);
  a.finish();
  b.finish();
  gb::diff_report d = run(a, b);
  CHECK(d.verdict == gb::lineage::derived);
  CHECK(d.verdict_text.find("blk.1") != std::string::npos);
  CHECK(d.verdict_text.find("blk.3") != std::string::npos);
  CHECK(d.verdict_text.find("blk.0") == std::string::npos);
  CHECK(d.verdict_text.find("blk.2") == std::string::npos);
  const gb::tensor_diff* m = by_name(d, "blk.1.mlp.up.weight");
  REQUIRE(m);
  CHECK(m->status == gb::tensor_delta::moved);
  CHECK(m->rel_l2 == doctest::Approx(0.1).epsilon(0.1));
  for (const auto& l : d.layers) {
    if (l.key == "blk.1" || l.key == "blk.3")
      CHECK(l.moved == 7);
    else
      CHECK(l.moved == 0);
  }
}

TEST_CASE("diff: different seeds are unrelated; added and removed tensors are listed") {
  gbt::mem_model a, b;
  gbt::llama_like(a, 1, gb::dtype::f32);
  gbt::llama_like(b, 2, gb::dtype::f32);
  b.add("extra.weight", gb::dtype::f32, {4}, std::vector<float>(4, 0.5f));
  a.finish();
  b.finish();
  gb::diff_report d = run(a, b);
  CHECK(d.verdict == gb::lineage::unrelated);
  CHECK(std::fabs(by_name(d, "blk.0.attn.q.weight")->cosine) < 0.1);
  CHECK(by_name(d, "extra.weight")->status == gb::tensor_delta::added);
}

TEST_CASE("diff: a reshaped tensor is reported, not compared") {
  gbt::mem_model a, b;
  a.add("w", gb::dtype::f32, {8, 8}, gbt::gaussian(64, 1));
  b.add("w", gb::dtype::f32, {4, 16}, gbt::gaussian(64, 1));
  a.finish();
  b.finish();
  gb::diff_report d = run(a, b);
  CHECK(d.tensors[0].status == gb::tensor_delta::reshaped);
  CHECK(d.verdict == gb::lineage::unrelated);
}

TEST_CASE("diff: stories260K in any two containers is the same weights") {
  GB_DATA_ALL(paths, gb::test::stories260k_formats());  // GGUF v3, GGUF v1, llama2.c, HF folder
  for (size_t i = 0; i < paths.size(); ++i)
    for (size_t j = i + 1; j < paths.size(); ++j) {
      std::string out;
      CAPTURE(paths[i]);
      CAPTURE(paths[j]);
      CHECK(gb::test::run_glassbox("diff " + paths[i] + " " + paths[j], &out) == 0);
      CHECK(out.find("verdict: same weights") != std::string::npos);
    }
}

TEST_CASE("diff: synth model vs its F16 / Q8_0 / Q4_0 conversions, a simulated fine-tune, another seed") {
  const std::string dir = gb::test::temp_dir("diff_synth");
  auto write = [&](const std::string& name, gb::dtype t, uint64_t seed, std::vector<int> perturb) {
    gb::synth_spec s;
    s.n_layer = 4;
    s.n_embd = 64;
    s.n_head = 4;
    s.n_vocab = 320;
    s.type = t;
    s.seed = seed;
    s.perturb_layers = std::move(perturb);
    s.path = dir + "/" + name + ".gguf";
    REQUIRE(gb::synth_write(s).ok());
    gb::result<gb::integrity_input> in = gb::integrity_open(s.path);
    REQUIRE(in.ok());
    return std::move(in).value();
  };
  gb::integrity_input base = write("base", gb::dtype::f32, 1, {});
  auto diff = [&](const gb::integrity_input& other) {
    return gb::diff_models(base.items, other.items, *base.ar, *other.ar, &base.m->hp, &other.m->hp, {});
  };
  for (gb::dtype t : {gb::dtype::f16, gb::dtype::q8_0, gb::dtype::q4_0}) {
    CAPTURE(gb::dtype_name(t));
    gb::integrity_input q = write(std::string("conv_") + gb::dtype_name(t), t, 1, {});
    gb::diff_report d = diff(q);
    CHECK(d.verdict == gb::lineage::reencoded);
    const double typical = gb::diff_dtype_tolerance(t).typical;
    for (const auto& td : d.tensors) {
      if (td.dtype_b != gb::dtype_name(t)) continue;
      CAPTURE(td.name);
      CHECK(td.rel_l2 > 0.5 * typical);
      CHECK(td.rel_l2 < 2.0 * typical);
    }
  }
  gb::diff_report ft = diff(write("ft", gb::dtype::f32, 1, {1, 2}));
  CHECK(ft.verdict == gb::lineage::derived);
  CHECK(ft.verdict_text.find("blk.1, blk.2") != std::string::npos);
  CHECK(ft.verdict_text.find("blk.0") == std::string::npos);
  CHECK(ft.verdict_text.find("blk.3") == std::string::npos);
  gb::diff_report other = diff(write("seed2", gb::dtype::f32, 2, {}));
  CHECK(other.verdict == gb::lineage::unrelated);
}
