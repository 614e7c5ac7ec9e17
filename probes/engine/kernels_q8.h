// probes/engine/kernels_q8.h: the matmul of llama.cpp's CPU backend for ggml block weights (run_options
// numerics = llamacpp, `--numerics llama.cpp`): activations quantized per block to 8 bits (q8_0 beside
// q4_0/q8_0 weights, q8_K beside q4_k/q5_k/q6_k), integer dot products per block, one float
// multiply-add per block. It reproduces the deployed runtime's rounding (activation quantization is the
// dominant difference from the exact f32 matmul), not its bits: ggml sums the per-block floats in SIMD lanes
// whose layout depends on its build, here they are one in-order chain per output.
//
// Per output y[t][r], blocks b in order from acc = 0 (xd: the activation block's scale, wd/wm: the weight
// block's f16 d/dmin as float; isum/imin exact integers, as ggml's vec_dot_*_q8_* computes them):
//   acc = fma(wd * xd, float(isum_b), acc);   then for q4_k/q5_k:   acc = fma(-(wm * xd), float(imin_b), acc)
// so y[t][r] depends only on x row t and W row r: bit-identical alone or in any batch, on any thread count.
//
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
};
q8_acts q8_quantize(dtype wtype, const float* x, int64_t T, int64_t N);

// y (T, M) = x (T, N) . W^T in llama.cpp's numerics (see above). w.type must be supported.
void matmul_q8(const float* x, int64_t T, const weight_view& w, float* y, int threads);
void matmul_q8_ref(const float* x, int64_t T, const weight_view& w, float* y);

}  // namespace gb::engine
