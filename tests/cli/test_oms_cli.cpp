// glassbox sign / verify-signature end to end: sign -> verify round trips for P-256, P-384 and P-521 keys and
// a certificate chain, an independent verifier (tests/support/oms_verify.py: python3-cryptography, written
// from the OMS spec alone) accepting glassbox's bundles, the CLI verifying the reference implementation's
// bundles, and exit codes (0 verified, 1 not, 2 usage, 3 unreadable input).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/data.h"
#include "tests/support/keys.h"
#include "viz/oms_bundle.h"

using namespace gb;
namespace fs = std::filesystem;

namespace {

// A small model folder: nested files, a .git folder (excluded by default) and a cache to ignore.
std::string make_model(const std::string& name) {
  const std::string dir = test::temp_dir(name);
  fs::create_directories(dir + "/sub/deeper");
  fs::create_directories(dir + "/.git");
  fs::create_directories(dir + "/cache");
  test::write_file(dir + "/config.json", std::string("{\"model_type\": \"llama\"}"));
  std::string weights(300000, '\0');
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<char>(i * 7919 % 251);
  test::write_file(dir + "/model.safetensors", weights);
  test::write_file(dir + "/sub/deeper/tokenizer.model", std::string("tok"));
  test::write_file(dir + "/.git/HEAD", std::string("ref: refs/heads/main"));
  test::write_file(dir + "/cache/tmp", std::string("scratch"));
  return dir;
}

// The independent verifier, when python3 with cryptography is installed (tools/setup.sh installs it).
bool python_verifier_available() {
  static const int rc = test::run_command("python3 -c 'import cryptography.x509' 2>/dev/null", nullptr);
  return rc == 0;
}

int python_verify(const std::string& model, const std::string& sig, const std::string& trust,
                  std::string* out) {
  return test::run_command("python3 " + std::string(GB_SOURCE_DIR) + "/tests/support/oms_verify.py " + model +
                               " " + sig + " " + trust + " 2>&1",
                           out);
}

}  // namespace

TEST_CASE(
    "sign -> verify-signature round trips for P-256, P-384 and P-521 keys; the independent verifier agrees") {
  const std::string model = make_model("oms_cli_model");
  const std::string keys = test::temp_dir("oms_cli_keys");
  for (const char* curve : {"prime256v1", "secp384r1", "secp521r1"}) {
    CAPTURE(curve);
    const std::string k = test::make_ec_key(keys, curve);
    REQUIRE_MESSAGE(!k.empty(), "openssl command line needed");
    std::string out;
    REQUIRE_MESSAGE(
        test::run_glassbox("sign " + model + " --key " + k + " --ignore-path cache", &out, true) == 0, out);
    CHECK(fs::exists(model + "/model.sig"));
    out.clear();
    CHECK_MESSAGE(test::run_glassbox("verify-signature " + model + " --key " + k + ".pub", &out, true) == 0,
                  out);
    CHECK(out.find("VERIFIED") != std::string::npos);
    CHECK(out.find("3 files match") !=
          std::string::npos);  // config, safetensors, tokenizer; not .git, cache, model.sig
    if (python_verifier_available()) {
      out.clear();
      CHECK_MESSAGE(python_verify(model, model + "/model.sig", "--key " + k + ".pub", &out) == 0, out);
    } else {
      if (test::in_ci()) FAIL("python3-cryptography missing (tools/setup.sh installs it)");
      MESSAGE("SKIP: python3-cryptography missing: independent verifier not run");
    }
  }
  // A flipped byte: both verifiers refuse, glassbox naming the file.
  const std::string k = keys + "/secp521r1.pem";  // the last signature made
  std::string w = test::read_text(model + "/model.safetensors");
  w[12345] = static_cast<char>(w[12345] ^ 0x10);
  test::write_file(model + "/model.safetensors", w);
  std::string out;
  CHECK(test::run_glassbox("verify-signature " + model + " --key " + k + ".pub", &out, true) == 1);
  CHECK(out.find("changed: 'model.safetensors'") != std::string::npos);
  if (python_verifier_available())
    CHECK(python_verify(model, model + "/model.sig", "--key " + k + ".pub", &out) == 1);
}

