// inspect/stats_quant.cpp: a quantised row's statistics from its blocks in one pass (see the header).
#include "inspect/stats_quant.h"

// No file-wide #pragma (fp-contract): in a unity batch it would reach the sources after this one. None is
// needed: the kernels and the twin share every double operation (accumulate, with explicit fma, and
// about_shift), and the float products d * q are not followed by an add that could fuse with them.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "formats/quant.h"
#include "formats/quant_cols.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define GB_SQ_AVX2 1  // compiled into any x86-64 build through the target attribute, run when the CPU has it
#define GB_SQ_AVX2_FN __attribute__((target("avx2,fma,f16c")))
#endif

namespace gb {
namespace {

constexpr int64_t kQ4Bytes = 18, kQ4Values = 32;  // q4_0 block: f16 d, 16 bytes of nibble pairs
constexpr int64_t kChunk = 64;                    // blocks between two double accumulations

// Per block b of a chunk: q[4 b + k - 1] = sum of q^k over its 32 values (exact), d[b] its scale.
struct chunk_ints {
  int32_t q[4 * kChunk];  // (blocks, 4)
  float d[kChunk];        // (blocks)
};
// Extremes and zeros so far in the row.
struct row_state {
  float mn, mx;
  uint64_t zeros;
};
// Scans nb blocks at x: fills c, updates st and the columns cmin / cmax (32 nb floats each, or null).
using q4_0_scan_fn = void (*)(const uint8_t* x, int64_t nb, float* cmin, float* cmax, chunk_ints& c,
                              row_state& st);

uint16_t scale_bits(const uint8_t* block) {
  uint16_t h;
  std::memcpy(&h, block, 2);
  return h;
}

void q4_0_scan_ref(const uint8_t* x, int64_t nb, float* cmin, float* cmax, chunk_ints& c, row_state& st) {
  float v[kQ4Values];  // (32) the block's values, as ggml decodes them
  for (int64_t b = 0; b < nb; ++b, x += kQ4Bytes) {
    c.d[b] = fp16_to_f32(scale_bits(x));
    int32_t s[4] = {0, 0, 0, 0};
    for (int j = 0; j < 16; ++j)
      for (int q : {(x[2 + j] & 0x0F) - 8, (x[2 + j] >> 4) - 8}) {
        s[0] += q;
        s[1] += q * q;
        s[2] += q * q * q;
        s[3] += q * q * q * q;
      }
    std::memcpy(c.q + 4 * b, s, sizeof s);
    dequantize_row(dtype::q4_0, x, v, kQ4Values);
    for (int64_t j = 0; j < kQ4Values; ++j) {
      const float y = v[j];
      st.mn = y < st.mn ? y : st.mn;
      st.mx = y > st.mx ? y : st.mx;
      st.zeros += y == 0.0f ? 1u : 0u;
      if (cmin) {
        float& lo = cmin[kQ4Values * b + j];
        float& hi = cmax[kQ4Values * b + j];
        lo = y < lo ? y : lo;
        hi = y > hi ? y : hi;
      }
    }
  }
}

// A kernel's n lanes of row extremes folded into st, lane by lane (v < m ? v : m), and its zeros added.
void sq_fold_lanes(const float* lo, const float* hi, int n, uint64_t zeros, row_state& st) {
  for (int i = 0; i < n; ++i) {
    st.mn = lo[i] < st.mn ? lo[i] : st.mn;
    st.mx = hi[i] > st.mx ? hi[i] : st.mx;
  }
  st.zeros += zeros;
}

// ---- q8_0: {f16 d; i8 qs[32]}, value d * q (a float exactly: 11 by 8 significant bits) ----------------
constexpr int64_t kQ8Bytes = 34, kQ8Values = 32;

// Per block b of a chunk: q[4 b + k - 1] = sum of q^k over its 32 values (exact; q^4 sums reach 2^33), d[b].
struct chunk_q8 {
  int64_t q[4 * kChunk];  // (blocks, 4)
  float d[kChunk];        // (blocks)
};
// A row's extremes in 16 lanes: value j of every block meets lane j % 16 (values j, then j + 16), blocks in
// order; the lanes are folded 0..15 at the row's end (sq_fold_lanes). The AVX-512 kernel's own order, so the
// twin's extremes are its bits, the sign of a zero extreme included.
struct lanes16 {
  float lo[16], hi[16];
  uint64_t zeros;
};
using q8_0_scan_fn = void (*)(const uint8_t* x, int64_t nb, float* cmin, float* cmax, chunk_q8& c,
                              lanes16& st);

// n values (a multiple of 16) into the lanes (value j: lane j % 16) and the columns cmin / cmax (or null).
void lanes_add(const float* v, int64_t n, float* cmin, float* cmax, lanes16& st) {
  for (int64_t j = 0; j < n; ++j) {
    const float y = v[j];
    float& mn = st.lo[j % 16];
    float& mx = st.hi[j % 16];
    mn = y < mn ? y : mn;
    mx = y > mx ? y : mx;
    st.zeros += y == 0.0f ? 1u : 0u;
    if (cmin) {
      cmin[j] = y < cmin[j] ? y : cmin[j];
      cmax[j] = y > cmax[j] ? y : cmax[j];
    }
  }
}

void q8_0_scan_ref(const uint8_t* x, int64_t nb, float* cmin, float* cmax, chunk_q8& c, lanes16& st) {
  float v[kQ8Values];  // (32) the block's values, as ggml decodes them
  for (int64_t b = 0; b < nb; ++b, x += kQ8Bytes) {
    c.d[b] = fp16_to_f32(scale_bits(x));
    int64_t s[4] = {0, 0, 0, 0};
    for (int j = 0; j < kQ8Values; ++j) {
      const int64_t q = static_cast<int8_t>(x[2 + j]), q2 = q * q;
      s[0] += q;
      s[1] += q2;
      s[2] += q2 * q;
      s[3] += q2 * q2;
    }
    std::memcpy(c.q + 4 * b, s, sizeof s);
    dequantize_row(dtype::q8_0, x, v, kQ8Values);
    lanes_add(v, kQ8Values, cmin ? cmin + kQ8Values * b : nullptr, cmax ? cmax + kQ8Values * b : nullptr, st);
  }
}

// ---- q4_k: {f16 d, dmin; u8 scales[12]; u8 qs[128]}, 8 sub-blocks of 32 values a * u - b
// ------------------- (a = d * sc, b = dmin * m: ggml's get_scale_min_k4; u a nibble, sub-block 2 j the low
// nibbles of bytes 32 j .. 32 j + 31, 2 j + 1 their high nibbles). a and b are floats exactly (11 by 6 bits),
// so is a * u, and when the exponents of d and dmin are close (k4_block_exact) so is a * u - b: ggml's
// rounded multiply and subtract give the exact value, and sum y^k over a sub-block is sum_i C(k, i) a^i c^(k
// - i) Q_i with y = a q + c, q = u - 8, c = 8 a - b and Q_i the exact sums of q^i (Q_0 = 32). A row with a
// block that is not exact (or a scale that is not finite) returns false: the float path takes it.
constexpr int64_t kK4Bytes = 144, kK4Values = 256, kK4Chunk = 8;  // chunk: super-blocks (64 sub-blocks)

struct chunk_k4 {
  int32_t q[4 * 8 * kK4Chunk];             // (sub-blocks, 4) sums of q^k
  float a[8 * kK4Chunk], b[8 * kK4Chunk];  // (sub-blocks) scale and min
};
using q4_k_scan_fn = void (*)(const uint8_t* x, int64_t nb, float* cmin, float* cmax, chunk_k4& c,
                              lanes16& st);

// Every value of the q4_k block at x is a float exactly (see above): d and dmin finite, and either one is 0
// or their exponents ed, em (f16, subnormals as 1) have -2 <= em - ed <= 6. Then a * u = D sc u 2^(ed - 25)
// with D sc u < 2^21 and b = M m 2^(em - 25) with M m < 2^17: a * u - b is an integer below 2^24 times 2^(min
// - 25).
bool k4_block_exact(const uint8_t* x) {
  const uint16_t hd = scale_bits(x), hm = scale_bits(x + 2);
  if ((hd & 0x7c00) == 0x7c00 || (hm & 0x7c00) == 0x7c00) return false;
  if ((hd & 0x7fff) == 0 || (hm & 0x7fff) == 0) return true;
  const int ed = std::max((hd >> 10) & 31, 1), em = std::max((hm >> 10) & 31, 1);
  return em - ed >= -2 && em - ed <= 6;
}

// Sub-block s of the q4_k block at x: its scale a and min b into c at k.
void k4_sub_scales(const uint8_t* x, float d, float mn, int s, chunk_k4& c, int64_t k) {
  uint8_t sc, m;
  scale_min_k4(s, x + 4, &sc, &m);
  c.a[k] = d * static_cast<float>(sc);
  c.b[k] = mn * static_cast<float>(m);
}

void q4_k_scan_ref(const uint8_t* x, int64_t nb, float* cmin, float* cmax, chunk_k4& c, lanes16& st) {
  float v[kK4Values];  // (256) the block's values, as ggml decodes them
  for (int64_t b = 0; b < nb; ++b, x += kK4Bytes) {
    const float d = fp16_to_f32(scale_bits(x)), mn = fp16_to_f32(scale_bits(x + 2));
    for (int s = 0; s < 8; ++s) {
      const int64_t k = 8 * b + s;
      k4_sub_scales(x, d, mn, s, c, k);
      int32_t q4[4] = {0, 0, 0, 0};
      for (int l = 0; l < 32; ++l) {
        const int32_t q = ((x[16 + 32 * (s / 2) + l] >> (4 * (s % 2))) & 0x0F) - 8;
        q4[0] += q;
        q4[1] += q * q;
        q4[2] += q * q * q;
        q4[3] += q * q * q * q;
      }
      std::memcpy(c.q + 4 * k, q4, sizeof q4);
    }
    dequantize_row(dtype::q4_k, x, v, kK4Values);
    lanes_add(v, kK4Values, cmin ? cmin + kK4Values * b : nullptr, cmax ? cmax + kK4Values * b : nullptr, st);
  }
}

#if defined(GB_SQ_AVX2)
// The exact integer sums of q = u - 8 over 32 bytes u (0..15): sum u and sum q^2 by SAD, q^2 by a 16-entry
// byte table, q^3 and q^4 by maddubs (q^2 * q, q^2 * q^2: pairs of at most 1024 / 8192 in int16) and madd,
// the four totals by two rounds of hadd, into q4[0..3] (q4_0 blocks, and q4_k sub-blocks about u = 8).
GB_SQ_AVX2_FN inline void sq_u4_sums(__m256i u, int32_t* q4) {
  const __m256i eight = _mm256_set1_epi8(8), ones = _mm256_set1_epi16(1), zero = _mm256_setzero_si256();
  const __m256i sq_of_u = _mm256_setr_epi8(64, 49, 36, 25, 16, 9, 4, 1, 0, 1, 4, 9, 16, 25, 36, 49, 64, 49,
                                           36, 25, 16, 9, 4, 1, 0, 1, 4, 9, 16, 25, 36, 49);  // (u - 8)^2
  const __m256i q = _mm256_sub_epi8(u, eight);                                                // (32) -8..7
  const __m256i sq = _mm256_shuffle_epi8(sq_of_u, u);                                         // (32) 0..64
  const __m256i s1 = _mm256_sad_epu8(u, zero);  // sum u (4 x u64)
  const __m256i s2 = _mm256_sad_epu8(sq, zero);
  const __m256i s3 = _mm256_madd_epi16(_mm256_maddubs_epi16(sq, q), ones);   // (8) int32
  const __m256i s4 = _mm256_madd_epi16(_mm256_maddubs_epi16(sq, sq), ones);  // (8) int32
  const __m256i h4 = _mm256_hadd_epi32(_mm256_hadd_epi32(s1, s2), _mm256_hadd_epi32(s3, s4));
  __m128i t = _mm_add_epi32(_mm256_castsi256_si128(h4), _mm256_extracti128_si256(h4, 1));
  t = _mm_sub_epi32(t, _mm_setr_epi32(8 * 32, 0, 0, 0));  // sum q = sum u - 8 * 32
  _mm_storeu_si128(reinterpret_cast<__m128i*>(q4), t);
}

// The 32 nibbles of the q4_0 block at x as bytes u (0..15; element j = value j), its sums into q4[0..3]
// (sq_u4_sums). Returns u.
GB_SQ_AVX2_FN inline __m256i sq_q4_0_block_ints(const uint8_t* x, int32_t* q4) {
  const __m128i m4 = _mm_set1_epi8(0x0F);
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 2));
  const __m256i u = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), m4),
                                     _mm_and_si128(raw, m4));  // (32) element j = byte j, 0..15
  sq_u4_sums(u, q4);
  return u;
}

