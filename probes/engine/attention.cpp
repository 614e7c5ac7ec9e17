// probes/engine/attention.cpp: attention scores and weighted sums in a fixed order (see attention.h).
#include "probes/engine/attention.h"

// GCC 12 reports false maybe-uninitialized warnings inside its AVX-512 intrinsics (masked loads).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "probes/engine/const_dispatch.h"

namespace gb::engine {
namespace {
// Attention of one query head against n keys, in an order fixed by the row's own inputs: each score is one
// dot product (16-lane FMA chains over the head dimension, then a fixed lane-reduction tree), softmax is
// kernels' fixed-block one, and out = sum_i p_i v_i accumulates in key order. So a query gives the same
// bits whichever chunk, batch, trie or cache position it comes from (a continuation after a shared prefix
// equals the full pass, a packed row equals its sequence alone). key(i) / val(i): pointer to key / value i.
#if defined(__AVX512F__)
// Scores go 16 keys at a time. Key i's 16 lane sums (one FMA chain per lane over the head dimension, from
// zero) are reduced by the pairing (l, l+8), (l, l+4), (l, l+2), (l, l+1), done for 16 keys at once with
// shuffles: each stage adds two vectors lane by lane, so every key's sum is the same tree of the same
// additions whatever block, position or batch it is computed in. A block tree takes slot 4r+c = key 4c+r
// so that its output lane k is key k.
constexpr int key_of_slot[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15};

// Slots a, b (16 lanes each) -> lanes 0-7: a's pairs (l, l+8); 8-15: b's.
[[gnu::always_inline]] inline __m512 tree1(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
}
// Two tree1 outputs (slots s..s+3) -> quarter j: slot s+j's pairs (l, l+4).
[[gnu::always_inline]] inline __m512 tree2(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x88), _mm512_shuffle_f32x4(a, b, 0xDD));
}
// Two tree2 outputs (slots s..s+7) -> quarter j: slot s+j's pairs (l, l+2), then slot s+4+j's.
[[gnu::always_inline]] inline __m512 tree3(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x44), _mm512_shuffle_ps(a, b, 0xEE));
}
// Two tree3 outputs (slots 0-7, 8-15) -> lane 4j+r: slot 4r+j's final pair (0, 1).
[[gnu::always_inline]] inline __m512 tree4(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xDD));
}

// Scores of keys [j0, j0 + m) (m <= 16) against q: C chunks of 16 in registers qv, or (C == 0, heads over
// 128) c chunks read from qh. The 16 slots' chains go chunk by chunk, so independent FMAs follow each other.
// Slots past m repeat key j0 + m - 1; their lanes are not stored (the tree adds lanes of one key only).
template <int C, class KeyAt>
[[gnu::always_inline]] inline __m512 key_block(const __m512* qv, const float* qh, int64_t c, __mmask16 last,
                                               KeyAt& key, int64_t j0, int64_t m) {
  const int64_t nc = C > 0 ? C : c;
  const float* kp[16];
  for (int s = 0; s < 16; ++s) kp[s] = key(j0 + std::min<int64_t>(key_of_slot[s], m - 1));
  __m512 a[16];
  for (int s = 0; s < 16; ++s) a[s] = _mm512_setzero_ps();
  for (int64_t i = 0; i < nc; ++i) {
    const __mmask16 mk = i + 1 == nc ? last : static_cast<__mmask16>(0xFFFF);
    const __m512 qi = C > 0 ? qv[i] : _mm512_maskz_loadu_ps(mk, qh + 16 * i);
    for (int s = 0; s < 16; ++s) a[s] = _mm512_fmadd_ps(qi, _mm512_maskz_loadu_ps(mk, kp[s] + 16 * i), a[s]);
  }
  return tree4(
      tree3(tree2(tree1(a[0], a[1]), tree1(a[2], a[3])), tree2(tree1(a[4], a[5]), tree1(a[6], a[7]))),
      tree3(tree2(tree1(a[8], a[9]), tree1(a[10], a[11])), tree2(tree1(a[12], a[13]), tree1(a[14], a[15]))));
}

