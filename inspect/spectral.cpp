// inspect/spectral.cpp: WeightWatcher metrics (see the header for the definitions).
#include "inspect/spectral.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "inspect/parallel.h"

// GCC 12 reports false maybe-uninitialized warnings inside Eigen's AVX-512 packet code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Dense>

namespace gb {

powerlaw_fit powerlaw_fit_eigenvalues(std::vector<double> x) {
  powerlaw_fit best;
  std::sort(x.begin(), x.end());
  const size_t n = x.size();
  if (n < 2) return best;
  // Suffix sums of ln x.
  std::vector<double> lx(n), suf(n + 1, 0.0);
  for (size_t i = 0; i < n; ++i) lx[i] = std::log(x[i]);
  for (size_t i = n; i-- > 0;) suf[i] = suf[i + 1] + lx[i];
  bool have = false;
  for (size_t i = 0; i + 1 < n; ++i) {
    const double ni = static_cast<double>(n - i);
    const double den = suf[i] - ni * lx[i];
    double alpha = den > 0 ? 1.0 + ni / den : 0.0, D = 1.0;
    if (den > 0 && alpha > 1.0) {
      D = 0.0;
      for (size_t k = 0; k < n - i; ++k) {
        const double cdf = 1.0 - std::exp((1.0 - alpha) * (lx[i + k] - lx[i]));
        D = std::max(D, std::fabs(cdf - static_cast<double>(k) / ni));
      }
    }
    if (!have || D < best.D) {
      have = true;
      best.D = D;
      best.alpha = alpha;
      best.xmin = x[i];
      best.n_tail = n - i;
      best.sigma = alpha > 1.0 ? (alpha - 1.0) / std::sqrt(ni) : 0.0;
    }
  }
  return best;
}

spectral_metrics spectral_from_eigenvalues(std::vector<double> eigs, int64_t N, int64_t M, bool full,
                                           double fro2) {
  spectral_metrics m;
  m.N = N;
  m.M = M;
  for (double& e : eigs) e = std::max(e, 0.0);
  std::sort(eigs.begin(), eigs.end());
  m.n_eigs = eigs.size();
  if (eigs.empty()) return m;
  double sum = 0;
  for (double e : eigs) sum += e;
  m.norm = fro2 >= 0 ? fro2 : sum;
  m.log_norm = std::log10(m.norm);
  m.spectral_norm = eigs.back();
  m.log_spectral_norm = std::log10(m.spectral_norm);
  m.stable_rank = m.spectral_norm > 0 ? m.norm / m.spectral_norm : 0.0;
  std::vector<double> fit;
  for (double e : eigs)
    if (e > 1e-5) fit.push_back(e);
  m.n_fit = fit.size();
  powerlaw_fit f = powerlaw_fit_eigenvalues(fit);
  m.alpha = f.alpha;
  m.xmin = f.xmin;
  m.D = f.D;
  m.sigma = f.sigma;
  m.alpha_weighted = m.alpha * m.log_spectral_norm;
  double an = 0;
  for (double e : eigs) an += std::pow(e, m.alpha);
  m.log_alpha_norm = std::log10(an);
  if (full) {
    const double smax = std::sqrt(m.spectral_norm);
    const double tol =
        smax * static_cast<double>(N) * static_cast<double>(std::numeric_limits<float>::epsilon());
    size_t rank = 0;
    for (double e : eigs)
      if (std::sqrt(e) > tol) ++rank;
    m.matrix_rank = static_cast<double>(rank);
    double h = 0;
    for (double e : eigs) {
      const double p = e / sum;
      if (p > 0) h -= p * std::log(p);
    }
    m.entropy = rank > 1 ? h / std::log(static_cast<double>(rank)) : 0.0;
  } else {
    m.matrix_rank = m.entropy = std::numeric_limits<double>::quiet_NaN();
  }
  return m;
}

namespace {

using matf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using matd = Eigen::MatrixXd;

// Eigenvalues of the M x M Gram matrix, accumulated in double over chunks of the float matrix.
std::vector<double> exact_eigs(const matf& a) {
  const int64_t rows = a.rows(), cols = a.cols();
  const bool by_cols = cols <= rows;  // G = A^T A (cols x cols) else A A^T (rows x rows)
  const int64_t m = by_cols ? cols : rows;
  matd g = matd::Zero(m, m);
  const int64_t chunk = 2048;
  if (by_cols) {
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
      const int64_t n = std::min(chunk, rows - r0);
      matd x = a.middleRows(r0, n).cast<double>();  // (n, M)
      g.selfadjointView<Eigen::Lower>().rankUpdate(x.transpose());
    }
  } else {
    for (int64_t c0 = 0; c0 < cols; c0 += chunk) {
      const int64_t n = std::min(chunk, cols - c0);
      matd x = a.middleCols(c0, n).cast<double>();  // (M, n)
      g.selfadjointView<Eigen::Lower>().rankUpdate(x);
    }
  }
  Eigen::SelfAdjointEigenSolver<matd> es(g, Eigen::EigenvaluesOnly);
  std::vector<double> e(static_cast<size_t>(m));
  for (int64_t i = 0; i < m; ++i) e[static_cast<size_t>(i)] = std::max(0.0, es.eigenvalues()(i));
  return e;
}

matd orthonormal(const matd& y) {
  Eigen::HouseholderQR<matd> qr(y);
  return qr.householderQ() * matd::Identity(y.rows(), y.cols());
}

// Top-k eigenvalues of A^T A by a randomised range finder with power iterations (fixed seed).
std::vector<double> randomised_eigs(const matf& a, int64_t k, int power_iters) {
  const int64_t rows = a.rows(), cols = a.cols();
  const int64_t l = std::min<int64_t>(std::min(rows, cols), k + 10);
  std::mt19937_64 rng(0x9b1a55b0c5ULL);
  std::normal_distribution<double> nd(0.0, 1.0);
  matf omega(cols, l);  // (cols, l)
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < l; ++j) omega(i, j) = static_cast<float>(nd(rng));
  matd q = orthonormal((a * omega).cast<double>());  // (rows, l)
  for (int it = 0; it < power_iters; ++it) {
    matd z = orthonormal((a.transpose() * q.cast<float>()).cast<double>());  // (cols, l)
    q = orthonormal((a * z.cast<float>()).cast<double>());                   // (rows, l)
  }
  matd b = (q.cast<float>().transpose() * a).cast<double>();  // (l, cols)
  matd bb = b * b.transpose();                                // (l, l)
  Eigen::SelfAdjointEigenSolver<matd> es(bb, Eigen::EigenvaluesOnly);
  std::vector<double> e;
  for (int64_t i = 0; i < l; ++i) e.push_back(std::max(0.0, es.eigenvalues()(i)));
  std::sort(e.begin(), e.end());
  if (static_cast<int64_t>(e.size()) > k) e.erase(e.begin(), e.end() - k);
  return e;
}

