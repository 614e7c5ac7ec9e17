// viz/report_tokenize.cpp: `glassbox tokenize` as text or JSON (viz/report_tokenize.h).
#include "viz/report_tokenize.h"

#include <nlohmann/json.hpp>

#include "viz/json_util.h"
#include "viz/text.h"
#include "viz/text_table.h"

namespace gb::viz {

std::string tokenize_text(const engine::tokenizer& tok, const std::vector<int32_t>& ids, tokenize_view view) {
  if (view == tokenize_view::decoded) return tok.decode(ids) + "\n";
  std::string out;
  if (view == tokenize_view::pieces) {
    for (const int32_t id : ids) out += strf("%d -> %s\n", id, text_quote(tok.token_piece(id)).c_str());
    return out;
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ' ';
    out += std::to_string(ids[i]);
  }
  return out + "\n";
}

std::string tokenize_json(const engine::tokenizer& tok, const std::vector<int32_t>& ids,
                          const std::string& source, const std::string& text) {
  nlohmann::json j;
  j["tokenizer"] = {{"kind", engine::tokenizer_kind_name(tok.kind())},
                    {"pre", tok.pre()},
                    {"vocab_size", tok.size()},
                    {"bos_id", tok.bos_id()},
                    {"eos_id", tok.eos_id()},
                    {"source", source}};
  j["ids"] = ids;
  nlohmann::json pieces = nlohmann::json::array();
  for (const int32_t id : ids)
    pieces.push_back({{"id", id}, {"piece", tok.token_text(id)}, {"text", tok.token_piece(id)}});
  j["tokens"] = pieces;
  j["count"] = ids.size();
  j["text"] = text;
  return json_text(j);
}

}  // namespace gb::viz
