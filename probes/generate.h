// probes/generate.h: what `glassbox run` computes with the engine: the perplexity of a text, the top-k next
// tokens (probes/logit_lens.h top_k_probs) and greedy continuation. BOS and EOS are the tokenizer's ids
// (tokenizer::bos_id / eos_id, -1 when the model has none), never looked up by their spelling.
//
//   auto ppl = gb::probes::perplexity(run, tok.encode(text, false), tok.bos_id());
//   if (ppl) std::printf("%.4f over %zu tokens\n", ppl.value().perplexity, ppl.value().tokens);
//   auto more = gb::probes::greedy_continue(run, ids, 64, tok.eos_id(), tok.bos_id());  // new ids only
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "formats/error.h"
#include "probes/engine/engine.h"

namespace gb::probes {

struct perplexity_result {
  size_t tokens = 0;  // tokens scored
  double mean_nll = 0, perplexity = 0;
};
// Non-overlapping windows of the context length, each opened by `bos` when bos >= 0 (its own prediction
// not scored). errc::bad_value when the text has fewer than two tokens to score with.
result<perplexity_result> perplexity(engine::runner& run, const std::vector<int32_t>& ids, int32_t bos);

// Up to n tokens after `ids` (run from position 0), each the arg-max of the last logits, stopping before
// eos or bos (when >= 0) or at the context length. Returns the new ids only.
result<std::vector<int32_t>> greedy_continue(engine::runner& run, const std::vector<int32_t>& ids, int n,
                                             int32_t eos, int32_t bos);

}  // namespace gb::probes
