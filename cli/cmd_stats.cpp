// glassbox stats: per-tensor statistics (dequantised as ggml), per-layer / per-role summaries, findings.
// The computation is inspect/stats.h, the rendering viz/report_stats.h: this file parses and prints.
#include <boost/program_options.hpp>
#include <cstdio>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/option_lists.h"
#include "cli/options.h"
#include "inspect/findings.h"
#include "inspect/stats.h"
#include "viz/report_stats.h"
#include "viz/result_tables.h"

namespace po = boost::program_options;

namespace {

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
  gb::cli::parse_command(argc, argv, desc);
  if (path.empty()) return gb::cli::missing_positional("MODEL");
  const auto format = gb::cli::table_format_option(table_format);
  const gb::severity level = gb::cli::fail_on_parse(fail_on);
  gb::result<gb::integrity_input> in = gb::integrity_open(path);
  if (!in) return gb::cli::report_error(in.err());
  gb::stats_options so;
  so.threads = threads;
  gb::result<gb::stats_report> rr =
      gb::capture(path, [&] { return gb::stats_compute(in.value().items, so); });
  if (!rr) return gb::cli::report_error(rr.err());
  const gb::stats_report& r = rr.value();
  const int rc = !r.findings.empty() && gb::findings_max(r.findings) >= level ? gb::cli::exit_findings
                                                                              : gb::cli::exit_ok;
  if (as_json)
    gb::cli::print_json_text(gb::viz::stats_json(r, path, in.value().note));
  else if (format)
    std::printf("%s", gb::viz::table_render(gb::viz::stats_table(r), *format).c_str());
  else
    std::printf("%s", gb::viz::stats_text(r, in.value().note).c_str());
  return rc;
}

}  // namespace

GB_COMMAND("stats", "per-tensor statistics, NaN/zero/duplicate/outlier findings", run_stats);
