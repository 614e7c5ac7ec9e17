// probes/engine/attention.cpp: attention scores and weighted sums in a fixed order (see attention.h).
#include "probes/engine/attention.h"

// GCC 12 reports false maybe-uninitialized warnings inside its AVX-512 intrinsics (masked loads).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "probes/engine/const_dispatch.h"
#include "probes/engine/kernels.h"

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

// A block of 16 keys [j0, j0 + 16) packed for the tile's rows (keys past mk: key j0 + mk - 1 again; their
// lanes are not stored): kb (c, 16, 16), kb[(i * 16 + k) * 16 + l] = key j0 + k's element 16 i + l, zero
// past E, where the query's masked lanes are zero too (the FMA adds +0 * +0, as it did on masked key loads).
// Contiguous and aligned: the rows read it with plain loads at fixed offsets, and keys a cache row apart
// (whose lines share a few L1 sets) are read from the cache once per tile.
template <class KeyAt>
void key_block_pack(KeyAt& key, int64_t j0, int64_t mk, int64_t c, __mmask16 last, float* kb) {
  for (int64_t k = 0; k < 16; ++k) {
    const float* src = key(j0 + std::min(k, mk - 1));
    for (int64_t i = 0; i < c; ++i)
      _mm512_store_ps(
          kb + (i * 16 + k) * 16,
          _mm512_maskz_loadu_ps(i + 1 == c ? last : static_cast<__mmask16>(0xFFFF), src + 16 * i));
  }
}

// 16 dot products at once, each one slot's 16 lane chains over the chunks from zero then the block tree:
// G = 1: query qa against keys [0, 16) of the block at j0 (lane k: key k); G = 2: queries qa and qb against
// keys [k0, k0 + 8), each key chunk loaded once for both rows (lanes 0-7: qa's keys, 8-15: qb's). Keys from
// the packed block kb, or (Packed false) in place, masked past E, their addresses taken here (GCC keeps them
// in scalar registers; filled once per block for all rows, they went to vector registers and were extracted
// next to the FMAs). Keys past mb repeat key j0 + mb - 1. The chains go chunk by chunk (C chunks, or c when
// C == 0), so independent FMAs follow each other.
template <int C, int G, bool Packed, class KeyAt>
[[gnu::always_inline]] inline __m512 score_tree(const float* kb, KeyAt& key, int64_t j0, int64_t mb,
                                                int64_t c, int64_t k0, const float* qa, const float* qb,
                                                __mmask16 last) {
  const float* kp[16];
  if constexpr (!Packed)
    for (int k = 0; k < (G == 1 ? 16 : 8); ++k) kp[k] = key(j0 + std::min<int64_t>(k0 + k, mb - 1));
  const auto chunk = [&](int64_t i, int k, __mmask16 m) {
    if constexpr (Packed)
      return _mm512_load_ps(kb + (i * 16 + k0 + k) * 16);
    else
      return _mm512_maskz_loadu_ps(m, kp[k] + 16 * i);
  };
  const int64_t nc = C > 0 ? C : c;
  __m512 a[16];  // item k: lane k of the result (G = 2: row k / 8, key k0 + k % 8)
  for (int k = 0; k < 16; ++k) a[k] = _mm512_setzero_ps();
  for (int64_t i = 0; i < nc; ++i) {
    const __mmask16 mk = i + 1 == nc ? last : static_cast<__mmask16>(0xFFFF);
    const __m512 x = _mm512_maskz_loadu_ps(mk, qa + 16 * i);
    if constexpr (G == 1) {
      for (const int k : key_of_slot) a[k] = _mm512_fmadd_ps(x, chunk(i, k, mk), a[k]);  // in tree order
    } else {
      const __m512 y = _mm512_maskz_loadu_ps(mk, qb + 16 * i);
      for (int k = 0; k < 8; ++k) {
        const __m512 kv = chunk(i, k, mk);
        a[k] = _mm512_fmadd_ps(x, kv, a[k]);
        a[8 + k] = _mm512_fmadd_ps(y, kv, a[8 + k]);
      }
    }
  }
#define GB_S(s) a[key_of_slot[s]]
  return tree4(tree3(tree2(tree1(GB_S(0), GB_S(1)), tree1(GB_S(2), GB_S(3))),
                     tree2(tree1(GB_S(4), GB_S(5)), tree1(GB_S(6), GB_S(7)))),
               tree3(tree2(tree1(GB_S(8), GB_S(9)), tree1(GB_S(10), GB_S(11))),
                     tree2(tree1(GB_S(12), GB_S(13)), tree1(GB_S(14), GB_S(15)))));
#undef GB_S
}

