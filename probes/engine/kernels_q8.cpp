// llama.cpp's CPU numerics for ggml block weights (see kernels_q8.h).
//
// Both twins compute the same exact integers per block and then the same float operations in the same
// order (block_acc), so they agree bit for bit by construction; the fast one gets its integers from
// AVX-512 byte multiply-adds (vpmaddubsw: unsigned weight byte x signed activation byte, pairs summed to
// int16; vpmaddwd against 1 or the sub-block scales: int32), the reference from plain loops over the
// decoded quants. Unsigned forms are exact integer identities of ggml's signed ones: q4_0's (q - 8) x is
// q x - 8 sum(x), q6_k's (q - 32) x is q x - 32 sum(x), with the activation sums of q8's bsums.
// Rows are streamed one at a time (one sequential stream per thread, which the hardware prefetcher
// follows), each row's blocks unpacked once for all T tokens.
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

#if defined(__AVX512F__) && defined(__AVX512BW__)
#include <immintrin.h>
#define GB_Q8_AVX512 1
#endif

namespace gb::engine {
namespace {

inline float h2f(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return fp16_to_f32(h);
}

// The exact integers of one block's dot product: isum = sum over sub-blocks of scale x (quants . q8),
// imin = sum over sub-blocks of min x sum(q8) (q4_k, q5_k; 0 otherwise).
struct block_ints {
  int32_t isum = 0, imin = 0;
};

// acc after block b: fma(wd xd, isum) then, with mins, fma(-(wm xd), imin). Shared by both twins.
inline float block_acc(float acc, float wd, float wm, float xd, block_ints v, bool has_min) {
  const float d = wd * xd;
  acc = std::fma(d, static_cast<float>(v.isum), acc);
  if (has_min) {
    const float dm = wm * xd;
    acc = std::fma(-dm, static_cast<float>(v.imin), acc);
  }
  return acc;
}

struct type_info {
  int64_t bs, bytes;  // elements and bytes per block
  bool has_min;
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

// The block's quants as signed integers (ggml's values: q4_0 q - 8, q6_k q - 32, q4_k/q5_k 0..15/0..31),
// the scale of each element's sub-block in sc, and for q4_k/q5_k the 8 sub-block mins.
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

block_ints block_dot_ref(dtype t, const uint8_t* b, const int8_t* x, const int32_t* x16) {
  int32_t q[256], sc[256], mins[8] = {};
  block_quants(t, b, q, sc, mins);
  const int64_t bs = info(t).bs;
  block_ints v;
  for (int64_t j = 0; j < bs; ++j) v.isum += sc[j] * q[j] * x[j];
  if (info(t).has_min)
    for (int j = 0; j < 8; ++j) v.imin += mins[j] * (x16[2 * j] + x16[2 * j + 1]);
  return v;
}

// One row's outputs for every token, scalar.
void row_ref(dtype t, const uint8_t* row, const q8_acts& a, float* y, int64_t ldy) {
  const type_info ti = info(t);
  const int64_t nb = a.N / ti.bs;
  for (int64_t tk = 0; tk < a.T; ++tk) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * ti.bytes;
      const int8_t* xq = a.q.data() + tk * a.N + b * ti.bs;
      const int32_t* x16 = a.sum16.data() + tk * (a.N / 16) + b * (ti.bs / 16);
      acc = block_acc(acc, h2f(blk + ti.d_at), ti.has_min ? h2f(blk + ti.m_at) : 0.0f,
                      a.d[static_cast<size_t>(tk * (a.N / ti.bs) + b)], block_dot_ref(t, blk, xq, x16),
                      ti.has_min);
    }
    y[tk * ldy] = acc;
  }
}

#if defined(GB_Q8_AVX512)
// Sums of 8 blocks' 8-dword partials: v[i] holds blocks 2i (dwords 0..7) and 2i + 1 (8..15).
[[gnu::always_inline]] inline void reduce8(const __m512i* v, int32_t* out) {
  const __m512i s1 = _mm512_add_epi32(_mm512_unpacklo_epi32(v[0], v[1]), _mm512_unpackhi_epi32(v[0], v[1]));
  const __m512i s2 = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2], v[3]), _mm512_unpackhi_epi32(v[2], v[3]));
  // 128-bit lane L of s3: [v0, v1, v2, v3] summed over lane L
  const __m512i s3 = _mm512_add_epi32(_mm512_unpacklo_epi64(s1, s2), _mm512_unpackhi_epi64(s1, s2));
  const __m512i s4 = _mm512_add_epi32(s3, _mm512_shuffle_i32x4(s3, s3, _MM_SHUFFLE(2, 3, 0, 1)));
  alignas(64) int32_t r[16];
  _mm512_store_si512(r, s4);  // lane 0: blocks 0, 2, 4, 6; lane 2: blocks 1, 3, 5, 7
  for (int i = 0; i < 4; ++i) {
    out[2 * i] = r[i];
    out[2 * i + 1] = r[8 + i];
  }
}

