// llama.cpp's CPU numerics for ggml block weights (see kernels_q8.h for the arithmetic both twins follow).
//
// Integers: every lane partial is an exact integer (products of a weight quant and an activation quant,
// times the sub-block scale), so any way of computing it gives the same value. The fast twin uses AVX-512
// byte multiply-adds: vpdpbusd (VNNI) or vpmaddubsw + vpmaddwd (unsigned weight byte x signed activation
// byte), on unsigned forms of the weights with exact corrections: q4_0's (q - 8) x = q x - 8 x, q8_0's
// w x = (w + 128) x - 128 x (corrections from the activations' sums over 4), q6_k's (q - 32) x per pair as
// ggml does (maddubs(q, x) - maddubs(32, x)). The reference loops over ggml's signed quants (block_quants).
// Floats: the same operations in the same order in both (lane chains, then the halving sums).
// Tiling (AVX-512), which changes no operation of any output, only which outputs run side by side:
//   q4_0/q8_0, 4+ tokens: each task (64 rows) decodes its rows once into lane vectors (64 weight bytes and
//     16 lane scales per pair of blocks), then 4 rows x 4 tokens with the 16 accumulators in registers, the
//     4 tokens' activations packed side by side (pack_token32) so a tile reads one stream;
//   q4_0/q8_0, 1-3 tokens: 4 rows decoded in registers as they stream by (one pass over the weights);
//   k-quants: one row x 8 tokens, each block unpacked once for the 8.
// AVX2 (CPUs without AVX-512 VNNI): one row and token at a time, the 16 lanes as two ymm. The activation
// quantizers have AVX-512 twins too (the same values). q8_isa_best() picks the set at run time.
#include "probes/engine/kernels_q8.h"

#pragma GCC optimize("fp-contract=off")
// GCC 12 reports false "used uninitialized" warnings for the intrinsics' undefined pass-through operand.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "formats/quant.h"
#include "formats/quant_cols.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define GB_Q8_AVX2 1  // compiled for any x86-64 build through target attributes, run when the CPU has it
#define GB_AVX2_FN __attribute__((target("avx2,fma,f16c")))
#endif
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__) && defined(__F16C__)
#define GB_Q8_AVX512 1
#endif

namespace gb::engine {
namespace {

// Row r of w as plain bytes: in place, or an interleaved row's blocks (repack.h) gathered into one of the
// calling thread's 4 buffers (slot), which keeps it until the slot is asked again.
const uint8_t* q8_row(const weight_view& w, int64_t r, int slot = 0) {
  if (w.plain(r)) return w.row(r);
  thread_local std::vector<uint8_t> rows;  // (4, row_bytes)
  if (rows.size() < 4 * w.row_bytes) rows.resize(4 * w.row_bytes);
  return w.row_in(r, rows.data() + static_cast<uint64_t>(slot) * w.row_bytes);
}

inline float h2f(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return fp16_to_f32(h);
}

// Sum of n float lanes by halving: v[l] += v[l + n/2] for l < n/2, until one is left.
inline float halving_sum(float* v, int n) {
  for (; n > 1; n /= 2)
    for (int l = 0; l < n / 2; ++l) v[l] = v[l] + v[l + n / 2];
  return v[0];
}

struct type_info {
  int64_t bs, bytes;   // elements and bytes per block
  bool has_min;        // q4_k, q5_k
  int64_t d_at, m_at;  // byte offsets of the f16 d and dmin
};
type_info info(dtype t) {
  switch (t) {
    case dtype::q4_0:
      return {32, 18, false, 0, 0};
    case dtype::q8_0:
      return {32, 34, false, 0, 0};
    case dtype::q4_k:
      return {256, 144, true, 0, 2};
    case dtype::q5_k:
      return {256, 176, true, 0, 2};
    default:  // q6_k
      return {256, 210, false, 208, 208};
  }
}

// The block's quants as ggml's signed integers (q4_0 q - 8, q8_0 q, q4_k/q5_k 0..15/0..31, q6_k q - 32),
// the scale of each element's sub-block in sc (1 for q4_0/q8_0), and for q4_k/q5_k the 8 sub-block mins.
void block_quants(dtype t, const uint8_t* b, int32_t* q, int32_t* sc, int32_t* mins) {
  if (t == dtype::q4_0 || t == dtype::q8_0) {
    for (int j = 0; j < 32; ++j) {
      sc[j] = 1;
      q[j] = t == dtype::q8_0 ? static_cast<int8_t>(b[2 + j])
                              : (j < 16 ? b[2 + j] & 0xF : b[2 + j - 16] >> 4) - 8;
    }
  } else if (t == dtype::q4_k || t == dtype::q5_k) {
    const bool five = t == dtype::q5_k;
    const uint8_t* qs = b + (five ? 48 : 16);
    for (int j = 0; j < 8; ++j) {
      uint8_t s, m;
      scale_min_k4(j, b + 4, &s, &m);
      mins[j] = m;
      for (int l = 0; l < 32; ++l) sc[32 * j + l] = s;
    }
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) {
        q[64 * c + l] = qs[32 * c + l] & 0xF;
        q[64 * c + 32 + l] = qs[32 * c + l] >> 4;
        if (five) {
          q[64 * c + l] += (b[16 + l] >> (2 * c)) & 1 ? 16 : 0;
          q[64 * c + 32 + l] += (b[16 + l] >> (2 * c + 1)) & 1 ? 16 : 0;
        }
      }
  } else {  // q6_k: element 128n + 32s + l from ql[64n + 32(s % 2) + l] nibble s / 2, qh[32n + l] bits 2s
    for (int n = 0; n < 2; ++n)
      for (int s = 0; s < 4; ++s)
        for (int l = 0; l < 32; ++l) {
          const int lo = (b[64 * n + 32 * (s % 2) + l] >> (4 * (s / 2))) & 0xF;
          const int hi = (b[128 + 32 * n + l] >> (2 * s)) & 3;
          q[128 * n + 32 * s + l] = (lo | (hi << 4)) - 32;
        }
    for (int j = 0; j < 256; ++j) sc[j] = static_cast<int8_t>(b[192 + j / 16]);
  }
}

// One row's outputs for every token, scalar: the arithmetic of kernels_q8.h in plain loops.
void row_ref(dtype t, const uint8_t* row, const q8_acts& a, float* y, int64_t ldy) {
  const type_info ti = info(t);
  const int64_t nb = a.N / ti.bs;
  int32_t q[256], sc[256], mins[8] = {};
  for (int64_t tk = 0; tk < a.T; ++tk) {
    float acc[16] = {}, accm[8] = {};
    const int8_t* xq = a.q.data() + tk * a.N;
    const float* xd = a.d.data() + tk * nb;
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * ti.bytes;
      block_quants(t, blk, q, sc, mins);
      const int8_t* x = xq + b * ti.bs;
      const float d = h2f(blk + ti.d_at) * xd[b];
      // 32-element blocks: block b fills lanes 8 (b % 2) .. + 7; k-quants: all 16 lanes, 4 chunks of 64
      const int lanes = ti.bs == 32 ? 8 : 16, lane0 = ti.bs == 32 ? 8 * static_cast<int>(b % 2) : 0;
      for (int l = 0; l < lanes; ++l) {
        int32_t s = 0;
        for (int c = 0; c < ti.bs / 64 + (ti.bs == 32); ++c)
          for (int i = 0; i < 4; ++i) {
            const int e = 64 * c + 4 * l + i;
            s += sc[e] * q[e] * x[e];
          }
        acc[lane0 + l] = std::fma(d, static_cast<float>(s), acc[lane0 + l]);
      }
      if (ti.has_min) {
        const float dm = h2f(blk + ti.m_at) * xd[b];
        const int32_t* x32 = a.sum32.data() + tk * (a.N / 32) + b * 8;
        for (int j = 0; j < 8; ++j) accm[j] = std::fma(-dm, static_cast<float>(mins[j] * x32[j]), accm[j]);
      }
    }
    float out = halving_sum(acc, 16);
    if (ti.has_min) out = out + halving_sum(accm, 8);
    y[tk * ldy] = out;
  }
}

