// bias-diff: paired comparison of two models on the same bias items (probes/bias_diff.h).
// Pure cases on hand-made records (pairing, McNemar counts, flips); CLI cases on synth models: a model
// against itself (exactly 0, p = 1), a planted ' he' bias at two strengths against its unplanted control
// (larger drift in the planted direction, significant), f16 vs q8_0 and GGUF vs HF folder of the same weights
// (small, not significant); two models with different tokenizers and vocabularies (paired by item, said so).
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "probes/bias_diff.h"
#include "probes/bias_sample.h"
#include "probes/lm_scorer.h"
#include "probes/session.h"
#include "tests/support/data.h"

using json = nlohmann::json;

namespace {

gb::probes::item_record pair_record(const std::string& id, const std::string& group, double ll_more,
                                    double ll_less) {
  return {id,
          group,
          "stereo",
          {{"ll_more", ll_more},
           {"ll_less", ll_less},
           {"likelihood_diff", std::fabs(ll_more - ll_less)},
           {"pct_stereotype", ll_more > ll_less ? 1.0 : 0.0}}};
}

gb::probes::suite_result crows(const std::vector<gb::probes::item_record>& recs) {
  gb::probes::suite_result r;
  r.suite = "crows-pairs";
  r.variant = "harness";
  r.seed = 1;
  r.resamples = 0;
  r.records = recs;
  return gb::probes::suite_merge({r});
}

const gb::probes::metric_change* find(const gb::probes::suite_change& c, const std::string& g,
                                      const std::string& m) {
  for (const auto& x : c.metrics)
    if (x.group == g && x.metric == m) return &x;
  return nullptr;
}

}  // namespace

TEST_CASE("mcnemar_exact: two-sided exact binomial on the discordant items") {
  CHECK(gb::probes::mcnemar_exact(0, 0) == 1.0);
  CHECK(gb::probes::mcnemar_exact(1, 9) ==
        doctest::Approx(22.0 / 1024.0).epsilon(1e-12));  // 2 * (1 + 10) / 2^10
  CHECK(gb::probes::mcnemar_exact(5, 5) == doctest::Approx(1.0));
  CHECK(gb::probes::mcnemar_exact(0, 12) == doctest::Approx(2.0 / 4096.0).epsilon(1e-12));
}

TEST_CASE("bias_diff pairs records by item, counts discordant items and lists flips by likelihood change") {
  std::vector<gb::probes::item_record> a, b;
  for (int i = 0; i < 40; ++i) {
    const std::string g = i % 2 ? "gender" : "race";
    a.push_back(
        pair_record("p" + std::to_string(i), g, -10.0 - 0.1 * i, -11.0));  // stereo preferred while i < 10
    b.push_back(pair_record("p" + std::to_string(i), g, -10.0 - 0.1 * i + (i % 2 ? 3.0 : 0.0), -11.0));
  }
  b.pop_back();  // p39 skipped by the derived model: left out of both
  const auto base = crows(a), derived = crows(b);
  gb::probes::diff_options o;
  o.resamples = 200;
  o.top = 3;
  const gb::probes::suite_change c = gb::probes::bias_diff(base, derived, o, {{"p11", "eleven"}});
  CHECK(c.error.empty());
  CHECK(c.paired == 39u);
  CHECK(c.base_records == 40u);
  CHECK(c.derived_records == 39u);
  // gender items (odd i) gained 3 nats for the stereotypical sentence: i = 11, 13, ..., 37 flip 0 -> 1
  const auto* pct = find(c, "overall", "pct_stereotype");
  REQUIRE(pct);
  CHECK(pct->outcome == "pct_stereotype");
  CHECK(pct->base_only == 0u);
  CHECK(pct->derived_only == 14u);
  CHECK(pct->p_value == doctest::Approx(gb::probes::mcnemar_exact(0, 14)));
  CHECK(pct->significant);
  CHECK(pct->n == 39u);
  CHECK(pct->base == doctest::Approx(10.0 / 39.0));
  CHECK(pct->diff == doctest::Approx(14.0 / 39.0));
  CHECK(pct->ci.lo > 0.0);
  const auto* race = find(c, "race", "pct_stereotype");
  REQUIRE(race);
  CHECK(race->diff == 0.0);
  CHECK(race->ci.lo == 0.0);
  CHECK(race->ci.hi == 0.0);
  CHECK(race->p_value == 1.0);
  CHECK_FALSE(race->significant);
  CHECK(c.flipped_total == 14u);
  REQUIRE(c.flipped.size() == 3u);
  for (const auto& f : c.flipped) CHECK(f.derived_margin - f.base_margin == doctest::Approx(3.0));
  CHECK(c.flipped[0].id == "p11");  // all changes are equal: the dataset order is kept
  CHECK(c.flipped[0].text == "eleven");
  // different rules are not compared
  auto other = derived;
  other.variant = "bias-bench";
  CHECK_FALSE(gb::probes::bias_diff(base, other, o).error.empty());
}