TEST_CASE("sign with a certificate chain; verify against the CA; both verifiers accept") {
  GB_DATA(certs, "model-signing/model-transparency/keys/certificate");
  const std::string model = make_model("oms_cli_cert");
  const std::string tmp = test::temp_dir("oms_cli_cert_keys");
  test::write_file(tmp + "/chain.pem", test::read_text(certs + "/signing-key-cert.pem") +
                                           test::read_text(certs + "/int-ca-cert.pem"));
  const std::string sig = tmp + "/model.sig";
  std::string out;
  REQUIRE_MESSAGE(
      test::run_glassbox("sign " + model + " --key " + certs + "/signing-key.pem --certificate-chain " + tmp +
                             "/chain.pem -o " + sig + " --ignore-path cache",
                         &out, true) == 0,
      out);
  out.clear();
  CHECK_MESSAGE(test::run_glassbox("verify-signature " + model + " --signature " + sig +
                                       " --certificate-chain " + certs + "/ca-cert.pem --json",
                                   &out, true) == 0,
                out);
  CHECK(out.find("\"method\": \"certificate\"") != std::string::npos);
  if (python_verifier_available()) {
    out.clear();
    CHECK_MESSAGE(python_verify(model, sig, "--ca " + certs + "/ca-cert.pem", &out) == 0, out);
  }
  // A key that does not match the certificate is refused at signing.
  const std::string other = test::make_ec_key(tmp, "secp384r1");
  REQUIRE(!other.empty());
  CHECK(test::run_glassbox("sign " + model + " --key " + other + " --certificate-chain " + tmp +
                               "/chain.pem -o " + tmp + "/x.sig",
                           &out, true) == 3);
}

TEST_CASE("verify-signature on the reference implementation's bundles, and exit codes") {
  GB_DATA(root, "model-signing/model-transparency");
  const std::string pub = root + "/keys/certificate/signing-key-pub.pem";
  std::string out;
  CHECK(test::run_glassbox("verify-signature " + root + "/v1.1.0-elliptic-key --signature " + root +
                               "/v1.1.0-elliptic-key/model.sig --key " + pub + " --ignore-path ignore-me",
                           &out, true) == 0);
  out.clear();
  CHECK(test::run_glassbox("verify-signature " + root + "/v1.1.0-sigstore --signature " + root +
                               "/v1.1.0-sigstore/model.sig --ignore-path ignore-me",
                           &out, true) == 1);
  CHECK(out.find("NOT VERIFIED") != std::string::npos);
  CHECK(out.find("NOT checked: the Rekor") != std::string::npos);
  CHECK(out.find("VERIFIED:") == std::string::npos);
  // Wrong key -> 1; unreadable bundle / key -> 3; usage -> 2.
  const std::string tmp = test::temp_dir("oms_cli_codes");
  const std::string other = test::make_ec_key(tmp, "secp384r1");
  REQUIRE(!other.empty());
  CHECK(test::run_glassbox("verify-signature " + root + "/v1.1.0-elliptic-key --signature " + root +
                               "/v1.1.0-elliptic-key/model.sig --key " + other + ".pub",
                           &out, true) == 1);
  CHECK(test::run_glassbox(
            "verify-signature " + root + "/v1.1.0-elliptic-key --signature " + tmp + "/none.sig --key " + pub,
            &out, true) == 3);
  test::write_file(tmp + "/garbage.sig", std::string("{\"mediaType\": 1}"));
  CHECK(test::run_glassbox("verify-signature " + root + "/v1.1.0-elliptic-key --signature " + tmp +
                               "/garbage.sig --key " + pub,
                           &out, true) == 3);
  CHECK(test::run_glassbox("verify-signature " + root + "/v1.1.0-elliptic-key --signature " + root +
                               "/v1.1.0-elliptic-key/model.sig --key " + tmp + "/missing.pem",
                           &out, true) == 3);
  CHECK(test::run_glassbox("verify-signature", &out, true) == 2);
  CHECK(test::run_glassbox("sign " + tmp, &out, true) == 2);
}

