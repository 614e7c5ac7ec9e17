// viz/manifest.h: the evidence manifest of a report folder: SHA-256 of every input and output file,
// tool version and build, command line, seeds, time and machine; optionally signed with OpenSSL
// (manifest.sig = signature of the manifest.json bytes; RSA/EC keys with SHA-256, Ed25519 keys as is).
//
//   std::string m = gb::viz::manifest_build(info, inputs, outputs);   // JSON text
//   gb::viz::manifest_sign(m, "key.pem", dir + "/manifest.sig");       // throws gb::failure
//   gb::viz::report_check c = gb::viz::report_verify(dir, "pub.pem");  // names every changed file
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gb::viz {

struct manifest_file {
  std::string path;  // inputs: as given; outputs: relative to the report folder
  uint64_t bytes = 0;
  std::string sha256;
};

struct manifest_info {
  std::string tool_version, build, command, time, machine;
  std::vector<std::pair<std::string, uint64_t>> seeds;
};

// Hashes `path` (throws gb::failure when unreadable).
manifest_file manifest_file_of(const std::string& path, const std::string& recorded_path);
std::string manifest_build(const manifest_info& info, const std::vector<manifest_file>& inputs,
                           const std::vector<manifest_file>& outputs);
void manifest_sign(const std::string& manifest_text, const std::string& private_key_pem,
                   const std::string& sig_path);
bool manifest_signature_valid(const std::string& manifest_text, const std::string& sig_bytes,
                              const std::string& public_key_pem);

struct report_check {
  std::vector<std::string> problems;  // one line per changed / missing file or bad signature
  std::vector<std::string> notes;     // e.g. "signature not checked (no --key)"
  size_t files_checked = 0;
  bool ok() const { return problems.empty(); }
};
report_check report_verify(const std::string& dir, const std::string& public_key_pem = "");

// What this build is: compiler and flags (for the manifest).
std::string build_description();
std::string machine_description();

}  // namespace gb::viz