// Rows [0, R) of a query tile: row r (query q + r * ldq) scores keys [0, n[r]) into s + r * lds. Key blocks
// outside, rows inside, so a block's keys are read from memory once per tile and from L1 by the other rows.
template <int C, class KeyAt>
void score_blocks(int64_t R, const float* q, int64_t ldq, const int64_t* n, int64_t E, KeyAt& key,
                  float scale, float slope, float* s, int64_t lds) {
  const int64_t c = (E + 15) / 16;
  const __mmask16 last = static_cast<__mmask16>(E % 16 ? (1u << (E % 16)) - 1 : 0xFFFF);
  const __m512 sv = _mm512_set1_ps(scale), av = _mm512_set1_ps(slope);
  const __m512 lane = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const int64_t nmax = *std::max_element(n, n + R);
  for (int64_t j0 = 0; j0 < nmax; j0 += 16)
    for (int64_t r = 0; r < R; ++r) {
      if (j0 >= n[r]) continue;
      const float* qh = q + r * ldq;
      __m512 qv[C > 0 ? C : 1];
      for (int i = 0; i < C; ++i)
        qv[i] = _mm512_maskz_loadu_ps(i + 1 == C ? last : static_cast<__mmask16>(0xFFFF), qh + 16 * i);
      const int64_t m = std::min<int64_t>(16, n[r] - j0);
      __m512 v = _mm512_mul_ps(key_block<C>(qv, qh, c, last, key, j0, m), sv);
      if (slope != 0.0f)  // ALiBi: + slope * key position
        v = _mm512_add_ps(v, _mm512_mul_ps(av, _mm512_add_ps(_mm512_set1_ps(static_cast<float>(j0)), lane)));
      _mm512_mask_storeu_ps(s + r * lds + j0, static_cast<__mmask16>(m == 16 ? 0xFFFF : (1u << m) - 1), v);
    }
}
#endif

// Scores of R query rows of one head (row r: query q + r * ldq, keys [0, n[r])) into s + r * lds, each the
// scaled fixed-order dot product (plus the ALiBi bias slope * key position when slope != 0).
template <class KeyAt>
void score_rows_t(int64_t R, const float* q, int64_t ldq, const int64_t* n, int64_t E, KeyAt key, float scale,
                  float slope, float* s, int64_t lds) {
#if defined(__AVX512F__)
  const auto blocks = [&](auto b) {
    score_blocks<decltype(b)::value>(R, q, ldq, n, E, key, scale, slope, s, lds);
  };
  if (!const_dispatch<8>((E + 15) / 16, blocks)) blocks(std::integral_constant<int, 0>{});  // E > 128
#else
  for (int64_t r = 0; r < R; ++r)
    for (int64_t i = 0; i < n[r]; ++i) {
      const float* qh = q + r * ldq;
      const float* k = key(i);
      float lane[8] = {};
      for (int64_t e = 0; e < E; ++e) lane[e % 8] += qh[e] * k[e];
      float& v = s[r * lds + i];
      v = (((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]))) * scale;
      if (slope != 0.0f) v += slope * static_cast<float>(i);
    }
#endif
}

