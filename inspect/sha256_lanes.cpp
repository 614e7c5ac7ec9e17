// inspect/sha256_lanes.cpp: multi-buffer SHA-256 (see sha256_lanes.h). The 64 rounds are written once over
// GCC/Clang vector types (sha256_lane_rounds), instantiated for 16 x u32 (AVX-512) and 8 x u32 (AVX2) inside
// functions compiled for those targets (so any x86-64 build has them, chosen at run time); the message words
// come from each lane's block by a byte swap and a 16 x 16 (8 x 8) transpose of 32-bit words.
#include "inspect/sha256_lanes.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define GB_SHA_X86 1
#endif

namespace gb {

namespace {

constexpr uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

// The 64 rounds of one block for every lane of V (a vector of u32, or plain uint32_t for the reference).
// st: the 8 state words; w: the block's 16 big-endian words (overwritten by the message schedule).
template <class V>
[[gnu::always_inline]] inline void sha256_lane_rounds(V* st, V* w) {
  V a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
#pragma GCC unroll 64
  for (int t = 0; t < 64; ++t) {
    V wt;
    if (t < 16) {
      wt = w[t];
    } else {
      const V w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
      const V s0 = ((w15 >> 7) | (w15 << 25)) ^ ((w15 >> 18) | (w15 << 14)) ^ (w15 >> 3);
      const V s1 = ((w2 >> 17) | (w2 << 15)) ^ ((w2 >> 19) | (w2 << 13)) ^ (w2 >> 10);
      wt = w[t & 15] = w[t & 15] + s0 + w[(t - 7) & 15] + s1;
    }
    const V big1 = ((e >> 6) | (e << 26)) ^ ((e >> 11) | (e << 21)) ^ ((e >> 25) | (e << 7));
    const V ch = g ^ (e & (f ^ g));
    const V t1 = h + big1 + ch + wt + sha_k[t];
    const V big0 = ((a >> 2) | (a << 30)) ^ ((a >> 13) | (a << 19)) ^ ((a >> 22) | (a << 10));
    const V maj = (a & b) | (c & (a | b));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + big0 + maj;
  }
  st[0] += a, st[1] += b, st[2] += c, st[3] += d, st[4] += e, st[5] += f, st[6] += g, st[7] += h;
}

uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

#if defined(GB_SHA_X86)
using u32x16 = uint32_t __attribute__((vector_size(64)));
using u32x8 = uint32_t __attribute__((vector_size(32)));

bool cpu_has_sha() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return ((b >> 29) & 1) && __builtin_cpu_supports("ssse3") && __builtin_cpu_supports("sse4.1");
}

// GCC 12 reports false "used uninitialized" warnings for the AVX-512 intrinsics' undefined pass-through
// operand; silenced for these kernels only (pushed and popped: the unity build's other sources keep them).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// Word j of lane i's block, for 16 lanes: byte swap, then a 16 x 16 transpose of 32-bit words (r: the 16
// lanes' blocks in, the 16 message words out).
__attribute__((target("avx512f,avx512bw"))) void lanes_words16(__m512i* r) {
  __m512i t[16], u[16];  // t: pairs of rows interleaved; u[4g + j]: column 4k + j of rows 4g..4g+3 in lane k
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 4; ++g) {
    u[4 * g + 0] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
    u[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
  }
  for (int j = 0; j < 4; ++j) {  // 128-bit lane g of word 4k + j = lane k of u[4g + j]
    const __m512i v0 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x44),
                  v1 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xEE);
    const __m512i v2 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x44);
    const __m512i v3 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xEE);
    r[j] = _mm512_shuffle_i32x4(v0, v2, 0x88);
    r[4 + j] = _mm512_shuffle_i32x4(v0, v2, 0xDD);
    r[8 + j] = _mm512_shuffle_i32x4(v1, v3, 0x88);
    r[12 + j] = _mm512_shuffle_i32x4(v1, v3, 0xDD);
  }
}

