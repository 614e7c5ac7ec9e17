// Spectral metrics against an independent reference: matrices built as U diag(s) V^T with a known
// spectrum, and the METRICS.md formulas written again here, plainly, from the known eigenvalues.
#include <doctest/doctest.h>

// GCC 12 reports a false maybe-uninitialized inside avx512fintrin.h for Eigen's AVX-512 kernels.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "inspect/spectral.h"

namespace {

// Random N x M matrix with orthonormal columns (QR of a Gaussian matrix).
Eigen::MatrixXd random_orthonormal(int n, int m, std::mt19937_64& rng) {
  std::normal_distribution<double> nd;
  Eigen::MatrixXd g(n, m);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < m; ++j) g(i, j) = nd(rng);
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(g);
  return qr.householderQ() * Eigen::MatrixXd::Identity(n, m);
}

// W (rows x cols, row-major) = U diag(s) V^T.
std::vector<double> build(const std::vector<double>& s, int rows, int cols, std::mt19937_64& rng) {
  const int m = static_cast<int>(s.size());
  Eigen::MatrixXd u = random_orthonormal(rows, m, rng), v = random_orthonormal(cols, m, rng);
  Eigen::MatrixXd w = u * Eigen::Map<const Eigen::VectorXd>(s.data(), m).asDiagonal() * v.transpose();
  std::vector<double> out(static_cast<size_t>(rows) * cols);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) out[static_cast<size_t>(i) * cols + j] = w(i, j);
  return out;
}

struct ref_fit {
  double alpha, xmin, D, sigma;
};
// The reference fit, straight from the definition: O(n^2) sums, no suffix arrays.
ref_fit reference_fit(std::vector<double> lam) {
  std::vector<double> x;
  for (double l : lam)
    if (l > 1e-5) x.push_back(l);
  std::sort(x.begin(), x.end());
  ref_fit best{0, 0, 2, 0};
  const size_t n = x.size();
  for (size_t i = 0; i + 1 < n; ++i) {
    double s = 0;
    for (size_t j = i; j < n; ++j) s += std::log(x[j] / x[i]);
    const double ni = static_cast<double>(n - i);
    const double a = 1 + ni / s;
    double D = 1;
    if (a > 1) {
      D = 0;
      for (size_t k = 0; k < n - i; ++k) {
        double f = 1 - std::pow(x[i + k] / x[i], 1 - a);
        D = std::max(D, std::fabs(f - static_cast<double>(k) / ni));
      }
    }
    if (D < best.D) best = {a, x[i], D, (a - 1) / std::sqrt(ni)};
  }
  return best;
}

void check_rel(double got, double want, double tol = 1e-6) {
  CHECK(std::fabs(got - want) <= tol * std::max(1.0, std::fabs(want)));
}

}  // namespace

TEST_CASE("spectral: exact metrics match an independent reference on a known spectrum") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  for (int trial = 0; trial < 3; ++trial) {
    const int rows = 120 + 30 * trial, cols = 60 + 7 * trial;  // N = rows, M = cols
    std::vector<double> s(static_cast<size_t>(cols));
    for (double& v : s) v = std::pow(1.0 - u(rng), -1.0 / 2.5) * 0.3;  // Pareto-tailed singular values
    std::vector<double> w = build(s, rows, cols, rng);
    gb::spectral_metrics m = gb::spectral_of_matrix(w, rows, cols);
    std::vector<double> lam;
    for (double v : s) lam.push_back(v * v);
    ref_fit f = reference_fit(lam);
    CHECK(m.method.find("exact") != std::string::npos);
    CHECK(m.N == rows);
    CHECK(m.M == cols);
    check_rel(m.alpha, f.alpha);
    check_rel(m.xmin, f.xmin);
    check_rel(m.D, f.D);
    check_rel(m.sigma, f.sigma);
    double sum = 0, mx = 0, smax = 0;
    for (double l : lam) sum += l, mx = std::max(mx, l);
    for (double v : s) smax = std::max(smax, v);
    check_rel(m.norm, sum);
    check_rel(m.log_norm, std::log10(sum));
    check_rel(m.spectral_norm, mx);
    check_rel(m.log_spectral_norm, std::log10(mx));
    check_rel(m.alpha_weighted, f.alpha * std::log10(mx));
    check_rel(m.stable_rank, sum / mx);
    double an = 0;
    for (double l : lam) an += std::pow(l, f.alpha);
    check_rel(m.log_alpha_norm, std::log10(an));
    int rank = 0;
    for (double v : s) rank += v > smax * rows * static_cast<double>(std::numeric_limits<float>::epsilon());
    CHECK(m.matrix_rank == doctest::Approx(rank));
    double h = 0;
    for (double l : lam) h -= (l / sum) * std::log(l / sum);
    check_rel(m.entropy, h / std::log(rank));
  }
}

