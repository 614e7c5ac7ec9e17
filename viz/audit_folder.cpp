// viz/audit_folder.cpp: the report folder of `glassbox audit` (see viz/audit_folder.h).
#include "viz/audit_folder.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "formats/file_text.h"
#include "inspect/hash.h"
#include "inspect/oms.h"
#include "probes/audit_verdict.h"
#include "viz/attestation.h"
#include "viz/graph.h"
#include "viz/hub_results.h"
#include "viz/manifest.h"
#include "viz/model_documentation.h"
#include "viz/oms_bundle.h"
#include "viz/report.h"

namespace gb::viz {

namespace {

// What each bias suite read, for the attestation.
std::vector<attestation_dataset> audit_datasets(const probes::audit_data& d, const std::string& data_root) {
  std::vector<attestation_dataset> datasets;
  for (const auto& r : d.bias) {
    const std::string path = probes::bias_dataset_path(data_root, r.suite);
    if (r.suite == "templates")
      datasets.push_back({r.suite, "built-in", "built-in"});
    else
      datasets.push_back({r.suite, path, oms_identity_of(path).root_hex});
  }
  return datasets;
}

manifest_info manifest_info_of(const probes::audit_data& d, const audit_folder& f) {
  manifest_info info;
  info.tool_version = d.tool_version;
  info.build = build_description();
  info.command = f.command;
  info.time = f.time;
  info.machine = machine_description();
  info.seeds = {{"bias_bootstrap", d.seed}};
  if (d.item_limit)
    info.seeds.push_back(
        {"bias_quick_pass_sample (--limit " + std::to_string(d.item_limit) + " per suite, stratified)",
         d.seed});
  return info;
}

// manifest.json over the inputs and what was written (hub_outputs: the .eval_results files), then with a key
// manifest.sig and attestation.sig.
void write_manifest(const probes::audit_data& d, const audit_folder& f,
                    const std::vector<attestation_dataset>& datasets,
                    const std::vector<std::string>& hub_outputs) {
  const std::string& dir = f.out_dir;
  const manifest_info info = manifest_info_of(d, f);
  std::vector<manifest_file> inputs, outputs;
  for (const auto& p : f.model_files)  // a file once, even when the archive maps it for two roles
    if (std::none_of(inputs.begin(), inputs.end(), [&](const auto& i) { return i.path == p; }))
      inputs.push_back(manifest_file_of(p, p));
  if (!f.tok_path.empty()) inputs.push_back(manifest_file_of(f.tok_path, f.tok_path));
  for (const char* o : {"report.json", "report.html", "MODEL_CARD.md", "model-documentation.md", "graph.svg"})
    if (path_exists(dir + "/" + o)) outputs.push_back(manifest_file_of(dir + "/" + o, o));
  for (const std::string& o : hub_outputs) outputs.push_back(manifest_file_of(dir + "/" + o, o));
  const std::string manifest = manifest_build(info, inputs, outputs);
  file_write_text(dir + "/manifest.json", manifest);
  if (f.key.empty()) return;
  manifest_sign(manifest, f.key, dir + "/manifest.sig");
  attestation_info ai{info.tool_version,
                      info.build,
                      info.command,
                      info.time,
                      info.seeds,
                      datasets,
                      digest_hex(file_sha256(dir + "/report.json"))};
  file_write_text(dir + "/attestation.sig", dsse_bundle_sign(attestation_statement(d, ai), f.key, "", true));
}

}  // namespace

void audit_graph(probes::audit_data& d, const archive& a, const model& m, const std::string& out_dir) {
  graph g = a.format == file_format::onnx ? graph_from_onnx(a, {false, &m}) : graph_from_model(m, {});
  auto svg = graph_render(g, "svg");
  if (!svg) {
    d.missing.push_back({"architecture graph", svg.err().message});
    return;
  }
  d.graph_svg = svg.value();
  file_write_text(out_dir + "/graph.svg", d.graph_svg);
}

std::string audit_folder_write(const probes::audit_data& d, const audit_folder& f) {
  const std::string& dir = f.out_dir;
  const std::string json_text = report_json(d);
  file_write_text(dir + "/report.json", json_text);
  file_write_text(dir + "/report.html", report_html(d));
  file_write_text(dir + "/MODEL_CARD.md", model_card_md(d));
  file_write_text(dir + "/model-documentation.md", model_documentation_md(d));
  const std::vector<attestation_dataset> datasets = audit_datasets(d, f.data_root);
  std::vector<std::string>
      hub_outputs;  // results for the Hugging Face Hub (suites with a public Hub dataset)
  std::vector<hub_eval_file> hub = hub_eval_results(d, f.time.substr(0, 10), datasets);
  if (!hub.empty()) ::mkdir((dir + "/.eval_results").c_str(), 0755);
  for (const hub_eval_file& h : hub) {
    file_write_text(dir + "/.eval_results/" + h.name, h.yaml);
    hub_outputs.push_back(".eval_results/" + h.name);
  }
  write_manifest(d, f, datasets, hub_outputs);
  return json_text;
}

std::string audit_fail_on_text(const probes::audit_data& d, severity level) {
  const std::vector<finding> hits = probes::audit_findings_at(d, level);  // most severe first
  if (hits.empty()) return "";
  return std::to_string(hits.size()) + " finding(s) at or above --fail-on " + severity_name(level) +
         ", first: [" + severity_name(hits[0].level) + "] " + hits[0].code + " " + hits[0].where;
}

std::string audit_summary_text(const probes::audit_data& d, const audit_folder& f) {
  std::string t = "glassbox audit of " + d.model_path + (d.demo ? " (built-in demo model)" : "") + "\n";
  if (const std::string q = quick_pass_text(d.bias); !q.empty())
    t += q + " (stratified sample, seed " + std::to_string(d.seed) + "): no bias verdict from a quick pass\n";
  char b[1024];
  for (const auto& v : d.verdicts) {
    std::snprintf(b, sizeof b, "  %-10s %-13s ", v.area.c_str(), v.level.c_str());
    t += b + v.text + "\n";
  }
  return t + "report: " + f.out_dir + "/report.html (also report.json, MODEL_CARD.md, manifest.json" +
         (f.key.empty() ? "" : ", manifest.sig, attestation.sig") + ")\n";
}

std::string audit_plan_text(const probes::audit_estimate& e, const probes::audit_data& planned,
                            size_t ranks) {
  std::string t = audit_estimate_text(e) + "\n";
  const auto here = [&](const std::string& suite) -> double {  // estimated seconds here
    for (const auto& st : e.steps)
      if (st.step == "bias " + suite) return st.seconds;
    return std::nan("");
  };
  const auto hms = probes::duration_text;
  const double n = static_cast<double>(ranks);
  char b[1024];
  std::snprintf(b, sizeof b, "%-14s %9s %12s %14s %14s\n", "suite", "items", "tokens", "here",
                (std::to_string(ranks) + " ranks").c_str());
  t += b;
  size_t total = 0;
  double total_s = 0;
  for (const auto& r : planned.bias) {
    total += r.tokens, total_s += here(r.suite);
    std::snprintf(b, sizeof b, "%-14s %9zu %12zu %14s %14s\n", r.suite.c_str(), r.items, r.tokens,
                  hms(here(r.suite)).c_str(), hms(here(r.suite) / n).c_str());
    t += b;
  }
  for (const auto& m : planned.missing) {
    std::snprintf(b, sizeof b, "%-14s ", m.what.substr(m.what.rfind(' ') + 1).c_str());
    t += b + m.why + "\n";
  }
  std::snprintf(b, sizeof b, "%-14s %9s %12zu %14s %14s\n", "total", "", total, hms(total_s).c_str(),
                hms(total_s / n).c_str());
  return t + b;
}

}  // namespace gb::viz