// The block's zeros: d == 0: all 32 values; else exactly the q == 0 ones (|d q| >= 2^-24 otherwise).
GB_SQ_AVX2_FN inline uint64_t sq_q4_0_block_zeros(__m256i u, float d) {
  return d == 0.0f ? 32u
                   : static_cast<uint64_t>(__builtin_popcount(static_cast<unsigned>(
                         _mm256_movemask_epi8(_mm256_cmpeq_epi8(u, _mm256_set1_epi8(8))))));
}

// Block b of a row (x its bytes): its scale d (also into c.d[b]), its integer sums (into c.q) and zeros
// (added to `zeros`); returns its 32 nibbles u = q + 8 as bytes. The head of every kernel's block step.
GB_SQ_AVX2_FN inline __m256i sq_q4_0_block(const uint8_t* x, int64_t b, chunk_ints& c, uint64_t& zeros,
                                           float& d) {
  d = _cvtsh_ss(scale_bits(x));
  c.d[b] = d;
  const __m256i u = sq_q4_0_block_ints(x, c.q + 4 * b);
  zeros += sq_q4_0_block_zeros(u, d);
  return u;
}

// One block per step (sq_q4_0_block_ints). Floats: q widened to 4 x 8 int32, converted and multiplied by d
// (ggml's float(q) * d), then min / max as the accumulator's v < m ? v : m (vminps(v, m)).
GB_SQ_AVX2_FN void q4_0_scan_avx2(const uint8_t* x, int64_t nb, float* cmin, float* cmax, chunk_ints& c,
                                  row_state& st) {
  const __m256i eight = _mm256_set1_epi8(8);
  __m256 mnv = _mm256_set1_ps(st.mn), mxv = _mm256_set1_ps(st.mx);
  uint64_t zeros = 0;
  for (int64_t b = 0; b < nb; ++b, x += kQ4Bytes) {
    float d;
    const __m256i u = sq_q4_0_block(x, b, c, zeros, d);
    const __m256i q = _mm256_sub_epi8(u, eight);
    const __m256 dv = _mm256_set1_ps(d);
    const __m128i q0 = _mm256_castsi256_si128(q), q1 = _mm256_extracti128_si256(q, 1);
    const __m128i parts[4] = {q0, _mm_srli_si128(q0, 8), q1, _mm_srli_si128(q1, 8)};
    for (int k = 0; k < 4; ++k) {
      const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(parts[k])), dv);  // (8)
      mnv = _mm256_min_ps(v, mnv);
      mxv = _mm256_max_ps(v, mxv);
      if (cmin) {
        float* lo = cmin + kQ4Values * b + 8 * k;
        float* hi = cmax + kQ4Values * b + 8 * k;
        _mm256_storeu_ps(lo, _mm256_min_ps(v, _mm256_loadu_ps(lo)));
        _mm256_storeu_ps(hi, _mm256_max_ps(v, _mm256_loadu_ps(hi)));
      }
    }
  }
  alignas(32) float lo[8], hi[8];
  _mm256_store_ps(lo, mnv);
  _mm256_store_ps(hi, mxv);
  sq_fold_lanes(lo, hi, 8, zeros, st);
}

