// inspect/spectral.cpp: WeightWatcher metrics (see the header for the definitions).
#include "inspect/spectral.h"

#include <algorithm>
#include <cmath>
#include <functional>
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

// Rows of an N x M matrix as floats, read a block at a time: a resident matrix or a tensor decoded from
// the map (so a big matrix is never whole in memory).
struct matrix_rows {
  int64_t rows = 0, cols = 0;
  std::function<void(int64_t r0, int64_t n, float* out)> read;  // rows [r0, r0 + n) -> out (n, cols)
};

matrix_rows rows_of(const matf& a) {
  return {a.rows(), a.cols(), [&a](int64_t r0, int64_t n, float* out) {
            std::copy(a.data() + r0 * a.cols(), a.data() + (r0 + n) * a.cols(), out);
          }};
}

constexpr int64_t gram_chunk = 2048;  // rows (or columns) per rank update: fixed, so the bits are too

// Eigenvalues of the M x M Gram matrix, accumulated in double over chunks of the float matrix. A tall
// matrix (G = A^T A) streams gram_chunk rows at a time; a wide one (G = A A^T, M = rows <= max_exact) is
// read whole (M x N floats).
std::vector<double> exact_eigs(const matrix_rows& a) {
  const int64_t rows = a.rows, cols = a.cols;
  const bool by_cols = cols <= rows;  // G = A^T A (cols x cols) else A A^T (rows x rows)
  const int64_t m = by_cols ? cols : rows;
  matd g = matd::Zero(m, m);
  if (by_cols) {
    matf buf(std::min(gram_chunk, rows), cols);  // (chunk, M)
    for (int64_t r0 = 0; r0 < rows; r0 += gram_chunk) {
      const int64_t n = std::min(gram_chunk, rows - r0);
      a.read(r0, n, buf.data());
      matd x = buf.topRows(n).cast<double>();  // (n, M)
      g.selfadjointView<Eigen::Lower>().rankUpdate(x.transpose());
    }
  } else {
    matf w(rows, cols);  // (M, N)
    a.read(0, rows, w.data());
    for (int64_t c0 = 0; c0 < cols; c0 += gram_chunk) {
      const int64_t n = std::min(gram_chunk, cols - c0);
      matd x = w.middleCols(c0, n).cast<double>();  // (M, n)
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

// The k largest eigenvalues of the (l, l) sketch B B^T, ascending.
std::vector<double> top_eigs(const matd& bb, int64_t k) {
  Eigen::SelfAdjointEigenSolver<matd> es(bb, Eigen::EigenvaluesOnly);
  std::vector<double> e;
  for (int64_t i = 0; i < bb.rows(); ++i) e.push_back(std::max(0.0, es.eigenvalues()(i)));
  std::sort(e.begin(), e.end());
  if (static_cast<int64_t>(e.size()) > k) e.erase(e.begin(), e.end() - k);
  return e;
}

// Gaussian test matrix of the range finder (fixed seed): the same for both twins below.
matf test_matrix(int64_t cols, int64_t l) {
  std::mt19937_64 rng(0x9b1a55b0c5ULL);
  std::normal_distribution<double> nd(0.0, 1.0);
  matf omega(cols, l);  // (cols, l)
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < l; ++j) omega(i, j) = static_cast<float>(nd(rng));
  return omega;
}

// Top-k eigenvalues of A^T A by a randomised range finder with power iterations (fixed seed).
std::vector<double> randomised_eigs(const matf& a, int64_t k, int power_iters) {
  const int64_t rows = a.rows(), cols = a.cols();
  const int64_t l = std::min<int64_t>(std::min(rows, cols), k + 10);
  const matf omega = test_matrix(cols, l);           // (cols, l)
  matd q = orthonormal((a * omega).cast<double>());  // (rows, l)
  for (int it = 0; it < power_iters; ++it) {
    matd z = orthonormal((a.transpose() * q.cast<float>()).cast<double>());  // (cols, l)
    q = orthonormal((a * z.cast<float>()).cast<double>());                   // (rows, l)
  }
  matd b = (q.cast<float>().transpose() * a).cast<double>();  // (l, cols)
  matd bb = b * b.transpose();                                // (l, l)
  return top_eigs(bb, k);
}

// randomised_eigs with A streamed a block of rows at a time (each product is one pass over the rows, the
// matrix decoded again each pass): memory is the sketches, O((rows + cols) l), and one block of rows. The
// same algorithm; the sums of A^T Q run block by block, so the last bits differ from the resident twin.
// Also returns the squared Frobenius norm (row by row in double, as the resident path).
std::vector<double> randomised_eigs_streamed(const matrix_rows& a, int64_t k, int power_iters, double* fro2) {
  const int64_t rows = a.rows, cols = a.cols;
  const int64_t l = std::min<int64_t>(std::min(rows, cols), k + 10);
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(rows, (int64_t{16} << 20) / (4 * cols)));
  matf buf(chunk, cols);  // (chunk, cols): one block of rows
  *fro2 = 0;
  // A X (rows, l); the first pass also sums the squared norm.
  auto times = [&](const matf& x, bool norm) {
    matd y(rows, x.cols());  // (rows, l)
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
      const int64_t n = std::min(chunk, rows - r0);
      a.read(r0, n, buf.data());
      if (norm)
        for (int64_t r = 0; r < n; ++r) *fro2 += buf.row(r).cast<double>().squaredNorm();
      y.middleRows(r0, n) = (buf.topRows(n) * x).cast<double>();
    }
    return y;
  };
  // A^T Q (cols, l), block sums in double.
  auto times_t = [&](const matd& q) {
    matd z = matd::Zero(cols, q.cols());  // (cols, l)
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
      const int64_t n = std::min(chunk, rows - r0);
      a.read(r0, n, buf.data());
      z += (buf.topRows(n).transpose() * q.middleRows(r0, n).cast<float>()).cast<double>();
    }
    return z;
  };
  matd q = orthonormal(times(test_matrix(cols, l), true));  // (rows, l)
  for (int it = 0; it < power_iters; ++it) {
    matd z = orthonormal(times_t(q));                // (cols, l)
    q = orthonormal(times(z.cast<float>(), false));  // (rows, l)
  }
  matd bt = times_t(q);           // (cols, l) = (Q^T A)^T
  matd bb = bt.transpose() * bt;  // (l, l)
  return top_eigs(bb, k);
}

