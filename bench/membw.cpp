// Memory read bandwidth of this machine, the yardstick for a token-by-token forward pass (which streams
// every weight once per token): threads read disjoint parts of a buffer far larger than the caches with
// 64-byte vector loads, best of `reps` passes. Prints one JSON line.
//
//   build/bench/bench_membw [MiB=1024] [threads=1] [reps=5]
//   {"bytes": 1073741824, "threads": 1, "best_gb_per_s": 21.3, "median_gb_per_s": 19.8}
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "probes/engine/kernels.h"

namespace {

// Sum of every 64-byte line's first and last words over [p, p + n) floats, read with full-line loads.
float read_all(const float* p, int64_t n) {
#if defined(__AVX512F__)
  __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps(), c = _mm512_setzero_ps(), d = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    a = _mm512_add_ps(a, _mm512_load_ps(p + i));
    b = _mm512_add_ps(b, _mm512_load_ps(p + i + 16));
    c = _mm512_add_ps(c, _mm512_load_ps(p + i + 32));
    d = _mm512_add_ps(d, _mm512_load_ps(p + i + 48));
  }
  alignas(64) float lane[16];
  _mm512_store_ps(lane, _mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
  float t = 0;
  for (float v : lane) t += v;
  return t;
#else
  float s[8] = {};
  for (int64_t i = 0; i < n; ++i) s[i % 8] += p[i];
  float t = 0;
  for (float v : s) t += v;
  return t;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t mib = argc > 1 ? std::atoll(argv[1]) : 1024;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  const int reps = argc > 3 ? std::max(1, std::atoi(argv[3])) : 5;
  const int64_t n = mib * (int64_t{1} << 20) / 4;
  gb::engine::aligned_vector<float> buf(static_cast<size_t>(n));  // (n) floats, 64-byte aligned
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t i = 0; i < n; ++i)
    buf[static_cast<size_t>(i)] = static_cast<float>(i & 7) * 1e-30f;  // pages owned by their reader
  std::vector<double> gbs;
  float sink = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    float s = 0;
#pragma omp parallel num_threads(threads) reduction(+ : s)
    {
      const int64_t nt = omp_get_num_threads(), id = omp_get_thread_num();
      const int64_t lines = n / 64, a = lines * id / nt * 64, b = lines * (id + 1) / nt * 64;
      s += read_all(buf.data() + a, b - a);
    }
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sink += s;
    gbs.push_back(static_cast<double>(n) * 4.0 / sec / 1e9);
  }
  std::sort(gbs.begin(), gbs.end());
  std::printf(
      "{\"bytes\": %lld, \"threads\": %d, \"best_gb_per_s\": %.2f, \"median_gb_per_s\": %.2f, \"sink\": "
      "%g}\n",
      static_cast<long long>(n * 4), threads, gbs.back(), gbs[gbs.size() / 2], static_cast<double>(sink));
  return 0;
}