// GCC 12 warns about the AVX-512 intrinsics' undefined pass-through operand (false positive): silenced for
// this one function only (push / pop: nothing reaches the other sources of a unity batch).
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define GB_SQ_AVX512_FN __attribute__((target("avx512f,avx2,fma,f16c")))
// 32 consecutive values (v0, then v1) into the 16 lanes' extremes mnv / mxv and, with lo / hi, the columns'
// (32 floats each): v < m ? v : m as vminps(v, m), v > m ? v : m as vmaxps(v, m).
GB_SQ_AVX512_FN inline void sq_values32(__m512 v0, __m512 v1, __m512& mnv, __m512& mxv, float* lo,
                                        float* hi) {
  mnv = _mm512_min_ps(v1, _mm512_min_ps(v0, mnv));
  mxv = _mm512_max_ps(v1, _mm512_max_ps(v0, mxv));
  if (lo) {
    _mm512_storeu_ps(lo, _mm512_min_ps(v0, _mm512_loadu_ps(lo)));
    _mm512_storeu_ps(lo + 16, _mm512_min_ps(v1, _mm512_loadu_ps(lo + 16)));
    _mm512_storeu_ps(hi, _mm512_max_ps(v0, _mm512_loadu_ps(hi)));
    _mm512_storeu_ps(hi + 16, _mm512_max_ps(v1, _mm512_loadu_ps(hi + 16)));
  }
}
// As q4_0_scan_avx2, the floats 16 at a time: the block's 16 possible values T[u] = d * float(u - 8) (the
// same product as float(q) * d), each value T[u] picked by vpermps; min / max as vminps(v, m). The row's
// extremes visit the values in another lane order than the AVX2 kernel: equal as numbers, and bit for bit
// but for the sign of a zero extreme (q4_0_row rescans a row whose extreme is zero with the AVX2 kernel).
GB_SQ_AVX512_FN void q4_0_scan_avx512(const uint8_t* x, int64_t nb, float* cmin, float* cmax, chunk_ints& c,
                                      row_state& st) {
  const __m512 qf = _mm512_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7);  // (16) u - 8
  __m512 mnv = _mm512_set1_ps(st.mn), mxv = _mm512_set1_ps(st.mx);
  uint64_t zeros = 0;
  for (int64_t b = 0; b < nb; ++b, x += kQ4Bytes) {
    float d;
    const __m256i u = sq_q4_0_block(x, b, c, zeros, d);
    const __m512 t = _mm512_mul_ps(qf, _mm512_set1_ps(d));  // (16) the block's values by nibble
    const __m512 v0 = _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(_mm256_castsi256_si128(u)), t);  // (16)
    const __m512 v1 = _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(_mm256_extracti128_si256(u, 1)), t);
    sq_values32(v0, v1, mnv, mxv, cmin ? cmin + kQ4Values * b : nullptr,
                cmax ? cmax + kQ4Values * b : nullptr);
  }
  alignas(64) float lo[16], hi[16];
  _mm512_store_ps(lo, mnv);
  _mm512_store_ps(hi, mxv);
  sq_fold_lanes(lo, hi, 16, zeros, st);
}