namespace {

json diff_json(const std::string& base, const std::string& derived, const std::string& extra = "") {
  std::string out;
  REQUIRE(gb::test::run_glassbox("bias-diff '" + base + "' '" + derived +
                                     "' --suite templates --json --threads 2 --seed 1 --resamples 400 " +
                                     extra,
                                 &out) == 0);
  json j = json::parse(out);
  REQUIRE(j["bias_drift"].size() == 1u);
  return j["bias_drift"][0];
}

const json& metric_of(const json& s, const std::string& group, const std::string& name) {
  for (const json& m : s["metrics"])
    if (m["group"] == group && m["metric"] == name) return m;
  FAIL("no metric " << name << " in group " << group);
  static json none;
  return none;
}

std::string synth(const std::string& dir, const std::string& name, const std::string& args) {
  const std::string path = dir + "/" + name;
  std::string out;
  REQUIRE(gb::test::run_glassbox(
              "synth --arch llama --layers 2 --dim 64 --heads 4 --vocab 512 --ctx 256 --seed 36 " + args +
                  " -o '" + path + "'",
              &out) == 0);
  return path;
}

}  // namespace

TEST_CASE("bias-diff of a model against itself: every difference exactly 0, every p = 1, nothing flipped") {
  const std::string dir = gb::test::temp_dir("bias_diff_self");
  const std::string m = synth(dir, "m.gguf", "--bias-token he --bias-scale 2");
  const json s = diff_json(m, m);
  CHECK(s["paired"] == 120);
  CHECK(s["tokenizers_differ"] == false);
  CHECK(s["dataset_sha256"] == "builtin");
  size_t tested = 0;
  for (const json& x : s["metrics"]) {
    CHECK(x["diff"].get<double>() == 0.0);
    CHECK(x["diff_ci95"][0].get<double>() == 0.0);
    CHECK(x["diff_ci95"][1].get<double>() == 0.0);
    CHECK(x["significant"] == false);
    if (x.contains("mcnemar")) {
      ++tested;
      CHECK(x["mcnemar"]["p_value"].get<double>() == 1.0);
    }
  }
  CHECK(tested >= 2u);  // overall and each template group
  CHECK(s["flipped"]["total"] == 0);
}

TEST_CASE("bias-diff: a planted ' he' bias drifts further at the larger strength, significantly") {
  const std::string dir = gb::test::temp_dir("bias_diff_planted");
  const std::string control = synth(dir, "control.gguf", "--bias-token he --bias-scale 0");
  const std::string weak = synth(dir, "weak.gguf", "--bias-token he --bias-scale 2");
  const std::string strong = synth(dir, "strong.gguf", "--bias-token he --bias-scale 6");
  const json w = diff_json(control, weak), s = diff_json(control, strong);
  const json &wd = metric_of(w, "overall", "mean_logprob_diff"),
             &sd = metric_of(s, "overall", "mean_logprob_diff");
  const json &wp = metric_of(w, "overall", "pct_first_preferred"),
             &sp = metric_of(s, "overall", "pct_first_preferred");
  MESSAGE("scale 2: mean diff " << wd["diff"] << " " << wd["diff_ci95"] << ", pct " << wp["diff"]
                                << " McNemar " << wp["mcnemar"]);
  MESSAGE("scale 6: mean diff " << sd["diff"] << " " << sd["diff_ci95"] << ", pct " << sp["diff"]
                                << " McNemar " << sp["mcnemar"]);
  // the planted direction: ' he' (the first word) gains
  CHECK(wd["diff"].get<double>() > 0.0);
  CHECK(sd["diff"].get<double>() > wd["diff"].get<double>() + 1.0);
  CHECK(wd["diff_ci95"][0].get<double>() > 0.0);
  CHECK(sd["diff_ci95"][0].get<double>() > wd["diff_ci95"][1].get<double>());
  CHECK(sp["diff"].get<double>() > 0.0);
  CHECK(sp["diff"].get<double>() >= wp["diff"].get<double>());
  CHECK(sp["mcnemar"]["base_only"] == 0);  // no template moved towards ' she'
  CHECK(sp["mcnemar"]["p_value"].get<double>() < 1e-6);
  CHECK(sp["significant"] == true);
  CHECK(sd["significant"] == true);
  CHECK(s["flipped"]["total"].get<int>() == sp["mcnemar"]["derived_only"].get<int>());
}

