// glassbox spectral: WeightWatcher-style spectral metrics per weight matrix and a summary.
#include <boost/program_options.hpp>
#include <cstdio>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "inspect/spectral.h"
#include "viz/report_spectral.h"

namespace po = boost::program_options;

namespace {

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
  if (as_json)
    gb::cli::print_json_text(gb::viz::spectral_json(rr.value(), path));
  else
    std::fputs(gb::viz::spectral_text(rr.value()).c_str(), stdout);
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("spectral",
           "WeightWatcher-style spectral metrics (alpha, spectral norm, stable rank...) per matrix",
           run_spectral);
