// viz/report_localize.h: bias localisation (probes/bias_localize.h) as JSON (per pair and aggregate), a
// ranked text table, and an SVG heatmap of the mean per-head difference (layers x heads).
//
//   gb::probes::localize_result r = gb::probes::localize_pairs(run, w, pairs, {}).value();
//   std::string j = gb::viz::localize_json(r, "crows-pairs", /*top=*/10, /*pairs=*/true);
//   std::printf("%s", gb::viz::localize_text(r, 10).c_str());
//   std::string svg = gb::viz::localize_heatmap_svg(r, "crows-pairs");
#pragma once

#include <string>

#include "probes/bias_localize.h"
#include "probes/bias_localize_ablate.h"
#include "probes/bias_localize_run.h"

namespace gb::viz {

// patch: activation patching results to include (nullptr: direct attribution only); ablation: the
// confirmation by ablation (nullptr: none was run, and the output says the localisation is unconfirmed).
std::string localize_json(const probes::localize_result& r, const std::string& suite, size_t top, bool pairs,
                          const probes::patch_summary* patch = nullptr, int indent = 2,
                          const probes::ablation_result* ablation = nullptr);
std::string localize_text(const probes::localize_result& r, size_t top,
                          const probes::patch_summary* patch = nullptr,
                          const probes::ablation_result* ablation = nullptr);
std::string localize_heatmap_svg(const probes::localize_result& r, const std::string& suite);
// The report's "Bias localization" section: the head heatmap and the top components with their intervals.
std::string localize_html(const probes::localize_result& r, const std::string& suite, size_t top,
                          const probes::ablation_result* ablation = nullptr);
// `bias-localize -o DIR`: DIR (created) gets localize.json (every component and pair) and localize-heads.svg.
void localize_folder_write(const std::string& dir, const probes::localize_run_result& r,
                           const std::string& suite, const probes::patch_summary* patch,
                           const probes::ablation_result* ablation);

}  // namespace gb::viz
