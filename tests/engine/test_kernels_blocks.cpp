// The few-token matmul on ggml block weights (kernels_blocks.h): columns decoded in registers give the
// bits of the L1-tile twin (block_columns16, itself == dequantize_row) and of the packed many-token path,
// for every block type with a SIMD decoder, 1..5 tokens, row counts around the 16- and 32-row groups and
// threads 1 and 2; and they are the product (against matmul_ref, rel 1e-5). The load-time repack
// (repack.h: packed group-blocks) changes no bits in any reader.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "formats/quant.h"
#include "formats/quant_cols.h"
#include "probes/engine/kernels.h"
#include "probes/engine/kernels_blocks.h"
#include "probes/engine/kernels_q8.h"
#include "probes/engine/repack.h"

using namespace gb;
using namespace gb::engine;

namespace {

// A (rows, cols) matrix quantized to t, rows scaled 10^-3..10^3 (scales of many magnitudes).
std::vector<uint8_t> random_matrix(dtype t, int64_t rows, int64_t cols, std::mt19937& g) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::uniform_int_distribution<int> e(-3, 3);
  std::vector<uint8_t> out;
  std::vector<float> r(static_cast<size_t>(cols));
  for (int64_t i = 0; i < rows; ++i) {
    const float s = std::pow(10.0f, static_cast<float>(e(g)));
    for (float& v : r) v = d(g) * s;
    std::vector<uint8_t> q = quantize_row(t, r.data(), cols);
    out.insert(out.end(), q.begin(), q.end());
  }
  return out;
}

double max_rel_err(const std::vector<float>& a, const std::vector<float>& b) {
  double scale = 1e-30, err = 0;
  for (size_t i = 0; i < a.size(); ++i) scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
  for (size_t i = 0; i < a.size(); ++i)
    err = std::max(err, std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
  return err / scale;
}

}  // namespace

TEST_CASE("few-token block matmul: registers == L1 tile == packed path bit for bit, and the product") {
  const dtype types[] = {dtype::q8_0, dtype::q4_0, dtype::q4_1, dtype::q5_0, dtype::q5_1,
                         dtype::q2_k, dtype::q3_k, dtype::q4_k, dtype::q5_k, dtype::q6_k};
  std::mt19937 g(31);
  int checked = 0;
  for (dtype t : types) {
    if (!rows_blocks_supported(t)) continue;
    const std::string type_name = dtype_name(t);
    CAPTURE(type_name);
    const int64_t bs = dtype_info(t).block_size, N = bs * (bs == 32 ? 5 : 2);
    for (int64_t M : {1, 15, 33, 70}) {
      CAPTURE(M);
      std::vector<uint8_t> bytes = random_matrix(t, M, N, g);
      weight_view w{t, bytes.data(), M, N, dtype_row_bytes(t, static_cast<uint64_t>(N))};
      std::normal_distribution<float> d(0.0f, 1.0f);
      std::vector<float> x(static_cast<size_t>(7 * N));  // 7 tokens: matmul's packed path
      for (float& v : x) v = d(g);
      std::vector<float> packed(static_cast<size_t>(7 * M)), ref(packed.size());
      matmul(x.data(), 7, w, packed.data(), 1);
      matmul_ref(x.data(), 7, w, ref.data());
      CHECK(max_rel_err(packed, ref) < 1e-5);
      for (int64_t T = 1; T <= 5; ++T) {
        CAPTURE(T);
        std::vector<float> fused(static_cast<size_t>(T * M), NAN), tiled(fused.size(), NAN), mm(fused.size());
        rows_blocks(x.data(), T, N, w, 0, M, fused.data(), M);
        rows_blocks_tiled(x.data(), T, N, w, 0, M, tiled.data(), M);
        CHECK(std::memcmp(fused.data(), tiled.data(), fused.size() * 4) == 0);
        CHECK(std::memcmp(fused.data(), packed.data(), fused.size() * 4) == 0);  // x rows 0..T-1
        for (int threads : {1, 2}) {
          matmul(x.data(), T, w, mm.data(), threads);
          CHECK(std::memcmp(mm.data(), fused.data(), mm.size() * 4) == 0);
        }
        ++checked;
      }
    }
  }
#if defined(__AVX512F__)
  CHECK(checked == 10 * 4 * 5);  // every type ran on an AVX-512 build
#else
  MESSAGE("no AVX-512 in this build (sanitized builds are not -march=native): no register decoders to check");
#endif
}

