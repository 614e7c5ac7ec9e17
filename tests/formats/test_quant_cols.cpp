// The 16-row column decoders (quant_cols.h) against dequantize_row, ggml's scalar dequantisation: every
// value bit for bit (NaN for NaN), on random bytes (any scale, inf and NaN included) and on encoded rows,
// rows at unrelated unaligned addresses, repeated rows, a column stride of a panel; every instruction set
// the CPU runs (the AVX2 decoders too on an AVX-512 CPU); and the same blocks packed 16 rows together
// (group_block_pack: the layout byte by byte, unpacked back, decoded by block_columns16_packed).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "formats/quant.h"
#include "formats/quant_cols.h"

using namespace gb;

namespace {

const dtype block_types[] = {dtype::q4_0, dtype::q4_1, dtype::q5_0, dtype::q5_1, dtype::q8_0, dtype::q8_1,
                             dtype::q2_k, dtype::q3_k, dtype::q4_k, dtype::q5_k, dtype::q6_k, dtype::q8_k};

bool same(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  uint32_t x, y;
  std::memcpy(&x, &a, 4);
  std::memcpy(&y, &b, 4);
  return x == y;
}

// rows[i] (nb blocks each) decoded by f into (nb * bs, ld) columns, against each row's dequantize_row.
int64_t mismatches(dtype t, block_columns_fn f, const std::vector<const uint8_t*>& rows, int64_t nb,
                   int64_t ld) {
  const int64_t bs = dtype_info(t).block_size;
  std::vector<float> got(static_cast<size_t>(nb * bs * ld), -7.0f), row(static_cast<size_t>(nb * bs));
  for (int64_t b = 0; b < nb; ++b) f(rows.data(), b, got.data() + b * bs * ld, ld);
  int64_t bad = 0;
  for (int64_t i = 0; i < 16; ++i) {
    dequantize_row(t, rows[static_cast<size_t>(i)], row.data(), nb * bs);
    for (int64_t c = 0; c < nb * bs; ++c)
      bad += !same(got[static_cast<size_t>(c * ld + i)], row[static_cast<size_t>(c)]);
  }
  for (int64_t c = 0; c < nb * bs; ++c)  // lanes past 16 of a wider stride are not written
    for (int64_t i = 16; i < ld; ++i) bad += got[static_cast<size_t>(c * ld + i)] != -7.0f;
  return bad;
}

// The same through packed group-blocks: each block b of the 16 rows packed (group_block_pack) and decoded
// by block_columns16_packed; mismatches against dequantize_row, plus lanes whose unpacked block differs.
int64_t packed_mismatches(dtype t, const std::vector<const uint8_t*>& rows, int64_t nb, int64_t ld) {
  const int64_t bs = dtype_info(t).block_size, bb = static_cast<int64_t>(dtype_info(t).type_size);
  std::vector<float> got(static_cast<size_t>(nb * bs * ld), -7.0f), row(static_cast<size_t>(nb * bs));
  std::vector<uint8_t> packed(static_cast<size_t>(16 * bb)), block(static_cast<size_t>(bb));
  const packed_columns_fn f = block_columns16_packed(t);
  int64_t bad = 0;
  for (int64_t b = 0; b < nb; ++b) {
    group_block_pack(t, rows.data(), b, packed.data());
    f(packed.data(), got.data() + b * bs * ld, ld);
    for (int i = 0; i < 16; ++i) {
      group_block_unpack(t, packed.data(), i, block.data());
      bad += std::memcmp(block.data(), rows[static_cast<size_t>(i)] + b * bb, static_cast<size_t>(bb)) != 0;
    }
  }
  for (int64_t i = 0; i < 16; ++i) {
    dequantize_row(t, rows[static_cast<size_t>(i)], row.data(), nb * bs);
    for (int64_t c = 0; c < nb * bs; ++c)
      bad += !same(got[static_cast<size_t>(c * ld + i)], row[static_cast<size_t>(c)]);
  }
  return bad;
}

}  // namespace

