// probes/embedding_probe.h: word and sentence vectors from a model, for WEAT/SEAT on language models.
//
//   input embeddings: a word is the mean of its tokens' rows of tok_embd (no BOS; dequantised exactly);
//   SEAT sentence encodings (sent-bias for causal LMs): the last hidden state (after the final norm,
//   hook `final.norm`) mean-pooled over the sentence's tokens (BOS, when the model adds one, is fed but
//   not pooled), then L2-normalised.
//
//   auto s = gb::probes::session_open(path);
//   auto lookup = gb::probes::input_embedding_lookup(s.value());   // std::function<vector<float>(word)>
//   gb::probes::weat_run(test, lookup);
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "probes/session.h"

namespace gb::probes {

using vector_lookup = std::function<std::vector<float>(const std::string&)>;

// Throws gb::failure when the model has no tokenizer or no token embedding.
vector_lookup input_embedding_lookup(session& s);
// Throws gb::failure when the model cannot be run or has no tokenizer.
vector_lookup sentence_encoding_lookup(session& s);

}  // namespace gb::probes
