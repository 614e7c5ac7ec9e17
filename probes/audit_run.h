// probes/audit_run.h: the computation of `glassbox audit` on one opened model, as plain data for viz/report.h
// to render: identity, file scan, hashes and statistics, files identity, spectral metrics (audit_inspect),
// the standard prompts, the bias suites, their localization and drift against a baseline (audit_probe). Also
// the audit's sharding (a part of the bias suites per rank) and its up-front estimate. No clock, no printing:
// progress goes through a callback, what could not be measured goes to audit_data::missing with why.
//
//   gb::probes::audit_options o;                    // suites, data_root, limit, seed, threads ...
//   gb::probes::audit_data d;
//   gb::probes::audit_inspect(d, s, model_path, o); // s: gb::probes::session
//   std::vector<std::string> not_run = gb::probes::audit_probe(d, s, o);
//   d.verdicts = gb::probes::audit_verdicts(d);      // probes/audit_verdict.h; then gb::viz::report_json(d)
//   ...
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "inspect/hash.h"
#include "inspect/model.h"
#include "inspect/oms.h"
#include "inspect/scan.h"
#include "inspect/spectral.h"
#include "inspect/summary.h"
#include "probes/audit_estimate.h"
#include "probes/audit_probe.h"
#include "probes/bias.h"
#include "probes/bias_diff.h"
#include "probes/bias_localize.h"
#include "probes/bias_localize_ablate.h"
#include "probes/bias_sample.h"
#include "probes/session.h"
#include "probes/shard.h"

namespace gb::probes {

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
  std::vector<prompt_probe> prompts;
  std::vector<suite_result> bias;
  std::string baseline_path;  // audit --baseline: the model the drift is measured from
  std::vector<suite_change> bias_drift;
  std::string localize_suite;  // audit --localize: the suite whose pairs were attributed
  std::optional<localize_result> localize;
  std::optional<ablation_result> localize_ablation;  // its confirmation by ablation
  std::vector<not_measured> missing;
  std::vector<compliance_item> compliance;
  std::vector<verdict> verdicts;
};

// What the audit runs (the command's options).
struct audit_options {
  std::vector<std::string> suites;  // bias suites to run, in order (audit_suite_names() by default)
  bool suites_requested = false;    // named by the user: one that cannot run is reported (audit_probe)
  std::string data_root;            // bias datasets folder laid out like shared/data/bias
  size_t limit = 0;                 // items per suite (0 = all)
  uint64_t seed = 1;
  int resamples = 1000;
  int threads = 0;  // 0 = all cores
  bool spectral = true;
  bool progress = false;                         // the bias suites' own progress line on stderr
  std::string baseline, baseline_tok, localize;  // --baseline, --baseline-tokenizer, --localize
  std::vector<suite_result> merged;              // --bias-parts: the suites' results, taken as they are
  bool use_merged = false;                       // take the suites from `merged` instead of scoring
  std::function<void(const std::string&)> step;  // called as each step starts (may be empty)
  // the datasets' token ids: the estimate's planning pass fills them, the run (audit_probe) reads them
  std::shared_ptr<token_memo> tokens = std::make_shared<token_memo>();
  // the datasets, read once: the estimate's planning pass reads them, the run takes them (then drops them)
  std::shared_ptr<dataset_memo> datasets = std::make_shared<dataset_memo>();
};

// A new audit's data (tool version, seed, model path). With no model_path, the built-in demo model is
// written into out_dir/demo-model first and model_path set to it. Returns the folder or file the scan covers.
std::string audit_start(audit_data& d, std::string& model_path, const std::string& out_dir, uint64_t seed);

// Every bias suite the audit knows, in the report's order.
const std::vector<std::string>& audit_suite_names();
// --suite values (names of audit_suite_names(), "all" or "none") -> the suites to run: "all" adds every
// suite, "none" nothing, a name once; with no --suite at all (`given` false) every suite.
std::vector<std::string> audit_suites_select(const std::vector<std::string>& names, bool given);

// Identity, scan (of scan_root: the model file or folder), hashes and statistics, files identity, spectral.
void audit_inspect(audit_data& d, const session& s, const std::string& scan_root, const audit_options& o);
// Standard prompts, bias suites, localization, drift and the limits of a weights audit. Returns the
// requested suites that could not run ("suite: why"), for the exit code.
std::vector<std::string> audit_probe(audit_data& d, session& s, const audit_options& o);

// The header of this audit's shard parts: what a part records and what --bias-parts must match.
part_header audit_part_header(const session& s, const std::string& model_path, const std::string& tok_path,
                              const shard_spec& shard, const audit_options& o);
// audit --shard: only this shard of the bias suites, saved as a part in out_dir; returns its path. not_run
// gets "suite: why" for each requested suite that could not run (as audit_probe returns them).
std::string audit_shard(session& s, const part_header& run, const shard_spec& shard, const audit_options& o,
                        const std::string& out_dir, std::vector<std::string>& not_run);
// audit --bias-parts: every part read, merged and checked against this audit's header (audit_part_header).
std::vector<suite_result> audit_parts_merge(const part_header& run, const std::vector<std::string>& paths);
// The model can run text here (an engine and a tokenizer), else one errc::unsupported failure naming command.
void audit_require_runnable(const session& s, const std::string& command);
// audit --plan: audit_estimate_of with 2 s of calibration, for a model that can run text.
audit_estimate audit_plan(session& s, double load_seconds, const audit_options& o, audit_data& planned);
// The whole audit's estimate: the model's workload, each suite's tokens from a planning pass (tokenised, not
// scored; into planned.bias and planned.missing), and this machine's rates (token_seconds of scoring).
audit_estimate audit_estimate_of(session& s, double load_seconds, const audit_options& o,
                                 double token_seconds, audit_data& planned);

}  // namespace gb::probes
