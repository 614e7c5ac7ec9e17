// glassbox spectral: WeightWatcher-style spectral metrics per weight matrix and a summary.
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "inspect/spectral.h"
#include "viz/json_util.h"

namespace po = boost::program_options;
using nlohmann::ordered_json;

namespace {

using gb::cli::num;

int run_spectral(int argc, char** argv) {
  po::options_description desc("glassbox spectral MODEL [--json] [--max-exact M] [--top-k K] [--threads N]");
  std::string path;
  bool as_json = false;
  gb::spectral_options o;
  desc.add_options()("help,h", "show options")("model", po::value(&path), "model file or folder")(
      "json", po::bool_switch(&as_json), "print one JSON document")(
      "max-exact", po::value(&o.max_exact)->default_value(1024),
      "largest M solved exactly; above: randomised top-k")("top-k", po::value(&o.top_k)->default_value(256),
                                                           "eigenvalues kept by the randomised method")(
      "power-iters", po::value(&o.power_iters)->default_value(3),
      "power iterations of the randomised method")(
      "threads", po::value(&o.threads)->default_value(0),
      "threads (0 = all cores): matrices in parallel, the same result for any count");
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc);
  if (vm.count("help")) return gb::cli::print_help(desc);
  if (path.empty()) return gb::cli::missing_positional("MODEL");
  if (o.max_exact < 10 || o.top_k < 10 || o.power_iters < 0)
    return gb::cli::usage_error("spectral", "--max-exact and --top-k must be >= 10, --power-iters >= 0");
  gb::result<gb::integrity_input> in = gb::integrity_open(path);
  if (!in) return gb::cli::report_error(in.err());
  gb::result<gb::spectral_report> rr =
      gb::capture(path, [&] { return gb::spectral_compute(in.value().items, o); });
  if (!rr) return gb::cli::report_error(rr.err());
  const gb::spectral_report& r = rr.value();
  const gb::spectral_summary& s = r.summary;
  const char* definition =
      "WeightWatcher (METRICS.md): eigenvalues = squared singular values (not / N), M < 10 skipped, "
      "eigenvalues <= 1e-5 dropped, power law with KS-selected x_min";
  if (as_json) {
    ordered_json j;
    j["model"] = path;
    j["definition"] = definition;
    j["matrices"] = ordered_json::array();
    for (const gb::spectral_metrics& m : r.matrices) {
      ordered_json e{{"name", m.name}, {"layer", m.layer}, {"N", m.N}, {"M", m.M}, {"method", m.method}};
      if (!m.skipped) {
        e["n_eigenvalues"] = m.n_eigs;
        e["n_fit"] = m.n_fit;
        e["alpha"] = num(m.alpha);
        e["xmin"] = num(m.xmin);
        e["D"] = num(m.D);
        e["sigma"] = num(m.sigma);
        e["alpha_weighted"] = num(m.alpha_weighted);
        e["log_alpha_norm"] = num(m.log_alpha_norm);
        e["norm"] = num(m.norm);
        e["log_norm"] = num(m.log_norm);
        e["spectral_norm"] = num(m.spectral_norm);
        e["log_spectral_norm"] = num(m.log_spectral_norm);
        e["stable_rank"] = num(m.stable_rank);
        e["matrix_rank"] = num(m.matrix_rank);
        e["entropy"] = num(m.entropy);
      }
      j["matrices"].push_back(e);
    }
    j["summary"] = {{"matrices", s.matrices},
                    {"skipped", s.skipped},
                    {"alpha_mean", num(s.alpha_mean)},
                    {"alpha_median", num(s.alpha_median)},
                    {"alpha_weighted_mean", num(s.alpha_weighted_mean)},
                    {"log_norm_mean", num(s.log_norm_mean)},
                    {"stable_rank_mean", num(s.stable_rank_mean)},
                    {"alpha_gt_6_under_trained", s.under_trained},
                    {"alpha_lt_2_over_trained", s.over_trained},
                    {"alpha_gt_8_failed_fit", s.failed_fit}};
    gb::cli::print_json(j);
    return gb::cli::exit_ok;
  }
  std::printf("%s\n\n", definition);
  std::printf("%-34s %6s %6s %8s %8s %7s %9s %9s %9s %8s %6s %7s  %s\n", "matrix", "N", "M", "alpha",
              "alpha_w", "D", "log_norm", "log_spec", "stab_rank", "rank", "entr", "xmin", "method");
  for (const gb::spectral_metrics& m : r.matrices) {
    if (m.skipped) {
      std::printf("%-34s %6lld %6lld  %s\n", m.name.c_str(), static_cast<long long>(m.N),
                  static_cast<long long>(m.M), m.method.c_str());
      continue;
    }
    std::printf("%-34s %6lld %6lld %8.3f %8.3f %7.4f %9.4f %9.4f %9.3f %8.0f %6.3f %7.3g  %s\n",
                m.name.c_str(), static_cast<long long>(m.N), static_cast<long long>(m.M), m.alpha,
                m.alpha_weighted, m.D, m.log_norm, m.log_spectral_norm, m.stable_rank, m.matrix_rank,
                m.entropy, m.xmin, m.method.substr(0, m.method.find(' ')).c_str());
  }
  std::printf(
      "\nsummary: %zu matrices (%zu skipped): alpha mean %.3f, median %.3f; alpha_weighted mean %.3f; "
      "log_norm mean %.3f; stable rank mean %.3f\n",
      s.matrices, s.skipped, s.alpha_mean, s.alpha_median, s.alpha_weighted_mean, s.log_norm_mean,
      s.stable_rank_mean);
  std::printf(
      "reading: alpha in [2, 6] well trained; %zu with alpha < 2 (over-trained?), %zu with alpha > 6 "
      "(under-trained?), %zu with alpha > 8 (fit likely failed)\n",
      s.over_trained, s.under_trained, s.failed_fit);
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("spectral",
           "WeightWatcher-style spectral metrics (alpha, spectral norm, stable rank...) per matrix",
           run_spectral);
