// Statistics straight from quantised blocks (inspect/stats_quant.h): the AVX2 / AVX-512 scans equal their
// portable twin (power sums bit for bit, extremes, zeros and column extremes), the sums equal those over the
// dequantised floats (long double) to rounding, non-finite scales fall back untouched, and the accumulator
// fed blocks gives add_row's exact figures and its moments to rounding.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <random>
#include <vector>

#include "formats/quant.h"
#include "formats/quant_cols.h"
#include "inspect/stats.h"
#include "inspect/stats_quant.h"

namespace {

// n floats ~ N(mean, sd) quantised to q4_0, plus the values they decode to.
std::vector<uint8_t> sqt_q4_0_row(int64_t n, double mean, double sd, uint32_t seed, std::vector<float>& x) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(static_cast<float>(mean), static_cast<float>(sd));
  std::vector<float> src(static_cast<size_t>(n));
  for (float& v : src) v = nd(rng);
  std::vector<uint8_t> q = gb::quantize_row(gb::dtype::q4_0, src.data(), n);
  x.resize(static_cast<size_t>(n));
  gb::dequantize_row(gb::dtype::q4_0, q.data(), x.data(), n);
  return q;
}

// Sums of (x - s)^k in long double over the floats.
gb::power_sums sqt_float_sums(const std::vector<float>& x, double s) {
  long double a[4] = {0, 0, 0, 0};
  for (float v : x) {
    const long double d = static_cast<long double>(v) - static_cast<long double>(s);
    a[0] += d;
    a[1] += d * d;
    a[2] += d * d * d;
    a[3] += d * d * d * d;
  }
  return {static_cast<double>(a[0]), static_cast<double>(a[1]), static_cast<double>(a[2]),
          static_cast<double>(a[3])};
}

