// viz/attestation.h: the audit as evidence others can check: an in-toto Statement v1 about the model
// (subject: its OpenSSF Model Signing v1.0 digest) and the report (subject: report.json's SHA-256), whose
// predicate lists every bias result (metric, value, interval, N, dataset digest, seed, tool version) in the
// shape of the proposed in-toto eval-result predicate (metric, comparator, threshold, passed, sampleSize);
// signed as a DSSE envelope in a Sigstore bundle (viz/oms_bundle.h) beside the report: attestation.sig.
//
//   gb::viz::attestation_info info{...};                       // tool, command, time, seeds, datasets
//   std::string st = gb::viz::attestation_statement(d, info);  // JSON text
//   write(dir + "/attestation.sig", gb::viz::dsse_bundle_sign(st, "key.pem", "", true));
//   gb::viz::attestation_check(dir, "pub.pem", check);         // appends problems / notes
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "viz/manifest.h"
#include "viz/report.h"

namespace gb::viz {

inline constexpr const char* attestation_predicate_type = "https://glassbox.dev/attestation/eval-results/v1";

struct attestation_dataset {
  std::string suite, path;
  std::string digest;  // OMS subject digest of the dataset file or folder; "built-in" for built-in items
};

struct attestation_info {
  std::string tool_version, build, command, time;
  std::vector<std::pair<std::string, uint64_t>> seeds;
  std::vector<attestation_dataset> datasets;
  std::string report_json_sha256;  // of report.json as written
};

std::string attestation_statement(const audit_data& d, const attestation_info& info);

// Checks dir/attestation.sig when present: the DSSE signature with the public key (when given), the
// statement's type, and report.json's digest against its subject. Appends to c.problems / c.notes.
void attestation_check(const std::string& dir, const std::string& public_key_pem, report_check& c);

}  // namespace gb::viz
