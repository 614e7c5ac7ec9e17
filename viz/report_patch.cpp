// viz/report_patch.cpp: `glassbox patch` labels, metric line and JSON (see viz/report_patch.h).
#include "viz/report_patch.h"

#include "viz/json_util.h"
#include "viz/text.h"

namespace gb::viz {

namespace {

using ojson = nlohmann::ordered_json;

}  // namespace

std::vector<std::string> patch_labels(const patch_prompts& p) {
  std::vector<std::string> labels;
  for (size_t i = 0; i < p.clean.size(); ++i) {
    std::string l = std::to_string(i) + ":" + p.piece(p.clean[i]);
    if (p.corrupt[i] != p.clean[i]) l += "/" + p.piece(p.corrupt[i]);
    labels.push_back(l);
  }
  return labels;
}

std::string patch_metric_line(const patch_prompts& p) {
  return strf("metric logit(%d '%s') - logit(%d '%s')\n", p.metric.a, p.piece(p.metric.a).c_str(), p.metric.b,
              p.piece(p.metric.b).c_str());
}

std::string patch_json(const probes::patch_result& r, const patch_prompts& p, const std::string& model) {
  ojson j;
  j["model"] = model;
  j["metric"] = {{"kind", "logit-diff"},
                 {"a", {{"id", p.metric.a}, {"piece", p.piece(p.metric.a)}}},
                 {"b", {{"id", p.metric.b}, {"piece", p.piece(p.metric.b)}}}};
  j["clean_ids"] = p.clean, j["corrupt_ids"] = p.corrupt;
  j["clean"] = r.clean, j["corrupt"] = r.corrupt;
  ojson comps = ojson::array();
  for (const auto& c : r.components) {
    ojson e = {{"kind", c.kind}, {"layer", c.layer}};
    if (c.head >= 0) e["head"] = c.head;
    if (c.position >= 0) e["position"] = c.position;
    e["metric"] = c.metric, e["restored"] = c.restored;
    comps.push_back(e);
  }
  j["components"] = comps;
  return json_text(j);
}

}  // namespace gb::viz