// Metrics of one matrix. `resident`: the whole matrix as floats, else null and the rows are streamed
// from a.read (exact Gram of a tall matrix, or the streamed randomised twin).
spectral_metrics metrics_of(const matrix_rows& a, const matf* resident, const spectral_options& opt) {
  const int64_t N = std::max(a.rows, a.cols), M = std::min(a.rows, a.cols);
  if (M < 10) {
    spectral_metrics m;
    m.N = N;
    m.M = M;
    m.skipped = true;
    m.method = "skipped: M < 10";
    return m;
  }
  // A wide matrix is solved exactly whole (M x N floats): streamed, it takes the randomised path instead.
  const bool wide_whole = a.cols > a.rows && !resident;
  if (M <= opt.max_exact && !wide_whole) {
    spectral_metrics m = spectral_from_eigenvalues(exact_eigs(a), N, M, true);
    m.method = "exact (eigenvalues of the M x M Gram matrix, double)";
    return m;
  }
  const int64_t k = std::min(opt.top_k, M);
  double fro2 = 0;
  std::vector<double> eigs;
  if (resident) {
    for (int64_t r = 0; r < a.rows; ++r) fro2 += resident->row(r).cast<double>().squaredNorm();
    eigs = randomised_eigs(*resident, k, opt.power_iters);
  } else {
    eigs = randomised_eigs_streamed(a, k, opt.power_iters, &fro2);
  }
  spectral_metrics m = spectral_from_eigenvalues(std::move(eigs), N, M, false, fro2);
  m.method = "randomised top-k=" + std::to_string(k) + " (range finder, " + std::to_string(opt.power_iters) +
             " power iterations; alpha fitted on the top-k tail; rank and entropy not computed" +
             (resident ? ")" : "; rows streamed, the matrix is never whole in memory)");
  return m;
}

// True when the matrix as floats fits opt.resident_bytes (computed in double: no overflow).
bool fits_resident(int64_t rows, int64_t cols, const spectral_options& opt) {
  return 4.0 * static_cast<double>(rows) * static_cast<double>(cols) <=
         static_cast<double>(opt.resident_bytes);
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
  return metrics_of(rows_of(a), fits_resident(rows, cols, opt) ? &a : nullptr, opt);
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
      const int64_t cols = rd.cols();
      // Rows decoded from the map into out (n, cols); their pages dropped behind.
      matrix_rows src{rd.rows(), cols, [&rd, cols](int64_t r0, int64_t n, float* out) {
                        for (int64_t r = r0; r < r0 + n; ++r) {
                          float* dst = out + (r - r0) * cols;
                          const float* p = rd.row_f32(r, dst);
                          if (p != dst) std::copy(p, p + cols, dst);
                        }
                        rd.release(r0, r0 + n);
                      }};
      if (fits_resident(rd.rows(), cols, opt)) {
        matf a(rd.rows(), cols);  // (rows, cols) canonical [out, in]
        src.read(0, rd.rows(), a.data());
        m = metrics_of(rows_of(a), &a, opt);
      } else {
        m = metrics_of(src, nullptr, opt);
      }
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
