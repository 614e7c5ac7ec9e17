// inspect/spectral.h: WeightWatcher-style spectral metrics per weight matrix, as defined in
// shared/docs/METRICS.md (weightwatcher WW_powerlaw.py / weightwatcher.py / RMT_Util.py).
//
// For a matrix W (N = larger dim, M = smaller; skipped when M < 10):
//   eigenvalues  lambda_i = sigma_i^2 (squared singular values, not divided by N), from W^T W or W W^T
//                (M x M, double) with Eigen's SelfAdjointEigenSolver ("exact");
//   power law    x = lambda > 1e-5 sorted; for each candidate x_min = x_i (n_i = n - i points)
//                alpha_i = 1 + n_i / (sum_{j>=i} ln x_j - n_i ln x_i); D_i = max_k |1 -
//                (x_{i+k}/x_i)^(1-alpha_i)
//                - k/n_i| when alpha_i > 1, else 1; the smallest D wins (first on ties); sigma =
//                (alpha-1)/sqrt(n_i);
//   companions   norm = sum lambda (squared Frobenius), log_norm = log10 norm, spectral_norm = max lambda,
//                log_spectral_norm, alpha_weighted = alpha log10(max lambda), log_alpha_norm = log10 sum
//                lambda^alpha, stable_rank = norm / max lambda, matrix_rank = #{sigma > max sigma * N *
//                eps_f32}, entropy = -sum p ln p / ln(rank), p = lambda / sum lambda.
// Large matrices (M > max_exact): "randomised top-k": a randomised range finder (Halko et al. 2011,
// Gaussian test matrix with k+10 columns, `power_iters` power iterations, fixed seed) gives the top k
// eigenvalues; alpha/D/x_min are fitted on that top-k tail, norm and stable_rank use the exact Frobenius
// norm, matrix_rank and entropy are not computed (NaN). The method is named in every result. Big matrices
// (over spectral_options::resident_bytes as floats) are streamed from the map, never decoded whole.
//
//   gb::spectral_report r = gb::spectral_compute(gb::tensor_items(model), {});
//   for (auto& m : r.matrices) std::printf("%s alpha %.3f\n", m.name.c_str(), m.alpha);
//   gb::spectral_metrics k = gb::spectral_from_eigenvalues(eigs, N, M);   // metrics from a known spectrum
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "inspect/tensor_values.h"

namespace gb {

struct powerlaw_fit {
  double alpha = 0, xmin = 0, D = 1, sigma = 0;
  size_t n_tail = 0;  // points at or above x_min
};
// Fit on eigenvalues already filtered (> 1e-5); any order. n < 2 gives alpha 0 and D 1.
powerlaw_fit powerlaw_fit_eigenvalues(std::vector<double> x);

struct spectral_metrics {
  std::string name;
  role_kind role = role_kind::other;
  int layer = -1;
  int64_t N = 0, M = 0;
  std::string method;  // "exact (eigen W^T W)" or "randomised top-k=..."; "skipped: ..."
  bool skipped = false;
  size_t n_eigs = 0, n_fit = 0;  // eigenvalues computed, and > 1e-5
  double alpha = 0, xmin = 0, D = 1, sigma = 0, alpha_weighted = 0, log_alpha_norm = 0;
  double norm = 0, log_norm = 0, spectral_norm = 0, log_spectral_norm = 0, stable_rank = 0;
  double matrix_rank = 0, entropy = 0;  // NaN in randomised mode
};

// Metrics from the eigenvalues (squared singular values) of an N x M matrix; `frobenius2` overrides the
// norm when the list is truncated (< 0: sum of the list); `full` = the list is the whole spectrum.
spectral_metrics spectral_from_eigenvalues(std::vector<double> eigs, int64_t N, int64_t M, bool full = true,
                                           double frobenius2 = -1.0);

struct spectral_options {
  int64_t max_exact = 1024;  // M above this uses the randomised top-k method
  int64_t top_k = 256;
  int power_iters = 3;
  int threads = 0;  // matrices in parallel (0 = all cores); the result is the same for any count
  // A matrix whose floats take more than this is never whole in memory: a tall one's exact Gram is
  // accumulated 2048 decoded rows at a time (the same bits as whole), the randomised path streams blocks
  // of rows through every product (the matrix decoded again per pass; sums in another order: the last
  // bits differ from the resident path), and a wide one (M = rows <= max_exact) takes the streamed
  // randomised path. Memory per thread: this many bytes at most, or O((rows + cols) (top_k + 10)).
  int64_t resident_bytes = int64_t{256} << 20;
};
// Metrics of a row-major rows x cols matrix (double), exact or randomised per the options.
spectral_metrics spectral_of_matrix(const std::vector<double>& w, int64_t rows, int64_t cols,
                                    const spectral_options& opt = {});

struct spectral_summary {
  size_t matrices = 0, skipped = 0;
  double alpha_mean = 0, alpha_median = 0, alpha_weighted_mean = 0, log_norm_mean = 0, stable_rank_mean = 0;
  size_t under_trained = 0, over_trained = 0, failed_fit = 0;  // alpha > 6, < 2, > 8
};
struct spectral_report {
  std::vector<spectral_metrics> matrices;
  spectral_summary summary;
};

// Every 2-D weight (not norms, not excluded tensors) of the items; quantised weights are dequantised.
spectral_report spectral_compute(const std::vector<tensor_item>& items, const spectral_options& opt = {});

// The alpha range of a well-trained layer (WeightWatcher): above, under-trained; below, over-trained.
inline constexpr double spectral_alpha_low = 2, spectral_alpha_high = 6;
// A low finding (spectral.under_trained / spectral.over_trained, where = the tensor) for every matrix whose
// power-law fit (at least two eigenvalues) puts alpha outside [spectral_alpha_low, spectral_alpha_high].
std::vector<finding> spectral_findings(const spectral_report& r);
// A metric by its name (alpha, alpha_weighted, stable_rank, spectral_norm, log_norm); NaN for another name.
double spectral_metric(const spectral_metrics& m, const std::string& name);

}  // namespace gb
