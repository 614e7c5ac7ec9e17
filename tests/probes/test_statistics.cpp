// Statistics behind every bias interval: PRNG determinism, bootstrap, Mann-Whitney U, binomial test.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "probes/statistics.h"

using namespace gb::probes;

TEST_CASE("rng is deterministic and unbiased enough") {
  rng a(7), b(7), c(8);
  for (int i = 0; i < 100; ++i) CHECK(a.next() == b.next());
  CHECK(a.next() != c.next());
  rng r(1);
  std::vector<int> counts(10, 0);
  for (int i = 0; i < 100000; ++i) counts[static_cast<size_t>(r.below(10))]++;
  for (int k : counts) CHECK(std::abs(k - 10000) < 500);
}

TEST_CASE("percentile uses numpy's linear interpolation") {
  std::vector<double> s = {1, 2, 3, 4};
  CHECK(percentile_sorted(s, 50) == doctest::Approx(2.5));
  CHECK(percentile_sorted(s, 2.5) == doctest::Approx(1.075));
  CHECK(percentile_sorted(s, 100) == doctest::Approx(4));
}

TEST_CASE("bootstrap interval covers the mean and is reproducible") {
  std::vector<double> v;
  rng r(3);
  for (int i = 0; i < 400; ++i) v.push_back(r.uniform() < 0.3 ? 1.0 : 0.0);
  interval a = bootstrap_mean(v, 1000, 42), b = bootstrap_mean(v, 1000, 42);
  CHECK(a.lo == b.lo);
  CHECK(a.hi == b.hi);
  CHECK(a.lo < a.estimate);
  CHECK(a.hi > a.estimate);
  // width close to the normal approximation 2 * 1.96 * sqrt(p(1-p)/n)
  double p = a.estimate, w = 2 * 1.96 * std::sqrt(p * (1 - p) / 400);
  CHECK((a.hi - a.lo) == doctest::Approx(w).epsilon(0.2));
}

TEST_CASE("Mann-Whitney U: exact path equals brute-force enumeration") {
  std::vector<double> x = {1.1, 2.5, 3.7, 8.0}, y = {0.5, 0.9, 1.5, 2.0, 2.2};
  mwu_result r = mann_whitney_u(x, y);
  CHECK(r.exact);
  // U1 = number of pairs with x > y
  double u1 = 0;
  for (double a : x)
    for (double b : y) u1 += a > b ? 1 : 0;
  CHECK(r.u1 == u1);
  // brute force: all C(9,4) assignments of ranks to x
  std::vector<double> all = x;
  all.insert(all.end(), y.begin(), y.end());
  int n = 9, ge = 0, total = 0;
  double u = std::max(u1, 20 - u1);
  for (int mask = 0; mask < (1 << n); ++mask) {
    if (__builtin_popcount(mask) != 4) continue;
    double ui = 0;
    for (int i = 0; i < n; ++i)
      if ((mask >> i) & 1)
        for (int j = 0; j < n; ++j)
          if (!((mask >> j) & 1)) ui += all[i] > all[j] ? 1 : 0;
    if (ui >= u) ++ge;
    ++total;
  }
  CHECK(r.p_value == doctest::Approx(std::min(1.0, 2.0 * ge / total)));
}

TEST_CASE("Mann-Whitney U: normal approximation with ties and continuity correction") {
  std::vector<double> x, y;
  for (int i = 0; i < 20; ++i) x.push_back(i % 5);
  for (int i = 0; i < 25; ++i) y.push_back(i % 7 + 1);
  mwu_result r = mann_whitney_u(x, y);
  CHECK(!r.exact);
  // independent formula
  std::vector<double> all = x;
  all.insert(all.end(), y.begin(), y.end());
  double u1 = 0;
  for (double a : x)
    for (double b : y) u1 += a > b ? 1 : (a == b ? 0.5 : 0);
  CHECK(r.u1 == doctest::Approx(u1));
  std::sort(all.begin(), all.end());
  double tie = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j] == all[i]) ++j;
    double t = static_cast<double>(j - i);
    tie += t * t * t - t;
    i = j;
  }
  double n1 = 20, n2 = 25, n = 45, u = std::max(u1, n1 * n2 - u1);
  double sd = std::sqrt(n1 * n2 / 12 * ((n + 1) - tie / (n * (n - 1))));
  double z = (u - n1 * n2 / 2 - 0.5) / sd;
  CHECK(r.p_value == doctest::Approx(std::erfc(z / std::sqrt(2.0))));
}

TEST_CASE("binomial test matches direct summation") {
  // k = 7 of n = 10 at p = 0.5: outcomes as or less likely: 0,1,2,3,7,8,9,10 -> 2 * (1+10+45+120)/1024
  CHECK(binomial_test(7, 10) == doctest::Approx(2.0 * 176 / 1024));
  CHECK(binomial_test(5, 10) == doctest::Approx(1.0));
}
