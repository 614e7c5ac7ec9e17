// viz/report_diff.h: `glassbox diff` rendered from its report (inspect/diff.h): parameters, hyperparameter
// and metadata changes, the per-tensor and per-layer tables and the lineage verdict, as text or the --json
// document. Renders only.
//
//   gb::viz::diff_sides sides{path_a, path_b, params_a, params_b, note_a, note_b, gb::delta_detect(d)};
//   std::fputs(gb::viz::diff_text(d, sides, /*all=*/false).c_str(), stdout);
#pragma once

#include <optional>
#include <string>

#include "inspect/diff.h"

namespace gb::viz {

// What the report needs beside the diff: each side's path, parameter count text ("" unknown) and note, and
// the delta kind inspect/delta.h detected.
struct diff_sides {
  std::string path_a, path_b, params_a, params_b, note_a, note_b;
  std::optional<std::string> delta;
};

std::string diff_text(const diff_report& d, const diff_sides& s, bool all);
// {a, b, verdict, verdict_text, delta, evidence, parameters, hparams, metadata, tensors, layers, level}
std::string diff_json(const diff_report& d, const diff_sides& s);

}  // namespace gb::viz
