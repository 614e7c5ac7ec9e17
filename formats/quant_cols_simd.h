// formats/quant_cols_simd.h: the AVX-512 column decoders of formats/quant_cols.h as register-level pieces,
// for code that consumes a decoded column at once instead of storing it (the engine's few-token matmul
// FMAs each column straight from the register: probes/engine/kernels_blocks.cpp). One definition serves
// both: block_columns16 stores what col() returns, so the values are bit-exact with gb::dequantize_row
// (ggml's dequantize_row_*) whoever calls them. Lane i of every vector is row i of the 16 rows.
//
// A decoder D has parts (pieces of a block decoded at once) of step columns: for part p, D::load(src, p)
// reads the 16 rows' bytes of one block from a source, then col(c) for c < step is column p * step + c.
// A source is block b of 16 rows in the stored layout (rows_at: gathers and transposes) or a packed
// group-block (packed_at, quant_cols.h: each 16-lane vector one load).
//
//   gb::qsimd::q8_0_dec d;                  // 16 rows of q8_0
//   d.load(gb::qsimd::rows_at{rows, 3 * 34}, /*part*/ 0);  // block 3 (or packed_at{group block 3})
//   __m512 v = d.col(5);                    // element 3 * 32 + 5 of the 16 rows
//
// Include it only in sources compiled without floating-point contraction (#pragma GCC optimize
// ("fp-contract=off") before the include): ggml's multiply and subtract round separately.
#pragma once

#if defined(__AVX512F__)
#define GB_QSIMD_AVX512 1

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace gb::qsimd {

// 16 bytes at rows[i] + off, i < 16, as 4 dword vectors: d[j] lane i = bytes [4j, 4j + 4) of row i.
[[gnu::always_inline]] inline void dwords16x4(const uint8_t* const* rows, int64_t off, __m512i* d) {
  __m512i z[4];  // z[q] 128-bit lane l = row 4l + q
  for (int q = 0; q < 4; ++q) {
    z[q] = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[q] + off)));
    for (int l = 1; l < 4; ++l) {
      const __m128i r = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[4 * l + q] + off));
      z[q] = l == 1   ? _mm512_inserti32x4(z[q], r, 1)
             : l == 2 ? _mm512_inserti32x4(z[q], r, 2)
                      : _mm512_inserti32x4(z[q], r, 3);
    }
  }
  const __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]), t1 = _mm512_unpackhi_epi32(z[0], z[1]);
  const __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]), t3 = _mm512_unpackhi_epi32(z[2], z[3]);
  d[0] = _mm512_unpacklo_epi64(t0, t2);
  d[1] = _mm512_unpackhi_epi64(t0, t2);
  d[2] = _mm512_unpacklo_epi64(t1, t3);
  d[3] = _mm512_unpackhi_epi64(t1, t3);
}

// 32 bytes at rows[i] + off, i < 16, as 8 dword vectors: d[j] lane i = bytes [4j, 4j + 4) of row i (what
// two dwords16x4 give, in 16 loads and 24 two-source permutes instead of 32 loads and inserts and 16
// unpacks). Rows 2m and 2m + 1 start in vector m (lanes 0-7, 8-15); three stages each swap one bit of the
// vector index (row bits 1, 2, 3) with one of the lane index (dword bits 0, 1, 2): tr_lane gives where
// row i's dword j sits after stage k (0: as loaded, 3: vector j, lane i).
constexpr int tr_lane(int k, int i, int j) {
  const int i0 = i & 1, i1 = (i >> 1) & 1, i2 = (i >> 2) & 1, j1 = (j >> 1) & 1, j2 = (j >> 2) & 1;
  switch (k) {
    case 0:
      return i0 << 3 | j;
    case 1:
      return i0 << 3 | j2 << 2 | j1 << 1 | i1;
    case 2:
      return i0 << 3 | j2 << 2 | i2 << 1 | i1;
    default:
      return i;
  }
}
// vpermt2d indexes of stage k (1..3) for the output vector whose swapped bit is v: lane l takes the
// element now at (row i, dword j) from the input vector with that bit = row bit k (16 + lane when 1).
struct tr_table {
  int idx[3][2][16] = {};
  constexpr tr_table() {
    for (int k = 1; k <= 3; ++k)
      for (int i = 0; i < 16; ++i)
        for (int j = 0; j < 8; ++j)
          idx[k - 1][(j >> (k - 1)) & 1][tr_lane(k, i, j)] = 16 * ((i >> k) & 1) + tr_lane(k - 1, i, j);
  }
};
inline constexpr tr_table tr16x8{};

