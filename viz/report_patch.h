// viz/report_patch.h: `glassbox patch` rendered beside patch_text and patch_charts (viz/report_trace.h): the
// position labels, the metric line and the --json document. Renders only.
//
//   gb::viz::patch_prompts p{clean_ids, corrupt_ids, {a, b}, piece};
//   std::vector<std::string> labels = gb::viz::patch_labels(p);     // "3:girl/boy"
//   std::fputs((gb::viz::patch_metric_line(p) + gb::viz::patch_text(r, labels)).c_str(), stdout);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "probes/patching.h"
#include "viz/report_trace.h"

namespace gb::viz {

// The two prompts' ids, the metric's tokens and how a token id is shown.
struct patch_prompts {
  std::vector<int32_t> clean, corrupt;
  probes::patch_metric metric;
  token_text piece;
};

// "i:piece" per position, "i:clean/corrupt" where the prompts differ.
std::vector<std::string> patch_labels(const patch_prompts& p);
// "metric logit(A 'a') - logit(B 'b')\n"
std::string patch_metric_line(const patch_prompts& p);
// {model, metric, clean_ids, corrupt_ids, clean, corrupt, components: [{kind, layer, head?, position?, ...}]}
std::string patch_json(const probes::patch_result& r, const patch_prompts& p, const std::string& model);

}  // namespace gb::viz
