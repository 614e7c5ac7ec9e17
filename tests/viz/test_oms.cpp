// OpenSSF Model Signing (OMS v1.0) verification against the conformance data: every folder signed by every
// release of the reference implementation (model_signing 0.2.0 ... 1.1.0) verifies or is rejected as
// documented, each tamper case names its cause, the schema test vectors are accepted / rejected by both the
// published schemas and glassbox's built-in rules, and glassbox's own bundles pass the published schemas.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "formats/error.h"
#include "inspect/oms.h"
#include "tests/support/data.h"
#include "tests/support/keys.h"
#include "viz/json_schema.h"
#include "viz/oms_bundle.h"

using namespace gb;
namespace fs = std::filesystem;

namespace {

bool any_contains(const std::vector<std::string>& v, const std::string& part) {
  for (const std::string& s : v)
    if (s.find(part) != std::string::npos) return true;
  return false;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += x + "\n";
  return s;
}

// A writable copy of a conformance folder.
std::string copy_folder(const std::string& from, const std::string& name) {
  std::string dir = test::temp_dir(name);
  for (const fs::directory_entry& e : fs::directory_iterator(from)) {
    fs::copy_file(e.path(), fs::path(dir) / e.path().filename());
    fs::permissions(fs::path(dir) / e.path().filename(), fs::perms::owner_write, fs::perm_options::add);
  }
  return dir;
}

viz::oms_verification verify(const std::string& model, const std::string& sig, const std::string& key,
                             const std::string& ca, std::vector<std::string> ignore = {}) {
  viz::oms_verify_options o;
  o.public_key = key;
  o.ca_certificates = ca;
  o.signature_path = sig;
  o.ignore_paths = std::move(ignore);
  return viz::oms_verify(model, test::read_text(sig), o);
}

}  // namespace

