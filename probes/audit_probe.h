// probes/audit_probe.h: the small, fixed look inside a model that every audit report carries: for a few
// standard prompts, the next-token prediction (top-k with probabilities) and the residual-stream norm
// after each block (mean over positions). The full instruments are `glassbox trace` and `patch`.
//
//   gb::probes::prompt_probe p = gb::probes::probe_prompt(session, "Once upon a time", 5);
#pragma once

#include <string>
#include <vector>

#include "probes/session.h"

namespace gb::probes {

struct next_token {
  int32_t id = -1;
  std::string piece;
  double prob = 0;
};

struct prompt_probe {
  std::string prompt;
  std::vector<int32_t> ids;
  std::vector<std::string> pieces;
  std::vector<next_token> top;     // next-token candidates after the prompt, most likely first
  std::vector<double> resid_norm;  // (L) mean L2 norm of blk.N.resid.post over positions
  bool finite = true;              // all logits finite
  std::string error;               // non-empty when the prompt could not be run
};

std::vector<std::string> standard_prompts();
prompt_probe probe_prompt(session& s, const std::string& prompt, int top_k = 5);

}  // namespace gb::probes
