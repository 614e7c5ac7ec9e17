// The up-front audit estimate (probes/audit_estimate.h): every step from its workload and the measured
// rates, the total their sum; and `glassbox audit` prints it before the first step, `audit --plan` in full.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "probes/audit_estimate.h"
#include "tests/support/data.h"

using namespace gb::probes;

TEST_CASE("audit_estimate_build: each step is its work over its rate, the total their sum") {
  audit_workload w;
  w.load_seconds = 0.5;
  w.file_bytes = 1000000000;   // 1 GB
  w.tensor_bytes = 900000000;  // 0.9 GB
  w.spectral_flops = 8e9;
  w.spectral_matrices = 10;
  w.suite_tokens = {{"crows-pairs", 60000}, {"bbq", 0}};
  audit_rates r{.hash_bytes_per_s = 1e9, .stats_bytes_per_s = 2e9, .flops_per_s = 4e9, .tokens_per_s = 3000};
  const audit_estimate e = audit_estimate_build(w, r, 2);
  REQUIRE(e.steps.size() == 7u);
  const char* names[] = {"load", "scan", "hashes", "statistics", "spectral", "bias crows-pairs", "bias bbq"};
  const double secs[] = {0.5, 0.5, 0.95, 0.225, 1.0, 20.0, 0.0};
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
  CHECK(e.steps[5].basis.find("60000 tokens") != std::string::npos);
  // a model that cannot run text: the suites' time is unknown, not zero, and not in the total
  r.tokens_per_s = 0;
  const audit_estimate n = audit_estimate_build(w, r, 2);
  CHECK(std::isnan(n.steps[5].seconds));
  CHECK(n.total_seconds == doctest::Approx(sum - 20.0));
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
  CHECK(r.tokens_per_s == 0);
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
