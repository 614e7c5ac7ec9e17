// Column decoders of 16 rows of ggml blocks (see quant_cols.h).
//
// AVX-512: lane i of every vector is row i. A block's quant bytes are loaded as 16- or 32-byte pieces of
// the 16 rows and transposed to dword vectors (dwords16x4, dwords16x8: vector j, lane i = bytes 4j..4j+3
// of row i), so a column is one shift (q8_0: one byte shuffle) away: byte b of each lane shifted down to
// the low bits, where vpermps (low 4 bits of each lane, a 16-entry float table) or vpermt2ps (5 bits, 32
// entries) turns the quant into the float ggml converts it to, (q - 8) for q4_0 included. Bits above the
// index are ignored by the permutes, so no mask is needed. Scales are decoded for the 16 rows at once the
// same way. Then the float operations of ggml's scalar code, in its order: d * q (q4_0, q8_0), d * q + m
// (q4_1, q5_1), d_sub * q - m_sub (k-quants), (d * sc) * q (q6_k). Compiled without contraction, as
// quant.cpp.
#include "formats/quant_cols.h"

#pragma GCC optimize("fp-contract=off")
// GCC 12 reports false "used uninitialized" warnings for the intrinsics' undefined pass-through operand.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "formats/quant.h"
#include "formats/quant_cols_simd.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define GB_COLS_AVX2 1  // compiled for any x86-64 build through target attributes, run when the CPU has it
#define GB_COLS_AVX2_FN __attribute__((target("avx2,fma,f16c")))
#endif

