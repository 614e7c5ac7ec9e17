// viz/oms_bundle.cpp: DSSE + Sigstore bundle signing and checking with OpenSSL; OMS v1.0 verification.
#include "viz/oms_bundle.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "formats/error.h"
#include "formats/file_text.h"
#include "formats/json_meta.h"
#include "inspect/sha256.h"
#include "viz/json_schema.h"
#include "viz/openssl_util.h"

namespace gb::viz {
namespace {

using ojson = nlohmann::ordered_json;

// The OMS v1.0 JSON Schemas' rules (bundle, envelope, statement, predicate), restated for glassbox's
// validator; tests check them against the published schemas and test vectors.
const char* const kBundleSchema = R"({"$id": "oms/bundle", "type": "object",
 "required": ["mediaType", "verificationMaterial", "dsseEnvelope"], "additionalProperties": false,
 "properties": {"mediaType": {"type": "string", "pattern": "^application/vnd\\.dev\\.sigstore\\.bundle"},
   "verificationMaterial": {"type": "object", "anyOf": [
     {"required": ["publicKey"], "properties": {"publicKey": {"$ref": "#/$defs/key"}, "tlogEntries": {"type": "array"}}},
     {"required": ["x509CertificateChain"], "properties": {"tlogEntries": {"type": "array"},
       "x509CertificateChain": {"type": "object", "required": ["certificates"], "properties": {"certificates":
         {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/cert"}}}}}},
     {"required": ["certificate", "tlogEntries"], "properties": {"certificate": {"$ref": "#/$defs/cert"},
       "tlogEntries": {"type": "array"}}}]},
   "dsseEnvelope": {"$ref": "oms/envelope"}},
 "$defs": {"key": {"type": "object", "anyOf": [{"required": ["hint"]}, {"required": ["rawBytes"]}],
             "properties": {"hint": {"type": "string"}, "rawBytes": {"type": "string"}}},
           "cert": {"type": "object", "required": ["rawBytes"], "properties": {"rawBytes": {"type": "string", "minLength": 1}}}}})";

const char* const kEnvelopeSchema = R"({"$id": "oms/envelope", "type": "object",
 "required": ["payload", "payloadType", "signatures"], "additionalProperties": false,
 "properties": {"payload": {"type": "string", "minLength": 1},
   "payloadType": {"type": "string", "const": "application/vnd.in-toto+json"},
   "signatures": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["sig"],
     "additionalProperties": false, "properties": {"sig": {"type": "string", "minLength": 1},
     "keyid": {"type": ["string", "null"]}}}}}})";

const char* const kStatementSchema = R"({"$id": "oms/statement", "type": "object",
 "required": ["_type", "subject", "predicateType", "predicate"], "additionalProperties": false,
 "properties": {"_type": {"type": "string", "const": "https://in-toto.io/Statement/v1"},
   "subject": {"type": "array", "minItems": 1, "maxItems": 1, "items": {"type": "object",
     "required": ["name", "digest"], "properties": {"name": {"type": "string", "minLength": 1},
     "digest": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string", "pattern": "^[0-9a-f]+$"}}}}},
   "predicateType": {"type": "string", "const": "https://model_signing/signature/v1.0"},
   "predicate": {"$ref": "oms/predicate"}}})";

const char* const kPredicateSchema = R"({"$id": "oms/predicate", "type": "object",
 "required": ["resources", "serialization"], "additionalProperties": false,
 "properties": {"resources": {"type": "array", "items": {"type": "object", "required": ["name", "digest", "algorithm"],
     "properties": {"name": {"type": "string", "minLength": 1}, "digest": {"type": "string", "pattern": "^[0-9a-f]+$"},
     "algorithm": {"type": "string", "enum": ["sha256", "blake2b", "blake3"]}}}},
   "serialization": {"type": "object", "required": ["method", "hash_type", "allow_symlinks"], "additionalProperties": false,
     "properties": {"method": {"type": "string", "enum": ["files", "shards"]},
       "hash_type": {"type": "string", "enum": ["sha256", "blake2b", "blake3"]},
       "shard_size": {"type": "integer", "exclusiveMinimum": 0}, "allow_symlinks": {"type": "boolean"},
       "ignore_paths": {"type": "array", "items": {"type": "string", "minLength": 1}}},
     "if": {"properties": {"method": {"const": "shards"}}}, "then": {"required": ["shard_size"]}}}})";

