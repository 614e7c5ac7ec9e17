// inspect/oms.h: OpenSSF Model Signing (OMS v1.0) manifests: the files of a model enumerated and hashed as
// the spec says (§6: recursive, sorted by name, default and user exclusions, symlink policy), the root
// (subject) digest that identifies the model's files, the in-toto Statement v1 with predicate type
// https://model_signing/signature/v1.0, and the comparison of a model on disk against a signed statement
// (§8.4: none missing, none extra, every digest equal). The DSSE envelope, Sigstore bundle and signatures
// around the statement live in viz/oms_bundle.h.
//
//   gb::oms_options o;
//   o.ignore_paths = {"cache"};                         // exact relative paths (and their subtrees)
//   gb::oms_manifest m = gb::oms_hash("model-dir", o);  // sorted resources + root_hex (the subject digest)
//   std::string statement = gb::oms_statement_json(m);
//   gb::oms_manifest s = gb::oms_statement_parse(statement);            // throws gb::failure
//   gb::oms_check c = gb::oms_compare(s, "model-dir", {"model.sig"});   // c.problems names every difference
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gb {

inline constexpr const char* oms_predicate_type = "https://model_signing/signature/v1.0";
inline constexpr const char* oms_predicate_type_v01 =
    "https://model_signing/Digests/v0.1";  // model_signing 0.2
inline constexpr const char* intoto_statement_type = "https://in-toto.io/Statement/v1";

struct oms_resource {
  std::string name;        // relative POSIX path ("dir/file")
  std::string digest_hex;  // lowercase hex SHA-256 of the file's bytes
  std::string algorithm = "sha256";
};

struct oms_serialization {
  std::string method = "files", hash_type = "sha256";
  uint64_t shard_size = 0;  // only for method "shards"
  bool allow_symlinks = false;
  std::vector<std::string> ignore_paths;  // as recorded (defaults + user + the signature file)
};

struct oms_manifest {
  std::string subject_name;             // basename of the model path
  std::string root_hex;                 // subject digest (sha256 over the concatenated resource digests)
  std::vector<oms_resource> resources;  // sorted by name
  oms_serialization serialization;
  std::vector<std::string> warnings;  // e.g. a symlink pointing outside the model
};

struct oms_options {
  std::vector<std::string> ignore_paths;  // user exclusions, relative to the model root
  bool allow_symlinks = false;            // false: a symlink in the model is an error (§6.1.1)
  int threads = 0;                        // 0 = all cores
  // Digests already computed for some files (absolute, lexically normal path -> hex), e.g. by hash_model:
  // those files are not read again.
  const std::map<std::string, std::string>* known = nullptr;
};

// A file of the model as enumerated: its canonical name and where it is on disk.
struct oms_file {
  std::string name, path;
};

// The default exclusions (§6.2): top-level .git, .gitignore, .gitattributes, .github.
const std::vector<std::string>& oms_default_ignores();

// Enumerates the model's files (§6.1). Throws gb::failure (not_found, bad_utf8, unsupported for a symlink
// when !allow_symlinks, bad_value for a bad ignore path or an empty model).
std::vector<oms_file> oms_enumerate(const std::string& model, const std::vector<std::string>& ignore,
                                    bool allow_symlinks, std::vector<std::string>* warnings = nullptr);

// The root digest (§6.5.1) of resources in canonical order. Throws gb::failure (bad_value) on a bad hex
// digest.
std::string oms_root_hex(const std::vector<oms_resource>& resources);

// Enumerates and hashes the model (files in parallel, each read once). ignore_paths recorded = defaults +
// o.ignore_paths.
oms_manifest oms_hash(const std::string& model, const oms_options& o);

// The in-toto Statement v1 (JSON text) for a manifest.
std::string oms_statement_json(const oms_manifest& m);

// Reads a statement with the v1.0 predicate (shape already schema-checked or not: every field read is
// checked here). Throws gb::failure: bad_json (shape), unsupported (v0.1 predicate, "shards" method, a hash
// other than sha256).
oms_manifest oms_statement_parse(const std::string& statement_text);

// The model's file identity: the OMS subject digest of `model` as `glassbox sign` (and model_signing) would
// sign it: default exclusions, a top-level model.sig left out. `known`: digests already computed (e.g.
// hash_report files), so nothing is read twice. Never throws: a model that cannot be enumerated (a symlink,
// a FIFO) gives error instead.
struct oms_identity {
  std::string name;  // subject name (basename of the model path)
  std::string root_hex;
  size_t files = 0;
  std::string error;
};
oms_identity oms_identity_of(const std::string& model, const std::map<std::string, std::string>& known = {},
                             int threads = 0);
// The key oms_options::known uses for a path (absolute, lexically normal).
std::string oms_known_key(const std::string& path);

struct oms_check {
  std::vector<std::string> problems;  // one line per missing / extra / changed file, subject mismatch
  size_t files_checked = 0;
  std::string root_hex;  // recomputed from the model on disk (empty when files are missing)
  bool ok() const { return problems.empty(); }
};
// Compares the model on disk with a signed manifest, enumerating with the manifest's symlink policy and
// ignore paths plus `extra_ignore` (e.g. the signature file, --ignore-path).
oms_check oms_compare(const oms_manifest& signed_manifest, const std::string& model,
                      const std::vector<std::string>& extra_ignore, int threads = 0);

}  // namespace gb
