// formats/quant_cols.h: ggml blocks of 16 rows decoded column by column, for a matmul that multiplies 16
// weight rows at once (probes/engine/kernels.cpp packs its panels and few-token tiles with them). Values
// are bit-exact with gb::dequantize_row (ggml's dequantize_row_*): the SIMD decoders evaluate the same
// float operations per element (same operands, same order, no fused multiply-add) on 16 rows per vector.
//
//   const uint8_t* rows[16] = {...};        // 16 rows of one q4_k matrix (repeats allowed)
//   gb::block_columns_fn f = gb::block_columns16(gb::dtype::q4_k);  // AVX-512, AVX2 or portable
//   alignas(64) float tile[256 * 16];       // (block_size, 16): column c of the block at 16 c
//   f(rows, /*block*/ b, tile, /*ld*/ 16);
#pragma once

#include <cstdint>

#include "formats/dtype.h"

namespace gb {

// Decodes block b (elements [b * bs, (b + 1) * bs) with bs = dtype_info(t).block_size) of 16 rows:
// out[c * ld + i] = element b * bs + c of rows[i], for c < bs and i < 16.
using block_columns_fn = void (*)(const uint8_t* const* rows, int64_t b, float* out, int64_t ld);

// The fastest decoder this build and CPU have for t (AVX-512, else AVX2, for q4_0, q4_1, q5_0, q5_1, q8_0,
// q2_k..q6_k; else the portable one), or null when t is not a ggml block type dequantize_row decodes.
// Chosen at run time: the AVX2 set is compiled into any x86-64 build and runs on CPUs without AVX-512.
block_columns_fn block_columns16(dtype t);
// The portable twin: each row through dequantize_row, scattered to columns (null as above).
block_columns_fn block_columns16_ref(dtype t);
// True when block_columns16(t) is a SIMD decoder (not the portable one).
bool block_columns16_simd(dtype t);

// One instruction set's decoders, for tests that check each against the twin on a CPU that has several:
// block_columns16_with(isa, t) is null when this build or CPU lacks isa or isa has no decoder for t
// (cols_isa::portable is block_columns16_ref). AVX-512: lane i of each vector is row i; AVX2: each row's
// block decoded along the row, 8 elements per vector, then transposed 8 x 8.
enum class cols_isa { portable, avx2, avx512 };
bool cols_isa_available(cols_isa isa);
block_columns_fn block_columns16_with(cols_isa isa, dtype t);

// A packed group-block: block b of 16 rows stored as the column decoders read it (the engine's load-time
// repack, probes/engine/repack.h, stores its 16-row groups so). The block's bytes are fields in block
// order: a lone f16 d (2 bytes: first in q4_0, q5_0, q8_0, last in q3_k, q6_k) or 4 bytes (a dword: every
// other byte, d and dmin pairs included); each field is stored for rows 0..15 one after the other, so the
// field at block offset o of row i is at 16 o + size * i. The same 16 x block bytes:
//   q4_0 (288 bytes): the 16 d (f16, 32 bytes), then qs dword j of rows 0..15 at 32 + 64 j (j < 4)
//   q8_0 (544 bytes): the 16 d, then qs dword j of rows 0..15 at 32 + 64 j (j < 8)
//   q4_k (2304 bytes): dword j (d and dmin, scales, qs) of rows 0..15 at 64 j
//   q6_k (3360 bytes): dword j (ql, qh, scales) of rows 0..15 at 64 j (j < 52), the 16 d at 3328
// A decoder's 16-lane f16 or dword vector is one load (16 o) and its block start no transpose.
//
//   uint8_t packed[16 * 18];                        // q4_0
//   gb::group_block_pack(gb::dtype::q4_0, rows, /*block*/ b, packed);
//   gb::group_block_unpack(gb::dtype::q4_0, packed, /*row*/ 3, block);  // rows[3]'s block b again
//   gb::block_columns16_packed(gb::dtype::q4_0)(packed, tile, 16);     // = block_columns16(...)(rows, b,
//   ...)
// group_block_pack moves each type's fields with constant offsets, 8 dwords of the 16 rows per transpose on
// AVX-512 (the engine's load-time repack of a whole model goes through it); group_block_pack_ref is its
// portable twin, a field at a time (the same bytes: tests/formats/test_quant_cols.cpp).
void group_block_pack(dtype t, const uint8_t* const* rows, int64_t b, uint8_t* out);
void group_block_pack_ref(dtype t, const uint8_t* const* rows, int64_t b, uint8_t* out);
void group_block_unpack(dtype t, const uint8_t* packed, int i, uint8_t* block);
// A packed group-block decoded to columns (out[c * ld + i], as block_columns_fn): the AVX-512 register
// decoders read q4_0, q8_0, q4_k, q5_k and q6_k in place; otherwise each row's block is unpacked and
// decoded by block_columns16(t). Null when t is not a ggml block type.
using packed_columns_fn = void (*)(const uint8_t* packed, float* out, int64_t ld);
packed_columns_fn block_columns16_packed(dtype t);
// True when block_columns16_packed(t) reads the packed group-block in place (a register decoder on this
// build and CPU), not through unpacked rows: the types whose packed layout pays for itself.
bool block_columns16_packed_in_place(dtype t);

}  // namespace gb