bool sqt_same_bits(const gb::power_sums& a, const gb::power_sums& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// One scan with columns: the kernel's or the twin's.
struct sqt_scan {
  bool ok = false;
  gb::block_row_stats s{};
  std::vector<float> lo, hi;  // (n) column extremes after the scan
};
// isa: one kernel (block_row_scan_with); none: the twin when `ref`, else the dispatched best kernel
sqt_scan sqt_run(bool ref, const std::vector<uint8_t>& q, int64_t n, double shift,
                 gb::dtype t = gb::dtype::q4_0, std::optional<gb::cols_isa> isa = std::nullopt) {
  sqt_scan r;
  r.lo.assign(static_cast<size_t>(n), 0.01f);  // as if earlier rows had been seen
  r.hi.assign(static_cast<size_t>(n), -0.01f);
  float *lo = r.lo.data(), *hi = r.hi.data();
  r.ok = isa   ? gb::block_row_scan_with(*isa, t, q.data(), n, shift, lo, hi, r.s)
         : ref ? gb::block_row_scan_ref(t, q.data(), n, shift, lo, hi, r.s)
               : gb::block_row_scan(t, q.data(), n, shift, lo, hi, r.s);
  return r;
}

void sqt_check_equal(const sqt_scan& a, const sqt_scan& b) {
  REQUIRE(a.ok);
  REQUIRE(b.ok);
  CHECK(sqt_same_bits(a.s.sums, b.s.sums));
  CHECK(a.s.mn == b.s.mn);
  CHECK(a.s.mx == b.s.mx);
  CHECK(a.s.zeros == b.s.zeros);
  CHECK(a.lo == b.lo);
  CHECK(a.hi == b.hi);
}

// Statistics from the blocks (b) against add_row's over the decoded floats (a): counts, extremes, zeros and
// outliers exactly (the same floats in both), the moments to rounding (integer block sums vs float-by-float
// double sums).
void sqt_check_same_stats(const gb::tensor_stats& b, const gb::tensor_stats& a) {
  CHECK(b.count == a.count);
  CHECK(b.zero_count == a.zero_count);
  CHECK(b.zero_count > 0);
  CHECK(b.min == a.min);
  CHECK(b.max == a.max);
  CHECK(b.outlier_rows == a.outlier_rows);
  CHECK(b.outlier_row_index == a.outlier_row_index);
  CHECK(b.outlier_cols == a.outlier_cols);
  CHECK(b.outlier_col_index == a.outlier_col_index);
  CHECK(b.mean == doctest::Approx(a.mean).epsilon(1e-12));
  CHECK(b.std == doctest::Approx(a.std).epsilon(1e-12));
  CHECK(b.kurtosis == doctest::Approx(a.kurtosis).epsilon(1e-10));
  CHECK(b.l2 == doctest::Approx(a.l2).epsilon(1e-12));
}

// sqt_check_equal, and bit for bit: the sign of a zero extreme included
void sqt_check_same_bits(const sqt_scan& a, const sqt_scan& b) {
  sqt_check_equal(a, b);
  CHECK(std::signbit(a.s.mn) == std::signbit(b.s.mn));
  CHECK(std::signbit(a.s.mx) == std::signbit(b.s.mx));
  CHECK(std::memcmp(a.lo.data(), b.lo.data(), a.lo.size() * 4) == 0);
  CHECK(std::memcmp(a.hi.data(), b.hi.data(), a.hi.size() * 4) == 0);
}

// A scan against the floats its blocks decode to (x): the extremes, zeros and columns, exactly.
void sqt_check_exact(const sqt_scan& r, const std::vector<float>& x) {
  float mn = x[0], mx = x[0];
  uint64_t zeros = 0;
  for (size_t j = 0; j < x.size(); ++j) {
    mn = std::min(mn, x[j]);
    mx = std::max(mx, x[j]);
    zeros += x[j] == 0.0f;
    CHECK(r.lo[j] == std::min(0.01f, x[j]));
    CHECK(r.hi[j] == std::max(-0.01f, x[j]));
  }
  CHECK(r.s.mn == mn);
  CHECK(r.s.mx == mx);
  CHECK(r.s.zeros == zeros);
}

// sqt_check_exact, and the power sums to rounding (relative eps1 and eps3 for the odd sums, on the scale of
// the spread).
void sqt_check_floats(const sqt_scan& r, const std::vector<float>& x, double shift, double eps1,
                      double eps3) {
  sqt_check_exact(r, x);
  const gb::power_sums want = sqt_float_sums(x, shift);
  const double n = static_cast<double>(x.size());
  CHECK(r.s.sums.s1 == doctest::Approx(want.s1).epsilon(eps1).scale(std::sqrt(want.s2 * n)));
  CHECK(r.s.sums.s2 == doctest::Approx(want.s2).epsilon(1e-12));
  CHECK(r.s.sums.s3 == doctest::Approx(want.s3).epsilon(eps3).scale(std::pow(want.s2, 1.5)));
  CHECK(r.s.sums.s4 == doctest::Approx(want.s4).epsilon(1e-12));
}

}  // namespace

TEST_CASE("block row scan: AVX2 == portable twin, == the float sums to rounding") {
  INFO("AVX2 kernel on this CPU: " << gb::cols_isa_available(gb::cols_isa::avx2));
  CHECK(gb::block_sums_supported(gb::dtype::q4_0));
  CHECK_FALSE(gb::block_sums_supported(gb::dtype::f16));
  uint32_t seed = 1;
  // Block counts around the chunk of 64 blocks; means far from and near the spread.
  for (int64_t nb : {1, 7, 63, 64, 65, 200}) {
    for (double mean : {0.0, 0.02, -3.0}) {
      std::vector<float> x;
      const std::vector<uint8_t> q = sqt_q4_0_row(32 * nb, mean, 0.05, seed++, x);
      CHECK(gb::block_first_value(gb::dtype::q4_0, q.data()) == x[0]);
      for (double shift : {0.0, static_cast<double>(x[0]), mean + 0.001}) {
        const sqt_scan fast = sqt_run(false, q, 32 * nb, shift), ref = sqt_run(true, q, 32 * nb, shift);
        sqt_check_equal(fast, ref);
        sqt_check_exact(fast, x);
        const gb::power_sums want = sqt_float_sums(x, shift), got_s = fast.s.sums;
        const double nn = static_cast<double>(x.size());
        const double scale[4] = {std::sqrt(want.s2 * nn), want.s2, std::pow(want.s2, 1.5) * std::sqrt(nn),
                                 want.s4};
        const double got[4] = {got_s.s1, got_s.s2, got_s.s3, got_s.s4};
        const double w[4] = {want.s1, want.s2, want.s3, want.s4};
        // The block sums are about 0: a row whose |mean| is 17x its spread loses ~17^k ulps (the header).
        const double tol = mean == -3.0 ? 1e-9 : 1e-12;
        for (int k = 0; k < 4; ++k) {
          INFO("nb " << nb << " mean " << mean << " shift " << shift << " k " << k + 1);
          CHECK(std::fabs(got[k] - w[k]) <= tol * (scale[k] + std::fabs(w[k])));
        }
      }
    }
  }
}