namespace gb {
namespace {

template <dtype T>
void cols_ref(const uint8_t* const* rows, int64_t b, float* out, int64_t ld) {
  const dtype_traits& tr = dtype_info(T);
  const int64_t bs = tr.block_size;
  float v[256];
  for (int i = 0; i < 16; ++i) {
    dequantize_row(T, rows[i] + b * tr.type_size, v, bs);
    for (int64_t c = 0; c < bs; ++c) out[c * ld + i] = v[c];
  }
}

#if defined(__AVX512F__)

using namespace qsimd;

[[gnu::always_inline]] inline void put(float* out, int64_t ld, int c, __m512 v) {
  _mm512_storeu_ps(out + c * ld, v);
}

void cols_q4_0(const uint8_t* const* rows, int64_t b, float* out, int64_t ld) {
  cols_store<q4_0_dec>(rows_at{rows, b * q4_0_dec::bytes}, out, ld);
}

void cols_q4_1(const uint8_t* const* rows, int64_t b, float* out, int64_t ld) {
  const int64_t off = b * 20;
  const __m512 d = f16x16(rows, off), m = f16x16(rows, off + 2);
  __m512i q[4];
  dwords16x4(rows, off + 4, q);
  const __m512 tab = table16(0.0f);
#pragma GCC unroll 32
  for (int c = 0; c < 32; ++c) {
    const int j = c % 16;
    const __m512 u = _mm512_permutexvar_ps(shr(q[j / 4], 8 * (j % 4) + 4 * (c / 16)), tab);
    put(out, ld, c, _mm512_add_ps(_mm512_mul_ps(u, d), m));
  }
}

// q5_0 / q5_1: element c's fifth bit is bit c of the block's 32-bit qh.
template <bool has_min>
void cols_q5(const uint8_t* const* rows, int64_t b, float* out, int64_t ld) {
  const int64_t off = b * (has_min ? 24 : 22);
  const __m512 d = f16x16(rows, off);
  const __m512 m = has_min ? f16x16(rows, off + 2) : _mm512_setzero_ps();
  const int64_t p = off + (has_min ? 4 : 2);
  const __m512i qh = u32x16(rows, p);
  __m512i q[4];
  dwords16x4(rows, p + 4, q);
  const float base = has_min ? 0.0f : -16.0f;
  const __m512 lo = table16(base), hi = table16(base + 16.0f);
#pragma GCC unroll 32
  for (int c = 0; c < 32; ++c) {
    const int j = c % 16;
    const __m512i idx = merge_low(shr(q[j / 4], 8 * (j % 4) + 4 * (c / 16)), shr(qh, c - 4), 4);
    const __m512 v = _mm512_mul_ps(_mm512_permutex2var_ps(lo, idx, hi), d);
    put(out, ld, c, has_min ? _mm512_add_ps(v, m) : v);
  }
}

void cols_q8_0(const uint8_t* const* rows, int64_t b, float* out, int64_t ld) {
  cols_store<q8_0_dec>(rows_at{rows, b * q8_0_dec::bytes}, out, ld);
}

template <bool five>
void cols_k4(const uint8_t* const* rows, int64_t b, float* out, int64_t ld) {
  cols_store<k4_dec<five>>(rows_at{rows, b * k4_dec<five>::bytes}, out, ld);
}

void cols_q6_k(const uint8_t* const* rows, int64_t b, float* out, int64_t ld) {
  cols_store<q6_k_dec>(rows_at{rows, b * q6_k_dec::bytes}, out, ld);
}

// A packed group-block (quant_cols.h) through the register decoder D.
template <class D>
void packed_cols(const uint8_t* packed, float* out, int64_t ld) {
  cols_store<D>(packed_at{packed}, out, ld);
}

void cols_q2_k(const uint8_t* const* rows, int64_t b, float* out, int64_t ld) {
  const int64_t off = b * 84;
  const __m512 d = f16x16(rows, off + 80), dmin = f16x16(rows, off + 82, true);
  __m512i s[4], q[16];
  dwords16x4(rows, off, s);
  for (int p = 0; p < 4; ++p) dwords16x4(rows, off + 16 + 16 * p, q + 4 * p);
  alignas(64) float t[16];
  for (int i = 0; i < 16; ++i) t[i] = static_cast<float>(i & 3);
  const __m512 tab = _mm512_load_ps(t);
  for (int is = 0; is < 16; ++is) {  // sub-block is = 8n + 2j + h: 16 elements from qs[32n + 16h + l] >> 2j
    const int n = is / 8, j = (is % 8) / 2, h = is % 2;
    const __m512 dl = _mm512_mul_ps(d, to_f(field(s[is / 4], 8 * (is % 4), 4)));
    const __m512 ml = _mm512_mul_ps(dmin, to_f(field(s[is / 4], 8 * (is % 4) + 4, 4)));
#pragma GCC unroll 16
    for (int l = 0; l < 16; ++l) {
      const __m512 u = _mm512_permutexvar_ps(shr(q[(32 * n + 16 * h + l) / 4], 8 * (l % 4) + 2 * j), tab);
      put(out, ld, 16 * is + l, _mm512_sub_ps(_mm512_mul_ps(dl, u), ml));
    }
  }
}

void cols_q3_k(const uint8_t* const* rows, int64_t b, float* out, int64_t ld) {
  const int64_t off = b * 110;
  const __m512 d = f16x16(rows, off + 108, true);
  __m512i hm[8], q[16], s[4];
  dwords16x4(rows, off, hm);
  dwords16x4(rows, off + 16, hm + 4);
  for (int p = 0; p < 4; ++p) dwords16x4(rows, off + 32 + 16 * p, q + 4 * p);
  alignas(16)
      uint8_t sb[16][16] = {};  // the 12 scale bytes end 2 bytes before the block: copied, not over-read
  const uint8_t* sp[16];
  for (int i = 0; i < 16; ++i) {
    std::memcpy(sb[i], rows[i] + off + 96, 12);
    sp[i] = sb[i];
  }
  dwords16x4(sp, 0, s);
  const __m512i k2 = _mm512_set1_epi32(0x0f0f0f0f), k1 = _mm512_set1_epi32(0x03030303);
  auto low6 = [&](__m512i a, __m512i t, int ts) {  // (a & kmask2) | (((t >> ts) & kmask1) << 4)
    return _mm512_or_si512(
        _mm512_and_si512(a, k2),
        _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(t, static_cast<unsigned>(ts)), k1), 4));
  };
  const __m512i aux[4] = {low6(s[0], s[2], 0), low6(s[1], s[2], 2), low6(_mm512_srli_epi32(s[0], 4), s[2], 4),
                          low6(_mm512_srli_epi32(s[1], 4), s[2], 6)};
  alignas(64) float t[16];
  for (int i = 0; i < 16; ++i) t[i] = static_cast<float>((i & 7) - 4);  // bits 0-1 from qs, bit 2 from hmask
  const __m512 tab = _mm512_load_ps(t);
  const __m512i k32 = _mm512_set1_epi32(32);
  for (int is = 0; is < 16; ++is) {  // sub-block is = 8n + 2j + h: element k = 16h + l of q[32n + k] >> 2j
    const int n = is / 8, j = (is % 8) / 2, h = is % 2;
    const __m512 dl = _mm512_mul_ps(d, to_f(_mm512_sub_epi32(field(aux[is / 4], 8 * (is % 4), 8), k32)));
#pragma GCC unroll 16
    for (int l = 0; l < 16; ++l) {
      const int k = 16 * h + l;
      const __m512i idx = merge_low(shr(q[(32 * n + k) / 4], 8 * (k % 4) + 2 * j),
                                    shr(hm[k / 4], 8 * (k % 4) + 4 * n + j - 2), 2);
      put(out, ld, 16 * is + l, _mm512_mul_ps(dl, _mm512_permutexvar_ps(idx, tab)));
    }
  }
}

