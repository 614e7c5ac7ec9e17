// glassbox bias-diff: did a fine-tune or a quantisation change the bias? Both models on the same items,
// paired differences with intervals and McNemar tests (probes/bias_diff.h), run by probes/bias_diff_run.h,
// rendered by viz/report_bias_diff.h.
#include <boost/program_options.hpp>
#include <cstdio>

#include "cli/bias_options.h"
#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "probes/bias_diff.h"
#include "probes/bias_diff_run.h"
#include "probes/session.h"
#include "viz/report_bias_diff.h"

namespace po = boost::program_options;

namespace {

struct bias_diff_args {
  std::string base_path, derived_path, base_tok, derived_tok, data, data_root, variant;
  std::vector<std::string> suites;
  gb::probes::bias_options o;
  gb::probes::diff_options d;
  int threads = 0;
  bool as_json = false;
};

po::options_description bias_diff_option_table(bias_diff_args& a) {
  po::options_description desc(
      "glassbox bias-diff BASE DERIVED --suite NAME [--suite NAME ...] [--data PATH | --data-root DIR] "
      "[options]\n"
      "suites: crows-pairs, stereoset, winobias, bbq, holisticbias, templates");
  desc.add_options()("help,h", "show options")("base", po::value(&a.base_path), "the model evaluated before")(
      "derived", po::value(&a.derived_path),
      "the model deployed instead (fine-tune, quantisation, other format)")(
      "suite", po::value(&a.suites)->composing(), "a bias suite (repeat for several)")(
      "data", po::value(&a.data), "dataset file or folder (one suite)")(
      "data-root", po::value(&a.data_root),
      "folder laid out like shared/data/bias (default: $GLASSBOX_DATA/bias)")(
      "tokenizer", po::value(&a.base_tok), "tokenizer file of BASE when it has none")(
      "derived-tokenizer", po::value(&a.derived_tok), "tokenizer file of DERIVED when it has none")(
      "variant", po::value(&a.variant), "crows-pairs: harness (default) or bias-bench")(
      "limit", po::value(&a.o.limit)->default_value(0),
      "score N items per suite, the sample of bias --limit (0 = all)")(
      "seed", po::value(&a.d.seed)->default_value(1), "bootstrap seed")(
      "resamples", po::value(&a.d.resamples)->default_value(1000), "paired bootstrap resamples")(
      "top", po::value(&a.d.top)->default_value(10), "flipped items listed per suite")(
      "threads", po::value(&a.threads)->default_value(0), "threads (0 = all cores)")(
      "json", po::bool_switch(&a.as_json), "print one JSON document");
  return desc;
}

// The checks before any model is opened; exit 2 on a bad one.
void bias_diff_check(bias_diff_args& a, const po::options_description& desc) {
  auto usage = [&](const std::string& why, const po::options_description* d = nullptr) {
    throw gb::cli::exit_now{gb::cli::usage_error("bias-diff", why, d)};
  };
  if (a.base_path.empty() || a.derived_path.empty()) usage("give BASE and DERIVED", &desc);
  if (a.suites.empty()) usage("give at least one --suite");
  for (const auto& suite : a.suites)
    if (suite != "crows-pairs" && suite != "stereoset" && suite != "winobias" && suite != "bbq" &&
        suite != "holisticbias" && suite != "templates")
      usage("unknown suite '" + suite + "'", &desc);
  if (!a.data.empty() && a.suites.size() != 1) usage("--data names one dataset; give exactly one --suite");
  gb::cli::bias_data_root_default(a.data_root);
  a.o.seed = a.d.seed;
  a.o.resamples = a.d.resamples;
  a.o.progress = !a.as_json;
}

// A model that can run text, or the exit code of its error.
gb::probes::session bias_diff_open(const std::string& path, const std::string& tok, int threads) {
  gb::engine::run_options ro;
  ro.threads = threads;
  auto s = gb::probes::session_open(path, tok, ro);
  if (!s) throw gb::cli::exit_now{gb::cli::report_error(s.err())};
  if (auto e = gb::probes::session_unusable(s.value(), path))
    throw gb::cli::exit_now{gb::cli::report_error(*e)};
  return std::move(s.value());
}

int run_bias_diff(int argc, char** argv) {
  bias_diff_args args;
  po::options_description desc = bias_diff_option_table(args);
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc, {{"base", 1}, {"derived", 1}});
  if (vm.count("help")) return gb::cli::print_help(desc);
  bias_diff_check(args, desc);
  gb::probes::session sb = bias_diff_open(args.base_path, args.base_tok, args.threads);
  gb::probes::session sd = bias_diff_open(args.derived_path, args.derived_tok, args.threads);
  gb::probes::bias_diff_models both(sb, sd, args.threads);
  std::vector<gb::probes::suite_change> changes;
  for (const auto& suite : args.suites) {
    const std::string path =
        gb::cli::bias_dataset_find("bias-diff", suite, args.data, args.data_root, suite + ": ");
    gb::probes::bias_options so = args.o;
    so.variant = suite == "crows-pairs" ? args.variant : "";
    auto c = both.suite(suite, path, so, args.d);
    if (!c) return gb::cli::report_error(c.err());
    changes.push_back(std::move(c.value()));
  }
  if (args.as_json)
    gb::cli::print_json_text(gb::viz::bias_diff_json(changes));
  else
    std::printf("base:    %s\nderived: %s\n\n%s", args.base_path.c_str(), args.derived_path.c_str(),
                gb::viz::bias_diff_text(changes).c_str());
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("bias-diff",
           "did a fine-tune or quantisation change the bias? paired differences, intervals, McNemar",
           run_bias_diff);
