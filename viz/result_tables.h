// viz/result_tables.h: the results users paste elsewhere, as one text_table each (rendered by
// table_render as an aligned table, Markdown or CSV: `--format table|md|csv` on bench, stats, bias and diff).
//
//   auto t = gb::viz::stats_table(report);                         // one row per tensor
//   std::printf("%s", gb::viz::table_render(t, gb::viz::table_format::md).c_str());
//   gb::viz::bias_table(results);                                  // one row per suite x group x metric
//   gb::viz::diff_table(report, /*all=*/false);                    // one row per changed tensor
#pragma once

#include <vector>

#include "inspect/diff.h"
#include "inspect/stats.h"
#include "probes/bias.h"
#include "viz/text_table.h"

namespace gb::viz {

// tensor, dtype, shape, mean, std, min, max, l2, zeros %, kurtosis, outlier rows / columns, note.
text_table stats_table(const stats_report& r);
// suite, variant, group, n, metric, value, 95% interval ends, p, reading (viz/report_bias.h). Suites that
// did not run are one row with the reason in the reading column.
text_table bias_table(const std::vector<probes::suite_result>& results);

// One timed test of `glassbox bench` (pp512, tg128 ...).
struct bench_result {
  std::string model, hook, test;
  int threads = 0, runs = 0;
  double tokens_per_second = 0, stddev = 0;
};
// model, threads, hook, test, t/s, stddev, runs (llama-bench's columns where they exist).
text_table bench_table(const std::vector<bench_result>& results);

// tensor, status, dtype A / B, rel_l2, cosine, max |a - b|, expected relative error; identical tensors only
// with `all`.
text_table diff_table(const diff_report& d, bool all);

}  // namespace gb::viz