#define GB_SQ_AVX512BW_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
// 16 int32 lanes summed to 4 (lanes i, i + 4, i + 8, i + 12), each as unsigned 32-bit when the terms are.
GB_SQ_AVX512BW_FN inline __m128i sq_sum16_to_4(__m512i v) {
  const __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
  return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}
// q8_0, one block per step: its 32 int8 as int16, the sums of q, q^2, q^3 by madd (pairs within int32) and
// q^4 by madd of q^2 (pairs <= 2^29; 8 values <= 2^31 as unsigned, widened to 64 bits before the last
// sums); the floats float(q) * d 16 at a time (ggml's product), min / max as vminps(v, m) into 16 lanes.
GB_SQ_AVX512BW_FN void q8_0_scan_avx512(const uint8_t* x, int64_t nb, float* cmin, float* cmax, chunk_q8& c,
                                        lanes16& st) {
  const __m512i ones = _mm512_set1_epi16(1);
  __m512 mnv = _mm512_loadu_ps(st.lo), mxv = _mm512_loadu_ps(st.hi);
  uint64_t zeros = 0;
  for (int64_t b = 0; b < nb; ++b, x += kQ8Bytes) {
    const float d = _cvtsh_ss(scale_bits(x));
    c.d[b] = d;
    const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 2));  // (32) int8
    const __m512i q = _mm512_cvtepi8_epi16(raw);                                      // (32) int16
    const __m512i q2 = _mm512_mullo_epi16(q, q);                                      // (32) 0..16384
    const __m128i s1 = sq_sum16_to_4(_mm512_madd_epi16(q, ones));
    const __m128i s2 = sq_sum16_to_4(_mm512_madd_epi16(q, q));
    const __m128i s3 = sq_sum16_to_4(_mm512_madd_epi16(q2, q));
    const __m128i s4 = sq_sum16_to_4(_mm512_madd_epi16(q2, q2));  // (4) unsigned, <= 2^31 each
    alignas(16) int32_t t[4];
    _mm_store_si128(reinterpret_cast<__m128i*>(t),
                    _mm_hadd_epi32(_mm_hadd_epi32(s1, s2), _mm_hadd_epi32(s3, s3)));
    const __m256i w4 = _mm256_cvtepu32_epi64(s4);  // (4) int64
    const __m128i w2 = _mm_add_epi64(_mm256_castsi256_si128(w4), _mm256_extracti128_si256(w4, 1));
    int64_t* qb = c.q + 4 * b;
    qb[0] = t[0], qb[1] = t[1], qb[2] = t[2];
    qb[3] = _mm_cvtsi128_si64(w2) + _mm_extract_epi64(w2, 1);
    zeros += d == 0.0f ? 32u
                       : static_cast<uint64_t>(__builtin_popcount(
                             _mm256_cmpeq_epi8_mask(raw, _mm256_setzero_si256())));  // |d q| >= 2^-24 else
    const __m512 dv = _mm512_set1_ps(d);
    const __m512 v0 =
        _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(raw))), dv);
    const __m512 v1 =
        _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_extracti128_si256(raw, 1))), dv);
    sq_values32(v0, v1, mnv, mxv, cmin ? cmin + kQ8Values * b : nullptr,
                cmax ? cmax + kQ8Values * b : nullptr);
  }
  _mm512_storeu_ps(st.lo, mnv);
  _mm512_storeu_ps(st.hi, mxv);
  st.zeros += zeros;
}