#if defined(GB_Q8_AVX2)
// halving_sum's order over 8 lanes
[[gnu::always_inline]] GB_AVX2_FN inline float hsum8(__m256 h) {
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

// AVX2 (+ FMA, F16C), for x86 CPUs without AVX-512 VNNI: the arithmetic of kernels_q8.h with the 16 float
// lanes as two ymm (lanes 0..7, 8..15). One row, token after token, each block decoded in registers.
// 32-element blocks: the weights as signed bytes (q4_0 q - 8, q8_0 as stored), the four-product lane sums
// exact through int16 (sign-extended bytes, vpmaddwd pairs, vphaddd, lanes back in order by vpermq).
[[gnu::always_inline]] GB_AVX2_FN inline __m256i dot4_s8(__m256i w, __m256i x) {
  const __m256i lo = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm256_castsi256_si128(w)),
                                       _mm256_cvtepi8_epi16(_mm256_castsi256_si128(x)));
  const __m256i hi = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm256_extracti128_si256(w, 1)),
                                       _mm256_cvtepi8_epi16(_mm256_extracti128_si256(x, 1)));
  // hadd: lanes 0, 1, 4, 5 | 2, 3, 6, 7 -> 64-bit quarters 0, 2, 1, 3
  return _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo, hi), 0xD8);
}

template <bool q8>
GB_AVX2_FN void row_blocks32_avx2(const uint8_t* row, const q8_acts& a, float* y, int64_t ldy) {
  constexpr int64_t bytes = q8 ? 34 : 18;
  const int64_t nb = a.N / 32;
  for (int64_t tk = 0; tk < a.T; ++tk) {
    const int8_t* xq = a.q.data() + tk * a.N;
    const float* xd = a.d.data() + tk * nb;
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * bytes;
      __m256i w;
      if (q8) {
        w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
      } else {
        const __m128i qs = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
        const __m128i low4 = _mm_set1_epi8(0x0F);
        w = _mm256_sub_epi8(
            _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(qs, 4), low4), _mm_and_si128(qs, low4)),
            _mm256_set1_epi8(8));
      }
      const __m256i s = dot4_s8(w, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 32 * b)));
      const float d = _cvtsh_ss(static_cast<unsigned short>(blk[0] | blk[1] << 8)) * xd[b];
      acc[b % 2] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(s), acc[b % 2]);
    }
    y[tk * ldy] = hsum8(_mm256_add_ps(acc[0], acc[1]));
  }
}

