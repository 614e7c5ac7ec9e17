// bias-localize: direct logit attribution of minimal pairs (probes/bias_localize.h).
// - On stories260K: the terms of every sentence add up to the engine's summed target logits, and
//   target_logits - log_partition is the sentence's log-likelihood from runner::token_logprobs.
// - Against an independent computation: bench/peer_localize_torch.py (float64 PyTorch LLaMA forward of its
//   own, its own tokenizer) on 20 CrowS-Pairs pairs: every per-layer and per-head difference within 1e-4.
// - On a synth --bias-token model: the planted direction (added to every embedding row, read by the bias
//   token's output row) is found in the embedding term, which ranks first and grows with the plant.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "probes/bias_localize.h"
#include "probes/lm_scorer.h"
#include "probes/session.h"
#include "tests/support/data.h"
#include "tests/support/fixtures.h"
#include "tests/support/session_fixture.h"

// Under ASan + UBSan (~5x slower; this file was the sanitized suite's second-longest test, 144 s) fewer
// pairs: the same code paths, and the planted effects still clear their thresholds with margin (at 64
// template pairs the planted embedding term's interval is [3.7, 4.1] against the test's 0).
#ifdef GB_SANITIZED
#define GB_LOCALIZE_LIMIT(full, sanitized) sanitized
#else
#define GB_LOCALIZE_LIMIT(full, sanitized) full
#endif
constexpr size_t k_torch_pairs = GB_LOCALIZE_LIMIT(20, 8);       // DLA against PyTorch
constexpr size_t k_template_pairs = GB_LOCALIZE_LIMIT(120, 64);  // the planted model's templates
constexpr size_t k_patch_pairs = GB_LOCALIZE_LIMIT(40, 16);      // patching
constexpr size_t k_patch_ref_pairs = GB_LOCALIZE_LIMIT(40, 4);   // ... of which packed vs one run each
#undef GB_LOCALIZE_LIMIT

using json = nlohmann::json;

TEST_CASE("DLA terms add up to the summed target logits; LL = target logits - log-partition") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(csv, "bias/crows-pairs/crows_pairs_anonymized.csv");
  gb::test::localize_fixture f(model, "crows-pairs", csv, 10);
  CHECK(f.weights().layers() == 5);
  CHECK(f.weights().heads() == 8);
  REQUIRE(f.pairs.size() == 10u);
  for (const auto& p : f.pairs) {
    for (const auto* ids : {&p.more, &p.less}) {
      auto r = gb::probes::dla_sentence(f.run(), f.weights(), *ids);
      REQUIRE(r);
      const auto& t = r.value();
      CHECK(t.tokens == ids->size() - 1);
      CHECK(t.target_logits == t.sum_terms());
      CHECK(std::fabs(t.target_logits - t.engine_target_logits) < 1e-4 * static_cast<double>(t.tokens));
      auto lp = f.run().token_logprobs(*ids);
      REQUIRE(lp);
      double ll = 0;
      for (double v : lp.value()) ll += v;
      CHECK(t.ll == doctest::Approx(ll).epsilon(1e-6));
      double heads = 0;
      for (double v : t.heads) heads += std::fabs(v);
      CHECK(heads > 0.0);  // the heads do write into the target directions
    }
  }
  // bad input: nothing to score
  CHECK_FALSE(gb::probes::dla_sentence(f.run(), f.weights(), {1}));
}

namespace {

bool torch_ready() {
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0) return true;
  if (gb::test::in_ci()) FAIL("CI: /usr/bin/python3 cannot import torch (install python3-torch)");
  MESSAGE("SKIP: /usr/bin/python3 cannot import torch");
  return false;
}

}  // namespace

