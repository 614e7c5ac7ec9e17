// viz/report_tokenize.h: `glassbox tokenize` rendered from its ids: the ids on one line, one piece a line,
// the decoded text, or the --json document (tokenizer, ids, tokens, count, text). Renders only.
//
//   std::vector<int32_t> ids = tok.encode("Once upon a time", true, false);
//   std::fputs(gb::viz::tokenize_text(tok, ids, gb::viz::tokenize_view::ids).c_str(), stdout);
//   print(gb::viz::tokenize_json(tok, ids, "model.gguf", "Once upon a time"));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "probes/engine/tokenizer.h"

namespace gb::viz {

enum class tokenize_view { ids, pieces, decoded };  // "1 403 407", "403 -> 'Once'" a line, the text

std::string tokenize_text(const engine::tokenizer& tok, const std::vector<int32_t>& ids, tokenize_view view);
// compact, no schema key; source: the file the tokenizer came from, text: the input (or the decoded ids)
std::string tokenize_json(const engine::tokenizer& tok, const std::vector<int32_t>& ids,
                          const std::string& source, const std::string& text);

}  // namespace gb::viz
