// glassbox bias: bias suites on the model's own files, scored as their reference implementations do.
// The scoring is probes/bias_run.h (and probes/shard.h for --shard), the rendering viz/report_bias.h.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "cli/bias_options.h"
#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/option_lists.h"
#include "cli/options.h"
#include "probes/bias.h"
#include "probes/bias_run.h"
#include "probes/session.h"
#include "probes/shard.h"
#include "viz/report_bias.h"
#include "viz/result_tables.h"

namespace {

const std::vector<std::string> known_suites = {"crows-pairs",  "stereoset", "winobias", "bbq",
                                               "holisticbias", "templates", "all"};

// The options checked before any work and turned into a.o / a.r; the suites to run.
std::vector<std::string> bias_setup(gb::cli::bias_args& a) {
  if (!a.variant.empty()) gb::cli::check_choice("variant", a.variant, {"harness", "bias-bench"});
  gb::cli::table_format_option(a.table_format);  // checked here, in the order of the options
  gb::cli::bias_data_root_default(a.r.data_root);
  std::vector<std::string> suites = gb::cli::parse_choices("suite", a.suites, known_suites);
  if (suites.empty() || std::find(suites.begin(), suites.end(), "all") != suites.end())
    suites = {"crows-pairs", "stereoset", "winobias", "bbq", "holisticbias", "templates"};
  if (!a.r.data.empty() && suites.size() != 1)
    throw gb::cli::exit_now{
        gb::cli::usage_error("bias", "--data names one dataset; give exactly one --suite")};
  gb::cli::check_output_dir("output", a.out_dir);
  a.o.variant = a.variant;
  a.o.progress = !a.as_json;
  a.r.prefix_reuse = !a.no_reuse;
  return suites;
}

int run_bias(int argc, char** argv) {
  gb::cli::bias_args a;
  gb::cli::parse_command(argc, argv, gb::cli::bias_options_desc(a));
  if (a.model_path.empty()) return gb::cli::missing_positional("MODEL");
  const std::vector<std::string> suites = bias_setup(a);
  const auto format = gb::cli::table_format_option(a.table_format);
  gb::probes::shard_spec shard;
  if (!a.shard.empty()) {
    shard = gb::cli::shard_option(a.shard, a.shards);
    if (a.out_dir.empty())
      return gb::cli::fail_message(gb::cli::exit_usage, "--shard writes a partial result: give -o DIR");
    std::fprintf(stderr, "glassbox bias: shard %zu of %zu (%s)\n", shard.index, shard.count,
                 shard.source.c_str());
    a.o.shard_index = shard.index, a.o.shard_count = shard.count;
  }
  gb::engine::run_options ro;
  ro.threads = a.r.threads;
  auto s = gb::probes::session_open(a.model_path, a.tok_path, ro);
  if (!s) return gb::cli::report_error(s.err());
  std::map<std::string, std::string> datasets;  // their digests, when sharded
  const std::vector<gb::probes::suite_result> results =
      gb::probes::bias_suites_run(s.value(), suites, a.r, a.o, a.shard.empty() ? nullptr : &datasets);
  if (!a.shard.empty()) {
    const std::string path = gb::probes::bias_part_save(a.out_dir, s.value(), a.model_path, a.tok_path, shard,
                                                        suites, a.r, a.o, datasets, results);
    std::printf("wrote %s: shard %zu of %zu, a partial result (merge the %zu parts with `glassbox merge`)\n",
                path.c_str(), shard.index, shard.count, shard.count);
    return gb::cli::suites_exit(results);  // a suite that could not run is missing from the merge too
  }
  if (!a.out_dir.empty()) gb::viz::bias_folder_write(a.out_dir, results);
  if (a.as_json)
    gb::cli::print_json_text(gb::viz::bias_json(results, a.records, 2, true));
  else if (format)
    std::printf("%s", gb::viz::table_render(gb::viz::bias_table(results), *format).c_str());
  else
    std::printf("model: %s (tokenizer: %s)\n\n%s%s", a.model_path.c_str(), s.value().tokenizer_source.c_str(),
                gb::viz::bias_text(results).c_str(), gb::viz::bias_quick_pass_text(results).c_str());
  return gb::cli::suites_exit(results);
}

}  // namespace

GB_COMMAND("bias",
           "bias suites (CrowS-Pairs, StereoSet, WinoBias, BBQ, HolisticBias, templates) with intervals",
           run_bias);