TEST_CASE("spectral: wide matrices use W W^T and drop eigenvalues <= 1e-5") {
  std::mt19937_64 rng(11);
  const int rows = 30, cols = 90;  // M = 30 rows
  std::vector<double> s(30);
  for (int i = 0; i < 30; ++i)
    s[static_cast<size_t>(i)] = i < 5 ? 1e-4 : 0.5 + 0.1 * i;  // five eigenvalues 1e-8
  std::vector<double> w = build(s, rows, cols, rng);
  gb::spectral_metrics m = gb::spectral_of_matrix(w, rows, cols);
  CHECK(m.N == 90);
  CHECK(m.M == 30);
  CHECK(m.n_eigs == 30);
  CHECK(m.n_fit == 25);
  std::vector<double> lam;
  for (double v : s) lam.push_back(v * v);
  ref_fit f = reference_fit(lam);
  check_rel(m.alpha, f.alpha);
  check_rel(m.D, f.D);
}

TEST_CASE("spectral: matrices with M < 10 are skipped") {
  std::vector<double> w(9 * 50, 0.1);
  gb::spectral_metrics m = gb::spectral_of_matrix(w, 50, 9);
  CHECK(m.skipped);
  CHECK(m.method.find("M < 10") != std::string::npos);
}

TEST_CASE("spectral: randomised top-k recovers the top of a decaying spectrum and says so") {
  std::mt19937_64 rng(3);
  const int rows = 200, cols = 80;
  std::vector<double> s(80);
  for (int i = 0; i < 80; ++i) s[static_cast<size_t>(i)] = 10.0 * std::pow(0.8, i);
  std::vector<double> w = build(s, rows, cols, rng);
  gb::spectral_options o;
  o.max_exact = 40;
  o.top_k = 20;
  gb::spectral_metrics m = gb::spectral_of_matrix(w, rows, cols, o);
  CHECK(m.method.find("randomised top-k=20") != std::string::npos);
  CHECK(m.n_eigs == 20);
  check_rel(m.spectral_norm, 100.0, 1e-5);  // float storage of W
  double fro = 0;
  for (double v : s) fro += v * v;
  check_rel(m.norm, fro, 1e-5);  // exact Frobenius norm (float storage of W)
  CHECK(std::isnan(m.entropy));
  std::vector<double> top;
  for (int i = 0; i < 20; ++i) top.push_back(s[static_cast<size_t>(i)] * s[static_cast<size_t>(i)]);
  ref_fit f = reference_fit(top);
  check_rel(m.alpha, f.alpha, 1e-3);  // float storage of W limits this path
}

TEST_CASE("spectral: power-law fit recovers the exponent of a Pareto sample") {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> x;
  for (int i = 0; i < 4000; ++i) x.push_back(std::pow(1.0 - u(rng), -1.0 / 2.0));  // density exponent 3
  gb::powerlaw_fit f = gb::powerlaw_fit_eigenvalues(x);
  CHECK(f.alpha == doctest::Approx(3.0).epsilon(0.1));
  CHECK(f.D < 0.05);
}
