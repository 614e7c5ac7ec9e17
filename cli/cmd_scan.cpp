// glassbox scan: is it safe to open? Scans files and folders without executing anything.
//
// Exit codes: 1 when a finding reaches --fail-on (default dangerous = critical) or some file is NOT VERIFIED
// (a *.not_verified finding: part of it was not understood, at any --fail-on); otherwise 3 when some file
// could not be scanned at all; otherwise 0. A dangerous finding wins over a skipped file: it is the more
// urgent news, and the report still lists what was skipped. Each file's line starts with its verdict:
// DANGEROUS, NOT VERIFIED, SUSPICIOUS or CLEAN.
#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "inspect/scan.h"
#include "viz/report_scan.h"

namespace po = boost::program_options;

namespace {

struct scan_args {
  std::vector<std::string> paths;
  bool as_json = false;
  std::string sarif_path, fail_on_text = "dangerous";
  gb::scan_options so;
};

// The options shown by --help and the hidden positional PATH...
po::options_description scan_option_table(scan_args& a, po::options_description& desc) {
  desc.add_options()("help,h", "show options")("json", po::bool_switch(&a.as_json),
                                               "print one JSON document")("sarif", po::value(&a.sarif_path),
                                                                          "also write SARIF 2.1.0 to FILE")(
      "fail-on", po::value(&a.fail_on_text)->default_value("dangerous"),
      "exit 1 when a finding reaches this level: dangerous|suspicious|medium|low|innocuous (or "
      "critical|high|info)")("threads", po::value(&a.so.threads)->default_value(0),
                             "threads (0 = all cores): files in parallel, reported in path order");
  po::options_description hidden;
  hidden.add_options()("path", po::value(&a.paths));
  po::options_description every("glassbox scan PATH... [--json] [--sarif FILE] [--fail-on LEVEL]");
  every.add(desc).add(hidden);
  return every;
}

// 1 on a finding at --fail-on or not verified; else 3 when a file could not be scanned; else 0.
int scan_exit_code(const gb::scan_report& r, gb::severity fail_on) {
  if (gb::scan_fails(r, fail_on)) return gb::cli::exit_findings;
  return r.count(gb::scan_status::none) > 0 ? gb::cli::exit_input : gb::cli::exit_ok;
}

int run_scan(int argc, char** argv) {
  scan_args args;
  po::options_description desc(
      "glassbox scan PATH... [--json] [--sarif FILE] [--fail-on SEVERITY] [--threads N]");
  po::options_description every = scan_option_table(args, desc);
  po::variables_map vm = gb::cli::parse_command(argc, argv, every, {{"path", -1}});
  if (vm.count("help")) return gb::cli::print_help(desc);
  if (args.paths.empty()) return gb::cli::missing_positional("PATH");
  const gb::severity fail_on = gb::cli::fail_on_parse(args.fail_on_text);
  gb::cli::check_output_file("sarif", args.sarif_path);
  gb::scan_report r = gb::scan_paths(args.paths, args.so);
  const int code = scan_exit_code(r, fail_on);
  if (!args.sarif_path.empty()) {
    std::ofstream out(args.sarif_path, std::ios::binary | std::ios::trunc);
    out << gb::viz::scan_sarif(r) << "\n";
    if (!out) {
      std::fprintf(stderr, "glassbox scan: cannot write %s\n", args.sarif_path.c_str());
      return gb::cli::exit_usage;
    }
  }
  if (args.as_json)
    gb::cli::print_json_text(gb::viz::scan_json(r, code));
  else
    std::printf("%s", gb::viz::scan_text(r, fail_on).c_str());
  return code;
}

}  // namespace

GB_COMMAND("scan", "is it safe to open? pickle imports, zip/structure checks, templates (never executes)",
           run_scan);
