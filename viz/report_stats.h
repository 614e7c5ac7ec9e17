// viz/report_stats.h: `glassbox stats` rendered from its report (inspect/stats.h): the per-tensor table,
// per-layer and per-role summaries and the findings as text, or the --json document. Renders only.
//
//   gb::stats_report r = gb::stats_compute(input.items, {});
//   std::fputs(gb::viz::stats_text(r, input.note).c_str(), stdout);
//   print(gb::viz::stats_json(r, path, input.note));   // {"model", "tensors", "layers", "roles", ...}
#pragma once

#include <string>

#include "inspect/stats.h"

namespace gb::viz {

// note: what integrity_open said about the files ("" for none).
std::string stats_text(const stats_report& r, const std::string& note);
std::string stats_json(const stats_report& r, const std::string& model_path, const std::string& note);

}  // namespace gb::viz