__attribute__((target("avx512f,avx512bw"))) void lanes_blocks_avx512(uint32_t* state, const uint8_t* const* p,
                                                                     size_t nblocks) {
  u32x16 st[8];  // (8 words, 16 lanes)
  for (int j = 0; j < 8; ++j) st[j] = reinterpret_cast<u32x16>(_mm512_loadu_si512(state + 16 * j));
  const __m512i swap =
      _mm512_broadcast_i32x4(_mm_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12));
  for (size_t b = 0; b < nblocks; ++b) {
    __m512i r[16];  // (16 lanes, 16 words), then (16 words, 16 lanes)
    for (int i = 0; i < 16; ++i) r[i] = _mm512_shuffle_epi8(_mm512_loadu_si512(p[i] + 64 * b), swap);
    lanes_words16(r);
    u32x16 w[16];  // (16 words, 16 lanes)
    for (int j = 0; j < 16; ++j) w[j] = reinterpret_cast<u32x16>(r[j]);
    sha256_lane_rounds(st, w);
  }
  for (int j = 0; j < 8; ++j) _mm512_storeu_si512(state + 16 * j, reinterpret_cast<__m512i>(st[j]));
}
#pragma GCC diagnostic pop

// 8 x 8 transpose of 32-bit words (r: 8 rows in, 8 columns out).
__attribute__((target("avx2"))) void lanes_words8(__m256i* r) {
  __m256i t[8], u[8];  // u[4g + j]: column 4k + j of rows 4g..4g+3 in 128-bit lane k
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 2; ++g) {
    u[4 * g + 0] = _mm256_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 1] = _mm256_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 2] = _mm256_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
    u[4 * g + 3] = _mm256_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
  }
  for (int j = 0; j < 4; ++j) {
    r[j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x20);
    r[4 + j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x31);
  }
}

__attribute__((target("avx2"))) void lanes_blocks_avx2(uint32_t* state, const uint8_t* const* p,
                                                       size_t nblocks) {
  u32x8 st[8];  // (8 words, 8 lanes)
  for (int j = 0; j < 8; ++j)
    st[j] = reinterpret_cast<u32x8>(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(state + 16 * j)));
  const __m256i swap = _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, 3, 2, 1, 0, 7,
                                        6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
  for (size_t b = 0; b < nblocks; ++b) {
    __m256i lo[8], hi[8];  // (8 lanes, words 0..7 / 8..15), then (words, 8 lanes)
    for (int i = 0; i < 8; ++i) {
      const uint8_t* q = p[i] + 64 * b;
      lo[i] = _mm256_shuffle_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)), swap);
      hi[i] = _mm256_shuffle_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32)), swap);
    }
    lanes_words8(lo);
    lanes_words8(hi);
    u32x8 w[16];  // (16 words, 8 lanes)
    for (int j = 0; j < 8; ++j)
      w[j] = reinterpret_cast<u32x8>(lo[j]), w[8 + j] = reinterpret_cast<u32x8>(hi[j]);
    sha256_lane_rounds(st, w);
  }
  for (int j = 0; j < 8; ++j)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(state + 16 * j), reinterpret_cast<__m256i>(st[j]));
}

// One stream with the SHA extensions: state as ABEF / CDGH, four rounds per group of message words.
__attribute__((target("sha,sse4.1,ssse3"))) void blocks_shani(uint32_t h[8], const uint8_t* p,
                                                              size_t nblocks) {
  const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h)), 0xB1);     // CDAB
  __m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 4)), 0x1B);  // EFGH
  __m128i s0 = _mm_alignr_epi8(tmp, s1, 8);                                                        // ABEF
  s1 = _mm_blend_epi16(s1, tmp, 0xF0);                                                             // CDGH
  for (size_t b = 0; b < nblocks; ++b, p += 64) {
    const __m128i abef = s0, cdgh = s1;
    __m128i m[4];  // the last four groups of message words
    for (int g = 0; g < 16; ++g) {
      __m128i& cur = m[g & 3];
      if (g < 4)
        cur = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * g)), swap);
      else
        cur = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(m[g & 3], m[(g + 1) & 3]),
                                                 _mm_alignr_epi8(m[(g + 3) & 3], m[(g + 2) & 3], 4)),
                                   m[(g + 3) & 3]);
      const __m128i wk = _mm_add_epi32(
          cur, _mm_set_epi32(static_cast<int>(sha_k[4 * g + 3]), static_cast<int>(sha_k[4 * g + 2]),
                             static_cast<int>(sha_k[4 * g + 1]), static_cast<int>(sha_k[4 * g])));
      s1 = _mm_sha256rnds2_epu32(s1, s0, wk);
      s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(wk, 0x0E));
    }
    s0 = _mm_add_epi32(s0, abef);
    s1 = _mm_add_epi32(s1, cdgh);
  }
  tmp = _mm_shuffle_epi32(s0, 0x1B);                                                 // FEBA
  s1 = _mm_shuffle_epi32(s1, 0xB1);                                                  // DCHG
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h), _mm_blend_epi16(tmp, s1, 0xF0));   // DCBA
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h + 4), _mm_alignr_epi8(s1, tmp, 8));  // HGFE
}
#endif  // GB_SHA_X86

