// bias-localize confirmation by ablation (probes/bias_localize_ablate.h) and the attribution's threads.
// - A bias planted in the last block's MLP behind trigger words (synth --bias-trigger): direct attribution
//   ranks that MLP first, mean-ablating the top 3 lowers pct_stereotype with an interval below 0 while 10
//   random sets of 3 do not move it: claimed. The same model without the plant: not claimed.
// - The packed ablation pass scores the unablated sentences as the attribution pass did (mean LL margin).
// - The attribution arithmetic gives the same bits on 1 and 2 threads (terms and dataset means).
// - Ablation in groups with staged passes gives the bits of one pass per pair from block 0.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "probes/bias_localize.h"
#include "probes/bias_localize_ablate.h"
#include "probes/lm_scorer.h"
#include "probes/session.h"
#include "tests/support/data.h"
#include "tests/support/session_fixture.h"

// Under ASan + UBSan (~5x slower) fewer pairs: the same code paths. The planted MLP's ablation still claims
// at 64 template pairs (its effect's interval [-18.8, -4.7] against 0; at 40 it would not).
#ifdef GB_SANITIZED
constexpr const char* k_template_limit = " --limit 64";
constexpr size_t k_template_pairs = 64, k_group_pairs = 8;
#else
constexpr const char* k_template_limit = "";
constexpr size_t k_template_pairs = 120, k_group_pairs = 16;
#endif

using json = nlohmann::json;

namespace {

std::string synth_trigger(const std::string& dir, const std::string& name, const std::string& scale) {
  const std::string model = dir + "/" + name + ".gguf";
  std::string wrote;
  REQUIRE(gb::test::run_glassbox(
              "synth --arch llama --layers 2 --dim 64 --heads 4 --vocab 512 --ctx 256 --seed 36 "
              "--bias-token he --bias-trigger that --bias-trigger because --bias-trigger if "
              "--bias-scale " +
                  scale + " -o '" + model + "'",
              &wrote) == 0);
  return model;
}

json localize_json(const std::string& model) {
  std::string out;
  REQUIRE(gb::test::run_glassbox(
              "bias-localize '" + model +
                  "' --suite templates --json --threads 2 --resamples 200 --ablate 3 --ablate-draws 10" +
                  k_template_limit,
              &out) == 0);
  return json::parse(out);
}

}  // namespace

TEST_CASE("ablation confirms a bias planted in an MLP and claims nothing on the unplanted model") {
  const std::string dir = gb::test::temp_dir("bias_localize_ablate");
  const json planted = localize_json(synth_trigger(dir, "planted", "0.5"));
  const json control = localize_json(synth_trigger(dir, "control", "0"));
  const json& a = planted["ablation"];
  MESSAGE("planted: top " << a["top"]["components"] << " effect " << a["top"]["effect"] << " "
                          << a["top"]["ci95"] << ", random max " << a["random_max_abs_effect"]
                          << "; control: top effect " << control["ablation"]["top"]["effect"]
                          << ", random max " << control["ablation"]["random_max_abs_effect"]);
  CHECK(planted["ranked"][0]["component"] == "L1.mlp");
  CHECK(a["k"] == 3);
  CHECK(a["pairs"] == k_template_pairs);
  REQUIRE(a["random"].size() == 10u);
  CHECK(a["top"]["components"][0] == "L1.mlp");
  CHECK(a["unablated"].get<double>() > 90.0);
  CHECK(a["top"]["effect"].get<double>() < 0.0);
  CHECK(a["top"]["ci95"][1].get<double>() < 0.0);
  CHECK(a["top"]["ll_diff_effect"].get<double>() < -0.3);  // most of the planted margin is gone
  CHECK(a["top"]["ll_diff_effect_ci95"][1].get<double>() < 0.0);
  for (const json& r : a["random"]) {
    CHECK(r["components"].size() == 3u);
    for (const json& c : r["components"]) CHECK(c != "L1.mlp");  // drawn from the others
  }
  CHECK(std::fabs(a["top"]["effect"].get<double>()) > a["random_max_abs_effect"].get<double>());
  CHECK(a["claimed"] == true);
  CHECK(a["rule"].get<std::string>().find("exceeds every random draw") != std::string::npos);
  CHECK(control["ablation"]["claimed"] == false);
  // the CLI summary states the verdict
  std::string text;
  REQUIRE(gb::test::run_glassbox(
              "bias-localize '" + dir + "/planted.gguf' --suite templates --resamples 100" + k_template_limit,
              &text) == 0);
  CHECK(text.find("localisation CLAIMED") != std::string::npos);
  std::string off;
  REQUIRE(gb::test::run_glassbox("bias-localize '" + dir +
                                     "/planted.gguf' --suite templates --ablate 0 --json" + k_template_limit,
                                 &off) == 0);
  CHECK(json::parse(off)["ablation"].is_null());
}

