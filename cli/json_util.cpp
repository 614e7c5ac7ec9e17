#include "cli/json_util.h"

#include <cmath>
#include <cstdio>

#include "cli/options.h"
#include "viz/json_util.h"

namespace gb::cli {

json num(double v) {
  return viz::num<json>(v);
}

json finding_json(const finding& f) {
  return viz::finding_json<json>(f);
}

json findings_json(const std::vector<finding>& fs) {
  return viz::findings_json<json>(fs);
}

std::string json_dump(const json& j, int indent) {
  return viz::json_text(j, indent);
}

json with_schema(const json& j, const std::string& command) {
  if (!j.is_object()) return j;
  json out;
  out["schema"] =
      j.contains("schema") ? j["schema"] : json("glassbox-" + command + "/1");  // an existing one stays
  for (const auto& [k, v] : j.items())
    if (k != "schema") out[k] = v;
  return out;
}

void print_json(const json& j) {
  std::printf("%s\n", json_dump(with_schema(j, current_command())).c_str());
}

void print_json_text(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {  // not ours to fix: print as is rather than lose it
    std::printf("%s\n", text.c_str());
    return;
  }
  print_json(j);
}

}  // namespace gb::cli