TEST_CASE("DLA agrees with an independent PyTorch computation within 1e-4 on 20 CrowS-Pairs pairs") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(csv, "bias/crows-pairs/crows_pairs_anonymized.csv");
  if (!torch_ready()) return;
  std::string peer_out, ours;
  gb::test::run_command("OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 '" GB_SOURCE_DIR
                        "/bench/peer_localize_torch.py' --model '" +
                            model + "' --data '" + csv + "' --limit " + std::to_string(k_torch_pairs),
                        &peer_out);
  REQUIRE(gb::test::run_glassbox("bias-localize '" + model + "' --suite crows-pairs --data '" + csv +
                                     "' --limit " + std::to_string(k_torch_pairs) +
                                     " --json --pairs --threads 1 --resamples 100",
                                 &ours) == 0);
  const json g = json::parse(ours);
  REQUIRE(g["pairs"] == k_torch_pairs);
  std::map<std::string, json> mine;
  for (const json& p : g["per_pair"]) mine[p["id"].get<std::string>()] = p;
  size_t compared = 0, numbers = 0;
  double worst = 0;
  size_t pos = 0;
  while (pos < peer_out.size()) {
    size_t eol = peer_out.find('\n', pos);
    if (eol == std::string::npos) eol = peer_out.size();
    const json q = json::parse(peer_out.substr(pos, eol - pos));
    pos = eol + 1;
    REQUIRE(mine.count(q["id"].get<std::string>()));
    const json& m = mine[q["id"].get<std::string>()];
    auto close = [&](double a, double b) {
      worst = std::max(worst, std::fabs(a - b));
      ++numbers;
      return std::fabs(a - b) <= 1e-4;
    };
    CHECK(close(m["embed"].get<double>(), q["embed"].get<double>()));
    for (size_t l = 0; l < 5; ++l) {
      CHECK(close(m["mlp"][l].get<double>(), q["mlp"][l].get<double>()));
      for (size_t h = 0; h < 8; ++h)
        CHECK(close(m["heads"][l][h].get<double>(), q["heads"][l][h].get<double>()));
    }
    CHECK(close(m["target_logits"].get<double>(), q["target_logits"].get<double>()));
    CHECK(close(m["log_partition"].get<double>(), q["log_partition"].get<double>()));
    CHECK(close(m["ll"].get<double>(), q["ll"].get<double>()));
    ++compared;
  }
  MESSAGE(compared << " pairs, " << numbers << " numbers compared; largest difference " << worst);
  CHECK(compared == k_torch_pairs);
}

namespace {

json localize_synth(const std::string& dir, const std::string& name, double scale) {
  const std::string model = gb::test::synth_planted(dir, name, scale);
  std::string out;
  REQUIRE(
      gb::test::run_glassbox("bias-localize '" + model +
                                 "' --suite templates --json --top 3 --threads 2 --resamples 200 --limit " +
                                 std::to_string(k_template_pairs),
                             &out) == 0);
  return json::parse(out);
}

}  // namespace

TEST_CASE("DLA finds a planted bias where it was planted: the embedding direction read by the output row") {
  const std::string dir = gb::test::temp_dir("bias_localize_planted");
  const json control = localize_synth(dir, "control", 0.0), planted = localize_synth(dir, "planted", 6.0);
  CHECK(planted["pairs"] == k_template_pairs);
  const double ce = control["mean"]["embed"].get<double>(), pe = planted["mean"]["embed"].get<double>();
  MESSAGE("mean embed term (he - she): control " << ce << ", planted " << pe << "; planted top "
                                                 << planted["ranked"][0]["component"] << " "
                                                 << planted["ranked"][0]["mean_diff"]);
  CHECK(planted["ranked"][0]["component"] == "embed");
  CHECK(planted["ranked"][0]["ci95"][0].get<double>() > 0.0);
  CHECK(pe - ce > 3.0);  // about the planted 6 logits, less what the norm scale takes
  // no head or MLP carries a comparable share of the planted difference
  const double d =
      planted["mean"]["target_logits"].get<double>() - control["mean"]["target_logits"].get<double>();
  CHECK((pe - ce) / d > 0.5);
}

