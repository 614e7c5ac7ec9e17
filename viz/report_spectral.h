// viz/report_spectral.h: `glassbox spectral` rendered from its report (inspect/spectral.h): the definition
// line, one row per weight matrix and the summary with its reading as text, or the --json document.
// Renders only.
//
//   gb::spectral_report r = gb::spectral_compute(input.items, {});
//   std::fputs(gb::viz::spectral_text(r).c_str(), stdout);
//   print(gb::viz::spectral_json(r, path));   // {"model", "definition", "matrices", "summary"}
#pragma once

#include <string>

#include "inspect/spectral.h"

namespace gb::viz {

std::string spectral_text(const spectral_report& r);
// compact, no schema key
std::string spectral_json(const spectral_report& r, const std::string& model_path);

}  // namespace gb::viz