// q4_k, one sub-block per step: its 32 nibbles u as bytes, their sums by sq_u4_sums, the sub-block's 16
// possible values T[u] = a * u - b (exact: k4_block_exact, so rounding and contraction cannot differ from
// ggml's), each value T[u] picked by vpermps; min / max as vminps(v, m) into 16 lanes, as the twin.
GB_SQ_AVX512BW_FN void q4_k_scan_avx512(const uint8_t* x, int64_t nb, float* cmin, float* cmax, chunk_k4& c,
                                        lanes16& st) {
  const __m512 uf = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);  // (16) u
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m512 mnv = _mm512_loadu_ps(st.lo), mxv = _mm512_loadu_ps(st.hi);
  uint64_t zeros = 0;
  for (int64_t b = 0; b < nb; ++b, x += kK4Bytes) {
    const float d = _cvtsh_ss(scale_bits(x)), mn = _cvtsh_ss(scale_bits(x + 2));
    uint8_t sc[8], m[8];  // (sub-blocks) the block's 6-bit scales and mins, all at once
    scales_mins_k4(x + 4, sc, m);
    for (int s = 0; s < 8; ++s) {  // as k4_sub_scales
      c.a[8 * b + s] = d * static_cast<float>(sc[s]);
      c.b[8 * b + s] = mn * static_cast<float>(m[s]);
    }
    for (int j = 0; j < 4; ++j) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 16 + 32 * j));
      const __m256i us[2] = {_mm256_and_si256(raw, m4), _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4)};
      for (int h = 0; h < 2; ++h) {
        const int s = 2 * j + h;
        const int64_t k = 8 * b + s;
        sq_u4_sums(us[h], c.q + 4 * k);
        const __m512 t = _mm512_sub_ps(_mm512_mul_ps(uf, _mm512_set1_ps(c.a[k])), _mm512_set1_ps(c.b[k]));
        const __m512 v0 = _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(_mm256_castsi256_si128(us[h])), t);
        const __m512 v1 = _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(_mm256_extracti128_si256(us[h], 1)), t);
        zeros += static_cast<uint64_t>(__builtin_popcount(_mm512_cmpeq_ps_mask(v0, _mm512_setzero_ps())) +
                                       __builtin_popcount(_mm512_cmpeq_ps_mask(v1, _mm512_setzero_ps())));
        const int64_t at = kK4Values * b + 32 * s;
        sq_values32(v0, v1, mnv, mxv, cmin ? cmin + at : nullptr, cmax ? cmax + at : nullptr);
      }
    }
  }
  _mm512_storeu_ps(st.lo, mnv);
  _mm512_storeu_ps(st.hi, mxv);
  st.zeros += zeros;
}

