// row_log_sum (16-lane max, glibc's exp on 8 double lanes) against row_log_sum_ref (std::max and std::exp
// per element): the same bits for rows of every length and shape: random logits, wide spreads (lanes past
// glibc's main range), ties at the max, zero maxima of both signs, infinities and NaN.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "probes/engine/log_softmax.h"

using namespace gb;

namespace {

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
}

// the rows that differ between row_log_sum and row_log_sum_ref
int differing(const std::vector<std::vector<float>>& rows) {
  int bad = 0;
  for (const std::vector<float>& r : rows) {
    double m1 = 0, l1 = 0, m2 = 0, l2 = 0;
    engine::row_log_sum(r.data(), static_cast<int64_t>(r.size()), m1, l1);
    engine::row_log_sum_ref(r.data(), static_cast<int64_t>(r.size()), m2, l2);
    bad += !same_bits(m1, m2) || !same_bits(l1, l2);
  }
  return bad;
}

}  // namespace

TEST_CASE("row_log_sum: random rows of every length, the bits of the std::exp loop") {
#if defined(__AVX512F__) && defined(__GLIBC__)
  CHECK(engine::row_log_sum_vectorised());  // glibc's exp: the lanes must agree with it
#endif
  MESSAGE("lanes " << (engine::row_log_sum_vectorised() ? "on" : "off (the scalar loop)"));
  std::mt19937 rng(5);
  std::vector<std::vector<float>> rows;
  for (int64_t V : {1, 2, 7, 8, 9, 15, 16, 17, 31, 100, 1000, 32000})
    for (float spread : {0.01f, 1.0f, 4.0f, 40.0f}) {
      std::normal_distribution<float> d(0.5f, spread);
      std::vector<float> r(static_cast<size_t>(V));
      for (float& v : r) v = d(rng);
      rows.push_back(r);
    }
  CHECK(differing(rows) == 0);
  // many model-like rows: a 1-ulp difference in any exp would show in some sums
  rows.clear();
  std::normal_distribution<float> d(0.0f, 3.0f);
  for (int i = 0; i < 64; ++i) {
    std::vector<float> r(32000);
    for (float& v : r) v = d(rng);
    rows.push_back(std::move(r));
  }
  CHECK(differing(rows) == 0);
}

TEST_CASE("row_log_sum: ties, zero maxima, lanes outside exp's main range, infinities and NaN") {
  constexpr float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<std::vector<float>> rows;
  std::vector<float> base(40);
  for (size_t j = 0; j < base.size(); ++j) base[j] = -0.25f * static_cast<float>(j % 13);
  auto with = [&](std::initializer_list<std::pair<size_t, float>> set) {
    std::vector<float> r = base;
    for (auto [j, v] : set) r[j] = v;
    rows.push_back(r);
  };
  with({});                                       // max 0 at several places (+0 from the pattern)
  with({{0, -0.0f}, {13, 0.0f}});                 // zero maxima of both signs
  with({{5, 3.0f}, {30, 3.0f}});                  // a tie at the max
  with({{7, -1000.0f}, {33, -600.0f}});           // x < -512: glibc's special path, std::exp
  with({{9, 1e-20f}, {10, -1e-20f}});             // |x| < 2^-54 beside the max
  with({{3, -inf}});                              // exp(-inf) = 0
  with({{11, inf}});                              // an infinite max
  with({{0, nan}});                               // a NaN first: the max is NaN
  with({{17, nan}});                              // a NaN later: skipped by the max, NaN sum
  with({{0, 1e30f}, {1, -1e30f}});                // a huge spread
  rows.push_back(std::vector<float>(33, -inf));   // every element -inf
  rows.push_back(std::vector<float>(16, 88.0f));  // all equal
  CHECK(differing(rows) == 0);
}
