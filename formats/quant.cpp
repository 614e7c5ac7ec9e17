// Element decoding (bit-exact with ggml's scalar dequantize_row_*) and encoders.
//
// Block layouts (ggml-common.h), bytes in order:
//   q4_0 {f16 d; u8 qs[16]}                 q4_1 {f16 d, m; u8 qs[16]}
//   q5_0 {f16 d; u8 qh[4]; u8 qs[16]}       q5_1 {f16 d, m; u8 qh[4]; u8 qs[16]}
//   q8_0 {f16 d; i8 qs[32]}                 q8_1 {f16 d, s; i8 qs[32]}
//   q2_k {u8 scales[16]; u8 qs[64]; f16 d, dmin}
//   q3_k {u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d}
//   q4_k {f16 d, dmin; u8 scales[12]; u8 qs[128]}
//   q5_k {f16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}
//   q6_k {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}
//   q8_k {f32 d; i8 qs[256]; i16 bsums[16]}
// Encoders: q4_0..q8_0 and q8_k follow ggml's quantize_row_*_ref exactly. q2_k..q6_k use a simpler
// one-pass min/max encoder (no iterative scale search): valid blocks for llama.cpp, error within one
// quantisation step, but not byte-identical to ggml's make_qx_quants/make_qkx2_quants search.
#include "formats/quant.h"

// ggml's scalar reference expressions, evaluated as written: no fused multiply-add contraction, so
// results are the same whatever -march says (a*b - c rounded twice, as in ggml's plain C).
#pragma GCC optimize("fp-contract=off")

#include <algorithm>
#include <array>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>

#include "formats/error.h"

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace gb {
namespace {

inline uint16_t rd16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline void wr16(uint8_t* p, uint16_t v) {
  std::memcpy(p, &v, 2);
}
inline float h2f(const uint8_t* p) {
  return fp16_to_f32(rd16(p));
}

template <class T>
void int_row(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, src + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
    dst[i] = static_cast<float>(v);
  }
}

float f8_e4m3_to_f32(uint8_t b) {
  const int s = b >> 7, e = (b >> 3) & 0xF, m = b & 7;
  float v;
  if (e == 15 && m == 7)
    v = std::nanf("");
  else if (e == 0)
    v = std::ldexp(static_cast<float>(m), -9);  // subnormal: m/8 * 2^-6
  else
    v = std::ldexp(1.0f + static_cast<float>(m) / 8.0f, e - 7);
  return s ? -v : v;
}

// ggml's nearest_int: round half to even through the 1.5*2^23 trick (valid for |x| <= 2^22).
inline int nearest_int(float f) {
  float v = f + 12582912.f;
  int i;
  std::memcpy(&i, &v, sizeof i);
  return (i & 0x007fffff) - 0x00400000;
}

// float -> int8 as C's (int8_t) cast for in-range values; NaN becomes 0 instead of undefined behaviour.
inline int trunc_i(float f) {
  return std::isnan(f) ? 0 : static_cast<int>(std::max(-1e6f, std::min(1e6f, f)));
}

// ---- decoders -------------------------------------------------------------------------------------

void dq_q4_0(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 18, y += 32) {
    const float d = h2f(x);
    const uint8_t* qs = x + 2;
    for (int j = 0; j < 16; ++j) {
      y[j] = static_cast<float>((qs[j] & 0x0F) - 8) * d;
      y[j + 16] = static_cast<float>((qs[j] >> 4) - 8) * d;
    }
  }
}

void dq_q4_1(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 20, y += 32) {
    const float d = h2f(x), m = h2f(x + 2);
    const uint8_t* qs = x + 4;
    for (int j = 0; j < 16; ++j) {
      y[j] = static_cast<float>(qs[j] & 0x0F) * d + m;
      y[j + 16] = static_cast<float>(qs[j] >> 4) * d + m;
    }
  }
}

