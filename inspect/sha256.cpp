// inspect/sha256.cpp: SHA-256 over OpenSSL EVP; files read with pread, mapped files hashed in place.
#include "inspect/sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "formats/error.h"

namespace gb {

std::string digest_hex(const digest& d) {
  static const char* hx = "0123456789abcdef";
  std::string s(64, '0');
  for (size_t i = 0; i < 32; ++i) {
    s[2 * i] = hx[d[i] >> 4];
    s[2 * i + 1] = hx[d[i] & 15];
  }
  return s;
}

sha256::sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) != 1)
    fail(errc::io, 0, "OpenSSL: cannot initialise SHA-256");
}
sha256::~sha256() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
}
void sha256::update(const void* p, size_t n) {
  if (n) EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), p, n);
}
digest sha256::final() {
  digest d{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), d.data(), &len);
  return d;
}
digest sha256_of(const void* p, size_t n) {
  sha256 h;
  h.update(p, n);
  return h.final();
}

digest file_sha256(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(errc::io, 0, "cannot open " + path + ": " + std::strerror(errno));
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<uint8_t> buf(4u << 20);
  sha256 h;
  uint64_t off = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(off));
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      fail(errc::io, off, "cannot read " + path + ": " + std::strerror(e));
    }
    if (n == 0) break;
    h.update(buf.data(), static_cast<size_t>(n));
    off += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return h.final();
}

digest mapped_sha256(const mapped_file& m) {
  // Hashes the mapped bytes in place (no copy into a read buffer) and drops each chunk's pages behind it,
  // so peak RSS stays flat whatever the file size; pages stay in the page cache for the tensor pass.
  constexpr uint64_t chunk = 4u << 20;
  sha256 h;
  for (uint64_t off = 0; off < m.size(); off += chunk) {
    const uint64_t n = std::min(chunk, m.size() - off);
    h.update(m.data() + off, n);
    m.advise_dontneed(off, n);
  }
  return h.final();
}

}  // namespace gb