// k-quants: per 64-element chunk c, lanes 0..7 from elements 64c .. + 31 and 8..15 from 64c + 32 .. + 63,
// unsigned weight bytes (q6_k: maddubs(q, x) - maddubs(32, x), as ggml), int16 pair sums scaled by the
// sub-block scale of each pair (vpmaddwd: exact).
template <dtype T>
GB_AVX2_FN void row_k_avx2(const uint8_t* row, const q8_acts& a, float* y, int64_t ldy) {
  constexpr bool has_min = T != dtype::q6_k;
  constexpr int64_t bytes = T == dtype::q4_k ? 144 : T == dtype::q5_k ? 176 : 210;
  const int64_t nb = a.N / 256;
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  for (int64_t tk = 0; tk < a.T; ++tk) {
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()}, accm = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * bytes;
      const int8_t* x = a.q.data() + tk * a.N + 256 * b;
      const float xd = a.d[static_cast<size_t>(tk * nb + b)];
      __m256i s[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
      int32_t sc[16];  // q4_k/q5_k: sub-block j's scale; q6_k: the 16-element sub-block's
      uint8_t mins[8] = {};
      if constexpr (T == dtype::q6_k) {
        for (int j = 0; j < 16; ++j) sc[j] = static_cast<int8_t>(blk[192 + j]);
      } else {
        for (int j = 0; j < 8; ++j) {
          uint8_t v;
          scale_min_k4(j, blk + 4, &v, &mins[j]);
          sc[j] = v;
        }
      }
      for (int c = 0; c < 4; ++c)
        for (int h = 0; h < 2; ++h) {  // elements 64c + 32h .. + 31
          __m256i w;
          if constexpr (T == dtype::q6_k) {  // element 128n + 32s + l: ql nibble s / 2, qh bits 2s
            const int n = c / 2, sidx = 2 * (c % 2) + h;
            const __m256i ql =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 64 * n + 32 * (sidx % 2)));
            const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 128 + 32 * n));
            const __m256i lo = _mm256_and_si256(sidx / 2 ? _mm256_srli_epi16(ql, 4) : ql, low4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * sidx), _mm256_set1_epi8(3));
            w = _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4));
          } else {
            const uint8_t* qs = blk + (T == dtype::q5_k ? 48 : 16) + 32 * c;
            const __m256i z = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs));
            w = _mm256_and_si256(h ? _mm256_srli_epi16(z, 4) : z, low4);
            if constexpr (T == dtype::q5_k) {
              const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16));
              const __m256i bit = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + h), _mm256_set1_epi8(1));
              w = _mm256_or_si256(w, _mm256_slli_epi16(bit, 4));
            }
          }
          const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 64 * c + 32 * h));
          __m256i p = _mm256_maddubs_epi16(w, xv);
          if constexpr (T == dtype::q6_k)
            p = _mm256_sub_epi16(p, _mm256_maddubs_epi16(_mm256_set1_epi8(32), xv));
          // pair lane i (elements 2i, 2i + 1 of these 32): sub-block 2c + h, or (q6_k) 16-block 4c + 2h + i /
          // 8
          const __m256i scv =
              T == dtype::q6_k
                  ? _mm256_setr_m128i(_mm_set1_epi16(static_cast<int16_t>(sc[4 * c + 2 * h])),
                                      _mm_set1_epi16(static_cast<int16_t>(sc[4 * c + 2 * h + 1])))
                  : _mm256_set1_epi16(static_cast<int16_t>(sc[2 * c + h]));
          s[h] = _mm256_add_epi32(s[h], _mm256_madd_epi16(p, scv));
        }
      const float d =
          _cvtsh_ss(static_cast<unsigned short>(blk[has_min ? 0 : 208] | blk[has_min ? 1 : 209] << 8)) * xd;
      acc[0] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(s[0]), acc[0]);
      acc[1] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(s[1]), acc[1]);
      if constexpr (has_min) {
        const float dm = _cvtsh_ss(static_cast<unsigned short>(blk[2] | blk[3] << 8)) * xd;
        const __m256i mv = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(mins)));
        const __m256i xs =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.sum32.data() + tk * (a.N / 32) + 8 * b));
        accm = _mm256_fmadd_ps(_mm256_set1_ps(-dm), _mm256_cvtepi32_ps(_mm256_mullo_epi32(mv, xs)), accm);
      }
    }
    const float v = hsum8(_mm256_add_ps(acc[0], acc[1]));
    y[tk * ldy] = has_min ? v + hsum8(accm) : v;
  }
}

using row_fn = void (*)(const uint8_t*, const q8_acts&, float*, int64_t);
row_fn avx2_row(dtype t) {
  switch (t) {
    case dtype::q4_0:
      return row_blocks32_avx2<false>;
    case dtype::q8_0:
      return row_blocks32_avx2<true>;
    case dtype::q4_k:
      return row_k_avx2<dtype::q4_k>;
    case dtype::q5_k:
      return row_k_avx2<dtype::q5_k>;
    case dtype::q6_k:
      return row_k_avx2<dtype::q6_k>;
    default:
      return nullptr;
  }
}
#endif

#if defined(GB_Q8_AVX512)
inline float f16(const uint8_t* p) {  // F16C: the same value as fp16_to_f32
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}
[[gnu::always_inline]] inline float hsum16(__m512 v) {  // halving_sum's order
  __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

// Two blocks' f16 scales (at p0, p1) as 16 float lanes, 8 each: broadcast as halves, one vcvtph2ps (the
// F16C conversion f16() makes). A single block passes p0 twice (its lanes 8..15 are never used).
[[gnu::always_inline]] inline __m512 pair_scales(const uint8_t* p0, const uint8_t* p1) {
  uint16_t h0, h1;
  std::memcpy(&h0, p0, 2);
  std::memcpy(&h1, p1, 2);
  const __m256i h =
      _mm256_mask_set1_epi16(_mm256_set1_epi16(static_cast<short>(h0)), 0xFF00, static_cast<short>(h1));
  return _mm512_cvtph_ps(h);
}

// 32-element blocks (q4_0, q8_0) in pairs: one zmm of 64 weight bytes (block b in bytes 0..31, b + 1
// absent: zeros), its 16 dwords the lanes. q4_0 bytes are q (0..15), q8_0 bytes w + 128; corr4 holds the
// matching correction.
template <bool q8>
[[gnu::always_inline]] inline __m512i pair_weights(const uint8_t* row, int64_t b, bool pair) {
  if (q8) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + b * 34 + 2));
    const __m256i hi = pair ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + b * 34 + 36))
                            : _mm256_setzero_si256();
    return _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1),
                            _mm512_set1_epi8(static_cast<char>(0x80)));
  }
  const __m128i l0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + b * 18 + 2));
  const __m128i l1 =
      pair ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + b * 18 + 20)) : _mm_setzero_si128();
  const __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_broadcastsi128_si256(l0)),
                                       _mm256_broadcastsi128_si256(l1), 1);
  return _mm512_and_si512(_mm512_mask_srli_epi16(z, 0xFF00FF00u, z, 4), _mm512_set1_epi8(0x0F));
}

