// viz/oms_bundle.h: signatures others can verify: Sigstore bundles (v0.3 JSON) holding a DSSE envelope
// over an in-toto Statement v1, signed and checked with OpenSSL, as OpenSSF Model Signing (OMS v1.0) uses
// them. ECDSA P-256 / P-384 / P-521 keys (SHA-256 / 384 / 512 as the reference implementation), either a
// bare public key ("key" bundles: verificationMaterial.publicKey.hint = SHA-256 of the public key's PEM) or
// an X.509 chain ("certificate" bundles: leaf first, checked against a trusted CA, key usage digital
// signature + extended key usage code signing). "sigstore" bundles (Fulcio + Rekor) cannot be verified
// offline: the signature is checked with the bundle's certificate and the result says what was not checked.
//
//   std::string bundle = gb::viz::dsse_bundle_sign(statement_json, "key.pem");            // or + "chain.pem"
//   gb::viz::oms_verify_options o;  o.public_key = "pub.pem";  o.signature_path = "model/model.sig";
//   gb::viz::oms_verification v = gb::viz::oms_verify("model", bundle, o);
//   v.verified();  v.problems;  v.checked;  v.not_checked;
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "inspect/oms.h"

namespace gb::viz {

inline constexpr const char* intoto_payload_type = "application/vnd.in-toto+json";
inline constexpr const char* sigstore_bundle_v03 = "application/vnd.dev.sigstore.bundle.v0.3+json";

std::string base64_encode(std::string_view bytes);
// Strict RFC 4648 (padding optional); throws gb::failure (bad_value) naming `what`.
std::string base64_decode(std::string_view text, const std::string& what);

// DSSE pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body.
std::string dsse_pae(const std::string& payload_type, const std::string& payload);

// A Sigstore bundle v0.3 (JSON text) with a DSSE envelope (payloadType application/vnd.in-toto+json) over
// `payload`, signed with the PEM private key; with `certificate_chain_pem` (PEM: the signing certificate,
// then intermediates) a certificate bundle, else a key bundle. ECDSA keys only (as OMS), unless
// allow_ed25519 (other in-toto statements). Throws gb::failure (not_found, bad_value, unsupported).
std::string dsse_bundle_sign(const std::string& payload, const std::string& private_key_pem,
                             const std::string& certificate_chain_pem = "", bool allow_ed25519 = false);

// A parsed bundle (after schema checks of the bundle and envelope).
struct dsse_bundle {
  std::string method;  // "key", "certificate" or "sigstore"
  std::string media_type, payload_type, payload, signature;
  std::vector<std::string> certificates_der;  // certificate / sigstore bundles: leaf first
  std::string key_hint, key_raw;              // key bundles: hint (v1.1+) or rawBytes (older)
};
// Throws gb::failure: bad_json (not JSON, or the schema errors joined), bad_value (base64).
dsse_bundle dsse_bundle_parse(const std::string& bundle_text);
// Reads and parses a bundle file (also not_found when unreadable).
dsse_bundle dsse_bundle_load(const std::string& path);

// Trust material and what else to leave out of the file comparison.
struct oms_verify_options {
  std::string public_key;       // PEM public key (key bundles)
  std::string ca_certificates;  // PEM trusted CA certificate(s) (certificate bundles)
  std::string signature_path;   // the bundle's own path: excluded when inside the model
  std::vector<std::string> ignore_paths;
  int threads = 0;
};

struct dsse_check {
  std::string method;
  std::vector<std::string> checked;      // what was checked and held, one line each
  std::vector<std::string> not_checked;  // what could not be checked (sigstore offline)
  std::vector<std::string> problems;     // each failure, naming its cause
  bool verified() const { return problems.empty() && not_checked.empty(); }
};
// The signature of a parsed bundle against the trust material (key, CA chain; sigstore: the bundle's own
// certificate, with not_checked filled). Throws gb::failure (not_found / bad_value) for unreadable trust
// files.
dsse_check dsse_signature_check(const dsse_bundle& b, const std::string& public_key_pem,
                                const std::string& ca_pem);

struct oms_verification : dsse_check {
  oms_manifest signed_manifest;
  oms_check files;
};
// The whole OMS verification (§8): bundle schema, signature, statement schema, files. Throws gb::failure
// for an unreadable bundle or trust file; everything else lands in problems.
oms_verification oms_verify(const std::string& model, const std::string& bundle_text,
                            const oms_verify_options& o);

// Every schema error of an OMS bundle at the four levels (bundle, envelope, statement, predicate), from the
// OMS v1.0 rules built into glassbox. Empty = valid.
std::vector<std::string> oms_schema_errors(const std::string& bundle_text);

}  // namespace gb::viz
