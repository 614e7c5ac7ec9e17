// The up-front audit estimate (probes/audit_estimate.h): every step from its workload and the measured
// rates, the total their sum; and `glassbox audit` prints it before the first step, `audit --plan` in full.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "probes/audit_estimate.h"
#include "probes/audit_run.h"
#include "tests/support/data.h"

using namespace gb::probes;

TEST_CASE("audit_estimate_build: each step is its work over its rate, the total their sum") {
  audit_workload w;
  w.load_seconds = 0.5;
  w.file_bytes = 1000000000;   // 1 GB
  w.tensor_bytes = 900000000;  // 0.9 GB
  w.spectral_flops = 8e9;
  w.spectral_matrices = 10;
  // crows-pairs: 20000 positions one at a time at 1000 per CPU s, 30000 packed at 3000: 30 CPU s on 2 threads
  w.suites = {{"crows-pairs", 60000, 50000, 30000}, {"bbq", 0, 0, 0}};
  audit_rates r{.hash_bytes_per_s = 1e9,
                .stats_bytes_per_s = 2e9,
                .flops_per_s = 4e9,
                .single_per_cpu_s = 1000,
                .packed_per_cpu_s = 3000,
                .tokens_wall_per_s = 1500};
  const audit_estimate e = audit_estimate_build(w, r, 2);
  REQUIRE(e.steps.size() == 7u);
  const char* names[] = {"load", "scan", "hashes", "statistics", "spectral", "bias crows-pairs", "bias bbq"};
  const double secs[] = {0.5, 0.5, 0.95, 0.225, 1.0, 15.0, 0.0};
  double sum = 0;
  for (size_t i = 0; i < 7; ++i) {
    INFO(names[i]);
    CHECK(e.steps[i].step == names[i]);
    CHECK(e.steps[i].seconds == doctest::Approx(secs[i]));
    CHECK(!e.steps[i].basis.empty());
    sum += secs[i];
  }
  CHECK(e.total_seconds == doctest::Approx(sum));
  CHECK(e.steps[2].basis.find("x 2 threads") != std::string::npos);
  CHECK(e.steps[5].basis.find("50000 of 60000 positions computed (30000 packed)") != std::string::npos);
  // a model that cannot run text: the suites' time is unknown, not zero, and not in the total
  r.single_per_cpu_s = r.packed_per_cpu_s = 0;
  const audit_estimate n = audit_estimate_build(w, r, 2);
  CHECK(std::isnan(n.steps[5].seconds));
  CHECK(n.total_seconds == doctest::Approx(sum - 15.0));
  CHECK(duration_text(n.steps[5].seconds) == "unknown");
  CHECK(duration_text(12.34) == "12.3 s");
  CHECK(duration_text(3723) == "1h02m03s");
  // --no-spectral: no spectral time
  w.spectral = false;
  CHECK(audit_estimate_build(w, r, 2).steps[4].seconds == 0);
}

TEST_CASE("audit_rates_measure: positive rates; none for tokens without a model") {
  bias_options o;
  const audit_rates r = audit_rates_measure(nullptr, o, 0.0);
  CHECK(r.hash_bytes_per_s > 0);
  CHECK(r.stats_bytes_per_s > 0);
  CHECK(r.flops_per_s > 0);
  CHECK(r.single_per_cpu_s == 0);
  CHECK(r.packed_per_cpu_s == 0);
}

TEST_CASE("glassbox audit prints the whole estimate before the first step; audit --plan prints it too") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  const std::string dir = gb::test::temp_dir("audit_estimate");
  std::string out;
  REQUIRE(gb::test::run_glassbox(
              "audit " + model + " -o " + dir + " --suite templates --resamples 50 --threads 1", &out,
              true) == 0);
  const size_t at = out.find("estimated time");
  REQUIRE(at != std::string::npos);
  for (const char* step : {"load", "scan", "hashes", "statistics", "spectral", "bias templates", "total"})
    CHECK(out.find(std::string("  ") + step, at) != std::string::npos);
  CHECK(at < out.find("glassbox audit of"));  // before the results
  out.clear();
  REQUIRE(gb::test::run_glassbox("audit " + model + " --plan --suite templates --threads 1", &out, true) ==
          0);
  CHECK(out.find("estimated time") != std::string::npos);
  CHECK(out.find("bias templates") != std::string::npos);
  CHECK(out.find("32 ranks") != std::string::npos);
}

TEST_CASE("audit plan: each suite's positions, scored and computed, are the run's own (--json cost)") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(data, "bias");
  auto s = session_open(model);
  REQUIRE(s);
  audit_options o;
  o.suites = audit_suite_names();
  o.data_root = data;
  o.limit = 9;
  o.resamples = 20;
  audit_data planned, run;
  const audit_estimate e = audit_estimate_of(s.value(), 0, o, 0.0, planned);
  (void)audit_probe(run, s.value(), o);
  REQUIRE(planned.bias.size() == o.suites.size());
  REQUIRE(run.bias.size() == o.suites.size());
  for (size_t i = 0; i < o.suites.size(); ++i) {
    INFO(o.suites[i]);
    CHECK(planned.bias[i].suite == run.bias[i].suite);
    CHECK(planned.bias[i].items == run.bias[i].items);
    CHECK(planned.bias[i].tokens > 0);
    CHECK(planned.bias[i].tokens == run.bias[i].tokens);
    CHECK(planned.bias[i].tokens_computed == run.bias[i].tokens_computed);
  }
  // the rates are measured (after the warm-up), the suites' seconds finite and positive; every suite's
  // positions are computed in packed passes (the sentences and BBQ's and the templates' continuations)
  size_t suites = 0;
  for (const audit_step& st : e.steps)
    if (st.step.rfind("bias ", 0) == 0) {
      INFO(st.step << ": " << st.basis);
      CHECK(std::isfinite(st.seconds));
      CHECK(st.seconds > 0);
      REQUIRE(suites < planned.bias.size());
      const std::string computed = std::to_string(planned.bias[suites].tokens_computed);
      CHECK(st.basis.rfind(computed + " of " + std::to_string(planned.bias[suites].tokens) +
                               " positions computed (" + computed + " packed)",
                           0) == 0);
      ++suites;
    }
  CHECK(suites == o.suites.size());
}
