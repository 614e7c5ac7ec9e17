#include "viz/json_schema.h"

#include <nlohmann/json.hpp>

namespace gb::viz {
namespace {

using json = nlohmann::json;

bool type_is(const json& v, const std::string& t) {
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  if (t == "integer") return v.is_number_integer() || (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<long long>(v.get<double>())));
  if (t == "number") return v.is_number();
  return false;
}

void check(const json& root, const json& s, const json& v, const std::string& at, std::vector<std::string>& errs, int depth) {
  if (depth > 64) {
    errs.push_back(at + ": schema nesting too deep");
    return;
  }
  if (s.is_boolean()) {
    if (!s.get<bool>()) errs.push_back(at + ": not allowed");
    return;
  }
  if (!s.is_object()) return;
  if (s.contains("$ref")) {
    std::string ref = s["$ref"].get<std::string>();
    const std::string prefix = "#/$defs/";
    if (ref.rfind(prefix, 0) != 0 || !root.contains("$defs") || !root["$defs"].contains(ref.substr(prefix.size()))) {
      errs.push_back(at + ": unresolvable $ref " + ref);
      return;
    }
    check(root, root["$defs"][ref.substr(prefix.size())], v, at, errs, depth + 1);
  }
  if (s.contains("type")) {
    bool ok = false;
    if (s["type"].is_string()) ok = type_is(v, s["type"].get<std::string>());
    else
      for (const auto& t : s["type"]) ok = ok || type_is(v, t.get<std::string>());
    if (!ok) {
      errs.push_back(at + ": expected type " + s["type"].dump() + ", found " + v.type_name());
      return;
    }
  }
  if (s.contains("const") && v != s["const"]) errs.push_back(at + ": expected " + s["const"].dump() + ", found " + v.dump());
  if (s.contains("enum")) {
    bool found = false;
    for (const auto& e : s["enum"]) found = found || e == v;
    if (!found) errs.push_back(at + ": " + v.dump() + " is not one of " + s["enum"].dump());
  }
  if (v.is_number()) {
    if (s.contains("minimum") && v.get<double>() < s["minimum"].get<double>()) errs.push_back(at + ": below minimum");
    if (s.contains("maximum") && v.get<double>() > s["maximum"].get<double>()) errs.push_back(at + ": above maximum");
  }
  if (v.is_string()) {
    size_t n = v.get<std::string>().size();
    if (s.contains("minLength") && n < s["minLength"].get<size_t>()) errs.push_back(at + ": string shorter than minLength");
    if (s.contains("maxLength") && n > s["maxLength"].get<size_t>()) errs.push_back(at + ": string longer than maxLength");
  }
  if (v.is_array()) {
    if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) errs.push_back(at + ": fewer than minItems");
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) errs.push_back(at + ": more than maxItems");
    if (s.contains("items"))
      for (size_t i = 0; i < v.size(); ++i) check(root, s["items"], v[i], at + "/" + std::to_string(i), errs, depth + 1);
  }
  if (v.is_object()) {
    if (s.contains("required"))
      for (const auto& r : s["required"])
        if (!v.contains(r.get<std::string>())) errs.push_back(at + ": missing required '" + r.get<std::string>() + "'");
    const json* props = s.contains("properties") ? &s["properties"] : nullptr;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (props && props->contains(it.key())) check(root, (*props)[it.key()], it.value(), at + "/" + it.key(), errs, depth + 1);
      else if (s.contains("additionalProperties") && s["additionalProperties"].is_boolean() && !s["additionalProperties"].get<bool>())
        errs.push_back(at + ": unexpected property '" + it.key() + "'");
    }
  }
}

}  // namespace

std::vector<std::string> json_schema_validate(const std::string& schema_text, const std::string& doc_text) {
  std::vector<std::string> errs;
  json s = json::parse(schema_text, nullptr, false), d = json::parse(doc_text, nullptr, false);
  if (s.is_discarded()) return {"schema: not valid JSON"};
  if (d.is_discarded()) return {"document: not valid JSON"};
  check(s, s, d, "", errs, 0);
  return errs;
}

}  // namespace gb::viz
