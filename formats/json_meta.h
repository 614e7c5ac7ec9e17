// formats/json_meta.h: JSON text -> meta_value, for every loader that reads JSON from a model file
// (safetensors headers, shard indexes, config.json, tokenizer.json ...).
//
// Hostile-input rules: UTF-8 checked, nesting depth capped, duplicate object keys rejected (nlohmann
// would silently keep the last one, which lets two readers of one file see different models).
// Errors are gb::failure with errc::bad_json / bad_utf8 / duplicate / limit and an absolute byte offset
// (base_offset + position in the text).
//
//   gb::meta_value v = gb::meta_from_json_text(text, /*base_offset=*/8, "safetensors");
//   for (const auto& [key, value] : v.obj) ...
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "formats/archive.h"

namespace gb {

inline constexpr int kJsonMaxDepth = 64;

// Nesting check for any JSON text before it reaches a parser (nlohmann's DOM parse has no depth limit:
// 8 MB of '[' cost 420 MB of heap). One linear pass, no allocation; string contents are skipped. Returns
// the byte offset (in `text`) of the first '[' or '{' that opens level max_depth + 1, or nullopt.
//
//   if (auto at = gb::json_depth_exceeded(text)) -> reject, naming *at
//   gb::json_check_depth(text, 0, "bias data");   // the same as errc::limit "<format>: JSON nesting ..."
std::optional<uint64_t> json_depth_exceeded(std::string_view text, int max_depth = kJsonMaxDepth);
void json_check_depth(std::string_view text, uint64_t base_offset, const char* format,
                      int max_depth = kJsonMaxDepth);

// Parses one JSON document. Objects keep file order in meta_value::obj. Numbers: non-negative integers
// -> uinteger, negative integers -> integer, others -> floating. `format` prefixes error messages.
meta_value meta_from_json_text(std::string_view text, uint64_t base_offset, const char* format,
                               int max_depth = kJsonMaxDepth);

}  // namespace gb