TEST_CASE("block row scan: every nibble, zero and extreme scales, bit for bit with the twin") {
  // Raw blocks: random nibbles, scales from the smallest subnormal f16 to 65504, +0 and -0.
  std::mt19937 rng(7);
  const uint16_t scales[] = {0x0001, 0x03ff, 0x3c00, 0xbc00, 0x7bff, 0xfbff, 0x0000, 0x8000};
  const int64_t nb = 130, n = 32 * nb;
  std::vector<uint8_t> q(static_cast<size_t>(18 * nb));
  for (size_t b = 0; b < static_cast<size_t>(nb); ++b) {
    std::memcpy(&q[18 * b], &scales[b % 8], 2);
    for (size_t j = 0; j < 16; ++j) q[18 * b + 2 + j] = static_cast<uint8_t>(rng());
  }
  std::vector<float> x(static_cast<size_t>(n));
  gb::dequantize_row(gb::dtype::q4_0, q.data(), x.data(), n);
  const sqt_scan fast = sqt_run(false, q, n, 0.5), ref = sqt_run(true, q, n, 0.5);
  sqt_check_equal(fast, ref);
  uint64_t zeros = 0;
  for (float v : x) zeros += v == 0.0f;
  CHECK(fast.s.zeros == zeros);
  CHECK(zeros >= 2 * 32 * (nb / 8));  // the +0 and -0 scales' blocks at least
  const gb::power_sums want = sqt_float_sums(x, 0.5);
  CHECK(fast.s.sums.s1 == doctest::Approx(want.s1).epsilon(1e-12));
  CHECK(fast.s.sums.s2 == doctest::Approx(want.s2).epsilon(1e-12));
  CHECK(fast.s.sums.s3 == doctest::Approx(want.s3).epsilon(1e-12));
  CHECK(fast.s.sums.s4 == doctest::Approx(want.s4).epsilon(1e-12));

  // A scale that is Inf or NaN: false, nothing written (the float path counts the NaN / Inf values).
  for (uint16_t bad : {uint16_t{0x7c00}, uint16_t{0x7e00}}) {
    std::vector<uint8_t> r = q;
    std::memcpy(&r[18 * 100], &bad, 2);
    for (bool twin : {false, true}) {
      const sqt_scan s = sqt_run(twin, r, n, 0.0);
      CHECK_FALSE(s.ok);
      CHECK(s.lo == std::vector<float>(static_cast<size_t>(n), 0.01f));
    }
  }
  gb::block_row_stats s{};
  CHECK_FALSE(gb::block_row_scan(gb::dtype::q5_0, q.data(), 32, 0.0, nullptr, nullptr, s));  // not supported
  // Without columns: the same row figures.
  REQUIRE(gb::block_row_scan(gb::dtype::q4_0, q.data(), n, 0.5, nullptr, nullptr, s));
  CHECK(sqt_same_bits(s.sums, fast.s.sums));
  CHECK(s.zeros == fast.s.zeros);
}