#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

bool sq_cpu_avx512() {
  static const bool ok = __builtin_cpu_supports("avx512f") != 0 && cols_isa_available(cols_isa::avx2);
  return ok;
}
bool sq_cpu_avx512bw() {
  static const bool ok =
      sq_cpu_avx512() && __builtin_cpu_supports("avx512bw") != 0 && __builtin_cpu_supports("avx512vl") != 0;
  return ok;
}
#endif

// The kernel of isa (portable: the twin); nullptr when this build or CPU lacks it.
q4_0_scan_fn q4_0_scan_for(cols_isa isa) {
  switch (isa) {
#if defined(GB_SQ_AVX2)
    case cols_isa::avx512:
      return sq_cpu_avx512() ? q4_0_scan_avx512 : nullptr;
    case cols_isa::avx2:
      return cols_isa_available(cols_isa::avx2) ? q4_0_scan_avx2 : nullptr;
#endif
    case cols_isa::portable:
      return q4_0_scan_ref;
    default:
      return nullptr;
  }
}

cols_isa q4_0_isa_best() {
  static const cols_isa best = q4_0_scan_for(cols_isa::avx512) ? cols_isa::avx512
                               : q4_0_scan_for(cols_isa::avx2) ? cols_isa::avx2
                                                               : cols_isa::portable;
  return best;
}

// P_k += d^k * Q_k over the chunk's blocks in order, each a fused multiply-add written out: the bits do not
// depend on whether the compiler contracts (GCC did with -march=native, before it vectorised the loop).
template <class Chunk>
void accumulate(const Chunk& c, int64_t nb, double* p) {
  for (int64_t b = 0; b < nb; ++b) {
    const double d = static_cast<double>(c.d[b]), d2 = d * d;
    p[0] = std::fma(d, static_cast<double>(c.q[4 * b]), p[0]);
    p[1] = std::fma(d2, static_cast<double>(c.q[4 * b + 1]), p[1]);
    p[2] = std::fma(d2 * d, static_cast<double>(c.q[4 * b + 2]), p[2]);
    p[3] = std::fma(d2 * d2, static_cast<double>(c.q[4 * b + 3]), p[3]);
  }
}

// sum (x - s)^k from P_k = sum x^k (binomial expansion about the shift).
power_sums about_shift(const double* p, int64_t n, double shift) {
  const double t = -shift, t2 = t * t, nn = static_cast<double>(n);
  power_sums s;
  s.s1 = p[0] + nn * t;
  s.s2 = p[1] + 2.0 * t * p[0] + nn * t2;
  s.s3 = p[2] + 3.0 * t * p[1] + 3.0 * t2 * p[0] + nn * t2 * t;
  s.s4 = p[3] + 4.0 * t * p[2] + 6.0 * t2 * p[1] + 4.0 * t2 * t * p[0] + nn * t2 * t2;
  return s;
}

// The row through `scan` (chunks of kChunk blocks, the double sums after each).
void q4_0_row_pass(q4_0_scan_fn scan, const uint8_t* row, int64_t nb, float* cmin, float* cmax, double* p,
                   row_state& st) {
  chunk_ints c;
  for (int64_t b0 = 0; b0 < nb; b0 += kChunk) {
    const int64_t m = nb - b0 < kChunk ? nb - b0 : kChunk;
    scan(row + b0 * kQ4Bytes, m, cmin ? cmin + b0 * kQ4Values : nullptr,
         cmax ? cmax + b0 * kQ4Values : nullptr, c, st);
    accumulate(c, m, p);
  }
}

