// The many-token matmul on short passes (T = 6..~64 tokens: the rows of a bias suite's short packed
// pass) and at T = 512: the wall and process CPU milliseconds per y (T, M) = x (T, N) . W^T, median of
// `reps` calls, for each T, on random weights of one dtype (ggml block types repacked as the engine loads
// them, repack.h), W read from memory (copies cycled past the last-level cache, as a forward pass reads
// it). One line per T; `check` is the sum of y for W's first copy: equal in two builds when their bits are.
// Side by side: build this source against two builds' libraries and run them alternately.
//
//   build/bench/bench_matmul_short [dtype=f32] [M=2048] [N=768] [threads=2] [reps=20] [T...=6 8 12 16 24 32]
//   f32 M=2048 N=768 threads=1 T=6 wall_ms=0.460 cpu_ms=0.460 check=-62.088031
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "formats/dtype.h"
#include "formats/quant.h"
#include "probes/engine/kernels.h"
#include "probes/engine/repack.h"

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string type_name = argc > 1 ? argv[1] : "f32";
  const int64_t M = argc > 2 ? std::atoll(argv[2]) : 2048, N = argc > 3 ? std::atoll(argv[3]) : 768;
  const int threads = argc > 4 ? std::atoi(argv[4]) : 2, reps = argc > 5 ? std::atoi(argv[5]) : 20;
  std::vector<int64_t> Ts;
  for (int i = 6; i < argc; ++i) Ts.push_back(std::atoll(argv[i]));
  if (Ts.empty()) Ts = {6, 8, 12, 16, 24, 32};
  const std::optional<gb::dtype> parsed = gb::dtype_from_name(type_name);
  if (!parsed || M <= 0 || N <= 0 || reps <= 0 || !gb::can_quantize(*parsed) ||
      N % gb::dtype_info(*parsed).block_size != 0) {
    std::fprintf(stderr, "bench_matmul_short: bad arguments (dtype f32|f16|q8_0|q4_k..., M, N)\n");
    return 2;
  }
  const gb::dtype t = *parsed;
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  std::vector<float> row(static_cast<size_t>(N));
  std::vector<uint8_t> bytes;
  for (int64_t r = 0; r < M; ++r) {
    for (float& v : row) v = nd(rng);
    const std::vector<uint8_t> q = gb::quantize_row(t, row.data(), N);
    bytes.insert(bytes.end(), q.begin(), q.end());
  }
  // Copies of W past the last-level cache (256 MiB in all), cycled: each call reads its W from memory,
  // as a forward pass does.
  const size_t copies = std::max<size_t>(2, (size_t{256} << 20) / bytes.size());
  std::vector<gb::engine::aligned_vector<uint8_t>> stored(copies);  // copies x (M, row_bytes)
  std::vector<std::unique_ptr<uint8_t[]>> packed(copies);
  std::vector<gb::engine::weight_view> ws;
  for (size_t c = 0; c < copies; ++c) {
    stored[c].assign(bytes.begin(), bytes.end());
    gb::engine::weight_view w{t, stored[c].data(), M, N, bytes.size() / static_cast<uint64_t>(M)};
    if (gb::engine::repack_wanted(w)) {
      packed[c].reset(new uint8_t[gb::engine::repack_bytes(w)]);
      w = gb::engine::repack_interleave(w, packed[c].get(), threads);
      stored[c] = {};
    }
    ws.push_back(w);
  }
  const int64_t T_max = *std::max_element(Ts.begin(), Ts.end());
  gb::engine::aligned_vector<float> x(static_cast<size_t>(T_max * N));  // (T_max, N)
  for (float& v : x) v = nd(rng) * 20.0f;
  gb::engine::aligned_vector<float> y(static_cast<size_t>(T_max * M));  // (T_max, M)
  for (const int64_t T : Ts) {
    std::vector<double> wall, cpu;
    gb::engine::matmul(x.data(), T, ws[0], y.data(), threads);  // the check: W's first copy
    double check = 0;
    for (int64_t i = 0; i < T * M; ++i) check += static_cast<double>(y[static_cast<size_t>(i)]);
    for (int r = 0; r < reps + 2; ++r) {  // two warm-up calls
      const double w0 = omp_get_wtime(), c0 = cpu_seconds();
      gb::engine::matmul(x.data(), T, ws[static_cast<size_t>(r) % copies], y.data(), threads);
      if (r >= 2) wall.push_back(omp_get_wtime() - w0), cpu.push_back(cpu_seconds() - c0);
    }
    std::sort(wall.begin(), wall.end());
    std::sort(cpu.begin(), cpu.end());
    std::printf("%s M=%lld N=%lld threads=%d T=%lld wall_ms=%.3f cpu_ms=%.3f check=%.6f\n", type_name.c_str(),
                static_cast<long long>(M), static_cast<long long>(N), threads, static_cast<long long>(T),
                1e3 * wall[wall.size() / 2], 1e3 * cpu[cpu.size() / 2], check);
  }
  return 0;
}
