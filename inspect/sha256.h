// inspect/sha256.h: SHA-256 digests (OpenSSL EVP, SHA-NI when the CPU has it) of bytes, files and mapped
// files, and their hex spelling. Its own header so that stats, shards and manifests hash without the
// canonical tensor digests of inspect/hash.h.
//
//   gb::sha256 h;
//   h.update(p, n);                       // as often as needed
//   std::string hex = gb::digest_hex(h.final());
//   gb::digest d = gb::file_sha256(path);  // as `sha256sum`
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "formats/mapped_file.h"

namespace gb {

using digest = std::array<uint8_t, 32>;
std::string digest_hex(const digest& d);

// Incremental SHA-256 (OpenSSL EVP; uses SHA-NI when the CPU has it).
class sha256 {
 public:
  sha256();
  ~sha256();
  sha256(const sha256&) = delete;
  sha256& operator=(const sha256&) = delete;
  void update(const void* p, size_t n);
  digest final();  // once

 private:
  void* ctx_;  // EVP_MD_CTX
};
digest sha256_of(const void* p, size_t n);

// SHA-256 of a whole file read in 256 KiB pieces with pread (no mapping: the RSS stays flat).
digest file_sha256(const std::string& path);
digest mapped_sha256(const mapped_file& m);  // the same digest of a mapped file (read with pread while
                                             // its path names that very file, else the mapped bytes)

}  // namespace gb
