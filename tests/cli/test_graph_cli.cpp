// tests/cli/test_graph_cli.cpp: `glassbox graph` end to end (exit codes, output formats, overlay, diff).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/data.h"
#include "viz/xml_check.h"

using gb::test::quoted;
using gb::test::read_text;
using gb::test::run_glassbox;

namespace {
bool any_text_contains(const gb::viz::xml_report& r, const std::string& needle) {
  for (const auto& t : r.texts)
    if (t.find(needle) != std::string::npos) return true;
  return false;
}
}  // namespace

TEST_CASE("graph: usage errors and bad input") {
  std::string out;
  CHECK(run_glassbox("graph", &out, true) == 2);
  CHECK(run_glassbox("graph x.gguf", &out, true) == 2);            // no -o
  CHECK(run_glassbox("graph x.gguf -o x.bmpx", &out, true) == 2);  // unknown format
  CHECK(run_glassbox("graph x.gguf -o x.svg --view sideways", &out, true) == 2);
  std::string dir = gb::test::temp_dir("graph_cli_bad");
  CHECK(run_glassbox("graph " + quoted(dir + "/missing.gguf") + " -o " + quoted(dir + "/m.svg"), &out,
                     true) == 3);
  CHECK(out.find("glassbox graph: ") != std::string::npos);
  gb::test::write_file(dir + "/empty.gguf", std::string());
  CHECK(run_glassbox("graph " + quoted(dir + "/empty.gguf") + " -o " + quoted(dir + "/m.svg"), &out, true) ==
        3);
}

TEST_CASE("graph: stories260K GGUF to SVG, PNG, DOT and JSON") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  std::string dir = gb::test::temp_dir("graph_cli");
  std::string out;
  REQUIRE(run_glassbox("graph " + quoted(model) + " -o " + quoted(dir + "/g.svg"), &out, true) == 0);
  CHECK(out.find("wrote") != std::string::npos);
  auto x = gb::viz::xml_check(read_text(dir + "/g.svg"));
  REQUIRE_MESSAGE(x.ok, x.error);
  CHECK(any_text_contains(x, "attn.q"));
  CHECK(any_text_contains(x, "x 5"));
  CHECK(any_text_contains(x, "token embedding"));

  REQUIRE(run_glassbox("graph " + quoted(model) + " -o " + quoted(dir + "/g.png"), &out, true) == 0);
  CHECK(read_text(dir + "/g.png").compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);

  REQUIRE(run_glassbox("graph " + quoted(model) + " --expand -o " + quoted(dir + "/g.dot"), &out, true) == 0);
  std::string dot = read_text(dir + "/g.dot");
  CHECK(dot.rfind("digraph", 0) == 0);
  CHECK(dot.find("blk.4.mlp.down") != std::string::npos);

  out.clear();
  REQUIRE(run_glassbox("graph " + quoted(model) + " -o " + quoted(dir + "/g.json") + " --json", &out,
                       false) == 0);
  auto summary = nlohmann::json::parse(out);
  CHECK(summary["format"] == "json");
  auto j = nlohmann::json::parse(read_text(dir + "/g.json"));
  CHECK(j["nodes"].size() == summary["nodes"].get<size_t>());
  CHECK(j["clusters"][0]["fold"] == 5);

  CHECK(run_glassbox("graph " + quoted(model) + " --view ops -o " + quoted(dir + "/o.svg"), &out, true) ==
        3);  // no op graph
}

TEST_CASE("graph: overlay and diff") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(hf, "models/stories260K/hf");
  std::string dir = gb::test::temp_dir("graph_cli_overlay");
  std::string out;
  REQUIRE(run_glassbox("graph " + quoted(model) + " --overlay norm -o " + quoted(dir + "/n.svg"), &out,
                       true) == 0);
  auto x = gb::viz::xml_check(read_text(dir + "/n.svg"));
  REQUIRE_MESSAGE(x.ok, x.error);
  CHECK(any_text_contains(x, "norm (node colour)"));
  CHECK(run_glassbox("graph " + quoted(model) + " --overlay bogus -o " + quoted(dir + "/b.svg"), &out,
                     true) == 2);

  REQUIRE(run_glassbox("graph " + quoted(model) + " --diff " + quoted(hf) + " -o " + quoted(dir + "/d.json"),
                       &out, true) == 0);
  auto j = nlohmann::json::parse(read_text(dir + "/d.json"));
  CHECK(j["title"].get<std::string>().rfind("diff:", 0) == 0);
  size_t statuses = 0;
  for (const auto& n : j["nodes"]) statuses += n.contains("status");
  CHECK(statuses == j["nodes"].size());
}

TEST_CASE("graph: ONNX op graph") {
  GB_DATA(model, "models/stories260K/stories260K.onnx");
  std::string dir = gb::test::temp_dir("graph_cli_onnx");
  std::string out;
  REQUIRE(run_glassbox("graph " + quoted(model) + " -o " + quoted(dir + "/o.svg"), &out, true) == 0);
  auto x = gb::viz::xml_check(read_text(dir + "/o.svg"));
  REQUIRE_MESSAGE(x.ok, x.error);
  CHECK(any_text_contains(x, "MatMul"));
  REQUIRE(run_glassbox("graph " + quoted(model) + " --view arch -o " + quoted(dir + "/a.json"), &out, true) ==
          0);
  auto j = nlohmann::json::parse(read_text(dir + "/a.json"));
  // torch-export initializer names ("onnx::MatMul_12") say nothing, but the op graph gives every tensor its
  // role (inspect/onnx_arch.h): the llama architecture graph, 5 identical blocks folded, nothing unmapped.
  CHECK(j["nodes"].size() >= 3);
  bool unmapped = false;
  for (const auto& n : j["nodes"]) unmapped = unmapped || n["id"] == "unmapped";
  CHECK(!unmapped);
  REQUIRE(j["clusters"].size() == 1);
  CHECK(j["clusters"][0]["fold"] == 5);
}

TEST_CASE("graph: -o model.html writes one offline page with the graph and every tensor's statistics") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  std::string dir = gb::test::temp_dir("graph_cli_html"), out;
  REQUIRE(run_glassbox("graph " + quoted(model) + " -o " + quoted(dir + "/model.html"), &out, true) == 0);
  CHECK(out.find("(html,") != std::string::npos);
  std::string html = read_text(dir + "/model.html");
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(html.find("\"blk.4.attn.q.weight\":{") != std::string::npos);  // a tensor of the last of 5 blocks
  CHECK(html.find("src=") == std::string::npos);
  // --format html overrides the extension; the same input gives the same bytes
  REQUIRE(run_glassbox("graph " + quoted(model) + " --format html -o " + quoted(dir + "/again.page"), &out,
                       true) == 0);
  CHECK(read_text(dir + "/again.page") == html);  // the same bytes
  // ONNX: ops name their initializers by stored name; the page maps them to the statistics (canonical names)
  GB_DATA(onnx, "models/stories260K/stories260K.onnx");
  REQUIRE(run_glassbox("graph " + quoted(onnx) + " -o " + quoted(dir + "/onnx.html"), &out, true) == 0);
  const std::string page = read_text(dir + "/onnx.html");
  const size_t alias = page.find("\"alias\":{");
  REQUIRE(alias != std::string::npos);
  CHECK(page.find("\"onnx::MatMul_1233\":\"", alias) != std::string::npos);
}
