// glassbox stats: per-tensor statistics (dequantised as ggml), per-layer / per-role summaries, findings.
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "inspect/stats.h"
#include "viz/json_util.h"
#include "viz/result_tables.h"

namespace po = boost::program_options;
using nlohmann::ordered_json;

namespace {

using gb::cli::num;

ordered_json group_json(const gb::group_stats& g) {
  return {{"key", g.key},
          {"tensors", g.tensors},
          {"count", g.count},
          {"nan", g.nan_count},
          {"inf", g.inf_count},
          {"mean", num(g.mom.mean)},
          {"std", num(std::sqrt(g.mom.variance()))},
          {"abs_max", num(g.abs_max)},
          {"l2", num(g.l2)},
          {"kurtosis", num(g.mom.excess_kurtosis())}};
}

int run_stats(int argc, char** argv) {
  po::options_description desc("glassbox stats MODEL [--json] [--fail-on SEVERITY] [--threads N]");
  std::string path, fail_on = "high";
  bool as_json = false;
  int threads = 0;
  std::string table_format;
  desc.add_options()("help,h", "show options")("model", po::value(&path), "model file or folder")(
      "json", po::bool_switch(&as_json), "print one JSON document")(
      "format", po::value(&table_format),
      "print the per-tensor table to paste elsewhere: table, md (Markdown) or csv")(
      "fail-on", po::value(&fail_on)->default_value("high"), "exit 1 when a finding reaches this severity")(
      "threads", po::value(&threads)->default_value(0), "threads (0 = all cores)");
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc);
  (void)vm;
  if (path.empty()) return gb::cli::missing_positional("MODEL");
  const auto format = gb::viz::table_format_parse(table_format);
  if (!table_format.empty() && !format)
    return gb::cli::usage_error("stats", std::string("--format must be ") + gb::viz::k_table_formats);
  auto level = std::optional<gb::severity>(gb::cli::fail_on_parse(fail_on));
  gb::result<gb::integrity_input> in = gb::integrity_open(path);
  if (!in) return gb::cli::report_error(in.err());
  gb::stats_options so;
  so.threads = threads;
  gb::result<gb::stats_report> rr =
      gb::capture(path, [&] { return gb::stats_compute(in.value().items, so); });
  if (!rr) return gb::cli::report_error(rr.err());
  const gb::stats_report& r = rr.value();

  int rc = gb::cli::exit_ok;
  for (const gb::finding& f : r.findings)
    if (f.level >= *level) rc = gb::cli::exit_findings;

  if (as_json) {
    ordered_json j;
    j["model"] = path;
    if (!in.value().note.empty()) j["note"] = in.value().note;
    j["outlier_rule"] = "row/channel holds a value with |x - mean| > 6 std";
    j["anomaly_rule"] = r.anomaly_rule;
    j["tensors"] = ordered_json::array();
    for (const gb::tensor_stats& t : r.tensors) {
      ordered_json e{{"name", t.name},        {"stored_name", t.stored_name},
                     {"dtype", t.dtype_name}, {"shape", t.shape},
                     {"layer", t.layer},      {"count", t.count}};
      if (!t.note.empty()) e["note"] = t.note;
      if (!t.excluded.empty()) e["excluded"] = t.excluded;
      e["mean"] = num(t.mean);
      e["std"] = num(t.std);
      e["min"] = num(t.min);
      e["max"] = num(t.max);
      e["abs_max"] = num(t.abs_max);
      e["l2"] = num(t.l2);
      e["zero_fraction"] = num(t.zero_fraction);
      e["nan"] = t.nan_count;
      e["inf"] = t.inf_count;
      e["kurtosis"] = num(t.kurtosis);
      e["outlier_rows"] = t.outlier_rows;
      e["outlier_channels"] = t.outlier_cols;
      e["outlier_row_index"] = t.outlier_row_index;
      e["outlier_channel_index"] = t.outlier_col_index;
      e["values_sha256"] = t.values_hex;
      j["tensors"].push_back(e);
    }
    j["layers"] = ordered_json::array();
    for (const auto& g : r.layers) j["layers"].push_back(group_json(g));
    j["roles"] = ordered_json::array();
    for (const auto& g : r.roles) j["roles"].push_back(group_json(g));
    j["findings"] = ordered_json::array();
    for (const gb::finding& f : r.findings)
      j["findings"].push_back({{"severity", gb::severity_name(f.level)},
                               {"code", f.code},
                               {"where", f.where},
                               {"message", f.message}});
    gb::cli::print_json(j);
    return rc;
  }

  if (format) {
    std::printf("%s", gb::viz::table_render(gb::viz::stats_table(r), *format).c_str());
    return rc;
  }
  if (!in.value().note.empty()) std::printf("note: %s\n", in.value().note.c_str());
  std::printf("%-34s %-6s %-14s %11s %11s %11s %11s %11s %7s %8s %5s %5s\n", "tensor", "dtype", "shape",
              "mean", "std", "min", "max", "l2", "zeros", "kurt", "o.row", "o.ch");
  for (const gb::tensor_stats& t : r.tensors) {
    if (!t.readable) {
      std::printf("%-34s %-6s %-14s %s\n", t.name.c_str(), t.dtype_name.c_str(),
                  gb::shape_string(t.shape).c_str(), t.note.c_str());
      continue;
    }
    std::printf("%-34s %-6s %-14s %11.4g %11.4g %11.4g %11.4g %11.4g %6.2f%% %8.3g %5lld %5lld%s\n",
                t.name.c_str(), t.dtype_name.c_str(), gb::shape_string(t.shape).c_str(), t.mean, t.std, t.min,
                t.max, t.l2, 100 * t.zero_fraction, t.kurtosis, static_cast<long long>(t.outlier_rows),
                static_cast<long long>(t.outlier_cols), t.excluded.empty() ? "" : "  (excluded)");
    if (!t.note.empty()) std::printf("  note: %s\n", t.note.c_str());
  }
  std::printf("\nper layer:\n");
  for (const auto& g : r.layers)
    std::printf("  %-12s %3zu tensors  mean %10.4g  std %10.4g  abs-max %10.4g  l2 %10.4g\n", g.key.c_str(),
                g.tensors, g.mom.mean, std::sqrt(g.mom.variance()), g.abs_max, g.l2);
  std::printf("per role:\n");
  for (const auto& g : r.roles)
    std::printf("  %-24s %3zu tensors  mean %10.4g  std %10.4g  abs-max %10.4g  l2 %10.4g\n", g.key.c_str(),
                g.tensors, g.mom.mean, std::sqrt(g.mom.variance()), g.abs_max, g.l2);
  std::printf("\nfindings (%zu; outliers: |x - mean| > 6 std; anomalies: %s):\n", r.findings.size(),
              r.anomaly_rule.c_str());
  for (const gb::finding& f : r.findings)
    std::printf("  [%s] %s %s: %s\n", gb::severity_name(f.level), f.code.c_str(), f.where.c_str(),
                f.message.c_str());
  return rc;
}

}  // namespace

GB_COMMAND("stats", "per-tensor statistics, NaN/zero/duplicate/outlier findings", run_stats);
