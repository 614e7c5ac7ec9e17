// glassbox merge: the partial results of a sharded `glassbox bias --shard I/N` run, merged into the
// result one process would have written (the same bias.json byte for byte).
#include <boost/program_options.hpp>
#include <cstdio>

#include "cli/bias_options.h"
#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/option_lists.h"
#include "cli/options.h"
#include "probes/shard.h"
#include "viz/report_merge.h"
#include "viz/result_tables.h"

namespace po = boost::program_options;

namespace {

struct merge_args {
  std::vector<std::string> parts;
  std::string out, table_format;
  bool as_json = false;
};

po::options_description merge_option_table(merge_args& a) {
  po::options_description desc(
      "glassbox merge PART... -o OUT  (the parts of one `glassbox bias --shard I/N` run: part files, or the\n"
      "folders the shards wrote with -o, each standing for its bias.part-*.json)\n"
      "OUT ending in .json: that file; else a folder with bias.json and one SVG chart per suite (as bias "
      "-o)");
  desc.add_options()("help,h", "show options")("parts", po::value(&a.parts),
                                               "partial result files, or folders of them")(
      "output,o", po::value(&a.out), "merged bias.json, or a folder for it and the charts")(
      "json", po::bool_switch(&a.as_json),
      "print the merged JSON document (with records) instead of the table")(
      "format", po::value(&a.table_format),
      "print one table to paste elsewhere: table, md (Markdown) or csv");
  return desc;
}

int run_merge(int argc, char** argv) {
  merge_args args;
  po::options_description desc = merge_option_table(args);
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc, {{"parts", -1}});
  if (vm.count("help")) return gb::cli::print_help(desc);
  if (args.parts.empty()) return gb::cli::usage_error("merge", "no partial result files given", &desc);
  const auto format = gb::cli::table_format_option(args.table_format);
  if (args.out.empty() && !args.as_json && !format)
    return gb::cli::usage_error("merge", "give -o OUT (or --json, or --format)", &desc);
  gb::probes::merged m;
  try {
    std::vector<gb::probes::part> read;
    for (const auto& p : gb::probes::part_paths(args.parts)) read.push_back(gb::probes::part_read(p));
    m = gb::probes::shard_merge(read);
  } catch (const gb::failure& f) {
    return gb::cli::report_error(f.err());
  }
  const std::string doc = gb::viz::merge_json(m);
  if (!args.out.empty()) gb::viz::merge_write(args.out, m, doc);  // a failure reaches main(): exit 3
  if (args.as_json)
    gb::cli::print_json_text(doc);  // the schema key first, as every --json output
  else if (format)
    std::printf("%s", gb::viz::table_render(gb::viz::bias_table(m.results), *format).c_str());
  else
    std::fputs(gb::viz::merge_text(m, args.parts.size()).c_str(), stdout);
  return gb::cli::suites_exit(m.results);  // as the single-process run: exit 1 when a suite did not run
}

}  // namespace

GB_COMMAND("merge", "merge the partial results of a sharded bias run (bias --shard I/N) exactly", run_merge);
