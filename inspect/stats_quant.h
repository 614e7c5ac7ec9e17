// inspect/stats_quant.h: a quantised row's statistics taken straight from its blocks, in one pass over the
// bytes, instead of dequantising to floats and scanning those three times (finite check, extremes, moments).
// A q4_0 value is d * q with q = nibble - 8 in [-8, 7] and d the block's f16 scale; the float ggml decodes
// is exactly d * q (an 11-bit significand times a 4-bit integer fits a float). So:
//   - moments: for one block sum (d q)^k = d^k * sum q^k, and sum q^k (k = 1..4) are small integers summed
//     exactly (SIMD on the bytes, no per-value double arithmetic); per row P_k = sum over blocks of
//     d^k * Q_k (double, blocks in order), and sum (x - s)^k = sum_j C(k, j) P_j (-s)^(k-j) (P_0 = n);
//   - extremes, zeros and column extremes: from the floats d * q, computed as ggml does and compared with the
//     accumulator's own rule (v < m ? v : m), so they equal the float path's exactly (as numbers: the sign of
//     a zero extreme may follow a different order).
// The moments equal moments::add over the floats up to rounding (a different summation, not the same bits).
// P_k are sums about 0, so a row whose |mean| is m times its standard deviation loses about m^k ulps in the
// k-th sum (weights have m < 1; m = 17 gives ~1e-11 relative, tested). The AVX2 kernel and the portable
// twin compute the same integers and floats and share the double arithmetic: equal bit for bit (tested).
// A scale that is not finite (f16 Inf / NaN) makes the row return false before anything is touched: the
// caller's float path counts the NaN / Inf values.
// q8_0 (value d * q, q an int8: exact in a float) the same way: sum q^k per block exactly (q^4 sums in 64
// bits), the floats float(q) * d as ggml. Its kernels: AVX-512 (BW) and the portable twin, which visits the
// values in the AVX-512 kernel's 16-lane order, so the two are equal bit for bit, extremes' zero signs
// included (AVX2 machines run the twin for q8_0). q4_0 kernels: AVX-512 (the floats 16 at a time, each value
// picked from the block's 16 possible ones), AVX2, and the portable twin; all give the same integers, sums
// and column extremes bit for bit. The row's extremes are equal as numbers; the sign of a zero extreme
// follows the visiting order, so the AVX-512 kernel rescans a row whose extreme is zero in the AVX2 kernel's
// order (the result of `hash` / `stats` does not change with the kernel on an AVX2 machine; tested).
//
//   if (gb::block_sums_supported(t)) {
//     gb::block_row_stats s;
//     if (gb::block_row_scan(t, row_bytes, n, shift, col_min, col_max, s)) mom.add_sums(n, shift, s.sums);
//   }
#pragma once

#include <cstdint>

#include "formats/dtype.h"
#include "formats/quant_cols.h"

namespace gb {

// sum (x - shift)^k, k = 1..4, over the values of a row.
struct power_sums {
  double s1 = 0, s2 = 0, s3 = 0, s4 = 0;
};

struct block_row_stats {
  power_sums sums;  // about the shift
  float mn, mx;     // the row's extremes
  uint64_t zeros;   // values equal to 0
};

// True when block_row_scan handles dtype t (q4_0, q8_0).
bool block_sums_supported(dtype t);

// The first value of a row of t's blocks (the accumulator's shift for a tensor's first row).
float block_first_value(dtype t, const uint8_t* row);

// One row of n values (n > 0, a multiple of the block size) stored as t's blocks at `row`: the power sums
// about `shift`, extremes and zeros into out; cmin / cmax (n floats each, or null) lowered / raised to
// the row's values column by column. False when t is not supported or a scale is not finite (nothing
// written). The fastest kernel this CPU has (AVX-512, AVX2, else the portable twin).
bool block_row_scan(dtype t, const uint8_t* row, int64_t n, double shift, float* cmin, float* cmax,
                    block_row_stats& out);
// The portable twin (dequantize_row per block, plain loops): == the above.
bool block_row_scan_ref(dtype t, const uint8_t* row, int64_t n, double shift, float* cmin, float* cmax,
                        block_row_stats& out);
// The kernel of one instruction set for t (tests and bench; false as above, or when
// !block_row_scan_isa_available(isa, t)).
bool block_row_scan_isa_available(cols_isa isa, dtype t = dtype::q4_0);
bool block_row_scan_with(cols_isa isa, dtype t, const uint8_t* row, int64_t n, double shift, float* cmin,
                         float* cmax, block_row_stats& out);

}  // namespace gb