[[gnu::always_inline]] inline void dwords16x8(const uint8_t* const* rows, int64_t off, __m512i* d) {
  for (int m = 0; m < 8; ++m) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[2 * m] + off));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[2 * m + 1] + off));
    d[m] = _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
  }
  for (int k = 0; k < 3; ++k) {
    const __m512i lo = _mm512_loadu_si512(tr16x8.idx[k][0]), hi = _mm512_loadu_si512(tr16x8.idx[k][1]);
    for (int m = 0; m < 8; ++m)
      if ((m >> k & 1) == 0) {
        const __m512i a = d[m], b = d[m | 1 << k];
        d[m] = _mm512_permutex2var_epi32(a, lo, b);
        d[m | 1 << k] = _mm512_permutex2var_epi32(a, hi, b);
      }
  }
}

// The f16 at rows[i] + off for the 16 rows, as floats (F16C: the same values as fp16_to_f32). Two
// gathers with the row pointers as 64-bit indices from base address off (16 scalar loads and inserts
// were a fifth of q4_0's decode).
// Each gather reads 4 bytes: from off when the f16 starts its block, else (at_end: the last bytes of a
// q2_k/q3_k/q6_k block) from off - 2, never past the block.
[[gnu::always_inline]] inline __m512 f16x16(const uint8_t* const* rows, int64_t off, bool at_end = false) {
  const void* base = reinterpret_cast<const void*>(static_cast<intptr_t>(at_end ? off - 2 : off));
  const __m256i lo = _mm512_i64gather_epi32(_mm512_loadu_si512(rows), base, 1);
  const __m256i hi = _mm512_i64gather_epi32(_mm512_loadu_si512(rows + 8), base, 1);
  __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
  if (at_end) v = _mm512_srli_epi32(v, 16);
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(v));
}

// The dword at rows[i] + off for the 16 rows.
[[gnu::always_inline]] inline __m512i u32x16(const uint8_t* const* rows, int64_t off) {
  alignas(64) uint32_t u[16];
  for (int i = 0; i < 16; ++i) std::memcpy(&u[i], rows[i] + off, 4);
  return _mm512_load_si512(u);
}

// Block bytes of 16 rows in the stored layout: the block at rows[i] + off (off = b * block bytes). Field
// o of the block (a byte offset) as f16 floats or dword vectors, lane i = row i.
struct rows_at {
  const uint8_t* const* rows;
  int64_t off;
  [[gnu::always_inline]] __m512 f16(int64_t o, bool at_end = false) const {
    return f16x16(rows, off + o, at_end);
  }
  [[gnu::always_inline]] void x4(int64_t o, __m512i* d) const { dwords16x4(rows, off + o, d); }
  [[gnu::always_inline]] void x8(int64_t o, __m512i* d) const { dwords16x8(rows, off + o, d); }
};

// The same fields of a packed group-block at p (quant_cols.h): field o of row i is at 16 o + size * i,
// so each vector is one load, 64-byte aligned in the group when the group is.
struct packed_at {
  const uint8_t* p;
  [[gnu::always_inline]] __m512 f16(int64_t o, bool /*at_end*/ = false) const {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16 * o)));
  }
  [[gnu::always_inline]] __m512i dw(int64_t o) const { return _mm512_loadu_si512(p + 16 * o); }
  [[gnu::always_inline]] void x4(int64_t o, __m512i* d) const {
    for (int j = 0; j < 4; ++j) d[j] = dw(o + 4 * j);
  }
  [[gnu::always_inline]] void x8(int64_t o, __m512i* d) const {
    for (int j = 0; j < 8; ++j) d[j] = dw(o + 4 * j);
  }
};

