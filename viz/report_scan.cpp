// viz/report_scan.cpp: `glassbox scan` rendered: the verdict lines, its --json document and SARIF 2.1.0.
#include "viz/report_scan.h"

#include <map>

#include "viz/json_util.h"
#include "viz/text.h"

namespace gb::viz {

namespace {

using ojson = nlohmann::ordered_json;

const char* sarif_level(severity s) {
  if (s >= severity::high) return "error";
  if (s == severity::medium) return "warning";
  return "note";
}

const char* scan_word(severity s) {
  switch (s) {
    case severity::critical:
      return "dangerous";
    case severity::high:
      return "suspicious";
    default:
      return severity_name(s);
  }
}

ojson sarif_doc(const scan_report& r) {
  ojson rules = ojson::array();
  std::map<std::string, size_t> rule_index;
  ojson results = ojson::array();
  for (const auto& f : r.files)
    for (const auto& x : f.findings) {
      if (!rule_index.count(x.code)) {
        rule_index[x.code] = rules.size();
        rules.push_back({{"id", x.code}, {"shortDescription", {{"text", x.code}}}});
      }
      ojson loc = {{"artifactLocation", {{"uri", f.path}}}};
      if (x.offset != UINT64_MAX) loc["region"] = {{"byteOffset", x.offset}};
      ojson res = {{"ruleId", x.code},
                   {"ruleIndex", rule_index[x.code]},
                   {"level", sarif_level(x.level)},
                   {"message", {{"text", x.message + (x.where != f.path ? " [" + x.where + "]" : "")}}},
                   {"locations", ojson::array({{{"physicalLocation", loc}}})},
                   {"properties", {{"severity", severity_name(x.level)}}}};
      results.push_back(std::move(res));
    }
  ojson notifications = ojson::array();
  for (const auto& f : r.files)
    if (f.status != scan_status::full)
      notifications.push_back(
          {{"level", f.status == scan_status::none ? "error" : "warning"},
           {"message", {{"text", f.path + ": " + scan_status_name(f.status) + ": " + f.reason}}}});
  ojson run = {
      {"tool",
       {{"driver",
         {{"name", "glassbox"},
          {"version", GB_VERSION},
          {"informationUri", "https://example.invalid/glassbox"},
          {"rules", rules}}}}},
      {"results", results},
      {"invocations",
       ojson::array({{{"executionSuccessful", true}, {"toolExecutionNotifications", notifications}}})}};
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs", ojson::array({run})}};
}

ojson report_doc(const scan_report& r, int exit_code) {
  ojson files = ojson::array();
  for (const auto& f : r.files) {
    ojson fj = {{"path", f.path},
                {"format", file_format_name(f.format)},
                {"kind", f.kind},
                {"size", f.size},
                {"status", f.status == scan_status::full      ? "full"
                           : f.status == scan_status::partial ? "partial"
                                                              : "none"},
                {"reason", f.reason},
                {"worst", severity_name(f.worst())},
                {"verdict", scan_verdict_name(f.verdict())},
                {"findings", findings_json<ojson>(f.findings)}};
    files.push_back(std::move(fj));
  }
  ojson summary = {{"files", r.files.size()},
                   {"fully_scanned", r.count(scan_status::full)},
                   {"partly_scanned", r.count(scan_status::partial)},
                   {"not_scanned", r.count(scan_status::none)},
                   {"critical", r.count(severity::critical)},
                   {"high", r.count(severity::high)},
                   {"medium", r.count(severity::medium)},
                   {"low", r.count(severity::low)},
                   {"info", r.count(severity::info)}};
  return {{"files", files}, {"summary", summary}, {"exit_code", exit_code}};
}

std::string text_of(const scan_report& r, severity fail_on) {
  std::string out;
  for (const auto& f : r.files) {
    out += strf("%-12s %s  [%s, %s]%s%s\n", scan_verdict_name(f.verdict()), f.path.c_str(), f.kind.c_str(),
                scan_status_name(f.status), f.reason.empty() ? "" : ": ", f.reason.c_str());
    for (const auto& x : f.findings) {
      if (x.level == severity::info && x.code != "template.present") continue;
      out += strf("    %-10s %-28s %s", scan_word(x.level), x.code.c_str(), x.message.c_str());
      if (x.where != f.path && !x.where.empty()) {
        bool inside =
            x.where.size() > f.path.size() && x.where.compare(0, f.path.size() + 1, f.path + ":") == 0;
        out += strf("  [%s]", inside ? x.where.c_str() + f.path.size() + 1 : x.where.c_str());
      }
      if (x.offset != UINT64_MAX) out += strf("  @%llu", static_cast<unsigned long long>(x.offset));
      out += strf("\n");
    }
  }
  size_t verdicts[4] = {0, 0, 0, 0};
  for (const auto& f : r.files) ++verdicts[static_cast<int>(f.verdict())];
  out += strf("\nverdicts: %zu DANGEROUS, %zu NOT VERIFIED, %zu SUSPICIOUS, %zu CLEAN",
              verdicts[static_cast<int>(scan_verdict::dangerous)],
              verdicts[static_cast<int>(scan_verdict::not_verified)],
              verdicts[static_cast<int>(scan_verdict::suspicious)],
              verdicts[static_cast<int>(scan_verdict::clean)]);
  out += strf(
      "\n%zu files: %zu fully scanned, %zu partly, %zu not scanned; findings: %zu dangerous, %zu suspicious, "
      "%zu medium, %zu low, %zu info (fail-on: %s)\n",
      r.files.size(), r.count(scan_status::full), r.count(scan_status::partial), r.count(scan_status::none),
      r.count(severity::critical), r.count(severity::high), r.count(severity::medium), r.count(severity::low),
      r.count(severity::info), scan_word(fail_on));
  return out;
}

}  // namespace

std::string scan_sarif(const scan_report& r) {
  return json_text(sarif_doc(r));
}
std::string scan_json(const scan_report& r, int exit_code) {
  return json_text(report_doc(r, exit_code));
}
std::string scan_text(const scan_report& r, severity fail_on) {
  return text_of(r, fail_on);
}

}  // namespace gb::viz
