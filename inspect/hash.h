// inspect/hash.h: canonical digests of tensors, the manifest, and verify.
//
// Canonical tensor digest (gb-tensor-v1), defined so that the same weights give the same digest in any
// container (GGUF v1-v3, safetensors, llama2.c, PyTorch, HF folder):
//   values  = SHA-256( the tensor's values in canonical layout (tensor_values.h), each row in the stored
//                      dtype's own bytes: f32 -> 4-byte LE floats, f16 -> 2-byte halves, q8_0 -> its
//                      34-byte blocks ... rows in canonical order )
//   tensor  = SHA-256( "gb-tensor-v1" 0x00 canonical_name 0x00 dtype_name 0x00
//                      u64 LE rank, int64 LE dims (canonical shape, outermost first), values (32 bytes) )
//   root    = SHA-256( "gb-root-v1" 0x00, then for each counted tensor sorted by canonical name:
//                      its tensor digest (32 bytes) )
// dtype_name is dtype_name() ("f32", "q8_0"): a dtype change is a different digest; the same f32 weights
// in any container are the same digest. Not counted in the root (listed with the reason):
//   - role rope_freqs (llama2.c's legacy freq_cis block is a precomputed RoPE table, not a weight);
//   - output.weight when it has the same dtype, shape and values as tok_embd.weight (a tied classifier
//     stored as a copy, e.g. GGUF; formats that tie by omission have no output tensor at all).
// File digests are plain SHA-256 of the file bytes (as `sha256sum`).
//
//   gb::hash_options o;
//   gb::hash_report h = gb::hash_model(items, files, o);   // files: archive::files
//   h.root_hex; h.tensors[i].digest_hex; h.files[j].sha256_hex;
//   std::string manifest = gb::manifest_json(h, cmdline);  // JSON text
//   gb::verify_report v = gb::manifest_verify(manifest_text, h);  // v.changed names every difference
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "inspect/sha256.h"
#include "inspect/stats.h"
#include "inspect/tensor_values.h"

namespace gb {

// The tensor digest from its parts (see the definition above).
digest tensor_digest(const std::string& canonical_name, dtype t, const std::vector<int64_t>& shape,
                     const digest& values);

struct tensor_hash {
  std::string name, stored_name;
  std::string dtype_name;
  std::vector<int64_t> shape;
  std::string values_hex, digest_hex;
  std::string excluded;  // reason when not counted in the root
};
struct file_hash {
  std::string path, role;
  uint64_t size = 0;
  std::string sha256_hex;
};
struct hash_report {
  std::string model_path, format, format_version;
  std::vector<file_hash> files;
  std::vector<tensor_hash> tensors;
  std::string root_hex;
  size_t counted = 0;
  stats_report stats;  // computed in the same pass when hash_options::stats
};

struct hash_options {
  bool files = true;  // SHA-256 of each file
  bool stats = true;  // statistics in the same pass (they come free on the second core)
  int threads = 0;    // 0 = all cores
};

hash_report hash_model(const std::vector<tensor_item>& items, const std::vector<source_file>& files,
                       const hash_options& opt);

// The manifest: {"tool": "glassbox", "version", "command", "time" (UTC ISO 8601), "inputs": {path, format,
// files: [{path, role, size, sha256}]}, "digest_scheme": "gb-tensor-v1", "root", "tensors": [{name,
// stored_name, dtype, shape, values, digest, excluded?}], "findings": [{severity, code, where, message}]}
// (findings from the statistics computed in the same pass).
std::string manifest_json(const hash_report& h, const std::string& command);

struct verify_report {
  std::vector<std::string> changed;  // one human line per changed/missing/extra tensor or file
  bool root_equal = false;
  size_t tensors_checked = 0, files_checked = 0;
  size_t file_changes = 0;  // entries of `changed` about files (root_equal && changed.size() == file_changes:
                            // the same weights in a different container, e.g. GGUF vs an HF folder)
};
// Compares a manifest (JSON text) against a fresh hash. Throws gb::failure (bad_json) on a bad manifest.
verify_report manifest_verify(const std::string& manifest_text, const hash_report& now);

}  // namespace gb
