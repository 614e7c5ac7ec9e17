// viz/report_scan.h: `glassbox scan` rendered from its report (inspect/scan.h): one verdict line per file
// with its findings, the --json document and SARIF 2.1.0 for code-scanning dashboards. Renders only.
//
//   gb::scan_report r = gb::scan_paths(paths);
//   std::fputs(gb::viz::scan_text(r, gb::severity::critical).c_str(), stdout);
//   write("scan.sarif", gb::viz::scan_sarif(r));
#pragma once

#include <string>

#include "inspect/scan.h"

namespace gb::viz {

// DANGEROUS / NOT VERIFIED / SUSPICIOUS / CLEAN per file, its findings (info ones only for templates), the
// verdict counts and a summary line naming the --fail-on level.
std::string scan_text(const scan_report& r, severity fail_on);
// {"files": [{path, format, kind, size, status, reason, worst, verdict, findings}], "summary", "exit_code"}
std::string scan_json(const scan_report& r, int exit_code);
// SARIF 2.1.0: one rule per finding code, results with byte offsets, skipped files as notifications.
std::string scan_sarif(const scan_report& r);

}  // namespace gb::viz
