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
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "inspect/scan.h"

namespace po = boost::program_options;

namespace {

using gb::cli::json;

const char* sarif_level(gb::severity s) {
  if (s >= gb::severity::high) return "error";
  if (s == gb::severity::medium) return "warning";
  return "note";
}

const char* scan_word(gb::severity s) {
  switch (s) {
    case gb::severity::critical:
      return "dangerous";
    case gb::severity::high:
      return "suspicious";
    default:
      return gb::severity_name(s);
  }
}

json sarif(const gb::scan_report& r) {
  json rules = json::array();
  std::map<std::string, size_t> rule_index;
  json results = json::array();
  for (const auto& f : r.files)
    for (const auto& x : f.findings) {
      if (!rule_index.count(x.code)) {
        rule_index[x.code] = rules.size();
        rules.push_back({{"id", x.code}, {"shortDescription", {{"text", x.code}}}});
      }
      json loc = {{"artifactLocation", {{"uri", f.path}}}};
      if (x.offset != UINT64_MAX) loc["region"] = {{"byteOffset", x.offset}};
      json res = {{"ruleId", x.code},
                  {"ruleIndex", rule_index[x.code]},
                  {"level", sarif_level(x.level)},
                  {"message", {{"text", x.message + (x.where != f.path ? " [" + x.where + "]" : "")}}},
                  {"locations", json::array({{{"physicalLocation", loc}}})},
                  {"properties", {{"severity", gb::severity_name(x.level)}}}};
      results.push_back(std::move(res));
    }
  json notifications = json::array();
  for (const auto& f : r.files)
    if (f.status != gb::scan_status::full)
      notifications.push_back(
          {{"level", f.status == gb::scan_status::none ? "error" : "warning"},
           {"message", {{"text", f.path + ": " + gb::scan_status_name(f.status) + ": " + f.reason}}}});
  json run = {
      {"tool",
       {{"driver",
         {{"name", "glassbox"},
          {"version", GB_VERSION},
          {"informationUri", "https://example.invalid/glassbox"},
          {"rules", rules}}}}},
      {"results", results},
      {"invocations",
       json::array({{{"executionSuccessful", true}, {"toolExecutionNotifications", notifications}}})}};
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs", json::array({run})}};
}

json report_json(const gb::scan_report& r, int exit_code) {
  json files = json::array();
  for (const auto& f : r.files) {
    json fj = {{"path", f.path},
               {"format", gb::file_format_name(f.format)},
               {"kind", f.kind},
               {"size", f.size},
               {"status", f.status == gb::scan_status::full      ? "full"
                          : f.status == gb::scan_status::partial ? "partial"
                                                                 : "none"},
               {"reason", f.reason},
               {"worst", gb::severity_name(f.worst())},
               {"verdict", gb::scan_verdict_name(f.verdict())},
               {"findings", gb::cli::findings_json(f.findings)}};
    files.push_back(std::move(fj));
  }
  json summary = {{"files", r.files.size()},
                  {"fully_scanned", r.count(gb::scan_status::full)},
                  {"partly_scanned", r.count(gb::scan_status::partial)},
                  {"not_scanned", r.count(gb::scan_status::none)},
                  {"critical", r.count(gb::severity::critical)},
                  {"high", r.count(gb::severity::high)},
                  {"medium", r.count(gb::severity::medium)},
                  {"low", r.count(gb::severity::low)},
                  {"info", r.count(gb::severity::info)}};
  return {{"files", files}, {"summary", summary}, {"exit_code", exit_code}};
}

void print_human(const gb::scan_report& r, gb::severity fail_on) {
  for (const auto& f : r.files) {
    std::printf("%-12s %s  [%s, %s]%s%s\n", gb::scan_verdict_name(f.verdict()), f.path.c_str(),
                f.kind.c_str(), gb::scan_status_name(f.status), f.reason.empty() ? "" : ": ",
                f.reason.c_str());
    for (const auto& x : f.findings) {
      if (x.level == gb::severity::info && x.code != "template.present") continue;
      std::printf("    %-10s %-28s %s", scan_word(x.level), x.code.c_str(), x.message.c_str());
      if (x.where != f.path && !x.where.empty()) {
        bool inside =
            x.where.size() > f.path.size() && x.where.compare(0, f.path.size() + 1, f.path + ":") == 0;
        std::printf("  [%s]", inside ? x.where.c_str() + f.path.size() + 1 : x.where.c_str());
      }
      if (x.offset != UINT64_MAX) std::printf("  @%llu", static_cast<unsigned long long>(x.offset));
      std::printf("\n");
    }
  }
  size_t verdicts[4] = {0, 0, 0, 0};
  for (const auto& f : r.files) ++verdicts[static_cast<int>(f.verdict())];
  std::printf("\nverdicts: %zu DANGEROUS, %zu NOT VERIFIED, %zu SUSPICIOUS, %zu CLEAN",
              verdicts[static_cast<int>(gb::scan_verdict::dangerous)],
              verdicts[static_cast<int>(gb::scan_verdict::not_verified)],
              verdicts[static_cast<int>(gb::scan_verdict::suspicious)],
              verdicts[static_cast<int>(gb::scan_verdict::clean)]);
  std::printf(
      "\n%zu files: %zu fully scanned, %zu partly, %zu not scanned; findings: %zu dangerous, %zu suspicious, "
      "%zu medium, %zu low, %zu info (fail-on: %s)\n",
      r.files.size(), r.count(gb::scan_status::full), r.count(gb::scan_status::partial),
      r.count(gb::scan_status::none), r.count(gb::severity::critical), r.count(gb::severity::high),
      r.count(gb::severity::medium), r.count(gb::severity::low), r.count(gb::severity::info),
      scan_word(fail_on));
}

int run_scan(int argc, char** argv) {
  po::options_description desc(
      "glassbox scan PATH... [--json] [--sarif FILE] [--fail-on SEVERITY] [--threads N]");
  std::vector<std::string> paths;
  bool as_json = false;
  std::string sarif_path, fail_on_text = "dangerous";
  gb::scan_options so;
  desc.add_options()("help,h", "show options")("json", po::bool_switch(&as_json), "print one JSON document")(
      "sarif", po::value(&sarif_path), "also write SARIF 2.1.0 to FILE")(
      "fail-on", po::value(&fail_on_text)->default_value("dangerous"),
      "exit 1 when a finding reaches this level: dangerous|suspicious|medium|low|innocuous (or "
      "critical|high|info)")("threads", po::value(&so.threads)->default_value(0),
                             "threads (0 = all cores): files in parallel, reported in path order");
  po::options_description hidden;
  hidden.add_options()("path", po::value(&paths));
  po::options_description every("glassbox scan PATH... [--json] [--sarif FILE] [--fail-on LEVEL]");
  every.add(desc).add(hidden);
  po::variables_map vm = gb::cli::parse_command(argc, argv, every, {{"path", -1}});
  if (vm.count("help")) return gb::cli::print_help(desc);
  if (paths.empty()) return gb::cli::missing_positional("PATH");
  auto fail_on = std::optional<gb::severity>(gb::cli::fail_on_parse(fail_on_text));
  gb::cli::check_output_file("sarif", sarif_path);
  gb::scan_report r = gb::scan_paths(paths, so);
  int code = gb::cli::exit_ok;
  bool hit = false;
  for (const auto& f : r.files)
    for (const auto& x : f.findings) hit = hit || x.level >= *fail_on || gb::finding_not_verified(x);
  if (hit) code = gb::cli::exit_findings;
  if (code == gb::cli::exit_ok && r.count(gb::scan_status::none) > 0) code = gb::cli::exit_input;
  if (!sarif_path.empty()) {
    std::ofstream out(sarif_path, std::ios::binary | std::ios::trunc);
    out << gb::cli::json_dump(sarif(r)) << "\n";
    if (!out) {
      std::fprintf(stderr, "glassbox scan: cannot write %s\n", sarif_path.c_str());
      return gb::cli::exit_usage;
    }
  }
  if (as_json)
    gb::cli::print_json(report_json(r, code));
  else
    print_human(r, *fail_on);
  return code;
}

}  // namespace

GB_COMMAND("scan", "is it safe to open? pickle imports, zip/structure checks, templates (never executes)",
           run_scan);