#endif

#if defined(GB_COLS_AVX2)
// AVX2 (CPUs without AVX-512): each of the 16 rows' block is decoded along the row, 8 elements per vector
// with the float operations of ggml's scalar code in its order (as above), into a (16, bs) buffer in L1,
// then transposed 8 x 8 to columns. Scales are decoded by the scalar code (scale_min_k4, the q3_k unpack).

[[gnu::always_inline]] GB_COLS_AVX2_FN inline float a2_f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return fp16_to_f32(h);
}
// 8 bytes at p, zero- or sign-extended to dwords.
[[gnu::always_inline]] GB_COLS_AVX2_FN inline __m256i a2_u8(const uint8_t* p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
[[gnu::always_inline]] GB_COLS_AVX2_FN inline __m256i a2_s8(const uint8_t* p) {
  return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
// Unsigned field of `bits` bits at bit s of each lane, as float.
[[gnu::always_inline]] GB_COLS_AVX2_FN inline __m256i a2_field(__m256i v, int s, int bits) {
  return _mm256_and_si256(_mm256_srli_epi32(v, s), _mm256_set1_epi32((1 << bits) - 1));
}
[[gnu::always_inline]] GB_COLS_AVX2_FN inline __m256 a2_f(__m256i v) {
  return _mm256_cvtepi32_ps(v);
}
// y[0..8) = a * float(q) (+ b when sub: a * float(q) - b; add: + b), one rounding per operation.
[[gnu::always_inline]] GB_COLS_AVX2_FN inline void a2_put(float* y, __m256 a, __m256i q) {
  _mm256_storeu_ps(y, _mm256_mul_ps(a, a2_f(q)));
}
[[gnu::always_inline]] GB_COLS_AVX2_FN inline void a2_put_sub(float* y, __m256 a, __m256i q, __m256 b) {
  _mm256_storeu_ps(y, _mm256_sub_ps(_mm256_mul_ps(a, a2_f(q)), b));
}
[[gnu::always_inline]] GB_COLS_AVX2_FN inline void a2_put_add(float* y, __m256i q, __m256 a, __m256 b) {
  _mm256_storeu_ps(y, _mm256_add_ps(_mm256_mul_ps(a2_f(q), a), b));
}

// One block at x decoded to y[0, bs): ggml's dequantize_row_* for one block.
GB_COLS_AVX2_FN void a2_q4_0(const uint8_t* x, float* y) {
  const __m256 d = _mm256_set1_ps(a2_f16(x));
  const __m256i k8 = _mm256_set1_epi32(8);
  for (int j = 0; j < 16; j += 8) {
    const __m256i q = a2_u8(x + 2 + j);
    a2_put(y + j, d, _mm256_sub_epi32(a2_field(q, 0, 4), k8));  // float((q & 15) - 8) * d
    a2_put(y + j + 16, d, _mm256_sub_epi32(a2_field(q, 4, 4), k8));
  }
}

GB_COLS_AVX2_FN void a2_q4_1(const uint8_t* x, float* y) {
  const __m256 d = _mm256_set1_ps(a2_f16(x)), m = _mm256_set1_ps(a2_f16(x + 2));
  for (int j = 0; j < 16; j += 8) {
    const __m256i q = a2_u8(x + 4 + j);
    a2_put_add(y + j, a2_field(q, 0, 4), d, m);  // float(q & 15) * d + m
    a2_put_add(y + j + 16, a2_field(q, 4, 4), d, m);
  }
}

// q5_0 / q5_1: element j's fifth bit is bit j of the block's 32-bit qh.
template <bool has_min>
GB_COLS_AVX2_FN void a2_q5(const uint8_t* x, float* y) {
  const __m256 d = _mm256_set1_ps(a2_f16(x));
  const __m256 m = _mm256_set1_ps(has_min ? a2_f16(x + 2) : 0.0f);
  const uint8_t* p = x + (has_min ? 4 : 2);
  uint32_t qh;
  std::memcpy(&qh, p, 4);
  const __m256i h = _mm256_set1_epi32(static_cast<int>(qh)), k16 = _mm256_set1_epi32(16);
  for (int j = 0; j < 16; j += 8) {
    const __m256i q = a2_u8(p + 4 + j),
                  idx = _mm256_setr_epi32(j, j + 1, j + 2, j + 3, j + 4, j + 5, j + 6, j + 7);
    const __m256i h0 =
        _mm256_slli_epi32(_mm256_and_si256(_mm256_srlv_epi32(h, idx), _mm256_set1_epi32(1)), 4);
    const __m256i h1 = _mm256_slli_epi32(
        _mm256_and_si256(_mm256_srlv_epi32(h, _mm256_add_epi32(idx, k16)), _mm256_set1_epi32(1)), 4);
    const __m256i lo = _mm256_or_si256(a2_field(q, 0, 4), h0), hi = _mm256_or_si256(a2_field(q, 4, 4), h1);
    if (has_min) {
      a2_put_add(y + j, lo, d, m);
      a2_put_add(y + j + 16, hi, d, m);
    } else {
      a2_put(y + j, d, _mm256_sub_epi32(lo, k16));
      a2_put(y + j + 16, d, _mm256_sub_epi32(hi, k16));
    }
  }
}

GB_COLS_AVX2_FN void a2_q8_0(const uint8_t* x, float* y) {
  const __m256 d = _mm256_set1_ps(a2_f16(x));
  for (int j = 0; j < 32; j += 8) a2_put(y + j, d, a2_s8(x + 2 + j));
}

// Sub-block `is` (16 elements) of q2_k: dl * float((q[32n + 16h + l] >> 2j) & 3) - ml, is = 8n + 2j + h.
GB_COLS_AVX2_FN void a2_q2_k(const uint8_t* x, float* y) {
  const float d = a2_f16(x + 80), mn = a2_f16(x + 82);
  for (int is = 0; is < 16; ++is) {
    const int n = is / 8, j = (is % 8) / 2, h = is % 2;
    const uint8_t s = x[is];
    const __m256 dl = _mm256_set1_ps(d * static_cast<float>(s & 0xF)),
                 ml = _mm256_set1_ps(mn * static_cast<float>(s >> 4));
    for (int l = 0; l < 16; l += 8)
      a2_put_sub(y + 16 * is + l, dl, a2_field(a2_u8(x + 16 + 32 * n + 16 * h + l), 2 * j, 2), ml);
  }
}

GB_COLS_AVX2_FN void a2_q3_k(const uint8_t* x, float* y) {
  const float d_all = a2_f16(x + 108);
  int8_t scales[16];
  q3_k_scales(x, scales);
  const __m256i k4 = _mm256_set1_epi32(4), zero = _mm256_setzero_si256();
  for (int is = 0; is < 16; ++is) {  // element k = 16h + l of sub-block is = 8n + 2j + h
    const int n = is / 8, j = (is % 8) / 2, h = is % 2;
    const __m256 dl = _mm256_set1_ps(d_all * static_cast<float>(scales[is] - 32));
    const __m256i bit = _mm256_set1_epi32(1 << (4 * n + j));
    for (int l = 0; l < 16; l += 8) {
      const int k = 16 * h + l;
      const __m256i q = a2_field(a2_u8(x + 32 + 32 * n + k), 2 * j, 2);
      const __m256i off = _mm256_and_si256(_mm256_cmpeq_epi32(_mm256_and_si256(a2_u8(x + k), bit), zero), k4);
      a2_put(y + 16 * is + l, dl, _mm256_sub_epi32(q, off));  // dl * float(q - (hm & m ? 0 : 4))
    }
  }
}

// q4_k / q5_k: element 64c + 32h + l is nibble h of qs[32c + l] (+ 16 x bit 2c + h of qh[l] for q5_k).
template <bool five>
GB_COLS_AVX2_FN void a2_k4(const uint8_t* x, float* y) {
  const float d = a2_f16(x), mn = a2_f16(x + 2);
  const uint8_t* qs = x + (five ? 48 : 16);
  for (int c = 0; c < 4; ++c) {
    __m256 dl[2], ml[2];
    for (int h = 0; h < 2; ++h) {
      uint8_t sc, m;
      scale_min_k4(2 * c + h, x + 4, &sc, &m);
      dl[h] = _mm256_set1_ps(d * static_cast<float>(sc));
      ml[h] = _mm256_set1_ps(mn * static_cast<float>(m));
    }
    for (int l = 0; l < 32; l += 8) {
      const __m256i q = a2_u8(qs + 32 * c + l);
      __m256i lo = a2_field(q, 0, 4), hi = a2_field(q, 4, 4);
      if (five) {
        const __m256i qh = a2_u8(x + 16 + l);
        lo = _mm256_add_epi32(lo, _mm256_slli_epi32(a2_field(qh, 2 * c, 1), 4));
        hi = _mm256_add_epi32(hi, _mm256_slli_epi32(a2_field(qh, 2 * c + 1, 1), 4));
      }
      a2_put_sub(y + 64 * c + l, dl[0], lo, ml[0]);
      a2_put_sub(y + 64 * c + 32 + l, dl[1], hi, ml[1]);
    }
  }
}

GB_COLS_AVX2_FN void a2_q6_k(const uint8_t* x, float* y) {
  const float d = a2_f16(x + 208);
  const __m256i k32 = _mm256_set1_epi32(32);
  // elements 128n + 32s + l: nibble s/2 of ql[64n + 32(s%2) + l], bits 2s + 1, 2s of qh[32n + l]
  for (int n = 0; n < 2; ++n) {
    const uint8_t* ql = x + 64 * n;
    const uint8_t* qh = x + 128 + 32 * n;
    const int8_t* sc = reinterpret_cast<const int8_t*>(x + 192 + 8 * n);
    for (int l = 0; l < 32; l += 8) {
      const __m256i a = a2_u8(ql + l), b = a2_u8(ql + l + 32), h = a2_u8(qh + l);
      const __m256i q[4] = {a2_field(a, 0, 4), a2_field(b, 0, 4), a2_field(a, 4, 4), a2_field(b, 4, 4)};
      for (int s = 0; s < 4; ++s) {
        const __m256 ds = _mm256_set1_ps(d * static_cast<float>(sc[l / 16 + 2 * s]));  // (d * sc) * q
        const __m256i q6 = _mm256_or_si256(q[s], _mm256_slli_epi32(a2_field(h, 2 * s, 2), 4));
        a2_put(y + 128 * n + 32 * s + l, ds, _mm256_sub_epi32(q6, k32));
      }
    }
  }
}

// In-register transpose of 8 rows of 8 floats.
[[gnu::always_inline]] GB_COLS_AVX2_FN inline void a2_transpose8(__m256* r) {
  __m256 t[8], s[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    s[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(s[i], s[4 + i], 0x20);
    r[4 + i] = _mm256_permute2f128_ps(s[i], s[4 + i], 0x31);
  }
}

// The 16 rows' block b decoded along the rows by dec (bs elements, bytes per block), then transposed.
template <void (*dec)(const uint8_t*, float*), int bs, int bytes>
GB_COLS_AVX2_FN void a2_cols(const uint8_t* const* rows, int64_t b, float* out, int64_t ld) {
  alignas(32) float rb[16 * bs];  // (16, bs): row i's block at rb + i * bs
  for (int i = 0; i < 16; ++i) dec(rows[i] + b * bytes, rb + i * bs);
  for (int c = 0; c < bs; c += 8)
    for (int i0 = 0; i0 < 16; i0 += 8) {
      __m256 r[8];
      for (int i = 0; i < 8; ++i) r[i] = _mm256_load_ps(rb + (i0 + i) * bs + c);
      a2_transpose8(r);
      for (int k = 0; k < 8; ++k) _mm256_storeu_ps(out + (c + k) * ld + i0, r[k]);
    }
}

block_columns_fn avx2_cols(dtype t) {
  switch (t) {
    case dtype::q4_0:
      return a2_cols<a2_q4_0, 32, 18>;
    case dtype::q4_1:
      return a2_cols<a2_q4_1, 32, 20>;
    case dtype::q5_0:
      return a2_cols<a2_q5<false>, 32, 22>;
    case dtype::q5_1:
      return a2_cols<a2_q5<true>, 32, 24>;
    case dtype::q8_0:
      return a2_cols<a2_q8_0, 32, 34>;
    case dtype::q2_k:
      return a2_cols<a2_q2_k, 256, 84>;
    case dtype::q3_k:
      return a2_cols<a2_q3_k, 256, 110>;
    case dtype::q4_k:
      return a2_cols<a2_k4<false>, 256, 144>;
    case dtype::q5_k:
      return a2_cols<a2_k4<true>, 256, 176>;
    case dtype::q6_k:
      return a2_cols<a2_q6_k, 256, 210>;
    default:
      return nullptr;
  }
}
#endif

}  // namespace

block_columns_fn block_columns16_ref(dtype t) {
  switch (t) {
    case dtype::q4_0:
      return cols_ref<dtype::q4_0>;
    case dtype::q4_1:
      return cols_ref<dtype::q4_1>;
    case dtype::q5_0:
      return cols_ref<dtype::q5_0>;
    case dtype::q5_1:
      return cols_ref<dtype::q5_1>;
    case dtype::q8_0:
      return cols_ref<dtype::q8_0>;
    case dtype::q8_1:
      return cols_ref<dtype::q8_1>;
    case dtype::q2_k:
      return cols_ref<dtype::q2_k>;
    case dtype::q3_k:
      return cols_ref<dtype::q3_k>;
    case dtype::q4_k:
      return cols_ref<dtype::q4_k>;
    case dtype::q5_k:
      return cols_ref<dtype::q5_k>;
    case dtype::q6_k:
      return cols_ref<dtype::q6_k>;
    case dtype::q8_k:
      return cols_ref<dtype::q8_k>;
    default:
      return nullptr;
  }
}

namespace {
block_columns_fn avx512_cols(dtype t) {
#if defined(__AVX512F__)
  switch (t) {
    case dtype::q4_0:
      return cols_q4_0;
    case dtype::q4_1:
      return cols_q4_1;
    case dtype::q5_0:
      return cols_q5<false>;
    case dtype::q5_1:
      return cols_q5<true>;
    case dtype::q8_0:
      return cols_q8_0;
    case dtype::q2_k:
      return cols_q2_k;
    case dtype::q3_k:
      return cols_q3_k;
    case dtype::q4_k:
      return cols_k4<false>;
    case dtype::q5_k:
      return cols_k4<true>;
    case dtype::q6_k:
      return cols_q6_k;
    default:
      return nullptr;
  }
#else
  (void)t;
  return nullptr;
#endif
}
#if defined(GB_COLS_AVX2)
// F16C from CPUID leaf 1 (ECX bit 29): clang 14's __builtin_cpu_supports does not know "f16c".
bool cpu_has_f16c() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) != 0 && (c & bit_F16C) != 0;
}
#endif
}  // namespace

