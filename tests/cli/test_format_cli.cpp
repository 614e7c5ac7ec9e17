// tests/cli/test_format_cli.cpp: `--format table|md|csv` on stats and bias: the same rows as --json, in the
// shared table renderer's three forms; an unknown format is a usage error before any work.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/data.h"

using gb::test::run_glassbox;

namespace {
std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  return out;
}
}  // namespace

TEST_CASE("stats --format: one row per tensor in Markdown, CSV and an aligned table") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  std::string js, md, csv, table, out;
  REQUIRE(run_glassbox("stats '" + model + "' --json", &js) == 0);
  const auto j = nlohmann::json::parse(js);
  const size_t tensors = j["tensors"].size();
  REQUIRE(tensors > 10u);
  REQUIRE(run_glassbox("stats '" + model + "' --format md", &md) == 0);
  auto l = lines_of(md);
  REQUIRE(l.size() == tensors + 2);
  CHECK(l[0].rfind("| tensor | dtype | shape | mean |", 0) == 0);
  CHECK(l[1].find("| ---: |") != std::string::npos);
  CHECK(l[2].rfind("| " + j["tensors"][0]["name"].get<std::string>() + " |", 0) == 0);
  REQUIRE(run_glassbox("stats '" + model + "' --format csv", &csv) == 0);
  l = lines_of(csv);
  REQUIRE(l.size() == tensors + 1);
  CHECK(l[0] == "tensor,dtype,shape,mean,std,min,max,l2,zeros %,kurtosis,outlier rows,outlier cols,note\r");
  CHECK(l.back().rfind(j["tensors"][tensors - 1]["name"].get<std::string>() + ",", 0) == 0);
  REQUIRE(run_glassbox("stats '" + model + "' --format table", &table) == 0);
  l = lines_of(table);
  REQUIRE(l.size() == tensors + 2);
  CHECK(l[1].find_first_not_of("- ") == std::string::npos);  // the rule under the header
  CHECK(run_glassbox("stats '" + model + "' --format xlsx", &out, true) == 2);
  CHECK(out.find("--format must be table, md or csv") != std::string::npos);
}

TEST_CASE(
    "bias --format csv: a row per group and metric, with the plain reading; unknown format fails first") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  std::string js, csv, out;
  REQUIRE(run_glassbox("bias '" + model + "' --suite templates --resamples 100 --json", &js) == 0);
  const auto j = nlohmann::json::parse(js);
  size_t metrics = 0;
  for (const auto& g : j["bias"][0]["groups"]) metrics += g["metrics"].size();
  REQUIRE(run_glassbox("bias '" + model + "' --suite templates --resamples 100 --format csv", &csv) == 0);
  auto l = lines_of(csv);
  REQUIRE(l.size() == metrics + 1);
  CHECK(l[0] == "suite,variant,group,n,metric,value,ci95 lo,ci95 hi,p,reading\r");
  CHECK(l[1].rfind("templates,logprob-diff,overall," +
                       std::to_string(j["bias"][0]["groups"][0]["n"].get<int>()) + ",pct_first_preferred,",
                   0) == 0);
  CHECK(l[1].find("0.5 is unbiased") != std::string::npos);
  CHECK(run_glassbox("bias '" + model + "' --suite templates --format docx", &out, true) == 2);
}

TEST_CASE("diff --format: the per-tensor table; the same weights in two formats are identical row by row") {
  GB_DATA(dir, "models/stories260K");
  std::string js, csv, md, out;
  const std::string ab = "'" + dir + "/stories260K.gguf' '" + dir + "/hf'";
  REQUIRE(run_glassbox("diff " + ab + " --json", &js) == 0);
  const auto j = nlohmann::json::parse(js);
  REQUIRE(run_glassbox("diff " + ab + " --all --format csv", &csv) == 0);
  auto l = lines_of(csv);
  REQUIRE(l.size() == j["tensors"].size() + 1);
  CHECK(l[0] == "tensor,status,dtype A,dtype B,rel_l2,cosine,max |a-b|,expected\r");
  for (size_t i = 1; i < l.size(); ++i) {
    CAPTURE(l[i]);
    CHECK(l[i].rfind(j["tensors"][i - 1]["name"].get<std::string>() + "," +
                         j["tensors"][i - 1]["status"].get<std::string>() + ",",
                     0) == 0);
  }
  // without --all, identical tensors are left out: only the header and rule remain in Markdown
  REQUIRE(run_glassbox("diff " + ab + " --format md", &md) == 0);
  size_t identical = 0;
  for (const auto& t : j["tensors"]) identical += t["status"] == "identical";
  CHECK(lines_of(md).size() == 2 + j["tensors"].size() - identical);
  CHECK(run_glassbox("diff " + ab + " --format tsv", &out, true) == 2);
}

TEST_CASE("bench --format csv: one row per test with llama-bench's columns") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  std::string csv, out;
  REQUIRE(run_glassbox("bench '" + model + "' -p 8 -n 4 -r 1 -t 1 --format csv", &csv) == 0);
  auto l = lines_of(csv);
  REQUIRE(l.size() == 3u);
  CHECK(l[0] == "model,threads,hook,test,t/s,stddev,runs\r");
  CHECK(l[1].rfind(model + ",1,none,pp8,", 0) == 0);
  CHECK(l[2].rfind(model + ",1,none,tg4,", 0) == 0);
  CHECK(l[2].substr(l[2].size() - 3) == ",1\r");  // one timed run
  CHECK(run_glassbox("bench '" + model + "' --format pdf", &out, true) == 2);
}
