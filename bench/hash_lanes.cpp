// bench/hash_lanes.cpp: SHA-256 throughput per core of each kernel (inspect/sha256_lanes.h) beside OpenSSL's
// single stream, in one process on the same bytes (16 messages of MB MiB each, in cache-sized pieces): MB/s
// and the ratio to OpenSSL. The lanes' gain is this ratio; `hash` gets it on the tensors' bytes.
//
//   build/bench/bench_hash_lanes [MB]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "inspect/sha256.h"
#include "inspect/sha256_lanes.h"

namespace {

double hl_seconds(const std::chrono::steady_clock::time_point& t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const size_t per = static_cast<size_t>(argc > 1 ? std::atoi(argv[1]) : 8) << 20;  // bytes a message
  std::vector<uint8_t> buf(16 * per);                                               // (16 messages, per)
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
  auto t0 = std::chrono::steady_clock::now();
  for (size_t m = 0; m < 16; ++m) (void)gb::sha256_of(buf.data() + m * per, per);
  const double openssl = static_cast<double>(buf.size()) / hl_seconds(t0) / 1e6;
  std::printf("openssl (one stream)  %7.0f MB/s\n", openssl);
  const gb::sha256_isa isas[] = {gb::sha256_isa::shani, gb::sha256_isa::avx2, gb::sha256_isa::avx512};
  const char* names[] = {"sha-ni (one stream)", "avx2 (8 lanes)", "avx-512 (16 lanes)"};
  for (int k = 0; k < 3; ++k) {
    if (!gb::sha256_isa_available(isas[k])) {
      std::printf("%-21s  not on this CPU\n", names[k]);
      continue;
    }
    const int lanes = gb::sha256_isa_lanes(isas[k]);
    uint32_t state[8 * 16] = {};  // (8 words, 16 lanes)
    const uint8_t* p[16];         // (16 lanes)
    for (int i = 0; i < 16; ++i) p[i] = buf.data() + static_cast<size_t>(i % lanes) * per;
    t0 = std::chrono::steady_clock::now();
    for (size_t m = 0; m < 16; m += static_cast<size_t>(lanes)) {
      for (int i = 0; i < lanes; ++i) p[i] = buf.data() + (m + static_cast<size_t>(i)) * per;
      if (lanes == 1)
        gb::sha256_blocks(state, p[0], per / 64);
      else
        gb::sha256_lanes_blocks(isas[k], state, p, per / 64);
    }
    const double mbs = static_cast<double>(buf.size()) / hl_seconds(t0) / 1e6;
    std::printf("%-21s  %7.0f MB/s  %.2fx openssl\n", names[k], mbs, mbs / openssl);
  }
  return 0;
}
