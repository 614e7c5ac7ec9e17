// inspect/tensor_overlay.cpp: one metric per tensor for graph overlays (see inspect/tensor_overlay.h).
#include "inspect/tensor_overlay.h"

#include <algorithm>
#include <iterator>

#include "inspect/spectral.h"
#include "inspect/stats.h"

namespace gb {

namespace {

double stats_metric(const tensor_stats& t, const std::string& metric) {
  return metric == "norm"       ? t.l2
         : metric == "absmax"   ? t.abs_max
         : metric == "std"      ? t.std
         : metric == "kurtosis" ? t.kurtosis
         : metric == "outliers" ? static_cast<double>(t.outlier_rows + t.outlier_cols)
         : metric == "nan"      ? static_cast<double>(t.nan_count + t.inf_count)
                                : t.zero_fraction;
}

}  // namespace

result<tensor_overlay> tensor_overlay_compute(const integrity_input& in, const std::string& metric,
                                              int threads) {
  static const char* stats_metrics[] = {"norm", "absmax", "std", "kurtosis", "outliers", "nan", "zeros"};
  static const char* spectral_metrics[] = {"alpha", "alpha_weighted", "stable_rank", "spectral_norm",
                                           "log_norm"};
  const bool is_stats =
      std::find(std::begin(stats_metrics), std::end(stats_metrics), metric) != std::end(stats_metrics);
  const bool is_spectral = std::find(std::begin(spectral_metrics), std::end(spectral_metrics), metric) !=
                           std::end(spectral_metrics);
  if (!is_stats && !is_spectral)
    return error{errc::unsupported, 0,
                 "unknown overlay '" + metric +
                     "' (norm, absmax, std, kurtosis, outliers, nan, zeros, alpha, alpha_weighted, "
                     "stable_rank, spectral_norm, log_norm)",
                 ""};
  return capture(in.ar->path, [&]() -> tensor_overlay {
    tensor_overlay o;
    o.metric = metric;
    if (is_stats) {
      stats_options so;
      so.threads = threads;
      so.values_digest = false;
      stats_report r = stats_compute(in.items, so);
      for (const auto& t : r.tensors)
        if (t.readable) o.values[t.name] = stats_metric(t, metric);
      o.findings = r.findings;
    } else {
      spectral_options so;
      so.threads = threads;
      spectral_report r = spectral_compute(in.items, so);
      for (const auto& t : r.matrices)
        if (!t.skipped) o.values[t.name] = spectral_metric(t, metric);
      if (metric == "alpha") o.findings = spectral_findings(r);
    }
    return o;
  });
}

}  // namespace gb
