// viz/result_tables.cpp: command results as text tables (see result_tables.h).
#include "viz/result_tables.h"

#include <cmath>
#include <cstdio>

#include "inspect/summary.h"
#include "viz/report_bias.h"
#include "viz/svg_chart.h"

namespace gb::viz {
namespace {

std::string num(double v, int precision = 4) {
  return std::isfinite(v) ? fmt_num(v, precision) : std::string();
}

}  // namespace

text_table stats_table(const stats_report& r) {
  text_table t{{"tensor", "dtype", "shape", "mean", "std", "min", "max", "l2", "zeros %", "kurtosis",
                "outlier rows", "outlier cols", "note"},
               {},
               {false, false, false, true, true, true, true, true, true, true, true, true, false}};
  for (const auto& s : r.tensors) {
    std::string note = s.readable ? s.excluded : s.note;
    if (!s.readable) {
      t.rows.push_back(
          {s.name, s.dtype_name, shape_string(s.shape), "", "", "", "", "", "", "", "", "", note});
      continue;
    }
    t.rows.push_back({s.name, s.dtype_name, shape_string(s.shape), num(s.mean), num(s.std), num(s.min),
                      num(s.max), num(s.l2), num(100 * s.zero_fraction, 3), num(s.kurtosis, 3),
                      std::to_string(s.outlier_rows), std::to_string(s.outlier_cols), note});
  }
  return t;
}

text_table bias_table(const std::vector<probes::suite_result>& results) {
  text_table t{{"suite", "variant", "group", "n", "metric", "value", "ci95 lo", "ci95 hi", "p", "reading"},
               {},
               {false, false, false, true, false, true, true, true, true, false}};
  for (const auto& r : results) {
    if (!r.error.empty()) {
      t.rows.push_back({r.suite, r.variant, "", "", "", "", "", "", "", "not run: " + r.error});
      continue;
    }
    for (const auto& g : r.groups)
      for (const auto& m : g.metrics) {
        const bool ci = m.has_ci && g.n > 1;  // one item has no interval
        t.rows.push_back({r.suite, r.variant, g.group, std::to_string(g.n), m.name, num(m.value),
                          ci ? num(m.ci.lo) : "", ci ? num(m.ci.hi) : "",
                          m.p_value >= 0 ? num(m.p_value, 3) : "", bias_reading(r, m)});
      }
  }
  return t;
}

text_table diff_table(const diff_report& d, bool all) {
  text_table t{{"tensor", "status", "dtype A", "dtype B", "rel_l2", "cosine", "max |a-b|", "expected"},
               {},
               {false, false, false, false, true, true, true, true}};
  for (const auto& x : d.tensors) {
    if (!all && x.status == tensor_delta::identical) continue;
    t.rows.push_back({x.name, tensor_delta_name(x.status), x.dtype_a, x.dtype_b, num(x.rel_l2),
                      num(x.cosine, 8), num(x.max_abs), num(x.expected, 3)});
  }
  return t;
}

text_table bench_table(const std::vector<bench_result>& results) {
  text_table t{{"model", "threads", "hook", "test", "t/s", "stddev", "runs"},
               {},
               {false, true, false, false, true, true, true}};
  char buf[64];
  auto fixed2 = [&](double v) {
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return std::string(buf);
  };
  for (const auto& r : results)
    t.rows.push_back({r.model, std::to_string(r.threads), r.hook, r.test, fixed2(r.tokens_per_second),
                      fixed2(r.stddev), std::to_string(r.runs)});
  return t;
}

}  // namespace gb::viz