template <bool has_min>
void dq_q5(const uint8_t* x, float* y, int64_t nb) {
  constexpr int bs = has_min ? 24 : 22;
  for (int64_t i = 0; i < nb; ++i, x += bs, y += 32) {
    const float d = h2f(x);
    const float m = has_min ? h2f(x + 2) : 0.0f;
    const uint8_t* p = x + (has_min ? 4 : 2);
    uint32_t qh;
    std::memcpy(&qh, p, 4);
    const uint8_t* qs = p + 4;
    for (int j = 0; j < 16; ++j) {
      const int xh0 = static_cast<int>(((qh >> j) << 4) & 0x10);
      const int xh1 = static_cast<int>((qh >> (j + 12)) & 0x10);
      if constexpr (has_min) {
        y[j] = static_cast<float>((qs[j] & 0x0F) | xh0) * d + m;
        y[j + 16] = static_cast<float>((qs[j] >> 4) | xh1) * d + m;
      } else {
        y[j] = static_cast<float>(((qs[j] & 0x0F) | xh0) - 16) * d;
        y[j + 16] = static_cast<float>(((qs[j] >> 4) | xh1) - 16) * d;
      }
    }
  }
}

template <int bs>
void dq_q8(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += bs, y += 32) {
    const float d = h2f(x);
    const int8_t* qs = reinterpret_cast<const int8_t*>(x + (bs - 32));
    for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(qs[j]) * d;
  }
}

void dq_q2_k(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 84) {
    const uint8_t* sc = x;
    const uint8_t* q = x + 16;
    const float d = h2f(x + 80), mn = h2f(x + 82);
    int is = 0;
    for (int n = 0; n < 256; n += 128) {
      int shift = 0;
      for (int j = 0; j < 4; ++j) {
        for (int h = 0; h < 2; ++h) {
          const uint8_t s = sc[is++];
          const float dl = d * static_cast<float>(s & 0xF), ml = mn * static_cast<float>(s >> 4);
          for (int l = 0; l < 16; ++l) *y++ = dl * static_cast<float>((q[l + 16 * h] >> shift) & 3) - ml;
        }
        shift += 2;
      }
      q += 32;
    }
  }
}

void dq_q3_k(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 110) {
    const uint8_t* hm = x;
    const uint8_t* q = x + 32;
    const float d_all = h2f(x + 108);
    int8_t scales[16];
    q3_k_scales(x, scales);
    int is = 0;
    uint8_t m = 1;
    for (int n = 0; n < 256; n += 128) {
      int shift = 0;
      for (int j = 0; j < 4; ++j) {
        for (int h = 0; h < 2; ++h) {
          const float dl = d_all * static_cast<float>(scales[is++] - 32);
          for (int l = 0; l < 16; ++l) {
            const int k = l + 16 * h;
            *y++ = dl * static_cast<float>(((q[k] >> shift) & 3) - ((hm[k] & m) ? 0 : 4));
          }
        }
        shift += 2;
        m = static_cast<uint8_t>(m << 1);
      }
      q += 32;
    }
  }
}

// Scale and min of sub-blocks is and is + 1 of a q4_k/q5_k super-block (super scales d, mn).
inline void k4_scale_pair(const uint8_t* scales, int is, float d, float mn, float* d1, float* m1, float* d2,
                          float* m2) {
  uint8_t sc, m;
  scale_min_k4(is, scales, &sc, &m);
  *d1 = d * static_cast<float>(sc);
  *m1 = mn * static_cast<float>(m);
  scale_min_k4(is + 1, scales, &sc, &m);
  *d2 = d * static_cast<float>(sc);
  *m2 = mn * static_cast<float>(m);
}

void dq_q4_k(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 144) {
    const float d = h2f(x), mn = h2f(x + 2);
    const uint8_t* scales = x + 4;
    const uint8_t* q = x + 16;
    int is = 0;
    for (int j = 0; j < 256; j += 64) {
      float d1, m1, d2, m2;
      k4_scale_pair(scales, is, d, mn, &d1, &m1, &d2, &m2);
      for (int l = 0; l < 32; ++l) y[l] = d1 * static_cast<float>(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) y[l + 32] = d2 * static_cast<float>(q[l] >> 4) - m2;
      y += 64;
      q += 32;
      is += 2;
    }
  }
}

void dq_q5_k(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 176) {
    const float d = h2f(x), mn = h2f(x + 2);
    const uint8_t* scales = x + 4;
    const uint8_t* qh = x + 16;
    const uint8_t* ql = x + 48;
    int is = 0;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < 256; j += 64) {
      float d1, m1, d2, m2;
      k4_scale_pair(scales, is, d, mn, &d1, &m1, &d2, &m2);
      for (int l = 0; l < 32; ++l)
        y[l] = d1 * static_cast<float>((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l)
        y[l + 32] = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
      y += 64;
      ql += 32;
      is += 2;
      u1 = static_cast<uint8_t>(u1 << 2);
      u2 = static_cast<uint8_t>(u2 << 2);
    }
  }
}