// A lane's message: its stream state and the rest of its current piece.
struct lane_msg {
  sha256_source* src = nullptr;
  sha256_stream s;
  const uint8_t* p = nullptr;  // (n) bytes of the current piece not yet taken
  size_t n = 0;
  bool ended = false;
};

// Points `at` at the lane's next whole blocks (the piece itself, or one block gathered in s.buf across
// pieces) and returns how many; 0 when the message has no whole block left (s.buf holds its tail).
size_t lane_ready(lane_msg& m, const uint8_t*& at) {
  for (;;) {
    if (m.s.nbuf == 64) {  // gathered by an earlier call, not hashed yet
      at = m.s.buf;
      return 1;
    }
    if (m.s.nbuf == 0 && m.n >= 64) {
      at = m.p;
      return m.n / 64;
    }
    if (m.n > 0) {
      const size_t c = std::min(64 - m.s.nbuf, m.n);
      std::memcpy(m.s.buf + m.s.nbuf, m.p, c);
      m.s.nbuf += c, m.s.len += c, m.p += c, m.n -= c;
      if (m.s.nbuf == 64) {
        at = m.s.buf;
        return 1;
      }
    }
    if (m.ended || !m.src->next(m.p, m.n)) {
      m.ended = true, m.p = nullptr, m.n = 0;
      return 0;
    }
  }
}

// After k blocks at `at` went into the lane's state.
void lane_consumed(lane_msg& m, const uint8_t* at, size_t k) {
  if (at == m.s.buf) {
    m.s.nbuf = 0;
  } else {
    m.p += 64 * k, m.n -= 64 * k;
    m.s.len += 64 * k;
  }
}

// The rest of a lane's message as one stream.
digest lane_finish_single(lane_msg& m) {
  const uint8_t* at = nullptr;
  for (size_t k; (k = lane_ready(m, at)) > 0; lane_consumed(m, at, k)) sha256_blocks(m.s.h, at, k);
  return m.s.final();
}

}  // namespace

bool sha256_isa_available(sha256_isa isa) {
#if defined(GB_SHA_X86)
  static const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  static const bool avx2 = __builtin_cpu_supports("avx2");
  static const bool sha = cpu_has_sha();
  switch (isa) {
    case sha256_isa::avx512:
      return avx512;
    case sha256_isa::avx2:
      return avx2;
    case sha256_isa::shani:
      return sha;
    case sha256_isa::ref:
      return true;
  }
  return false;
#else
  return isa == sha256_isa::ref;
#endif
}

int sha256_isa_lanes(sha256_isa isa) {
  return isa == sha256_isa::avx512 ? 16 : isa == sha256_isa::avx2 ? 8 : 1;
}

sha256_isa sha256_lanes_isa_best() {
  static const sha256_isa best = [] {
    const char* env = std::getenv("GB_SHA256_LANES");
    const std::string e = env ? env : "";
    if (e == "off") return sha256_isa::ref;
    if (e == "avx512" || e == "avx2") {
      const sha256_isa want = e == "avx512" ? sha256_isa::avx512 : sha256_isa::avx2;
      return sha256_isa_available(want) ? want : sha256_isa::ref;
    }
    if (sha256_isa_available(sha256_isa::avx512)) return sha256_isa::avx512;
    if (sha256_isa_available(sha256_isa::avx2) && !sha256_isa_available(sha256_isa::shani))
      return sha256_isa::avx2;
    return sha256_isa::ref;
  }();
  return best;
}

void sha256_blocks_ref(uint32_t h[8], const uint8_t* p, size_t nblocks) {
  for (size_t b = 0; b < nblocks; ++b, p += 64) {
    uint32_t w[16];  // (16 words)
    for (int t = 0; t < 16; ++t) w[t] = load_be32(p + 4 * t);
    sha256_lane_rounds(h, w);
  }
}

void sha256_blocks(uint32_t h[8], const uint8_t* p, size_t nblocks) {
#if defined(GB_SHA_X86)
  static const bool sha = sha256_isa_available(sha256_isa::shani);
  if (sha) return blocks_shani(h, p, nblocks);
#endif
  sha256_blocks_ref(h, p, nblocks);
}

