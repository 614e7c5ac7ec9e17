// probes/statistics.h: the uncertainty every bias number carries. Deterministic given a seed: the same
// seed gives the same interval on every machine (own PRNG, no implementation-defined distributions).
//
//   gb::probes::rng r(42);
//   gb::probes::interval ci = gb::probes::bootstrap_mean(values, 1000, 42);   // percentile 95% CI
//   double p = gb::probes::mann_whitney_u(a, b).p_value;                      // two-sided, as scipy
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace gb::probes {

// xoshiro256** seeded through splitmix64.
class rng {
 public:
  explicit rng(uint64_t seed);
  uint64_t next();
  uint64_t below(uint64_t n);  // uniform in [0, n), unbiased (rejection)
  double uniform();            // [0, 1) with 53 random bits
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<size_t>(below(i))]);
  }

 private:
  uint64_t s_[4];
};

struct interval {
  double estimate = 0, lo = 0, hi = 0;
  double level = 0.95;
  int resamples = 0;
  uint64_t seed = 0;
};

double mean(const std::vector<double>& v);
double stddev(const std::vector<double>& v, int ddof = 1);
double std_error(const std::vector<double>& v);  // sample std / sqrt(n), as lm-evaluation-harness's stderr
// Percentile of sorted data with linear interpolation (numpy's default method).
double percentile_sorted(const std::vector<double>& sorted, double q);

// Percentile bootstrap over items: resample n items with replacement `resamples` times.
interval bootstrap_mean(const std::vector<double>& values, int resamples, uint64_t seed, double level = 0.95);
interval bootstrap(size_t n, const std::function<double(const std::vector<size_t>& idx)>& stat, int resamples,
                   uint64_t seed, double level = 0.95);

struct mwu_result {
  double u1 = 0;       // U statistic of the first sample
  double p_value = 1;  // two-sided
  bool exact = false;  // exact distribution (no ties and min(n1, n2) <= 8) or normal approximation
};
// Two-sided Mann-Whitney U test with scipy.stats.mannwhitneyu's defaults (method="auto",
// use_continuity=True, tie-corrected variance).
mwu_result mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b);

// Two-sided exact binomial test of k successes in n trials against p (as scipy.stats.binomtest).
double binomial_test(uint64_t k, uint64_t n, double p = 0.5);

double normal_sf(double z);  // 1 - Phi(z)

}  // namespace gb::probes