// Lanes shifted right by s bits (left by -s when s < 0).
[[gnu::always_inline]] inline __m512i shr(__m512i v, int s) {
  return s >= 0 ? _mm512_srli_epi32(v, static_cast<unsigned>(s))
                : _mm512_slli_epi32(v, static_cast<unsigned>(-s));
}
// Low `low` bits from a, the rest from b (one vpternlogd: (a & m) | (b & ~m)).
[[gnu::always_inline]] inline __m512i merge_low(__m512i a, __m512i b, int low) {
  return _mm512_ternarylogic_epi32(a, b, _mm512_set1_epi32((1 << low) - 1), 0xE4);
}
// Byte b of each lane, sign-extended.
[[gnu::always_inline]] inline __m512i sbyte(__m512i v, int b) {
  return _mm512_srai_epi32(_mm512_slli_epi32(v, static_cast<unsigned>(24 - 8 * b)), 24);
}
// Unsigned field of `bits` bits at bit s of each lane.
[[gnu::always_inline]] inline __m512i field(__m512i v, int s, int bits) {
  return _mm512_and_si512(_mm512_srli_epi32(v, static_cast<unsigned>(s)), _mm512_set1_epi32((1 << bits) - 1));
}
[[gnu::always_inline]] inline __m512 to_f(__m512i v) {
  return _mm512_cvtepi32_ps(v);
}

// Float table: entry i = i + base (vpermps indexes it with the low 4 bits of each lane).
[[gnu::always_inline]] inline __m512 table16(float base) {
  return _mm512_add_ps(_mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                       _mm512_set1_ps(base));
}

#if defined(__AVX512BW__)
// Byte b of each lane moved to the top byte, zeros below (one vpshufb): the lane is q * 2^24 for the
// signed byte q.
[[gnu::always_inline]] inline __m512i top_byte(__m512i v, int b) {
  const auto at = [b](int k) {
    return static_cast<int>((static_cast<unsigned>(4 * k + b) << 24) | 0x808080u);
  };
  return _mm512_shuffle_epi8(v, _mm512_set4_epi32(at(3), at(2), at(1), at(0)));
}
// byte_at's vpshufb controls, one per byte b: a load where b is known only at run time (the k-quants' part
// loop), not a control built lane by lane on the scales' path (vmovd, vpinsrd, unpack, 2 inserts)
struct byte_at_table {
  alignas(64) uint32_t ctl[4][16] = {};
  constexpr byte_at_table() {
    for (int b = 0; b < 4; ++b)
      for (int i = 0; i < 16; ++i) ctl[b][i] = 0x80808000u | static_cast<unsigned>(4 * (i % 4) + b);
  }
};
inline constexpr byte_at_table byte_at_ctl{};
#endif
// Byte b of each lane, zeros above (one vpshufb with AVX512BW).
[[gnu::always_inline]] inline __m512i byte_at(__m512i v, int b) {
#if defined(__AVX512BW__)
  return _mm512_shuffle_epi8(v, _mm512_load_si512(byte_at_ctl.ctl[b]));
#else
  return field(v, 8 * b, 8);
#endif
}

// q8_0: d * q per element. With AVX512BW a column is one vpshufb from its dword vector instead of two
// shifts: the lane holds q * 2^24, converted exactly, and d is kept as d * 2^-24 (exact: an f16 times a
// power of two stays a normal float). Their product is the real number q * d, which a float holds
// exactly (8 x 11 significant bits, exponents far inside float's range), so it rounds to nothing and is
// the value ggml's float(q) * d gives; zeros, infinities and NaNs come out as there (signs and the NaN of
// d pass through both products the same way).
struct q8_0_dec {
  static constexpr int parts = 1, step = 32, bytes = 34;
  __m512 d;  // d, or d * 2^-24 (AVX512BW)
  __m512i q[8];
  template <class S>
  [[gnu::always_inline]] void load(const S& src, int /*part*/) {
#if defined(__AVX512BW__)
    d = _mm512_mul_ps(src.f16(0), _mm512_set1_ps(0x1p-24f));
#else
    d = src.f16(0);
#endif
    src.x8(2, q);
  }
  [[gnu::always_inline]] __m512 col(int c) const {
#if defined(__AVX512BW__)
    return _mm512_mul_ps(to_f(top_byte(q[c / 4], c % 4)), d);
#else
    return _mm512_mul_ps(to_f(sbyte(q[c / 4], c % 4)), d);
#endif
  }
};

// q4_0: d * ((q & 0xF) - 8), element c nibble c / 16 of byte c % 16 (vpermps maps the nibble to q - 8).
struct q4_0_dec {
  static constexpr int parts = 1, step = 32, bytes = 18;
  __m512 d, tab;
  __m512i q[4];
  template <class S>
  [[gnu::always_inline]] void load(const S& src, int /*part*/) {
    d = src.f16(0);
    src.x4(2, q);
    tab = table16(-8.0f);
  }
  [[gnu::always_inline]] __m512 col(int c) const {
    const int j = c % 16;
    return _mm512_mul_ps(_mm512_permutexvar_ps(shr(q[j / 4], 8 * (j % 4) + 4 * (c / 16)), tab), d);
  }
};

