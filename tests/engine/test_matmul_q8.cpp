// matmul_q8 (llama.cpp's CPU numerics for ggml block weights): the AVX-512 path equals the scalar twin bit
// for bit, every output is independent of the batch and the thread count, the integer decoding agrees with
// ggml's dequantization (gb::dequantize_row) of both operands, and the activation quantizer follows
// llama.cpp's x86 q8_0 rounding (half to even) rather than the reference encoder's (half away from zero).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "formats/quant.h"
#include "probes/engine/kernels_q8.h"

using namespace gb;
using namespace gb::engine;

namespace {

struct weights {
  std::vector<uint8_t> bytes;
  weight_view view;
};

// M rows of N random values (a few rows scaled up, one all zero) encoded as t.
weights make_weights(dtype t, int64_t M, int64_t N, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  weights w;
  for (int64_t r = 0; r < M; ++r) {
    std::vector<float> row(static_cast<size_t>(N));
    const float scale = r == 1 ? 0.0f : (r % 5 == 0 ? 40.0f : 0.05f);
    for (float& v : row) v = g(rng) * scale;
    const std::vector<uint8_t> q = quantize_row(t, row.data(), N);
    w.bytes.insert(w.bytes.end(), q.begin(), q.end());
  }
  w.view = {t, w.bytes.data(), M, N, dtype_row_bytes(t, N)};
  return w;
}

std::vector<float> make_x(int64_t T, int64_t N, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(T * N));
  for (float& v : x) v = g(rng);
  for (int64_t k = 0; k < N && T > 1; ++k) x[static_cast<size_t>(N + k)] = 0.0f;  // row 1: all zero
  return x;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

const dtype k_types[] = {dtype::q4_0, dtype::q8_0, dtype::q4_k, dtype::q5_k, dtype::q6_k};

}  // namespace

TEST_CASE("matmul_q8 equals its scalar twin bit for bit, in any batch and on 1 or 2 threads") {
  for (dtype t : k_types) {
    const int64_t bs = dtype_info(t).block_size;
    // 32-element blocks: 11 blocks (a group of 8 and a tail of 3), 8, 1; k-quants: 1..3 blocks
    for (int64_t nb : bs == 32 ? std::vector<int64_t>{11, 8, 1} : std::vector<int64_t>{1, 3}) {
      // 133 rows: two full tasks of 64 rows and a short one (its last group of 4 rows short too)
      const int64_t N = nb * bs, M = 133;
      const weights w = make_weights(t, M, N, static_cast<uint32_t>(N));
      // 1-3 tokens decode rows in registers, 4 and more through decoded rows and 4-token tiles (5, 7: a
      // short last tile; 64: many tiles)
      for (int64_t T : {1, 2, 5, 7, 64}) {
        CAPTURE(dtype_name(t));
        CAPTURE(N);
        CAPTURE(T);
        const std::vector<float> x = make_x(T, N, static_cast<uint32_t>(T));
        std::vector<float> ref(static_cast<size_t>(T * M)), y1(ref.size()), y2(ref.size());
        matmul_q8_ref(x.data(), T, w.view, ref.data());
        matmul_q8(x.data(), T, w.view, y1.data(), 1);
        matmul_q8(x.data(), T, w.view, y2.data(), 2);
        CHECK(same_bits(ref, y1));
        CHECK(same_bits(ref, y2));
        for (q8_isa isa : {q8_isa::avx2, q8_isa::ref}) {  // the sets matmul_q8 does not pick on this CPU
          CAPTURE(static_cast<int>(isa));
          std::vector<float> yi(ref.size());
          matmul_q8_with(isa, x.data(), T, w.view, yi.data(), 2);
          CHECK(same_bits(ref, yi));
        }
        for (int64_t tk = 0; tk < T; ++tk) {  // each row alone gives the batch's bits
          std::vector<float> one(static_cast<size_t>(M));
          matmul_q8(x.data() + tk * N, 1, w.view, one.data(), 1);
          CHECK(std::memcmp(one.data(), y1.data() + tk * M, static_cast<size_t>(M) * 4) == 0);
        }
      }
    }
  }
}

TEST_CASE(
    "matmul_q8: the AVX-512 and AVX2 kernels are what this CPU runs (else the test above checks less)") {
  // The native build on an AVX-512 VNNI machine picks AVX-512 and the test above checks AVX2 and the
  // portable loops through matmul_q8_with; the sanitized build (GB_NATIVE=OFF) has no AVX-512 kernels, so
  // there matmul_q8 itself runs AVX2 (compiled through target attributes).
  if (!q8_isa_available(q8_isa::avx512))
    MESSAGE("AVX-512 VNNI not in this build (GB_NATIVE=OFF) or CPU: matmul_q8 runs AVX2");
  CHECK(q8_isa_available(q8_isa::avx2) == static_cast<bool>(__builtin_cpu_supports("avx2")));
  CHECK(q8_isa_best() == (q8_isa_available(q8_isa::avx512) ? q8_isa::avx512 : q8_isa::avx2));
}

