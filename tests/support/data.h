// tests/support/data.h: real test data from ../shared/data, and helpers shared by the suites.
//
//   TEST_CASE("stories260K parses") {
//     GB_DATA(path, "models/stories260K/stories260K.gguf");   // skips (or fails under CI) when missing
//     ...
//   }
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gb::test {

bool in_ci();                                       // env CI is set and not empty
std::string data_root();                            // GLASSBOX_DATA or <source>/../shared/data
std::string data_path(const std::string& rel);      // "" when missing
std::string temp_dir(const std::string& name);      // fresh empty folder under the build dir
std::string glassbox_binary();                      // path of the built CLI (env GLASSBOX)
std::vector<uint8_t> read_file(const std::string& path);
void write_file(const std::string& path, const void* data, size_t size);
void write_file(const std::string& path, const std::string& text);
// Runs the CLI with args (shell-quoted by the caller); captures stdout (and stderr when merge_stderr).
int run_glassbox(const std::string& args, std::string* out, bool merge_stderr = false);

}  // namespace gb::test

#define GB_DATA(var, rel)                                                   \
  const std::string var = ::gb::test::data_path(rel);                       \
  if (var.empty()) {                                                        \
    if (::gb::test::in_ci()) FAIL("missing shared test data: " << (rel));  \
    MESSAGE("SKIP: shared test data not found: " << (rel));                 \
    return;                                                                 \
  }