void dq_q6_k(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 210) {
    const uint8_t* ql = x;
    const uint8_t* qh = x + 128;
    const int8_t* sc = reinterpret_cast<const int8_t*>(x + 192);
    const float d = h2f(x + 208);
    for (int n = 0; n < 256; n += 128) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l + 0] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
        y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
      y += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
}

void dq_q8_k(const uint8_t* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 292, y += 256) {
    float d;
    std::memcpy(&d, x, 4);
    const int8_t* qs = reinterpret_cast<const int8_t*>(x + 4);
    for (int j = 0; j < 256; ++j) y[j] = d * static_cast<float>(qs[j]);
  }
}

void dq_f16(const uint8_t* src, float* dst, int64_t n) {
  int64_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
#endif
  for (; i < n; ++i) dst[i] = fp16_to_f32(rd16(src + 2 * i));
}

void dq_bf16(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t u = static_cast<uint32_t>(rd16(src + 2 * i)) << 16;
    std::memcpy(dst + i, &u, 4);
  }
}

void dq_f32(const uint8_t* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * 4);
}

void dq_f64(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    double v;
    std::memcpy(&v, src + 8 * i, 8);
    dst[i] = static_cast<float>(v);
  }
}

void dq_f8_e4m3(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = f8_e4m3_to_f32(src[i]);
}

void dq_f8_e5m2(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(static_cast<uint16_t>(src[i] << 8));
}

void dq_bool(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i] ? 1.0f : 0.0f;
}

// ---- encoders -------------------------------------------------------------------------------------

// The element of largest magnitude (the first on ties), as ggml's reference encoders pick it.
float signed_abs_max(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j)
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  return max;
}

void min_max(const float* x, int n, float* lo, float* hi) {
  *lo = FLT_MAX;
  *hi = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    if (x[j] < *lo) *lo = x[j];
    if (x[j] > *hi) *hi = x[j];
  }
}

// Block header of the symmetric 32-element encoders: d = max / -levels_below_zero stored as fp16; returns
// 1/d.
float sym_header(const float* x, float neg_levels, uint8_t* y) {
  const float d = signed_abs_max(x, 32) / -neg_levels;
  wr16(y, f32_to_fp16(d));
  return d != 0.0f ? 1.0f / d : 0.0f;
}

// Block header of the min/scale 32-element encoders: d = (max - min) / levels and m = min as fp16;
// returns 1/d and the min.
float min_header(const float* x, float levels, uint8_t* y, float* min) {
  float max;
  min_max(x, 32, min, &max);
  const float d = (max - *min) / levels;
  wr16(y, f32_to_fp16(d));
  wr16(y + 2, f32_to_fp16(*min));
  return d != 0.0f ? 1.0f / d : 0.0f;
}

// fp16 of v, nudged up by one ulp when rounding made it smaller (so scales still cover the range).
uint16_t f16_at_least(float v) {
  uint16_t h = f32_to_fp16(v);
  if (v > 0 && fp16_to_f32(h) < v && (h & 0x7C00) != 0x7C00) ++h;
  return h;
}

void q_q4_0(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 32, y += 18) {
    const float id = sym_header(x, 8, y);
    for (int j = 0; j < 16; ++j) {
      const int xi0 = std::min(15, static_cast<int>(static_cast<int8_t>(trunc_i(x[j] * id + 8.5f))));
      const int xi1 = std::min(15, static_cast<int>(static_cast<int8_t>(trunc_i(x[j + 16] * id + 8.5f))));
      y[2 + j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
    }
  }
}

void q_q4_1(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 32, y += 20) {
    float min;
    const float id = min_header(x, (1 << 4) - 1, y, &min);
    for (int j = 0; j < 16; ++j) {
      const int xi0 = std::min(15, static_cast<int>(static_cast<int8_t>(trunc_i((x[j] - min) * id + 0.5f))));
      const int xi1 =
          std::min(15, static_cast<int>(static_cast<int8_t>(trunc_i((x[j + 16] - min) * id + 0.5f))));
      y[4 + j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
    }
  }
}

