// viz/report.h: the audit report: plain data gathered by `glassbox audit` from inspect/ and probes/,
// rendered as report.json (schema: viz/report.schema.json), a self-contained report.html (inline SVG and
// CSS, no script) and a Hugging Face-style MODEL_CARD.md. Rendering only: every number was computed
// before. Same input, byte-identical output (no clock is read here).
//
//   gb::viz::audit_data d = ...;              // filled by cli/cmd_audit.cpp
//   d.compliance = gb::viz::compliance_map(d);
//   d.verdicts = gb::viz::audit_verdicts(d);
//   write(dir + "/report.html", gb::viz::report_html(d));
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "inspect/hash.h"
#include "inspect/model.h"
#include "inspect/oms.h"
#include "inspect/scan.h"
#include "inspect/spectral.h"
#include "inspect/stats.h"
#include "inspect/summary.h"
#include "probes/audit_estimate.h"
#include "probes/audit_probe.h"
#include "probes/bias.h"
#include "probes/bias_diff.h"
#include "probes/bias_localize.h"
#include "probes/bias_localize_ablate.h"

namespace gb::viz {

struct compliance_item {
  std::string framework;    // "EU AI Act Annex XI", "EU AI Act Annex IV", "NIST AI RMF"
  std::string item;         // "1(a)", "MEASURE 2.11" ...
  std::string requirement;  // what it asks, in short
  std::string status;       // "provided", "partly", "not measurable from weights"
  std::string evidence;     // report section(s)
  std::string reason;
};

struct not_measured {
  std::string what, why;
};

struct verdict {
  std::string area;   // identity, integrity, security, internals, bias
  std::string level;  // "ok", "attention", "critical", "not measured"
  std::string text;
};

struct audit_data {
  std::string tool_version, model_path, tokenizer_source;
  std::string audit_date;  // "2026-12-06" (UTC, the manifest's day); "" = not shown
  std::string signature;   // signature status for the banner ("" = not signed)
  size_t item_limit = 0;   // --limit per bias suite: > 0 is a quick pass
  bool demo = false;
  std::vector<std::string> demo_planted;  // documented planted properties of the demo model
  uint64_t seed = 1;
  model_summary summary;
  hparams hp;
  std::string family;
  std::vector<finding> model_findings;  // loader + architecture findings
  scan_report scan;
  bool have_hashes = false;
  hash_report hashes;           // includes stats
  oms_identity files_identity;  // OMS v1.0 subject digest of the model's files
  bool have_spectral = false;
  spectral_report spectral;
  std::string graph_svg;  // rendered architecture graph ("" when not drawn)
  std::string graph_note;
  bool ran_model = false;
  std::string run_error;
  std::vector<probes::prompt_probe> prompts;
  std::vector<probes::suite_result> bias;
  std::string baseline_path;  // audit --baseline: the model the drift is measured from
  std::vector<probes::suite_change> bias_drift;
  std::string localize_suite;  // audit --localize: the suite whose pairs were attributed
  std::optional<probes::localize_result> localize;
  std::optional<probes::ablation_result> localize_ablation;  // its confirmation by ablation
  std::vector<not_measured> missing;
  std::vector<compliance_item> compliance;
  std::vector<verdict> verdicts;
};

std::vector<compliance_item> compliance_map(const audit_data& d);
std::vector<verdict> audit_verdicts(const audit_data& d);
// The report's one-line verdict from d.verdicts: the worst level reached, naming the areas at that level.
verdict audit_overall(const audit_data& d);
// "QUICK PASS: 50 of 1508 items" when a suite scored a sample (--limit), else "".
std::string quick_pass_text(const std::vector<probes::suite_result>& bias);
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
// All findings of the audit (model, scan, stats), deduplicated, most severe first.
std::vector<finding> audit_findings(const audit_data& d);

// The up-front estimate as a table: one line per step (time, basis), then the total.
std::string audit_estimate_text(const probes::audit_estimate& e);

std::string report_json(const audit_data& d);
std::string report_html(const audit_data& d);
std::string model_card_md(const audit_data& d);

}  // namespace gb::viz
