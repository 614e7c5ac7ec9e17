// The few-token matmul's own rate on one thread (probes/engine/kernels_blocks.h, rows_blocks): a block-type
// matrix, repacked as the runner repacks it, multiplied by T tokens again and again. A small matrix stays
// in L2 and measures the decode and the FMA chains; one far larger than L3 measures them fed from memory
// (what a token of a real model sees). The gap between the two is the streaming's share; bench_membw is the
// machine's yardstick for the second. Prints one JSON line (weights per ns: G weights/s).
//
//   build/bench/bench_kernel_rate q4_k 256 2048       # 0.3 MB: in L2
//   build/bench/bench_kernel_rate q4_k 4096 768 600   # 1.8 MB: past L2 (1 MiB here), in L3 (32 MiB)
//   build/bench/bench_kernel_rate q4_k 32768 4096 10  # 75 MB: from memory
//   {"type": "q4_k", "rows": 256, "cols": 2048, "bytes": 294912, "tokens": 1, "repacked": true,
//    "best_gw_per_s": 39.2, "median_gw_per_s": 38.4, "median_gb_per_s": 21.6}
// The L3-sized matrix tells latency from bandwidth: q4_k loses most of what it loses from memory there
// already (47-50, 35-41, 33-35 G weights/s), q4_0 little (kernels_blocks.cpp, packed_stream). Two
// binaries compare in pairs over stack pads (env PAD of growing size under setarch -R): the L2 rate
// moves with where the stack lands, and the same source reads 0.9-1.15x across builds (code placement).
// A kernel change is best measured in one binary: both paths built in (a run-time switch in
// rows_fused_t, each path on its own repack when the panel changes), reps alternating, best of each;
// pairs of such runs agree within 1-5% on a host where separate runs move 0.8-1.3x.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "formats/dtype.h"
#include "formats/quant.h"
#include "probes/engine/huge_buffer.h"
#include "probes/engine/kernels.h"
#include "probes/engine/kernels_blocks.h"
#include "probes/engine/repack.h"

int main(int argc, char** argv) {
  using namespace gb;
  const std::optional<dtype> t = dtype_from_name(argc > 1 ? argv[1] : "q4_k");
  const int64_t rows = argc > 2 ? std::atoll(argv[2]) : 256, cols = argc > 3 ? std::atoll(argv[3]) : 2048;
  const int reps = argc > 4 ? std::atoi(argv[4]) : 200, tokens = argc > 5 ? std::atoi(argv[5]) : 1;
  if (!t || !engine::rows_blocks_supported(*t) || rows < 1 || cols < 1 || reps < 1 || tokens < 1 ||
      tokens > 5 || cols % dtype_info(*t).block_size != 0) {
    std::fprintf(
        stderr,
        "bench_kernel_rate: usage: TYPE (a block type this build decodes) [ROWS] [COLS, a multiple of "
        "the block size] [REPS] [TOKENS 1..5]\n");
    return 2;
  }
  // 64 distinct random rows, repeated (quantizing a 75 MB matrix row by row would take longer than the run)
  std::mt19937 g(1);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const uint64_t rb = dtype_row_bytes(*t, static_cast<uint64_t>(cols));
  std::vector<uint8_t> bytes(rb * static_cast<uint64_t>(rows));  // (rows, rb)
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t i = 0; i < rows; ++i) {
    if (i < 64) {
      for (float& v : row) v = nd(g);
      const std::vector<uint8_t> q = quantize_row(*t, row.data(), cols);
      std::memcpy(bytes.data() + i * rb, q.data(), rb);
    } else {
      std::memcpy(bytes.data() + i * rb, bytes.data() + (i % 64) * rb, rb);
    }
  }
  engine::weight_view w{*t, bytes.data(), rows, cols, rb};
  // the engine's buffer (2 MiB-aligned): from new[] the packed group-blocks sat 16 bytes past a line and
  // every 64-byte vector read in place was split across two lines
  engine::huge_buffer packed;
  const bool repacked = engine::repack_enabled() && engine::repack_wanted(w);
  if (repacked) w = engine::repack_interleave(w, packed.reserve(engine::repack_bytes(w)), 1);
  std::vector<float> x(static_cast<size_t>(tokens * cols)),
      y(static_cast<size_t>(tokens * rows));  // (T, cols), (T, rows)
  for (float& v : x) v = nd(g);
  std::vector<double> secs;  // one per pass
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    engine::rows_blocks(x.data(), tokens, cols, w, 0, rows, y.data(), rows);
    secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(secs.begin(), secs.end());
  const double weights = static_cast<double>(rows) * static_cast<double>(cols), med = secs[secs.size() / 2];
  std::printf(
      "{\"type\": \"%s\", \"rows\": %lld, \"cols\": %lld, \"bytes\": %llu, \"tokens\": %d, \"repacked\": %s, "
      "\"best_gw_per_s\": %.2f, \"median_gw_per_s\": %.2f, \"median_gb_per_s\": %.2f, \"check\": %g}\n",
      dtype_name(*t), static_cast<long long>(rows), static_cast<long long>(cols),
      static_cast<unsigned long long>(bytes.size()), tokens, repacked ? "true" : "false",
      weights / secs[0] / 1e9, weights / med / 1e9, static_cast<double>(bytes.size()) / med / 1e9,
      static_cast<double>(y[0]));
  return 0;
}
