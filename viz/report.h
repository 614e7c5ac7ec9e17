// viz/report.h: the audit report: plain data gathered by `glassbox audit` from inspect/ and probes/,
// rendered as report.json (schema: viz/report.schema.json), a self-contained report.html (inline SVG and
// CSS, no script) and a Hugging Face-style MODEL_CARD.md. Rendering only: every number was computed
// before. Same input, byte-identical output (no clock is read here).
//
//   gb::viz::audit_data d = ...;              // filled by probes/audit_run.h
//   d.compliance = gb::probes::compliance_map(d);   // probes/audit_verdict.h decides
//   d.verdicts = gb::probes::audit_verdicts(d);
//   write(dir + "/report.html", gb::viz::report_html(d));
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "inspect/stats.h"
#include "probes/audit_run.h"
#include "probes/audit_verdict.h"

namespace gb::viz {

// The audit's data is computed in probes/audit_run.h; the report renders it.
using audit_data = probes::audit_data;
using compliance_item = probes::compliance_item;
using not_measured = probes::not_measured;
using verdict = probes::verdict;

// The verdict policy lives where the numbers are made (probes/audit_verdict.h); the report renders it.
using probes::audit_overall;
using probes::audit_verdicts;
using probes::compliance_map;
using probes::quick_pass_text;
// The header banner as the HTML shows it and report.json carries it ("banner"): one source for both.
struct report_banner {
  verdict overall;           // audit_overall
  std::string audit_date;    // "" = not recorded
  std::string model_digest;  // weights root digest (hex), "" = not measured
  std::string signature;     // "not signed" or the signature status
  bool quick_pass = false;   // bias suites scored a --limit sample: no bias verdict
  std::string pass;          // "full" or "QUICK PASS: N of M items"
};
report_banner audit_banner(const audit_data& d);
using probes::audit_findings;  // model, scan, stats: deduplicated, most severe first

// The up-front estimate as a table: one line per step (time, basis), then the total.
std::string audit_estimate_text(const probes::audit_estimate& e);

std::string report_json(const audit_data& d);
std::string report_html(const audit_data& d);
std::string model_card_md(const audit_data& d);

}  // namespace gb::viz