// 32-element blocks, the activations packed for tiles of up to 4 tokens: tile t0 = 4i (tt = min(4, T - t0)
// tokens) at byte t0 x pairs x 192, then per pair of blocks (b, b + 1) its tt tokens' 192 bytes side by side:
// 64 quants (block b + 1 absent: zeros), 16 corr4 int32 (zeros), 16 floats d (lanes 0..7 the scale of block
// b, 8..15 of b + 1, or 0). A tile reads one stream at fixed offsets, d already laid out as the lanes.
constexpr int64_t pk_bytes = 192, pk_tokens = 4;
void pack_token32(const q8_acts& a, int64_t t, uint8_t* pk) {
  const int64_t nb = a.N / 32, pairs = (nb + 1) / 2, t0 = t / pk_tokens * pk_tokens;
  const int64_t tt = std::min(pk_tokens, a.T - t0);
  uint8_t* dst = pk + t0 * pairs * pk_bytes + (t - t0) * pk_bytes;
  for (int64_t p = 0; p < pairs; ++p, dst += tt * pk_bytes) {
    const int n = 2 * p + 1 < nb ? 2 : 1;
    std::memset(dst, 0, pk_bytes);
    std::memcpy(dst, a.q.data() + t * a.N + 64 * p, static_cast<size_t>(32 * n));
    std::memcpy(dst + 64, a.corr4.data() + t * (a.N / 4) + 16 * p, static_cast<size_t>(32 * n));
    float* d = reinterpret_cast<float*>(dst + 128);
    for (int l = 0; l < 8 * n; ++l) d[l] = a.d[static_cast<size_t>(t * nb + 2 * p + l / 8)];
  }
}

// Many tokens, 32-element blocks: RT rows x TT tokens at once, so each token's quants are loaded once for
// RT rows and the accumulators (RT x TT zmm) stay in registers. The rows come decoded (rows_blocks32:
// per pair of blocks and row, 64 weight bytes and 16 lanes of the rows' block scales, wd), so decoding is
// paid once per row, not per token tile. Per (row, token) the operations of the reference in its order:
// s = dpbusd(corr4, w, x), d = wd x xd per lane (lanes 0..7 block b, 8..15 block b + 1),
// acc = fma(d, s, acc) on the live lanes. tile: the TT tokens' packed activations (pack_token32);
// y written for the first nr rows.
template <int RT, int TT>
void tile_blocks32(const uint8_t* wp, int64_t nb, const uint8_t* tile, float* y, int64_t ldy, int nr) {
  __m512 acc[RT][TT];
  for (int i = 0; i < RT; ++i)
    for (int j = 0; j < TT; ++j) acc[i][j] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; b += 2, tile += TT * pk_bytes, wp += RT * 128) {
    const __mmask16 m = b + 1 < nb ? 0xFFFF : 0x00FF;
    for (int j = 0; j < TT; ++j) {
      const __m512i x = _mm512_loadu_si512(tile + j * pk_bytes);
      const __m512i c = _mm512_loadu_si512(tile + j * pk_bytes + 64);
      const __m512 xv = _mm512_loadu_ps(tile + j * pk_bytes + 128);
      for (int i = 0; i < RT; ++i) {
        const __m512i s = _mm512_dpbusd_epi32(c, _mm512_load_si512(wp + i * 128), x);
        const __m512 d = _mm512_mul_ps(_mm512_load_ps(wp + i * 128 + 64), xv);
        acc[i][j] = _mm512_mask3_fmadd_ps(d, _mm512_cvtepi32_ps(s), acc[i][j], m);
      }
    }
  }
  for (int i = 0; i < nr; ++i)
    for (int j = 0; j < TT; ++j) y[j * ldy + i] = hsum16(acc[i][j]);
}

// Fewer than 4 tokens (generation): nothing to amortise a decoded copy over, so RT rows are decoded in
// registers as they stream (one pass over the weights) and multiplied with the TT tokens at once; the
// same operations per (row, token) as tile_blocks32. rows: RT row pointers (a short tile repeats its
// last row).
template <bool q8, int RT, int TT>
void tile_blocks32_direct(const uint8_t* const* rows, int64_t nb, const uint8_t* tile, float* y, int64_t ldy,
                          int nr) {
  constexpr int64_t bytes = q8 ? 34 : 18;
  __m512 acc[RT][TT];
  for (int i = 0; i < RT; ++i)
    for (int j = 0; j < TT; ++j) acc[i][j] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; b += 2, tile += TT * pk_bytes) {
    const bool pair = b + 1 < nb;
    const __mmask16 m = pair ? 0xFFFF : 0x00FF;
    __m512i w[RT];
    __m512 wv[RT];
    for (int i = 0; i < RT; ++i) {
      w[i] = pair_weights<q8>(rows[i], b, pair);
      wv[i] = pair_scales(rows[i] + b * bytes, rows[i] + (pair ? b + 1 : b) * bytes);
    }
    for (int j = 0; j < TT; ++j) {
      const __m512i x = _mm512_loadu_si512(tile + j * pk_bytes);
      const __m512i c = _mm512_loadu_si512(tile + j * pk_bytes + 64);
      const __m512 xv = _mm512_loadu_ps(tile + j * pk_bytes + 128);
      for (int i = 0; i < RT; ++i) {
        const __m512i s = _mm512_dpbusd_epi32(c, w[i], x);
        acc[i][j] = _mm512_mask3_fmadd_ps(_mm512_mul_ps(wv[i], xv), _mm512_cvtepi32_ps(s), acc[i][j], m);
      }
    }
  }
  for (int i = 0; i < nr; ++i)
    for (int j = 0; j < TT; ++j) y[j * ldy + i] = hsum16(acc[i][j]);
}

