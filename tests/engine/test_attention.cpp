// The attention kernels' arithmetic, bit for bit: each score is 16-lane FMA chains over the head dimension
// (zero-padded past E), the fixed lane tree (l, l+8), (l, l+4), (l, l+2), (l, l+1), times the scale, plus
// the ALiBi bias as one FMA; each output element is the FMA chain p_i v_i in key order from zero. A scalar
// emulation of that contract holds the AVX-512 kernels to it in every tile shape (rows stopping inside a
// key block, ragged rows, tiles of 1..16 rows, heads past 128, keys through an index), so a faster kernel
// cannot change a bit of any forward pass.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "probes/engine/attention.h"

using namespace gb::engine;

namespace {

#if defined(__AVX512F__)
// The contract's score of query q against key k (E floats). ALiBi adds slope * i to the scaled dot product
// as the kernel's source writes it (a multiply and an add); GCC fuses them into one FMA, a compiler that
// does not fuse across intrinsics rounds twice: fused false gives that.
float score_contract(const float* q, const float* k, int64_t E, float scale, float slope, int64_t i,
                     bool fused = true) {
  float lane[16] = {};
  for (int64_t c = 0; c < (E + 15) / 16; ++c)
    for (int64_t l = 0; l < 16; ++l) {
      const int64_t e = 16 * c + l;
      lane[l] = std::fma(e < E ? q[e] : 0.0f, e < E ? k[e] : 0.0f, lane[l]);
    }
  for (int64_t d = 8; d >= 1; d /= 2)
    for (int64_t l = 0; l < d; ++l) lane[l] = lane[l] + lane[l + d];
  const float v = lane[0] * scale;
  if (slope == 0.0f) return v;
  if (fused) return std::fma(slope, static_cast<float>(i), v);
  const volatile float bias = slope * static_cast<float>(i);  // volatile: rounded on its own, not fused
  return v + bias;
}

uint32_t bits(float x) {
  uint32_t b = 0;
  std::memcpy(&b, &x, 4);
  return b;
}
#endif

}  // namespace

TEST_CASE("attention_scores and attention_weigh give the contract's bits in every tile shape (AVX-512)") {
#if !defined(__AVX512F__)
  MESSAGE("SKIP: the bit contract pinned here is the AVX-512 one");
#else
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_int_distribution<int64_t> pick(1, 70);
  for (int64_t E : {8, 16, 40, 64, 80, 128, 136}) {
    const int64_t P = 70, stride = 5 * E;  // keys of five heads interleaved, as in the KV cache
    std::vector<float> q(static_cast<size_t>(16 * E)), kv(static_cast<size_t>(P * stride)),
        vv(static_cast<size_t>(P * stride)), p(static_cast<size_t>(16 * P));  // (16, E), (P, 5E) x2, (16, P)
    for (float& x : q) x = nd(rng);
    for (float& x : kv) x = nd(rng);
    for (float& x : vv) x = nd(rng);
    for (float& x : p) x = std::abs(nd(rng)) / 8;
    std::vector<int64_t> path(static_cast<size_t>(P));  // keys in a scrambled order, as a trie's path
    for (int64_t i = 0; i < P; ++i) path[static_cast<size_t>(i)] = (i * 37) % P;
    const float scale = 1.0f / std::sqrt(static_cast<float>(E));
    const int64_t causal_rows[8] = {16, 1, 2, 3, 5, 16, 7, 12}, causal_p0[8] = {0, 3, 13, 31, 47, 54, 5, 60};
    for (int shape = 0; shape < 16; ++shape) {
      // tiles of 1..16 rows (packed key blocks or keys in place): causal ones starting at several cache
      // positions (rows stopping inside a block of 16 keys), and ragged ones (a packed pass's rows)
      const int64_t R = shape < 8 ? causal_rows[shape] : 1 + static_cast<int64_t>(rng() % 16);
      int64_t n[16];  // (R) visible keys of each row
      for (int64_t r = 0; r < R; ++r) n[r] = shape < 8 ? std::min(P, causal_p0[shape] + r + 1) : pick(rng);
      for (bool indexed : {false, true})
        for (float slope : {0.0f, -0.125f}) {
          CAPTURE(E);
          CAPTURE(R);
          CAPTURE(shape);
          CAPTURE(indexed);
          CAPTURE(slope);
          const kv_rows keys{kv.data() + 2 * E, stride, indexed ? path.data() : nullptr},
              vals{vv.data() + 2 * E, stride, indexed ? path.data() : nullptr};
          std::vector<float> s(static_cast<size_t>(R * P), -1.0f), out(static_cast<size_t>(R * E), -1.0f);
          attention_scores(R, q.data(), E, n, E, keys, scale, slope, s.data(), P);
          attention_weigh(R, p.data(), P, n, E, vals, out.data(), E);
          int64_t bad_s = 0, bad_o = 0, bad_tail = 0;
          for (int64_t r = 0; r < R; ++r) {
            for (int64_t i = 0; i < n[r]; ++i) {
              const uint32_t got = bits(s[static_cast<size_t>(r * P + i)]);
              bad_s += got != bits(score_contract(q.data() + r * E, keys.row(i), E, scale, slope, i)) &&
                       got != bits(score_contract(q.data() + r * E, keys.row(i), E, scale, slope, i, false));
            }
            for (int64_t i = n[r]; i < P; ++i) bad_tail += s[static_cast<size_t>(r * P + i)] != -1.0f;
            for (int64_t e = 0; e < E; ++e) {
              float o = 0.0f;
              for (int64_t i = 0; i < n[r]; ++i)
                o = std::fma(p[static_cast<size_t>(r * P + i)], vals.row(i)[e], o);
              bad_o += bits(out[static_cast<size_t>(r * E + e)]) != bits(o);
            }
          }
          CHECK(bad_s == 0);
          CHECK(bad_tail == 0);  // scores past a row's n are not written
          CHECK(bad_o == 0);
        }
    }
  }
#endif
}