// N vectors a decoder holds, or (held false) none: the few-token matmul copies a decoder per run of rows
// (rows_dec), and a q4_k decoder carrying the 18 unused vectors of its other modes was a 7.4 KB copy (a
// memcpy per 64 rows, 2.7% of q4_k's one-token time) and a 7.9 KB stack frame.
template <int N, bool held = true>
struct zregs {
  __m512i v[N];
};
template <int N>
struct zregs<N, false> {};

// Vector j of a field the decoder either holds (regs.v[j]) or, in_place, reads from the packed group-block
// where the field starts at p (a memory operand of the column's first instruction).
template <bool in_place, class Regs>
[[gnu::always_inline]] inline __m512i held_or_at(const Regs& regs, const uint8_t* p, int j) {
  if constexpr (in_place)
    return _mm512_loadu_si512(p + 64 * j);
  else
    return regs.v[j];
}

// q4_k / q5_k: d, dmin and the 6-bit sub-block scales and mins (ggml's get_scale_min_k4) of the 16 rows,
// one per byte: byte j of sm[0] is scale j, of sm[1] scale 4 + j, of sm[2] and sm[3] the mins (bits 6-7
// zero). The block's first 16 bytes are d, dmin and the 12 scale bytes: one transpose gives them all (d and
// dmin from dword 0 through F16C, as f16x16, whose gathers were a tenth of q4_k's one-token matmul). The
// bytes are unpacked for 4 sub-blocks at once (5 instructions for all 16 values, where a field per value
// took 2 to 6), and each part multiplies out only its own 2 sub-blocks (fewer live registers).
template <class S>
[[gnu::always_inline]] inline void k4_scales(const S& src, __m512* d, __m512* dmin, __m512i* sm) {
  __m512i h[4];
  src.x4(0, h);  // h[0]: d (low half), dmin (high half); scale bytes 0..11 in h[1..3]
  *d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(h[0]));
  *dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(h[0], 16)));
  const __m512i m6 = _mm512_set1_epi32(0x3F3F3F3F), lo4 = _mm512_set1_epi32(0x0F0F0F0F);
  const __m512i b45 = _mm512_set1_epi32(0x30303030);
  sm[0] = _mm512_and_si512(h[1], m6);  // q[j] & 63
  sm[2] = _mm512_and_si512(h[2], m6);  // q[j + 4] & 63
  // j >= 4: (q[j + 4] & 0xF) | (q[j - 4] >> 6) << 4 and (q[j + 4] >> 4) | (q[j] >> 6) << 4, the high bits
  // at bits 4-5 of each byte (shifted right 2), merged under the low nibble
  sm[1] = _mm512_ternarylogic_epi32(h[3], _mm512_and_si512(_mm512_srli_epi32(h[1], 2), b45), lo4, 0xE4);
  sm[3] = _mm512_ternarylogic_epi32(_mm512_srli_epi32(h[3], 4),
                                    _mm512_and_si512(_mm512_srli_epi32(h[2], 2), b45), lo4, 0xE4);
}