bool q4_0_row(cols_isa isa, const uint8_t* row, int64_t n, double shift, float* cmin, float* cmax,
              block_row_stats& out) {
  const int64_t nb = n / kQ4Values;
  for (int64_t b = 0; b < nb; ++b)
    if ((scale_bits(row + kQ4Bytes * b) & 0x7c00) == 0x7c00) return false;  // f16 Inf / NaN scale
  if (!cmin || !cmax) cmin = cmax = nullptr;
  double p[4] = {0, 0, 0, 0};
  constexpr float inf = std::numeric_limits<float>::infinity();
  row_state st{inf, -inf, 0};
  q4_0_row_pass(q4_0_scan_for(isa), row, nb, cmin, cmax, p, st);
  if (isa == cols_isa::avx512 && (st.mn == 0.0f || st.mx == 0.0f)) {
    // A zero extreme's sign follows the order the values are visited in: rescan the row with the AVX2
    // kernel's order (the integers and the columns come out the same; applying a row twice to the columns'
    // v < m ? v : m changes nothing).
    p[0] = p[1] = p[2] = p[3] = 0;
    st = {inf, -inf, 0};
    q4_0_row_pass(q4_0_scan_for(cols_isa::avx2), row, nb, cmin, cmax, p, st);
  }
  out.sums = about_shift(p, n, shift);
  out.mn = st.mn;
  out.mx = st.mx;
  out.zeros = st.zeros;
  return true;
}

// The kernel of isa for a type with an AVX-512 kernel and a portable twin (AVX2 has none: the twin runs
// there): the twin for portable, the AVX-512 one where this build and CPU have it, else nullptr; best: the
// AVX-512 kernel when there is one, else the twin.
template <class Fn>
Fn lanes_kernel(cols_isa isa, bool best, Fn avx512, Fn ref) {
#if defined(GB_SQ_AVX2)
  if (!sq_cpu_avx512bw()) avx512 = nullptr;
#else
  avx512 = nullptr;
#endif
  if (best) return avx512 ? avx512 : ref;
  return isa == cols_isa::portable ? ref : isa == cols_isa::avx512 ? avx512 : nullptr;
}

#if defined(GB_SQ_AVX2)
constexpr q8_0_scan_fn kQ8Avx512 = q8_0_scan_avx512;
#else
constexpr q8_0_scan_fn kQ8Avx512 = nullptr;
#endif
q8_0_scan_fn q8_0_scan_for(cols_isa isa, bool best = false) {
  return lanes_kernel(isa, best, kQ8Avx512, q8_0_scan_ref);
}

// The q4_k sums of a chunk's ns sub-blocks into P_k (in order, explicit fma as accumulate): sum y^k over
// a sub-block from its Q_i, a and c = 8 a - b (exact in a double).
void accumulate_k4(const chunk_k4& c, int64_t ns, double* p) {
  double t[4][8 * kK4Chunk];  // (4, sub-blocks) each sub-block's sums: independent, so the loop vectorises
  for (int64_t s = 0; s < ns; ++s) {
    const double a = static_cast<double>(c.a[s]), cc = 8.0 * a - static_cast<double>(c.b[s]);
    const double q1 = c.q[4 * s], q2 = c.q[4 * s + 1], q3 = c.q[4 * s + 2], q4 = c.q[4 * s + 3];
    const double a2 = a * a, c2 = cc * cc, ac = a * cc;
    t[0][s] = std::fma(a, q1, 32.0 * cc);
    t[1][s] = std::fma(a2, q2, std::fma(2.0 * ac, q1, 32.0 * c2));
    t[2][s] = std::fma(a2 * a, q3, std::fma(3.0 * a2 * cc, q2, std::fma(3.0 * ac * cc, q1, 32.0 * c2 * cc)));
    t[3][s] = std::fma(a2 * a2, q4,
                       std::fma(4.0 * a2 * ac, q3,
                                std::fma(6.0 * a2 * c2, q2, std::fma(4.0 * ac * c2, q1, 32.0 * c2 * c2))));
  }
  for (int64_t s = 0; s < ns; ++s)  // in order
    for (int k = 0; k < 4; ++k) p[k] += t[k][s];
}
void accumulate_q8(const chunk_q8& c, int64_t nb, double* p) {
  accumulate(c, nb, p);
}
bool q8_0_block_ok(const uint8_t* x) {
  return (scale_bits(x) & 0x7c00) != 0x7c00;  // not an f16 Inf / NaN scale
}

