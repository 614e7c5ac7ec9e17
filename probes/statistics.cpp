#include "probes/statistics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace gb::probes {

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}
}  // namespace

rng::rng(uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

uint64_t rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

uint64_t rng::below(uint64_t n) {
  if (n <= 1) return 0;
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = next();
  while (x >= limit);
  return x % n;
}

double rng::uniform() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

double mean(const std::vector<double>& v) {
  if (v.empty()) return std::nan("");
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double stddev(const std::vector<double>& v, int ddof) {
  if (v.size() <= static_cast<size_t>(ddof)) return std::nan("");
  double m = mean(v), s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - static_cast<size_t>(ddof)));
}

double std_error(const std::vector<double>& v) {
  return stddev(v, 1) / std::sqrt(static_cast<double>(v.size()));
}

double percentile_sorted(const std::vector<double>& s, double q) {
  if (s.empty()) return std::nan("");
  double pos = q / 100.0 * static_cast<double>(s.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, s.size() - 1);
  double frac = pos - static_cast<double>(lo);
  return s[lo] + (s[hi] - s[lo]) * frac;
}

interval bootstrap(size_t n, const std::function<double(const std::vector<size_t>&)>& stat, int resamples,
                   uint64_t seed, double level) {
  interval ci;
  ci.level = level;
  ci.resamples = resamples;
  ci.seed = seed;
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  ci.estimate = stat(idx);
  if (n == 0 || resamples <= 0) {
    ci.lo = ci.hi = ci.estimate;
    return ci;
  }
  rng r(seed);
  std::vector<double> stats;
  stats.reserve(static_cast<size_t>(resamples));
  for (int b = 0; b < resamples; ++b) {
    for (size_t i = 0; i < n; ++i) idx[i] = static_cast<size_t>(r.below(n));
    double v = stat(idx);
    if (!std::isnan(v)) stats.push_back(v);
  }
  std::sort(stats.begin(), stats.end());
  double alpha = (1.0 - level) / 2.0 * 100.0;
  ci.lo = percentile_sorted(stats, alpha);
  ci.hi = percentile_sorted(stats, 100.0 - alpha);
  return ci;
}

interval bootstrap_mean(const std::vector<double>& values, int resamples, uint64_t seed, double level) {
  return bootstrap(
      values.size(),
      [&](const std::vector<size_t>& idx) {
        double s = 0;
        for (size_t i : idx) s += values[i];
        return idx.empty() ? std::nan("") : s / static_cast<double>(idx.size());
      },
      resamples, seed, level);
}

double normal_sf(double z) {
  return 0.5 * std::erfc(z / std::sqrt(2.0));
}

namespace {
// Number of arrangements with U = u for sizes (m, n): exact null distribution, returned as probabilities.
std::vector<double> mwu_exact_pmf(size_t m, size_t n) {
  // f[i][j][u]: counts; iterate with rolling tables over i (<= 8 small) using doubles (binomials fit).
  const size_t umax = m * n;
  std::vector<std::vector<std::vector<double>>> f(m + 1, std::vector<std::vector<double>>(n + 1));
  for (size_t i = 0; i <= m; ++i)
    for (size_t j = 0; j <= n; ++j) {
      f[i][j].assign(i * j + 1, 0.0);
      if (i == 0 || j == 0) {
        f[i][j][0] = 1.0;
        continue;
      }
      for (size_t u = 0; u <= i * j; ++u) {
        double a = (u >= j && u - j <= (i - 1) * j) ? f[i - 1][j][u - j] : 0.0;
        double b = (u <= i * (j - 1)) ? f[i][j - 1][u] : 0.0;
        f[i][j][u] = a + b;
      }
    }
  std::vector<double> pmf = f[m][n];
  double total = std::accumulate(pmf.begin(), pmf.end(), 0.0);
  for (double& p : pmf) p /= total;
  (void)umax;
  return pmf;
}
}  // namespace

mwu_result mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b) {
  mwu_result r;
  const size_t n1 = a.size(), n2 = b.size();
  if (n1 == 0 || n2 == 0) return r;
  // ranks of the pooled sample with average ranks for ties
  std::vector<std::pair<double, size_t>> all;
  all.reserve(n1 + n2);
  for (size_t i = 0; i < n1; ++i) all.push_back({a[i], i});
  for (size_t i = 0; i < n2; ++i) all.push_back({b[i], n1 + i});
  std::sort(all.begin(), all.end(), [](auto& x, auto& y) { return x.first < y.first; });
  const size_t n = n1 + n2;
  std::vector<double> rank(n);
  double tie_term = 0;
  bool ties = false;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && all[j + 1].first == all[i].first) ++j;
    double avg = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k) rank[all[k].second] = avg;
    double t = static_cast<double>(j - i + 1);
    if (t > 1) ties = true;
    tie_term += t * t * t - t;
    i = j + 1;
  }
  double r1 = 0;
  for (size_t i = 0; i < n1; ++i) r1 += rank[i];
  const double dn1 = static_cast<double>(n1), dn2 = static_cast<double>(n2), dn = static_cast<double>(n);
  r.u1 = r1 - dn1 * (dn1 + 1) / 2.0;
  const double u2 = dn1 * dn2 - r.u1;
  const double u = std::max(r.u1, u2);
  if ((n1 <= 8 || n2 <= 8) && !ties) {
    r.exact = true;
    std::vector<double> pmf = mwu_exact_pmf(n1, n2);
    double sf = 0;  // P(U >= u)
    for (size_t k = static_cast<size_t>(u); k < pmf.size(); ++k) sf += pmf[k];
    r.p_value = std::min(1.0, 2.0 * sf);
    return r;
  }
  const double mu = dn1 * dn2 / 2.0;
  const double s = std::sqrt(dn1 * dn2 / 12.0 * ((dn + 1.0) - tie_term / (dn * (dn - 1.0))));
  if (s == 0) {
    r.p_value = 1.0;
    return r;
  }
  const double z = (u - mu - 0.5) / s;
  r.p_value = std::min(1.0, 2.0 * normal_sf(z));
  return r;
}

double binomial_test(uint64_t k, uint64_t n, double p) {
  if (n == 0) return 1.0;
  auto logpmf = [&](uint64_t i) {
    return std::lgamma(static_cast<double>(n) + 1) - std::lgamma(static_cast<double>(i) + 1) -
           std::lgamma(static_cast<double>(n - i) + 1) + static_cast<double>(i) * std::log(p) +
           static_cast<double>(n - i) * std::log1p(-p);
  };
  const double d = logpmf(k);
  const double rerr = 1 + 1e-7;
  double total = 0;
  for (uint64_t i = 0; i <= n; ++i) {
    double l = logpmf(i);
    if (l <= d + std::log(rerr)) total += std::exp(l);
  }
  return std::min(1.0, total);
}

}  // namespace gb::probes
