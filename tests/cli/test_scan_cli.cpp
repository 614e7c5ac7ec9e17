// glassbox scan: exit codes, --json, SARIF 2.1.0 structure.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/data.h"

using namespace std::string_literals;

namespace {
std::string make_dir(const std::string& name, const std::vector<std::pair<std::string, std::string>>& files) {
  std::string d = gb::test::temp_dir(name);
  for (const auto& [n, b] : files) gb::test::write_file(d + "/" + n, b);
  return d;
}
}  // namespace

TEST_CASE("exit codes: 0 clean, 1 dangerous, 3 not scanned, 2 usage") {
  std::string clean = make_dir("scan_cli_clean", {{"README.md", "hello\n"}, {"ok.pkl", "\x80\x02}q\x00."s}});
  std::string out;
  CHECK(gb::test::run_glassbox("scan " + clean, &out) == 0);
  CHECK(out.find("2 files") != std::string::npos);
  std::string bad = make_dir("scan_cli_bad", {{"evil.pkl", "cos\nsystem\n(S'id'\ntR."s}});
  out.clear();
  CHECK(gb::test::run_glassbox("scan " + bad, &out) == 1);
  CHECK(out.find("os.system") != std::string::npos);
  std::string sz = make_dir("scan_cli_7z", {{"a.7z", "7z\xBC\xAF\x27\x1C\x00\x04"s}});
  CHECK(gb::test::run_glassbox("scan " + sz, nullptr) == 3);
  CHECK(gb::test::run_glassbox("scan", nullptr) == 2);
  CHECK(gb::test::run_glassbox("scan --fail-on nonsense " + clean, nullptr) == 2);
  // --fail-on lowers the bar: a suspicious (imported, never invoked) global fails at "suspicious"
  std::string sus = make_dir("scan_cli_sus", {{"s.pkl", "cmymod\nthing\n."s}});
  CHECK(gb::test::run_glassbox("scan " + sus, nullptr) == 0);
  CHECK(gb::test::run_glassbox("scan --fail-on suspicious " + sus, nullptr) == 1);
}

TEST_CASE("--json and --sarif") {
  std::string bad =
      make_dir("scan_cli_json", {{"evil.pkl", "cos\nsystem\n(S'id'\ntR."s}, {"a.7z", "7z\xBC\xAF\x27\x1C"s}});
  std::string out;
  std::string sarif_path = bad + "/../scan.sarif";
  int rc = gb::test::run_glassbox("scan --json --sarif " + sarif_path + " " + bad, &out);
  CHECK(rc == 1);
  auto j = nlohmann::json::parse(out);
  REQUIRE(j["files"].size() == 2);
  CHECK(j["summary"]["not_scanned"] == 1);
  CHECK(j["exit_code"] == 1);
  bool found = false;
  for (const auto& f : j["files"])
    for (const auto& x : f["findings"])
      found = found || (x["code"] == "pickle.global.dangerous" && x["severity"] == "critical");
  CHECK(found);
  auto s = nlohmann::json::parse(gb::test::read_file(sarif_path));
  CHECK(s["version"] == "2.1.0");
  CHECK(s["$schema"].get<std::string>().find("sarif-2.1.0") != std::string::npos);
  REQUIRE(s["runs"].size() == 1);
  const auto& run = s["runs"][0];
  CHECK(run["tool"]["driver"]["name"] == "glassbox");
  REQUIRE(run["tool"]["driver"]["rules"].size() >= 1);
  REQUIRE(run["results"].size() >= 1);
  const auto& r0 = run["results"][0];
  CHECK(r0["ruleId"].is_string());
  CHECK((r0["level"] == "error" || r0["level"] == "warning" || r0["level"] == "note"));
  CHECK(r0["message"]["text"].is_string());
  const auto& loc = r0["locations"][0]["physicalLocation"];
  CHECK(loc["artifactLocation"]["uri"].get<std::string>().find("evil.pkl") != std::string::npos);
  CHECK(loc["region"]["byteOffset"].is_number());
}