std::vector<std::string> schemas(const char* root, const char* other) {
  return {std::string(root), std::string(other)};
}

using x509_ptr = std::unique_ptr<X509, freer<X509, X509_free>>;

std::vector<x509_ptr> pem_certificates(const std::string& path) {
  const std::string text = file_text(path, "certificates");
  bio_ptr b = mem_bio(text);
  std::vector<x509_ptr> out;
  while (X509* c = PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr)) out.emplace_back(c);
  if (out.empty()) fail(errc::bad_value, 0, path + ": no PEM certificate in it");
  return out;
}

std::string der_of(X509* c) {
  unsigned char* p = nullptr;
  const int n = i2d_X509(c, &p);
  if (n <= 0) fail(errc::bad_value, 0, "OpenSSL cannot encode a certificate");
  std::string s(reinterpret_cast<char*>(p), static_cast<size_t>(n));
  OPENSSL_free(p);
  return s;
}

x509_ptr x509_from_der(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* c = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (!c || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size())
    fail(errc::bad_value, 0, "bundle certificate is not one DER X.509 certificate");
  return x509_ptr(c);
}

std::string public_key_pem(EVP_PKEY* k) {
  bio_ptr b(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PUBKEY(b.get(), k) != 1) fail(errc::bad_value, 0, "OpenSSL cannot write the public key");
  char* data = nullptr;
  const long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

// The hash the reference implementation pairs with each curve (Ed25519 signs the message itself: no hash);
// other key types are refused.
const EVP_MD* signature_hash(EVP_PKEY* k, const std::string& what, bool allow_ed25519 = true) {
  if (allow_ed25519 && EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519) return nullptr;
  if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC)
    fail(errc::unsupported, 0,
         what + ": not an elliptic-curve key (OMS keys are ECDSA P-256, P-384 or P-521)");
  switch (EVP_PKEY_get_bits(k)) {
    case 256:
      return EVP_sha256();
    case 384:
      return EVP_sha384();
    case 521:
      return EVP_sha512();
  }
  fail(errc::unsupported, 0,
       what + ": curve of " + std::to_string(EVP_PKEY_get_bits(k)) + " bits (P-256/384/521 only)");
}

bool signature_valid(EVP_PKEY* k, const std::string& msg, const std::string& sig, const std::string& what) {
  return verify_with(k, signature_hash(k, what), msg, sig);
}

std::string sign_bytes(EVP_PKEY* k, const std::string& msg, const std::string& what, bool allow_ed25519) {
  return sign_with(k, signature_hash(k, what, allow_ed25519), msg, what);
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

// Leaf chains to one of the CA certificates through the bundle's intermediates, at the current time.
std::string chain_problem(const std::vector<x509_ptr>& chain, const std::string& ca_path) {
  std::vector<x509_ptr> cas = pem_certificates(ca_path);
  std::unique_ptr<X509_STORE, freer<X509_STORE, X509_STORE_free>> store(X509_STORE_new());
  for (const x509_ptr& c : cas) X509_STORE_add_cert(store.get(), c.get());
  struct stack_free {
    void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
  };
  std::unique_ptr<STACK_OF(X509), stack_free> untrusted(sk_X509_new_null());
  for (size_t i = 1; i < chain.size(); ++i) sk_X509_push(untrusted.get(), chain[i].get());
  std::unique_ptr<X509_STORE_CTX, freer<X509_STORE_CTX, X509_STORE_CTX_free>> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), chain[0].get(), untrusted.get()) != 1)
    return "OpenSSL cannot set up certificate verification";
  if (X509_verify_cert(ctx.get()) != 1)
    return "signing certificate does not chain to the CA in " + ca_path + ": " +
           X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
  const uint32_t ku = X509_get_key_usage(chain[0].get()), xku = X509_get_extended_key_usage(chain[0].get());
  if (!(ku & KU_DIGITAL_SIGNATURE)) return "signing certificate lacks key usage digitalSignature";
  if (!(xku & XKU_CODE_SIGN)) return "signing certificate lacks extended key usage codeSigning";
  return "";
}

