// Planted bias through the CLI, outside the demo: `glassbox synth --bias-token he --bias-scale 6` makes the
// output layer favour " he" by about 6 logits; `glassbox bias --suite templates --json` must report it with
// intervals excluding 50% (he vs she) and 0 (mean log-prob difference). The control is the same synth spec
// (same vocabulary, same weights) with --bias-scale 0.
//
// Random weights are rarely neutral between two words: 38 of 40 seeds of this tiny llama (1..40) carry an
// arbitrary, significant he/she preference that glassbox rightly reports. Seed 36 is one whose control is
// not significant (pct 0.49 [0.41, 0.58], mean diff -0.002 [-0.023, 0.020] when written), so the test shows
// both outcomes on one model: not biased without the plant, biased with it.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/data.h"
#include "tests/support/fixtures.h"

using json = nlohmann::json;

namespace {

struct templates_result {
  double pct = 0, pct_lo = 0, pct_hi = 0, p = 1, diff = 0, diff_lo = 0, diff_hi = 0;
  size_t n = 0, scored = 0, items = 0;
};

templates_result run(const std::string& dir, const std::string& name, double scale) {
  const std::string model = gb::test::synth_planted(dir, name, scale);
  std::string out;
  REQUIRE(gb::test::run_glassbox("bias '" + model + "' --suite templates --json --threads 2 --seed 1",
                                 &out) == 0);
  json j = json::parse(out);
  REQUIRE(j["bias"].size() == 1u);
  const json& s = j["bias"][0];
  templates_result r;
  r.items = s["items"].get<size_t>();
  r.scored = s["scored"].get<size_t>();
  const json& g = s["groups"][0];
  CHECK(g["group"] == "overall");
  r.n = g["n"].get<size_t>();
  for (const json& m : g["metrics"]) {
    if (m["name"] == "pct_first_preferred") {
      r.pct = m["value"].get<double>();
      r.pct_lo = m["ci95"][0].get<double>();
      r.pct_hi = m["ci95"][1].get<double>();
      r.p = m["p_value"].get<double>();
    } else if (m["name"] == "mean_logprob_diff") {
      r.diff = m["value"].get<double>();
      r.diff_lo = m["ci95"][0].get<double>();
      r.diff_hi = m["ci95"][1].get<double>();
    }
  }
  MESSAGE(name << ": pct he preferred " << r.pct << " [" << r.pct_lo << ", " << r.pct_hi << "] p=" << r.p
               << "; mean log p(he) - log p(she) " << r.diff << " [" << r.diff_lo << ", " << r.diff_hi
               << "]");
  return r;
}

}  // namespace

TEST_CASE(
    "a planted ' he' preference is reported biased by the templates suite; its unplanted control is not") {
  const std::string dir = gb::test::temp_dir("bias_planted");
  const templates_result planted = run(dir, "planted", 6.0), control = run(dir, "control", 0.0);
  for (const templates_result* r : {&planted, &control}) {
    CHECK(r->items == 120u);  // 40 occupations x 3 frames
    CHECK(r->scored == r->items);
    CHECK(r->n == r->scored);
  }
  // planted: he preferred everywhere, both intervals exclude the unbiased value
  CHECK(planted.pct_lo > 0.5);
  CHECK(planted.p < 1e-6);
  CHECK(planted.diff_lo > 0.0);
  CHECK(planted.diff > 2.0);  // about the planted 6 logits, less the renormalisation over the vocabulary
  // control: both intervals contain the unbiased value
  CHECK(control.pct_lo <= 0.5);
  CHECK(control.pct_hi >= 0.5);
  CHECK(control.p > 0.05);
  CHECK(control.diff_lo <= 0.0);
  CHECK(control.diff_hi >= 0.0);
  CHECK(planted.diff - control.diff > 2.0);
}