void q_q5_0(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 32, y += 22) {
    const float id = sym_header(x, 16, y);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      const int xi0 = std::min(31, static_cast<int>(static_cast<int8_t>(trunc_i(x[j] * id + 16.5f))));
      const int xi1 = std::min(31, static_cast<int>(static_cast<int8_t>(trunc_i(x[j + 16] * id + 16.5f))));
      y[6 + j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
      qh |= ((static_cast<uint32_t>(xi0) & 0x10u) >> 4) << (j + 0);
      qh |= ((static_cast<uint32_t>(xi1) & 0x10u) >> 4) << (j + 16);
    }
    std::memcpy(y + 2, &qh, 4);
  }
}

void q_q5_1(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 32, y += 24) {
    float min;
    const float id = min_header(x, (1 << 5) - 1, y, &min);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      const uint32_t xi0 = static_cast<uint8_t>(trunc_i((x[j] - min) * id + 0.5f));
      const uint32_t xi1 = static_cast<uint8_t>(trunc_i((x[j + 16] - min) * id + 0.5f));
      y[8 + j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
      qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
      qh |= ((xi1 & 0x10u) >> 4) << (j + 16);
    }
    std::memcpy(y + 4, &qh, 4);
  }
}

void q_q8_0(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 32, y += 34) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / ((1 << 7) - 1);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    wr16(y, f32_to_fp16(d));
    for (int j = 0; j < 32; ++j) {
      const float v = x[j] * id;
      y[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(std::isnan(v) ? 0.0f : std::round(v)));
    }
  }
}

void q_q8_k(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 256, y += 292) {
    const float max = signed_abs_max(x, 256);
    std::memset(y, 0, 292);
    if (max == 0.0f) continue;
    const float iscale = -127.f / max;
    int8_t* qs = reinterpret_cast<int8_t*>(y + 4);
    for (int j = 0; j < 256; ++j) qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * x[j])));
    for (int j = 0; j < 16; ++j) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += qs[j * 16 + l];
      const int16_t s16 = static_cast<int16_t>(sum);
      std::memcpy(y + 260 + 2 * j, &s16, 2);
    }
    const float d = 1 / iscale;
    std::memcpy(y, &d, 4);
  }
}

// Sub-block (scale, min) for the asymmetric K types: x ~= scale * q - min with q in [0, qmax].
void sub_scale_min(const float* x, int n, int qmax, float* scale, float* min) {
  float lo = 0.0f, hi = 0.0f;  // the range always includes 0, as in ggml (mins are subtracted, >= 0)
  for (int l = 0; l < n; ++l) {
    lo = std::min(lo, x[l]);
    hi = std::max(hi, x[l]);
  }
  *min = -lo;
  *scale = (hi - lo) / static_cast<float>(qmax);
}

// Quantises a non-negative value to [0, qmax] steps of `unit`, rounding up so the range stays covered.
inline int ceil_steps(float v, float unit, int qmax) {
  if (unit <= 0.0f || v <= 0.0f) return 0;
  return std::min(qmax, static_cast<int>(std::ceil(v / unit - 1e-6f)));
}

inline int clamp_q(float v, int lo, int hi) {
  if (std::isnan(v)) return lo;
  return std::clamp(nearest_int(std::clamp(v, -4e6f, 4e6f)), lo, hi);
}

// q2_k (qmax 3, 16 sub-blocks of 16, 4-bit scale/min) and q4_k/q5_k (qmax 15/31, 8 sub-blocks of 32,
// 6-bit scale/min). Fills q[256] with levels and returns the super-block d/dmin and per-sub-block codes.
void encode_asym(const float* x, int sub, int qmax, int code_max, uint16_t* d16, uint16_t* dmin16,
                 uint8_t* sc, uint8_t* mc, uint8_t* q) {
  const int ns = 256 / sub;
  float scales[16], mins[16];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < ns; ++j) {
    sub_scale_min(x + j * sub, sub, qmax, &scales[j], &mins[j]);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  *d16 = f16_at_least(max_scale / static_cast<float>(code_max));
  *dmin16 = f16_at_least(max_min / static_cast<float>(code_max));
  const float d = fp16_to_f32(*d16), dmin = fp16_to_f32(*dmin16);
  for (int j = 0; j < ns; ++j) {
    sc[j] = static_cast<uint8_t>(ceil_steps(scales[j], d, code_max));
    mc[j] = static_cast<uint8_t>(ceil_steps(mins[j], dmin, code_max));
    const float dl = d * static_cast<float>(sc[j]), ml = dmin * static_cast<float>(mc[j]);
    for (int l = 0; l < sub; ++l) {
      const float v = x[j * sub + l];
      q[j * sub + l] = static_cast<uint8_t>(dl > 0 ? clamp_q((v + ml) / dl, 0, qmax) : 0);
    }
  }
}