void check_key(const dsse_bundle& b, const std::string& pae, const std::string& pub_path, dsse_check& c) {
  pkey_ptr k = pem_key(pub_path, false);
  const std::string pem = public_key_pem(k.get());
  const std::string hint = digest_hex(sha256_of(pem.data(), pem.size()));
  if (!b.key_hint.empty() && b.key_hint != hint)
    c.problems.push_back("the bundle's key hint " + b.key_hint + " is not the key in " + pub_path + " (" +
                         hint + ")");
  if (!signature_valid(k.get(), pae, b.signature, pub_path))
    c.problems.push_back("DSSE signature does not verify with the public key " + pub_path +
                         " (wrong key, or the signed statement was changed)");
  else
    c.checked.push_back("DSSE signature valid for the public key " + pub_path);
}

void check_certificate(const dsse_bundle& b, const std::string& pae, const std::string& ca_path,
                       dsse_check& c) {
  std::vector<x509_ptr> chain;
  for (const std::string& der : b.certificates_der) chain.push_back(x509_from_der(der));
  if (std::string why = chain_problem(chain, ca_path); !why.empty()) {
    c.problems.push_back(why);
    return;
  }
  c.checked.push_back("signing certificate chains to " + ca_path + ", valid now, key usage code signing");
  pkey_ptr k(X509_get_pubkey(chain[0].get()));
  if (!k || !signature_valid(k.get(), pae, b.signature, "the signing certificate's key"))
    c.problems.push_back(
        "DSSE signature does not verify with the signing certificate's key (the signed statement was "
        "changed)");
  else
    c.checked.push_back("DSSE signature valid for the signing certificate's key");
}

void check_sigstore(const dsse_bundle& b, const std::string& pae, dsse_check& c) {
  x509_ptr leaf = x509_from_der(b.certificates_der.at(0));
  pkey_ptr k(X509_get_pubkey(leaf.get()));
  if (!k || !signature_valid(k.get(), pae, b.signature, "the bundle's Fulcio certificate key"))
    c.problems.push_back("DSSE signature does not verify with the certificate carried in the bundle");
  else
    c.checked.push_back(
        "DSSE signature valid for the certificate carried in the bundle (not trusted by itself)");
  c.not_checked = {"the certificate chain to a Fulcio root (no Sigstore trusted root offline)",
                   "the signer identity and OIDC issuer in the certificate",
                   "the Rekor transparency-log entry (inclusion proof, signed entry timestamp)",
                   "the RFC 3161 timestamps and the certificate's validity at signing time"};
}

}  // namespace

std::string base64_encode(std::string_view in) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(in[i]) << 16) |
                       (i + 1 < in.size() ? static_cast<uint8_t>(in[i + 1]) << 8 : 0) |
                       (i + 2 < in.size() ? static_cast<uint8_t>(in[i + 2]) : 0);
    out += a[(n >> 18) & 63];
    out += a[(n >> 12) & 63];
    out += i + 1 < in.size() ? a[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? a[n & 63] : '=';
  }
  return out;
}

std::string base64_decode(std::string_view in, const std::string& what) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) fail(errc::bad_value, 0, what + ": base64 of impossible length");
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const char ch = in[i];
    int v = ch >= 'A' && ch <= 'Z'   ? ch - 'A'
            : ch >= 'a' && ch <= 'z' ? ch - 'a' + 26
            : ch >= '0' && ch <= '9' ? ch - '0' + 52
            : ch == '+'              ? 62
            : ch == '/'              ? 63
                                     : -1;
    if (v < 0) fail(errc::bad_value, i, what + ": not base64 (byte " + std::to_string(i) + ")");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string dsse_pae(const std::string& type, const std::string& payload) {
  return "DSSEv1 " + std::to_string(type.size()) + " " + type + " " + std::to_string(payload.size()) + " " +
         payload;
}