// 32-element blocks (q4_0, q8_0), 8 at a time: w[i] = the weights of blocks 2i, 2i + 1 (bytes 0..63 in
// element order), as unsigned bytes for q4_0 (q, not q - 8) and as int16 pairs' halves for q8_0.
template <bool q8>
void row_blocks32(const uint8_t* row, const q8_acts& a, float* y, int64_t ldy, float* acc) {
  constexpr int64_t bytes = q8 ? 34 : 18;
  const int64_t nb = a.N / 32, nx16 = a.N / 16;
  const dtype t = q8 ? dtype::q8_0 : dtype::q4_0;
  std::fill(acc, acc + a.T, 0.0f);
  const __m512i low4 = _mm512_set1_epi8(0x0F), ones = _mm512_set1_epi16(1);
  int64_t b = 0;
  for (; b + 8 <= nb; b += 8) {
    __m512i w[8];  // q4_0: w[i] blocks 2i, 2i+1 as bytes; q8_0: w[i] block b + i as int16
    float wd[8];
    for (int i = 0; i < 8; ++i) wd[i] = h2f(row + (b + i) * bytes);
    if (q8) {
      for (int i = 0; i < 8; ++i)
        w[i] = _mm512_cvtepi8_epi16(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + (b + i) * 34 + 2)));
    } else {
      for (int i = 0; i < 4; ++i) {
        const uint8_t* p = row + (b + 2 * i) * 18 + 2;
        const __m256i lo = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        const __m256i hi =
            _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 18)));
        const __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
        // 128-bit lanes 1 and 3 (the high nibbles: elements 16..31) shifted down
        w[i] = _mm512_and_si512(_mm512_mask_srli_epi16(z, 0xFF00FF00u, z, 4), low4);
      }
    }
    for (int64_t tk = 0; tk < a.T; ++tk) {
      const int8_t* xq = a.q.data() + tk * a.N + b * 32;
      __m512i p[4];
      for (int i = 0; i < 4; ++i) {
        if (q8) {
          __m256i h[2];
          for (int k = 0; k < 2; ++k) {
            const __m512i xs = _mm512_cvtepi8_epi16(
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 32 * (2 * i + k))));
            const __m512i m = _mm512_madd_epi16(w[2 * i + k], xs);
            h[k] = _mm256_add_epi32(_mm512_castsi512_si256(m), _mm512_extracti64x4_epi64(m, 1));
          }
          p[i] = _mm512_inserti64x4(_mm512_castsi256_si512(h[0]), h[1], 1);
        } else {
          const __m512i xs = _mm512_loadu_si512(xq + 64 * i);
          p[i] = _mm512_madd_epi16(_mm512_maddubs_epi16(w[i], xs), ones);
        }
      }
      int32_t s[8];
      reduce8(p, s);
      const int32_t* x16 = a.sum16.data() + tk * nx16 + 2 * b;
      const float* xd = a.d.data() + tk * nb + b;
      float r = acc[tk];
      for (int i = 0; i < 8; ++i) {
        block_ints v;
        v.isum = q8 ? s[i] : s[i] - 8 * (x16[2 * i] + x16[2 * i + 1]);
        r = block_acc(r, wd[i], 0.0f, xd[i], v, false);
      }
      acc[tk] = r;
    }
  }
  for (; b < nb; ++b)  // the last nb % 8 blocks
    for (int64_t tk = 0; tk < a.T; ++tk) {
      const uint8_t* blk = row + b * bytes;
      const block_ints v = block_dot_ref(t, blk, a.q.data() + tk * a.N + b * 32, nullptr);
      acc[tk] = block_acc(acc[tk], h2f(blk), 0.0f, a.d[static_cast<size_t>(tk * nb + b)], v, false);
    }
  for (int64_t tk = 0; tk < a.T; ++tk) y[tk * ldy] = acc[tk];
}

