// glassbox bias-localize: where does the bias live? Direct logit attribution of a suite's minimal pairs to
// the embedding, every attention head and every MLP (probes/bias_localize.h), run by
// probes/bias_localize_run.h, rendered by viz/report_localize.h.
#include <boost/program_options.hpp>
#include <cstdio>

#include "cli/bias_options.h"
#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "probes/bias_localize.h"
#include "probes/bias_localize_run.h"
#include "probes/session.h"
#include "viz/report_localize.h"

namespace po = boost::program_options;

namespace {

struct bias_localize_args {
  std::string model_path, tok_path, data, data_root, out_dir;
  gb::probes::localize_run_options run;
  int threads = 0;
  bool as_json = false, per_pair = false;
};

po::options_description bias_localize_option_table(bias_localize_args& a) {
  po::options_description desc(
      "glassbox bias-localize MODEL --suite crows-pairs|winobias|templates [--top K] [options]");
  gb::probes::localize_run_options& r = a.run;
  desc.add_options()("help,h", "show options")("model", po::value(&a.model_path), "model file or folder")(
      "tokenizer", po::value(&a.tok_path), "tokenizer file when the model has none")(
      "suite", po::value(&r.suite), "crows-pairs, winobias or templates")("data", po::value(&a.data),
                                                                          "dataset file or folder")(
      "data-root", po::value(&a.data_root),
      "folder laid out like shared/data/bias (default: $GLASSBOX_DATA/bias)")(
      "limit", po::value(&r.limit)->default_value(0), "at most N pairs (0 = all)")(
      "top", po::value(&r.o.top)->default_value(10), "components in the ranked table")(
      "seed", po::value(&r.o.seed)->default_value(1), "bootstrap seed")(
      "resamples", po::value(&r.o.resamples)->default_value(1000), "bootstrap resamples")(
      "threads", po::value(&a.threads)->default_value(0), "threads (0 = all cores)")(
      "ablate", po::value(&r.ablate.k)->default_value(3),
      "confirm by mean-ablating the top K heads/MLPs against K random ones (0 = skip)")(
      "ablate-draws", po::value(&r.ablate.draws)->default_value(10), "random sets of K for --ablate")(
      "pairs", po::bool_switch(&a.per_pair), "include every pair's terms in --json")(
      "patch", po::bool_switch(&r.patch),
      "also activation patching of each layer's residual and each head (pairs of equal length)")(
      "json", po::bool_switch(&a.as_json), "print one JSON document")(
      "output,o", po::value(&a.out_dir), "write localize.json (with every pair) and localize-heads.svg here");
  return desc;
}

// Prints the run (text or --json) and writes -o DIR.
void bias_localize_print(const bias_localize_args& a, const gb::probes::localize_run_result& res) {
  const std::string& suite = a.run.suite;
  const gb::probes::patch_summary* ps = a.run.patch ? &res.patch : nullptr;
  const gb::probes::ablation_result* ab = a.run.ablate.k ? &res.ab : nullptr;
  if (!a.out_dir.empty()) gb::viz::localize_folder_write(a.out_dir, res, suite, ps, ab);
  if (a.as_json) {
    gb::cli::print_json_text(gb::viz::localize_json(res.r, suite, a.run.o.top, a.per_pair, ps, 2, ab));
    return;
  }
  std::printf("model: %s; suite %s (%zu pairs skipped: longer than the context)\n", a.model_path.c_str(),
              suite.c_str(), res.skipped);
  std::printf("%s", gb::viz::localize_text(res.r, a.run.o.top, ps, ab).c_str());
}

int run_bias_localize(int argc, char** argv) {
  bias_localize_args args;
  po::options_description desc = bias_localize_option_table(args);
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc);
  if (vm.count("help")) return gb::cli::print_help(desc);
  if (args.model_path.empty()) return gb::cli::usage_error("bias-localize", "missing MODEL", &desc);
  const std::string& suite = args.run.suite;
  if (suite != "crows-pairs" && suite != "winobias" && suite != "templates")
    return gb::cli::usage_error("bias-localize", "--suite must be crows-pairs, winobias or templates");
  gb::cli::bias_data_root_default(args.data_root);
  args.run.path = gb::cli::bias_dataset_find("bias-localize", suite, args.data, args.data_root);
  gb::engine::run_options ro;
  ro.threads = args.threads;
  args.run.o.threads = args.threads;
  auto s = gb::probes::session_open_runnable(args.model_path, args.tok_path, ro);
  if (!s) return gb::cli::report_error(s.err());
  auto w = gb::probes::dla_weights::create(*s.value().m);
  if (!w) return gb::cli::report_error(w.err());
  auto r = gb::probes::localize_run(s.value(), w.value(), args.run);
  if (!r) return gb::cli::report_error(r.err());
  bias_localize_print(args, r.value());
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("bias-localize",
           "where does the bias live? direct logit attribution of minimal pairs to heads and MLPs",
           run_bias_localize);