std::string dsse_bundle_sign(const std::string& payload, const std::string& key_path,
                             const std::string& chain_path, bool allow_ed25519) {
  pkey_ptr k = pem_key(key_path, true);
  ojson material;
  if (chain_path.empty()) {
    const std::string pem = public_key_pem(k.get());
    material = {{"publicKey", {{"hint", digest_hex(sha256_of(pem.data(), pem.size()))}}},
                {"tlogEntries", ojson::array()}};
  } else {
    std::vector<x509_ptr> chain = pem_certificates(chain_path);
    if (X509_check_private_key(chain[0].get(), k.get()) != 1)
      fail(errc::mismatch, 0, chain_path + ": the first certificate is not for the key " + key_path);
    ojson certs = ojson::array();
    for (const x509_ptr& c : chain) certs.push_back({{"rawBytes", base64_encode(der_of(c.get()))}});
    material = {{"x509CertificateChain", {{"certificates", certs}}}, {"tlogEntries", ojson::array()}};
  }
  const std::string sig =
      sign_bytes(k.get(), dsse_pae(intoto_payload_type, payload), key_path, allow_ed25519);
  ojson j = {{"mediaType", sigstore_bundle_v03},
             {"verificationMaterial", material},
             {"dsseEnvelope",
              {{"payload", base64_encode(payload)},
               {"payloadType", intoto_payload_type},
               {"signatures", ojson::array({{{"sig", base64_encode(sig)}, {"keyid", ""}}})}}}};
  return j.dump(2) + "\n";
}

dsse_bundle dsse_bundle_parse(const std::string& text) {
  json_check_depth(text, 0, "Sigstore bundle");
  std::vector<std::string> errs = json_schema_validate(schemas(kBundleSchema, kEnvelopeSchema), text);
  if (!errs.empty()) fail(errc::bad_json, 0, "not an OMS Sigstore bundle: " + join(errs, "; "));
  const ojson j = ojson::parse(text);
  dsse_bundle b;
  b.media_type = j["mediaType"].get<std::string>();
  const ojson& vm = j["verificationMaterial"];
  const ojson& env = j["dsseEnvelope"];
  b.payload_type = env["payloadType"].get<std::string>();
  b.payload = base64_decode(env["payload"].get<std::string>(), "dsseEnvelope.payload");
  if (env["signatures"].size() != 1)
    fail(errc::unsupported, 0,
         "DSSE envelope holds " + std::to_string(env["signatures"].size()) + " signatures (OMS: one)");
  b.signature =
      base64_decode(env["signatures"][0]["sig"].get<std::string>(), "dsseEnvelope.signatures[0].sig");
  if (vm.contains("publicKey")) {
    b.method = "key";
    b.key_hint = vm["publicKey"].value("hint", "");
    if (vm["publicKey"].contains("rawBytes"))
      b.key_raw = base64_decode(vm["publicKey"]["rawBytes"].get<std::string>(), "publicKey.rawBytes");
  } else if (vm.contains("x509CertificateChain")) {
    b.method = "certificate";
    for (const ojson& c : vm["x509CertificateChain"]["certificates"])
      b.certificates_der.push_back(base64_decode(c["rawBytes"].get<std::string>(), "x509CertificateChain"));
  } else {
    b.method = "sigstore";
    b.certificates_der.push_back(
        base64_decode(vm["certificate"]["rawBytes"].get<std::string>(), "certificate"));
  }
  return b;
}

dsse_bundle dsse_bundle_load(const std::string& path) {
  return dsse_bundle_parse(file_text(path, "bundle"));
}

