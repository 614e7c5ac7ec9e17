// inspect/hash_verdict.cpp: the identity and verdict of hash / verify (see inspect/hash_verdict.h).
#include "inspect/hash_verdict.h"

#include <map>

namespace gb {

oms_identity hash_oms_identity(const std::string& model, const hash_report& h, bool files_hashed,
                               int threads) {
  oms_identity id;
  if (!files_hashed) {
    id.error = "skipped (--no-file-hash: the OMS subject digest is made of the files' SHA-256)";
    return id;
  }
  std::map<std::string, std::string> known;
  for (const file_hash& f : h.files)
    if (!f.sha256_hex.empty()) known[oms_known_key(f.path)] = f.sha256_hex;
  return oms_identity_of(model, known, threads);
}

verify_verdict verify_verdict_of(const verify_report& v) {
  verify_verdict r;
  r.changed = !v.changed.empty();
  // the same canonical tensors in other files (GGUF vs an HF folder) are the same weights: info
  r.same_weights = v.root_equal && v.changed.size() == v.file_changes;
  r.level = r.changed && !r.same_weights ? severity::high : severity::info;
  r.text = !r.changed ? "OK" : r.same_weights ? "same weights, different container" : "FAILED";
  return r;
}

}  // namespace gb
