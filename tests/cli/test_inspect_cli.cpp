// glassbox inspect and glassbox synth through the built binary: exit codes, JSON keys, one-line errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/data.h"

namespace {

using nlohmann::json;

int count_lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

json run_json(const std::string& args, int expect_rc = 0) {
  std::string out;
  int rc = gb::test::run_glassbox(args, &out);
  CHECK(rc == expect_rc);
  json j = json::parse(out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

}  // namespace

TEST_CASE("inspect: missing file, a directory, an empty file and bad bytes give one line and exit 3") {
  const std::string dir = gb::test::temp_dir("inspect_cli_errors");
  gb::test::write_file(dir + "/empty.gguf", "");
  gb::test::write_file(dir + "/junk.bin", std::string("\x01\x02\x03\x04 not a model"));
  std::string garbage = "GGUF";
  garbage += std::string("\x03\x00\x00\x00", 4) + std::string(16, '\xff');  // v3, absurd tensor count
  gb::test::write_file(dir + "/huge_count.gguf", garbage);
  std::filesystem::create_directories(dir + "/emptydir");
  struct bad {
    std::string path;
    const char* needle;
  };
  for (const bad& b : {bad{dir + "/does_not_exist.gguf", "not_found"}, bad{dir + "/emptydir", "is_directory"},
                       bad{dir + "/empty.gguf", "empty"}, bad{dir + "/junk.bin", "bad_magic"},
                       bad{dir + "/huge_count.gguf", "offset"}}) {
    CAPTURE(b.path);
    std::string out;
    int rc = gb::test::run_glassbox("inspect '" + b.path + "'", &out, true);
    CHECK(rc == 3);
    CHECK(count_lines(out) == 1);
    CHECK(out.rfind("glassbox inspect: ", 0) == 0);
    CHECK(out.find(" at byte offset ") == std::string::npos);  // internal codes only under --verbose / --json
    out.clear();
    CHECK(gb::test::run_glassbox("inspect --verbose '" + b.path + "'", &out, true) == 3);
    CHECK(count_lines(out) == 1);
    CHECK(out.find(b.needle) != std::string::npos);
  }
}

TEST_CASE("inspect: control bytes from a file never reach the terminal") {
  // GGUF v3, one f32 tensor of 8 elements whose name carries an ANSI escape, no metadata
  const std::string name = "\x1b[2Jevil";
  std::string g = "GGUF";
  auto u32 = [&](uint32_t v) { g.append(reinterpret_cast<const char*>(&v), 4); };
  auto u64 = [&](uint64_t v) { g.append(reinterpret_cast<const char*>(&v), 8); };
  u32(3), u64(1), u64(0);
  u64(name.size()), g += name, u32(1), u64(8), u32(0), u64(0);
  while (g.size() % 32) g += '\0';
  g += std::string(32, '\0');
  const std::string dir = gb::test::temp_dir("inspect_cli_escape");
  gb::test::write_file(dir + "/e.gguf", g);
  std::string out;
  REQUIRE(gb::test::run_glassbox("inspect --tensors '" + dir + "/e.gguf'", &out) == 0);
  CHECK(out.find('\x1b') == std::string::npos);
  CHECK(out.find("?[2Jevil") != std::string::npos);
}

TEST_CASE("inspect: usage errors exit 2") {
  std::string out;
  CHECK(gb::test::run_glassbox("inspect", &out, true) == 2);
  CHECK(gb::test::run_glassbox("inspect --no-such-option x", &out, true) == 2);
  CHECK(gb::test::run_glassbox("inspect x --fail-on sometimes", &out, true) == 2);
}

TEST_CASE("synth then inspect --json --tensors: keys, counts and roles") {
  const std::string dir = gb::test::temp_dir("inspect_cli_synth");
  std::string out;
  REQUIRE(gb::test::run_glassbox(
              "synth --arch qwen2 --layers 2 --dim 64 --heads 4 --kv-heads 2 --ff 128 --vocab 300 "
              "--ctx 64 --dtype q8_0 --seed 3 -o '" +
                  dir + "/m.gguf'",
              &out) == 0);
  json j = run_json("inspect --json --tensors '" + dir + "/m.gguf'");
  for (const char* k : {"format", "format_version", "architecture", "hyperparameters", "parameter_count",
                        "tensor_count", "tensors", "metadata", "license", "tokenizer", "findings"})
    CHECK_MESSAGE(j.contains(k), k);
  CHECK(j["format"] == "gguf");
  CHECK(j["format_version"] == "3");
  CHECK(j["architecture"] == "qwen2");
  CHECK(j["hyperparameters"]["n_layer"] == 2);
  CHECK(j["hyperparameters"]["n_head_kv"] == 2);
  CHECK(j["hyperparameters"]["n_ff"] == 128);
  CHECK(j["tokenizer"]["size"] == 300);
  REQUIRE(j["tensors"].is_array());
  CHECK(j["tensors"].size() == j["tensor_count"].get<size_t>());
  // qwen2: embedding, output norm, output; per layer: attn norm, q/k/v (+bias), o, ffn norm, gate, up, down
  CHECK(j["tensor_count"] == 3 + 2 * 12);
  size_t q8 = 0;
  for (const json& t : j["tensors"]) {
    for (const char* k : {"name", "role", "dtype", "shape", "offset", "bytes"}) CHECK(t.contains(k));
    CHECK(t["role"] != "unmapped");
    q8 += t["dtype"] == "q8_0";
  }
  CHECK(q8 == 1 + 1 + 2 * 7);  // matrices only
  CHECK(j["findings"].is_array());
  // without --tensors there is no tensor list
  json k = run_json("inspect --json '" + dir + "/m.gguf'");
  CHECK_FALSE(k.contains("tensors"));
  // text output names the architecture and the parameter count
  out.clear();
  CHECK(gb::test::run_glassbox("inspect '" + dir + "/m.gguf'", &out) == 0);
  CHECK(out.find("qwen2") != std::string::npos);
  CHECK(out.find(std::to_string(j["parameter_count"].get<uint64_t>()).substr(0, 2)) != std::string::npos);
}

TEST_CASE("inspect --fail-on: exit 1 when a finding reaches the level") {
  const std::string dir = gb::test::temp_dir("inspect_cli_failon");
  std::string out;
  REQUIRE(gb::test::run_glassbox(
              "synth --arch llama --layers 1 --dim 32 --heads 2 --ff 64 --vocab 64 -o '" + dir + "/m.gguf'",
              &out) == 0);
  CHECK(gb::test::run_glassbox("inspect --fail-on info '" + dir + "/m.gguf'", &out) ==
        0);  // no findings at all
  // a vocabulary-only GGUF has an info finding (no tensors)
  GB_DATA(vocab, "tokenizers/llama.cpp-vocab/ggml-vocab-gpt-2.gguf");
  CHECK(gb::test::run_glassbox("inspect --fail-on info '" + vocab + "'", &out) == 1);
  CHECK(gb::test::run_glassbox("inspect --fail-on high '" + vocab + "'", &out) == 0);
}

TEST_CASE("synth: usage errors exit 2, the same command twice writes the same bytes") {
  const std::string dir = gb::test::temp_dir("synth_cli");
  std::string out;
  CHECK(gb::test::run_glassbox("synth --arch nope -o '" + dir + "/x.gguf'", &out, true) == 2);
  CHECK(gb::test::run_glassbox("synth --heads 3 -o '" + dir + "/x.gguf'", &out, true) == 2);
  CHECK(gb::test::run_glassbox("synth --dtype q9 -o '" + dir + "/x.gguf'", &out, true) == 2);
  CHECK(gb::test::run_glassbox("synth", &out, true) == 2);
  const std::string args =
      "synth --arch gpt2 --layers 2 --dim 32 --heads 4 --ff 64 --vocab 100 --ctx 32 --seed 9 --plant "
      "zero:blk.0.attn.o.weight ";
  REQUIRE(gb::test::run_glassbox(args + "-o '" + dir + "/a.gguf'", &out) == 0);
  REQUIRE(gb::test::run_glassbox(args + "-o '" + dir + "/b.gguf'", &out) == 0);
  CHECK(gb::test::read_file(dir + "/a.gguf") == gb::test::read_file(dir + "/b.gguf"));
  json j = run_json(
      "synth --json --arch bloom --layers 1 --dim 32 --heads 4 --ff 64 --vocab 100 --format hf -o '" + dir +
      "/hf'");
  CHECK(j["architecture"] == "bloom");
  CHECK(j["files"].size() == 4);
  json k = run_json("inspect --json '" + dir + "/hf'");
  CHECK(k["format"] == "hf-folder");
  CHECK(k["family"] == "bloom");
  CHECK(k["hyperparameters"]["positions"] == "alibi");
}

TEST_CASE("inspect: stories260K in four formats reports the same model") {
  GB_DATA_ALL(paths, gb::test::stories260k_formats());  // GGUF v3, GGUF v1, llama2.c, HF folder
  uint64_t params = 0;
  for (const std::string& p : paths) {
    CAPTURE(p);
    json j = run_json("inspect --json '" + p + "'");
    CHECK(j["architecture"] == "llama");
    const json& h = j["hyperparameters"];
    CHECK(h["n_layer"] == 5);
    CHECK(h["n_head"] == 8);
    CHECK(h["n_head_kv"] == 4);
    CHECK(h["n_embd"] == 64);
    CHECK(h["n_ff"] == 172);
    CHECK(h["n_vocab"] == 512);
    if (!params) params = j["parameter_count"].get<uint64_t>();
    CHECK(j["parameter_count"] == params);
  }
}
