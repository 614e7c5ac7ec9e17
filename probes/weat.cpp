#include "probes/weat.h"

#include <algorithm>
#include <cmath>

#include "inspect/parallel.h"
#include "probes/bias.h"

namespace gb::probes {
namespace {

double cosine(const std::vector<float>& x, const std::vector<float>& y) {
  double xy = 0, xx = 0, yy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double a = x[i], b = y[i];
    xy += a * b;
    xx += a * a;
    yy += b * b;
  }
  return xy / std::sqrt(xx * yy);
}

double binom(uint64_t n, uint64_t k) {
  double r = 1;
  for (uint64_t i = 1; i <= k; ++i) r = r * static_cast<double>(n - k + i) / static_cast<double>(i);
  return r;
}

}  // namespace

namespace {

// A test's vectors, looked up (the serial part: a model lookup runs the engine).
struct weat_vectors {
  weat_result r;                               // names, sizes, missing words
  std::vector<std::vector<float>> X, Y, A, B;  // (words, dim) per set
};

weat_vectors weat_fetch(const weat_sets& t,
                        const std::function<std::vector<float>(const std::string&)>& lookup) {
  weat_vectors out;
  weat_result& r = out.r;
  r.name = t.name;
  r.x_name = t.targ1.category;
  r.y_name = t.targ2.category;
  r.a_name = t.attr1.category;
  r.b_name = t.attr2.category;
  size_t dim = 0;
  auto fetch = [&](const word_set& s) {
    std::vector<std::vector<float>> v;
    for (const auto& w : s.words) {
      std::vector<float> e = lookup(w);
      if (e.empty() || (dim && e.size() != dim)) {
        r.missing.push_back(w);
        continue;
      }
      dim = e.size();
      v.push_back(std::move(e));
    }
    return v;
  };
  out.X = fetch(t.targ1), out.Y = fetch(t.targ2), out.A = fetch(t.attr1), out.B = fetch(t.attr2);
  return out;
}

// The statistics of one test (pure: effect size, permutation p-value, bootstrap interval).
weat_result weat_compute(const weat_vectors& in, const weat_options& opt) {
  weat_result r = in.r;
  const auto &X = in.X, &Y = in.Y, &A = in.A, &B = in.B;
  r.nx = X.size();
  r.ny = Y.size();
  r.na = A.size();
  r.nb = B.size();
  if (X.empty() || Y.empty() || A.empty() || B.empty()) {
    r.error = "a word set has no words with vectors";
    return r;
  }
  // s(w, A, B) for every target word: X first, then Y.
  std::vector<double> s;
  for (const auto* set : {&X, &Y})
    for (const auto& w : *set) {
      double ma = 0, mb = 0;
      for (const auto& a : A) ma += cosine(w, a);
      for (const auto& b : B) mb += cosine(w, b);
      s.push_back(ma / static_cast<double>(A.size()) - mb / static_cast<double>(B.size()));
    }
  const size_t nx = X.size(), n = s.size();
  auto effect = [&](const std::vector<size_t>& xi, const std::vector<size_t>& yi) {
    std::vector<double> sx, sy, all;
    for (size_t i : xi) sx.push_back(s[i]);
    for (size_t i : yi) sy.push_back(s[nx + i]);
    all = sx;
    all.insert(all.end(), sy.begin(), sy.end());
    return (mean(sx) - mean(sy)) / stddev(all, 1);
  };
  std::vector<size_t> ix(nx), iy(n - nx);
  for (size_t i = 0; i < nx; ++i) ix[i] = i;
  for (size_t i = 0; i < n - nx; ++i) iy[i] = i;
  r.effect_size = effect(ix, iy);
  r.equal_sizes = nx == n - nx;

  double total = 0, sum_x = 0;
  for (size_t i = 0; i < n; ++i) total += s[i];
  for (size_t i = 0; i < nx; ++i) sum_x += s[i];
  r.statistic = sum_x - (total - sum_x);
  // statistic for a subset with sum q: q - (total - q) = 2q - total; compare subset sums.
  const double parts = binom(n, nx);
  uint64_t count_ge = 0, count = 0;
  if (parts <= static_cast<double>(opt.exact_limit)) {
    r.exact = true;
    std::vector<size_t> c(nx);
    for (size_t i = 0; i < nx; ++i) c[i] = i;
    while (true) {
      double q = 0;
      for (size_t i : c) q += s[i];
      double si = 2 * q - total;
      if (si >= r.statistic) ++count_ge;  // ties count (sent-bias: conservative)
      ++count;
      // next combination
      size_t i = nx;
      while (i > 0 && c[i - 1] == n - nx + i - 1) --i;
      if (i == 0) break;
      ++c[i - 1];
      for (size_t k = i; k < nx; ++k) c[k] = c[k - 1] + 1;
    }
  } else {
    rng g(opt.seed);
    std::vector<size_t> idx(n);
    for (size_t i = 0; i < n; ++i) idx[i] = i;
    count_ge = 1;  // sent-bias biases the p-value by one hallucinated positive observation
    count = 1;
    for (int k = 0; k < opt.samples - 1; ++k) {
      g.shuffle(idx);
      double q = 0;
      for (size_t i = 0; i < nx; ++i) q += s[idx[i]];
      if (2 * q - total >= r.statistic) ++count_ge;
      ++count;
    }
  }
  r.partitions = count;
  r.p_value = static_cast<double>(count_ge) / static_cast<double>(count);

  if (opt.bootstrap > 0) {
    rng g(opt.seed ^ 0x5eedb007ULL);
    std::vector<double> stats;
    std::vector<size_t> bx(nx), by(n - nx);
    for (int b = 0; b < opt.bootstrap; ++b) {
      for (auto& v : bx) v = static_cast<size_t>(g.below(nx));
      for (auto& v : by) v = static_cast<size_t>(g.below(n - nx));
      double e = effect(bx, by);
      if (std::isfinite(e)) stats.push_back(e);
    }
    std::sort(stats.begin(), stats.end());
    r.effect_ci.estimate = r.effect_size;
    r.effect_ci.lo = percentile_sorted(stats, 2.5);
    r.effect_ci.hi = percentile_sorted(stats, 97.5);
    r.effect_ci.resamples = opt.bootstrap;
    r.effect_ci.seed = opt.seed;
  }
  return r;
}

}  // namespace

weat_result weat_run(const weat_sets& t, const std::function<std::vector<float>(const std::string&)>& lookup,
                     const weat_options& opt) {
  return weat_compute(weat_fetch(t, lookup), opt);
}

std::vector<weat_result> weat_run_all(const std::vector<weat_sets>& tests, const test_lookup& lookup,
                                      const weat_options& opt, int threads) {
  std::vector<weat_vectors> vectors;  // (tests)
  vectors.reserve(tests.size());
  for (const weat_sets& t : tests)
    vectors.push_back(weat_fetch(t, [&](const std::string& w) { return lookup(t, w); }));
  std::vector<weat_result> out(tests.size());  // (tests)
  parallel_for(tests.size(), threads, [&](size_t i) { out[i] = weat_compute(vectors[i], opt); });
  return out;
}

}  // namespace gb::probes