TEST_CASE("bias-diff --limit pairs the same stratified sample that bias --limit scores") {
  const std::string dir = gb::test::temp_dir("bias_diff_limit");
  const std::string control = synth(dir, "control.gguf", "--bias-token he --bias-scale 0");
  const std::string strong = synth(dir, "strong.gguf", "--bias-token he --bias-scale 6");
  auto ids = [&](const std::string& limit) {
    std::string out;
    REQUIRE(gb::test::run_glassbox("bias '" + strong + "' --suite templates --seed 1 --resamples 0 --json " +
                                       "--records" + limit,
                                   &out) == 0);
    const json doc = json::parse(out);
    std::vector<std::string> v;
    for (const json& r : doc["bias"][0]["records"]) v.push_back(r["id"].get<std::string>());
    return v;
  };
  const std::vector<std::string> all = ids(""), picked = ids(" --limit 30");
  REQUIRE(picked.size() == 30u);
  REQUIRE(all.size() > 30u);
  const std::set<std::string> sample(picked.begin(), picked.end());
  // a stratified sample, not the first 30 templates
  CHECK(sample != std::set<std::string>(all.begin(), all.begin() + 30));
  const json s = diff_json(control, strong, "--limit 30 --top 1000");
  CHECK(s["paired"] == 30);
  REQUIRE(s["flipped"]["total"].get<int>() > 0);
  for (const json& f : s["flipped"]["top"]) {
    INFO(f["id"]);
    CHECK(sample.count(f["id"].get<std::string>()) == 1u);
  }
}

TEST_CASE(
    "bias-diff across formats of the same weights: f16 vs q8_0 GGUF and GGUF vs HF folder drift little") {
  const std::string dir = gb::test::temp_dir("bias_diff_quant");
  const std::string args = "--bias-token he --bias-scale 2 ";
  const std::string f16 = synth(dir, "f16.gguf", args + "--dtype f16");
  const std::string q8 = synth(dir, "q8.gguf", args + "--dtype q8_0");
  const std::string hf = synth(dir, "hf", args + "--dtype f16 --format hf");
  for (const auto& [name, derived] : {std::pair<std::string, std::string>{"q8_0", q8}, {"hf", hf}}) {
    const json s = diff_json(f16, derived);
    const json &d = metric_of(s, "overall", "mean_logprob_diff"),
               &p = metric_of(s, "overall", "pct_first_preferred");
    MESSAGE("f16 -> " << name << ": mean log p(he) - log p(she) diff " << d["diff"] << " " << d["diff_ci95"]
                      << "; pct diff " << p["diff"] << " McNemar " << p["mcnemar"] << "; tokenizers differ "
                      << s["tokenizers_differ"]);
    CHECK(s["paired"] == 120);
    CHECK(s["tokenizers_differ"] == false);
    // no template changes its preferred word: McNemar finds nothing, the headline is unchanged
    CHECK(p["diff"].get<double>() == 0.0);
    CHECK(p["mcnemar"]["p_value"].get<double>() == 1.0);
    CHECK(p["significant"] == false);
    CHECK(s["flipped"]["total"] == 0);
    // the log-prob margin moves by rounding only: q8_0 by ~1e-3 nats (consistently across items, so its
    // paired interval may exclude 0: a real but negligible drift, 1000x below the planted one), the f16 HF
    // folder by float rounding of the same weights
    CHECK(std::fabs(d["diff"].get<double>()) < (name == "hf" ? 1e-6 : 0.01));
  }
}

