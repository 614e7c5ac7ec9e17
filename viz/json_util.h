// viz/json_util.h: the JSON helpers every renderer (viz/*.cpp) and every --json command (cli/) shares: a
// number that is null when not finite, findings as objects, and text that never throws on bad UTF-8 from a
// file. For .cpp files of viz/ and cli/ only: library headers never expose nlohmann types. Templates over
// the JSON type (nlohmann::json, or ordered_json where key order is the document's).
//
//   nlohmann::ordered_json j;
//   j["alpha"] = gb::viz::num<nlohmann::ordered_json>(x);        // null for NaN / inf
//   j["findings"] = gb::viz::findings_json<nlohmann::ordered_json>(fs);
//   std::string text = gb::viz::json_text(j);                    // compact; json_text(j, 2): indented
#pragma once

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/error.h"

namespace gb::viz {

template <class J = nlohmann::json>
J num(double v) {
  return std::isfinite(v) ? J(v) : J(nullptr);
}

// {severity, code, where, message[, offset]}
template <class J = nlohmann::json>
J finding_json(const finding& f) {
  J j{{"severity", severity_name(f.level)}, {"code", f.code}, {"where", f.where}, {"message", f.message}};
  if (f.offset != UINT64_MAX) j["offset"] = f.offset;
  return j;
}
template <class J = nlohmann::json>
J findings_json(const std::vector<finding>& fs) {
  J a = J::array();
  for (const finding& f : fs) a.push_back(finding_json<J>(f));
  return a;
}

// Compact (indent -1) or indented; invalid UTF-8 replaced, never throws.
template <class J>
std::string json_text(const J& j, int indent = -1) {
  return j.dump(indent, ' ', false, J::error_handler_t::replace);
}

}  // namespace gb::viz