template <bool q8>
void rows_blocks32_direct(const weight_view& w, int64_t r0, int nr, const q8_acts& a, const uint8_t* pk,
                          float* y) {
  constexpr int RT = 4;
  const int64_t nb = a.N / 32;
  for (int g = 0; g < nr; g += RT) {
    const uint8_t* rows[RT];
    for (int i = 0; i < RT; ++i) rows[i] = q8_row(w, r0 + g + std::min(i, nr - g - 1), i);
    const int n = std::min(RT, nr - g);
    switch (a.T) {
      case 3:
        tile_blocks32_direct<q8, RT, 3>(rows, nb, pk, y + r0 + g, w.rows, n);
        break;
      case 2:
        tile_blocks32_direct<q8, RT, 2>(rows, nb, pk, y + r0 + g, w.rows, n);
        break;
      default:
        tile_blocks32_direct<q8, RT, 1>(rows, nb, pk, y + r0 + g, w.rows, n);
        break;
    }
  }
}

// Rows [r0, r0 + nr) (nr <= rows_per_task) for every token: the rows decoded once into wp (groups of 4 rows:
// per pair of blocks, 4 x 128 bytes), then per tile of 4 tokens (whose packed activations stay in L1) every
// group of 4 rows (their decoded weights in L2) by tile_blocks32. wp: 64-byte aligned scratch of
// rows_per_task x pairs x 128 bytes.
constexpr int rows_per_task = 64;
template <bool q8>
void rows_blocks32(const weight_view& w, int64_t r0, int nr, const q8_acts& a, const uint8_t* pk, float* y,
                   uint8_t* wp) {
  if (a.T < pk_tokens) return rows_blocks32_direct<q8>(w, r0, nr, a, pk, y);
  constexpr int RT = 4;
  constexpr int64_t bytes = q8 ? 34 : 18;
  const int64_t nb = a.N / 32, pairs = (nb + 1) / 2, group = pairs * RT * 128;
  const int groups = (nr + RT - 1) / RT;
  for (int i = 0; i < groups * RT; ++i) {  // a short last group repeats the last row
    const uint8_t* row = q8_row(w, r0 + std::min(i, nr - 1));
    for (int64_t p = 0; p < pairs; ++p) {
      const bool pair = 2 * p + 1 < nb;
      uint8_t* dst = wp + i / RT * group + (p * RT + i % RT) * 128;
      _mm512_store_si512(dst, pair_weights<q8>(row, 2 * p, pair));
      _mm512_store_ps(dst + 64, pair_scales(row + 2 * p * bytes, row + (pair ? 2 * p + 1 : 2 * p) * bytes));
    }
  }
  const int64_t ldy = w.rows;
  for (int64_t t = 0; t < a.T; t += pk_tokens) {
    const uint8_t* tile = pk + t * pairs * pk_bytes;
    const int64_t tt = std::min(pk_tokens, a.T - t);
    for (int g = 0; g < groups; ++g) {
      const uint8_t* wg = wp + g * group;
      float* yt = y + t * ldy + r0 + g * RT;
      const int n = std::min(RT, nr - g * RT);
      switch (tt) {
        case 4:
          tile_blocks32<RT, 4>(wg, nb, tile, yt, ldy, n);
          break;
        case 3:
          tile_blocks32<RT, 3>(wg, nb, tile, yt, ldy, n);
          break;
        case 2:
          tile_blocks32<RT, 2>(wg, nb, tile, yt, ldy, n);
          break;
        default:
          tile_blocks32<RT, 1>(wg, nb, tile, yt, ldy, n);
          break;
      }
    }
  }
}

// ggml's get_scale_min_k4 for all 8 sub-blocks at once: 12 packed bytes -> 8 scale bytes, 8 min bytes.
inline void k4_scales_mins(const uint8_t* p, uint64_t* sc, uint64_t* mn) {
  uint32_t u[3];
  std::memcpy(u, p, 12);
  const uint32_t k1 = 0x3f3f3f3f, k2 = 0x0f0f0f0f, k3 = 0x03030303;
  *sc = (u[0] & k1) | uint64_t{(u[2] & k2) | (((u[0] >> 6) & k3) << 4)} << 32;
  *mn = (u[1] & k1) | uint64_t{((u[2] >> 4) & k2) | (((u[1] >> 6) & k3) << 4)} << 32;
}

// Scale index per chunk: q4_k/q5_k chunk c covers sub-blocks 2c, 2c + 1 (16 pair lanes each); q6_k chunk c
// sub-blocks 4c .. 4c + 3 (8 pair lanes each).
struct scale_index {
  alignas(64) int16_t k4[4][32], k6[4][32];
  scale_index() {
    for (int c = 0; c < 4; ++c)
      for (int i = 0; i < 32; ++i) {
        k4[c][i] = static_cast<int16_t>(2 * c + i / 16);
        k6[c][i] = static_cast<int16_t>(4 * c + i / 8);
      }
  }
};
const scale_index k_scale_index;

