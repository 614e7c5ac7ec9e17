// inspect/findings.cpp: a model's findings for `glassbox inspect` (see inspect/findings.h).
#include "inspect/findings.h"

#include <algorithm>
#include <set>
#include <utility>

#include "inspect/parallel.h"
#include "inspect/scan.h"

namespace gb {

std::vector<finding> inspect_findings(const archive& a, const model& m, const std::string& chat_template,
                                      int threads) {
  std::vector<finding> findings = a.findings;
  findings.insert(findings.end(), m.findings.begin(), m.findings.end());
  // Weight-only formats are not re-read, so inspect stays header-only.
  std::set<std::pair<std::string, std::string>> seen;
  for (const finding& f : findings) seen.insert({f.code, f.message});
  auto add_new = [&](const finding& f) {
    if (seen.insert({f.code, f.message}).second) findings.push_back(f);
  };
  std::vector<std::string> pickled;  // files holding pickles, scanned in parallel, merged in file order
  for (const source_file& file : a.files) {
    const file_format ff = file.format;
    if (ff == file_format::pytorch_zip || ff == file_format::pytorch_legacy || ff == file_format::pickle ||
        ff == file_format::numpy || ff == file_format::zip)
      pickled.push_back(file.path);
  }
  std::vector<scan_file> scanned(pickled.size());  // (pickled)
  parallel_for(pickled.size(), threads, [&](size_t i) { scanned[i] = scan_one(pickled[i]); });
  for (const scan_file& sf : scanned) {
    for (const finding& f : sf.findings) add_new(f);
    if (sf.status != scan_status::full)
      add_new({severity::info, "scan.coverage", sf.path,
               std::string(scan_status_name(sf.status)) + (sf.reason.empty() ? "" : ": " + sf.reason)});
  }
  if (!chat_template.empty()) {
    std::vector<finding> tf;
    scan_template_text(chat_template, a.path + " (chat template)", tf);
    for (const finding& f : tf) add_new(f);
  }
  return findings;
}

severity findings_max(const std::vector<finding>& fs) {
  severity s = severity::info;
  for (const finding& f : fs) s = std::max(s, f.level);
  return s;
}

}  // namespace gb
