// glassbox weat: WEAT / SEAT effect sizes and permutation p-values on word-embedding files.
// The computation is probes/weat.h (inputs: probes/weat_source.h), the rendering viz/report_weat.h.
#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdio>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "probes/weat.h"
#include "probes/weat_source.h"
#include "viz/report_weat.h"

namespace po = boost::program_options;

namespace {

// Exit 1 (with the hint that would fix it) when a requested test could not be computed or --only named a
// test that does not exist; under --json the document already carries each test's error.
int failed_tests(const std::vector<gb::probes::weat_result>& results, const std::vector<std::string>& only,
                 bool lower, bool is_model, bool quiet) {
  size_t failed = 0;
  for (const auto& r : results) failed += !r.error.empty();
  std::vector<std::string> absent;
  for (const auto& n : only)
    if (std::none_of(results.begin(), results.end(), [&](const auto& r) { return r.name == n; }))
      absent.push_back(n);
  if (failed == 0 && absent.empty()) return gb::cli::exit_ok;
  if (quiet) return gb::cli::exit_findings;
  if (!absent.empty()) {
    std::string names;
    for (const auto& n : absent) names += (names.empty() ? "" : ", ") + n;
    return gb::cli::fail_message(gb::cli::exit_findings, "--only names tests not in the files: " + names,
                                 "Check the names against the test list above");
  }
  std::string hint = !lower && !is_model
                         ? "Uncased embeddings (GloVe) need --lowercase; else check the word lists"
                         : "Check that the word lists' words are in the vocabulary";
  return gb::cli::fail_message(
      gb::cli::exit_findings,
      std::to_string(failed) + " of " + std::to_string(results.size()) + " tests could not be computed",
      hint);
}

struct weat_args {
  std::string mode = "auto", tok_path;
  std::string emb_path;
  std::vector<std::string> tests;
  std::vector<std::string> only;
  gb::probes::weat_options opt;
  bool as_json = false, lower = false;
  int threads = 0;
};

po::options_description weat_option_table(weat_args& a) {
  po::options_description desc(
      "glassbox weat EMBEDDINGS|MODEL --tests FILE [--tests FILE ...] [options]\n"
      "On a model: word tests use input embeddings (mean of the word's token embeddings); sentence tests\n"
      "(sent-*.jsonl) use SEAT encodings (final-norm hidden states mean-pooled, L2-normalised).");
  desc.add_options()("help,h", "show options")("embeddings", po::value(&a.emb_path),
                                               "GloVe / word2vec text or binary file")(
      "tests", po::value(&a.tests)->multitoken(),
      "SEAT test files (weat1.jsonl ...) or WEAT.json (standard tests 1-10)")(
      "only", po::value(&a.only)->multitoken(), "run only these test names (e.g. weat9)")(
      "seed", po::value(&a.opt.seed)->default_value(1), "seed for Monte Carlo p-values and bootstrap")(
      "samples", po::value(&a.opt.samples)->default_value(100000),
      "Monte Carlo samples when exact enumeration is too large")(
      "resamples", po::value(&a.opt.bootstrap)->default_value(1000),
      "bootstrap resamples for the effect-size interval")(
      "lowercase", po::bool_switch(&a.lower),
      "look words up lower-cased when the exact word is absent (uncased embeddings)")(
      "mode", po::value(&a.mode)->default_value("auto"),
      "auto, embeddings (a vector file), input or seat (a model)")("tokenizer", po::value(&a.tok_path),
                                                                   "tokenizer file for a model without one")(
      "json", po::bool_switch(&a.as_json), "print one JSON document")(
      "threads", po::value(&a.threads)->default_value(0),
      "threads (0 = all cores): tests in parallel, the same result for any count");
  return desc;
}

int run_weat(int argc, char** argv) {
  weat_args args;
  po::options_description desc = weat_option_table(args);
  gb::cli::parse_command(argc, argv, desc, {{"embeddings", 1}});
  if (args.emb_path.empty()) return gb::cli::missing_positional("EMBEDDINGS|MODEL");
  if (args.tests.empty()) return gb::cli::missing_positional("--tests FILE");
  gb::cli::check_choice("mode", args.mode, {"auto", "embeddings", "input", "seat"});
  // A model (any format glassbox reads) or a vector file; then the tests.
  const gb::probes::weat_source src =
      gb::probes::weat_source_open(args.emb_path, args.mode, args.tok_path, args.lower);
  const std::vector<gb::probes::weat_sets> selected = gb::probes::weat_tests_load(args.tests, args.only);
  const std::vector<gb::probes::weat_result> results =
      gb::probes::weat_run_all(selected, src.lookup(), args.opt, args.threads);
  const gb::viz::weat_vectors v{args.emb_path, src.table.format, src.table.size(), src.table.dim,
                                src.is_model};
  if (args.as_json)
    gb::cli::print_json_text(gb::viz::weat_json(results, v, args.opt.seed));
  else
    std::printf("%s", gb::viz::weat_text(results, v).c_str());
  return failed_tests(results, args.only, args.lower, src.is_model, args.as_json);
}

}  // namespace

GB_COMMAND("weat", "WEAT/SEAT effect sizes and p-values on word embeddings", run_weat);