TEST_CASE(
    "activation patching: layer-0 residual restores the clean run; packed runs with a shared prefix equal "
    "runs from position 0") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(csv, "bias/crows-pairs/crows_pairs_anonymized.csv");
  gb::test::localize_fixture f(model, "crows-pairs", csv, k_patch_pairs);
  auto& run = f.run();
  size_t defined = 0, qualifying = 0;
  for (const auto& p : f.pairs) {
    auto a = gb::probes::patch_pair(run, p, 5, 8);
    REQUIRE(a);
    CHECK(a.value().qualifies == (p.more.size() == p.less.size()));
    if (!a.value().qualifies) continue;
    ++qualifying;
    REQUIRE(a.value().resid.size() == 5u);
    REQUIRE(a.value().heads.size() == 40u);
    if (a.value().clean == a.value().corrupted) continue;
    ++defined;
    // patching the embeddings at the differing positions turns the corrupted run into the clean one
    CHECK(a.value().resid[0] == doctest::Approx(1.0).epsilon(1e-4));
    if (defined > k_patch_ref_pairs) continue;  // (the groups test below also compares against one run each)
    auto b = gb::probes::patch_pair(run, p, 5, 8, /*reuse_prefix=*/false);
    REQUIRE(b);
    // the packed runs (shared prefix computed once) give the bits of one forward() per run
    CHECK(a.value().heads == b.value().heads);
    CHECK(a.value().resid == b.value().resid);
  }
  MESSAGE(qualifying << " of " << f.pairs.size() << " pairs have equal length; " << defined
                     << " with clean != corrupted");
  CHECK(defined >= 5u);
  auto sum = gb::probes::patch_pairs(run, f.pairs, 5, 8);
  REQUIRE(sum);
  CHECK(sum.value().qualifying == qualifying);
  CHECK(sum.value().resid[0] == doctest::Approx(1.0).epsilon(1e-4));
}

TEST_CASE(
    "activation patching in groups of pairs (one pass per layer from that block) equals one forward() per "
    "patched run, for any group size") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(csv, "bias/crows-pairs/crows_pairs_anonymized.csv");
#ifdef GB_SANITIZED
  // the reference is one forward() per patched run, ~5x slower under ASan: a few pairs, one group of all
  const size_t n = 3, min_qualifying = 2;
  const std::vector<size_t> group_rows{100000};
#else
  const size_t n = 20, min_qualifying = 5;
  const std::vector<size_t> group_rows{1, 1200, 100000};
#endif
  gb::test::localize_fixture f(model, "crows-pairs", csv, n);
  auto& run = f.run();
  std::vector<gb::probes::patch_pair_result> ref;
  for (const auto& p : f.pairs) {
    auto r = gb::probes::patch_pair(run, p, 5, 8, /*reuse_prefix=*/false);
    REQUIRE(r);
    ref.push_back(r.value());
  }
  // max_rows 1: every pair alone; 1200: two or three pairs a group (a pair's pass from one layer has
  // 300-700 rows here); 100000: every pair in one group
  for (size_t max_rows : group_rows) {
    CAPTURE(max_rows);
    auto g = gb::probes::patch_pairs(run, f.pairs, 5, 8, max_rows);
    REQUIRE(g);
    REQUIRE(g.value().pairs.size() == f.pairs.size());
    size_t qualifying = 0;
    for (size_t i = 0; i < f.pairs.size(); ++i) {
      const auto &a = g.value().pairs[i], &b = ref[i];
      CHECK(a.qualifies == b.qualifies);
      qualifying += a.qualifies;
      CHECK(a.clean == b.clean);
      CHECK(a.corrupted == b.corrupted);
      CHECK(a.resid == b.resid);
      CHECK(a.heads == b.heads);
    }
    MESSAGE(qualifying << " of " << f.pairs.size() << " pairs qualify");
    CHECK(qualifying >= min_qualifying);
  }
}