TEST_CASE("stats accumulator: q4_0 rows from their blocks give add_row's figures") {
  const int64_t rows = 24, cols = 32 * 40;
  gb::stats_accumulator a(rows, cols), b(rows, cols);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> x;
    const std::vector<uint8_t> q =
        sqt_q4_0_row(cols, r == 5 ? 0.5 : 0.01, r == 9 ? 1.0 : 0.02, static_cast<uint32_t>(100 + r), x);
    a.add_row(r, x.data());
    REQUIRE(b.add_row_blocks(r, gb::dtype::q4_0, q.data()));
  }
  CHECK_FALSE(b.add_row_blocks(0, gb::dtype::q5_0, nullptr));  // not a block-sum dtype: use add_row
  gb::tensor_stats ta, tb;
  a.finish(ta);
  b.finish(tb);
  sqt_check_same_stats(tb, ta);
  CHECK(tb.mom.n == ta.mom.n);
  CHECK(tb.mom.m3 == doctest::Approx(ta.mom.m3).epsilon(1e-9));
}

TEST_CASE("block row scan: every kernel (AVX-512, AVX2) == the twin; the sign of zero extremes as AVX2's") {
  std::mt19937 rng(11);
  // Rows: random nibbles and scales; rows of non-negative values only (a zero minimum) with +0 and -0
  // among them, and non-positive ones (a zero maximum): the extremes' zero sign must be the AVX2 kernel's.
  const int64_t nb = 70, n = 32 * nb;
  for (int kind = 0; kind < 3; ++kind) {
    std::vector<uint8_t> q(static_cast<size_t>(18 * nb));
    for (size_t b = 0; b < static_cast<size_t>(nb); ++b) {
      const float d = std::ldexp(1.0f + static_cast<float>(rng() % 1000) / 1000.0f, -(int)(rng() % 12));
      // kind 1: values >= 0 (d > 0 with nibbles >= 8, d < 0 with nibbles <= 8); kind 2: values <= 0.
      const bool neg = kind == 0 ? (rng() & 1) != 0 : (b % 3 == 1);
      const uint16_t h = gb::f32_to_fp16(neg ? -d : d);
      std::memcpy(&q[18 * b], &h, 2);
      for (size_t j = 0; j < 16; ++j) {
        uint8_t lo = static_cast<uint8_t>(rng() % 16), hi = static_cast<uint8_t>(rng() % 16);
        if (kind != 0) {  // keep every value's sign: q >= 0 where d * q must be >= 0, q <= 0 elsewhere
          const bool up = (kind == 1) != neg;
          lo = up ? static_cast<uint8_t>(8 + lo % 8) : static_cast<uint8_t>(lo % 9);
          hi = up ? static_cast<uint8_t>(8 + hi % 8) : static_cast<uint8_t>(hi % 9);
        }
        q[18 * b + 2 + j] = static_cast<uint8_t>(lo | hi << 4);
      }
    }
    CAPTURE(kind);
    const sqt_scan ref = sqt_run(true, q, n, 0.25);
    for (gb::cols_isa isa : {gb::cols_isa::avx512, gb::cols_isa::avx2}) {
      if (!gb::block_row_scan_isa_available(isa)) {
        MESSAGE("kernel " << static_cast<int>(isa) << " not on this CPU");
        continue;
      }
      const sqt_scan r = sqt_run(false, q, n, 0.25, gb::dtype::q4_0, isa);
      sqt_check_equal(r, ref);
      if (isa == gb::cols_isa::avx512)  // bit for bit with AVX2, the sign of a zero extreme included
        sqt_check_same_bits(r, sqt_run(false, q, n, 0.25, gb::dtype::q4_0, gb::cols_isa::avx2));
    }
    if (kind == 1) CHECK(ref.s.mn == 0.0f);
    if (kind == 2) CHECK(ref.s.mx == 0.0f);
  }
  // Two blocks whose zeros differ in sign, placed so that 8 and 16 lanes meet them in a different order:
  // block 0 (d = -1, q <= 0) has -0 at value 8, block 1 (d = 1, q >= 0) +0 at value 0, every other value
  // is 4. The AVX2 kernel's lane 0 meets -0 first (values 0, 8, 16, 24 of block 0); 16 lanes alone would end
  // at +0 (lane 0 meets +0, lane 8 the -0, and lane 0 is folded first).
  std::vector<uint8_t> z(36);
  const uint16_t dm = gb::f32_to_fp16(-1.0f), dp = gb::f32_to_fp16(1.0f);
  std::memcpy(&z[0], &dm, 2);
  std::memcpy(&z[18], &dp, 2);
  for (int j = 0; j < 16; ++j) {
    z[2 + j] = static_cast<uint8_t>((j == 8 ? 8 : 4) | 4 << 4);     // u = 4: q = -4, d q = 4
    z[20 + j] = static_cast<uint8_t>((j == 0 ? 8 : 12) | 12 << 4);  // u = 12: q = 4
  }
  for (gb::cols_isa isa : {gb::cols_isa::avx512, gb::cols_isa::avx2, gb::cols_isa::portable}) {
    if (!gb::block_row_scan_isa_available(isa)) continue;
    gb::block_row_stats s{};
    REQUIRE(gb::block_row_scan_with(isa, gb::dtype::q4_0, z.data(), 64, 0.0, nullptr, nullptr, s));
    CAPTURE(static_cast<int>(isa));
    CHECK(s.mn == 0.0f);
    CHECK(s.mx == 4.0f);
    CHECK(s.zeros == 2);
    CHECK(std::signbit(s.mn));  // -0, met first in the AVX2 kernel's order and in the twin's (value by value)
  }
}

