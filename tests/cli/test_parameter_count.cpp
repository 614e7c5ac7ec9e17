// One parameter count everywhere: the same stories260K weights as GGUF, llama2.c, safetensors, an HF folder
// and ONNX (whose tied output head is stored transposed, as a MatMul initializer) give one number in
// inspect (text and JSON), graph (architecture and ONNX op graphs), diff and the audit report, each saying
// what it counts ("tied output counted once").
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/data.h"

namespace {

using nlohmann::json;

const char* const k_expected = "260.03K parameters (260,032; tied output counted once)";

std::string run_ok(const std::string& args) {
  std::string out;
  const int rc = gb::test::run_glassbox(args, &out, true);
  INFO(args);
  INFO(out);
  CHECK(rc == 0);
  return out;
}

}  // namespace

TEST_CASE("stories260K in five containers: inspect, graph and diff print the same parameter count") {
  GB_DATA(root, "models/stories260K");
  const std::string dir = gb::test::temp_dir("parameter_count");
  for (const char* rel :
       {"stories260K.gguf", "stories260K.bin", "hf/model.safetensors", "hf", "stories260K.onnx"}) {
    const std::string path = root + "/" + rel;
    INFO(rel);
    CHECK(run_ok("inspect " + path).find(std::string("parameters         ") + k_expected) !=
          std::string::npos);
    const json j = json::parse(run_ok("inspect " + path + " --json"));
    CHECK(j["parameter_count"] == 260032);
    CHECK(j["parameter_count_text"] == k_expected);
    // the architecture graph, and for ONNX the op graph too (its title, as JSON)
    run_ok("graph " + path + " --view arch -o " + dir + "/arch.json");
    CHECK(json::parse(gb::test::read_text(dir + "/arch.json"))["title"].get<std::string>().find(k_expected) !=
          std::string::npos);
    if (std::string(rel).find(".onnx") != std::string::npos) {
      run_ok("graph " + path + " -o " + dir + "/ops.json");
      const std::string title = json::parse(gb::test::read_text(dir + "/ops.json"))["title"];
      CHECK(title.rfind("ONNX ", 0) == 0);
      CHECK(title.find(k_expected) != std::string::npos);
    }
    // diff against the GGUF: both sides, text and JSON
    const std::string gguf = root + "/stories260K.gguf";
    CHECK(run_ok("diff " + gguf + " " + path)
              .find(std::string("parameters: A ") + k_expected + ", B " + k_expected) != std::string::npos);
    const json d = json::parse(run_ok("diff " + gguf + " " + path + " --json"));
    CHECK(d["parameters"]["a"] == k_expected);
    CHECK(d["parameters"]["b"] == k_expected);
  }
}

TEST_CASE("the audit report states the same parameter count (GGUF and ONNX)") {
  GB_DATA(root, "models/stories260K");
  for (const char* rel : {"stories260K.gguf", "stories260K.onnx"}) {
    INFO(rel);
    const std::string out = gb::test::temp_dir("parameter_count_audit");
    run_ok("audit " + root + "/" + rel + " -o " + out + " --suite none --no-spectral --threads 1");
    const json r = json::parse(gb::test::read_text(out + "/report.json"));
    CHECK(r["identity"]["parameter_count"] == 260032);
    CHECK(r["identity"]["parameter_count_text"] == k_expected);
    CHECK(gb::test::read_text(out + "/report.html").find(k_expected) != std::string::npos);
    CHECK(gb::test::read_text(out + "/MODEL_CARD.md").find(k_expected) != std::string::npos);
  }
}