dsse_check dsse_signature_check(const dsse_bundle& b, const std::string& pub, const std::string& ca) {
  dsse_check c;
  c.method = b.method;
  const std::string pae = dsse_pae(b.payload_type, b.payload);
  if (b.method == "key") {
    if (pub.empty())
      c.problems.push_back("a key bundle needs --key PUB.pem (the signer's public key)");
    else
      check_key(b, pae, pub, c);
  } else if (b.method == "certificate") {
    if (ca.empty())
      c.problems.push_back("a certificate bundle needs --certificate-chain CA.pem (the trusted CA)");
    else
      check_certificate(b, pae, ca, c);
  } else {
    if (!pub.empty() || !ca.empty())
      c.problems.push_back(
          "a sigstore bundle is checked against a Sigstore trusted root, not --key/--certificate-chain");
    check_sigstore(b, pae, c);
  }
  return c;
}

std::vector<std::string> oms_schema_errors(const std::string& text) {
  std::vector<std::string> errs = json_schema_validate(schemas(kBundleSchema, kEnvelopeSchema), text);
  if (!errs.empty()) return errs;
  const ojson j = ojson::parse(text);
  std::string payload;
  try {
    payload = base64_decode(j["dsseEnvelope"]["payload"].get<std::string>(), "payload");
  } catch (const failure& f) {
    return {f.err().message};
  }
  for (std::string& e : json_schema_validate(schemas(kStatementSchema, kPredicateSchema), payload))
    errs.push_back("payload" + e);
  return errs;
}

oms_verification oms_verify(const std::string& model, const std::string& text, const oms_verify_options& o) {
  dsse_bundle b = dsse_bundle_parse(text);
  oms_verification v;
  v.method = b.method;
  // model_signing 0.2.0 bundles: neither their signature (not over this PAE) nor their predicate is OMS v1.0.
  const ojson peek = json_depth_exceeded(b.payload) ? ojson() : ojson::parse(b.payload, nullptr, false);
  if (peek.is_object() && peek.value("predicateType", ojson()) == oms_predicate_type_v01) {
    v.problems.push_back(
        std::string("format of model_signing 0.2.0 (predicate ") + oms_predicate_type_v01 +
        ", deprecated by OMS v1.0) is not supported: re-sign with model_signing >= 0.3.1 or glassbox sign");
    v.not_checked.push_back("the signature and the files (unsupported format)");
    return v;
  }
  static_cast<dsse_check&>(v) = dsse_signature_check(b, o.public_key, o.ca_certificates);
  if (!v.problems.empty()) {
    v.not_checked.push_back("the statement and the files (the signature does not hold)");
    return v;
  }
  std::vector<std::string> errs =
      json_schema_validate(schemas(kStatementSchema, kPredicateSchema), b.payload);
  auto statement = capture("DSSE payload", [&] { return oms_statement_parse(b.payload); });
  if (!statement) {
    v.problems.push_back("signature valid, but the statement is not accepted: " + statement.err().message);
    return v;
  }
  if (!errs.empty()) {
    v.problems.push_back("statement does not match the OMS v1.0 schema: " + join(errs, "; "));
    return v;
  }
  v.checked.push_back("in-toto Statement v1, predicate " + std::string(oms_predicate_type) +
                      ", schema valid");
  v.signed_manifest = statement.value();
  std::vector<std::string> ignore = o.ignore_paths;
  if (!o.signature_path.empty()) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path root = fs::weakly_canonical(model, ec), sig = fs::weakly_canonical(o.signature_path, ec);
    fs::path rel = sig.lexically_relative(root);
    if (!ec && !rel.empty() && *rel.begin() != ".." && rel != ".") ignore.push_back(rel.generic_string());
  }
  auto files = capture(model, [&] { return oms_compare(v.signed_manifest, model, ignore, o.threads); });
  if (!files) {
    v.problems.push_back("the model cannot be enumerated as the statement requires: " + files.err().message);
    return v;
  }
  v.files = files.value();
  for (const std::string& p : v.files.problems) v.problems.push_back(p);
  if (v.files.ok())
    v.checked.push_back(std::to_string(v.files.files_checked) +
                        " files match the signed digests (none missing, none extra); subject " +
                        v.files.root_hex);
  return v;
}

}  // namespace gb::viz