// A k-quant block's 256 quants as 4 chunks of 64 unsigned bytes (w), and per chunk the int16 scale of each
// maddubs pair lane (sc).
template <dtype T>
[[gnu::always_inline]] inline void k_unpack(const uint8_t* blk, __m512i* w, __m512i* sc, __m256i* mins) {
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  if constexpr (T == dtype::q6_k) {
    const __m512i S = _mm512_castsi256_si512(
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 192))));
    for (int n = 0; n < 2; ++n) {
      const __m512i ql = _mm512_loadu_si512(blk + 64 * n);
      const __m512i qh =
          _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 128 + 32 * n)));
      for (int m = 0; m < 2; ++m) {  // chunk 2n + m: elements 128n + 64m .. + 63
        const __m512i lo = _mm512_and_si512(m ? _mm512_srli_epi16(ql, 4) : ql, low4);
        const __m512i h = _mm512_and_si512(
            _mm512_mask_srli_epi16(_mm512_srli_epi16(qh, 4u * m), 0xFFFF0000u, qh, 4u * m + 2),
            _mm512_set1_epi8(3));
        w[2 * n + m] = _mm512_or_si512(lo, _mm512_slli_epi16(h, 4));
        sc[2 * n + m] = _mm512_permutexvar_epi16(_mm512_load_si512(k_scale_index.k6[2 * n + m]), S);
      }
    }
  } else {
    uint64_t s8, m8;  // in registers: a 16-byte reload of 8 stored bytes stalled store forwarding
    k4_scales_mins(blk + 4, &s8, &m8);
    *mins = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(m8)));
    const __m512i S =
        _mm512_castsi256_si512(_mm256_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(s8))));
    const uint8_t* qs = blk + (T == dtype::q5_k ? 48 : 16);
    const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16)));
    for (int c = 0; c < 4; ++c) {  // chunk c: elements 64c .. 64c + 63
      const __m512i z =
          _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c)));
      w[c] = _mm512_and_si512(_mm512_mask_srli_epi16(z, 0xFFFF0000u, z, 4), low4);
      if constexpr (T == dtype::q5_k) {
        const __m512i h = _mm512_mask_srli_epi16(_mm512_srli_epi16(qh, 2u * c), 0xFFFF0000u, qh, 2u * c + 1);
        w[c] = _mm512_or_si512(w[c], _mm512_slli_epi16(_mm512_and_si512(h, _mm512_set1_epi8(1)), 4));
      }
      sc[c] = _mm512_permutexvar_epi16(_mm512_load_si512(k_scale_index.k4[c]), S);
    }
  }
}

// One token's block: lane l += d x (sum over chunks of madd(maddubs(w, x), sc)); mins lanes -= dm x min x
// sum.
template <dtype T>
[[gnu::always_inline]] inline void k_token(const __m512i* w, const __m512i* sc, __m256i mins,
                                           const int8_t* xq, const int32_t* x32, float d, float dm,
                                           __m512& acc, __m256& accm) {
  __m512i s = _mm512_setzero_si512();
  for (int c = 0; c < 4; ++c) {
    const __m512i x = _mm512_loadu_si512(xq + 64 * c);
    __m512i p = _mm512_maddubs_epi16(w[c], x);
    if (T == dtype::q6_k) p = _mm512_sub_epi16(p, _mm512_maddubs_epi16(_mm512_set1_epi8(32), x));
    s = _mm512_dpwssd_epi32(s, p, sc[c]);  // s + madd(p, sc): the same exact integers
  }
  acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(s), acc);
  if (T != dtype::q6_k) {
    const __m256i xs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x32));
    accm = _mm256_fmadd_ps(_mm256_set1_ps(-dm), _mm256_cvtepi32_ps(_mm256_mullo_epi32(mins, xs)), accm);
  }
}

// q4_k / q5_k / q6_k: one row x TT tokens (t0 ..): each block unpacked once for the TT tokens, whose lane
// accumulators (TT zmm, TT ymm of mins) stay in registers (the token loops unrolled: GCC kept 8 of them in
// a stack array otherwise); per token the operations of k_token in order.
template <dtype T, int TT>
void tile_k(const uint8_t* row, const q8_acts& a, int64_t t0, float* y, int64_t ldy) {
  constexpr bool has_min = T != dtype::q6_k;
  constexpr int64_t bytes = T == dtype::q4_k ? 144 : T == dtype::q5_k ? 176 : 210;
  const int64_t nb = a.N / 256;
  __m512 acc[TT];
  __m256 accm[TT];
#pragma GCC unroll 8
  for (int j = 0; j < TT; ++j) {
    acc[j] = _mm512_setzero_ps();
    accm[j] = _mm256_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = row + b * bytes;
    __m512i w[4], sc[4];
    __m256i mins = _mm256_setzero_si256();
    k_unpack<T>(blk, w, sc, &mins);
    const float wd = f16(blk + (has_min ? 0 : 208)), wm = has_min ? f16(blk + 2) : 0.0f;
#pragma GCC unroll 8
    for (int j = 0; j < TT; ++j) {
      const int64_t tk = t0 + j;
      const float xd = a.d[static_cast<size_t>(tk * nb + b)];
      k_token<T>(w, sc, mins, a.q.data() + tk * a.N + 256 * b, a.sum32.data() + tk * (a.N / 32) + 8 * b,
                 wd * xd, wm * xd, acc[j], accm[j]);
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < TT; ++j) {
    const float v = hsum16(acc[j]);
    y[(t0 + j) * ldy] = has_min ? v + hsum8(accm[j]) : v;
  }
}

// One k-quant row for every token, 8 tokens at a time (the remainder by tiles of 4, 2, 1).
template <dtype T>
void row_k(const uint8_t* row, const q8_acts& a, float* y, int64_t ldy) {
  int64_t t = 0;
  for (; t + 8 <= a.T; t += 8) tile_k<T, 8>(row, a, t, y, ldy);
  if (a.T - t >= 4) tile_k<T, 4>(row, a, t, y, ldy), t += 4;
  if (a.T - t >= 2) tile_k<T, 2>(row, a, t, y, ldy), t += 2;
  if (a.T - t == 1) tile_k<T, 1>(row, a, t, y, ldy);
}

// Rows [r0, r0 + nr), nr <= rows_per_task, for every token; wp: scratch (rows_blocks32).
template <dtype T>
void rows_k(const weight_view& w, int64_t r0, int nr, const q8_acts& a, const uint8_t*, float* y, uint8_t*) {
  for (int i = 0; i < nr; ++i) row_k<T>(q8_row(w, r0 + i), a, y + r0 + i, w.rows);
}
using rows_fn = void (*)(const weight_view&, int64_t, int, const q8_acts&, const uint8_t*, float*, uint8_t*);
rows_fn fast_rows(dtype t) {
  switch (t) {
    case dtype::q4_0:
      return rows_blocks32<false>;
    case dtype::q8_0:
      return rows_blocks32<true>;
    case dtype::q4_k:
      return rows_k<dtype::q4_k>;
    case dtype::q5_k:
      return rows_k<dtype::q5_k>;
    case dtype::q6_k:
      return rows_k<dtype::q6_k>;
    default:
      return nullptr;
  }
}
#endif

}  // namespace
bool matmul_q8_supported(dtype t) {
  return t == dtype::q4_0 || t == dtype::q8_0 || t == dtype::q4_k || t == dtype::q5_k || t == dtype::q6_k;
}

