// Dequantisation against hand-built blocks (expected values worked out here from the ggml block layouts
// with independent indexing), fp16/bf16 edge cases, and encoder round-trip error bounds.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "formats/error.h"
#include "formats/quant.h"

#if defined(__F16C__)
#include <immintrin.h>
#endif

using namespace gb;

namespace {

void put16(std::vector<uint8_t>& b, size_t off, uint16_t v) {
  std::memcpy(b.data() + off, &v, 2);
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

std::vector<float> decode(dtype t, const std::vector<uint8_t>& b, int64_t n) {
  std::vector<float> y(static_cast<size_t>(n));
  dequantize_row(t, b.data(), y.data(), n);
  return y;
}

// fp16 values used as block scales below (exact in fp16)
constexpr uint16_t H_HALF = 0x3800, H_QUARTER = 0x3400, H_ONE = 0x3C00, H_TWO = 0x4000, H_EIGHTH = 0x3000,
                   H_M_ONE = 0xBC00;

}  // namespace

TEST_CASE("fp16: conversions, rounding ties, subnormals, inf and nan") {
  CHECK(f32_to_fp16(1.0f) == 0x3C00);
  CHECK(f32_to_fp16(-2.0f) == 0xC000);
  CHECK(f32_to_fp16(65504.0f) == 0x7BFF);  // largest finite
  CHECK(f32_to_fp16(65520.0f) == 0x7C00);  // halfway to 65536: ties to even -> inf
  CHECK(f32_to_fp16(65519.0f) == 0x7BFF);
  CHECK(f32_to_fp16(std::ldexp(1.0f, -24)) == 0x0001);  // smallest subnormal
  CHECK(f32_to_fp16(std::ldexp(1.0f, -25)) == 0x0000);  // tie between 0 and 1 ulp -> even (0)
  CHECK(f32_to_fp16(std::ldexp(1.5f, -25)) == 0x0001);
  CHECK(f32_to_fp16(std::ldexp(3.0f, -25)) == 0x0002);             // 1.5 ulp: tie -> even (2)
  CHECK(f32_to_fp16(std::ldexp(1.0f, -14)) == 0x0400);             // smallest normal
  CHECK(f32_to_fp16(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);      // tie -> even
  CHECK(f32_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02);  // tie -> even (up)
  CHECK(f32_to_fp16(-0.0f) == 0x8000);
  CHECK(f32_to_fp16(INFINITY) == 0x7C00);
  CHECK(f32_to_fp16(-INFINITY) == 0xFC00);
  uint16_t n = f32_to_fp16(NAN);
  CHECK((n & 0x7C00) == 0x7C00);
  CHECK((n & 0x3FF) != 0);
  CHECK(fp16_to_f32(0x0001) == std::ldexp(1.0f, -24));
  CHECK(fp16_to_f32(0x03FF) == std::ldexp(1023.0f, -24));
  CHECK(fp16_to_f32(0x7BFF) == 65504.0f);
  CHECK(std::isinf(fp16_to_f32(0xFC00)));
  CHECK(std::isnan(fp16_to_f32(0x7E00)));
  CHECK(std::bit_cast<uint32_t>(fp16_to_f32(0x8000)) == 0x80000000u);
  // every non-NaN half survives a round trip
  for (uint32_t h = 0; h < 65536; ++h) {
    if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF)) continue;
    if (f32_to_fp16(fp16_to_f32(static_cast<uint16_t>(h))) != h) {
      FAIL("fp16 round trip broke at " << h);
    }
  }
}

#if defined(__F16C__)
TEST_CASE("fp16: agrees with the CPU's F16C conversions (independent implementation)") {
  for (uint32_t h = 0; h < 65536; ++h) {
    float hw = _cvtsh_ss(static_cast<unsigned short>(h));
    float sw = fp16_to_f32(static_cast<uint16_t>(h));
    if (std::bit_cast<uint32_t>(hw) != std::bit_cast<uint32_t>(sw)) FAIL("decode differs at " << h);
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) {
    uint32_t u = rng();
    if (i % 2) u = (u & 0x8FFFFFFFu) | 0x30000000u;  // half the samples near fp16's range
    float f = std::bit_cast<float>(u);
    uint16_t hw = static_cast<uint16_t>(_cvtss_sh(f, 0));
    uint16_t sw = f32_to_fp16(f);
    if (hw != sw) FAIL("encode differs for bits " << u << ": hw " << hw << " sw " << sw);
  }
  // the row decoder (vector path) equals the scalar one
  std::vector<uint8_t> all(65536 * 2);
  for (uint32_t h = 0; h < 65536; ++h) put16(all, 2 * h, static_cast<uint16_t>(h));
  auto y = decode(dtype::f16, all, 65536);
  for (uint32_t h = 0; h < 65536; ++h)
    if (std::bit_cast<uint32_t>(y[h]) != std::bit_cast<uint32_t>(fp16_to_f32(static_cast<uint16_t>(h))))
      FAIL("row decode differs at " << h);
}
#endif