#if defined(__AVX512F__)
// Four rows, elements [e0, e0 + 64) under masks m: o_r += p_r[i] v_i for keys [i0, i1) in key order, the
// 16 partial-sum vectors in registers (named: GCC keeps arrays of vectors in memory, one store per FMA).
template <class ValAt>
[[gnu::noinline]] void weigh4(const float* p, int64_t ldp, int64_t i0, int64_t i1, int64_t e0,
                              const __mmask16* m, ValAt& val, float* o, int64_t ldo) {
  const __mmask16 m0 = m[0], m1 = m[1], m2 = m[2], m3 = m[3];
#define GB_LD(r, j) _mm512_maskz_loadu_ps(m##j, o + (r)*ldo + 16 * (j))
  __m512 a00 = GB_LD(0, 0), a01 = GB_LD(0, 1), a02 = GB_LD(0, 2), a03 = GB_LD(0, 3);
  __m512 a10 = GB_LD(1, 0), a11 = GB_LD(1, 1), a12 = GB_LD(1, 2), a13 = GB_LD(1, 3);
  __m512 a20 = GB_LD(2, 0), a21 = GB_LD(2, 1), a22 = GB_LD(2, 2), a23 = GB_LD(2, 3);
  __m512 a30 = GB_LD(3, 0), a31 = GB_LD(3, 1), a32 = GB_LD(3, 2), a33 = GB_LD(3, 3);
#undef GB_LD
  for (int64_t i = i0; i < i1; ++i) {
    const float* vi = val(i) + e0;
    const __m512 v0 = _mm512_maskz_loadu_ps(m0, vi), v1 = _mm512_maskz_loadu_ps(m1, vi + 16);
    const __m512 v2 = _mm512_maskz_loadu_ps(m2, vi + 32), v3 = _mm512_maskz_loadu_ps(m3, vi + 48);
#define GB_ROW(r)                                    \
  {                                                  \
    const __m512 w = _mm512_set1_ps(p[(r)*ldp + i]); \
    a##r##0 = _mm512_fmadd_ps(w, v0, a##r##0);       \
    a##r##1 = _mm512_fmadd_ps(w, v1, a##r##1);       \
    a##r##2 = _mm512_fmadd_ps(w, v2, a##r##2);       \
    a##r##3 = _mm512_fmadd_ps(w, v3, a##r##3);       \
  }
    GB_ROW(0) GB_ROW(1) GB_ROW(2) GB_ROW(3)
#undef GB_ROW
  }
#define GB_ST(r, j) _mm512_mask_storeu_ps(o + (r)*ldo + 16 * (j), m##j, a##r##j)
  GB_ST(0, 0), GB_ST(0, 1), GB_ST(0, 2), GB_ST(0, 3), GB_ST(1, 0), GB_ST(1, 1), GB_ST(1, 2), GB_ST(1, 3);
  GB_ST(2, 0), GB_ST(2, 1), GB_ST(2, 2), GB_ST(2, 3), GB_ST(3, 0), GB_ST(3, 1), GB_ST(3, 2), GB_ST(3, 3);
#undef GB_ST
}
#endif

// out_r = sum_{i < n[r]} p_r[i] v_i for R rows (p_r = p + r * ldp, out_r = out + r * ldo), each element
// summed in key order from zero. Blocks of keys outside (a block's values stay in L1 across the tile), groups
// of four rows inside sharing each value load; partial sums wait in out between blocks (a float stored and
// reloaded is unchanged, so the order per element is the plain key order).
template <class ValAt>
void weigh_rows_t(int64_t R, const float* p, int64_t ldp, const int64_t* n, int64_t E, ValAt val, float* out,
                  int64_t ldo) {
#if defined(__AVX512F__)
  constexpr int64_t key_block_len = 64, group = 4;
  const int64_t nmax = *std::max_element(n, n + R);
  for (int64_t e0 = 0; e0 < E; e0 += 64) {
    __mmask16 m[4];
    for (int j = 0; j < 4; ++j) {
      const int64_t left = E - e0 - 16 * j;
      m[j] = static_cast<__mmask16>(left >= 16 ? 0xFFFF : left <= 0 ? 0 : (1u << left) - 1);
    }
    for (int64_t r = 0; r < R; ++r)  // partial sums live in out: from zero
      for (int j = 0; j < 4; ++j)
        _mm512_mask_storeu_ps(out + r * ldo + e0 + 16 * j, m[j], _mm512_setzero_ps());
    for (int64_t b0 = 0; b0 < nmax; b0 += key_block_len) {
      const int64_t b1 = std::min(nmax, b0 + key_block_len);
      for (int64_t r0 = 0; r0 < R; r0 += group) {
        const int64_t g = std::min(group, R - r0);
        int64_t i = b0;
        if (g == group) {  // keys every row of the group sees, four rows at once
          const int64_t lo = std::min(b1, *std::min_element(n + r0, n + r0 + group));
          if (lo > b0) weigh4(p + r0 * ldp, ldp, b0, lo, e0, m, val, out + r0 * ldo + e0, ldo);
          i = std::max(i, lo);
        }
        for (int64_t r = r0; r < r0 + g; ++r) {  // the rest row by row, each stopping at its own n
          float* o = out + r * ldo + e0;
          __m512 a[4];
          for (int j = 0; j < 4; ++j) a[j] = _mm512_maskz_loadu_ps(m[j], o + 16 * j);
          for (int64_t k = i; k < std::min(b1, n[r]); ++k) {
            const float* vk = val(k) + e0;
            const __m512 w = _mm512_set1_ps(p[r * ldp + k]);
            for (int j = 0; j < 4; ++j)
              a[j] = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(m[j], vk + 16 * j), a[j]);
          }
          for (int j = 0; j < 4; ++j) _mm512_mask_storeu_ps(o + 16 * j, m[j], a[j]);
        }
      }
    }
  }