bool cols_isa_available(cols_isa isa) {
  static const bool avx512 =
#if defined(__AVX512F__)
      __builtin_cpu_supports("avx512f") != 0;
#else
      false;
#endif
  static const bool avx2 =
#if defined(GB_COLS_AVX2)
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
#else
      false;
#endif
  switch (isa) {
    case cols_isa::avx512:
      return avx512;
    case cols_isa::avx2:
      return avx2;
    default:
      return true;
  }
}

block_columns_fn block_columns16_with(cols_isa isa, dtype t) {
  if (!cols_isa_available(isa)) return nullptr;
  switch (isa) {
    case cols_isa::avx512:
      return avx512_cols(t);
    case cols_isa::avx2:
#if defined(GB_COLS_AVX2)
      return avx2_cols(t);
#else
      return nullptr;
#endif
    default:
      return block_columns16_ref(t);
  }
}

namespace {

// Where t's block holds a lone f16 (a packed group-block's 2-byte field, quant_cols.h): 0, the block's last
// 2 bytes (q3_k, q6_k), or -1 (only 4-byte fields).
constexpr int64_t lone_f16_at(dtype t, int64_t bb) {
  if (bb % 4 == 0) return -1;
  return t == dtype::q3_k || t == dtype::q6_k ? bb - 2 : 0;
}

// f(o, s) for each field of t's block in order: block offset o, s bytes (4, or 2 for the lone f16; a
// block whose size is not even would end in a shorter one).
template <class F>
void group_fields(dtype t, F f) {
  const int64_t bb = static_cast<int64_t>(dtype_info(t).type_size), h = lone_f16_at(t, bb);
  for (int64_t o = 0; o < bb;) {
    const int64_t s = std::min<int64_t>(o == h ? 2 : 4, bb - o);
    f(o, s);
    o += s;
  }
}

// n bytes (2 or 4 inlined, else a call) from src to dst.
inline void field_copy(uint8_t* dst, const uint8_t* src, int64_t n) {
  if (n == 4)
    std::memcpy(dst, src, 4);
  else if (n == 2)
    std::memcpy(dst, src, 2);
  else
    std::memcpy(dst, src, static_cast<size_t>(n));
}

#if defined(__AVX512F__)
// group_block_pack for a block of BB bytes with its lone f16 at H (-1: none): the 16 rows' d, then the
// dword fields 8 at a time through the decoders' 16 x 8 transpose (dwords16x8: the very vectors they
// load), then 4 (dwords16x4), then one, every offset a constant. The block size and field walk of the
// runtime loop it replaced (a field or 4 at a time, the size looked up per block) were most of a 7B
// model's repack time in user code.
template <int64_t BB, int64_t H>
void pack_avx512(const uint8_t* const* rows, int64_t b, uint8_t* out) {
  static_assert(H == -1 || H == 0 || H == BB - 2);
  constexpr int64_t lo = H == 0 ? 2 : 0, hi = H == BB - 2 ? BB - 2 : BB;  // the dword fields [lo, hi)
  static_assert((hi - lo) % 4 == 0);
  const int64_t off = b * BB;
  if constexpr (H >= 0)
    for (int i = 0; i < 16; ++i) std::memcpy(out + 16 * H + 2 * i, rows[i] + off + H, 2);
  int64_t o = lo;
#pragma GCC unroll 16
  for (; o + 32 <= hi; o += 32) {
    __m512i d[8];
    qsimd::dwords16x8(rows, off + o, d);
    for (int j = 0; j < 8; ++j) _mm512_storeu_si512(out + 16 * (o + 4 * j), d[j]);
  }
  if (o + 16 <= hi) {
    __m512i d[4];
    qsimd::dwords16x4(rows, off + o, d);
    for (int j = 0; j < 4; ++j) _mm512_storeu_si512(out + 16 * (o + 4 * j), d[j]);
    o += 16;
  }
#pragma GCC unroll 4
  for (; o < hi; o += 4)
    for (int i = 0; i < 16; ++i) std::memcpy(out + 16 * o + 4 * i, rows[i] + off + o, 4);
}
#endif

// A packed group-block of type T through block_columns16(T): its 16 rows' blocks unpacked first.
template <dtype T>
void unpacked_cols(const uint8_t* packed, float* out, int64_t ld) {
  static const block_columns_fn cols = block_columns16(T);
  const int64_t bb = static_cast<int64_t>(dtype_info(T).type_size);
  uint8_t blocks[16 * 512];  // (16, bb): the largest block (q8_k) is 292 bytes
  const uint8_t* rows[16];
  for (int i = 0; i < 16; ++i) {
    group_block_unpack(T, packed, i, blocks + i * bb);
    rows[i] = blocks + i * bb;
  }
  cols(rows, 0, out, ld);
}

// What the packed group-blocks of one ggml block type have, one row per type: the AVX-512 pack (null: only
// group_block_pack_ref), the AVX-512 register decoder that reads the group-block in place (null: none),
// and the portable decoder (each row's block unpacked, then block_columns16).
using group_pack_fn = void (*)(const uint8_t* const* rows, int64_t b, uint8_t* out);
struct packed_ops {
  group_pack_fn pack = nullptr;
  packed_columns_fn in_place = nullptr;
  packed_columns_fn unpacked = nullptr;
};

// Type T's row (BB: its block bytes, dtype_info(T).type_size; test_quant_cols checks the pack against the
// field walk of the twin, which reads dtype_info, on every type).
template <dtype T, int64_t BB>
constexpr packed_ops packed_row(packed_columns_fn in_place = nullptr) {
#if defined(__AVX512F__)
  return {pack_avx512<BB, lone_f16_at(T, BB)>, in_place, unpacked_cols<T>};
#else
  return {nullptr, in_place, unpacked_cols<T>};
#endif
}

constexpr std::array<packed_ops, static_cast<size_t>(dtype::count_)> packed_table() {
  std::array<packed_ops, static_cast<size_t>(dtype::count_)> p{};
  auto at = [&p](dtype t) -> packed_ops& { return p[static_cast<size_t>(t)]; };
#if defined(__AVX512F__)
  constexpr packed_columns_fn q4_0 = packed_cols<q4_0_dec>, q8_0 = packed_cols<q8_0_dec>,
                              q4_k = packed_cols<k4_dec<false>>, q5_k = packed_cols<k4_dec<true>>,
                              q6_k = packed_cols<q6_k_dec>;
#else
  constexpr packed_columns_fn q4_0 = nullptr, q8_0 = nullptr, q4_k = nullptr, q5_k = nullptr, q6_k = nullptr;
#endif
  at(dtype::q4_0) = packed_row<dtype::q4_0, 18>(q4_0);
  at(dtype::q4_1) = packed_row<dtype::q4_1, 20>();
  at(dtype::q5_0) = packed_row<dtype::q5_0, 22>();
  at(dtype::q5_1) = packed_row<dtype::q5_1, 24>();
  at(dtype::q8_0) = packed_row<dtype::q8_0, 34>(q8_0);
  at(dtype::q8_1) = packed_row<dtype::q8_1, 36>();
  at(dtype::q2_k) = packed_row<dtype::q2_k, 84>();
  at(dtype::q3_k) = packed_row<dtype::q3_k, 110>();
  at(dtype::q4_k) = packed_row<dtype::q4_k, 144>(q4_k);
  at(dtype::q5_k) = packed_row<dtype::q5_k, 176>(q5_k);
  at(dtype::q6_k) = packed_row<dtype::q6_k, 210>(q6_k);
  at(dtype::q8_k) = packed_row<dtype::q8_k, 292>();
  return p;
}

const packed_ops& packed_ops_of(dtype t) {
  static constexpr std::array<packed_ops, static_cast<size_t>(dtype::count_)> table = packed_table();
  static constexpr packed_ops none{};
  return static_cast<size_t>(t) < table.size() ? table[static_cast<size_t>(t)] : none;
}

}  // namespace

