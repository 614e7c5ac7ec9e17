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

// ---- big matrices streamed from the map (spectral_options::resident_bytes) --------------------------

#include "integrity_fixture.h"

namespace {

void check_same(const gb::spectral_metrics& a, const gb::spectral_metrics& b, double tol) {
  CHECK(a.N == b.N);
  CHECK(a.M == b.M);
  CHECK(a.n_eigs == b.n_eigs);
  check_rel(a.alpha, b.alpha, tol);
  check_rel(a.D, b.D, tol);
  check_rel(a.norm, b.norm, tol);
  check_rel(a.spectral_norm, b.spectral_norm, tol);
  check_rel(a.stable_rank, b.stable_rank, tol);
  check_rel(a.log_alpha_norm, b.log_alpha_norm, tol);
}

}  // namespace

TEST_CASE("spectral: a tall matrix over the resident cap streams its exact Gram with the same bits") {
  // 5000 rows: three 2048-row chunks, a q8_0 tensor decoded from its bytes a chunk at a time.
  gbt::mem_model m;
  m.add("blk.0.ffn_down.weight", gb::dtype::q8_0, {5000, 64}, gbt::gaussian(5000 * 64, 21), 0);
  m.add("blk.0.attn_q.weight", gb::dtype::f32, {300, 40}, gbt::gaussian(300 * 40, 22), 0);
  m.finish();
  gb::spectral_options whole, streamed;
  streamed.resident_bytes = 4096;  // every matrix here is over it
  const gb::spectral_report a = gb::spectral_compute(m.items, whole),
                            b = gb::spectral_compute(m.items, streamed);
  REQUIRE(a.matrices.size() == 2);
  REQUIRE(b.matrices.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(a.matrices[i].method.find("exact") != std::string::npos);
    CHECK(b.matrices[i].method == a.matrices[i].method);
    CHECK(b.matrices[i].alpha == a.matrices[i].alpha);  // bit for bit: the same chunks, the same sums
    CHECK(b.matrices[i].norm == a.matrices[i].norm);
    CHECK(b.matrices[i].entropy == a.matrices[i].entropy);
    CHECK(b.matrices[i].matrix_rank == a.matrices[i].matrix_rank);
  }
  CHECK(a.matrices[0].N == 5000);
  CHECK(a.matrices[0].M == 64);
}

TEST_CASE("spectral: the streamed randomised top-k agrees with the resident one and says it streamed") {
  std::mt19937_64 rng(9);
  const int rows = 700, cols = 120;
  std::vector<double> s(120);
  for (int i = 0; i < 120; ++i) s[static_cast<size_t>(i)] = 5.0 * std::pow(0.9, i);
  const std::vector<double> w = build(s, rows, cols, rng);
  gb::spectral_options whole;
  whole.max_exact = 40;
  whole.top_k = 24;
  gb::spectral_options streamed = whole;
  streamed.resident_bytes = 1024;
  const gb::spectral_metrics a = gb::spectral_of_matrix(w, rows, cols, whole);
  const gb::spectral_metrics b = gb::spectral_of_matrix(w, rows, cols, streamed);
  CHECK(a.method.find("streamed") == std::string::npos);
  CHECK(b.method.find("randomised top-k=24") != std::string::npos);
  CHECK(b.method.find("rows streamed") != std::string::npos);
  CHECK(b.n_eigs == 24);
  check_same(a, b, 1e-6);   // the same algorithm; only the order of the float sums differs
  CHECK(a.norm == b.norm);  // the Frobenius norm is summed row by row in both
  check_rel(b.spectral_norm, 25.0, 1e-5);

  // A wide matrix (M = rows <= max_exact) over the cap takes the streamed randomised path, not a whole read.
  const std::vector<double> wt = build(s, cols, rows, rng);  // 120 x 700
  gbt::mem_model mm;
  mm.add("blk.0.ffn_down.weight", gb::dtype::f32, {cols, rows}, std::vector<float>(wt.begin(), wt.end()), 0);
  mm.finish();
  gb::spectral_options wide;
  wide.top_k = 30;
  const gb::spectral_metrics e = gb::spectral_compute(mm.items, wide).matrices.at(0);
  wide.resident_bytes = 1024;
  const gb::spectral_metrics c = gb::spectral_compute(mm.items, wide).matrices.at(0);
  CHECK(e.method.find("exact") != std::string::npos);
  CHECK(c.method.find("rows streamed") != std::string::npos);
  CHECK(c.M == 120);
  CHECK(c.N == 700);
  check_rel(c.spectral_norm, 25.0, 1e-5);
  check_rel(c.spectral_norm, e.spectral_norm, 1e-5);
  CHECK(std::isnan(c.entropy));
}

TEST_CASE("spectral: streamed matrices give the same report for any thread count") {
  gbt::mem_model m;
  for (int l = 0; l < 3; ++l)
    m.add("blk." + std::to_string(l) + ".ffn_up.weight", gb::dtype::q8_0, {600, 96},
          gbt::gaussian(600 * 96, 30 + static_cast<uint64_t>(l)), l);
  m.finish();
  gb::spectral_options o;
  o.max_exact = 32;
  o.top_k = 16;
  o.resident_bytes = 2048;
  o.threads = 1;
  const gb::spectral_report a = gb::spectral_compute(m.items, o);
  o.threads = 3;
  const gb::spectral_report b = gb::spectral_compute(m.items, o);
  REQUIRE(a.matrices.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(a.matrices[i].method.find("rows streamed") != std::string::npos);
    CHECK(a.matrices[i].alpha == b.matrices[i].alpha);
    CHECK(a.matrices[i].spectral_norm == b.matrices[i].spectral_norm);
  }
}