TEST_CASE("DLA: the attribution arithmetic gives the same bits on 1 and 2 threads") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(csv, "bias/crows-pairs/crows_pairs_anonymized.csv");
  gb::test::localize_fixture f(model, "crows-pairs", csv, 6);
  for (const auto& p : f.pairs) {
    gb::probes::activation_sums a1, a2;
    auto one = gb::probes::dla_sentence(f.run(), f.weights(), p.more, 1, 1, &a1);
    auto two = gb::probes::dla_sentence(f.run(), f.weights(), p.more, 1, 2, &a2);
    REQUIRE(one);
    REQUIRE(two);
    CHECK(one.value().heads == two.value().heads);
    CHECK(one.value().mlp == two.value().mlp);
    CHECK(one.value().embed == two.value().embed);
    CHECK(one.value().target_logits == two.value().target_logits);
    CHECK(one.value().log_partition == two.value().log_partition);
    CHECK(a1.z == a2.z);
    CHECK(a1.mlp == a2.mlp);
  }
}

TEST_CASE(
    "audit --localize adds a Bias localization section (heatmap + ranked table) to report.html and "
    "report.json") {
  const std::string dir = gb::test::temp_dir("bias_localize_audit");
  const std::string model = gb::test::synth_planted(dir, "m", 4.0);
  std::string out;
  REQUIRE(gb::test::run_glassbox(
              "audit '" + model + "' --localize templates --suites none --no-spectral --resamples 100 -o '" +
                  dir + "/rep'",
              &out) == 0);
  const json j = json::parse(gb::test::read_text(dir + "/rep/report.json"));
  REQUIRE(j.contains("bias_localization"));
  CHECK(j["bias_localization"]["pairs"] == 120);
  CHECK(j["bias_localization"]["ranked"][0]["component"] == "embed");
  CHECK(j["bias_localization"]["mean"]["heads"].size() == 2u);
  REQUIRE(j["bias_localization"]["ablation"].is_object());  // the confirmation by ablation
  CHECK(j["bias_localization"]["ablation"]["random"].size() == 10u);
  CHECK(j["bias_localization"]["ablation"]["claimed"].is_boolean());
  const std::string html = gb::test::read_text(dir + "/rep/report.html");
  CHECK(html.find("<h2 id=\"bias-localization\">Bias localization</h2>") != std::string::npos);
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(html.find("ablation: mean-ablating the top 3 components") != std::string::npos);
}

TEST_CASE("DLA of pairs in packed groups equals one pass per sentence (dla_sentence), for any group size") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(csv, "bias/crows-pairs/crows_pairs_anonymized.csv");
  gb::test::localize_fixture f(model, "crows-pairs", csv, 20);
  gb::probes::localize_options o;
  o.resamples = 50;
  o.reference = true;
  auto ref = gb::probes::localize_pairs(f.run(), f.weights(), f.pairs, o);
  REQUIRE(ref);
  o.reference = false;
  // max_rows 1: every pair alone; 100: a few pairs a group; 100000: every pair in one pass
  for (size_t max_rows : {size_t{1}, size_t{100}, size_t{100000}}) {
    CAPTURE(max_rows);
    o.max_rows = max_rows;
    auto r = gb::probes::localize_pairs(f.run(), f.weights(), f.pairs, o);
    REQUIRE(r);
    REQUIRE(r.value().diffs.size() == f.pairs.size());
    for (size_t i = 0; i < f.pairs.size(); ++i) {
      CAPTURE(i);
      gb::test::check_dla_terms_equal(r.value().diffs[i], ref.value().diffs[i]);  // and ll
    }
    CHECK(r.value().ll_more == ref.value().ll_more);
    CHECK(r.value().ll_less == ref.value().ll_less);
    CHECK(r.value().max_sum_error == ref.value().max_sum_error);
    CHECK(r.value().activations.z == ref.value().activations.z);
    CHECK(r.value().activations.mlp == ref.value().activations.mlp);
    CHECK(r.value().activations.rows == ref.value().activations.rows);
    CHECK(r.value().ranked.size() == ref.value().ranked.size());
  }
}