// q3_k (q in [-4, 3], 6-bit signed scales) and q6_k (q in [-32, 31], 8-bit signed scales): symmetric.
void encode_sym(const float* x, int qneg, int qpos, int code_max, uint16_t* d16, int* sc, int* q) {
  float s[16];
  float max_abs = 0;
  for (int j = 0; j < 16; ++j) {
    const float max = signed_abs_max(x + j * 16, 16);
    s[j] = max / static_cast<float>(-qneg);  // the extreme value lands on the most negative level
    max_abs = std::max(max_abs, std::fabs(s[j]));
  }
  *d16 = f32_to_fp16(max_abs / static_cast<float>(code_max));
  const float d = fp16_to_f32(*d16);
  for (int j = 0; j < 16; ++j) {
    sc[j] = d > 0 ? clamp_q(s[j] / d, -code_max, code_max) : 0;
    const float dl = d * static_cast<float>(sc[j]);
    for (int l = 0; l < 16; ++l) q[j * 16 + l] = dl != 0 ? clamp_q(x[j * 16 + l] / dl, -qneg, qpos) : 0;
  }
}

void q_q2_k(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 256, y += 84) {
    uint16_t d, dmin;
    uint8_t sc[16], mc[16], q[256];
    encode_asym(x, 16, 3, 15, &d, &dmin, sc, mc, q);
    std::memset(y, 0, 84);
    for (int j = 0; j < 16; ++j) y[j] = static_cast<uint8_t>(sc[j] | (mc[j] << 4));
    // element e = 128n + 32j + 16h + l sits in qs[32n + 16h + l] at bits 2j
    for (int e = 0; e < 256; ++e) {
      const int n = e / 128, j = (e % 128) / 32, r = e % 32;
      y[16 + 32 * n + r] |= static_cast<uint8_t>(q[e] << (2 * j));
    }
    wr16(y + 80, d);
    wr16(y + 82, dmin);
  }
}

void pack_k4_scales(const uint8_t* sc, const uint8_t* mc, uint8_t* out) {
  for (int j = 0; j < 4; ++j) {
    out[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    out[j + 4] = static_cast<uint8_t>((mc[j] & 63) | ((mc[j + 4] >> 4) << 6));
    out[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0xF) | ((mc[j + 4] & 0xF) << 4));
  }
}

// q4_k/q5_k (levels 0..qmax): encodes a super-block's header (d, dmin, 12 packed scale bytes) into y and
// its 256 levels into q.
void encode_k4_head(const float* x, int qmax, uint8_t* y, uint8_t* q) {
  uint16_t d, dmin;
  uint8_t sc[8], mc[8];
  encode_asym(x, 32, qmax, 63, &d, &dmin, sc, mc, q);
  wr16(y, d);
  wr16(y + 2, dmin);
  pack_k4_scales(sc, mc, y + 4);
}

void q_q4_k(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 256, y += 144) {
    uint8_t q[256];
    encode_k4_head(x, 15, y, q);
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l)
        y[16 + 32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
  }
}

void q_q5_k(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 256, y += 176) {
    uint8_t q[256];
    encode_k4_head(x, 31, y, q);
    uint8_t* qh = y + 16;
    uint8_t* ql = y + 48;
    std::memset(qh, 0, 32);
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) {
        const int a = q[64 * c + l], b = q[64 * c + 32 + l];
        ql[32 * c + l] = static_cast<uint8_t>((a & 0xF) | ((b & 0xF) << 4));
        qh[l] |= static_cast<uint8_t>(((a >> 4) << (2 * c)) | ((b >> 4) << (2 * c + 1)));
      }
  }
}