TEST_CASE("block_columns16 equals dequantize_row bit for bit: every block type, random and encoded blocks") {
  std::mt19937 g(20);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (dtype t : block_types) {
    const std::string name = dtype_name(t);
    CAPTURE(name);
    const dtype_traits& tr = dtype_info(t);
    const int64_t nb = tr.block_size == 32 ? 5 : 2;
    const int64_t bytes = nb * tr.type_size;
    REQUIRE(static_cast<bool>(block_columns16(t)));
    REQUIRE(static_cast<bool>(block_columns16_ref(t)));
    for (int kind = 0; kind < 2; ++kind) {  // 0: random bytes (any scale), 1: rows encoded from floats
      if (kind == 1 && !can_quantize(t)) continue;
      CAPTURE(kind);
      std::vector<std::vector<uint8_t>> store(16);
      std::vector<const uint8_t*> rows(16);
      for (int i = 0; i < 16; ++i) {
        const size_t lead = static_cast<size_t>(g() % 7);  // unrelated, unaligned starts
        store[static_cast<size_t>(i)].resize(lead + static_cast<size_t>(bytes));
        uint8_t* p = store[static_cast<size_t>(i)].data() + lead;
        if (kind == 0) {
          for (int64_t k = 0; k < bytes; ++k) p[k] = static_cast<uint8_t>(g());
        } else {
          std::vector<float> v(static_cast<size_t>(nb * tr.block_size));
          for (float& x : v) x = nd(g) * static_cast<float>(1 + i);
          const std::vector<uint8_t> q = quantize_row(t, v.data(), nb * tr.block_size);
          std::memcpy(p, q.data(), q.size());
        }
        rows[static_cast<size_t>(i)] = p;
      }
      CHECK(mismatches(t, block_columns16(t), rows, nb, 16) == 0);
      CHECK(mismatches(t, block_columns16_ref(t), rows, nb, 16) == 0);
      CHECK(mismatches(t, block_columns16(t), rows, nb, 64) == 0);  // a panel's stride
      CHECK(packed_mismatches(t, rows, nb, 16) == 0);
      CHECK(packed_mismatches(t, rows, nb, 64) == 0);
      for (cols_isa isa : {cols_isa::avx2, cols_isa::avx512}) {  // each set this CPU runs, not only the best
        const block_columns_fn f = block_columns16_with(isa, t);
        if (!f) continue;
        CAPTURE(static_cast<int>(isa));
        CHECK(mismatches(t, f, rows, nb, 16) == 0);
        CHECK(mismatches(t, f, rows, nb, 64) == 0);
      }
      for (int i = 9; i < 16; ++i) rows[static_cast<size_t>(i)] = rows[8];  // a short group repeats a row
      CHECK(mismatches(t, block_columns16(t), rows, nb, 16) == 0);
      CHECK(packed_mismatches(t, rows, nb, 16) == 0);
      if (const block_columns_fn f = block_columns16_with(cols_isa::avx2, t))
        CHECK(mismatches(t, f, rows, nb, 16) == 0);
    }
  }
}

