// Never succeed silently: every exit-code rule of the CLI (issue 17), run on the built binary with a tiny
// synthetic model. Nothing measured, written or validated -> non-zero; usage errors -> 2 with one line
// naming the option and what is valid; bad input and unwritable outputs -> 3 before any work.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/data.h"
#include "tests/support/keys.h"

namespace {

// A tiny GGUF model (with a tokenizer), written once per process by `glassbox synth`.
const std::string& tiny_model() {
  static const std::string path = [] {
    std::string d = gb::test::temp_dir("exit_codes_model");
    std::string p = d + "/tiny.gguf";
    std::string out;
    REQUIRE(gb::test::run_glassbox("synth --layers 1 --dim 32 --heads 2 --ff 64 --vocab 256 --ctx 64 -o " + p,
                                   &out) == 0);
    return p;
  }();
  return path;
}

struct result {
  int rc;
  std::string out;  // stdout + stderr
};
result run(const std::string& args) {
  result r;
  r.rc = gb::test::run_glassbox(args, &r.out, true);
  return r;
}
bool has(const result& r, const std::string& s) {
  return r.out.find(s) != std::string::npos;
}
size_t lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace

TEST_CASE("invalid numbers: one line naming the option and its valid range, exit 2") {
  const std::string m = tiny_model();
  struct bad {
    std::string args, option, range;
  };
  for (const bad& b : {bad{"run " + m + " --tokens -5", "--tokens", ">= 0"},
                       bad{"run " + m + " --top-k -3", "--top-k", ">= 0"},
                       bad{"stats " + m + " --threads -2", "--threads", "from 0 to 4096"},
                       bad{"bench " + m + " -p -1", "--prompt-tokens", ">= 0"},
                       bad{"bias " + m + " --limit -5", "--limit", ">= 0"},
                       bad{"spectral " + m + " --top-k 0", "--top-k", "from 1 to 1048576"},
                       bad{"bench " + m + " -r 0", "--repetitions", "from 1"}}) {
    CAPTURE(b.args);
    result r = run(b.args);
    CHECK(r.rc == 2);
    CHECK(has(r, b.option));
    CHECK(has(r, b.range));
    CHECK(lines(r.out) == 1);  // no help dump
  }
}

TEST_CASE("did you mean: commands, options, enum values; valid values listed; exit 2") {
  const std::string m = tiny_model();
  result r = run("inspct " + m);
  CHECK(r.rc == 2);
  CHECK(has(r, "Did you mean 'inspect'"));
  r = run("inspect " + m + " --jsn");
  CHECK(r.rc == 2);
  CHECK(has(r, "Did you mean --json"));
  r = run("bias " + m + " --suite crows_pairs");
  CHECK(r.rc == 2);
  CHECK(has(r, "Did you mean 'crows-pairs'"));
  CHECK(has(r, "Valid: crows-pairs, stereoset, winobias, bbq, holisticbias, templates, all"));
  r = run("audit " + m + " --suite crowspairs -o " + gb::test::temp_dir("exit_codes_audit_typo"));
  CHECK(r.rc == 2);
  CHECK(has(r, "Did you mean 'crows-pairs'"));
  for (const char* cmd : {"scan", "inspect", "stats", "audit", "diff", "verify"}) {
    CAPTURE(std::string(cmd));
    std::string args = std::string(cmd) + " --fail-on hihg " + m +
                       (std::string(cmd) == "diff" || std::string(cmd) == "verify" ? " " + m : "");
    r = run(args);
    CHECK(r.rc == 2);
    CHECK(has(r, "Did you mean 'high'"));
    CHECK(has(r, "info, low, medium, high, critical"));
  }
}

TEST_CASE("missing positional arguments: one style for every command") {
  for (const char* cmd : {"inspect", "stats", "spectral", "hash", "verify", "diff", "run", "bench", "bias",
                          "graph", "trace", "patch", "tokenize", "weat", "scan", "verify-report"}) {
    CAPTURE(cmd);
    result r = run(cmd);
    CHECK(r.rc == 2);
    CHECK(has(r, std::string("glassbox ") + cmd + ": missing "));
    CHECK(has(r, "glassbox help " + std::string(cmd)));
    CHECK(lines(r.out) == 1);
  }
}

TEST_CASE("outputs are checked before the work starts: missing or unusable folders exit 3") {
  const std::string m = tiny_model();
  result r = run("bias " + m + " --suite templates -o /nonexistent-glassbox/out");
  CHECK(r.rc == 3);
  CHECK(has(r, "/nonexistent-glassbox"));
  CHECK(has(r, "does not exist"));
  r = run("audit " + m + " --suite none -o /dev/null/report");  // the parent is a file
  CHECK(r.rc == 3);
  CHECK(!has(r, "[4/"));  // failed before step 4 (before any step)
  r = run("hash " + m + " -o /nonexistent-glassbox/manifest.json");
  CHECK(r.rc == 3);
  r = run("graph " + m + " -o /nonexistent-glassbox/g.svg");
  CHECK(r.rc == 3);
}

TEST_CASE("a requested suite that could not run is exit 1 with the reason") {
  const std::string m = tiny_model();
  result r = run("bias " + m + " --suite crows-pairs --data-root /nonexistent-glassbox-data");
  CHECK(r.rc == 1);
  CHECK(has(r, "crows-pairs did not run"));
  CHECK(has(r, "dataset not found"));
  // the same command with a suite that can run succeeds (the rule is not "always 1")
  r = run("bias " + m + " --suite templates --limit 8 --resamples 10");
  CHECK(r.rc == 0);
  std::string dir = gb::test::temp_dir("exit_codes_audit_notrun");
  r = run("audit " + m + " --suite crows-pairs --data-root /nonexistent-glassbox-data --no-spectral -o " +
          dir);
  CHECK(r.rc == 1);
  CHECK(has(r, "bias suite crows-pairs"));
}

TEST_CASE("errors: no internal codes unless --verbose, JSON under --json, no raw library exceptions") {
  result r = run("inspect /nonexistent-glassbox-model.gguf");
  CHECK(r.rc == 3);
  CHECK(r.out.rfind("glassbox inspect: ", 0) == 0);
  CHECK(has(r, "/nonexistent-glassbox-model.gguf"));
  CHECK(has(r, ". Check the path"));  // what to do
  CHECK(!has(r, "[not_found"));
  CHECK(lines(r.out) == 1);
  r = run("inspect /nonexistent-glassbox-model.gguf --verbose");
  CHECK(has(r, "[not_found at byte offset 0]"));
  std::string out;
  CHECK(gb::test::run_glassbox("inspect /nonexistent-glassbox-model.gguf --json", &out) == 3);
  auto j = nlohmann::json::parse(out);
  CHECK(j["schema"] == "glassbox-error/1");
  CHECK(j["error"]["code"] == "not_found");
  CHECK(j["error"]["exit_code"] == 3);
  out.clear();
  CHECK(gb::test::run_glassbox("run --tokens -5 x --json", &out) == 2);
  CHECK(nlohmann::json::parse(out)["error"]["kind"] == "usage");
  // a model where a manifest is expected: our sentence, not nlohmann's
  const std::string m = tiny_model();
  r = run("verify " + m + " " + m);
  CHECK(r.rc == 3);
  CHECK(has(r, "not a manifest"));
  CHECK(!has(r, "json.exception"));
}

TEST_CASE("--fail-on gates: audit, diff, verify") {
  std::string d = gb::test::temp_dir("exit_codes_failon");
  std::string nan_model = d + "/nan.gguf";
  REQUIRE(run("synth --layers 1 --dim 32 --heads 2 --ff 64 --vocab 256 --ctx 64 --plant "
              "nan:blk.0.ffn_up.weight -o " +
              nan_model)
              .rc == 0);
  CHECK(run("audit " + nan_model + " --suite none --no-spectral -o " + d + "/r1").rc == 0);
  result r = run("audit " + nan_model + " --suite none --no-spectral --fail-on high -o " + d + "/r2");
  CHECK(r.rc == 1);
  CHECK(has(r, "at or above --fail-on high"));
  const std::string m = tiny_model();
  CHECK(run("diff " + m + " " + m).rc == 0);
  CHECK(run("diff " + m + " " + m + " --fail-on info").rc == 1);  // same model is info
  CHECK(run("diff " + m + " " + m + " --fail-on low").rc == 0);
  CHECK(run("diff " + m + " " + nan_model + " --fail-on high").rc == 1);
}

TEST_CASE("verify: the same weights in another container are not a failure; changed weights are") {
  std::string d = gb::test::temp_dir("exit_codes_verify");
  const std::string spec = "synth --layers 1 --dim 32 --heads 2 --ff 64 --vocab 256 --ctx 64 --seed 7 ";
  REQUIRE(run(spec + "-o " + d + "/m.gguf").rc == 0);
  REQUIRE(run(spec + "--format hf -o " + d + "/hf").rc == 0);
  REQUIRE(run(spec.substr(0, spec.size() - 2) + "8 -o " + d + "/other.gguf").rc == 0);
  REQUIRE(run("hash " + d + "/m.gguf -o " + d + "/manifest.json").rc == 0);
  result r = run("verify " + d + "/manifest.json " + d + "/m.gguf");
  CHECK(r.rc == 0);
  CHECK(has(r, "OK:"));
  r = run("verify " + d + "/manifest.json " + d + "/hf");
  CHECK(r.rc == 0);
  CHECK(has(r, "same weights, different container"));
  CHECK(run("verify " + d + "/manifest.json " + d + "/hf --fail-on info").rc == 1);
  r = run("verify " + d + "/manifest.json " + d + "/other.gguf");
  CHECK(r.rc == 1);
  CHECK(has(r, "FAILED"));
}

// The commands whose option table has --json, from `glassbox completion json` (the option tables), in
// table order with the verify* commands last (they check what sign, hash and audit wrote).
std::vector<std::string> json_commands() {
  std::string out;
  REQUIRE(gb::test::run_glassbox("completion json", &out) == 0);
  const auto j = nlohmann::json::parse(out);
  std::vector<std::string> names;
  for (const auto& c : j.at("commands"))
    for (const auto& o : c.at("options"))
      if (o.at("long") == "json") names.push_back(c.at("name").get<std::string>());
  std::stable_partition(names.begin(), names.end(),
                        [](const std::string& n) { return n.rfind("verify", 0); });
  return names;
}

TEST_CASE("every command with --json prints one document with a schema key, indented the same way") {
  const std::string m = tiny_model();
  const std::string d = gb::test::temp_dir("exit_codes_json");
  const std::string spec = "synth --layers 1 --dim 32 --heads 2 --ff 64 --vocab 256 --ctx 64 --format hf ";
  REQUIRE(run(spec + "-o " + d + "/a").rc == 0);
  REQUIRE(
      run("bias " + m + " --suite templates --limit 4 --resamples 10 --shard 0/1 -o " + d + "/parts").rc ==
      0);
  const std::string key = gb::test::make_ec_key(d, "prime256v1");
  REQUIRE_MESSAGE(!key.empty(), "openssl command line needed");
  gb::test::write_file(d + "/vec.txt", "4 2\nrose 1 0\ntulip 0.9 0.1\nant 0 1\nmoth 0.1 0.9\n");
  gb::test::write_file(d + "/weat.jsonl",
                       "{\"targ1\": {\"category\": \"f\", \"examples\": [\"rose\", \"tulip\"]}, \"targ2\": "
                       "{\"category\": \"i\", \"examples\": [\"ant\", \"moth\"]}, \"attr1\": {\"category\": "
                       "\"p\", \"examples\": [\"rose\", \"ant\"]}, \"attr2\": {\"category\": \"u\", "
                       "\"examples\": [\"tulip\", \"moth\"]}}");
  const std::map<std::string, std::string> small_run = {
      {"apply-delta",
       d + "/a/model.safetensors " + d + "/a/model.safetensors -o " + d + "/delta.safetensors"},
      {"audit", m + " -o " + d + "/report --resamples 10 --suites templates"},
      {"bench", m + " -p 4 -n 2 -r 1"},
      {"bias", m + " --suite templates --limit 4 --resamples 10"},
      {"bias-diff", m + " " + m + " --suite templates --limit 4 --resamples 10"},
      {"bias-localize", m + " --suite templates --top 2 --limit 4"},
      {"diff", m + " " + m},
      {"export-meta", d + "/a -o " + d + "/meta"},
      {"graph", m + " -o " + d + "/g.svg"},
      {"hash", m + " --no-stats -o " + d + "/manifest.json"},
      {"inspect", m},
      {"merge", d + "/parts/bias.part-0000-of-0001.json -o " + d + "/merged"},
      {"patch", m + " --clean a --corrupt b --metric logit-diff:a,b"},
      {"run", m + " --tokens 2"},
      {"scan", m},
      {"sign", d + "/a --key " + key + " -o " + d + "/a.sig"},
      {"spectral", m},
      {"stats", m},
      {"synth", "--layers 1 --dim 32 --heads 2 --ff 64 --vocab 256 --ctx 64 -o " + d + "/s.gguf"},
      {"tokenize", m + " --text hi"},
      {"trace", m + " --prompt hi"},
      {"verify", d + "/manifest.json " + m},
      {"verify-report", d + "/report"},
      {"verify-signature", d + "/a --signature " + d + "/a.sig --key " + key + ".pub"},
      {"weat", d + "/vec.txt --tests " + d + "/weat.jsonl"}};
  const std::vector<std::string> names = json_commands();
  CHECK(names.size() >= 20);
  for (const std::string& name : names) {
    CAPTURE(name);
    const auto it = small_run.find(name);
    REQUIRE_MESSAGE(it != small_run.end(), "a new command with --json: give it a small input in small_run");
    std::string out;
    CHECK(gb::test::run_glassbox(name + " " + it->second + " --json", &out) == 0);
    auto j = nlohmann::json::parse(out, nullptr, false);
    REQUIRE(!j.is_discarded());
    CHECK(j.contains("schema"));
    CHECK(out.rfind("{\n  \"schema\"", 0) == 0);  // first key, indent 2
  }
}

TEST_CASE("weat: a requested test that could not be computed fails with the fixing hint") {
  std::string d = gb::test::temp_dir("exit_codes_weat");
  // word2vec text: 4 words, 2 dims; the second test's words are absent
  gb::test::write_file(d + "/vec.txt", "4 2\nrose 1 0\ntulip 0.9 0.1\nant 0 1\nmoth 0.1 0.9\n");
  auto set = [](const char* cat, const char* a, const char* b) {
    return std::string("{\"category\": \"") + cat + "\", \"examples\": [\"" + a + "\", \"" + b + "\"]}";
  };
  gb::test::write_file(d + "/ok.jsonl", "{\"targ1\": " + set("f", "rose", "tulip") +
                                            ", \"targ2\": " + set("i", "ant", "moth") +
                                            ", \"attr1\": " + set("p", "rose", "ant") +
                                            ", \"attr2\": " + set("u", "tulip", "moth") + "}");
  gb::test::write_file(d + "/bad.jsonl", "{\"targ1\": " + set("f", "Rose", "Tulip") +
                                             ", \"targ2\": " + set("i", "Ant", "Moth") +
                                             ", \"attr1\": " + set("p", "Rose", "Ant") +
                                             ", \"attr2\": " + set("u", "Tulip", "Moth") + "}");
  CHECK(run("weat " + d + "/vec.txt --tests " + d + "/ok.jsonl").rc == 0);
  result r = run("weat " + d + "/vec.txt --tests " + d + "/ok.jsonl " + d + "/bad.jsonl");
  CHECK(r.rc == 1);
  CHECK(has(r, "1 of 2 tests could not be computed"));
  CHECK(has(r, "--lowercase"));
  CHECK(run("weat " + d + "/vec.txt --tests " + d + "/ok.jsonl " + d + "/bad.jsonl --lowercase").rc == 0);
  CHECK(run("weat " + d + "/vec.txt --tests " + d + "/ok.jsonl --only weat99").rc == 1);
}