namespace {

nlohmann::json bundle_statement(const std::string& sig_path) {
  nlohmann::json b = nlohmann::json::parse(test::read_text(sig_path));
  return nlohmann::json::parse(
      viz::base64_decode(b["dsseEnvelope"]["payload"].get<std::string>(), "payload"));
}

}  // namespace

TEST_CASE(
    "the model's identity: one OMS digest in sign, hash, inspect, report.json, report.html, model card, "
    "attestation") {
  const std::string dir = test::temp_dir("oms_identity");
  const std::string k = test::make_ec_key(dir, "prime256v1");
  REQUIRE(!k.empty());
  std::string out;
  REQUIRE_MESSAGE(test::run_glassbox("audit -o " + dir + "/r --resamples 50 --suites templates --sign " + k,
                                     &out, true) == 0,
                  out);
  const std::string model = dir + "/r/demo-model";
  // What a signature of the folder (written outside it) calls the model.
  REQUIRE(test::run_glassbox("sign " + model + " --key " + k + " -o " + dir + "/folder.sig", &out, true) ==
          0);
  const std::string folder_id = bundle_statement(dir + "/folder.sig")["subject"][0]["digest"]["sha256"];
  REQUIRE(folder_id.size() == 64);
  nlohmann::json report = nlohmann::json::parse(test::read_text(dir + "/r/report.json"));
  CHECK(report["integrity"]["oms_subject_digest"] == folder_id);
  CHECK(report["integrity"]["root_digest"].get<std::string>().size() ==
        64);  // the weights' root stays beside it
  CHECK(test::read_text(dir + "/r/MODEL_CARD.md").find(folder_id) != std::string::npos);
  CHECK(test::read_text(dir + "/r/report.html").find(folder_id) != std::string::npos);
  nlohmann::json att = bundle_statement(dir + "/r/attestation.sig");
  CHECK(att["subject"][0]["digest"]["sha256"] == folder_id);
  // A single file: sign, hash and inspect --identity agree.
  const std::string gguf = model + "/demo-model.gguf";
  REQUIRE(test::run_glassbox("sign " + gguf + " --key " + k + " -o " + dir + "/file.sig", &out, true) == 0);
  const std::string file_id = bundle_statement(dir + "/file.sig")["subject"][0]["digest"]["sha256"];
  out.clear();
  REQUIRE(test::run_glassbox("hash " + gguf + " --json", &out) == 0);
  CHECK(nlohmann::json::parse(out)["oms_subject"]["digest"] == file_id);
  out.clear();
  REQUIRE(test::run_glassbox("inspect " + gguf + " --identity --json", &out) == 0);
  CHECK(nlohmann::json::parse(out)["oms_subject"]["digest"] == file_id);
  CHECK(file_id != folder_id);
}