TEST_CASE(
    "block_columns16: the deployed types have a SIMD decoder when built for AVX-512; others have none") {
#if defined(__AVX512F__)
  for (dtype t : {dtype::q4_0, dtype::q4_1, dtype::q5_0, dtype::q5_1, dtype::q8_0, dtype::q2_k, dtype::q3_k,
                  dtype::q4_k, dtype::q5_k, dtype::q6_k})
    CHECK(block_columns16_simd(t));
#endif
  // x86-64: the AVX2 set is compiled in whatever the build targets, and chosen at run time
  if (cols_isa_available(cols_isa::avx2)) {
    for (dtype t : {dtype::q4_0, dtype::q4_1, dtype::q5_0, dtype::q5_1, dtype::q8_0, dtype::q2_k, dtype::q3_k,
                    dtype::q4_k, dtype::q5_k, dtype::q6_k}) {
      CHECK(static_cast<bool>(block_columns16_with(cols_isa::avx2, t)));
      CHECK(block_columns16_simd(t));
    }
    if (!cols_isa_available(cols_isa::avx512))
      CHECK((block_columns16(dtype::q4_k) == block_columns16_with(cols_isa::avx2, dtype::q4_k)));
  }
#if defined(__x86_64__)
  CHECK(cols_isa_available(cols_isa::avx2) == static_cast<bool>(__builtin_cpu_supports("avx2")));
#endif
  CHECK((block_columns16_with(cols_isa::portable, dtype::q4_k) == block_columns16_ref(dtype::q4_k)));
  CHECK_FALSE(static_cast<bool>(block_columns16_with(cols_isa::avx2, dtype::q8_k)));  // no SIMD set for it
  CHECK_FALSE(block_columns16_simd(dtype::f16));
  CHECK_FALSE(static_cast<bool>(block_columns16(dtype::f32)));
  CHECK_FALSE(static_cast<bool>(block_columns16_ref(dtype::bf16)));
}

// The k-quant decoders rescale by powers of two (q6_k keeps d * 2^-50 and the quants as (q - 32) * 2^26;
// q4_k / q5_k multiply scale bytes unpacked 4 at a time): at the edges of the f16 range (subnormal, largest,
// infinite, NaN, signed zeros) and of the scales (-128..127 for q6_k) every value is still ggml's, bit for
// bit. Each half appears as d (and dmin) in several rows and blocks; the quants are random.
TEST_CASE(
    "block_columns16 at the edges: subnormal, largest, infinite, NaN and signed-zero d, extreme scales") {
  const uint16_t halves[] = {0x0001, 0x03FF, 0x0400, 0x3C00, 0x7BFF, 0x7C00,
                             0xFC00, 0x8000, 0x0000, 0x7E00, 0xC000, 0x8001};
  const int8_t scales[] = {-128, -127, -1, 0, 1, 2, 63, 127};
  std::mt19937 g(21);
  for (dtype t : {dtype::q4_k, dtype::q5_k, dtype::q6_k}) {
    const std::string name = dtype_name(t);
    CAPTURE(name);
    const dtype_traits& tr = dtype_info(t);
    const int64_t nb = 12;  // blocks per row
    std::vector<std::vector<uint8_t>> store(16);
    std::vector<const uint8_t*> rows(16);
    for (int i = 0; i < 16; ++i) {
      std::vector<uint8_t>& s = store[static_cast<size_t>(i)];
      s.resize(static_cast<size_t>(nb * tr.type_size));
      for (uint8_t& v : s) v = static_cast<uint8_t>(g());
      for (int64_t b = 0; b < nb; ++b) {
        uint8_t* blk = s.data() + b * tr.type_size;
        const uint16_t d = halves[(i + b) % 12], m = halves[(i + 3 * b + 5) % 12];
        if (t == dtype::q6_k) {
          std::memcpy(blk + 208, &d, 2);
          for (int j = 0; j < 16; ++j) blk[192 + j] = static_cast<uint8_t>(scales[(i + j + b) % 8]);
        } else {
          std::memcpy(blk, &d, 2);
          std::memcpy(blk + 2, &m, 2);
        }
      }
      rows[static_cast<size_t>(i)] = s.data();
    }
    CHECK(mismatches(t, block_columns16(t), rows, nb, 16) == 0);
    CHECK(packed_mismatches(t, rows, nb, 16) == 0);
    if (const block_columns_fn f = block_columns16_with(cols_isa::avx512, t))
      CHECK(mismatches(t, f, rows, nb, 16) == 0);
  }
}