// q4_k / q5_k in 4 parts of 64: element 64p + 32h + l is nibble h of qs[32p + l] (+ 16 x bit 2p + h of
// qh[l] for q5_k), times the sub-block's scale, less its min. Part 0 decodes the scales (and q5_k's qh).
// ggml rounds dl * u, then dl * u - ml; one fused multiply-subtract rounds the same: dl = d * sc is exact
// (an f16's 11 significant bits times 6 bits), so dl * u is (17 + 5 bits, no overflow or underflow
// from f16 inputs), and fma(dl, u, -ml) rounds the exact dl * u - ml once, as the subtraction does.
// One instruction per element fewer in the few-token matmul.
// in_place (a packed_at source only): the part's quant vectors are read from the packed group-block by
// each column (memory operands) instead of held in 8 registers.
template <bool five, bool in_place = false>
struct k4_dec {
  static constexpr int parts = 4, step = 64, bytes = five ? 176 : 144;
  __m512 d, dmin, dl[2], ml[2];
  __m512i sm[4];
  [[no_unique_address]] zregs<8, !in_place> q;  // the part's quants (held)
  [[no_unique_address]] zregs<8, five> qh;      // q5_k's high bits
  [[no_unique_address]] zregs<2, five> rot;     // q5_k: the part's 2 rotate counts
  const uint8_t* qp = nullptr;                  // in_place: quant vector j at qp + 64 j
  template <class S>
  [[gnu::always_inline]] void load(const S& src, int part) {
    const int64_t qs = five ? 48 : 16;
    if (part == 0) {
      k4_scales(src, &d, &dmin, sm);
      if constexpr (five) src.x8(16, qh.v);
    }
    for (int h = 0; h < 2; ++h) {  // sub-block 2p + h: ggml's d * sc and dmin * m
      const int j = 2 * part + h;
      dl[h] = _mm512_mul_ps(d, to_f(byte_at(sm[j / 4], j % 4)));
      ml[h] = _mm512_mul_ps(dmin, to_f(byte_at(sm[2 + j / 4], j % 4)));
      if constexpr (five) rot.v[h] = _mm512_set1_epi32((4 - j) & 31);  // qh's bit j of each byte to bit 4
    }
    if constexpr (in_place)
      qp = src.p + 16 * (qs + 32 * part);
    else
      src.x8(qs + 32 * part, q.v);
  }
  [[gnu::always_inline]] __m512i qv(int j) const { return held_or_at<in_place>(q, qp, j); }
  // q5_k: the 5-bit quants of 4 columns, one per byte (nibble h under qh's bit 2p + h, rotated to bit 4 by
  // a count set per part), then the column's byte shifted down: vpermt2ps reads bits 0-4. Every shift
  // count is a constant of the unrolled column (a count from the part, which the driver loops over at run
  // time, was a vector shift by a register count and a branch per column: q5_k ran at half q4_k's speed).
  [[gnu::always_inline]] __m512 col(int e) const {
    const int l = e % 32, h = e / 32;
    if constexpr (five) {
      const __m512i q5 =
          _mm512_ternarylogic_epi32(shr(qv(l / 4), 4 * h), _mm512_rolv_epi32(qh.v[l / 4], rot.v[h]),
                                    _mm512_set1_epi32(0x0F0F0F0F), 0xE4);
      return _mm512_fmsub_ps(
          dl[h], _mm512_permutex2var_ps(table16(0.0f), shr(q5, 8 * (l % 4)), table16(16.0f)), ml[h]);
    } else {
      return _mm512_fmsub_ps(dl[h], _mm512_permutexvar_ps(shr(qv(l / 4), 8 * (l % 4) + 4 * h), table16(0.0f)),
                             ml[h]);
    }
  }
};