// A row of nb blocks (bytes, values each) through a 16-lane kernel: every block checked first (false, nothing
// touched, when one fails), then chunks of `chunk` blocks, the double sums after each (acc, `per` sums a
// block), the lanes folded at the end.
template <class Chunk>
bool lanes_row(void (*scan)(const uint8_t*, int64_t, float*, float*, Chunk&, lanes16&), int64_t bytes,
               int64_t values, int64_t chunk, int64_t per, bool (*ok)(const uint8_t*),
               void (*acc)(const Chunk&, int64_t, double*), const uint8_t* row, int64_t n, double shift,
               float* cmin, float* cmax, block_row_stats& out) {
  if (n % values != 0) return false;
  const int64_t nb = n / values;
  for (int64_t b = 0; b < nb; ++b)
    if (!ok(row + bytes * b)) return false;
  if (!cmin || !cmax) cmin = cmax = nullptr;
  double p[4] = {0, 0, 0, 0};
  constexpr float inf = std::numeric_limits<float>::infinity();
  lanes16 st;
  for (int i = 0; i < 16; ++i) st.lo[i] = inf, st.hi[i] = -inf;
  st.zeros = 0;
  Chunk c;
  for (int64_t b0 = 0; b0 < nb; b0 += chunk) {
    const int64_t m = nb - b0 < chunk ? nb - b0 : chunk;
    scan(row + b0 * bytes, m, cmin ? cmin + b0 * values : nullptr, cmax ? cmax + b0 * values : nullptr, c,
         st);
    acc(c, m * per, p);
  }
  row_state rs{inf, -inf, 0};
  sq_fold_lanes(st.lo, st.hi, 16, st.zeros, rs);
  out.sums = about_shift(p, n, shift);
  out.mn = rs.mn;
  out.mx = rs.mx;
  out.zeros = rs.zeros;
  return true;
}

#if defined(GB_SQ_AVX2)
constexpr q4_k_scan_fn kK4Avx512 = q4_k_scan_avx512;
#else
constexpr q4_k_scan_fn kK4Avx512 = nullptr;
#endif
q4_k_scan_fn q4_k_scan_for(cols_isa isa, bool best = false) {  // as q8_0_scan_for
  return lanes_kernel(isa, best, kK4Avx512, q4_k_scan_ref);
}

// The row of t through the kernel of isa (false: t or isa not handled, or a scale not finite).
bool block_row(cols_isa isa, bool best, dtype t, const uint8_t* row, int64_t n, double shift, float* cmin,
               float* cmax, block_row_stats& out) {
  if (n <= 0) return false;
  if (t == dtype::q4_0)
    return n % kQ4Values == 0 && q4_0_scan_for(best ? q4_0_isa_best() : isa) &&
           q4_0_row(best ? q4_0_isa_best() : isa, row, n, shift, cmin, cmax, out);
  if (t == dtype::q8_0) {
    const q8_0_scan_fn f = q8_0_scan_for(isa, best);
    return f && lanes_row(f, kQ8Bytes, kQ8Values, kChunk, 1, q8_0_block_ok, accumulate_q8, row, n, shift,
                          cmin, cmax, out);
  }
  if (t == dtype::q4_k) {
    const q4_k_scan_fn f = q4_k_scan_for(isa, best);
    return f && lanes_row(f, kK4Bytes, kK4Values, kK4Chunk, 8, k4_block_exact, accumulate_k4, row, n, shift,
                          cmin, cmax, out);
  }
  return false;
}

}  // namespace

bool block_sums_supported(dtype t) {
  return t == dtype::q4_0 || t == dtype::q8_0 || t == dtype::q4_k;
}

float block_first_value(dtype t, const uint8_t* row) {
  float v[256];  // (block) the largest ggml block
  dequantize_row(t, row, v, static_cast<int64_t>(dtype_info(t).block_size));
  return v[0];
}

bool block_row_scan(dtype t, const uint8_t* row, int64_t n, double shift, float* cmin, float* cmax,
                    block_row_stats& out) {
  return block_row(cols_isa::portable, true, t, row, n, shift, cmin, cmax, out);
}

bool block_row_scan_ref(dtype t, const uint8_t* row, int64_t n, double shift, float* cmin, float* cmax,
                        block_row_stats& out) {
  return block_row_scan_with(cols_isa::portable, t, row, n, shift, cmin, cmax, out);
}

bool block_row_scan_isa_available(cols_isa isa, dtype t) {
  if (t == dtype::q8_0) return q8_0_scan_for(isa) != nullptr;
  if (t == dtype::q4_k) return q4_k_scan_for(isa) != nullptr;
  return q4_0_scan_for(isa) != nullptr;
}

bool block_row_scan_with(cols_isa isa, dtype t, const uint8_t* row, int64_t n, double shift, float* cmin,
                         float* cmax, block_row_stats& out) {
  return block_row(isa, false, t, row, n, shift, cmin, cmax, out);
}

}  // namespace gb
