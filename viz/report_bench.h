// viz/report_bench.h: `glassbox bench` rendered from its tests (probes/bench_run.h): one line per test
// (tokens/s mean and spread) and the peak memory, the --json document, or the rows of the --format table
// (viz/result_tables.h). Renders only.
//
//   gb::viz::bench_report r{model, "none", threads, reps, load_s, gb::probes::bench_peak_rss_mib(), bytes,
//   tests}; std::fputs(gb::viz::bench_text(r).c_str(), stdout);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "probes/bench_run.h"
#include "viz/result_tables.h"

namespace gb::viz {

struct bench_report {
  std::string model, hook;
  int threads = 0, repetitions = 0;
  double load_seconds = 0, peak_rss_mib = 0;
  uint64_t weight_bytes = 0;
  std::vector<probes::bench_test> tests;
};

std::string bench_text(const bench_report& r);
// {model, threads, hook, repetitions, load_seconds, tests: [{test, tokens, tokens_per_second, stddev, runs}],
//  weight_bytes, peak_rss_mib}
std::string bench_json(const bench_report& r);
// One bench_result per test, for bench_table.
std::vector<bench_result> bench_rows(const bench_report& r);

}  // namespace gb::viz