TEST_CASE("matmul_q8: the SIMD activation quantizers equal the scalar ones on awkward activations") {
  // NaN (skipped by the block max, quantized to -128 in q8_0), infinities, exact rounding ties (x id = k +
  // 0.5), -0, an all-zero block and a largest magnitude reached twice with both signs (q8_K takes the first)
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  for (dtype t : k_types) {
    CAPTURE(dtype_name(t));
    const int64_t N = 512, M = 9, T = 6;
    const weights w = make_weights(t, M, N, 3);
    std::vector<float> x = make_x(T, N, 5);
    x[3] = nan;
    x[N + 7] = -0.0f;
    for (int64_t k = 0; k < N; ++k)
      x[static_cast<size_t>(2 * N + k)] = static_cast<float>(k % 64) * 0.5f - 16.0f;
    x[static_cast<size_t>(2 * N)] = 127.0f;  // amax 127 (q8_0: id 1, every x.5 a tie)
    x[static_cast<size_t>(3 * N + 5)] = -inf;
    x[static_cast<size_t>(4 * N + 9)] = 100.0f;
    x[static_cast<size_t>(4 * N + 10)] = -100.0f;
    x[static_cast<size_t>(5 * N + 300)] = inf;
    std::vector<float> ref(static_cast<size_t>(T * M)), fast(ref.size());
    matmul_q8_ref(x.data(), T, w.view, ref.data());
    matmul_q8(x.data(), T, w.view, fast.data(), 1);
    // bit for bit, except that an output made NaN by an infinite activation may carry either sign (the
    // sanitized build's AVX2 path gives +NaN where its scalar fma gives the default -NaN)
    bool same = ref.size() == fast.size();
    for (size_t i = 0; same && i < ref.size(); ++i)
      same = std::memcmp(&ref[i], &fast[i], 4) == 0 || (std::isnan(ref[i]) && std::isnan(fast[i]));
    CHECK(same);
  }
}

TEST_CASE("matmul_q8 computes the dot product of the dequantized weights and dequantized activations") {
  for (dtype t : k_types) {
    CAPTURE(dtype_name(t));
    const int64_t N = 512, M = 12, T = 3;
    const weights w = make_weights(t, M, N, 7);
    const std::vector<float> x = make_x(T, N, 9);
    const q8_acts a = q8_quantize(t, x.data(), T, N);
    std::vector<float> y(static_cast<size_t>(T * M)), row(static_cast<size_t>(N));
    matmul_q8(x.data(), T, w.view, y.data(), 1);
    bool nonzero = false;
    for (int64_t r = 0; r < M; ++r) {
      dequantize_row(t, w.view.row(r), row.data(), N);  // ggml's dequantization: the oracle
      for (int64_t tk = 0; tk < T; ++tk) {
        double s = 0, mag = 0;
        for (int64_t k = 0; k < N; ++k) {
          const double xv = static_cast<double>(a.q[static_cast<size_t>(tk * N + k)]) *
                            static_cast<double>(a.d[static_cast<size_t>(tk * (N / a.block) + k / a.block)]);
          const double wv = static_cast<double>(row[static_cast<size_t>(k)]);
          s += xv * wv;
          mag += std::fabs(xv * wv);
        }
        const float got = y[static_cast<size_t>(tk * M + r)];
        CHECK(std::fabs(static_cast<double>(got) - s) <= 1e-5 * mag + 1e-30);
        nonzero = nonzero || got != 0.0f;
      }
    }
    CHECK(nonzero);
  }
}

TEST_CASE("q8_quantize: llama.cpp's x86 q8_0 rounds half to even with 127 / amax; q8_K as ggml's reference") {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;  // amax 127: id = 1, d = 1
  x[1] = 2.5f;
  x[2] = 3.5f;
  x[3] = -2.5f;
  x[4] = 0.5f;
  const q8_acts a = q8_quantize(dtype::q4_0, x.data(), 1, 32);
  CHECK(a.block == 32);
  CHECK(a.d[0] == 1.0f);
  CHECK(a.q[0] == 127);
  CHECK(a.q[1] == 2);  // the reference encoder's roundf gives 3
  CHECK(a.q[2] == 4);
  CHECK(a.q[3] == -2);
  CHECK(a.q[4] == 0);
  CHECK(a.sum16[0] == 127 + 2 + 4 - 2);
  std::vector<float> z(32, 0.0f);  // an all-zero block: d 0, quants 0
  const q8_acts az = q8_quantize(dtype::q8_0, z.data(), 1, 32);
  CHECK(az.d[0] == 0.0f);
  CHECK(az.q[5] == 0);

  std::vector<float> xk(256);
  for (int i = 0; i < 256; ++i) xk[static_cast<size_t>(i)] = static_cast<float>(i - 100) / 7.0f;
  const q8_acts k = q8_quantize(dtype::q6_k, xk.data(), 1, 256);
  const std::vector<uint8_t> ref = quantize_row(dtype::q8_k, xk.data(), 256);
  float d;
  std::memcpy(&d, ref.data(), 4);
  CHECK(k.block == 256);
  CHECK(k.d[0] == d);
  CHECK(std::memcmp(k.q.data(), ref.data() + 4, 256) == 0);
  for (int j = 0; j < 16; ++j) {
    int16_t bsum;
    std::memcpy(&bsum, ref.data() + 260 + 2 * j, 2);
    CHECK(k.sum16[static_cast<size_t>(j)] == bsum);
  }
}
