// The attention kernels' own rate on one thread (probes/engine/attention.h): one head of a causal pass of T
// query rows against T cached keys and values, in the engine's tiles of TILE query rows (row r of the tile
// at t0 sees keys [0, t0 + r + 1); TILE 1: a token at a time); keys and values are rows of a cache of H
// heads (stride H * E floats), as a forward pass reads them. Per pass: attention_scores, softmax and
// attention_weigh of every tile, each phase timed on its own (steady clock around each call); the median
// and the best pass of `reps` give GFLOP/s of the scores and of the weighted sums (2 E flops per visible key
// each). `check` hashes the bits of every score and output: equal in two builds when their bits are. Side by
// side: build this source against two builds' libraries and run them alternately.
//
//   build/bench/bench_attention_rate [E=64] [T=512] [reps=200] [H=12] [TILE=16]
//   E=64 T=512 H=12 tile=16 scores_gflops=104.73 weigh_gflops=161.04 both_gflops=124.90 softmax_ms=0.050
//     best: scores=109.03 weigh=172.29 both=133.53 check=b3decae363a142a8
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "probes/engine/attention.h"
#include "probes/engine/kernels.h"

namespace {

// FNV-1a over the bits of n floats, continuing h
uint64_t bits_hash(uint64_t h, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t b = 0;
    std::memcpy(&b, x + i, 4);
    h = (h ^ b) * 1099511628211ull;
  }
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gb::engine;
  const int64_t E = argc > 1 ? std::atoll(argv[1]) : 64, T = argc > 2 ? std::atoll(argv[2]) : 512;
  const int reps = argc > 3 ? std::atoi(argv[3]) : 200;
  const int64_t H = argc > 4 ? std::atoll(argv[4]) : 12, tile = argc > 5 ? std::atoll(argv[5]) : 16;
  if (E < 1 || E > 1024 || T < 1 || T > 65536 || reps < 1 || H < 1 || H > 256 || tile < 1 || tile > 16) {
    std::fprintf(
        stderr,
        "bench_attention_rate: usage: [E 1..1024] [T 1..65536] [REPS >= 1] [H 1..256] [TILE 1..16]\n");
    return 2;
  }
  const int64_t ld = H * E;  // a cache row: every head's E floats
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  aligned_vector<float> q(static_cast<size_t>(T * ld)), K(q.size()), V(q.size()), out(q.size());  // (T, H*E)
  for (float& x : q) x = nd(rng);
  for (float& x : K) x = nd(rng);
  for (float& x : V) x = nd(rng);
  aligned_vector<float> s(static_cast<size_t>(tile * T));  // (tile, T): the engine's srows
  const kv_rows keys{K.data(), ld}, vals{V.data(), ld};
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(E)));
  using clock = std::chrono::steady_clock;
  std::vector<double> t_scores, t_soft, t_weigh, t_both;  // seconds, one per pass
  uint64_t check = 1469598103934665603ull;
  for (int rep = 0; rep < reps + 2; ++rep) {  // two warm-up passes
    double a = 0, b = 0, c = 0;
    for (int64_t t0 = 0; t0 < T; t0 += tile) {
      const int64_t R = std::min(tile, T - t0);
      int64_t n[16];  // (R) visible keys of each query row
      for (int64_t r = 0; r < R; ++r) n[r] = t0 + r + 1;
      const auto c0 = clock::now();
      attention_scores(R, q.data() + t0 * ld, ld, n, E, keys, scale, 0.0f, s.data(), T);
      const auto c1 = clock::now();
      if (rep == 0)
        for (int64_t r = 0; r < R; ++r) check = bits_hash(check, s.data() + r * T, n[r]);
      for (int64_t r = 0; r < R; ++r) softmax(s.data() + r * T, n[r]);
      const auto c2 = clock::now();
      attention_weigh(R, s.data(), T, n, E, vals, out.data() + t0 * ld, ld);
      const auto c3 = clock::now();
      a += std::chrono::duration<double>(c1 - c0).count();
      b += std::chrono::duration<double>(c2 - c1).count();
      c += std::chrono::duration<double>(c3 - c2).count();
      if (rep == 0)
        for (int64_t r = 0; r < R; ++r) check = bits_hash(check, out.data() + (t0 + r) * ld, E);
    }
    if (rep >= 2) t_scores.push_back(a), t_soft.push_back(b), t_weigh.push_back(c), t_both.push_back(a + c);
  }
  for (auto* v : {&t_scores, &t_soft, &t_weigh, &t_both}) std::sort(v->begin(), v->end());
  const auto med = [](const std::vector<double>& v) { return v[v.size() / 2]; };
  const double flops = 2.0 * static_cast<double>(E) * static_cast<double>(T) * static_cast<double>(T + 1) / 2;
  std::printf(
      "E=%lld T=%lld H=%lld tile=%lld scores_gflops=%.2f weigh_gflops=%.2f both_gflops=%.2f softmax_ms=%.3f "
      "best: scores=%.2f weigh=%.2f both=%.2f check=%016llx\n",
      static_cast<long long>(E), static_cast<long long>(T), static_cast<long long>(H),
      static_cast<long long>(tile), flops / med(t_scores) / 1e9, flops / med(t_weigh) / 1e9,
      2 * flops / med(t_both) / 1e9, 1e3 * med(t_soft), flops / t_scores[0] / 1e9, flops / t_weigh[0] / 1e9,
      2 * flops / t_both[0] / 1e9, static_cast<unsigned long long>(check));
  return 0;
}