spectral_metrics metrics_of(const matf& a, const spectral_options& opt) {
  const int64_t N = std::max(a.rows(), a.cols()), M = std::min(a.rows(), a.cols());
  if (M < 10) {
    spectral_metrics m;
    m.N = N;
    m.M = M;
    m.skipped = true;
    m.method = "skipped: M < 10";
    return m;
  }
  if (M <= opt.max_exact) {
    spectral_metrics m = spectral_from_eigenvalues(exact_eigs(a), N, M, true);
    m.method = "exact (eigenvalues of the M x M Gram matrix, double)";
    return m;
  }
  double fro2 = 0;
  for (int64_t r = 0; r < a.rows(); ++r) fro2 += a.row(r).cast<double>().squaredNorm();
  const int64_t k = std::min(opt.top_k, M);
  spectral_metrics m = spectral_from_eigenvalues(randomised_eigs(a, k, opt.power_iters), N, M, false, fro2);
  m.method = "randomised top-k=" + std::to_string(k) + " (range finder, " + std::to_string(opt.power_iters) +
             " power iterations; alpha fitted on the top-k tail; rank and entropy not computed)";
  return m;
}

}  // namespace

spectral_metrics spectral_of_matrix(const std::vector<double>& w, int64_t rows, int64_t cols,
                                    const spectral_options& opt) {
  const int64_t N = std::max(rows, cols), M = std::min(rows, cols);
  if (M >= 10 && M <= opt.max_exact) {
    // Exact path in double straight from the input.
    Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> a(w.data(), rows,
                                                                                               cols);
    matd g = cols <= rows ? matd(a.transpose() * a) : matd(a * a.transpose());
    Eigen::SelfAdjointEigenSolver<matd> es(g, Eigen::EigenvaluesOnly);
    std::vector<double> e;
    for (int64_t i = 0; i < M; ++i) e.push_back(std::max(0.0, es.eigenvalues()(i)));
    spectral_metrics m = spectral_from_eigenvalues(e, N, M, true);
    m.method = "exact (eigenvalues of the M x M Gram matrix, double)";
    return m;
  }
  matf a(rows, cols);
  for (int64_t i = 0; i < rows * cols; ++i) a.data()[i] = static_cast<float>(w[static_cast<size_t>(i)]);
  return metrics_of(a, opt);
}

