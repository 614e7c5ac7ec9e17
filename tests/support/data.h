// tests/support/data.h: real test data from ../shared/data, and helpers shared by the suites.
//
//   TEST_CASE("stories260K parses") {
//     GB_DATA(path, "models/stories260K/stories260K.gguf");   // skips (or fails under CI) when missing
//     ...
//   }
//   TEST_CASE("every encoding of stories260K") {
//     GB_DATA_ALL(paths, gb::test::stories260k_formats());    // all of them, or skip (fail under CI)
//     for (const std::string& p : paths) ...
//   }
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gb::test {

bool in_ci();                                   // env CI is set and not empty
std::string data_root();                        // GLASSBOX_DATA or <source>/../shared/data
std::string data_path(const std::string& rel);  // "" when missing
// data_path of every one of rels, in order; empty when any is missing (*missing: the first such rel).
std::vector<std::string> data_paths(const std::vector<std::string>& rels, std::string* missing);
// The one stories260K model in its four encodings: GGUF v3, GGUF v1, llama2.c .bin, the HF folder.
std::vector<std::string> stories260k_formats();
std::string temp_dir(const std::string& name);  // fresh empty folder under the build dir
std::string glassbox_binary();                  // path of the built CLI (env GLASSBOX)
// A file's bytes, or its text (both throw std::runtime_error "cannot read PATH" when it cannot be read).
std::vector<uint8_t> read_file(const std::string& path);
std::string read_text(const std::string& path);
void write_file(const std::string& path, const void* data, size_t size);
// The bytes of v as f32 (a tensor_data's payload: {"w", gb::dtype::f32, {2, 2}, f32_bytes({1, 2, 3, 4})}).
std::vector<uint8_t> f32_bytes(const std::vector<float>& v);
void write_file(const std::string& path, const std::string& text);
// Runs a shell command; appends its stdout to *out (when out). Returns its exit status, -1 when it could not
// run or did not exit.
int run_command(const std::string& cmd, std::string* out);
// s in single quotes, for the command lines of run_command and run_glassbox (s holds no quote itself).
std::string quoted(const std::string& s);
// Runs the CLI with args (shell-quoted by the caller); captures stdout (and stderr when merge_stderr).
int run_glassbox(const std::string& args, std::string* out, bool merge_stderr = false);
// run_glassbox that also gives the child's peak resident set (KiB, from wait4; the CLI runs directly, no
// shell in between, so it is the CLI's own).
int run_glassbox_maxrss(const std::vector<std::string>& args, std::string* out, long* maxrss_kib);
// The NODE_PATH holding npm's node-llama-cpp (env LLAMACPP_NODE_PATH, else <source>/bench/node_modules, where
// tools/setup.sh installs it) when it and node are installed; "" otherwise.
std::string llamacpp_node_path();

}  // namespace gb::test

#define GB_DATA(var, rel)                                                 \
  const std::string var = ::gb::test::data_path(rel);                     \
  if (var.empty()) {                                                      \
    if (::gb::test::in_ci()) FAIL("missing shared test data: " << (rel)); \
    MESSAGE("SKIP: shared test data not found: " << (rel));               \
    return;                                                               \
  }

// GB_DATA for a list of paths: var is every path, or the test case skips (fails under CI) naming the first
// one missing.
#define GB_DATA_ALL(var, rels)                                                         \
  std::string var##_missing;                                                           \
  const std::vector<std::string> var = ::gb::test::data_paths((rels), &var##_missing); \
  if (var.empty()) {                                                                   \
    if (::gb::test::in_ci()) FAIL("missing shared test data: " << var##_missing);      \
    MESSAGE("SKIP: shared test data not found: " << var##_missing);                    \
    return;                                                                            \
  }
