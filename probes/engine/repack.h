// probes/engine/repack.h: the load-time repack of ggml block weights into packed panels (weight_view's
// interleave P, kernels.h). The few-token kernel multiplies P rows at once (64; 32 for q5_k, q6_k): in
// the stored layout those are P separate row streams, more than the hardware prefetchers track, and each
// block column starts with gathers and transposes of 16 rows' bytes. Repacked, each panel is block column
// after block column of packed group-blocks (formats/quant_cols.h: block b of 16 rows, field by field,
// each field of the 16 rows together), which the register decoders read with one load per vector, and a
// thread's consecutive panels are one sequential stream:
//
//   stored rows:        row 0: [d q0..q15] [d q0..q15] ...   (q4_0: an 18-byte block per row and column)
//                       row 1: [d q0..q15] [d q0..q15] ...
//   one packed panel:   block 0: rows 0..15 [16 d] [q0..3 x 16] [q4..7 x 16] ... [q12..15 x 16]
//                                rows 16..31 [16 d] [q0..3 x 16] ...   (4 x 288 bytes per block column)
//                       block 1: ...
//
// The bytes are the stored ones moved, so every decode and every FMA is the same: the same bits
// (tests/engine/test_kernels_blocks.cpp). Rows past the last whole panel stay plain.
//
//   if (gb::engine::repack_wanted(w)) {
//     gb::engine::huge_buffer mem(gb::engine::repack_bytes(w));  // huge_buffer.h: untouched till written
//     w = gb::engine::repack_interleave(w, mem.data(), threads);  // w.interleave == P (rows_blocks_panel)
//   }
#pragma once

#include <cstdint>

#include "probes/engine/kernels.h"

namespace gb::engine {

// False when GB_REPACK=0 is set in the environment (the stored layout: the repack's twin). GB_REPACK=all
// repacks every type repack_wanted(w, true) takes (side-by-side runs of the layouts).
bool repack_enabled();
// True for a plain view of a ggml block type the few-token kernel decodes in registers (this build and
// CPU), with at least one whole panel, and (unless all) of a type whose register decoder reads packed
// group-blocks in place (block_columns16_packed_in_place: q4_0, q8_0, q4_k, q5_k, q6_k). Against the stored
// layout (134M model, tg64, 1 thread, alternating runs, load 4-5.6, 2026-12-07): q4_0 2.1x and q8_0 2.0x
// (against main, whose q4_0 was already repacked block by block), q4_k 1.25x, q5_k 1.45x, q6_k 1.1x. (The
// block-by-block repack that came before measured slower than the stored layout on the k-quants: 0.80-0.89x.)
bool repack_wanted(const weight_view& w, bool all = false);
// Bytes of the repacked copy: the same as the stored rows (rows x row_bytes).
uint64_t repack_bytes(const weight_view& w);
// w's rows copied into dst (repack_bytes(w) bytes) as packed groups; the view of the copy.
weight_view repack_interleave(const weight_view& w, uint8_t* dst, int threads);
// The view of w's copy that repack_interleave(w, dst, ...) made (another runner's, shared).
weight_view repack_view(const weight_view& w, const uint8_t* dst);
// Row r (not plain) of a packed view decoded to dst (cols floats), block by block: dequantize_row's values.
void dequantize_lane(const weight_view& w, int64_t r, float* dst);

}  // namespace gb::engine
