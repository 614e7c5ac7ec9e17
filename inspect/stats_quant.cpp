// inspect/stats_quant.cpp: a quantised row's statistics from its blocks in one pass (see the header).
#include "inspect/stats_quant.h"

// No file-wide #pragma (fp-contract): in a unity batch it would reach the sources after this one. None is
// needed: the kernels and the twin share every double operation (accumulate, with explicit fma, and
// about_shift), and the float products d * q are not followed by an add that could fuse with them.

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

#if defined(GB_SQ_AVX2)
// The 32 nibbles of the q4_0 block at x as bytes u (0..15; element j = value j) and the block's exact integer
// sums of q = u - 8: sum u and sum q^2 by SAD, q^2 by a 16-entry byte table, q^3 and q^4 by maddubs (q^2 * q,
// q^2 * q^2: pairs of at most 1024 / 8192 in int16) and madd, the four totals by two rounds of hadd, into
// q4[0..3]. Returns u.
GB_SQ_AVX2_FN inline __m256i sq_q4_0_block_ints(const uint8_t* x, int32_t* q4) {
  const __m128i m4 = _mm_set1_epi8(0x0F);
  const __m256i eight = _mm256_set1_epi8(8), ones = _mm256_set1_epi16(1), zero = _mm256_setzero_si256();
  const __m256i sq_of_u = _mm256_setr_epi8(64, 49, 36, 25, 16, 9, 4, 1, 0, 1, 4, 9, 16, 25, 36, 49, 64, 49,
                                           36, 25, 16, 9, 4, 1, 0, 1, 4, 9, 16, 25, 36, 49);  // (u - 8)^2
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 2));
  const __m256i u = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), m4),
                                     _mm_and_si128(raw, m4));  // (32) element j = byte j, 0..15
  const __m256i q = _mm256_sub_epi8(u, eight);                 // (32) -8..7
  const __m256i sq = _mm256_shuffle_epi8(sq_of_u, u);          // (32) 0..64
  const __m256i s1 = _mm256_sad_epu8(u, zero);                 // sum u (4 x u64)
  const __m256i s2 = _mm256_sad_epu8(sq, zero);
  const __m256i s3 = _mm256_madd_epi16(_mm256_maddubs_epi16(sq, q), ones);   // (8) int32
  const __m256i s4 = _mm256_madd_epi16(_mm256_maddubs_epi16(sq, sq), ones);  // (8) int32
  const __m256i h4 = _mm256_hadd_epi32(_mm256_hadd_epi32(s1, s2), _mm256_hadd_epi32(s3, s4));
  __m128i t = _mm_add_epi32(_mm256_castsi256_si128(h4), _mm256_extracti128_si256(h4, 1));
  t = _mm_sub_epi32(t, _mm_setr_epi32(8 * kQ4Values, 0, 0, 0));  // sum q = sum u - 8 * 32
  _mm_storeu_si128(reinterpret_cast<__m128i*>(q4), t);
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
    mnv = _mm512_min_ps(v1, _mm512_min_ps(v0, mnv));
    mxv = _mm512_max_ps(v1, _mm512_max_ps(v0, mxv));
    if (cmin) {
      float* lo = cmin + kQ4Values * b;
      float* hi = cmax + kQ4Values * b;
      _mm512_storeu_ps(lo, _mm512_min_ps(v0, _mm512_loadu_ps(lo)));
      _mm512_storeu_ps(lo + 16, _mm512_min_ps(v1, _mm512_loadu_ps(lo + 16)));
      _mm512_storeu_ps(hi, _mm512_max_ps(v0, _mm512_loadu_ps(hi)));
      _mm512_storeu_ps(hi + 16, _mm512_max_ps(v1, _mm512_loadu_ps(hi + 16)));
    }
  }
  alignas(64) float lo[16], hi[16];
  _mm512_store_ps(lo, mnv);
  _mm512_store_ps(hi, mxv);
  sq_fold_lanes(lo, hi, 16, zeros, st);
}

#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

bool sq_cpu_avx512() {
  static const bool ok = __builtin_cpu_supports("avx512f") != 0 && cols_isa_available(cols_isa::avx2);
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
void accumulate(const chunk_ints& c, int64_t nb, double* p) {
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

}  // namespace

bool block_sums_supported(dtype t) {
  return t == dtype::q4_0;
}

float block_first_value(dtype t, const uint8_t* row) {
  float v[256];  // (block) the largest ggml block
  dequantize_row(t, row, v, static_cast<int64_t>(dtype_info(t).block_size));
  return v[0];
}

bool block_row_scan(dtype t, const uint8_t* row, int64_t n, double shift, float* cmin, float* cmax,
                    block_row_stats& out) {
  return t == dtype::q4_0 && n > 0 && n % kQ4Values == 0 &&
         q4_0_row(q4_0_isa_best(), row, n, shift, cmin, cmax, out);
}

bool block_row_scan_ref(dtype t, const uint8_t* row, int64_t n, double shift, float* cmin, float* cmax,
                        block_row_stats& out) {
  return block_row_scan_with(cols_isa::portable, t, row, n, shift, cmin, cmax, out);
}

bool block_row_scan_isa_available(cols_isa isa) {
  return q4_0_scan_for(isa) != nullptr;
}

bool block_row_scan_with(cols_isa isa, dtype t, const uint8_t* row, int64_t n, double shift, float* cmin,
                         float* cmax, block_row_stats& out) {
  return t == dtype::q4_0 && n > 0 && n % kQ4Values == 0 && q4_0_scan_for(isa) &&
         q4_0_row(isa, row, n, shift, cmin, cmax, out);
}

}  // namespace gb