namespace {

#if defined(GB_Q8_AVX512)
// The SIMD twins of the block quantizers below (the same values, element for element). q8_0: amax by
// max_ps (a NaN lane keeps the running max, as the scalar loop skips it), q = saturate(cvtps(round(x id)))
// (out of range and NaN: INT_MIN, saturated to -128).
void quantize_q8_0_simd(const float* x, int8_t* q, float* d) {
  const __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
  const __m512 m = _mm512_max_ps(_mm512_abs_ps(x1), _mm512_max_ps(_mm512_abs_ps(x0), _mm512_setzero_ps()));
  const float amax = _mm512_reduce_max_ps(m);  // no NaN lane left: any order gives the max
  *d = fp16_to_f32(f32_to_fp16(amax / 127.f));
  const __m512 id = _mm512_set1_ps(amax != 0.0f ? 127.f / amax : 0.0f);
  for (int h = 0; h < 2; ++h) {
    const __m512 v =
        _mm512_roundscale_ps(_mm512_mul_ps(h ? x1 : x0, id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 16 * h), _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(v)));
  }
}
// q8_K (quantize_row_q8_K_ref): the signed value of the first element of largest magnitude, iscale =
// -127 / it, q = int8(min(127, nearest_int(iscale x))) by the same 1.5 x 2^23 trick; all zero when it is 0.
void quantize_q8_k_simd(const float* x, int8_t* q, float* d) {
  __m512 m = _mm512_setzero_ps();
  for (int j = 0; j < 256; j += 16) m = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + j)), m);
  const float amax = _mm512_reduce_max_ps(m);
  float max = 0.0f;
  for (int j = 0; amax > 0.0f && j < 256; j += 16) {
    const __mmask16 e =
        _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + j)), _mm512_set1_ps(amax), _CMP_EQ_OQ);
    if (e) {
      max = x[j + __builtin_ctz(e)];
      break;
    }
  }
  if (max == 0.0f) {
    std::memset(q, 0, 256);
    *d = 0.0f;
    return;
  }
  const float iscale = -127.f / max;
  for (int j = 0; j < 256; j += 16) {
    const __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(iscale), _mm512_loadu_ps(x + j)),
                                   _mm512_set1_ps(12582912.f));
    const __m512i i =
        _mm512_sub_epi32(_mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x007fffff)),
                         _mm512_set1_epi32(0x00400000));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + j),
                     _mm512_cvtepi32_epi8(_mm512_min_epi32(i, _mm512_set1_epi32(127))));
  }
  *d = 1 / iscale;
}
#endif

// Token t's quants, scales and sums (a's vectors already sized): see q8_acts. simd: the AVX-512 twins of
// the block quantizers (only when this build has them).
void quantize_token(dtype wtype, const float* xr, int64_t t, q8_acts& a, [[maybe_unused]] bool simd) {
  const int64_t N = a.N, nb = N / a.block;
  int8_t* q = a.q.data() + t * N;
  float* d = a.d.data() + t * nb;
#if defined(GB_Q8_AVX512)
  if (simd) {
    for (int64_t b = 0; b < nb; ++b)
      a.block == 32 ? quantize_q8_0_simd(xr + 32 * b, q + 32 * b, d + b)
                    : quantize_q8_k_simd(xr + 256 * b, q + 256 * b, d + b);
  } else
#endif
      if (a.block == 32) {
    for (int64_t b = 0; b < nb; ++b) {
      float amax = 0.0f;
      for (int j = 0; j < 32; ++j) {  // max as _mm256_max_ps keeps it: a NaN element is skipped
        const float v = std::fabs(xr[32 * b + j]);
        amax = v > amax ? v : amax;
      }
      d[b] = fp16_to_f32(f32_to_fp16(amax / 127.f));
      const float id = amax != 0.0f ? 127.f / amax : 0.0f;
      for (int j = 0; j < 32; ++j) {
        // _mm256_round_ps (nearest even), cvtps_epi32 (out of range or NaN: INT_MIN), packs (saturate)
        const float v = std::nearbyint(xr[32 * b + j] * id);
        const bool in = v >= -2147483648.0f && v < 2147483648.0f;
        q[32 * b + j] = static_cast<int8_t>(
            in ? std::clamp(static_cast<int64_t>(v), int64_t{-128}, int64_t{127}) : int64_t{-128});
      }
    }
  } else {
    const std::vector<uint8_t> k = quantize_row(dtype::q8_k, xr, N);  // ggml's quantize_row_q8_K_ref
    for (int64_t b = 0; b < nb; ++b) {
      std::memcpy(&d[b], k.data() + 292 * b, 4);
      std::memcpy(q + 256 * b, k.data() + 292 * b + 4, 256);
    }
  }
  const int32_t offset = wtype == dtype::q4_0 ? 8 : wtype == dtype::q8_0 ? 128 : 0;  // see corr4
  int32_t* s16 = a.sum16.data() + t * (N / 16);
  int32_t* s32 = a.sum32.data() + t * (N / 32);
  int32_t* c4 = a.corr4.data() + t * (N / 4);
  for (int64_t j = 0; j < N / 16; ++j) {
    int32_t s = 0;
    for (int l = 0; l < 16; ++l) s += q[16 * j + l];
    s16[j] = s;
  }
  for (int64_t j = 0; j < N / 32; ++j) s32[j] = s16[2 * j] + s16[2 * j + 1];
  for (int64_t j = 0; j < N / 4; ++j)
    c4[j] = -offset * (q[4 * j] + q[4 * j + 1] + q[4 * j + 2] + q[4 * j + 3]);
}

