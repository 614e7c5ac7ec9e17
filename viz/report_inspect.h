// viz/report_inspect.h: the terminal report of `glassbox inspect`: identity, hyperparameters (with where
// each came from), parameters by role and layer, dtype mix and memory, tokenizer, provenance, metadata, the
// op graph, findings and (optionally) the tensor table. Text from the file never reaches the terminal raw.
//
//   std::fputs(gb::viz::inspect_text(archive, model, gb::model_summarize(model), findings, true).c_str(),
//   stdout);
#pragma once

#include <string>
#include <vector>

#include "inspect/model.h"
#include "inspect/summary.h"

namespace gb::viz {

std::string inspect_text(const archive& a, const model& m, const model_summary& s,
                         const std::vector<finding>& findings, bool tensors);

}  // namespace gb::viz
