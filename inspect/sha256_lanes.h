// inspect/sha256_lanes.h: multi-buffer SHA-256: up to 16 independent messages hashed at once, one per 32-bit
// SIMD lane (AVX-512: 16 lanes, AVX2: 8), the same compression function with the lanes' states transposed.
// Used for the canonical tensor digests (one SHA-256 per tensor, hash.h): a thread feeds the pieces of
// several tensors in lock step; a lane whose message ends takes the next one; when the queue is empty and few
// lanes are left, they finish as single streams (SHA-NI when the CPU has it). The digests are plain SHA-256
// (FIPS 180-4), equal to OpenSSL's for every message; sha256_lanes_blocks_ref / sha256_blocks_ref are the
// portable twins the SIMD kernels are tested against.
//
//   struct my_source : gb::sha256_source { bool next(const uint8_t*& p, size_t& n) override; };
//   gb::sha256_lanes_run(gb::sha256_lanes_isa_best(),
//                        [&]() -> gb::sha256_source* { return next_message_or_null(); },
//                        [&](gb::sha256_source* s, const gb::digest& d) { store(s, d); });
//   gb::sha256_stream h;  h.update(p, n);  gb::digest d = h.final();   // one stream, no OpenSSL
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "inspect/sha256.h"

namespace gb {

// One message's bytes, in pieces: next() sets the following piece (n > 0; valid until the next call) or
// returns false when the message is complete. Throwing from next() ends sha256_lanes_run with that exception.
struct sha256_source {
  virtual ~sha256_source() = default;
  virtual bool next(const uint8_t*& p, size_t& n) = 0;
};

// Kernels. ref: portable (any CPU); shani: one stream with the SHA extensions; avx2 / avx512: 8 / 16 lanes.
enum class sha256_isa { ref, shani, avx2, avx512 };
bool sha256_isa_available(sha256_isa isa);  // compiled in (x86-64) and the CPU has it
int sha256_isa_lanes(sha256_isa isa);       // 1, 1, 8, 16
// The lane kernel to use for many messages, or ref when lanes would not beat the single stream: AVX-512 when
// the CPU has it; AVX2 only without SHA-NI (8 AVX2 lanes do not outrun SHA-NI).
// GB_SHA256_LANES=avx512|avx2|off overrides (benchmarks, and `hash --json` identity checks per kernel); an
// unavailable choice means ref.
sha256_isa sha256_lanes_isa_best();

// Compression. h: the 8 state words; p: nblocks 64-byte blocks.
void sha256_blocks_ref(uint32_t h[8], const uint8_t* p, size_t nblocks);
void sha256_blocks(uint32_t h[8], const uint8_t* p, size_t nblocks);  // SHA-NI when available, else ref
// Lanes: state[j * 16 + i] is word j of lane i (transposed); lane i reads nblocks blocks at p[i]. `isa` is
// avx2 (lanes 0..7) or avx512 (0..15); the ref twin runs `lanes` lanes through sha256_blocks_ref.
void sha256_lanes_blocks_ref(uint32_t state[8 * 16], const uint8_t* const p[16], size_t nblocks, int lanes);
void sha256_lanes_blocks(sha256_isa isa, uint32_t state[8 * 16], const uint8_t* const p[16], size_t nblocks);

// One incremental SHA-256 stream over sha256_blocks (its state can move in and out of a lane).
struct sha256_stream {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  uint64_t len = 0;  // bytes so far
  uint8_t buf[64];   // (nbuf) bytes of an incomplete block
  size_t nbuf = 0;
  void update(const void* p, size_t n);
  digest final();  // once
};

// Hashes every message take() hands out (nullptr: no more) with isa's lanes, calling done(source, digest) for
// each (on this thread, in the order messages end). isa ref or shani: one message at a time.
void sha256_lanes_run(sha256_isa isa, const std::function<sha256_source*()>& take,
                      const std::function<void(sha256_source*, const digest&)>& done);

}  // namespace gb
