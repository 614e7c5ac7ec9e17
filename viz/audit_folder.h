// viz/audit_folder.h: the report folder of `glassbox audit` from its computed data (probes/audit_run.h):
// graph.svg, report.json, report.html, MODEL_CARD.md, model-documentation.md, the Hub's .eval_results/,
// manifest.json and, with a key, manifest.sig and attestation.sig. Also the audit's terminal texts (the
// --plan table, the closing summary). Rendering and writing only: the clock is read by the caller.
//
//   gb::viz::audit_graph(d, *s.ar, *s.m, dir);          // before the probes (the report's order of steps)
//   gb::viz::audit_folder f{dir, key, tok_path, command_line, "2026-12-06T10:00:00Z", data_root, paths};
//   std::string json = gb::viz::audit_folder_write(d, f);   // d.verdicts already decided
//   std::printf("%s", gb::viz::audit_summary_text(d, f).c_str());
#pragma once

#include <string>
#include <vector>

#include "formats/archive.h"
#include "probes/audit_run.h"

namespace gb::viz {

// The architecture graph into d.graph_svg and out_dir/graph.svg (or d.missing, with why).
void audit_graph(probes::audit_data& d, const archive& a, const model& m, const std::string& out_dir);

struct audit_folder {
  std::string out_dir;
  std::string key;                       // private key PEM path; "" = not signed
  std::string tok_path;                  // --tokenizer, an input when given
  std::string command;                   // the command line, as the manifest records it
  std::string time;                      // UTC, "2026-12-06T10:00:00Z"
  std::string data_root;                 // where the bias datasets were read (the attestation names them)
  std::vector<std::string> model_files;  // the model's files, as the archive lists them (repeats allowed)
};
// Writes every file of the report folder; returns report.json's text.
std::string audit_folder_write(const probes::audit_data& d, const audit_folder& f);

// The closing lines on a terminal: what was audited, the quick pass, each verdict, where the report is.
std::string audit_summary_text(const probes::audit_data& d, const audit_folder& f);
// "N finding(s) at or above --fail-on LEVEL, first: [high] code where" (audit_findings_at), "" when none.
std::string audit_fail_on_text(const probes::audit_data& d, severity level);
// audit --plan: each suite's items and tokens and their time here and on `ranks` ranks (e: audit_plan).
std::string audit_plan_text(const probes::audit_estimate& e, const probes::audit_data& planned, size_t ranks);

}  // namespace gb::viz