#else
  for (int64_t r = 0; r < R; ++r) {
    float* o = out + r * ldo;
    std::fill(o, o + E, 0.0f);
    for (int64_t i = 0; i < n[r]; ++i) {
      const float* vi = val(i);
      for (int64_t e = 0; e < E; ++e) o[e] += p[r * ldp + i] * vi[e];
    }
  }
#endif
}
}  // namespace

void attention_scores(int64_t R, const float* q, int64_t ldq, const int64_t* n, int64_t E,
                      const kv_rows& keys, float scale, float slope, float* s, int64_t lds) {
  // one instantiation per addressing, so the causal pass's keys are a multiply-add as before
  if (keys.index)
    score_rows_t(
        R, q, ldq, n, E, [&](int64_t i) { return keys.base + keys.index[i] * keys.stride; }, scale, slope, s,
        lds);
  else
    score_rows_t(
        R, q, ldq, n, E, [&](int64_t i) { return keys.base + i * keys.stride; }, scale, slope, s, lds);
}

void attention_weigh(int64_t R, const float* p, int64_t ldp, const int64_t* n, int64_t E, const kv_rows& vals,
                     float* out, int64_t ldo) {
  if (vals.index)
    weigh_rows_t(
        R, p, ldp, n, E, [&](int64_t i) { return vals.base + vals.index[i] * vals.stride; }, out, ldo);
  else
    weigh_rows_t(
        R, p, ldp, n, E, [&](int64_t i) { return vals.base + i * vals.stride; }, out, ldo);
}

void attention_ref(const float* q, int64_t n, int64_t E, const kv_rows& keys, const kv_rows& vals,
                   float scale, float slope, float* out) {
  std::vector<double> p(static_cast<size_t>(n));  // (n) scores, then probabilities
  double mx = -std::numeric_limits<double>::infinity(), z = 0;
  for (int64_t i = 0; i < n; ++i) {
    double d = 0;
    for (int64_t e = 0; e < E; ++e) d += static_cast<double>(q[e]) * static_cast<double>(keys.row(i)[e]);
    p[static_cast<size_t>(i)] =
        d * static_cast<double>(scale) + static_cast<double>(slope) * static_cast<double>(i);
    mx = std::max(mx, p[static_cast<size_t>(i)]);
  }
  for (double& x : p) z += (x = std::exp(x - mx));
  for (int64_t e = 0; e < E; ++e) {
    double o = 0;
    for (int64_t i = 0; i < n; ++i) o += p[static_cast<size_t>(i)] / z * static_cast<double>(vals.row(i)[e]);
    out[e] = static_cast<float>(o);
  }
}

}  // namespace gb::engine