// The packed group-block's layout (quant_cols.h), byte by byte: q4_0 and q8_0 (16 d first, then quant
// dword j of rows 0..15 at 32 + 64 j), q4_k (dwords only: 64 j + 4 i) and q6_k (dwords, then the 16 d).
TEST_CASE("packed group-blocks: each field of the 16 rows together, where the register decoders load it") {
  std::mt19937 g(22);
  for (dtype t : {dtype::q4_0, dtype::q8_0, dtype::q4_k, dtype::q6_k}) {
    const std::string name = dtype_name(t);
    CAPTURE(name);
    const int64_t bb = static_cast<int64_t>(dtype_info(t).type_size), nb = 3;
    std::vector<uint8_t> bytes(static_cast<size_t>(16 * nb * bb));
    for (uint8_t& v : bytes) v = static_cast<uint8_t>(g());
    std::vector<const uint8_t*> rows(16);
    for (int i = 0; i < 16; ++i) rows[static_cast<size_t>(i)] = bytes.data() + i * nb * bb;
    std::vector<uint8_t> packed(static_cast<size_t>(16 * bb));
    group_block_pack(t, rows.data(), 2, packed.data());
    const int64_t head = t == dtype::q4_0 || t == dtype::q8_0 ? 2 : 0;  // the lone f16 first, else last
    int64_t bad = 0;
    for (int64_t i = 0; i < 16; ++i)
      for (int64_t o = 0; o < bb; ++o) {
        const uint8_t want = rows[static_cast<size_t>(i)][2 * bb + o];
        int64_t at;
        if (o < head)
          at = 2 * i + o;
        else if (o >= head + (bb - head) / 4 * 4)
          at = 16 * (bb - 2) + 2 * i + (o - (bb - 2));
        else
          at = 16 * head + 64 * ((o - head) / 4) + 4 * i + (o - head) % 4;
        bad += packed[static_cast<size_t>(at)] != want;
      }
    CHECK(bad == 0);
  }
  CHECK_FALSE(static_cast<bool>(block_columns16_packed(dtype::f16)));
}

// group_block_pack (constant offsets, AVX-512 transposes) against its portable twin group_block_pack_ref,
// byte for byte, on random blocks of every block type: rows at unrelated unaligned addresses, every block
// of a 5-block row, partial groups (a group's last rows repeating its first, as at a matrix's edge), and
// nothing written outside the group-block.
TEST_CASE("group_block_pack equals group_block_pack_ref byte for byte: every block type, partial groups") {
  std::mt19937 g(31);
  for (dtype t : block_types) {
    const std::string name = dtype_name(t);
    CAPTURE(name);
    const int64_t bb = static_cast<int64_t>(dtype_info(t).type_size), nb = 5;
    std::vector<uint8_t> bytes(static_cast<size_t>(16 * (nb * bb + 7)));
    for (uint8_t& v : bytes) v = static_cast<uint8_t>(g());
    for (int distinct : {16, 13, 1}) {
      CAPTURE(distinct);
      std::vector<const uint8_t*> rows(16);
      for (int i = 0; i < 16; ++i)  // row i at an odd offset of its own
        rows[static_cast<size_t>(i)] = bytes.data() + (i % distinct) * (nb * bb + 7) + 1 + i % distinct % 5;
      for (int64_t b = 0; b < nb; ++b) {
        CAPTURE(b);
        std::vector<uint8_t> fast(static_cast<size_t>(16 * bb + 64), 0xa5), ref(fast.size(), 0xa5);
        group_block_pack(t, rows.data(), b, fast.data() + 3);
        group_block_pack_ref(t, rows.data(), b, ref.data() + 3);
        CHECK(fast == ref);
        int64_t canary = 0;  // nothing written before or past the group-block
        for (size_t k = 0; k < fast.size(); ++k)
          if (k < 3 || k >= 3 + static_cast<size_t>(16 * bb)) canary += fast[k] != 0xa5;
        CHECK(canary == 0);
      }
    }
  }
  CHECK(block_columns16_packed_in_place(dtype::q4_k) == cols_isa_available(cols_isa::avx512));
  CHECK_FALSE(block_columns16_packed_in_place(dtype::q4_1));
  CHECK_FALSE(block_columns16_packed_in_place(dtype::f16));
}
