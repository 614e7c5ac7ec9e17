#include "viz/json_schema.h"

#include <nlohmann/json.hpp>
#include <regex>

namespace gb::viz {
namespace {

using json = nlohmann::json;

bool type_is(const json& v, const std::string& t) {
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  if (t == "integer")
    return v.is_number_integer() ||
           (v.is_number_float() &&
            v.get<double>() == static_cast<double>(static_cast<long long>(v.get<double>())));
  if (t == "number") return v.is_number();
  return false;
}

// Every schema of one validation, by "$id" (a "$ref" to one of them switches the root its "#/$defs/" resolve
// in).
using schema_set = std::vector<const json*>;

const json* schema_by_id(const schema_set& all, const std::string& id) {
  for (const json* s : all)
    if (s->is_object() && s->value("$id", "") == id) return s;
  return nullptr;
}

void check(const schema_set& all, const json& root, const json& s, const json& v, const std::string& at,
           std::vector<std::string>& errs, int depth);

// anyOf / if-then: validates into a scratch list, so a failed alternative adds nothing by itself.
bool passes(const schema_set& all, const json& root, const json& s, const json& v, const std::string& at,
            int depth) {
  std::vector<std::string> scratch;
  check(all, root, s, v, at, scratch, depth + 1);
  return scratch.empty();
}

void check_ref(const schema_set& all, const json& root, const std::string& ref, const json& v,
               const std::string& at, std::vector<std::string>& errs, int depth) {
  const std::string prefix = "#/$defs/";
  if (ref.rfind(prefix, 0) == 0 && root.contains("$defs") &&
      root["$defs"].contains(ref.substr(prefix.size())))
    return check(all, root, root["$defs"][ref.substr(prefix.size())], v, at, errs, depth + 1);
  if (const json* other = schema_by_id(all, ref)) return check(all, *other, *other, v, at, errs, depth + 1);
  errs.push_back(at + ": unresolvable $ref " + ref);
}

void check(const schema_set& all, const json& root, const json& s, const json& v, const std::string& at,
           std::vector<std::string>& errs, int depth) {
  if (depth > 64) {
    errs.push_back(at + ": schema nesting too deep");
    return;
  }
  if (s.is_boolean()) {
    if (!s.get<bool>()) errs.push_back(at + ": not allowed");
    return;
  }
  if (!s.is_object()) return;
  if (s.contains("$ref")) check_ref(all, root, s["$ref"].get<std::string>(), v, at, errs, depth);
  if (s.contains("anyOf")) {
    bool any = false;
    for (const auto& alt : s["anyOf"]) any = any || passes(all, root, alt, v, at, depth);
    if (!any) errs.push_back(at + ": matches none of the anyOf alternatives");
  }
  if (s.contains("if") && s.contains("then") && passes(all, root, s["if"], v, at, depth))
    check(all, root, s["then"], v, at, errs, depth + 1);
  if (s.contains("type")) {
    bool ok = false;
    if (s["type"].is_string())
      ok = type_is(v, s["type"].get<std::string>());
    else
      for (const auto& t : s["type"]) ok = ok || type_is(v, t.get<std::string>());
    if (!ok) {
      errs.push_back(at + ": expected type " + s["type"].dump() + ", found " + v.type_name());
      return;
    }
  }
  if (s.contains("const") && v != s["const"])
    errs.push_back(at + ": expected " + s["const"].dump() + ", found " + v.dump());
  if (s.contains("enum")) {
    bool found = false;
    for (const auto& e : s["enum"]) found = found || e == v;
    if (!found) errs.push_back(at + ": " + v.dump() + " is not one of " + s["enum"].dump());
  }
  if (v.is_number()) {
    if (s.contains("minimum") && v.get<double>() < s["minimum"].get<double>())
      errs.push_back(at + ": below minimum");
    if (s.contains("maximum") && v.get<double>() > s["maximum"].get<double>())
      errs.push_back(at + ": above maximum");
    if (s.contains("exclusiveMinimum") && v.get<double>() <= s["exclusiveMinimum"].get<double>())
      errs.push_back(at + ": not above exclusiveMinimum");
  }
  if (v.is_string()) {
    size_t n = v.get<std::string>().size();
    if (s.contains("minLength") && n < s["minLength"].get<size_t>())
      errs.push_back(at + ": string shorter than minLength");
    if (s.contains("maxLength") && n > s["maxLength"].get<size_t>())
      errs.push_back(at + ": string longer than maxLength");
    if (s.contains("pattern") &&
        !std::regex_search(v.get<std::string>(), std::regex(s["pattern"].get<std::string>())))
      errs.push_back(at + ": " + v.dump() + " does not match pattern " + s["pattern"].get<std::string>());
  }
  if (v.is_array()) {
    if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>())
      errs.push_back(at + ": fewer than minItems");
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>())
      errs.push_back(at + ": more than maxItems");
    if (s.contains("items"))
      for (size_t i = 0; i < v.size(); ++i)
        check(all, root, s["items"], v[i], at + "/" + std::to_string(i), errs, depth + 1);
  }
  if (v.is_object()) {
    if (s.contains("required"))
      for (const auto& r : s["required"])
        if (!v.contains(r.get<std::string>()))
          errs.push_back(at + ": missing required '" + r.get<std::string>() + "'");
    if (s.contains("minProperties") && v.size() < s["minProperties"].get<size_t>())
      errs.push_back(at + ": fewer than minProperties");
    const json* props = s.contains("properties") ? &s["properties"] : nullptr;
    const json* extra = s.contains("additionalProperties") ? &s["additionalProperties"] : nullptr;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (props && props->contains(it.key()))
        check(all, root, (*props)[it.key()], it.value(), at + "/" + it.key(), errs, depth + 1);
      else if (extra && extra->is_boolean() && !extra->get<bool>())
        errs.push_back(at + ": unexpected property '" + it.key() + "'");
      else if (extra && extra->is_object())
        check(all, root, *extra, it.value(), at + "/" + it.key(), errs, depth + 1);
    }
  }
}

}  // namespace

std::vector<std::string> json_schema_validate(const std::string& schema_text, const std::string& doc_text) {
  return json_schema_validate(std::vector<std::string>{schema_text}, doc_text);
}

std::vector<std::string> json_schema_validate(const std::vector<std::string>& schema_texts,
                                              const std::string& doc_text) {
  std::vector<std::string> errs;
  std::vector<json> schemas;
  for (const std::string& t : schema_texts) {
    schemas.push_back(json::parse(t, nullptr, false));
    if (schemas.back().is_discarded()) return {"schema: not valid JSON"};
  }
  json d = json::parse(doc_text, nullptr, false);
  if (schemas.empty()) return {"schema: none given"};
  if (d.is_discarded()) return {"document: not valid JSON"};
  schema_set all;
  for (const json& s : schemas) all.push_back(&s);
  check(all, schemas[0], schemas[0], d, "", errs, 0);
  return errs;
}

}  // namespace gb::viz
