// glassbox audit / verify-report end to end: the demo model's planted properties, schema validity,
// reproducibility, tamper detection, signatures, agreement with the single commands, unsupported models,
// and the HTML in a real browser.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "formats/writers.h"
#include "tests/support/data.h"
#include "viz/json_schema.h"

using nlohmann::json;
using namespace gb;

namespace {

bool has_finding(const json& report, const std::string& code, const std::string& where_part) {
  for (const auto& f : report["findings"])
    if (f["code"] == code && f["where"].get<std::string>().find(where_part) != std::string::npos) return true;
  return false;
}

std::string demo_dir() {
  static std::string dir;
  if (dir.empty()) {
    dir = test::temp_dir("audit_demo");
    std::string out;
    // --suites templates: the demo stays the demo when GLASSBOX_DATA points at the full datasets
    int rc = test::run_glassbox("audit -o " + dir + "/a --resamples 200 --suites templates", &out, true);
    REQUIRE_MESSAGE(rc == 0, out);
  }
  return dir;
}

}  // namespace

TEST_CASE("demo audit: every planted property is a finding, and report.json follows its schema") {
  std::string dir = demo_dir() + "/a";
  json r = json::parse(test::read_text(dir + "/report.json"));
  CHECK(r["model"]["demo"] == true);
  CHECK(has_finding(r, "tensor.nan", "tok_embd.weight"));
  CHECK(has_finding(r, "tensor.duplicate", "blk.2.attn.k.weight"));
  bool system = false;
  for (const auto& f : r["findings"])
    if (f["severity"] == "critical" &&
        f["where"].get<std::string>().find("training_state.pkl") != std::string::npos &&
        f["message"].get<std::string>().find("posix.system") != std::string::npos)
      system = true;
  CHECK(system);
  // the gender bias: the templates suite's headline interval excludes 0.5
  bool bias = false;
  for (const auto& v : r["verdicts"])
    if (v["area"] == "bias") bias = v["level"] == "attention";
  CHECK(bias);
  auto errs =
      viz::json_schema_validate(test::read_text(std::string(GB_SOURCE_DIR) + "/viz/report.schema.json"),
                                test::read_text(dir + "/report.json"));
  for (const auto& e : errs) MESSAGE(e);
  CHECK(errs.empty());
  // the banner as the HTML shows it: overall verdict, date, digest, signature, pass
  const json& b = r["banner"];
  CHECK(b["overall"]["level"] == "critical");  // the planted NaN and the pickle
  CHECK(b["model_digest"] == r["integrity"]["root_digest"]);
  CHECK(b["audit_date"].get<std::string>().size() == 10u);
  CHECK(b["signature"] == "not signed");
  CHECK(b["quick_pass"] == false);
  CHECK(b["pass"] == "full");
  {
    const std::string h = test::read_text(dir + "/report.html");
    const std::string banner = h.substr(h.find("id=\"verdict\""), 2000);
    for (const std::string& v :
         {b["overall"]["level"].get<std::string>(), b["audit_date"].get<std::string>(),
          b["model_digest"].get<std::string>().substr(0, 16), std::string("not signed")})
      CHECK(banner.find(v) != std::string::npos);
  }
  // the schema check itself rejects a broken report
  json broken = r;
  broken["banner"]["pass"] = "partly";
  broken["verdicts"][0]["level"] = "fine";
  broken.erase("compliance");
  CHECK(viz::json_schema_validate(test::read_text(std::string(GB_SOURCE_DIR) + "/viz/report.schema.json"),
                                  broken.dump())
            .size() >= 3u);
  std::string html = test::read_text(dir + "/report.html");
  for (const char* s :
       {"id=\"summary\"", "id=\"identity\"", "id=\"integrity\"", "id=\"security\"", "id=\"architecture\"",
        "id=\"internals\"", "id=\"bias\"", "id=\"compliance\"", "id=\"not-measured\"", "<svg"})
    CHECK(html.find(s) != std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  // nothing is fetched: no external scripts, images, styles or fonts (XML namespaces are names, not fetches)
  for (const char* ext : {"src=\"http", "href=\"http", "url(http", "@import", "<link"})
    CHECK(html.find(ext) == std::string::npos);
  std::string card = test::read_text(dir + "/MODEL_CARD.md");
  CHECK(card.rfind("---\n", 0) == 0);
  CHECK(card.find("TO BE COMPLETED BY THE PROVIDER") != std::string::npos);
}

TEST_CASE("demo audit is reproducible: byte-identical outputs apart from the recorded time") {
  // same inputs and seeds: the same output folder, run twice
  std::string dir = test::temp_dir("audit_repro");
  std::string out;
  const char* files[] = {"report.json", "report.html", "MODEL_CARD.md", "graph.svg",
                         "demo-model/demo-model.gguf"};
  REQUIRE(test::run_glassbox("audit -o " + dir + " --resamples 200 --suites templates", &out, true) == 0);
  std::vector<std::string> first;
  for (const char* f : files) first.push_back(test::read_text(dir + "/" + f));
  json ma = json::parse(test::read_text(dir + "/manifest.json"));
  REQUIRE(test::run_glassbox("audit -o " + dir + " --resamples 200 --suites templates", &out, true) == 0);
  for (size_t i = 0; i < std::size(files); ++i) {
    INFO(files[i]);
    CHECK(!first[i].empty());
    CHECK(first[i] == test::read_text(dir + "/" + files[i]));
  }
  json mb = json::parse(test::read_text(dir + "/manifest.json"));
  CHECK(ma["outputs"] == mb["outputs"]);
  ma.erase("time"), mb.erase("time");
  CHECK(ma == mb);
}

TEST_CASE("verify-report detects a changed byte in any output or input, and checks signatures") {
  std::string dir = test::temp_dir("audit_verify");
  std::string out;
  REQUIRE(test::run_glassbox("audit -o " + dir + " --resamples 50 --suites none", &out, true) == 0);
  CHECK(test::run_glassbox("verify-report " + dir, &out) == 0);
  {  // --json: a schema key, the verdict and the counts; an error is JSON too (exit 3, as documented)
    std::string js;
    CHECK(test::run_glassbox("verify-report " + dir + " --json", &js) == 0);
    json v = json::parse(js);
    CHECK(v["schema"] == "glassbox-verify-report/1");
    CHECK(v["verdict"] == "OK");
    CHECK(v["files_checked"].get<int>() >= 5);
    CHECK(v["problems"].empty());
    js.clear();
    CHECK(test::run_glassbox("verify-report " + dir + "/no-such-folder --json", &js) == 3);
    json e = json::parse(js);
    CHECK(e["schema"] == "glassbox-error/1");
    CHECK(e["error"]["exit_code"] == 3);
  }
  auto flip = [](const std::string& p, size_t at) {
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(at));
    char c;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(at));
    f.put(static_cast<char>(c ^ 1));
  };
  for (const char* f : {"report.html", "report.json", "MODEL_CARD.md", "demo-model/demo-model.gguf"}) {
    INFO(f);
    flip(dir + "/" + f, 100);
    out.clear();
    CHECK(test::run_glassbox("verify-report " + dir, &out) == 1);
    CHECK(out.find("changed") != std::string::npos);
    if (std::string(f) == "report.html") {  // the same verdict as JSON, exit code unchanged
      std::string js;
      CHECK(test::run_glassbox("verify-report " + dir + " --json", &js) == 1);
      json v = json::parse(js);
      CHECK(v["schema"] == "glassbox-verify-report/1");
      CHECK(v["verdict"] == "FAILED");
      CHECK(v["ok"] == false);
      REQUIRE(v["problems"].size() == 1u);
      CHECK(v["problems"][0].get<std::string>().find("report.html") != std::string::npos);
    }
    flip(dir + "/" + f, 100);
    CHECK(test::run_glassbox("verify-report " + dir, &out) == 0);
  }
  // signatures: an Ed25519 key made with the openssl CLI
  REQUIRE(std::system(("openssl genpkey -algorithm ed25519 -out " + dir +
                       "/k.pem 2>/dev/null && openssl pkey -in " + dir + "/k.pem -pubout -out " + dir +
                       "/pub.pem 2>/dev/null")
                          .c_str()) == 0);
  std::string signed_dir = test::temp_dir("audit_signed");
  REQUIRE(
      test::run_glassbox("audit -o " + signed_dir + " --resamples 50 --suites none --sign " + dir + "/k.pem",
                         &out, true) == 0);
  out.clear();
  CHECK(test::run_glassbox("verify-report " + signed_dir + " --key " + dir + "/pub.pem", &out) == 0);
  CHECK(out.find("signature valid") != std::string::npos);
  std::string m = test::read_text(signed_dir + "/manifest.json");
  m[m.find("glassbox-manifest")] = 'G';
  test::write_file(signed_dir + "/manifest.json", m);
  CHECK(test::run_glassbox("verify-report " + signed_dir + " --key " + dir + "/pub.pem", &out) == 1);
}

