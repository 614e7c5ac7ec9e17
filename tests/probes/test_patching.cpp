// probes/patching: patching a run with itself restores 100% everywhere; clean->corrupt on stories260K
// restores 100% at the residual of the differing position in layer 0; on a synthetic 2-layer llama with a
// planted single-head mechanism (only layer 1 head 0 carries the metric) patching finds that head.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "formats/archive.h"
#include "formats/writers.h"
#include "inspect/model.h"
#include "probes/patching.h"
#include "probes/session.h"
#include "tests/support/data.h"
#include "tests/support/session_fixture.h"

using namespace gb;

namespace {

// 2-layer llama, D = 8, H = 2 heads of E = 4, V = 16. Layer 0 and both MLPs are zero. Layer 1: q = k = 0
// (uniform causal attention), v = identity (head 0 reads dims 0..3, head 1 dims 4..7), o: head 0 writes
// dims 0..3, head 1 writes dims 4..7. Output rows of tokens 0 and 1 read dims 0 and 1 only, so the metric
// logit(0) - logit(1) sees head 0 and the direct path, never head 1.
std::string write_planted(const std::string& path) {
  const int64_t V = 16, D = 8, F = 8;
  std::vector<float> emb(static_cast<size_t>(V * D));
  for (int64_t t = 0; t < V; ++t)
    for (int64_t i = 0; i < D; ++i)
      emb[static_cast<size_t>(t * D + i)] =
          static_cast<float>(0.5 + 0.4 * std::sin(static_cast<double>(t * 7 + i * 3)));
  // Tokens 2 and 3 differ only by swapping dims 0 and 1 (same RMS, same dims 4..7).
  for (int64_t i = 0; i < D; ++i) emb[static_cast<size_t>(3 * D + i)] = emb[static_cast<size_t>(2 * D + i)];
  emb[static_cast<size_t>(2 * D + 0)] = 2.0f, emb[static_cast<size_t>(2 * D + 1)] = 0.0f;
  emb[static_cast<size_t>(3 * D + 0)] = 0.0f, emb[static_cast<size_t>(3 * D + 1)] = 2.0f;
  std::vector<float> ones(static_cast<size_t>(D), 1.0f), zDD(static_cast<size_t>(D * D), 0.0f),
      zFD(static_cast<size_t>(F * D), 0.0f);
  std::vector<float> eye(static_cast<size_t>(D * D), 0.0f), o1(static_cast<size_t>(D * D), 0.0f);
  for (int64_t i = 0; i < D; ++i)
    eye[static_cast<size_t>(i * D + i)] = 1.0f, o1[static_cast<size_t>(i * D + i)] = 3.0f;
  std::vector<float> out(static_cast<size_t>(V * D), 0.0f);
  out[0 * D + 0] = 1.0f, out[1 * D + 1] = 1.0f;
  for (int64_t t = 2; t < V; ++t) out[static_cast<size_t>(t * D + 4 + (t % 4))] = 0.5f;
  std::vector<tensor_data> ts;
  auto add = [&](const std::string& n, std::vector<int64_t> shape, const std::vector<float>& v) {
    ts.push_back({n, dtype::f32, std::move(shape), test::f32_bytes(v)});
  };
  add("token_embd.weight", {V, D}, emb);
  add("output_norm.weight", {D}, ones);
  add("output.weight", {V, D}, out);
  for (int l = 0; l < 2; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_norm.weight", {D}, ones);
    add(p + "attn_q.weight", {D, D}, zDD);
    add(p + "attn_k.weight", {D, D}, zDD);
    add(p + "attn_v.weight", {D, D}, l == 1 ? eye : zDD);
    add(p + "attn_output.weight", {D, D}, l == 1 ? o1 : zDD);
    add(p + "ffn_norm.weight", {D}, ones);
    add(p + "ffn_gate.weight", {F, D}, zFD);
    add(p + "ffn_up.weight", {F, D}, zFD);
    add(p + "ffn_down.weight", {D, F}, std::vector<float>(static_cast<size_t>(D * F), 0.0f));
  }
  std::vector<std::pair<std::string, meta_value>> md = {
      {"general.architecture", meta_str("llama")},
      {"llama.context_length", meta_u32(16)},
      {"llama.embedding_length", meta_u32(8)},
      {"llama.block_count", meta_u32(2)},
      {"llama.feed_forward_length", meta_u32(8)},
      {"llama.attention.head_count", meta_u32(2)},
      {"llama.attention.head_count_kv", meta_u32(2)},
      {"llama.rope.dimension_count", meta_u32(4)},
      {"llama.attention.layer_norm_rms_epsilon", meta_f32(1e-5f)}};
  gguf_write(path, md, ts);
  return path;
}

}  // namespace