TEST_CASE(
    "the packed ablation pass scores the unablated pairs as the attribution did; 1 and 2 threads agree") {
  const std::string dir = gb::test::temp_dir("bias_localize_threads");
  const std::string model = synth_trigger(dir, "m", "0.5");
  gb::test::localize_fixture f(model, "templates", "", 0);
  f.pairs.resize(24);
  gb::probes::localize_options o1, o2;
  o1.threads = 1;
  o2.threads = 2;
  o1.resamples = o2.resamples = 50;
  auto r1 = gb::probes::localize_pairs(f.run(), f.weights(), f.pairs, o1);
  auto r2 = gb::probes::localize_pairs(f.run(), f.weights(), f.pairs, o2);
  REQUIRE(r1);
  REQUIRE(r2);
  REQUIRE(r1.value().diffs.size() == 24u);
  for (size_t i = 0; i < 24; ++i) {
    CAPTURE(i);
    gb::test::check_dla_terms_equal(r1.value().diffs[i], r2.value().diffs[i]);  // every term, 1 vs 2 threads
  }
  CHECK(r1.value().activations.z == r2.value().activations.z);
  CHECK(r1.value().activations.mlp == r2.value().activations.mlp);
  CHECK(r1.value().activations.rows > 0u);
  gb::probes::ablate_options ao;
  ao.k = 2;
  ao.draws = 3;
  ao.resamples = 50;
  auto ab = gb::probes::ablate_confirm(f.run(), r1.value(), ao);
  REQUIRE(ab);
  CHECK(ab.value().random.size() == 3u);
  CHECK(ab.value().clean_ll == doctest::Approx(r1.value().mean.ll).epsilon(1e-5));
  ao.k = 0;
  auto none = gb::probes::ablate_confirm(f.run(), r1.value(), ao);
  REQUIRE(none);
  CHECK_FALSE(none.value().claimed);
  CHECK(none.value().random.empty());
}

TEST_CASE(
    "ablation in groups (unablated pass, then every ablated run from its first ablated block) equals one "
    "pass per pair from block 0, for any group size") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(csv, "bias/crows-pairs/crows_pairs_anonymized.csv");
  gb::test::localize_fixture f(model, "crows-pairs", csv, k_group_pairs);
  gb::probes::localize_options lo;
  lo.resamples = 50;
  auto r = gb::probes::localize_pairs(f.run(), f.weights(), f.pairs, lo);
  REQUIRE(r);
  gb::probes::ablate_options ao;
  ao.k = 3;
  ao.draws = 8;
  ao.resamples = 50;
  ao.reference = true;
  auto ref = gb::probes::ablate_confirm(f.run(), r.value(), ao);
  REQUIRE(ref);
  ao.reference = false;
  // max_rows 1: every pair alone; 400: a few pairs a group; 100000: every pair in one group
  for (size_t max_rows : {size_t{1}, size_t{400}, size_t{100000}}) {
    CAPTURE(max_rows);
    ao.max_rows = max_rows;
    auto a = gb::probes::ablate_confirm(f.run(), r.value(), ao);
    REQUIRE(a);
    CHECK(a.value().clean == ref.value().clean);
    CHECK(a.value().clean_ll == ref.value().clean_ll);
    REQUIRE(a.value().random.size() == ref.value().random.size());
    for (size_t j = 0; j <= a.value().random.size(); ++j) {
      const auto& x = j == 0 ? a.value().top : a.value().random[j - 1];
      const auto& y = j == 0 ? ref.value().top : ref.value().random[j - 1];
      CHECK(x.components == y.components);
      CHECK(x.metric == y.metric);
      CHECK(x.ll_effect == y.ll_effect);
      CHECK(x.ll_ci.lo == y.ll_ci.lo);
      CHECK(x.ll_ci.hi == y.ll_ci.hi);
    }
  }
  // the sets start at different blocks (what the staged pass is for), and ablation changed the margins
  std::set<char> first_layers;
  bool moved = false;
  for (const auto& set : ref.value().random) {
    char lo_layer = '9';
    for (const std::string& c : set.components) lo_layer = std::min(lo_layer, c[1]);
    first_layers.insert(lo_layer);
    moved = moved || set.ll_effect != 0.0;
  }
  CHECK(first_layers.size() >= 2u);
  CHECK(moved);
}