void sha256_lanes_blocks_ref(uint32_t state[8 * 16], const uint8_t* const p[16], size_t nblocks, int lanes) {
  for (int i = 0; i < lanes; ++i) {
    uint32_t h[8];
    for (int j = 0; j < 8; ++j) h[j] = state[16 * j + i];
    sha256_blocks_ref(h, p[i], nblocks);
    for (int j = 0; j < 8; ++j) state[16 * j + i] = h[j];
  }
}

void sha256_lanes_blocks(sha256_isa isa, uint32_t state[8 * 16], const uint8_t* const p[16], size_t nblocks) {
#if defined(GB_SHA_X86)
  if (isa == sha256_isa::avx512) return lanes_blocks_avx512(state, p, nblocks);
  if (isa == sha256_isa::avx2) return lanes_blocks_avx2(state, p, nblocks);
#endif
  sha256_lanes_blocks_ref(state, p, nblocks, sha256_isa_lanes(isa));
}

void sha256_stream::update(const void* data, size_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  len += n;
  if (nbuf) {
    const size_t c = std::min(64 - nbuf, n);
    std::memcpy(buf + nbuf, p, c);
    nbuf += c, p += c, n -= c;
    if (nbuf < 64) return;
    sha256_blocks(h, buf, 1);
    nbuf = 0;
  }
  if (n >= 64) sha256_blocks(h, p, n / 64);
  std::memcpy(buf, p + n / 64 * 64, n % 64);
  nbuf = n % 64;
}

digest sha256_stream::final() {
  const uint64_t bits = len * 8;
  buf[nbuf++] = 0x80;
  if (nbuf > 56) {
    std::memset(buf + nbuf, 0, 64 - nbuf);
    sha256_blocks(h, buf, 1);
    nbuf = 0;
  }
  std::memset(buf + nbuf, 0, 56 - nbuf);
  for (int i = 0; i < 8; ++i) buf[56 + i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
  sha256_blocks(h, buf, 1);
  nbuf = 0;
  digest d;
  for (int j = 0; j < 8; ++j)
    for (int i = 0; i < 4; ++i)
      d[static_cast<size_t>(4 * j + i)] = static_cast<uint8_t>(h[j] >> (24 - 8 * i));
  return d;
}

void sha256_lanes_run(sha256_isa isa, const std::function<sha256_source*()>& take,
                      const std::function<void(sha256_source*, const digest&)>& done) {
  const int width = sha256_isa_lanes(isa);
  // With the queue empty and this few lanes busy, one SHA-NI stream per message is faster than the lanes
  // (16 AVX-512 lanes measured at ~2.4x one SHA-NI stream: 6 busy lanes are about one stream).
  const int tail = sha256_isa_available(sha256_isa::shani) ? width * 3 / 8 : 0;
  lane_msg lane[16];
  bool drained = false;
  auto assign = [&](lane_msg& m) {
    if (drained) return false;
    sha256_source* s = take();
    if (!s) return (drained = true, false);
    m = lane_msg{};
    m.src = s;
    return true;
  };
  uint32_t state[8 * 16];      // (8 words, 16 lanes)
  const uint8_t* at[16] = {};  // (16 lanes) the blocks each lane hashes next
  for (;;) {
    size_t k = SIZE_MAX;
    int active = 0, first = -1;
    for (int i = 0; i < width; ++i) {
      lane_msg& m = lane[i];
      for (;;) {
        if (!m.src && !assign(m)) break;
        const size_t r = lane_ready(m, at[i]);
        if (r > 0) {
          k = std::min(k, r), ++active, first = first < 0 ? i : first;
          break;
        }
        done(m.src, m.s.final());
        m.src = nullptr;
      }
    }
    if (active == 0) return;
    if (width == 1 || (drained && active <= tail)) {
      for (int i = 0; i < width; ++i)
        if (lane[i].src) done(lane[i].src, lane_finish_single(lane[i])), lane[i].src = nullptr;
      continue;  // width 1: the next message
    }
    for (int i = 0; i < width; ++i) {  // idle lanes hash a busy lane's blocks into a state nobody reads
      if (!lane[i].src) at[i] = at[first];
      for (int j = 0; j < 8; ++j) state[16 * j + i] = lane[i].s.h[j];
    }
    sha256_lanes_blocks(isa, state, at, k);
    for (int i = 0; i < width; ++i) {
      if (!lane[i].src) continue;
      for (int j = 0; j < 8; ++j) lane[i].s.h[j] = state[16 * j + i];
      lane_consumed(lane[i], at[i], k);
    }
  }
}

}  // namespace gb