void q_q3_k(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 256, y += 110) {
    uint16_t d;
    int sc[16], q[256];
    encode_sym(x, 4, 3, 31, &d, sc, q);
    std::memset(y, 0, 110);
    uint8_t* hm = y;
    uint8_t* qs = y + 32;
    for (int e = 0; e < 256; ++e) {
      const int u = q[e] + 4;  // 0..7: low two bits in qs, the third in hmask
      const int n = e / 128, j = (e % 128) / 32, r = e % 32;
      qs[32 * n + r] |= static_cast<uint8_t>((u & 3) << (2 * j));
      if (u & 4) hm[r] |= static_cast<uint8_t>(1u << (4 * n + j));
    }
    uint8_t s[16];
    for (int j = 0; j < 16; ++j) s[j] = static_cast<uint8_t>(sc[j] + 32);
    uint8_t* o = y + 96;
    for (int k = 0; k < 4; ++k) {
      o[k] = static_cast<uint8_t>((s[k] & 0xF) | ((s[8 + k] & 0xF) << 4));
      o[4 + k] = static_cast<uint8_t>((s[4 + k] & 0xF) | ((s[12 + k] & 0xF) << 4));
      o[8 + k] = static_cast<uint8_t>((s[k] >> 4) | ((s[4 + k] >> 4) << 2) | ((s[8 + k] >> 4) << 4) |
                                      ((s[12 + k] >> 4) << 6));
    }
    wr16(y + 108, d);
  }
}

void q_q6_k(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 256, y += 210) {
    uint16_t d;
    int sc[16], q[256];
    encode_sym(x, 32, 31, 127, &d, sc, q);
    uint8_t* ql = y;
    uint8_t* qh = y + 128;
    for (int n = 0; n < 2; ++n)
      for (int l = 0; l < 32; ++l) {
        const int base = 128 * n;
        const int q1 = q[base + l] + 32, q2 = q[base + 32 + l] + 32, q3 = q[base + 64 + l] + 32,
                  q4 = q[base + 96 + l] + 32;
        ql[64 * n + l] = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
        ql[64 * n + 32 + l] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
        qh[32 * n + l] =
            static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
      }
    for (int j = 0; j < 16; ++j) y[192 + j] = static_cast<uint8_t>(static_cast<int8_t>(sc[j]));
    wr16(y + 208, d);
  }
}

void q_f32(const float* x, uint8_t* y, int64_t n) {
  std::memcpy(y, x, static_cast<size_t>(n) * 4);
}

void q_f16(const float* x, uint8_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) wr16(y + 2 * i, f32_to_fp16(x[i]));
}

void q_bf16(const float* x, uint8_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) wr16(y + 2 * i, f32_to_bf16(x[i]));
}

// ---- one row of the codec table per dtype -------------------------------------------------------------

// Both take a count of blocks (of elements for the plain types, whose block size is 1).
using decode_fn = void (*)(const uint8_t* src, float* dst, int64_t nb);
using encode_fn = void (*)(const float* src, uint8_t* dst, int64_t nb);
struct codec {
  decode_fn decode = nullptr;  // nullptr: not decodable
  encode_fn encode = nullptr;  // nullptr: not encodable
};

constexpr size_t codec_index(dtype t) {
  return static_cast<size_t>(t);
}

constexpr std::array<codec, codec_index(dtype::count_)> codec_table() {
  std::array<codec, codec_index(dtype::count_)> c{};
  c[codec_index(dtype::f32)] = {dq_f32, q_f32};
  c[codec_index(dtype::f16)] = {dq_f16, q_f16};
  c[codec_index(dtype::bf16)] = {dq_bf16, q_bf16};
  c[codec_index(dtype::f64)] = {dq_f64, nullptr};
  c[codec_index(dtype::f8_e4m3)] = {dq_f8_e4m3, nullptr};
  c[codec_index(dtype::f8_e5m2)] = {dq_f8_e5m2, nullptr};
  c[codec_index(dtype::i8)] = {int_row<int8_t>, nullptr};
  c[codec_index(dtype::i16)] = {int_row<int16_t>, nullptr};
  c[codec_index(dtype::i32)] = {int_row<int32_t>, nullptr};
  c[codec_index(dtype::i64)] = {int_row<int64_t>, nullptr};
  c[codec_index(dtype::u8)] = {int_row<uint8_t>, nullptr};
  c[codec_index(dtype::u16)] = {int_row<uint16_t>, nullptr};
  c[codec_index(dtype::u32)] = {int_row<uint32_t>, nullptr};
  c[codec_index(dtype::u64)] = {int_row<uint64_t>, nullptr};
  c[codec_index(dtype::boolean)] = {dq_bool, nullptr};
  c[codec_index(dtype::q4_0)] = {dq_q4_0, q_q4_0};
  c[codec_index(dtype::q4_1)] = {dq_q4_1, q_q4_1};
  c[codec_index(dtype::q5_0)] = {dq_q5<false>, q_q5_0};
  c[codec_index(dtype::q5_1)] = {dq_q5<true>, q_q5_1};
  c[codec_index(dtype::q8_0)] = {dq_q8<34>, q_q8_0};
  c[codec_index(dtype::q8_1)] = {dq_q8<36>, nullptr};
  c[codec_index(dtype::q2_k)] = {dq_q2_k, q_q2_k};
  c[codec_index(dtype::q3_k)] = {dq_q3_k, q_q3_k};
  c[codec_index(dtype::q4_k)] = {dq_q4_k, q_q4_k};
  c[codec_index(dtype::q5_k)] = {dq_q5_k, q_q5_k};
  c[codec_index(dtype::q6_k)] = {dq_q6_k, q_q6_k};
  c[codec_index(dtype::q8_k)] = {dq_q8_k, q_q8_k};
  return c;
}
constexpr std::array<codec, codec_index(dtype::count_)> kCodecs = codec_table();

