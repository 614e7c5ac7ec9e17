// inspect/hash_verdict.h: what `glassbox hash` and `glassbox verify` conclude beyond the digests: the files'
// OMS identity from the file digests a hash pass already computed (nothing read twice), and the verdict of a
// manifest check on the one --fail-on scale.
//
//   gb::oms_identity id = gb::hash_oms_identity(path, report, /*files_hashed=*/true, threads);
//   gb::verify_verdict v = gb::verify_verdict_of(gb::manifest_verify(manifest_text, report));
//   if (v.changed && v.level >= fail_on) return 1;   // v.text: "OK", "FAILED", ...
#pragma once

#include <string>

#include "inspect/hash.h"
#include "inspect/oms.h"

namespace gb {

// The OMS v1.0 subject digest of the model's files, reusing h's file SHA-256; when the files were not hashed
// (--no-file-hash) none is read for it either: the identity carries the reason in `error`.
oms_identity hash_oms_identity(const std::string& model, const hash_report& h, bool files_hashed,
                               int threads);

struct verify_verdict {
  bool changed = false;       // something differs
  bool same_weights = false;  // only the files around the weights differ (root digest equal): info
  severity level = severity::info;
  std::string text;  // "OK", "same weights, different container" or "FAILED"
};
verify_verdict verify_verdict_of(const verify_report& v);

}  // namespace gb