TEST_CASE("q8_0 rows from their blocks: AVX-512 == the twin bit for bit, == the floats' figures") {
  CHECK(gb::block_sums_supported(gb::dtype::q8_0));
  CHECK(gb::block_row_scan_isa_available(gb::cols_isa::portable, gb::dtype::q8_0));
  if (!gb::block_row_scan_isa_available(gb::cols_isa::avx512, gb::dtype::q8_0))
    MESSAGE("note: no AVX-512 q8_0 kernel on this CPU (the twin runs alone)");
  std::mt19937 rng(21);
  // Raw blocks: every int8 (-128 included: q^4 sums past 2^32), scales from subnormal to 65504, +0 and -0;
  // kind 1: rows of values >= 0 with +0 and -0 among them (a zero minimum: its sign follows the visiting
  // order); kind 2: a row quantised from N(0.3, 0.05) (moments against the floats).
  const uint16_t scales[] = {0x0001, 0x03ff, 0x3c00, 0xbc00, 0x7bff, 0xfbff, 0x0000, 0x8000, 0x2e66};
  for (int kind = 0; kind < 3; ++kind)
    for (int64_t nb : {1, 63, 64, 65, 130}) {
      const int64_t n = 32 * nb;
      std::vector<uint8_t> q(static_cast<size_t>(34 * nb));
      if (kind == 2) {
        std::normal_distribution<float> nd(0.3f, 0.05f);
        std::vector<float> src(static_cast<size_t>(n));
        for (float& v : src) v = nd(rng);
        q = gb::quantize_row(gb::dtype::q8_0, src.data(), n);
      } else {
        for (size_t b = 0; b < static_cast<size_t>(nb); ++b) {
          const uint16_t h = kind == 0 ? scales[rng() % 9] : (b % 2 ? uint16_t{0x8000} : uint16_t{0x3c00});
          std::memcpy(&q[34 * b], &h, 2);
          for (size_t j = 0; j < 32; ++j) {
            const int v = kind == 0 ? static_cast<int>(rng() % 256) - 128 : static_cast<int>(rng() % 4);
            q[34 * b + 2 + j] = static_cast<uint8_t>(static_cast<int8_t>(v));
          }
          if (kind == 0 && b == 0) q[34 * b + 2 + 5] = 0x80, q[34 * b + 2 + 6] = 0x80;  // -128
        }
      }
      std::vector<float> x(static_cast<size_t>(n));
      gb::dequantize_row(gb::dtype::q8_0, q.data(), x.data(), n);
      CAPTURE(kind);
      CAPTURE(nb);
      const double shift = kind == 2 ? 0.3 : 0.5;
      const sqt_scan ref = sqt_run(true, q, n, shift, gb::dtype::q8_0);
      REQUIRE(ref.ok);
      for (gb::cols_isa isa : {gb::cols_isa::avx512, gb::cols_isa::portable})
        if (gb::block_row_scan_isa_available(isa, gb::dtype::q8_0))
          sqt_check_same_bits(sqt_run(false, q, n, shift, gb::dtype::q8_0, isa), ref);
      gb::block_row_stats best{};
      REQUIRE(gb::block_row_scan(gb::dtype::q8_0, q.data(), n, shift, nullptr, nullptr, best));
      CHECK(sqt_same_bits(best.sums, ref.s.sums));
      // The exact figures against the floats; the sums to rounding.
      sqt_check_floats(ref, x, shift, 1e-9, 1e-9);
      if (kind == 1) CHECK(ref.s.mn == 0.0f);
    }
  // A scale that is Inf or NaN: false (the float path counts the NaN / Inf values).
  std::vector<uint8_t> bad(34, 1);
  const uint16_t inf = 0x7c00;
  std::memcpy(bad.data(), &inf, 2);
  gb::block_row_stats s{};
  CHECK_FALSE(gb::block_row_scan(gb::dtype::q8_0, bad.data(), 32, 0.0, nullptr, nullptr, s));
  CHECK_FALSE(gb::block_row_scan_ref(gb::dtype::q8_0, bad.data(), 32, 0.0, nullptr, nullptr, s));
}