TEST_CASE(
    "audit --sign: the in-toto attestation lists every result, verifies, and a one-byte change in "
    "report.json breaks it") {
  const std::string dir = test::temp_dir("oms_attest");
  const std::string k = test::make_ec_key(dir, "secp384r1");
  REQUIRE(!k.empty());
  std::string out;
  REQUIRE_MESSAGE(test::run_glassbox("audit -o " + dir + "/r --resamples 50 --suites templates --sign " + k,
                                     &out, true) == 0,
                  out);
  nlohmann::json st = bundle_statement(dir + "/r/attestation.sig");
  CHECK(st["_type"] == "https://in-toto.io/Statement/v1");
  CHECK(st["predicateType"] == "https://glassbox.dev/attestation/eval-results/v1");
  nlohmann::json report = nlohmann::json::parse(test::read_text(dir + "/r/report.json"));
  // Every metric of every group of every suite in the report is in the predicate, with its N and interval.
  size_t metrics = 0, judged = 0;
  for (const auto& suite : report["bias"])
    for (const auto& g : suite["groups"]) metrics += g["metrics"].size();
  REQUIRE(metrics > 0);
  CHECK(st["predicate"]["results"].size() == metrics);
  for (const auto& r : st["predicate"]["results"]) {
    CHECK(r["sampleSize"].get<size_t>() > 0);
    CHECK(r.contains("dataset"));
    if (!r["comparator"].is_null()) {
      ++judged;
      const double lo = r["interval"]["lower"], hi = r["interval"]["upper"], t = r["threshold"];
      CHECK(r["passed"] == (lo <= t && t <= hi));
    }
  }
  CHECK(judged == 1);  // the templates suite's headline
  CHECK(st["predicate"]["tool"]["version"].get<std::string>().size() > 0);
  CHECK(st["predicate"]["seeds"]["bias_bootstrap"] == 1);
  out.clear();
  CHECK_MESSAGE(test::run_glassbox("verify-report " + dir + "/r --key " + k + ".pub", &out) == 0, out);
  CHECK(out.find("attestation.sig: DSSE signature valid") != std::string::npos);
  // One byte of report.json: the attestation names it (the manifest too).
  std::string rj = test::read_text(dir + "/r/report.json");
  rj[10] = static_cast<char>(rj[10] ^ 1);
  test::write_file(dir + "/r/report.json", rj);
  out.clear();
  CHECK(test::run_glassbox("verify-report " + dir + "/r --key " + k + ".pub", &out) == 1);
  CHECK(out.find("report.json changed since it was attested") != std::string::npos);
  rj[10] = static_cast<char>(rj[10] ^ 1);
  test::write_file(dir + "/r/report.json", rj);
  // Another key: the attestation's signature fails.
  const std::string other = test::make_ec_key(dir, "prime256v1");
  out.clear();
  CHECK(test::run_glassbox("verify-report " + dir + "/r --key " + other + ".pub", &out) == 1);
  CHECK(out.find("attestation.sig: DSSE signature does not verify") != std::string::npos);
  // A report without attestation (older glassbox-manifest/1 reports) still verifies.
  fs::remove(dir + "/r/attestation.sig");
  out.clear();
  CHECK(test::run_glassbox("verify-report " + dir + "/r --key " + k + ".pub", &out) == 0);
  CHECK(out.find("no attestation.sig") != std::string::npos);
}

namespace {

// A YAML file as JSON, read by PyYAML (python3-yaml; tools/setup.sh installs it); null when unavailable.
nlohmann::json yaml_as_json(const std::string& path) {
  std::string out;
  if (test::run_command(
          "python3 -c 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' " + path +
              " 2>/dev/null",
          &out) != 0)
    return nullptr;
  return nlohmann::json::parse(out);
}

}  // namespace