// The load-time repack (repack.h): every reader of a packed view gives the plain view's bits. Row counts
// with and without a plain tail (16, 33, 70, 100, 130: none, one or two packed panels of 32 or 64 rows
// and 1..36 plain rows, a 64-row matmul panel that mixes layouts), tokens 1..5 (few-token kernels) and 7
// (packed panels), 1 and 2 threads, row ranges that start inside a panel or end inside a group, the row
// decoders and their twin, and llama.cpp's numerics (every instruction set this CPU has).
TEST_CASE("packed-group repack: every reader gives the plain layout's bits") {
  const dtype types[] = {dtype::q8_0, dtype::q4_0, dtype::q4_1, dtype::q5_0, dtype::q5_1,
                         dtype::q2_k, dtype::q3_k, dtype::q4_k, dtype::q5_k, dtype::q6_k};
  std::mt19937 g(47);
  for (dtype t : types) {
    const std::string type_name = dtype_name(t);
    CAPTURE(type_name);
    const int64_t bs = dtype_info(t).block_size, N = bs * (bs == 32 ? 5 : 2);
    for (int64_t M : {16, 33, 70, 100, 130}) {
      CAPTURE(M);
      std::vector<uint8_t> bytes = random_matrix(t, M, N, g);
      const weight_view w{t, bytes.data(), M, N, dtype_row_bytes(t, static_cast<uint64_t>(N))};
      std::vector<uint8_t> packed_bytes(repack_bytes(w));
      const weight_view wi = repack_interleave(w, packed_bytes.data(), 2);
      const int64_t P = rows_blocks_panel(t), whole = M / P * P;  // rows in whole panels
      REQUIRE(wi.interleave == P);
      if (rows_blocks_supported(t))  // the policy: the types whose packed decoders measured faster
        CHECK(repack_wanted(w) == (M >= P && (t == dtype::q4_0 || t == dtype::q8_0 || t == dtype::q4_k ||
                                              t == dtype::q5_k || t == dtype::q6_k)));
      CHECK((packed_bytes != bytes) == (whole > 0));  // the layout did change
      CHECK(wi.plain(M - 1) == (M % P != 0));         // a tail row stays plain, in place
      if (whole > 0) {  // the last panel's second-last group: its block 1, packed where the view says
        const uint8_t* rows16[16];
        for (int i = 0; i < 16; ++i) rows16[i] = w.row(whole - 32 + i);
        std::vector<uint8_t> gb1(16 * dtype_info(t).type_size);
        group_block_pack(t, rows16, 1, gb1.data());
        CHECK(std::memcmp(wi.group_block(whole - 32 + 5, 1), gb1.data(), gb1.size()) == 0);
      }
      std::vector<uint8_t> scratch(w.row_bytes);
      for (int64_t r = 0; r < M; ++r)
        CHECK(std::memcmp(wi.row_in(r, scratch.data()), w.row(r), w.row_bytes) == 0);
      std::vector<float> a(static_cast<size_t>(M * N)), b(a.size());
      weight_rows_f32(w, 0, M, a.data());
      weight_rows_f32(wi, 0, M, b.data());
      CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
      weight_rows_f32_ref(wi, 0, M, b.data());
      CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
      std::normal_distribution<float> d(0.0f, 1.0f);
      std::vector<float> x(static_cast<size_t>(7 * N));
      for (float& v : x) v = d(g);
      for (int64_t T : {1, 2, 3, 4, 5, 7}) {
        CAPTURE(T);
        std::vector<float> plain(static_cast<size_t>(T * M)), inter(plain.size(), NAN);
        matmul(x.data(), T, w, plain.data(), 1);
        for (int threads : {1, 2}) {
          matmul(x.data(), T, wi, inter.data(), threads);
          CHECK(std::memcmp(plain.data(), inter.data(), plain.size() * 4) == 0);
        }
        if (T <= 5 && rows_blocks_supported(t)) {
          rows_blocks_tiled(x.data(), T, N, wi, 0, M, inter.data(), M);
          CHECK(std::memcmp(plain.data(), inter.data(), plain.size() * 4) == 0);
          // row ranges from a group's start that end inside a group (or past the packed rows)
          for (const int64_t r0 : {int64_t{0}, int64_t{16}, int64_t{48}}) {
            const int64_t n = std::min<int64_t>(r0 == 48 ? 40 : 21, M - r0);
            if (n <= 0) continue;
            CAPTURE(r0);
            std::vector<float> part(plain.size(), NAN);
            rows_blocks(x.data(), T, N, wi, r0, n, part.data(), M);
            int64_t bad = 0;
            for (int64_t i = 0; i < T; ++i)
              for (int64_t r = r0; r < r0 + n; ++r)
                bad += std::memcmp(&part[static_cast<size_t>(i * M + r)],
                                   &plain[static_cast<size_t>(i * M + r)], 4) != 0;
            CHECK(bad == 0);
          }
        }
        if (!matmul_q8_supported(t)) continue;
        matmul_q8_ref(x.data(), T, w, plain.data());
        matmul_q8_ref(x.data(), T, wi, inter.data());
        CHECK(std::memcmp(plain.data(), inter.data(), plain.size() * 4) == 0);
        for (q8_isa isa : {q8_isa::avx2, q8_isa::avx512}) {
          if (!q8_isa_available(isa)) continue;
          for (int threads : {1, 2}) {
            matmul_q8_with(isa, x.data(), T, wi, inter.data(), threads);
            CHECK(std::memcmp(plain.data(), inter.data(), plain.size() * 4) == 0);
          }
        }
      }
    }
  }
}