// q6_k chunk c (elements 64c .. 64c + 63): maddubs pair lane i belongs to sub-block 4c + i / 8.
alignas(64) const int16_t q6_scale_index[4][32] = {
    {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3},
    {4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7},
    {8,  8,  8,  8,  8,  8,  8,  8,  9,  9,  9,  9,  9,  9,  9,  9,
     10, 10, 10, 10, 10, 10, 10, 10, 11, 11, 11, 11, 11, 11, 11, 11},
    {12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13,
     14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15}};

// q4_k / q5_k / q6_k: a block's 256 quants as 4 chunks of 64 unsigned bytes (w) and, per chunk, the
// int16 scale of each maddubs pair's sub-block (sc); then per token 4 x (maddubs, madd by scales).
template <dtype T>
void row_k(const uint8_t* row, const q8_acts& a, float* y, int64_t ldy, float* acc) {
  constexpr bool has_min = T != dtype::q6_k;
  constexpr int64_t bytes = T == dtype::q4_k ? 144 : T == dtype::q5_k ? 176 : 210;
  const int64_t nb = a.N / 256, nx16 = a.N / 16;
  std::fill(acc, acc + a.T, 0.0f);
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = row + b * bytes;
    __m512i w[4], sc[4];
    int32_t s32[16], m32[8] = {};  // sub-block scales (8 for q4_k/q5_k, 16 for q6_k), mins
    alignas(64) int16_t s16[32] = {};
    if (has_min) {
      for (int j = 0; j < 8; ++j) {
        uint8_t s, m;
        scale_min_k4(j, blk + 4, &s, &m);
        s16[j] = s;
        m32[j] = m;
      }
      const uint8_t* qs = blk + (T == dtype::q5_k ? 48 : 16);
      const __m512i qh =
          _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16)));
      for (int c = 0; c < 4; ++c) {  // chunk c: elements 64c .. 64c + 63, sub-blocks 2c and 2c + 1
        const __m512i z =
            _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c)));
        w[c] = _mm512_and_si512(_mm512_mask_srli_epi16(z, 0xFFFF0000u, z, 4), low4);
        if (T == dtype::q5_k) {
          const __m512i h = _mm512_mask_srli_epi16(_mm512_srli_epi16(qh, static_cast<unsigned>(2 * c)),
                                                   0xFFFF0000u, qh, static_cast<unsigned>(2 * c + 1));
          w[c] = _mm512_or_si512(w[c], _mm512_slli_epi16(_mm512_and_si512(h, _mm512_set1_epi8(1)), 4));
        }
        sc[c] = _mm512_mask_blend_epi16(0xFFFF0000u, _mm512_set1_epi16(s16[2 * c]),
                                        _mm512_set1_epi16(s16[2 * c + 1]));
      }
    } else {
      for (int j = 0; j < 16; ++j) {
        s32[j] = static_cast<int8_t>(blk[192 + j]);
        s16[j] = static_cast<int16_t>(s32[j]);
      }
      const __m512i S = _mm512_load_si512(s16);
      for (int n = 0; n < 2; ++n) {
        const __m512i ql = _mm512_loadu_si512(blk + 64 * n);
        const __m512i qh =
            _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 128 + 32 * n)));
        for (int m = 0; m < 2; ++m) {  // chunk 2n + m: elements 128n + 64m .. + 63
          const __m512i lo = _mm512_and_si512(m ? _mm512_srli_epi16(ql, 4) : ql, low4);
          const __m512i h =
              _mm512_and_si512(_mm512_mask_srli_epi16(_mm512_srli_epi16(qh, static_cast<unsigned>(4 * m)),
                                                      0xFFFF0000u, qh, static_cast<unsigned>(4 * m + 2)),
                               _mm512_set1_epi8(3));
          w[2 * n + m] = _mm512_or_si512(lo, _mm512_slli_epi16(h, 4));
          sc[2 * n + m] = _mm512_permutexvar_epi16(_mm512_load_si512(q6_scale_index[2 * n + m]), S);
        }
      }
    }
    const float wd = h2f(blk + (has_min ? 0 : 208)), wm = has_min ? h2f(blk + 2) : 0.0f;
    for (int64_t tk = 0; tk < a.T; ++tk) {
      const int8_t* xq = a.q.data() + tk * a.N + b * 256;
      const int32_t* x16 = a.sum16.data() + tk * nx16 + b * 16;
      __m512i s = _mm512_setzero_si512();
      for (int c = 0; c < 4; ++c)
        s = _mm512_add_epi32(
            s, _mm512_madd_epi16(_mm512_maddubs_epi16(w[c], _mm512_loadu_si512(xq + 64 * c)), sc[c]));
      block_ints v;
      v.isum = _mm512_reduce_add_epi32(s);
      if (has_min) {
        for (int j = 0; j < 8; ++j) v.imin += m32[j] * (x16[2 * j] + x16[2 * j + 1]);
      } else {
        int32_t corr = 0;  // q6_k: (q - 32) x = q x - 32 x
        for (int j = 0; j < 16; ++j) corr += s32[j] * x16[j];
        v.isum -= 32 * corr;
      }
      acc[tk] = block_acc(acc[tk], wd, wm, a.d[static_cast<size_t>(tk * nb + b)], v, has_min);
    }
  }
  for (int64_t tk = 0; tk < a.T; ++tk) y[tk * ldy] = acc[tk];
}