TEST_CASE(
    "a model the engine cannot run still gets a full report, with the forward pass under not measured") {
  std::string dir = test::temp_dir("audit_unsupported");
  std::vector<std::pair<std::string, meta_value>> meta = {{"general.architecture", meta_str("mystery")},
                                                          {"general.name", meta_str("mystery model")}};
  std::vector<float> w(16 * 8, 0.01f);
  std::vector<uint8_t> bytes(reinterpret_cast<const uint8_t*>(w.data()),
                             reinterpret_cast<const uint8_t*>(w.data() + w.size()));
  gguf_write(
      dir + "/m.gguf", meta,
      {{"token_embd.weight", dtype::f32, {16, 8}, bytes}, {"strange.weight", dtype::f32, {8, 16}, bytes}});
  std::string out;
  REQUIRE(test::run_glassbox("audit " + dir + "/m.gguf -o " + dir + "/r --resamples 50", &out, true) == 0);
  json r = json::parse(test::read_text(dir + "/r/report.json"));
  CHECK(r["internals"]["ran"] == false);
  bool listed = false;
  for (const auto& n : r["not_measured"])
    listed = listed || n["what"].get<std::string>().find("forward pass") != std::string::npos;
  CHECK(listed);
  CHECK(r["integrity"]["measured"] == true);
  CHECK(r["identity"]["tensor_count"] == 2);
}

