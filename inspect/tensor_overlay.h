// inspect/tensor_overlay.h: one metric per tensor, for colouring a graph (`glassbox graph --overlay`):
// a statistics metric (norm, absmax, std, kurtosis, outliers, nan, zeros) or a spectral one (alpha,
// alpha_weighted, stable_rank, spectral_norm, log_norm), with the findings of the same pass.
//
//   auto in = gb::integrity_open("model.gguf");
//   auto v = gb::tensor_overlay_compute(in.value(), "alpha", 0);   // v.value().values["blk.0.attn_q.weight"]
#pragma once

#include <map>
#include <string>
#include <vector>

#include "formats/error.h"
#include "inspect/tensor_values.h"

namespace gb {

struct tensor_overlay {
  std::string metric;
  std::map<std::string, double> values;  // tensor name -> value (unreadable or skipped tensors: absent)
  std::vector<finding> findings;         // statistics findings, or spectral ones for alpha
};

// errc::unsupported for an unknown metric (the message lists the known ones).
result<tensor_overlay> tensor_overlay_compute(const integrity_input& in, const std::string& metric,
                                              int threads);

}  // namespace gb
