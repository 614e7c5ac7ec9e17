// viz/report_inspect.h: the terminal report of `glassbox inspect`: identity, hyperparameters (with where
// each came from), parameters by role and layer, dtype mix and memory, tokenizer, provenance, metadata, the
// op graph, findings and (optionally) the tensor table. Text from the file never reaches the terminal raw.
// Its --json document (inspect_json) and the files' OMS identity line (inspect_identity_text).
//
//   std::fputs(gb::viz::inspect_text(archive, model, gb::model_summarize(model), findings, true).c_str(),
//   stdout);
//   std::string doc = gb::viz::inspect_json(archive, model, summary, findings, false, nullptr);
#pragma once

#include <string>
#include <vector>

#include "inspect/model.h"
#include "inspect/oms.h"
#include "inspect/summary.h"

namespace gb::viz {

std::string inspect_text(const archive& a, const model& m, const model_summary& s,
                         const std::vector<finding>& findings, bool tensors);
// One JSON document (compact; no schema key): tensors lists every tensor; id: the files' OMS identity
// ("oms_subject") when it was computed, else nullptr.
std::string inspect_json(const archive& a, const model& m, const model_summary& s,
                         const std::vector<finding>& findings, bool tensors, const oms_identity* id);
// "identity" and the files' OMS v1.0 subject digest (or why it was not computed), after inspect_text.
std::string inspect_identity_text(const oms_identity& id);

}  // namespace gb::viz