spectral_report spectral_compute(const std::vector<tensor_item>& items, const spectral_options& opt) {
  spectral_report rep;
  std::vector<const tensor_item*> todo;  // every 2-D weight but norms, in item order
  for (const tensor_item& it : items)
    if (it.excluded.empty() && it.shape.size() == 2 && std::string(role_group(it.role)) != "norm")
      todo.push_back(&it);
  rep.matrices.resize(todo.size());
  // one matrix per thread at a time (its decode buffer and Gram matrix), results in item order
  parallel_for(todo.size(), opt.threads, [&](size_t k) {
    const tensor_item& it = *todo[k];
    tensor_reader rd(it);
    spectral_metrics m;
    if (!rd.decodable()) {
      m.skipped = true;
      m.method = std::string("skipped: dtype ") + dtype_name(rd.type()) + " cannot be decoded";
      m.N = std::max(rd.rows(), rd.cols());
      m.M = std::min(rd.rows(), rd.cols());
    } else {
      matf a(rd.rows(), rd.cols());  // (rows, cols) canonical [out, in]
      for (int64_t r = 0; r < rd.rows(); ++r) {
        float* dst = a.data() + r * rd.cols();
        const float* src = rd.row_f32(r, dst);
        if (src != dst) std::copy(src, src + rd.cols(), dst);
      }
      rd.release(0, rd.rows());
      m = metrics_of(a, opt);
    }
    m.name = it.name;
    m.role = it.role;
    m.layer = it.layer;
    rep.matrices[k] = std::move(m);
  });
  spectral_summary& s = rep.summary;
  std::vector<double> alphas;
  for (const spectral_metrics& m : rep.matrices) {
    if (m.skipped) {
      ++s.skipped;
      continue;
    }
    ++s.matrices;
    alphas.push_back(m.alpha);
    s.alpha_mean += m.alpha;
    s.alpha_weighted_mean += m.alpha_weighted;
    s.log_norm_mean += m.log_norm;
    s.stable_rank_mean += m.stable_rank;
    if (m.alpha > 8) ++s.failed_fit;
    if (m.alpha > spectral_alpha_high) ++s.under_trained;
    if (m.alpha < spectral_alpha_low) ++s.over_trained;
  }
  if (s.matrices) {
    const double n = static_cast<double>(s.matrices);
    s.alpha_mean /= n;
    s.alpha_weighted_mean /= n;
    s.log_norm_mean /= n;
    s.stable_rank_mean /= n;
    std::sort(alphas.begin(), alphas.end());
    const size_t k = alphas.size();
    s.alpha_median = k % 2 ? alphas[k / 2] : 0.5 * (alphas[k / 2 - 1] + alphas[k / 2]);
  }
  return rep;
}

std::vector<finding> spectral_findings(const spectral_report& r) {
  std::vector<finding> out;
  for (const spectral_metrics& m : r.matrices) {
    if (m.skipped || m.n_fit < 2 || (m.alpha >= spectral_alpha_low && m.alpha <= spectral_alpha_high))
      continue;
    out.push_back({severity::low,
                   m.alpha > spectral_alpha_high ? "spectral.under_trained" : "spectral.over_trained", m.name,
                   "alpha " + std::to_string(m.alpha) + " outside [2, 6]", UINT64_MAX});
  }
  return out;
}

double spectral_metric(const spectral_metrics& m, const std::string& name) {
  return name == "alpha"            ? m.alpha
         : name == "alpha_weighted" ? m.alpha_weighted
         : name == "stable_rank"    ? m.stable_rank
         : name == "spectral_norm"  ? m.spectral_norm
         : name == "log_norm"       ? m.log_norm
                                    : std::nan("");
}

}  // namespace gb
