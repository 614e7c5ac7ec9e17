// inspect/synth_random.h: the deterministic randomness of `glassbox synth`. splitmix64 steps a 64-bit
// counter by a constant, so its n-th output needs no earlier one; Box-Muller turns two outputs into two
// normals (cos, then sin). A tensor's values are one normal_stream seeded from (seed, canonical name), and a
// stream can start at any element: chunks of a tensor are made on any thread and give the bytes of one pass.
//
//   gb::synth_rng::normal_stream g(gb::synth_rng::stream_seed(1, "blk.0.attn_q.weight", 0));
//   double x0 = g.next(), x1 = g.next();                        // elements 0 and 1
//   gb::synth_rng::normal_stream h(gb::synth_rng::stream_seed(1, "blk.0.attn_q.weight", 0), 1);
//   assert(h.next() == x1);                                    // element 1, without making element 0 first
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

namespace gb::synth_rng {

constexpr uint64_t k_golden = 0x9e3779b97f4a7c15ULL;  // splitmix64's counter step

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += k_golden);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

inline uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

// Normals in pairs: pair p (elements 2p, 2p + 1) comes from splitmix64 outputs 2p and 2p + 1, so
// normal_stream(seed, at) is the stream `at` calls of next() into normal_stream(seed).
struct normal_stream {
  uint64_t state;
  bool have = false;
  double spare = 0;
  explicit normal_stream(uint64_t seed, uint64_t at = 0) : state(seed + (at / 2) * 2 * k_golden) {
    if (at % 2 == 1) next();
  }
  double next() {
    if (have) {
      have = false;
      return spare;
    }
    double u1 = (static_cast<double>(splitmix64(state) >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
    double u2 = static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53;
    double r = std::sqrt(-2.0 * std::log(u1)), t = 6.283185307179586 * u2;
    spare = r * std::sin(t);
    have = true;
    return r * std::cos(t);
  }
};

// The seed of the stream named `key` (a tensor's canonical name, or a purpose) with a salt per use.
inline uint64_t stream_seed(uint64_t seed, const std::string& key, uint64_t salt) {
  uint64_t s = seed ^ (fnv1a(key) + salt * k_golden);
  splitmix64(s);
  return s;
}

}  // namespace gb::synth_rng