using row_fn = void (*)(const uint8_t*, const q8_acts&, float*, int64_t, float*);
row_fn fast_row(dtype t) {
  switch (t) {
    case dtype::q4_0:
      return row_blocks32<false>;
    case dtype::q8_0:
      return row_blocks32<true>;
    case dtype::q4_k:
      return row_k<dtype::q4_k>;
    case dtype::q5_k:
      return row_k<dtype::q5_k>;
    case dtype::q6_k:
      return row_k<dtype::q6_k>;
    default:
      return nullptr;
  }
}
#endif

}  // namespace

bool matmul_q8_supported(dtype t) {
  return t == dtype::q4_0 || t == dtype::q8_0 || t == dtype::q4_k || t == dtype::q5_k || t == dtype::q6_k;
}

q8_acts q8_quantize(dtype wtype, const float* x, int64_t T, int64_t N) {
  q8_acts a;
  a.T = T;
  a.N = N;
  a.block = wtype == dtype::q4_0 || wtype == dtype::q8_0 ? 32 : 256;
  const int64_t nb = N / a.block;
  a.q.resize(static_cast<size_t>(T * N));
  a.d.resize(static_cast<size_t>(T * nb));
  a.sum16.resize(static_cast<size_t>(T * (N / 16)));
  for (int64_t t = 0; t < T; ++t) {
    const float* xr = x + t * N;
    int8_t* q = a.q.data() + t * N;
    float* d = a.d.data() + t * nb;
    if (a.block == 32) {
      for (int64_t b = 0; b < nb; ++b) {
        float amax = 0.0f;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(xr[32 * b + j]));
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
    for (int64_t j = 0; j < N / 16; ++j) {
      int32_t s = 0;
      for (int l = 0; l < 16; ++l) s += q[16 * j + l];
      a.sum16[static_cast<size_t>(t * (N / 16) + j)] = s;
    }
  }
  return a;
}

void matmul_q8_ref(const float* x, int64_t T, const weight_view& w, float* y) {
  const q8_acts a = q8_quantize(w.type, x, T, w.cols);
  for (int64_t r = 0; r < w.rows; ++r) row_ref(w.type, w.row(r), a, y + r, w.rows);
}

void matmul_q8(const float* x, int64_t T, const weight_view& w, float* y, int threads) {
  const int64_t M = w.rows, N = w.cols;
  if (T <= 0 || M <= 0) return;
  const q8_acts a = q8_quantize(w.type, x, T, N);
  if (threads <= 0) threads = omp_get_max_threads();
  threads = threads_for(std::max(T, streamed_weight_work) * M * N, threads);
#pragma omp parallel num_threads(threads)
  {
    std::vector<float> acc(static_cast<size_t>(T));  // (T) one row's running sums
#if defined(GB_Q8_AVX512)
    const row_fn f = fast_row(w.type);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < M; ++r) f(w.row(r), a, y + r, M, acc.data());
#else
#pragma omp for schedule(static)
    for (int64_t r = 0; r < M; ++r) row_ref(w.type, w.row(r), a, y + r, M);
#endif
  }
}

}  // namespace gb::engine
