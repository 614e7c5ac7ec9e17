// viz/report_spectral.cpp: `glassbox spectral` as text or JSON (viz/report_spectral.h).
#include "viz/report_spectral.h"

#include <nlohmann/json.hpp>

#include "viz/json_util.h"
#include "viz/text.h"

namespace gb::viz {
namespace {

using ojson = nlohmann::ordered_json;

constexpr const char* spectral_definition =
    "WeightWatcher (METRICS.md): eigenvalues = squared singular values (not / N), M < 10 skipped, "
    "eigenvalues <= 1e-5 dropped, power law with KS-selected x_min";

ojson spectral_matrix_json(const spectral_metrics& m) {
  ojson e{{"name", m.name}, {"layer", m.layer}, {"N", m.N}, {"M", m.M}, {"method", m.method}};
  if (m.skipped) return e;
  e["n_eigenvalues"] = m.n_eigs;
  e["n_fit"] = m.n_fit;
  e["alpha"] = num<ojson>(m.alpha);
  e["xmin"] = num<ojson>(m.xmin);
  e["D"] = num<ojson>(m.D);
  e["sigma"] = num<ojson>(m.sigma);
  e["alpha_weighted"] = num<ojson>(m.alpha_weighted);
  e["log_alpha_norm"] = num<ojson>(m.log_alpha_norm);
  e["norm"] = num<ojson>(m.norm);
  e["log_norm"] = num<ojson>(m.log_norm);
  e["spectral_norm"] = num<ojson>(m.spectral_norm);
  e["log_spectral_norm"] = num<ojson>(m.log_spectral_norm);
  e["stable_rank"] = num<ojson>(m.stable_rank);
  e["matrix_rank"] = num<ojson>(m.matrix_rank);
  e["entropy"] = num<ojson>(m.entropy);
  return e;
}

}  // namespace

std::string spectral_json(const spectral_report& r, const std::string& model_path) {
  const spectral_summary& s = r.summary;
  ojson j;
  j["model"] = model_path;
  j["definition"] = spectral_definition;
  j["matrices"] = ojson::array();
  for (const spectral_metrics& m : r.matrices) j["matrices"].push_back(spectral_matrix_json(m));
  j["summary"] = {{"matrices", s.matrices},
                  {"skipped", s.skipped},
                  {"alpha_mean", num<ojson>(s.alpha_mean)},
                  {"alpha_median", num<ojson>(s.alpha_median)},
                  {"alpha_weighted_mean", num<ojson>(s.alpha_weighted_mean)},
                  {"log_norm_mean", num<ojson>(s.log_norm_mean)},
                  {"stable_rank_mean", num<ojson>(s.stable_rank_mean)},
                  {"alpha_gt_6_under_trained", s.under_trained},
                  {"alpha_lt_2_over_trained", s.over_trained},
                  {"alpha_gt_8_failed_fit", s.failed_fit}};
  return json_text(j);
}

std::string spectral_text(const spectral_report& r) {
  const spectral_summary& s = r.summary;
  std::string out = strf("%s\n\n", spectral_definition);
  out += strf("%-34s %6s %6s %8s %8s %7s %9s %9s %9s %8s %6s %7s  %s\n", "matrix", "N", "M", "alpha",
              "alpha_w", "D", "log_norm", "log_spec", "stab_rank", "rank", "entr", "xmin", "method");
  for (const spectral_metrics& m : r.matrices) {
    if (m.skipped) {
      out += strf("%-34s %6lld %6lld  %s\n", m.name.c_str(), static_cast<long long>(m.N),
                  static_cast<long long>(m.M), m.method.c_str());
      continue;
    }
    out += strf("%-34s %6lld %6lld %8.3f %8.3f %7.4f %9.4f %9.4f %9.3f %8.0f %6.3f %7.3g  %s\n",
                m.name.c_str(), static_cast<long long>(m.N), static_cast<long long>(m.M), m.alpha,
                m.alpha_weighted, m.D, m.log_norm, m.log_spectral_norm, m.stable_rank, m.matrix_rank,
                m.entropy, m.xmin, m.method.substr(0, m.method.find(' ')).c_str());
  }
  out += strf(
      "\nsummary: %zu matrices (%zu skipped): alpha mean %.3f, median %.3f; alpha_weighted mean %.3f; "
      "log_norm mean %.3f; stable rank mean %.3f\n",
      s.matrices, s.skipped, s.alpha_mean, s.alpha_median, s.alpha_weighted_mean, s.log_norm_mean,
      s.stable_rank_mean);
  out += strf(
      "reading: alpha in [2, 6] well trained; %zu with alpha < 2 (over-trained?), %zu with alpha > 6 "
      "(under-trained?), %zu with alpha > 8 (fit likely failed)\n",
      s.over_trained, s.under_trained, s.failed_fit);
  return out;
}

}  // namespace gb::viz