// q8_quantize into a (its vectors reused when large enough: no allocation per matmul), tokens in parallel.
void quantize_into(dtype wtype, const float* x, int64_t T, int64_t N, q8_acts& a, int threads, bool simd) {
  a.T = T;
  a.N = N;
  a.block = wtype == dtype::q4_0 || wtype == dtype::q8_0 ? 32 : 256;
  a.q.resize(static_cast<size_t>(T * N));
  a.d.resize(static_cast<size_t>(T * (N / a.block)));
  a.sum16.resize(static_cast<size_t>(T * (N / 16)));
  a.sum32.resize(static_cast<size_t>(T * (N / 32)));
  a.corr4.resize(static_cast<size_t>(T * (N / 4)));
#pragma omp parallel for num_threads(threads_for(16 * T * N, threads)) schedule(static)
  for (int64_t t = 0; t < T; ++t) quantize_token(wtype, x + t * N, t, a, simd);
}

}  // namespace

q8_acts q8_quantize(dtype wtype, const float* x, int64_t T, int64_t N) {
  q8_acts a;
  quantize_into(wtype, x, T, N, a, 1, false);
  return a;
}

void matmul_q8_ref(const float* x, int64_t T, const weight_view& w, float* y) {
  const q8_acts a = q8_quantize(w.type, x, T, w.cols);
  for (int64_t r = 0; r < w.rows; ++r) row_ref(w.type, q8_row(w, r), a, y + r, w.rows);
}

q8_isa q8_isa_best() {
  static const q8_isa best = [] {
#if defined(GB_Q8_AVX512)
    if (q8_isa_available(q8_isa::avx512)) return q8_isa::avx512;
#endif
    return q8_isa_available(q8_isa::avx2) ? q8_isa::avx2 : q8_isa::ref;
  }();
  return best;
}

bool q8_isa_available(q8_isa isa) {
  switch (isa) {
    case q8_isa::avx512:
#if defined(GB_Q8_AVX512)
      return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw");
#else
      return false;
#endif
    case q8_isa::avx2:
#if defined(GB_Q8_AVX2)
      return cols_isa_available(cols_isa::avx2);  // the same CPU check: AVX2, FMA and F16C
#else
      return false;
#endif
    default:
      return true;
  }
}

void matmul_q8(const float* x, int64_t T, const weight_view& w, float* y, int threads) {
  matmul_q8_with(q8_isa_best(), x, T, w, y, threads);
}

void matmul_q8_with(q8_isa isa, const float* x, int64_t T, const weight_view& w, float* y, int threads) {
  const int64_t M = w.rows, N = w.cols;
  if (T <= 0 || M <= 0) return;
  if (!q8_isa_available(isa)) isa = q8_isa::ref;
  if (threads <= 0) threads = omp_get_max_threads();
  // Reused by the calling thread: no allocation (and page faults) per matmul. The parallel regions below
  // use these references (a thread_local named inside them would be each worker's own).
  thread_local q8_acts a_store;
  q8_acts& a = a_store;
  quantize_into(w.type, x, T, N, a, threads, isa == q8_isa::avx512);
  threads = threads_for(std::max(T, streamed_weight_work) * M * N, threads);
#if defined(GB_Q8_AVX512)
  if (isa == q8_isa::avx512) {
    thread_local std::vector<uint8_t> pk_store;  // 32-element blocks: the packed token tiles (pack_token32)
    std::vector<uint8_t>& pk = pk_store;
    if (a.block == 32) {
      pk.resize(static_cast<size_t>(T * ((N / 32 + 1) / 2) * pk_bytes));
#pragma omp parallel for num_threads(threads_for(16 * T * N, threads)) schedule(static)
      for (int64_t t = 0; t < T; ++t) pack_token32(a, t, pk.data());
    }
#pragma omp parallel num_threads(threads)
    {
      // (pairs of blocks, rows_per_task, 128 bytes): rows_blocks32's decoded rows, 64-byte aligned; each
      // worker's own, kept across calls (allocated and zeroed per matmul it was 3% of a q4_k token; the
      // k-quants do not use it)
      thread_local aligned_vector<uint8_t> wp;
      if (a.block == 32)
        wp.resize(std::max(wp.size(), static_cast<size_t>((N / 32 + 1) / 2 * rows_per_task * 128)));
      const rows_fn f = fast_rows(w.type);
#pragma omp for schedule(static)
      for (int64_t g = 0; g < (M + rows_per_task - 1) / rows_per_task; ++g)
        f(w, g * rows_per_task, static_cast<int>(std::min<int64_t>(rows_per_task, M - g * rows_per_task)), a,
          pk.data(), y, wp.data());
    }
    return;
  }
#endif
#if defined(GB_Q8_AVX2)
  if (isa == q8_isa::avx2) {
    const row_fn f = avx2_row(w.type);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t r = 0; r < M; ++r) f(q8_row(w, r), a, y + r, M);
    return;
  }
#endif
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t r = 0; r < M; ++r) row_ref(w.type, q8_row(w, r), a, y + r, M);
}

}  // namespace gb::engine
