// glassbox bias-diff: did a fine-tune or a quantisation change the bias? Both models on the same items,
// paired differences with intervals and McNemar tests (probes/bias_diff.h).
#include <sys/stat.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "cli/command.h"
#include "cli/options.h"
#include "probes/bias_diff.h"
#include "probes/lm_scorer.h"
#include "probes/session.h"
#include "viz/report_bias.h"
#include "viz/report_bias_diff.h"

namespace po = boost::program_options;

namespace {

int run_bias_diff(int argc, char** argv) {
  po::options_description desc(
      "glassbox bias-diff BASE DERIVED --suite NAME [--suite NAME ...] [--data PATH | --data-root DIR] "
      "[options]\n"
      "suites: crows-pairs, stereoset, winobias, bbq, holisticbias, templates");
  std::string base_path, derived_path, base_tok, derived_tok, data, data_root, variant;
  std::vector<std::string> suites;
  gb::probes::bias_options o;
  gb::probes::diff_options d;
  int threads = 0;
  bool as_json = false;
  desc.add_options()("help,h", "show options")("base", po::value(&base_path), "the model evaluated before")(
      "derived", po::value(&derived_path),
      "the model deployed instead (fine-tune, quantisation, other format)")(
      "suite", po::value(&suites)->composing(), "a bias suite (repeat for several)")(
      "data", po::value(&data), "dataset file or folder (one suite)")(
      "data-root", po::value(&data_root),
      "folder laid out like shared/data/bias (default: $GLASSBOX_DATA/bias)")(
      "tokenizer", po::value(&base_tok), "tokenizer file of BASE when it has none")(
      "derived-tokenizer", po::value(&derived_tok), "tokenizer file of DERIVED when it has none")(
      "variant", po::value(&variant), "crows-pairs: harness (default) or bias-bench")(
      "limit", po::value(&o.limit)->default_value(0),
      "score N items per suite, the sample of bias --limit (0 = all)")(
      "seed", po::value(&d.seed)->default_value(1), "bootstrap seed")(
      "resamples", po::value(&d.resamples)->default_value(1000), "paired bootstrap resamples")(
      "top", po::value(&d.top)->default_value(10), "flipped items listed per suite")(
      "threads", po::value(&threads)->default_value(0), "threads (0 = all cores)")(
      "json", po::bool_switch(&as_json), "print one JSON document");
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc, {{"base", 1}, {"derived", 1}});
  if (vm.count("help")) return gb::cli::print_help(desc);
  if (base_path.empty() || derived_path.empty())
    return gb::cli::usage_error("bias-diff", "give BASE and DERIVED", &desc);
  if (suites.empty()) return gb::cli::usage_error("bias-diff", "give at least one --suite");
  for (const auto& suite : suites)
    if (suite != "crows-pairs" && suite != "stereoset" && suite != "winobias" && suite != "bbq" &&
        suite != "holisticbias" && suite != "templates")
      return gb::cli::usage_error("bias-diff", "unknown suite '" + suite + "'", &desc);
  if (!data.empty() && suites.size() != 1)
    return gb::cli::usage_error("bias-diff", "--data names one dataset; give exactly one --suite");
  if (data_root.empty())
    if (const char* e = std::getenv("GLASSBOX_DATA"); e && *e) data_root = std::string(e) + "/bias";
  o.seed = d.seed;
  o.resamples = d.resamples;
  o.progress = !as_json;
  gb::engine::run_options ro;
  ro.threads = threads;
  auto sb = gb::probes::session_open(base_path, base_tok, ro);
  if (!sb) return gb::cli::report_error(sb.err());
  if (auto e = gb::probes::session_unusable(sb.value(), base_path)) return gb::cli::report_error(*e);
  auto sd = gb::probes::session_open(derived_path, derived_tok, ro);
  if (!sd) return gb::cli::report_error(sd.err());
  if (auto e = gb::probes::session_unusable(sd.value(), derived_path)) return gb::cli::report_error(*e);
  const int workers =
      threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  gb::probes::engine_scorer scb(sb.value(), workers), scd(sd.value(), workers);
  gb::probes::sentence_cache cb(scb), cd(scd);
  std::vector<gb::probes::suite_change> changes;
  for (const auto& suite : suites) {
    const std::string path = !data.empty() ? data : gb::probes::bias_dataset_path(data_root, suite);
    struct stat st {};
    if (suite != "templates" && (path.empty() || ::stat(path.c_str(), &st) != 0))
      return gb::cli::usage_error("bias-diff", suite + ": " +
                                                   (path.empty() ? "no dataset: pass --data or --data-root"
                                                                 : "dataset not found: " + path));
    gb::probes::bias_options so = o;
    so.variant = suite == "crows-pairs" ? variant : "";
    try {
      std::map<std::string, std::string> texts;
      gb::probes::suite_result rb = gb::probes::suite_run_named(cb, suite, path, so, &texts);
      gb::probes::suite_result rd = gb::probes::suite_run_named(cd, suite, path, so);
      gb::probes::suite_change c = gb::probes::bias_diff(rb, rd, d, texts);
      c.dataset_digest = gb::probes::bias_dataset_digest(suite, path);
      c.tokenizers_differ = !gb::probes::bias_tokenizers_agree(scb, scd, texts);
      changes.push_back(std::move(c));
    } catch (gb::failure& f) {
      if (f.err().where.empty()) f.err().where = path;
      return gb::cli::report_error(f.err());
    }
  }
  if (as_json)
    std::printf("%s\n", gb::viz::bias_diff_json(changes).c_str());
  else {
    std::printf("base:    %s\nderived: %s\n\n", base_path.c_str(), derived_path.c_str());
    std::printf("%s", gb::viz::bias_diff_text(changes).c_str());
  }
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("bias-diff",
           "did a fine-tune or quantisation change the bias? paired differences, intervals, McNemar",
           run_bias_diff);