TEST_CASE("stats accumulator: q8_0 rows from their blocks give add_row's figures") {
  const int64_t rows = 24, cols = 32 * 40;
  gb::stats_accumulator a(rows, cols), b(rows, cols);
  std::mt19937 rng(5);
  for (int64_t r = 0; r < rows; ++r) {
    std::normal_distribution<float> nd(r == 5 ? 0.5f : 0.01f, r == 9 ? 1.0f : 0.02f);
    std::vector<float> src(static_cast<size_t>(cols)), x(static_cast<size_t>(cols));
    for (size_t j = 0; j < src.size(); j += 1) src[j] = j % 17 == 3 ? 0.0f : nd(rng);
    const std::vector<uint8_t> q = gb::quantize_row(gb::dtype::q8_0, src.data(), cols);
    gb::dequantize_row(gb::dtype::q8_0, q.data(), x.data(), cols);
    a.add_row(r, x.data());
    REQUIRE(b.add_row_blocks(r, gb::dtype::q8_0, q.data()));
  }
  gb::tensor_stats ta, tb;
  a.finish(ta);
  b.finish(tb);
  sqt_check_same_stats(tb, ta);
}

TEST_CASE("q4_k rows from their blocks: AVX-512 == the twin bit for bit, == the floats' figures") {
  CHECK(gb::block_sums_supported(gb::dtype::q4_k));
  if (!gb::block_row_scan_isa_available(gb::cols_isa::avx512, gb::dtype::q4_k))
    MESSAGE("note: no AVX-512 q4_k kernel on this CPU (the twin runs alone)");
  std::mt19937 rng(33);
  // kind 0: raw blocks, random scale bytes and nibbles, d and dmin with exponents 2 below to 6 above each
  // other (every value a float exactly), signs mixed, some 0; kind 1: quantised from N(0.02, 0.05);
  // kind 2: values >= 0 with +0 and -0 among them (d = +-0 blocks, dmin = 0): a zero minimum.
  for (int kind = 0; kind < 3; ++kind)
    for (int64_t nb : {1, 7, 8, 9, 20}) {
      const int64_t n = 256 * nb;
      std::vector<uint8_t> q(static_cast<size_t>(144 * nb));
      if (kind == 1) {
        std::normal_distribution<float> nd(0.02f, 0.05f);
        std::vector<float> src(static_cast<size_t>(n));
        for (float& v : src) v = nd(rng);
        q = gb::quantize_row(gb::dtype::q4_k, src.data(), n);
      } else {
        for (uint8_t& b : q) b = static_cast<uint8_t>(rng());
        for (size_t b = 0; b < static_cast<size_t>(nb); ++b) {
          uint16_t hd, hm;
          if (kind == 0) {
            const int ed = 1 + static_cast<int>(rng() % 22),
                      em = std::max(1, ed - 2 + static_cast<int>(rng() % 9));
            hd = static_cast<uint16_t>(ed << 10 | (rng() & 0x3ff) | (rng() % 4 == 0 ? 0x8000 : 0));
            hm = static_cast<uint16_t>(em << 10 | (rng() & 0x3ff) | (rng() % 4 == 0 ? 0x8000 : 0));
            if (b % 5 == 3) hd = 0;
            if (b % 7 == 4) hm = 0x8000;
          } else {
            hd = b % 2 ? uint16_t{0x8000} : uint16_t{0x3c00};
            hm = 0;
          }
          std::memcpy(&q[144 * b], &hd, 2);
          std::memcpy(&q[144 * b + 2], &hm, 2);
        }
      }
      std::vector<float> x(static_cast<size_t>(n));
      gb::dequantize_row(gb::dtype::q4_k, q.data(), x.data(), n);
      CAPTURE(kind);
      CAPTURE(nb);
      const double shift = 0.01;
      const sqt_scan ref = sqt_run(true, q, n, shift, gb::dtype::q4_k);
      REQUIRE(ref.ok);
      for (gb::cols_isa isa : {gb::cols_isa::avx512, gb::cols_isa::portable})
        if (gb::block_row_scan_isa_available(isa, gb::dtype::q4_k))
          sqt_check_same_bits(sqt_run(false, q, n, shift, gb::dtype::q4_k, isa), ref);
      sqt_check_floats(ref, x, shift, 1e-12, 1e-11);
      if (kind == 2) CHECK(ref.s.mn == 0.0f);
    }
  // A block whose d and dmin are far apart (a * u - b may round) or a scale not finite: false, nothing
  // touched.
  std::vector<uint8_t> q(144, 0x5a);
  for (uint16_t hd : {uint16_t{0x3c00}, uint16_t{0x7c00}}) {
    const uint16_t hm = hd == 0x3c00 ? uint16_t{0x1000} : uint16_t{0x3c00};  // 2^-11 vs 1; Inf
    std::memcpy(&q[0], &hd, 2);
    std::memcpy(&q[2], &hm, 2);
    std::vector<float> lo(256, 0.01f), hi(256, -0.01f);
    gb::block_row_stats s{};
    CHECK_FALSE(gb::block_row_scan(gb::dtype::q4_k, q.data(), 256, 0.0, lo.data(), hi.data(), s));
    CHECK_FALSE(gb::block_row_scan_ref(gb::dtype::q4_k, q.data(), 256, 0.0, lo.data(), hi.data(), s));
    CHECK(lo == std::vector<float>(256, 0.01f));
  }
}

TEST_CASE("q4_k scales: all 8 at once (scales_mins_k4) equal scale_min_k4's, every byte pattern's bits") {
  std::mt19937 rng(8);
  for (int trial = 0; trial < 2000; ++trial) {
    uint8_t q[12];  // (12) packed scales: random, and all ones / zeros at the ends
    for (uint8_t& b : q) b = trial == 0 ? 0xff : trial == 1 ? 0 : static_cast<uint8_t>(rng());
    uint8_t d[8], m[8];
    gb::scales_mins_k4(q, d, m);
    for (int j = 0; j < 8; ++j) {
      uint8_t dj = 0, mj = 0;
      gb::scale_min_k4(j, q, &dj, &mj);
      CAPTURE(j);
      CHECK(d[j] == dj);
      CHECK(m[j] == mj);
    }
  }
}