TEST_CASE("audit hands bias results to the Hub: .eval_results/*.yaml and the model card's model-index") {
  GB_DATA(bias, "bias");
  const std::string dir = test::temp_dir("oms_hub");
  std::string out;
  REQUIRE_MESSAGE(
      test::run_glassbox(
          "audit -o " + dir + " --resamples 50 --limit 40 --suites templates,crows-pairs --data-root " + bias,
          &out, true) == 0,
      out);
  nlohmann::json report = nlohmann::json::parse(test::read_text(dir + "/report.json"));
  double crows = -1;
  for (const auto& s : report["bias"])
    if (s["suite"] == "crows-pairs")
      for (const auto& m : s["groups"][0]["metrics"])
        if (m["name"] == "pct_stereotype") crows = m["value"];
  REQUIRE(crows >= 0);
  CHECK_FALSE(fs::exists(dir + "/.eval_results/templates.yaml"));  // no Hub dataset for built-in items
  nlohmann::json e = yaml_as_json(dir + "/.eval_results/crows-pairs.yaml");
  if (e.is_null()) {
    if (test::in_ci()) FAIL("python3-yaml missing (tools/setup.sh installs it)");
    MESSAGE("SKIP: python3-yaml missing");
    return;
  }
  REQUIRE(e.is_array());
  REQUIRE(e.size() == 1);
  CHECK(e[0]["dataset"]["id"] == "nyu-mll/crows_pairs");
  CHECK(e[0]["value"].get<double>() == doctest::Approx(crows));
  CHECK(e[0]["date"].get<std::string>().size() == 10);
  CHECK(e[0]["source"]["name"].get<std::string>().find("glassbox") != std::string::npos);
  CHECK(e[0]["notes"].get<std::string>().find("N=40") != std::string::npos);
  // The model card's front matter: a model-index with the same value.
  const std::string card = test::read_text(dir + "/MODEL_CARD.md");
  const size_t end = card.find("\n---\n", 4);
  REQUIRE(end != std::string::npos);
  test::write_file(dir + "/front.yaml", card.substr(4, end - 4));
  nlohmann::json fm = yaml_as_json(dir + "/front.yaml");
  REQUIRE(fm.is_object());
  const auto& results = fm["model-index"][0]["results"];
  REQUIRE(results.size() == 1);  // crows-pairs (templates has no Hub dataset)
  CHECK(results[0]["dataset"]["type"] == "nyu-mll/crows_pairs");
  CHECK(results[0]["metrics"][0]["value"].get<double>() == doctest::Approx(crows));
  // The Hub files are in the manifest: changing one is caught.
  CHECK(test::run_glassbox("verify-report " + dir, &out) == 0);
  std::string y = test::read_text(dir + "/.eval_results/crows-pairs.yaml");
  y[5] = static_cast<char>(y[5] ^ 1);
  test::write_file(dir + "/.eval_results/crows-pairs.yaml", y);
  CHECK(test::run_glassbox("verify-report " + dir, &out) == 1);
}

TEST_CASE(
    "the EU GPAI Model Documentation Form: computable fields filled from the files, the rest provider "
    "statements") {
  const std::string dir = test::temp_dir("oms_mdf");
  std::string out;
  REQUIRE_MESSAGE(test::run_glassbox("audit -o " + dir + " --resamples 50 --suites none", &out, true) == 0,
                  out);
  const std::string form = test::read_text(dir + "/model-documentation.md");
  nlohmann::json report = nlohmann::json::parse(test::read_text(dir + "/report.json"));
  auto line = [&](const std::string& field) {
    const size_t at = form.find("| " + field + " |");
    return at == std::string::npos ? std::string() : form.substr(at, form.find('\n', at) - at);
  };
  const std::string oms = report["integrity"]["oms_subject_digest"];
  REQUIRE(oms.size() == 64);
  CHECK(line("1.3").find(oms) != std::string::npos);
  CHECK(line("1.3").find("(from the files)") != std::string::npos);
  CHECK(line("2.5").find("256 tokens") != std::string::npos);  // the demo model's context length
  CHECK(line("2.1").find("4 layers") != std::string::npos);
  CHECK(line("2 (size)").find("262720") != std::string::npos);
  for (const char* f : {"1.1", "1.4", "1.5", "3.1", "4.1", "4.2"}) {
    CAPTURE(f);
    CHECK(line(f).find("PROVIDER STATEMENT") != std::string::npos);
  }
  CHECK(line("3.2").find("PROVIDER STATEMENT") != std::string::npos);  // the demo states no licence
  // Part of the evidence: the manifest covers it.
  std::string changed = form;
  changed[3] = static_cast<char>(changed[3] ^ 1);
  test::write_file(dir + "/model-documentation.md", changed);
  CHECK(test::run_glassbox("verify-report " + dir, &out) == 1);
}