const codec& codec_of(dtype t) {
  static constexpr codec none{};
  return codec_index(t) < kCodecs.size() ? kCodecs[codec_index(t)] : none;
}

int64_t blocks(dtype t, int64_t n) {
  const dtype_traits& tr = dtype_info(t);
  if (n < 0 || n % tr.block_size != 0)
    fail(errc::bad_value, 0,
         std::to_string(n) + " elements is not a multiple of the " + tr.name + " block size " +
             std::to_string(tr.block_size));
  return n / tr.block_size;
}

}  // namespace

void q3_k_scales(const uint8_t* block, int8_t* scales) {
  constexpr uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
  uint32_t aux[4];
  std::memcpy(aux, block + 96, 12);
  const uint32_t tmp = aux[2];
  aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
  aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
  aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
  aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
  std::memcpy(scales, aux, 16);
}

void scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

float fp16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1F, man = h & 0x3FF;
  uint32_t bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (man << 13);  // inf / nan (payload kept, quietened as F16C does)
    if (man) bits |= 0x00400000u;
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    int e = -1;
    uint32_t m = man;
    do {
      ++e;
      m <<= 1;
    } while ((m & 0x400) == 0);
    bits = sign | (static_cast<uint32_t>(112 - e) << 23) | ((m & 0x3FF) << 13);
  }
  return std::bit_cast<float>(bits);
}

uint16_t f32_to_fp16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t exp = (x >> 23) & 0xFF, man = x & 0x7FFFFF;
  if (exp == 0xFF) {
    if (man == 0) return sign | 0x7C00;
    return static_cast<uint16_t>(sign | 0x7C00 | 0x200 | (man >> 13));  // quiet NaN, top payload bits kept
  }
  const int e = static_cast<int>(exp) - 127 + 15;
  if (e >= 31) return sign | 0x7C00;  // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign;           // below half the smallest subnormal -> +-0
    const uint32_t m = man | 0x800000;  // implicit bit
    const int shift = 14 - e;           // 24-bit mantissa -> subnormal 10-bit field
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1))) ++r;
    return static_cast<uint16_t>(sign | r);
  }
  uint32_t r = (static_cast<uint32_t>(e) << 10) | (man >> 13);
  const uint32_t rem = man & 0x1FFF;
  if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) ++r;  // may carry into the exponent (and to inf): correct
  return static_cast<uint16_t>(sign | r);
}

float bf16_to_f32(uint16_t h) {
  return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
}

uint16_t f32_to_bf16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((u >> 16) | 64);  // quiet NaN
  return static_cast<uint16_t>((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

void dequantize_row(dtype t, const uint8_t* src, float* dst, int64_t n) {
  const int64_t nb = blocks(t, n);
  const codec& c = codec_of(t);
  if (!c.decode) fail(errc::unsupported, 0, std::string("cannot decode dtype ") + dtype_name(t));
  if (n != 0) c.decode(src, dst, nb);
}

bool can_quantize(dtype t) {
  return codec_of(t).encode != nullptr;
}

std::vector<uint8_t> quantize_row(dtype t, const float* src, int64_t n) {
  const codec& c = codec_of(t);
  if (!c.encode) fail(errc::unsupported, 0, std::string("cannot encode dtype ") + dtype_name(t));
  const int64_t nb = blocks(t, n);
  std::vector<uint8_t> out(static_cast<size_t>(nb) * dtype_info(t).type_size);
  if (n != 0) c.encode(src, out.data(), nb);
  return out;
}

}  // namespace gb
