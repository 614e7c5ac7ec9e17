// glassbox bias-localize: where does the bias live? Direct logit attribution of a suite's minimal pairs to
// the embedding, every attention head and every MLP (probes/bias_localize.h).
#include <sys/stat.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "cli/command.h"
#include "cli/options.h"
#include "probes/bias_diff.h"
#include "probes/bias_localize.h"
#include "probes/bias_localize_ablate.h"
#include "probes/lm_scorer.h"
#include "probes/session.h"
#include "viz/report_localize.h"

namespace po = boost::program_options;

namespace {

int run_bias_localize(int argc, char** argv) {
  po::options_description desc(
      "glassbox bias-localize MODEL --suite crows-pairs|winobias|templates [--top K] [options]");
  std::string model_path, tok_path, suite, data, data_root, out_dir;
  gb::probes::localize_options o;
  gb::probes::ablate_options ao;
  size_t limit = 0;
  int threads = 0;
  bool as_json = false, per_pair = false, patch = false;
  desc.add_options()("help,h", "show options")("model", po::value(&model_path), "model file or folder")(
      "tokenizer", po::value(&tok_path), "tokenizer file when the model has none")(
      "suite", po::value(&suite), "crows-pairs, winobias or templates")("data", po::value(&data),
                                                                        "dataset file or folder")(
      "data-root", po::value(&data_root),
      "folder laid out like shared/data/bias (default: $GLASSBOX_DATA/bias)")(
      "limit", po::value(&limit)->default_value(0), "at most N pairs (0 = all)")(
      "top", po::value(&o.top)->default_value(10), "components in the ranked table")(
      "seed", po::value(&o.seed)->default_value(1), "bootstrap seed")(
      "resamples", po::value(&o.resamples)->default_value(1000), "bootstrap resamples")(
      "threads", po::value(&threads)->default_value(0), "threads (0 = all cores)")(
      "ablate", po::value(&ao.k)->default_value(3),
      "confirm by mean-ablating the top K heads/MLPs against K random ones (0 = skip)")(
      "ablate-draws", po::value(&ao.draws)->default_value(10), "random sets of K for --ablate")(
      "pairs", po::bool_switch(&per_pair), "include every pair's terms in --json")(
      "patch", po::bool_switch(&patch),
      "also activation patching of each layer's residual and each head (pairs of equal length)")(
      "json", po::bool_switch(&as_json), "print one JSON document")(
      "output,o", po::value(&out_dir), "write localize.json (with every pair) and localize-heads.svg here");
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc);
  if (vm.count("help")) return gb::cli::print_help(desc);
  if (model_path.empty()) return gb::cli::usage_error("bias-localize", "missing MODEL", &desc);
  if (suite != "crows-pairs" && suite != "winobias" && suite != "templates")
    return gb::cli::usage_error("bias-localize", "--suite must be crows-pairs, winobias or templates");
  if (data_root.empty())
    if (const char* e = std::getenv("GLASSBOX_DATA"); e && *e) data_root = std::string(e) + "/bias";
  const std::string path = !data.empty() ? data : gb::probes::bias_dataset_path(data_root, suite);
  struct stat st {};
  if (suite != "templates" && (path.empty() || ::stat(path.c_str(), &st) != 0))
    return gb::cli::usage_error("bias-localize", path.empty() ? "no dataset: pass --data or --data-root"
                                                              : "dataset not found: " + path);
  gb::engine::run_options ro;
  ro.threads = threads;
  o.threads = threads;
  auto s = gb::probes::session_open_runnable(model_path, tok_path, ro);
  if (!s) return gb::cli::report_error(s.err());
  auto w = gb::probes::dla_weights::create(*s.value().m);
  if (!w) return gb::cli::report_error(w.err());
  gb::probes::localize_heap_policy();
  gb::probes::localize_result r;
  gb::probes::patch_summary ps;
  gb::probes::ablation_result ab;
  size_t skipped = 0;
  try {
    gb::probes::engine_scorer sc(s.value());
    const auto pairs = gb::probes::localize_pairs_read(sc, suite, path, limit, &skipped);
    auto lr = gb::probes::localize_pairs(*s.value().run, w.value(), pairs, o);
    if (!lr) return gb::cli::report_error(lr.err());
    r = std::move(lr.value());
    if (ao.k > 0) {
      ao.seed = o.seed;
      ao.resamples = o.resamples;
      auto a = gb::probes::ablate_confirm(*s.value().run, r, ao);
      if (!a) return gb::cli::report_error(a.err());
      ab = std::move(a.value());
    }
    if (patch) {
      auto pr = gb::probes::patch_pairs(*s.value().run, pairs, r.L, r.H);
      if (!pr) return gb::cli::report_error(pr.err());
      ps = std::move(pr.value());
    }
  } catch (gb::failure& f) {
    if (f.err().where.empty()) f.err().where = path;
    return gb::cli::report_error(f.err());
  }
  if (!out_dir.empty()) {
    ::mkdir(out_dir.c_str(), 0755);
    std::ofstream(out_dir + "/localize.json")
        << gb::viz::localize_json(r, suite, r.ranked.size(), true, patch ? &ps : nullptr, 2,
                                  ao.k ? &ab : nullptr)
        << "\n";
    std::ofstream(out_dir + "/localize-heads.svg") << gb::viz::localize_heatmap_svg(r, suite);
  }
  if (as_json)
    std::printf("%s\n", gb::viz::localize_json(r, suite, o.top, per_pair, patch ? &ps : nullptr, 2,
                                               ao.k ? &ab : nullptr)
                            .c_str());
  else {
    std::printf("model: %s; suite %s (%zu pairs skipped: longer than the context)\n", model_path.c_str(),
                suite.c_str(), skipped);
    std::printf("%s", gb::viz::localize_text(r, o.top, patch ? &ps : nullptr, ao.k ? &ab : nullptr).c_str());
  }
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("bias-localize",
           "where does the bias live? direct logit attribution of minimal pairs to heads and MLPs",
           run_bias_localize);
