// viz/report_run.h: `glassbox run` rendered: the perplexity of a file, per-token log-probabilities, the top-k
// next tokens and a greedy continuation, each as text or as the --json document (`as_json`). Renders only.
//
//   gb::viz::run_prompt p{model_path, ids, [&](int32_t id) { return tok.token_piece(id); }};
//   std::fputs(gb::viz::run_top_k(p, logits, 5, as_json).c_str(), stdout);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "probes/generate.h"
#include "viz/report_trace.h"

namespace gb::viz {

// The model and the prompt's token ids, and how a token id is shown.
struct run_prompt {
  std::string model;
  std::vector<int32_t> ids;
  token_text piece;
};

std::string run_perplexity(const probes::perplexity_result& p, const std::string& model,
                           const std::string& file, bool as_json);
// logprobs[i - 1] = log p(ids[i] | ids[<i]).
std::string run_logprobs(const run_prompt& p, const std::vector<double>& logprobs, bool as_json);
// logits: (V) of the last position.
std::string run_top_k(const run_prompt& p, const std::vector<float>& logits, int k, bool as_json);
// generated: the new ids; text: the whole decoded sequence, "" without a tokenizer (ids are printed).
std::string run_continuation(const run_prompt& p, const std::vector<int32_t>& generated,
                             const std::string& text, bool has_tokenizer, bool as_json);

}  // namespace gb::viz