TEST_CASE("DSSE PAE and base64 as the DSSE and RFC 4648 texts give them") {
  CHECK(viz::dsse_pae("http://example.com/HelloWorld", "hello world") ==
        "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  CHECK(viz::base64_encode("foobar") == "Zm9vYmFy");
  CHECK(viz::base64_encode("fo") == "Zm8=");
  CHECK(viz::base64_decode("Zm8=", "t") == "fo");
  CHECK(viz::base64_decode("Zm9vYg", "t") == "foob");
  CHECK_THROWS_AS(viz::base64_decode("Zm9v!", "t"), failure);
  CHECK_THROWS_AS(viz::base64_decode("Zm9vY", "t"), failure);
}

TEST_CASE("every folder signed by every model_signing release verifies or is rejected as documented") {
  GB_DATA(root, "model-signing/model-transparency");
  const std::string pub = root + "/keys/certificate/signing-key-pub.pem",
                    ca = root + "/keys/certificate/ca-cert.pem";
  size_t verified = 0;
  for (const char* d :
       {"v1.0.0-elliptic-key", "v0.3.1-elliptic-key", "v1.0.1-elliptic-key", "v1.1.0-elliptic-key"}) {
    CAPTURE(d);
    const std::string dir = root + "/" + d;
    // 0.3.1 and 1.0.0 signed the single file signme-1 (resource "."); later releases the folder.
    const bool single = fs::exists(dir + "/signme-2") == false;
    viz::oms_verification v =
        verify(single ? dir + "/signme-1" : dir, dir + "/model.sig", pub, "", {"ignore-me"});
    CHECK_MESSAGE(v.verified(), joined(v.problems));
    CHECK(v.method == "key");
    CHECK(v.signed_manifest.root_hex == v.files.root_hex);
    verified += v.verified();
    if (single) {
      viz::oms_verification folder = verify(dir, dir + "/model.sig", pub, "");
      CHECK(any_contains(folder.problems, "single file"));
    }
  }
  for (const char* d :
       {"v1.0.0-certificate", "v0.3.1-certificate", "v1.0.1-certificate", "v1.1.0-certificate"}) {
    CAPTURE(d);
    viz::oms_verification v = verify(root + "/" + d, root + "/" + d + "/model.sig", "", ca, {"ignore-me"});
    CHECK_MESSAGE(v.verified(), joined(v.problems));
    CHECK(v.method == "certificate");
    CHECK(any_contains(v.checked, "chains to"));
    verified += v.verified();
  }
  CHECK(verified == 8);
  // 0.2.0: the deprecated Digests/v0.1 predicate: rejected, saying why.
  viz::oms_verification old =
      verify(root + "/v0.2.0-certificate", root + "/v0.2.0-certificate/model.sig", "", ca);
  CHECK_FALSE(old.verified());
  CHECK(any_contains(old.problems, "model_signing 0.2.0"));
  // Sigstore bundles: never "verified" offline; what was checked and what was not is said.
  for (const char* d : {"v0.3.1-sigstore", "v1.0.0-sigstore", "v1.0.1-sigstore", "v1.1.0-sigstore"}) {
    CAPTURE(d);
    viz::oms_verification v = verify(root + "/" + d, root + "/" + d + "/model.sig", "", "", {"ignore-me"});
    CHECK_FALSE(v.verified());
    CHECK_MESSAGE(v.problems.empty(), joined(v.problems));
    CHECK(any_contains(v.checked, "DSSE signature valid for the certificate carried in the bundle"));
    CHECK(any_contains(v.checked, "files match"));
    CHECK(any_contains(v.not_checked, "Rekor"));
    CHECK(any_contains(v.not_checked, "Fulcio"));
  }
}

TEST_CASE("glassbox's own enumeration and hashing give the reference implementation's subject digest") {
  GB_DATA(root, "model-signing/model-transparency/v1.1.0-elliptic-key");
  oms_options o;
  o.ignore_paths = {"ignore-me", "model.sig"};
  oms_manifest m = oms_hash(root, o);
  REQUIRE(m.resources.size() == 2);
  CHECK(m.resources[0].name == "signme-1");
  CHECK(m.root_hex == "92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4");
  CHECK(m.subject_name == "v1.1.0-elliptic-key");
}

TEST_CASE(
    "tampering fails naming the cause: flipped byte, added file, removed file, wrong key, wrong CA, edited "
    "statement") {
  GB_DATA(root, "model-signing/model-transparency");
  const std::string ca = root + "/keys/certificate/ca-cert.pem";
  const std::string dir = copy_folder(root + "/v1.1.0-certificate", "oms_tamper");
  REQUIRE(verify(dir, dir + "/model.sig", "", ca).verified());
  {
    std::string b = test::read_text(dir + "/signme-1");
    b[0] = static_cast<char>(b[0] ^ 1);
    test::write_file(dir + "/signme-1", b);
    viz::oms_verification v = verify(dir, dir + "/model.sig", "", ca);
    CHECK(v.problems.size() == 1);
    CHECK(any_contains(v.problems, "changed: 'signme-1'"));
    b[0] = static_cast<char>(b[0] ^ 1);
    test::write_file(dir + "/signme-1", b);
  }
  {
    fs::create_directories(dir + "/sub");
    test::write_file(dir + "/sub/added.bin", std::string("x"));
    viz::oms_verification v = verify(dir, dir + "/model.sig", "", ca);
    CHECK(any_contains(v.problems, "extra: 'sub/added.bin'"));
    fs::remove_all(dir + "/sub");
  }
  {
    const std::string keep = test::read_text(dir + "/signme-2");
    fs::remove(dir + "/signme-2");
    viz::oms_verification v = verify(dir, dir + "/model.sig", "", ca);
    CHECK(any_contains(v.problems, "missing: 'signme-2'"));
    test::write_file(dir + "/signme-2", keep);
  }
  REQUIRE(verify(dir, dir + "/model.sig", "", ca).verified());
  const std::string tmp = test::temp_dir("oms_keys");
  const std::string k = test::make_ec_key(tmp, "secp384r1");
  REQUIRE_MESSAGE(!k.empty(), "openssl command line needed");
  {  // A CA that did not issue the signing certificate.
    REQUIRE(test::run_command("openssl req -x509 -new -key " + k + " -subj /CN=other-ca -days 30 -out " +
                                  tmp + "/other-ca.pem 2>/dev/null",
                              nullptr) == 0);
    viz::oms_verification v = verify(dir, dir + "/model.sig", "", tmp + "/other-ca.pem");
    CHECK(any_contains(v.problems, "does not chain to the CA"));
  }
  {  // A key bundle checked with another key.
    const std::string kd = copy_folder(root + "/v1.1.0-elliptic-key", "oms_wrong_key");
    viz::oms_verification v = verify(kd, kd + "/model.sig", k + ".pub", "", {"ignore-me"});
    CHECK(any_contains(v.problems, "does not verify with the public key"));
  }
  {  // The statement edited (a signed digest replaced by the tampered file's): the signature no longer holds.
    nlohmann::json b = nlohmann::json::parse(test::read_text(dir + "/model.sig"));
    std::string statement = viz::base64_decode(b["dsseEnvelope"]["payload"].get<std::string>(), "payload");
    const size_t at = statement.find("f6310066c7320497");
    REQUIRE(at != std::string::npos);
    statement[at] = 'e';
    b["dsseEnvelope"]["payload"] = viz::base64_encode(statement);
    test::write_file(dir + "/model.sig", b.dump());
    viz::oms_verification v = verify(dir, dir + "/model.sig", "", ca);
    CHECK(any_contains(v.problems, "DSSE signature does not verify with the signing certificate's key"));
    CHECK(any_contains(v.not_checked, "files"));
  }
}

TEST_CASE(
    "schema test vectors: valid accepted, invalid rejected, by the published schemas and the built-in "
    "rules") {
  GB_DATA(spec, "model-signing/oms-spec");
  const std::string s = spec + "/schemas/v1.0/";
  const std::vector<std::string> bundle_schemas = {test::read_text(s + "bundle.schema.json"),
                                                   test::read_text(s + "envelope.schema.json")};
  const std::vector<std::string> statement_schemas = {test::read_text(s + "statement.schema.json"),
                                                      test::read_text(s + "predicate.schema.json")};
  // All four published levels: bundle + envelope, then the decoded payload against statement + predicate.
  auto published_errors = [&](const std::string& text) {
    std::vector<std::string> errs = viz::json_schema_validate(bundle_schemas, text);
    if (!errs.empty()) return errs;
    nlohmann::json j = nlohmann::json::parse(text);
    return viz::json_schema_validate(
        statement_schemas, viz::base64_decode(j["dsseEnvelope"]["payload"].get<std::string>(), "p"));
  };
  size_t n = 0;
  for (const char* kind : {"valid", "invalid", "invalid-payload"})
    for (const fs::directory_entry& e : fs::directory_iterator(spec + "/test-vectors/v1.0/" + kind)) {
      CAPTURE(e.path().string());
      const std::string text = test::read_text(e.path().string());
      const bool valid = std::string(kind) == "valid";
      std::vector<std::string> published = published_errors(text), builtin = viz::oms_schema_errors(text);
      CHECK_MESSAGE(published.empty() == valid, joined(published));
      CHECK_MESSAGE(builtin.empty() == valid, joined(builtin));
      // The verifier's own reading: a bad bundle is refused at parse, a bad statement at statement parse.
      if (std::string(kind) == "invalid") CHECK_THROWS_AS(viz::dsse_bundle_parse(text), failure);
      if (std::string(kind) == "invalid-payload")
        CHECK_THROWS_AS(oms_statement_parse(viz::dsse_bundle_parse(text).payload), failure);
      ++n;
    }
  CHECK(n >= 8);
  // glassbox's own bundles (key and certificate) pass the published schemas.
  GB_DATA(keys, "model-signing/model-transparency/keys/certificate");
  const std::string tmp = test::temp_dir("oms_schema");
  test::write_file(tmp + "/weights.bin", std::string("abc"));
  test::write_file(tmp + "/chain.pem", test::read_text(keys + "/signing-key-cert.pem") +
                                           test::read_text(keys + "/int-ca-cert.pem"));
  oms_manifest m = oms_hash(tmp + "/weights.bin", {});
  for (const std::string& chain : {std::string(), tmp + "/chain.pem"}) {
    const std::string bundle = viz::dsse_bundle_sign(oms_statement_json(m), keys + "/signing-key.pem", chain);
    CHECK_MESSAGE(published_errors(bundle).empty(), joined(published_errors(bundle)));
    CHECK(viz::oms_schema_errors(bundle).empty());
  }
}

TEST_CASE("symlink rules (spec 6.1.1) and files that are not regular files") {
  const std::string dir = test::temp_dir("oms_links");
  fs::create_directories(dir + "/m/sub");
  test::write_file(dir + "/m/a.bin", std::string("a"));
  test::write_file(dir + "/outside.bin", std::string("o"));
  fs::create_symlink(dir + "/outside.bin", dir + "/m/sub/link.bin");
  // allow_symlinks false: a symlink is refused, naming it.
  try {
    oms_hash(dir + "/m", {});
    FAIL("a symlink was accepted");
  } catch (const failure& f) {
    CHECK(f.err().code == errc::unsupported);
    CHECK(f.err().message.find("sub/link.bin") != std::string::npos);
  }
  // allow_symlinks true: followed, named by the link, the target's digest, a warning for leaving the model.
  oms_options o;
  o.allow_symlinks = true;
  oms_manifest m = oms_hash(dir + "/m", o);
  REQUIRE(m.resources.size() == 2);
  CHECK(m.resources[1].name == "sub/link.bin");
  CHECK(m.resources[1].digest_hex == oms_hash(dir + "/outside.bin", {}).resources[0].digest_hex);
  CHECK(any_contains(m.warnings, "outside the model"));
  // A directory cycle is not followed forever.
  fs::create_directory_symlink(dir + "/m", dir + "/m/sub/loop");
  CHECK(oms_hash(dir + "/m", o).resources.size() == 2);
  // Ignoring the link's path leaves it out under either policy.
  fs::remove(dir + "/m/sub/loop");
  o.allow_symlinks = false;
  o.ignore_paths = {"sub/link.bin"};
  CHECK(oms_hash(dir + "/m", o).resources.size() == 1);
  // A FIFO is never opened (it would block): refused.
  fs::remove(dir + "/m/sub/link.bin");
  REQUIRE(test::run_command("mkfifo " + dir + "/m/pipe", nullptr) == 0);
  CHECK_THROWS_AS(oms_hash(dir + "/m", {}), failure);
  // Bad ignore paths: globs, absolute, parent traversal.
  for (const char* bad : {"*.bin", "/etc", "../x"}) {
    o.ignore_paths = {bad};
    CHECK_THROWS_AS(oms_hash(dir + "/m", o), failure);
  }
}

TEST_CASE("hostile bundles: one clear failure each, never a crash") {
  const std::string env =
      R"("dsseEnvelope": {"payload": "e30=", "payloadType": "application/vnd.in-toto+json", "signatures": [{"sig": "AAAA"}]})";
  const std::string media = R"("mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json")";
  const std::vector<std::pair<std::string, errc>> cases = {
      {"", errc::bad_json},
      {"[" + std::string(100, '[') + std::string(101, ']'), errc::limit},
      {"{" + media + "}", errc::bad_json},
      {"{" + media +
           R"(, "verificationMaterial": {"publicKey": {"hint": "x"}}, "dsseEnvelope": {"payload": "!!", "payloadType": "application/vnd.in-toto+json", "signatures": [{"sig": "AAAA"}]}})",
       errc::bad_value},
      {"{" + media +
           R"(, "verificationMaterial": {"publicKey": {"hint": "x"}}, "dsseEnvelope": {"payload": "e30=", "payloadType": "application/vnd.in-toto+json", "signatures": [{"sig": "AAAA"}, {"sig": "AAAA"}]}})",
       errc::unsupported},
      {"{" + media + R"(, "verificationMaterial": {"publicKey": 7}, )" + env + "}", errc::bad_json},
  };
  for (const auto& [text, code] : cases) {
    CAPTURE(text.substr(0, 80));
    try {
      (void)viz::dsse_bundle_parse(text);
      FAIL("accepted");
    } catch (const failure& f) {
      CHECK(f.err().code == code);
      CHECK_FALSE(f.err().message.empty());
    }
  }
  // A certificate that is not DER: the signature check refuses it with a failure naming it.
  const std::string cert_bundle =
      "{" + media +
      R"(, "verificationMaterial": {"x509CertificateChain": {"certificates": [{"rawBytes": "AAAA"}]}}, )" +
      env + "}";
  viz::dsse_bundle b = viz::dsse_bundle_parse(cert_bundle);
  CHECK(b.method == "certificate");
  GB_DATA(ca, "model-signing/model-transparency/keys/certificate/ca-cert.pem");
  CHECK_THROWS_AS(viz::dsse_signature_check(b, "", ca), failure);
  // A payload that is not a statement, under a (bogus) signature: refused at statement parse.
  CHECK_THROWS_AS(oms_statement_parse("{}"), failure);
  CHECK_THROWS_AS(oms_statement_parse("[1]"), failure);
  CHECK_THROWS_AS(
      oms_statement_parse(
          R"({"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://model_signing/signature/v1.0", "subject": [], "predicate": {}})"),
      failure);
}