// q6_k in 2 parts of 128: element 128n + 32s + l is nibble s/2 of ql[64n + 32(s%2) + l] with bits 2s of
// qh[32n + l] above it, less 32, times d * scale[8n + 2s + l/16].
// With AVX512BW the 6-bit q of 4 columns is assembled in each byte of a lane as (q ^ 32) << 2 (shifts and
// two vpternlogd per 4 columns), so one vpshufb moves a column's byte to the top of its lane, zeros below:
// the int (q - 32) * 2^26, converted exactly. The scales come the same way as sc * 2^24, and d is kept as
// d * 2^-50 (exact: an f16 times a power of two stays a normal float), so ds = d * sc * 2^-26 exactly and
// ds times the column is the real number d * sc * (q - 32): the same product ggml rounds, the same
// rounding (infinities, NaNs and signed zeros pass through as there). 4 vector instructions per 16
// weights and 4 columns where 7 (two shifts, merge, mask, subtract, convert, multiply) were per column.
// in_place (a packed_at source only): ql and qh are read from the packed group-block by each column
// (memory operands) instead of held in 24 registers, and each part multiplies out only its own 8 scales.
template <bool in_place = false>
struct q6_k_dec_t {
  static constexpr int parts = 2, step = 128, bytes = 210;
  __m512 ds[in_place ? 8 : 16];  // in_place: the part's 8
  [[no_unique_address]] zregs<16, !in_place> ql;
  [[no_unique_address]] zregs<8, !in_place> qh;
  const uint8_t *qlp = nullptr, *qhp = nullptr;  // in_place: ql vector j at qlp + 64 j, qh's at qhp + 64 j
  template <class S>
  [[gnu::always_inline]] void load(const S& src, int n) {
    if constexpr (in_place) {
      const __m512i s0 = src.dw(192 + 8 * n), s1 = src.dw(196 + 8 * n);
#if defined(__AVX512BW__)
      const __m512 d = _mm512_mul_ps(src.f16(208, true), _mm512_set1_ps(0x1p-50f));
      for (int j = 0; j < 8; ++j) ds[j] = _mm512_mul_ps(d, to_f(top_byte(j < 4 ? s0 : s1, j % 4)));
#else
      const __m512 d = src.f16(208, true);
      for (int j = 0; j < 8; ++j) ds[j] = _mm512_mul_ps(d, to_f(sbyte(j < 4 ? s0 : s1, j % 4)));
#endif
      qlp = src.p + 16 * 64 * n;
      qhp = src.p + 16 * (128 + 32 * n);
    } else {
      if (n == 0) {
        __m512i s[4];
        src.x4(192, s);
#if defined(__AVX512BW__)
        const __m512 d = _mm512_mul_ps(src.f16(208, true), _mm512_set1_ps(0x1p-50f));
        for (int j = 0; j < 16; ++j) ds[j] = _mm512_mul_ps(d, to_f(top_byte(s[j / 4], j % 4)));
#else
        const __m512 d = src.f16(208, true);
        for (int j = 0; j < 16; ++j) ds[j] = _mm512_mul_ps(d, to_f(sbyte(s[j / 4], j % 4)));
#endif
      } else {
        for (int j = 0; j < 8; ++j) ds[j] = ds[8 + j];
      }
      src.x8(64 * n, ql.v);
      src.x8(64 * n + 32, ql.v + 8);
      src.x8(128 + 32 * n, qh.v);
    }
  }
  [[gnu::always_inline]] __m512i qlv(int j) const {
    return held_or_at<in_place>(ql, qlp, j);
  }
  [[gnu::always_inline]] __m512i qhv(int j) const {
    return held_or_at<in_place>(qh, qhp, j);
  }
  [[gnu::always_inline]] __m512 col(int e) const {
    const int s4 = e / 32, l = e % 32;
    const __m512i v = qlv((32 * (s4 % 2) + l) / 4);
#if defined(__AVX512BW__)
    // bits 2-5 of each byte: nibble s4 / 2 of ql; bits 6-7: qh's bits 2 s4, 2 s4 + 1 (merged under
    // 0x3C), then bits 0-1 cleared and bit 7 flipped (q ^ 32: k1 ? b ^ k2 : 0)
    const __m512i xl = s4 < 2 ? _mm512_slli_epi32(v, 2) : _mm512_srli_epi32(v, 2);
    const __m512i m =
        _mm512_ternarylogic_epi32(xl, shr(qhv(l / 4), 2 * s4 - 6), _mm512_set1_epi32(0x3C3C3C3C), 0xE4);
    const __m512i q = _mm512_ternarylogic_epi32(m, _mm512_set1_epi32(static_cast<int>(0xFCFCFCFCu)),
                                                _mm512_set1_epi32(static_cast<int>(0x80808080u)), 0x48);
    return _mm512_mul_ps(ds[2 * s4 + l / 16], to_f(top_byte(q, l % 4)));
#else
    const __m512i a = shr(v, 8 * (l % 4) + 4 * (s4 / 2));
    const __m512i q6 =
        _mm512_and_si512(merge_low(a, shr(qhv(l / 4), 8 * (l % 4) + 2 * s4 - 4), 4), _mm512_set1_epi32(63));
    return _mm512_mul_ps(ds[2 * s4 + l / 16], to_f(_mm512_sub_epi32(q6, _mm512_set1_epi32(32))));
#endif
  }
};
using q6_k_dec = q6_k_dec_t<>;

// One block of 16 rows (a source, above) through decoder D, column c stored at out + c * ld (what
// block_columns16 does).
template <class D, class S>
[[gnu::always_inline]] inline void cols_store(const S& src, float* out, int64_t ld) {
  D d;
  for (int p = 0; p < D::parts; ++p) {
    d.load(src, p);
#pragma GCC unroll 128
    for (int c = 0; c < D::step; ++c) _mm512_storeu_ps(out + (p * D::step + c) * ld, d.col(c));
  }
}

}  // namespace gb::qsimd

#endif
