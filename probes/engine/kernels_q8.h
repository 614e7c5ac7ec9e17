// probes/engine/kernels_q8.h: the matmul of llama.cpp's CPU backend for ggml block weights (run_options
// numerics = llamacpp, `--numerics llama.cpp`): activations quantized per block to 8 bits (q8_0 beside
// q4_0/q8_0 weights, q8_K beside q4_k/q5_k/q6_k), integer dot products per block, one float
// multiply-add per block. It reproduces the deployed runtime's rounding (activation quantization is the
// dominant difference from the exact f32 matmul), not its bits: ggml sums the per-block floats in SIMD lanes
// whose layout depends on its build, here they are one in-order chain per output.
//
// Per output y[t][r] (x: activation quants, xd their block scale; w: ggml's signed weight quants, wd/wm the
// block's f16 d/dmin as float, sc the sub-block scale; partials are exact integers):
//   16 float lanes acc[l] = 0, blocks b in order, d = wd * xd:
//   q4_0/q8_0: block b feeds lanes 8 (b % 2) + l, l < 8, with the sum of its elements 4l .. 4l + 3 of w x:
//     acc = fma(d, float(partial), acc);
//   q4_k/q5_k/q6_k: lane l < 16 gets sum over c < 4 of sc x (w x over elements 64c + 4l .. + 3), one fma;
//     q4_k/q5_k also: 8 lanes accm[j] = fma(-(wm * xd), float(min_j x sum of x over sub-block j), accm[j]);
//   y = halving sum of acc (lane l += lane l + n/2 until one is left) (+ halving sum of accm).
// This is the lane structure of ggml's AVX kernels (8-lane float chains of 4-product integer partials,
// scaled per block), not their exact bits. y[t][r] depends only on x row t and W row r: bit-identical alone
// or in any batch, on any thread count.
//   if (gb::engine::matmul_q8_supported(w.type)) gb::engine::matmul_q8(x, T, w, y, threads);  // y (T, M)
//   gb::engine::matmul_q8_ref(x, T, w, y);   // the scalar twin: the same bits
#pragma once

#include <cstdint>
#include <vector>

#include "probes/engine/kernels.h"

namespace gb::engine {

// q4_0, q8_0 (activations as q8_0) and q4_k, q5_k, q6_k (activations as q8_K).
bool matmul_q8_supported(dtype t);

// T activation rows quantized as llama.cpp's CPU backend does for weights of type wtype.
// q8_0 (x86 quantize_row_q8_0): amax of the 32-block, d = f16(amax / 127), q = x * (127 / amax) rounded
// half to even (0 when amax is 0); d is used as the f16 value. q8_K (quantize_row_q8_K_ref, via
// gb::quantize_row): iscale = -127 / the signed max, q = min(127, nearest_int(iscale x)), d = 1 / iscale.
struct q8_acts {
  int64_t T = 0, N = 0, block = 0;  // block: 32 (q8_0) or 256 (q8_K)
  std::vector<int8_t> q;            // (T, N) quantized values
  std::vector<float> d;             // (T, N / block) block scales
  std::vector<int32_t> sum16;       // (T, N / 16) sums of q over each 16 elements (ggml's bsums)
  std::vector<int32_t> sum32;       // (T, N / 32) sums over each 32 (a q4_k/q5_k sub-block)
  std::vector<int32_t> corr4;       // (T, N / 4) -c x the sums over each 4: c = 8 (q4_0), 128 (q8_0), else 0
};
q8_acts q8_quantize(dtype wtype, const float* x, int64_t T, int64_t N);

// y (T, M) = x (T, N) . W^T in llama.cpp's numerics (see above). w.type must be supported.
void matmul_q8(const float* x, int64_t T, const weight_view& w, float* y, int threads);
void matmul_q8_ref(const float* x, int64_t T, const weight_view& w, float* y);

// The instruction sets matmul_q8 runs, chosen at run time: AVX-512 (BW + VNNI: tiled, 4 rows x 4 tokens),
// AVX2 (+ FMA, F16C: one row and token at a time) and the portable loops (matmul_q8_ref's). All give the
// same bits. matmul_q8 uses q8_isa_best(); matmul_q8_with runs one set (the portable loops when this
// build or CPU lacks it: q8_isa_available), so tests check each against the twin on a CPU that has both.
enum class q8_isa { ref, avx2, avx512 };
q8_isa q8_isa_best();
bool q8_isa_available(q8_isa isa);
void matmul_q8_with(q8_isa isa, const float* x, int64_t T, const weight_view& w, float* y, int threads);

}  // namespace gb::engine
