// viz/report_stats.cpp: `glassbox stats` as text and JSON (see viz/report_stats.h).
#include "viz/report_stats.h"

#include <cmath>

#include "viz/json_util.h"
#include "viz/text.h"

namespace gb::viz {

namespace {

using ojson = nlohmann::ordered_json;

ojson group_json(const group_stats& g) {
  return {{"key", g.key},
          {"tensors", g.tensors},
          {"count", g.count},
          {"nan", g.nan_count},
          {"inf", g.inf_count},
          {"mean", num<ojson>(g.mom.mean)},
          {"std", num<ojson>(std::sqrt(g.mom.variance()))},
          {"abs_max", num<ojson>(g.abs_max)},
          {"l2", num<ojson>(g.l2)},
          {"kurtosis", num<ojson>(g.mom.excess_kurtosis())}};
}

ojson tensor_json(const tensor_stats& t) {
  ojson e{{"name", t.name},        {"stored_name", t.stored_name},
          {"dtype", t.dtype_name}, {"shape", t.shape},
          {"layer", t.layer},      {"count", t.count}};
  if (!t.note.empty()) e["note"] = t.note;
  if (!t.excluded.empty()) e["excluded"] = t.excluded;
  e["mean"] = num<ojson>(t.mean);
  e["std"] = num<ojson>(t.std);
  e["min"] = num<ojson>(t.min);
  e["max"] = num<ojson>(t.max);
  e["abs_max"] = num<ojson>(t.abs_max);
  e["l2"] = num<ojson>(t.l2);
  e["zero_fraction"] = num<ojson>(t.zero_fraction);
  e["nan"] = t.nan_count;
  e["inf"] = t.inf_count;
  e["kurtosis"] = num<ojson>(t.kurtosis);
  e["outlier_rows"] = t.outlier_rows;
  e["outlier_channels"] = t.outlier_cols;
  e["outlier_row_index"] = t.outlier_row_index;
  e["outlier_channel_index"] = t.outlier_col_index;
  e["values_sha256"] = t.values_hex;
  return e;
}

std::string tensor_line(const tensor_stats& t) {
  if (!t.readable)
    return strf("%-34s %-6s %-14s %s\n", t.name.c_str(), t.dtype_name.c_str(), shape_string(t.shape).c_str(),
                t.note.c_str());
  std::string out =
      strf("%-34s %-6s %-14s %11.4g %11.4g %11.4g %11.4g %11.4g %6.2f%% %8.3g %5lld %5lld%s\n",
           t.name.c_str(), t.dtype_name.c_str(), shape_string(t.shape).c_str(), t.mean, t.std, t.min, t.max,
           t.l2, 100 * t.zero_fraction, t.kurtosis, static_cast<long long>(t.outlier_rows),
           static_cast<long long>(t.outlier_cols), t.excluded.empty() ? "" : "  (excluded)");
  if (!t.note.empty()) out += strf("  note: %s\n", t.note.c_str());
  return out;
}

std::string group_line(const group_stats& g, int key_width) {
  return strf("  %-*s %3zu tensors  mean %10.4g  std %10.4g  abs-max %10.4g  l2 %10.4g\n", key_width,
              g.key.c_str(), g.tensors, g.mom.mean, std::sqrt(g.mom.variance()), g.abs_max, g.l2);
}

}  // namespace

std::string stats_json(const stats_report& r, const std::string& model_path, const std::string& note) {
  ojson j;
  j["model"] = model_path;
  if (!note.empty()) j["note"] = note;
  j["outlier_rule"] = "row/channel holds a value with |x - mean| > 6 std";
  j["anomaly_rule"] = r.anomaly_rule;
  j["tensors"] = ojson::array();
  for (const tensor_stats& t : r.tensors) j["tensors"].push_back(tensor_json(t));
  j["layers"] = ojson::array();
  for (const auto& g : r.layers) j["layers"].push_back(group_json(g));
  j["roles"] = ojson::array();
  for (const auto& g : r.roles) j["roles"].push_back(group_json(g));
  j["findings"] = findings_json<ojson>(r.findings);  // statistics findings carry no byte offset
  return json_text(j);
}

std::string stats_text(const stats_report& r, const std::string& note) {
  std::string out;
  if (!note.empty()) out += strf("note: %s\n", note.c_str());
  out += strf("%-34s %-6s %-14s %11s %11s %11s %11s %11s %7s %8s %5s %5s\n", "tensor", "dtype", "shape",
              "mean", "std", "min", "max", "l2", "zeros", "kurt", "o.row", "o.ch");
  for (const tensor_stats& t : r.tensors) out += tensor_line(t);
  out += "\nper layer:\n";
  for (const auto& g : r.layers) out += group_line(g, 12);
  out += "per role:\n";
  for (const auto& g : r.roles) out += group_line(g, 24);
  out += strf("\nfindings (%zu; outliers: |x - mean| > 6 std; anomalies: %s):\n", r.findings.size(),
              r.anomaly_rule.c_str());
  for (const finding& f : r.findings) out += finding_line(f);
  return out;
}

}  // namespace gb::viz