// The many-token path packs a panel wider than 2048 columns 512 columns at a time (kernels.cpp:
// pack_panel's k chunks) and, past 64 tokens, prefetches the next chunk of a packed view's panel while
// multiplying this one: over several chunks (N = 2304: 4 x 512 + 256 columns), packed panels of 64 and 32
// rows with a plain tail, each token's outputs are its own one-token pass's bits (the few-token kernels,
// another code path), in the packed view as in the plain one, on 1 and 2 threads.
TEST_CASE("many-token matmul over several k chunks: each token's one-token bits, packed or plain view") {
  std::mt19937 g(53);
  for (dtype t : {dtype::q4_0, dtype::q8_0, dtype::q4_k, dtype::q6_k}) {
    const std::string type_name = dtype_name(t);
    CAPTURE(type_name);
    const int64_t M = 150, N = 2304;
    std::vector<uint8_t> bytes = random_matrix(t, M, N, g);
    const weight_view w{t, bytes.data(), M, N, dtype_row_bytes(t, static_cast<uint64_t>(N))};
    std::vector<uint8_t> packed_bytes(repack_bytes(w));
    const weight_view wi = repack_interleave(w, packed_bytes.data(), 2);
    REQUIRE(wi.interleave > 0);
    std::normal_distribution<float> d(0.0f, 1.0f);
    for (int64_t T : {7, 70}) {
      CAPTURE(T);
      std::vector<float> x(static_cast<size_t>(T * N));  // (T, N)
      for (float& v : x) v = d(g);
      std::vector<float> alone(static_cast<size_t>(T * M));  // (T, M): one token at a time
      for (int64_t i = 0; i < T; ++i) matmul(x.data() + i * N, 1, w, alone.data() + i * M, 1);
      for (const weight_view& v : {w, wi})
        for (int threads : {1, 2}) {
          CAPTURE(threads);
          std::vector<float> y(alone.size(), NAN);  // (T, M)
          matmul(x.data(), T, v, y.data(), threads);
          CHECK(std::memcmp(y.data(), alone.data(), y.size() * 4) == 0);
        }
    }
  }
}
