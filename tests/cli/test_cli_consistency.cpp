// One CLI vocabulary: walks every command's option table (`glassbox completion json`, generated from the
// same tables as --help, the bash completion and the man page) and checks the shared names and the help
// sections of every command.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "tests/support/data.h"

namespace {

nlohmann::json tables() {
  std::string out;
  REQUIRE(gb::test::run_glassbox("completion json", &out) == 0);
  auto j = nlohmann::json::parse(out);
  REQUIRE(j["commands"].size() >= 15);
  return j["commands"];
}

const nlohmann::json* option(const nlohmann::json& cmd, const std::string& name) {
  for (const auto& o : cmd["options"])
    if (o["long"] == name) return &o;
  return nullptr;
}

}  // namespace

TEST_CASE("every command's --help: usage line, options, examples, exit codes, no Boost leftovers") {
  for (const auto& c : tables()) {
    const std::string name = c["name"];
    CAPTURE(name);
    std::string help;
    CHECK(gb::test::run_glassbox(name + " --help", &help) == 0);
    CHECK(help.rfind("usage: glassbox " + name, 0) == 0);
    for (const char* section :
         {"\noptions:\n", "\nexamples:\n", "\nexit codes:\n", "  0  ", "  2  usage error", "  3  bad input"})
      CHECK(help.find(section) != std::string::npos);
    CHECK(c["examples"].size() >= 1);
    for (const auto& e : c["examples"]) CHECK(e.get<std::string>().rfind("glassbox " + name, 0) == 0);
    CHECK(help.find(" arg ") == std::string::npos);
    CHECK(help.find(" arg\n") == std::string::npos);
    CHECK(help.find("(=") == std::string::npos);
    CHECK(help.find("00000000") == std::string::npos);  // no 0.10000000000000001
    std::string via_help;
    CHECK(gb::test::run_glassbox("help " + name, &via_help) == 0);
    CHECK(via_help == help);
  }
}

TEST_CASE("one vocabulary: shared option names mean the same thing everywhere") {
  const std::set<std::string> retired = {"out", "suites", "gen-tokens", "max-prompts", "bootstrap"};
  const std::set<std::string> computing = {"audit", "bench", "bias",  "diff",  "graph", "hash",
                                           "patch", "run",   "stats", "trace", "verify"};
  const std::set<std::string> gated = {"audit", "diff", "inspect", "scan", "stats", "verify"};
  for (const auto& c : tables()) {
    const std::string name = c["name"];
    CAPTURE(name);
    CHECK(option(c, "help") != nullptr);
    for (const auto& o : c["options"]) {
      const std::string l = o["long"];
      CAPTURE(l);
      CHECK(retired.count(l) == 0);
      CHECK(o["description"].get<std::string>().size() > 3);
      if (l == "output") CHECK(o["short"] == "o");
      if (o["short"] == "o") CHECK(l == "output");
      if (l == "threads") CHECK(o["default"] == "0");
      if (l == "json") CHECK(!o["takes_value"].get<bool>());
      if (l == "fail-on") CHECK(o["value"] == "LEVEL");
      if (l == "suite") CHECK(o["value"] == "NAME");
    }
    if (computing.count(name)) CHECK(option(c, "threads") != nullptr);
    if (gated.count(name)) CHECK(option(c, "fail-on") != nullptr);
    if (name != "completion") CHECK(option(c, "json") != nullptr);
  }
}

TEST_CASE("deprecated spellings still work; --suite is repeatable") {
  std::string d = gb::test::temp_dir("consistency_alias");
  REQUIRE(gb::test::run_glassbox(
              "synth --layers 1 --dim 32 --heads 2 --ff 64 --vocab 256 --ctx 64 -o " + d + "/m.gguf",
              nullptr) == 0);
  std::string out;
  CHECK(gb::test::run_glassbox("bench " + d + "/m.gguf -p 4 --gen-tokens 2 -r 1 --json", &out) == 0);
  CHECK(nlohmann::json::parse(out).dump().find("\"tg2\"") !=
        std::string::npos);  // -n/--tokens 2 under its old name
  out.clear();
  CHECK(gb::test::run_glassbox(
            "bias " + d + "/m.gguf --suite templates --suite templates --limit 4 --resamples 10 --json",
            &out) == 0);
  CHECK(nlohmann::json::parse(out)["bias"].size() == 2);
}

TEST_CASE("bash completion and man page come from the same tables") {
  std::string bash, man;
  REQUIRE(gb::test::run_glassbox("completion bash", &bash) == 0);
  REQUIRE(gb::test::run_glassbox("completion man", &man) == 0);
  CHECK(bash.find("complete -o filenames -F _glassbox glassbox") != std::string::npos);
  CHECK(man.rfind(".TH GLASSBOX 1", 0) == 0);
  for (const auto& c : tables()) {
    const std::string name = c["name"];
    CAPTURE(name);
    CHECK(bash.find("    " + name + ") opts=\"") != std::string::npos);
    std::string roff_name;  // roff escapes '-'
    for (char ch : name) roff_name += ch == '-' ? std::string("\\-") : std::string(1, ch);
    CHECK(man.find(".SS " + roff_name + "\n") != std::string::npos);
    for (const auto& o : c["options"])
      CHECK(bash.find("--" + o["long"].get<std::string>()) != std::string::npos);
  }
  // bash accepts the script
  std::string d = gb::test::temp_dir("consistency_bash");
  gb::test::write_file(d + "/glassbox.bash", bash);
  CHECK(gb::test::run_command("bash -n " + d + "/glassbox.bash", nullptr) == 0);
}