// Rows [0, R) of a query tile: row r (query q + r * ldq) scores keys [0, n[r]) into s + r * lds. Key blocks
// outside, rows inside in pairs sharing the key loads (a row left alone: 16 keys at once). A tile of
// pack_rows rows or more packs each block once (key_block_pack); a smaller one (a token at a time) reads the
// keys in place, masked past E: the same values either way.
template <int C, class KeyAt>
void score_blocks(int64_t R, const float* q, int64_t ldq, const int64_t* n, int64_t E, KeyAt& key,
                  float scale, float slope, float* s, int64_t lds) {
  constexpr int64_t pack_rows = 4;
  const int64_t c = (E + 15) / 16;
  const __mmask16 last = static_cast<__mmask16>(E % 16 ? (1u << (E % 16)) - 1 : 0xFFFF);
  const __m512 sv = _mm512_set1_ps(scale), av = _mm512_set1_ps(slope);
  const __m512 lane = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const bool packed = R >= pack_rows;
  float* kb = nullptr;  // (c, 16, 16) one packed key block
  if (packed) {
    static thread_local aligned_vector<float> pack;
    if (pack.size() < static_cast<size_t>(c * 256)) pack.resize(static_cast<size_t>(c * 256));
    kb = pack.data();
  }
  const int64_t nmax = *std::max_element(n, n + R);
  for (int64_t j0 = 0; j0 < nmax; j0 += 16) {
    const int64_t mk = std::min<int64_t>(16, nmax - j0);
    if (packed) key_block_pack(key, j0, mk, c, last, kb);
    const auto put = [&](__m512 v, int64_t r) {
      v = _mm512_mul_ps(v, sv);
      if (slope != 0.0f)  // ALiBi: + slope * key position
        v = _mm512_add_ps(v, _mm512_mul_ps(av, _mm512_add_ps(_mm512_set1_ps(static_cast<float>(j0)), lane)));
      const int64_t m = std::min<int64_t>(16, n[r] - j0);
      _mm512_mask_storeu_ps(s + r * lds + j0, static_cast<__mmask16>(m == 16 ? 0xFFFF : (1u << m) - 1), v);
    };
    const auto rows = [&](auto pk) {
      constexpr bool P = decltype(pk)::value;
      for (int64_t r = 0; r < R;) {
        if (j0 >= n[r]) {
          ++r;
          continue;
        }
        const float* qa = q + r * ldq;
        if (r + 1 < R && j0 < n[r + 1]) {  // a pair: keys 0-7 of the block for both rows, then keys 8-15
          const __m512 lo = score_tree<C, 2, P>(kb, key, j0, mk, c, 0, qa, qa + ldq, last);
          const __m512 hi = std::max(n[r], n[r + 1]) - j0 > 8
                                ? score_tree<C, 2, P>(kb, key, j0, mk, c, 8, qa, qa + ldq, last)
                                : _mm512_setzero_ps();
          put(_mm512_shuffle_f32x4(lo, hi, 0x44), r);
          put(_mm512_shuffle_f32x4(lo, hi, 0xEE), r + 1);
          r += 2;
        } else {
          put(score_tree<C, 1, P>(kb, key, j0, mk, c, 0, qa, nullptr, last), r);
          r += 1;
        }
      }
    };
    if (packed)
      rows(std::true_type{});
    else
      rows(std::false_type{});
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
// G rows (4 or 6), elements [e0, e0 + 64) under masks m: o_r += p_r[i] v_i for keys [i0, i1) in key order,
// the 4 G partial-sum vectors in registers (named: GCC keeps arrays of vectors in memory, one store per FMA).
template <int G, class ValAt>
[[gnu::noinline]] void weigh_group(const float* p, int64_t ldp, int64_t i0, int64_t i1, int64_t e0,
                                   const __mmask16* m, ValAt& val, float* o, int64_t ldo) {
  const __mmask16 m0 = m[0], m1 = m[1], m2 = m[2], m3 = m[3];
#define GB_LD(r, j) (r < G ? _mm512_maskz_loadu_ps(m##j, o + (r)*ldo + 16 * (j)) : _mm512_setzero_ps())
  __m512 a00 = GB_LD(0, 0), a01 = GB_LD(0, 1), a02 = GB_LD(0, 2), a03 = GB_LD(0, 3);
  __m512 a10 = GB_LD(1, 0), a11 = GB_LD(1, 1), a12 = GB_LD(1, 2), a13 = GB_LD(1, 3);
  __m512 a20 = GB_LD(2, 0), a21 = GB_LD(2, 1), a22 = GB_LD(2, 2), a23 = GB_LD(2, 3);
  __m512 a30 = GB_LD(3, 0), a31 = GB_LD(3, 1), a32 = GB_LD(3, 2), a33 = GB_LD(3, 3);
  [[maybe_unused]] __m512 a40 = GB_LD(4, 0), a41 = GB_LD(4, 1), a42 = GB_LD(4, 2), a43 = GB_LD(4, 3);
  [[maybe_unused]] __m512 a50 = GB_LD(5, 0), a51 = GB_LD(5, 1), a52 = GB_LD(5, 2), a53 = GB_LD(5, 3);
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
    GB_ROW(0) GB_ROW(1) GB_ROW(2) GB_ROW(3) if constexpr (G == 6) GB_ROW(4) GB_ROW(5)
#undef GB_ROW
  }
#define GB_ST(r, j) _mm512_mask_storeu_ps(o + (r)*ldo + 16 * (j), m##j, a##r##j)
  GB_ST(0, 0), GB_ST(0, 1), GB_ST(0, 2), GB_ST(0, 3), GB_ST(1, 0), GB_ST(1, 1), GB_ST(1, 2), GB_ST(1, 3);
  GB_ST(2, 0), GB_ST(2, 1), GB_ST(2, 2), GB_ST(2, 3), GB_ST(3, 0), GB_ST(3, 1), GB_ST(3, 2), GB_ST(3, 3);
  if constexpr (G == 6) {
    GB_ST(4, 0), GB_ST(4, 1), GB_ST(4, 2), GB_ST(4, 3), GB_ST(5, 0), GB_ST(5, 1), GB_ST(5, 2), GB_ST(5, 3);
  }
#undef GB_ST
}
#endif

// weigh_prefetch: a row alone (one token's query) is one FMA chain per slab vector, 4 cycles a value; its
// values come from memory (a token's weights, streamed between two layers' attention, evict the cache),
// each a 256-byte piece of a position's row, Hk*E floats apart. Prefetched 16 values ahead: 134M Q4_K,
// tg512, 5 alternating rounds, tokens/s 1.07-1.13x at 1 thread (attention was 23% of the token), 1.12x at
// 2; 32 ahead the same; tg64 1.00x. Keys prefetched a block ahead in the scores as well: no gain (their
// 16 keys a block are 16 loads in flight already). The cache laid out head group by head group (one
// sequential stream per head) instead: 1.00-1.02x alone, the same with the prefetch.
// out_r = sum_{i < n[r]} p_r[i] v_i for R rows (p_r = p + r * ldp, out_r = out + r * ldo), each element
// summed in key order from zero. Blocks of keys outside (a block's values stay in L1 across the tile), groups
// of six or four rows inside sharing each value load (six: 24 FMAs per 4 value and 6 weight loads, in 29 of
// the 32 vector registers); partial sums wait in out between blocks (a float stored and reloaded is
// unchanged, so the order per element is the plain key order).
template <class ValAt>
void weigh_rows_t(int64_t R, const float* p, int64_t ldp, const int64_t* n, int64_t E, ValAt val, float* out,
                  int64_t ldo) {
#if defined(__AVX512F__)
  constexpr int64_t key_block_len = 64;
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
      for (int64_t r0 = 0, g = 0; r0 < R; r0 += g) {
        // six rows at a time, four when 4, 5, 8 or 9 are left (16 rows: 6 + 6 + 4), then row by row
        const int64_t left = R - r0;
        g = left >= 6 && left != 8 && left != 9 ? 6 : std::min<int64_t>(4, left);
        int64_t i = b0;
        if (g >= 4) {  // keys every row of the group sees, all rows at once
          const int64_t lo = std::min(b1, *std::min_element(n + r0, n + r0 + g));
          if (lo > b0) {
            if (g == 6)
              weigh_group<6>(p + r0 * ldp, ldp, b0, lo, e0, m, val, out + r0 * ldo + e0, ldo);
            else
              weigh_group<4>(p + r0 * ldp, ldp, b0, lo, e0, m, val, out + r0 * ldo + e0, ldo);
          }
          i = std::max(i, lo);
        }
        for (int64_t r = r0; r < r0 + g; ++r) {  // the rest row by row, each stopping at its own n
          float* o = out + r * ldo + e0;
          __m512 a[4];
          for (int j = 0; j < 4; ++j) a[j] = _mm512_maskz_loadu_ps(m[j], o + 16 * j);
          for (int64_t k = i; k < std::min(b1, n[r]); ++k) {
            const float* vk = val(k) + e0;
            if (k + 16 < n[r]) {  // value k + 16's slab into L1 (weigh_prefetch)
              const char* pf = reinterpret_cast<const char*>(val(k + 16) + e0);
              for (int j = 0; j < 4; ++j) _mm_prefetch(pf + 64 * j, _MM_HINT_T0);
            }
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