TEST_CASE("bf16: round to nearest even, quiet nan") {
  CHECK(f32_to_bf16(1.0f) == 0x3F80);
  CHECK(f32_to_bf16(std::bit_cast<float>(0x3F808000u)) == 0x3F80);  // tie, even stays
  CHECK(f32_to_bf16(std::bit_cast<float>(0x3F818000u)) == 0x3F82);  // tie, odd rounds up
  CHECK(f32_to_bf16(std::bit_cast<float>(0x3F808001u)) == 0x3F81);  // above the tie
  CHECK(f32_to_bf16(std::bit_cast<float>(0x7F800001u)) == 0x7FC0);  // signalling nan -> quiet
  CHECK(f32_to_bf16(INFINITY) == 0x7F80);
  CHECK(f32_to_bf16(std::bit_cast<float>(0x7F7FFFFFu)) == 0x7F80);  // max float rounds to inf
  CHECK(f32_to_bf16(std::bit_cast<float>(0x00010000u)) == 0x0001);  // subnormal kept
  CHECK(bf16_to_f32(0x3F80) == 1.0f);
  CHECK(std::bit_cast<uint32_t>(bf16_to_f32(0x8001)) == 0x80010000u);
}

TEST_CASE("plain types decode to their values") {
  std::vector<uint8_t> b(8);
  double dv = -1.25;
  std::memcpy(b.data(), &dv, 8);
  CHECK(decode(dtype::f64, b, 1)[0] == -1.25f);
  std::vector<uint8_t> i8 = {0x80, 0x7F, 0xFF};
  auto y = decode(dtype::i8, i8, 3);
  CHECK(y == std::vector<float>{-128, 127, -1});
  CHECK(decode(dtype::u8, i8, 3) == std::vector<float>{128, 127, 255});
  std::vector<uint8_t> bools = {0, 1, 2};
  CHECK(decode(dtype::boolean, bools, 3) == std::vector<float>{0, 1, 1});
  // fp8: e4m3fn 0x38 = 1.0, 0x7E = 448 (max), 0x7F = nan, 0x01 = 2^-9; e5m2 0x3C = 1.0, 0x7C = inf
  std::vector<uint8_t> f8 = {0x38, 0x7E, 0x7F, 0x01, 0xB8};
  auto e4 = decode(dtype::f8_e4m3, f8, 5);
  CHECK(e4[0] == 1.0f);
  CHECK(e4[1] == 448.0f);
  CHECK(std::isnan(e4[2]));
  CHECK(e4[3] == std::ldexp(1.0f, -9));
  CHECK(e4[4] == -1.0f);
  std::vector<uint8_t> f5 = {0x3C, 0x7C, 0x01};
  auto e5 = decode(dtype::f8_e5m2, f5, 3);
  CHECK(e5[0] == 1.0f);
  CHECK(std::isinf(e5[1]));
  CHECK(e5[2] == std::ldexp(1.0f, -16));
}

