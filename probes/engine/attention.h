// probes/engine/attention.h: the attention kernels of the forward pass: scores of query rows against key
// rows, and probability-weighted sums of value rows, each in an arithmetic order fixed by the row's own
// inputs, so a query gives the same bits whichever chunk, batch, tile, trie or cache position it comes from
// (a continuation after a shared prefix equals the full pass, a packed row equals its sequence alone).
// attention_ref is the plain twin (double sums) the tests hold them to.
//
//   const gb::engine::kv_rows keys{K + g * E, Hk * E}, vals{V + g * E, Hk * E};  // row i: base + i * stride
//   gb::engine::attention_scores(R, q, ldq, n, E, keys, scale, slope, s, lds);   // s: (R, lds), row r: n[r]
//   for (int64_t r = 0; r < R; ++r) gb::engine::softmax(s + r * lds, n[r]);
//   gb::engine::attention_weigh(R, s, lds, n, E, vals, out, ldo);               // out: (R, E), stride ldo
#pragma once

#include <cstdint>

namespace gb::engine {

// Rows of keys or values: row i starts at base + (index ? index[i] : i) * stride (index: a packed trie's
// path, root first).
struct kv_rows {
  const float* base = nullptr;
  int64_t stride = 0;
  const int64_t* index = nullptr;
  const float* row(int64_t i) const { return base + (index ? index[i] : i) * stride; }
};

// s[r * lds + i] = scale * dot(q_r, key_i) + slope * i for i < n[r], r < R (q_r = q + r * ldq, E floats;
// slope != 0: ALiBi). Each dot product: 16-lane FMA chains over E then a fixed lane-reduction tree (AVX-512)
// or 8 lanes and a fixed tree (portable); keys in blocks of 16 outside, rows inside.
void attention_scores(int64_t R, const float* q, int64_t ldq, const int64_t* n, int64_t E,
                      const kv_rows& keys, float scale, float slope, float* s, int64_t lds);
// out[r * ldo + e] = sum_{i < n[r]} p[r * ldp + i] * val_i[e], each element summed in key order from zero.
void attention_weigh(int64_t R, const float* p, int64_t ldp, const int64_t* n, int64_t E, const kv_rows& vals,
                     float* out, int64_t ldo);

// The plain twin of scores, softmax and weighing for one query row against keys and values [0, n): double
// sums, out (E).
void attention_ref(const float* q, int64_t n, int64_t E, const kv_rows& keys, const kv_rows& vals,
                   float scale, float slope, float* out);

}  // namespace gb::engine
