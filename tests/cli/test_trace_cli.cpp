// tests/cli/test_trace_cli.cpp: `glassbox trace` and `glassbox patch` end to end (exit codes, JSON,
// charts, export, aggregates, hook errors).
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/data.h"
#include "viz/xml_check.h"

using gb::test::quoted;
using gb::test::read_text;
using gb::test::run_glassbox;

namespace {}  // namespace

TEST_CASE("trace: usage errors and bad input") {
  std::string out;
  CHECK(run_glassbox("trace", &out, true) == 2);
  CHECK(run_glassbox("trace x.gguf", &out, true) == 2);  // neither --prompt nor --prompts
  std::string dir = gb::test::temp_dir("trace_cli_bad");
  CHECK(run_glassbox("trace " + quoted(dir + "/missing.gguf") + " --prompt hi", &out, true) == 3);
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  // A hook pattern that matches nothing lists the available names.
  CHECK(run_glassbox("trace " + quoted(model) + " --prompt hi --hooks 'blk.*.nothing'", &out, true) == 2);
  CHECK(out.find("matches no hook point") != std::string::npos);
  CHECK(out.find("blk.N.attn.probs") != std::string::npos);
  CHECK(run_glassbox("trace " + quoted(model) + " --prompts " + quoted(dir + "/none.txt"), &out, true) == 3);
}

TEST_CASE("trace: stories260K JSON, charts and npy export") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  std::string dir = gb::test::temp_dir("trace_cli");
  std::string out;
  REQUIRE(run_glassbox("trace " + quoted(model) + " --prompt 'Once upon a time' --json -o " +
                           quoted(dir + "/charts") +
                           " --hooks 'blk.*.resid.post,blk.0.attn.probs' --export " + quoted(dir + "/npy"),
                       &out) == 0);
  auto j = nlohmann::json::parse(out);
  CHECK(j["trace"]["prediction"]["id"] == 432);
  CHECK(j["trace"]["tokens"] == nlohmann::json::array({1, 403, 407, 261, 378}));
  CHECK(j["trace"]["layers"].size() == 5);
  CHECK(j["trace"]["heads"].size() == 40);
  CHECK(j["trace"]["hooks"].size() == 6);
  CHECK(j["export"]["tensors"].size() == 6);
  bool found = false;
  for (const auto& e : j["trace"]["logit_lens"])
    if (e["layer"] == 4 && e["position"] == 4) {
      found = true;
      CHECK(e["top"][0]["id"] == 432);
    }
  CHECK(found);
  CHECK(std::filesystem::exists(dir + "/npy/blk.0.attn.probs.npy"));
  CHECK(std::filesystem::file_size(dir + "/npy/blk.4.resid.post.npy") == 128 + 5 * 64 * 4);
  for (const char* f : {"resid_norms.svg", "logit_lens.svg", "attn_L0_H0.svg", "head_entropy.svg"}) {
    CAPTURE(f);
    const auto r = gb::viz::xml_check(read_text(dir + "/charts/" + f));
    CHECK(r.ok);
  }
  // index.html links every SVG written, and the text report
  const std::string index = read_text(dir + "/charts/index.html");
  CHECK(index.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(index.find("href=\"trace.txt\"") != std::string::npos);
  size_t svgs = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/charts"))
    if (e.path().extension() == ".svg") {
      ++svgs;
      CAPTURE(e.path().filename().string());
      CHECK(index.find("<img src=\"" + e.path().filename().string() + "\"") != std::string::npos);
    }
  CHECK(svgs >= 4u);
}

TEST_CASE("trace --prompts aggregates; patch end to end") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  std::string dir = gb::test::temp_dir("trace_cli_agg");
  gb::test::write_file(dir + "/p.txt", std::string("Once upon a time\n\nThe cat sat\nLily was happy\n"));
  std::string out;
  REQUIRE(run_glassbox("trace " + quoted(model) + " --prompts " + quoted(dir + "/p.txt") + " --json", &out) ==
          0);
  auto j = nlohmann::json::parse(out);
  CHECK(j["aggregate"]["prompts"] == 3);
  CHECK(j["aggregate"]["heads"].size() == 40);
  CHECK(run_glassbox("trace " + quoted(model) + " --prompts " + quoted(dir + "/p.txt") + " --export " +
                         quoted(dir + "/x"),
                     &out, true) == 2);

  std::string pout;  // run_glassbox appends: a fresh buffer per JSON document
  REQUIRE(run_glassbox("patch " + quoted(model) +
                           " --clean 'Once upon a time' --corrupt 'Once upon a day' --metric "
                           "logit-diff:432,there --json -o " +
                           quoted(dir + "/patch"),
                       &pout) == 0);
  auto p = nlohmann::json::parse(pout);
  CHECK(p["metric"]["a"]["id"] == 432);
  CHECK(p["components"].size() == 5 * 5 + 2 * 5 + 5 * 8);
  CHECK(std::filesystem::exists(dir + "/patch/patch_heads.svg"));
  CHECK(read_text(dir + "/patch/index.html").find("href=\"patch_heads.svg\"") != std::string::npos);
  std::string eout;
  CHECK(run_glassbox("patch " + quoted(model) +
                         " --clean 'Once upon a time' --corrupt 'Once' --metric logit-diff:432,there",
                     &eout, true) == 2);
  CHECK(eout.find("must be equal") != std::string::npos);
  CHECK(run_glassbox("patch " + quoted(model) + " --clean a --corrupt b --metric logit-diff:432", &out,
                     true) == 2);
  CHECK(run_glassbox("patch " + quoted(model) + " --clean a --corrupt b --metric 'logit-diff:432,zzzqqq xx'",
                     &out, true) == 2);
}
