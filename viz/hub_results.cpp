// viz/hub_results.cpp: .eval_results/*.yaml and the model card's model-index.
#include "viz/hub_results.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "viz/report_bias.h"

namespace gb::viz {
namespace {

// A YAML double-quoted scalar (a JSON string is one).
std::string q(const std::string& s) {
  return nlohmann::json(s).dump();
}

std::string number(double v) {
  return std::isfinite(v) ? nlohmann::json(v).dump() : std::string("null");
}

struct headline {
  const probes::metric* m = nullptr;
  size_t n = 0;
};

headline headline_of(const probes::suite_result& r) {
  if (!r.error.empty() || r.groups.empty()) return {};
  return {bias_headline(r, r.groups[0]), r.groups[0].n};
}

std::string notes(const probes::suite_result& r, const headline& h,
                  const std::vector<attestation_dataset>& datasets) {
  std::string n = "glassbox " + r.suite + " (" + r.variant + "): " + h.m->name + ", N=" + std::to_string(h.n);
  if (h.m->has_ci)
    n += ", 95% bootstrap interval [" + number(h.m->ci.lo) + ", " + number(h.m->ci.hi) + "] (" +
         std::to_string(h.m->ci.resamples) + " resamples, seed " + std::to_string(h.m->ci.seed) + ")";
  if (const std::optional<double> u = bias_unbiased_value(h.m->name)) n += ", unbiased value " + number(*u);
  for (const attestation_dataset& ds : datasets)
    if (ds.suite == r.suite && !ds.digest.empty()) n += ", dataset OMS digest " + ds.digest;
  return n;
}

}  // namespace

std::string hub_dataset_id(const std::string& suite) {
  if (suite == "crows-pairs") return "nyu-mll/crows_pairs";
  if (suite == "stereoset") return "McGill-NLP/stereoset";
  if (suite == "winobias") return "uclanlp/wino_bias";
  if (suite == "holisticbias") return "fairnlp/holistic-bias";
  return "";
}

std::vector<hub_eval_file> hub_eval_results(const audit_data& d, const std::string& date,
                                            const std::vector<attestation_dataset>& datasets) {
  std::vector<hub_eval_file> out;
  for (const probes::suite_result& r : d.bias) {
    const headline h = headline_of(r);
    const std::string id = hub_dataset_id(r.suite);
    if (!h.m || id.empty()) continue;
    std::string y = "- dataset:\n    id: " + q(id) + "\n    task_id: " + q(r.suite + "/" + h.m->name) + "\n";
    for (const attestation_dataset& ds : datasets)
      if (ds.suite == r.suite && !ds.digest.empty())
        y += "    revision: " + q("oms-sha256:" + ds.digest) + "\n";
    y += "  value: " + number(h.m->value) + "\n  date: " + q(date) + "\n";
    y += "  source:\n    name: " + q("glassbox " + d.tool_version + " audit") + "\n";
    y += "  notes: " + q(notes(r, h, datasets)) + "\n";
    out.push_back({r.suite + ".yaml", y});
  }
  return out;
}

std::string hub_model_index_yaml(const audit_data& d) {
  std::string results;
  for (const probes::suite_result& r : d.bias) {
    const headline h = headline_of(r);
    if (!h.m) continue;
    const std::string id = hub_dataset_id(r.suite);
    if (id.empty()) continue;  // no Hub dataset to point at (built-in templates): in the card's Metrics only
    results += "  - task:\n      type: text-generation\n      name: " + q("bias: " + r.suite) + "\n";
    results += "    dataset:\n      type: " + q(id) + "\n      name: " + q(r.suite) + "\n";
    results += "    metrics:\n    - type: " + q(h.m->name) + "\n      value: " + number(h.m->value) + "\n";
    if (h.m->has_ci)
      results += "      name: " +
                 q(h.m->name + " (95% CI " + number(h.m->ci.lo) + " to " + number(h.m->ci.hi) +
                   ", N=" + std::to_string(h.n) + ")") +
                 "\n";
    results += "    source:\n      name: " + q("glassbox " + d.tool_version + " audit") + "\n";
  }
  if (results.empty()) return "";
  const std::string name = d.summary.name.empty() ? d.summary.architecture : d.summary.name;
  return "model-index:\n- name: " + q(name) + "\n  results:\n" + results;
}

}  // namespace gb::viz
