// cli/json_util.h: small helpers every subcommand uses for its --json output: numbers, findings, and a dump
// that never throws on bad UTF-8 from a file (the documents themselves are rendered in viz/).
// CLI-internal (the library headers never expose nlohmann types); key order is insertion order.
//
//   nlohmann::ordered_json j;
//   j["findings"] = gb::cli::findings_json(archive.findings);
//   std::puts(gb::cli::json_dump(j).c_str());
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/error.h"

namespace gb::cli {

using json = nlohmann::ordered_json;

// v, or null when it is not finite (JSON has no NaN / inf)
json num(double v);
// {severity, code, where, message[, offset]}
json finding_json(const finding& f);
json findings_json(const std::vector<finding>& fs);

// Pretty (indent 2) or compact; invalid UTF-8 replaced, never throws.
std::string json_dump(const json& j, int indent = 2);

// Every command's --json output: printed to stdout with indent 2 and "schema": "glassbox-<command>/1" as the
// first key. print_json_text takes a document rendered elsewhere (viz/) or by another json type.
void print_json(const json& j);
void print_json_text(const std::string& text);
template <class J>
void print_json(const J& j) {
  print_json_text(j.dump(-1, ' ', false, J::error_handler_t::replace));
}
// The document with the schema key first (for files written next to stdout, e.g. report.json).
json with_schema(const json& j, const std::string& command);

}  // namespace gb::cli