TEST_CASE("q4_0 / q4_1 / q5_0 / q5_1 / q8_0 / q8_1: hand-built blocks") {
  std::vector<uint8_t> b(18);
  put16(b, 0, H_HALF);
  for (int j = 0; j < 16; ++j) b[2 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  auto y = decode(dtype::q4_0, b, 32);
  for (int j = 0; j < 16; ++j) {
    CHECK(y[j] == (j - 8) * 0.5f);
    CHECK(y[16 + j] == (7 - j) * 0.5f);
  }
  b.assign(20, 0);
  put16(b, 0, H_QUARTER);
  put16(b, 2, H_M_ONE);
  for (int j = 0; j < 16; ++j) b[4 + j] = static_cast<uint8_t>(j | (3 << 4));
  y = decode(dtype::q4_1, b, 32);
  for (int j = 0; j < 16; ++j) {
    CHECK(y[j] == j * 0.25f - 1.0f);
    CHECK(y[16 + j] == 3 * 0.25f - 1.0f);
  }
  b.assign(22, 0);
  put16(b, 0, H_ONE);
  uint32_t qh = 0xFFFF0000u;  // fifth bit set for the second half only
  std::memcpy(b.data() + 2, &qh, 4);
  for (int j = 0; j < 16; ++j) b[6 + j] = static_cast<uint8_t>(j | (j << 4));
  y = decode(dtype::q5_0, b, 32);
  for (int j = 0; j < 16; ++j) {
    CHECK(y[j] == static_cast<float>(j - 16));
    CHECK(y[16 + j] == static_cast<float>(j));
  }
  b.assign(24, 0);
  put16(b, 0, H_TWO);
  put16(b, 2, H_HALF);
  qh = 0x0000FFFFu;
  std::memcpy(b.data() + 4, &qh, 4);
  for (int j = 0; j < 16; ++j) b[8 + j] = static_cast<uint8_t>(j | (j << 4));
  y = decode(dtype::q5_1, b, 32);
  for (int j = 0; j < 16; ++j) {
    CHECK(y[j] == static_cast<float>(j | 16) * 2 + 0.5f);
    CHECK(y[16 + j] == static_cast<float>(j) * 2 + 0.5f);
  }
  b.assign(34, 0);
  put16(b, 0, H_EIGHTH);
  for (int j = 0; j < 32; ++j) b[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(j - 16));
  y = decode(dtype::q8_0, b, 32);
  for (int j = 0; j < 32; ++j) CHECK(y[j] == (j - 16) * 0.125f);
  std::vector<uint8_t> b1(36, 0);
  put16(b1, 0, H_EIGHTH);
  put16(b1, 2, H_TWO);  // the sum field does not enter the values
  std::memcpy(b1.data() + 4, b.data() + 2, 32);
  CHECK(decode(dtype::q8_1, b1, 32) == y);
}

TEST_CASE("k-quants: hand-built blocks decode as the layout says") {
  const float d = 0.5f, dmin = 0.25f;  // H_HALF, H_QUARTER
  SUBCASE("q2_k") {
    auto b = random_bytes(84, 1);
    put16(b, 80, H_HALF);
    put16(b, 82, H_QUARTER);
    auto y = decode(dtype::q2_k, b, 256);
    for (int e = 0; e < 256; ++e) {
      const uint8_t sc = b[e / 16];
      const int q = (b[16 + 32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
      const float dl = d * static_cast<float>(sc & 0xF), ml = dmin * static_cast<float>(sc >> 4);
      CHECK(y[e] == dl * static_cast<float>(q) - ml);
    }
  }
  SUBCASE("q3_k") {
    auto b = random_bytes(110, 2);
    put16(b, 108, H_HALF);
    int s[16];  // 6-bit scales unpacked by hand from the 12 packed bytes
    const uint8_t* p = b.data() + 96;
    for (int k = 0; k < 4; ++k) {
      s[k] = (p[k] & 0xF) | (((p[8 + k] >> 0) & 3) << 4);
      s[4 + k] = (p[4 + k] & 0xF) | (((p[8 + k] >> 2) & 3) << 4);
      s[8 + k] = (p[k] >> 4) | (((p[8 + k] >> 4) & 3) << 4);
      s[12 + k] = (p[4 + k] >> 4) | (((p[8 + k] >> 6) & 3) << 4);
    }
    auto y = decode(dtype::q3_k, b, 256);
    for (int e = 0; e < 256; ++e) {
      const int n = e / 128, j = (e % 128) / 32, r = e % 32;
      const int low = (b[32 + 32 * n + r] >> (2 * j)) & 3;
      const int high = (b[r] >> (4 * n + j)) & 1;
      const float dl = d * static_cast<float>(s[e / 16] - 32);
      CHECK(y[e] == dl * static_cast<float>(low + 4 * high - 4));
    }
  }
  auto unpack_k4 = [](const uint8_t* p, int* sc, int* mn) {
    for (int j = 0; j < 4; ++j) {
      sc[j] = p[j] & 63;
      mn[j] = p[j + 4] & 63;
      sc[j + 4] = (p[j + 8] & 0xF) | ((p[j] >> 6) << 4);
      mn[j + 4] = (p[j + 8] >> 4) | ((p[j + 4] >> 6) << 4);
    }
  };
  SUBCASE("q4_k") {
    auto b = random_bytes(144, 3);
    put16(b, 0, H_HALF);
    put16(b, 2, H_QUARTER);
    int sc[8], mn[8];
    unpack_k4(b.data() + 4, sc, mn);
    auto y = decode(dtype::q4_k, b, 256);
    for (int e = 0; e < 256; ++e) {
      const int c = e / 64, r = e % 64;
      const int q = r < 32 ? (b[16 + 32 * c + r] & 0xF) : (b[16 + 32 * c + r - 32] >> 4);
      const float d1 = d * static_cast<float>(sc[e / 32]), m1 = dmin * static_cast<float>(mn[e / 32]);
      CHECK(y[e] == d1 * static_cast<float>(q) - m1);
    }
  }
  SUBCASE("q5_k") {
    auto b = random_bytes(176, 4);
    put16(b, 0, H_HALF);
    put16(b, 2, H_QUARTER);
    int sc[8], mn[8];
    unpack_k4(b.data() + 4, sc, mn);
    auto y = decode(dtype::q5_k, b, 256);
    for (int e = 0; e < 256; ++e) {
      const int c = e / 64, r = e % 64;
      const int lo = r < 32 ? (b[48 + 32 * c + r] & 0xF) : (b[48 + 32 * c + r - 32] >> 4);
      const int hi = (b[16 + e % 32] >> (e / 32)) & 1;
      const float d1 = d * static_cast<float>(sc[e / 32]), m1 = dmin * static_cast<float>(mn[e / 32]);
      CHECK(y[e] == d1 * static_cast<float>(lo + 16 * hi) - m1);
    }
  }
  SUBCASE("q6_k") {
    auto b = random_bytes(210, 5);
    put16(b, 208, H_HALF);
    auto y = decode(dtype::q6_k, b, 256);
    for (int e = 0; e < 256; ++e) {
      const int n = e / 128, k = (e % 128) / 32, l = e % 32;
      const int lo = k < 2 ? (b[64 * n + 32 * k + l] & 0xF) : (b[64 * n + 32 * (k - 2) + l] >> 4);
      const int hi = (b[128 + 32 * n + l] >> (2 * k)) & 3;
      const int8_t sc = static_cast<int8_t>(b[192 + e / 16]);
      CHECK(y[e] == d * static_cast<float>(sc) * static_cast<float>((lo | (hi << 4)) - 32));
    }
  }
  SUBCASE("q8_k") {
    auto b = random_bytes(292, 6);
    const float scale = 0.03125f;
    std::memcpy(b.data(), &scale, 4);
    auto y = decode(dtype::q8_k, b, 256);
    for (int e = 0; e < 256; ++e) CHECK(y[e] == scale * static_cast<float>(static_cast<int8_t>(b[4 + e])));
  }
}

TEST_CASE("dequantize_row errors: partial blocks and undecodable types") {
  std::vector<uint8_t> b(64, 0);
  std::vector<float> y(64);
  try {
    dequantize_row(dtype::q4_0, b.data(), y.data(), 33);
    FAIL("expected bad_value");
  } catch (const failure& f) {
    CHECK(f.err().code == errc::bad_value);
    CHECK(f.err().message.find("block size") != std::string::npos);
  }
  try {
    dequantize_row(dtype::iq2_xxs, b.data(), y.data(), 256);
    FAIL("expected unsupported");
  } catch (const failure& f) {
    CHECK(f.err().code == errc::unsupported);
  }
  CHECK_THROWS_AS(quantize_row(dtype::iq4_nl, y.data(), 32), failure);
  CHECK(!can_quantize(dtype::i32));
}

TEST_CASE("encoders: ggml reference blocks for q8_0 and q4_0 on known input") {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16) / 4.0f;  // -4 .. 3.75
  auto q8 = quantize_row(dtype::q8_0, x.data(), 32);
  REQUIRE(q8.size() == 34);
  uint16_t dh;
  std::memcpy(&dh, q8.data(), 2);
  CHECK(dh == f32_to_fp16(4.0f / 127.0f));
  CHECK(static_cast<int8_t>(q8[2]) == -127);  // -4 / (4/127)
  CHECK(static_cast<int8_t>(q8[2 + 16]) == 0);
  auto q4 = quantize_row(dtype::q4_0, x.data(), 32);
  std::memcpy(&dh, q4.data(), 2);
  CHECK(dh == f32_to_fp16(0.5f));  // max is -4: d = -4 / -8
  CHECK((q4[2] & 0xF) == 0);       // -4 * 2 + 8.5 = 0.5 -> 0
  CHECK((q4[2] >> 4) == 8);        // x[16] = 0 -> 8
}

TEST_CASE("encoders: round-trip error bounds per type") {
  std::mt19937 rng(42);
  std::normal_distribution<float> g(0.0f, 1.0f);
  const int64_t n = 4096;
  std::vector<float> x(n);
  for (auto& v : x) v = g(rng);
  x[5] = 0;
  x[300] = 7.5f;  // an outlier

  auto roundtrip = [&](dtype t) { return decode(t, quantize_row(t, x.data(), n), n); };

  SUBCASE("f16 and bf16: relative error within half an ulp") {
    auto h = roundtrip(dtype::f16);
    auto b = roundtrip(dtype::bf16);
    for (int64_t i = 0; i < n; ++i) {
      CHECK(std::fabs(h[i] - x[i]) <= std::fabs(x[i]) * std::ldexp(1.0f, -11) + std::ldexp(1.0f, -25));
      CHECK(std::fabs(b[i] - x[i]) <= std::fabs(x[i]) * std::ldexp(1.0f, -8));
    }
  }
  SUBCASE("32-element blocks: error within half a step (one step where the top level clamps)") {
    for (dtype t : {dtype::q8_0, dtype::q4_0, dtype::q4_1, dtype::q5_0, dtype::q5_1}) {
      const std::string name = dtype_name(t);
      CAPTURE(name);
      auto y = roundtrip(t);
      for (int64_t b0 = 0; b0 < n; b0 += 32) {
        float lo = x[b0], hi = x[b0], amax = 0;
        for (int j = 0; j < 32; ++j) {
          lo = std::min(lo, x[b0 + j]);
          hi = std::max(hi, x[b0 + j]);
          amax = std::max(amax, std::fabs(x[b0 + j]));
        }
        // step d from the format's definition; the stored fp16 scale differs from d by up to 2^-11
        // relative, which moves level q by q * d * 2^-11 (and the fp16 min by |min| * 2^-11)
        const float u = std::ldexp(1.0f, -11);
        float bound;
        if (t == dtype::q8_0)
          bound = amax / 127 * (0.5f + 127 * u);
        else if (t == dtype::q4_0)
          bound = amax / 8 * (1.0f + 8 * u);  // the top level clamps: one step
        else if (t == dtype::q5_0)
          bound = amax / 16 * (1.0f + 16 * u);
        else if (t == dtype::q4_1)
          bound = (hi - lo) / 15 * (0.5f + 15 * u) + std::fabs(lo) * u;
        else
          bound = (hi - lo) / 31 * (0.5f + 31 * u) + std::fabs(lo) * u;
        bound *= 1.0001f;
        for (int j = 0; j < 32; ++j) CHECK(std::fabs(y[b0 + j] - x[b0 + j]) <= bound);
      }
    }
  }
  SUBCASE("k-quants: error within one sub-block step, and shrinking with more bits") {
    double prev_rms = 1e9;
    for (dtype t : {dtype::q2_k, dtype::q3_k, dtype::q4_k, dtype::q5_k, dtype::q6_k, dtype::q8_k}) {
      const std::string name = dtype_name(t);
      CAPTURE(name);
      auto y = roundtrip(t);
      int levels = t == dtype::q2_k   ? 3
                   : t == dtype::q3_k ? 7
                   : t == dtype::q4_k ? 15
                   : t == dtype::q5_k ? 31
                   : t == dtype::q6_k ? 63
                                      : 254;
      double se = 0;
      for (int64_t b0 = 0; b0 < n; b0 += 256) {
        float amax = 0;
        for (int j = 0; j < 256; ++j) amax = std::max(amax, std::fabs(x[b0 + j]));
        // a step can be at most the super-block range over the levels, with scale-code rounding slack
        const float step = 2 * amax / static_cast<float>(levels) * 1.1f;
        for (int j = 0; j < 256; ++j) {
          const float e = std::fabs(y[b0 + j] - x[b0 + j]);
          CHECK(e <= step);
          se += static_cast<double>(e) * static_cast<double>(e);
        }
      }
      double rms = std::sqrt(se / static_cast<double>(n));
      CHECK(rms < prev_rms);
      prev_rms = rms;
    }
  }
  SUBCASE("q8_k: bsums are the sums of the quants") {
    auto q = quantize_row(dtype::q8_k, x.data(), 256);
    for (int j = 0; j < 16; ++j) {
      int s = 0;
      for (int l = 0; l < 16; ++l) s += static_cast<int8_t>(q[4 + 16 * j + l]);
      int16_t bs;
      std::memcpy(&bs, q.data() + 260 + 2 * j, 2);
      CHECK(bs == s);
    }
  }
}