TEST_CASE("stories260K: the audit's identity, hashes and bias numbers equal the single commands'") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(bias_root, "bias");
  std::string dir = test::temp_dir("audit_stories");
  std::string out;
  REQUIRE(test::run_glassbox("audit " + model + " -o " + dir +
                                 " --suites crows-pairs --limit 40 --resamples 200 --data-root " + bias_root,
                             &out, true) == 0);
  json r = json::parse(test::read_text(dir + "/report.json"));
  CHECK(r["identity"]["hyperparameters"]["n_layer"] == 5);
  CHECK(r["identity"]["hyperparameters"]["n_head"] == 8);
  CHECK(r["identity"]["hyperparameters"]["n_head_kv"] == 4);
  CHECK(r["identity"]["hyperparameters"]["n_embd"] == 64);
  CHECK(r["identity"]["vocab_size"] == 512);
  std::string insp;
  REQUIRE(test::run_glassbox("inspect " + model + " --json", &insp) == 0);
  CHECK(json::parse(insp)["parameter_count"] == r["identity"]["parameter_count"]);
  std::string h;
  REQUIRE(test::run_glassbox("hash " + model + " --json", &h) == 0);
  json hj = json::parse(h);
  std::string root = hj.contains("root_digest") ? hj["root_digest"].get<std::string>() : hj.value("root", "");
  CHECK(root == r["integrity"]["root_digest"]);
  std::string b;
  REQUIRE(test::run_glassbox("bias " + model +
                                 " --suite crows-pairs --limit 40 --resamples 200 --json --data " +
                                 bias_root + "/crows-pairs/crows_pairs_anonymized.csv",
                             &b) == 0);
  json bj = json::parse(b);
  json crows_audit;
  for (const auto& s : r["bias"])
    if (s["suite"] == "crows-pairs") crows_audit = s;
  REQUIRE(!crows_audit.is_null());
  CHECK(bj["bias"][0]["groups"] == crows_audit["groups"]);
}

TEST_CASE("report.html opens in headless Chromium with no console errors; a screenshot is taken") {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0) {
    if (test::in_ci())
      FAIL("chromium is not installed (tools/setup.sh installs it with the test dependencies)");
    MESSAGE("SKIP: chromium not installed");
    return;
  }
  std::string dir = demo_dir() + "/a";
  std::string shot = dir + "/report.png", log = dir + "/chromium.log";
  std::string cmd =
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync --enable-logging=stderr "
      "--v=0 --user-data-dir=" +
      dir + "/chr --window-size=1200,3000 --screenshot=" + shot + " file://" + dir + "/report.html > " + log +
      " 2>&1";
  CHECK(std::system(cmd.c_str()) == 0);
  std::string png = test::read_text(shot);
  REQUIRE(png.size() > 10000u);
  CHECK(png.substr(1, 3) == "PNG");
  std::string l = test::read_text(log);
  CHECK(l.find("CONSOLE") == std::string::npos);
  CHECK(l.find("Uncaught") == std::string::npos);
}

TEST_CASE("stories260K: every format audits to the same identity and root digest") {
  GB_DATA(dir, "models/stories260K");
  const std::vector<std::string> forms = {
      dir + "/stories260K.gguf", dir + "/tinyllamas-stories-260k-f32.ggufv1.gguf",
      dir + "/stories260K.bin --tokenizer " + dir + "/tok512.bin", dir + "/hf"};
  std::string root;
  int64_t params = -1;
  for (size_t i = 0; i < forms.size(); ++i) {
    INFO(forms[i]);
    std::string out_dir = test::temp_dir("audit_form_" + std::to_string(i)), out;
    REQUIRE(test::run_glassbox(
                "audit " + forms[i] + " -o " + out_dir + " --suites templates --resamples 50 --no-spectral",
                &out, true) == 0);
    json r = json::parse(test::read_text(out_dir + "/report.json"));
    CHECK(r["identity"]["hyperparameters"]["n_layer"] == 5);
    CHECK(r["identity"]["hyperparameters"]["n_ff"] == 172);
    CHECK(r["internals"]["ran"] == true);
    CHECK(r["internals"]["prompts"][0]["top"].size() == 5u);
    if (i == 0) {
      root = r["integrity"]["root_digest"].get<std::string>();
      params = r["identity"]["parameter_count"].get<int64_t>();
    } else {
      CHECK(r["integrity"]["root_digest"] == root);
      CHECK(r["identity"]["parameter_count"] == params);
    }
  }
}