void group_block_pack_ref(dtype t, const uint8_t* const* rows, int64_t b, uint8_t* out) {
  const int64_t off = b * static_cast<int64_t>(dtype_info(t).type_size);
  group_fields(t, [&](int64_t o, int64_t s) {
    for (int i = 0; i < 16; ++i) field_copy(out + 16 * o + s * i, rows[i] + off + o, s);
  });
}

void group_block_pack(dtype t, const uint8_t* const* rows, int64_t b, uint8_t* out) {
  const packed_ops& p = packed_ops_of(t);
  if (p.pack && cols_isa_available(cols_isa::avx512))
    p.pack(rows, b, out);
  else
    group_block_pack_ref(t, rows, b, out);
}

void group_block_unpack(dtype t, const uint8_t* packed, int i, uint8_t* block) {
  group_fields(t, [&](int64_t o, int64_t s) { field_copy(block + o, packed + 16 * o + s * i, s); });
}

packed_columns_fn block_columns16_packed(dtype t) {
  return block_columns16_packed_in_place(t) ? packed_ops_of(t).in_place : packed_ops_of(t).unpacked;
}

bool block_columns16_packed_in_place(dtype t) {
  return packed_ops_of(t).in_place && cols_isa_available(cols_isa::avx512);
}

bool block_columns16_simd(dtype t) {
  return block_columns16(t) != block_columns16_ref(t);
}

block_columns_fn block_columns16(dtype t) {
  for (cols_isa isa : {cols_isa::avx512, cols_isa::avx2})
    if (block_columns_fn f = block_columns16_with(isa, t)) return f;
  return block_columns16_ref(t);
}

}  // namespace gb

#undef GB_COLS_AVX2_FN
#undef GB_COLS_AVX2