TEST_CASE("patching a run with itself restores 100% for every component (stories260K)") {
  GB_DATA(path, "models/stories260K/stories260K.gguf");
  probes::session S = test::session_runnable(path);
  const auto ids = S.tok->encode("Once upon a time", true);
  auto r = probes::patch_run(*S.run, ids, ids, {432, 383});
  REQUIRE(r);
  const auto& P = r.value();
  CHECK(P.clean == P.corrupt);
  CHECK(P.components.size() == static_cast<size_t>(P.L * P.T + 2 * P.L + P.L * P.H));
  for (const auto& c : P.components) {
    CAPTURE(c.kind);
    CAPTURE(c.layer);
    CAPTURE(c.head);
    CAPTURE(c.position);
    CHECK(c.restored == 1.0);
    CHECK(std::fabs(c.metric - P.clean) < 1e-4);
  }
}

TEST_CASE("patching clean into corrupt: the residual at the changed position restores everything") {
  GB_DATA(path, "models/stories260K/stories260K.gguf");
  probes::session S = test::session_runnable(path);
  const auto clean = S.tok->encode("Once upon a time", true);
  auto corrupt = clean;
  corrupt[1] = S.tok->encode("Lily", false).at(0);
  auto r = probes::patch_run(*S.run, clean, corrupt, {432, 383});
  REQUIRE(r);
  const auto& P = r.value();
  CHECK(std::fabs(P.clean - P.corrupt) > 1e-3);
  // Layer 0 resid.pre at position 1 carries the only difference: patching it gives the clean run.
  CHECK(P.find("resid", 0, -1, 1)->restored == doctest::Approx(1.0).epsilon(1e-4));
  // Positions whose tokens are equal carry nothing at layer 0.
  CHECK(P.find("resid", 0, -1, 0)->restored == doctest::Approx(0.0).epsilon(1e-6));
  CHECK(P.find("resid", 0, -1, 3)->restored == doctest::Approx(0.0).epsilon(1e-6));
  // Summing all heads of a layer equals patching its whole attention output only approximately (later
  // layers are nonlinear), but patching all heads at once is what attn does: check one head is finite.
  CHECK(std::isfinite(P.find("head", 2, 3)->restored));
  // Unequal lengths are an error.
  auto bad =
      probes::patch_run(*S.run, clean, std::vector<int32_t>(clean.begin(), clean.end() - 1), {432, 383});
  REQUIRE(!bad);
  CHECK(bad.err().code == errc::bad_value);
}

TEST_CASE("patching finds the planted head on a synthetic 2-layer model") {
  const std::string dir = test::temp_dir("patch_planted");
  const std::string path = write_planted(dir + "/planted.gguf");
  auto s = probes::session_open(path);
  REQUIRE(s);
  probes::session& S = s.value();
  REQUIRE_MESSAGE(S.run, S.run_error);
  const std::vector<int32_t> clean = {2, 5, 7}, corrupt = {3, 5, 7};
  auto r = probes::patch_run(*S.run, clean, corrupt, {0, 1});
  REQUIRE(r);
  const auto& P = r.value();
  MESSAGE("clean " << P.clean << " corrupt " << P.corrupt);
  REQUIRE(std::fabs(P.clean - P.corrupt) > 0.05);
  const probes::patch_component* best = nullptr;
  for (const auto& c : P.components)
    if (c.kind == "head" && (!best || c.restored > best->restored)) best = &c;
  REQUIRE(best != nullptr);
  CHECK(best->layer == 1);
  CHECK(best->head == 0);
  CHECK(best->restored == doctest::Approx(1.0).epsilon(1e-4));
  CHECK(P.find("head", 1, 1)->restored == doctest::Approx(0.0).epsilon(1e-6));
  CHECK(P.find("head", 0, 0)->restored == doctest::Approx(0.0).epsilon(1e-6));
  CHECK(P.find("attn", 1)->restored == doctest::Approx(1.0).epsilon(1e-4));
  CHECK(P.find("attn", 0)->restored == doctest::Approx(0.0).epsilon(1e-6));
  CHECK(P.find("mlp", 1)->restored == doctest::Approx(0.0).epsilon(1e-6));
  CHECK(P.find("resid", 0, -1, 0)->restored == doctest::Approx(1.0).epsilon(1e-4));
  CHECK(P.find("resid", 1, -1, 2)->restored == doctest::Approx(0.0).epsilon(1e-6));
}