TEST_CASE("audit --baseline adds a Bias drift section to report.json and report.html") {
  const std::string dir = gb::test::temp_dir("bias_diff_audit");
  const std::string base = synth(dir, "base.gguf", "--bias-token he --bias-scale 0");
  const std::string derived = synth(dir, "derived.gguf", "--bias-token he --bias-scale 4");
  std::string out;
  REQUIRE(gb::test::run_glassbox("audit '" + derived + "' --baseline '" + base +
                                     "' --suites templates --no-spectral -o '" + dir +
                                     "/rep' --resamples 200",
                                 &out) == 0);
  const json j = json::parse(gb::test::read_text(dir + "/rep/report.json"));
  REQUIRE(j["bias_drift"].size() == 1u);
  const json& s = j["bias_drift"][0];
  CHECK(s["suite"] == "templates");
  CHECK(s["paired"] == 120);
  const json& d = metric_of(s, "overall", "mean_logprob_diff");
  CHECK(d["diff"].get<double>() > 2.0);
  CHECK(d["significant"] == true);
  const std::string html = gb::test::read_text(dir + "/rep/report.html");
  CHECK(html.find("<h2 id=\"bias-drift\">Bias drift</h2>") != std::string::npos);
  CHECK(html.find("no significant change") == std::string::npos);
}

TEST_CASE(
    "bias-diff across tokenizers: stories260K vs a GPT-2-shaped synth with another vocabulary pair by item") {
  GB_DATA(base, "models/stories260K/stories260K.gguf");
  const std::string dir = gb::test::temp_dir("bias_diff_tokenizers");
  std::string wrote;
  const std::string derived = dir + "/gpt2-2048.gguf";
  REQUIRE(gb::test::run_glassbox(
              "synth --arch gpt2 --layers 2 --dim 64 --heads 4 --vocab 2048 --ctx 256 --seed 5 -o '" +
                  derived + "'",
              &wrote) == 0);
  // each model on its own: the per-item records the paired comparison must line up by item id
  auto sb = gb::probes::session_open(base);
  auto sd = gb::probes::session_open(derived);
  REQUIRE(sb);
  REQUIRE(sd);
  gb::probes::engine_scorer scb(sb.value()), scd(sd.value());
  CHECK(scb.encode("The carpenter said that he") != scd.encode("The carpenter said that he"));
  gb::probes::sentence_cache cb(scb), cd(scd);
  gb::probes::bias_options o;
  o.resamples = 0;
  std::map<std::string, std::string> texts;
  const gb::probes::suite_result rb = gb::probes::suite_run_named(cb, "templates", "", o, &texts);
  const gb::probes::suite_result rd = gb::probes::suite_run_named(cd, "templates", "", o);
  CHECK_FALSE(gb::probes::bias_tokenizers_agree(scb, scd, texts));
  std::map<std::string, std::pair<double, double>> own;  // id -> (base diff, derived diff)
  for (const auto& x : rb.records) own[x.id].first = x.value("diff");
  for (const auto& x : rd.records) own[x.id].second = x.value("diff");
  gb::probes::diff_options d;
  d.resamples = 50;
  d.top = 1000;
  const gb::probes::suite_change c = gb::probes::bias_diff(rb, rd, d, texts);
  CHECK(c.paired == 120u);
  REQUIRE(c.flipped.size() > 10u);  // the two unrelated models disagree on many items
  for (const auto& f : c.flipped) {
    CHECK(f.base_margin == own.at(f.id).first);
    CHECK(f.derived_margin == own.at(f.id).second);
    CHECK(f.text.find(f.id.substr(0, f.id.find('#'))) != std::string::npos);  // the item's own sentences
  }
  // the CLI says so, in its summary and its JSON
  const json s = diff_json(base, derived);
  CHECK(s["paired"] == 120);
  CHECK(s["tokenizers_differ"] == true);
  std::string text;
  REQUIRE(gb::test::run_glassbox(
              "bias-diff '" + base + "' '" + derived + "' --suite templates --resamples 50", &text) == 0);
  CHECK(text.find("the tokenizers differ: items are aligned by text") != std::string::npos);
}
