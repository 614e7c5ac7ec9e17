// cli/json_util.h: small helpers every subcommand uses for its --json output: metadata values, findings,
// hyperparameters and the inspect summary as JSON, and a dump that never throws on bad UTF-8 from a file.
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

#include "formats/archive.h"
#include "inspect/model.h"
#include "inspect/summary.h"

namespace gb::cli {

using json = nlohmann::ordered_json;

// A metadata value as JSON. Arrays longer than max_array become {"array_length": N, "first": [...]}
// so a 150k-token vocabulary does not flood the report.
json meta_json(const meta_value& v, size_t max_array = 64);
// {"key": value, ...} in file order
json metadata_json(const std::vector<std::pair<std::string, meta_value>>& md, size_t max_array = 64);

// v, or null when it is not finite (JSON has no NaN / inf)
json num(double v);
// {severity, code, where, message[, offset]}
json finding_json(const finding& f);
json findings_json(const std::vector<finding>& fs);

json hparams_json(const hparams& hp);
json summary_json(const model_summary& s);
// name, role, canonical, dtype, shape, file, offset, bytes; e = the role of tensor `index` or nullptr
json tensor_json(const archive& a, size_t index, const role_entry* e);

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
