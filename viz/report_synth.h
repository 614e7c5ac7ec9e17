// viz/report_synth.h: `glassbox synth` rendered from what synth_write reported: the one "wrote" line (and
// the bias token's id) or the --json document (files, architecture, counts, bytes). Renders only.
//
//   gb::result<gb::synth_report> r = gb::synth_write(spec);
//   std::fputs(gb::viz::synth_text(spec.path, r.value()).c_str(), stdout);
//   print(gb::viz::synth_json(r.value()));
#pragma once

#include <string>

#include "inspect/synth.h"

namespace gb::viz {

// "wrote PATH: ARCH, N tensors, N parameters, N bytes\n" (+ "bias token id N\n")
std::string synth_text(const std::string& path, const synth_report& r);
// compact, no schema key
std::string synth_json(const synth_report& r);

}  // namespace gb::viz
