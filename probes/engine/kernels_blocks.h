// probes/engine/kernels_blocks.h: the few-token matmul on ggml block weights (matmul's path for T < 6
// tokens; kernels.cpp calls it). 16 weight rows at a time, lane i of a vector is row i: for 1 and 2
// tokens each block's column is decoded in registers (formats/quant_cols_simd.h: q8_0, q4_0, q4_k, q5_k,
// q6_k) and multiplied at once; otherwise (3..5 tokens, the other block types) the block is decoded by
// block_columns16 into a tile in L1 first. The decoded
// values are ggml's dequantisation bit for bit, and each y[t][r] is one in-order FMA chain over k from 0:
// the same bits as the packed path's tile_kernel, alone or in any batch, on any thread count.
//
//   if (gb::engine::rows_blocks_supported(w.type))
//     gb::engine::rows_blocks(x, T, w.cols, w, r0, n, y, w.rows);  // y[t][r0 .. r0 + n) for T < 6
#pragma once

#include <cstdint>

#include "probes/engine/kernels.h"

namespace gb::engine {

// True when this build has a SIMD decoder for w's type (AVX-512 builds, ggml block types).
bool rows_blocks_supported(dtype t);
// The rows the kernel multiplies at once for type t (64 for 32-element blocks and q4_k, 32 for q5_k and
// q6_k): the rows of a packed panel (repack.h), whose reads are then one sequential stream.
int64_t rows_blocks_panel(dtype t);
// Rows [r0, r0 + n) of y (T, M) = x (T, N) . W^T for 1 <= T <= 5 (r0 a multiple of 16 when w is packed,
// repack.h).
void rows_blocks(const float* x, int64_t T, int64_t N, const weight_view& w, int64_t r0, int64_t n, float* y,
                 int64_t M);
// The same with every type through block_columns16 and the L1 tile (the fused decoders' twin: tests
// check the bits agree).
void rows_blocks_tiled(const float* x, int64_t T, int64_t N, const weight_view& w, int64_t r0, int64_t n,
                       float* y, int64_t M);

}  // namespace gb::engine
