// glassbox merge: the partial results of a sharded `glassbox bias --shard I/N` run, merged into the
// result one process would have written (the same bias.json byte for byte).
#include <sys/stat.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>

#include "cli/command.h"
#include "cli/options.h"
#include "probes/shard.h"
#include "viz/report_bias.h"

namespace po = boost::program_options;

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

struct merge_args {
  std::vector<std::string> parts;
  std::string out;
  bool as_json = false;
};

po::options_description merge_option_table(merge_args& a) {
  po::options_description desc(
      "glassbox merge PART.json... -o OUT  (the parts of one `glassbox bias --shard I/N` run)\n"
      "OUT ending in .json: that file; else a folder with bias.json and one SVG chart per suite (as bias "
      "-o)");
  desc.add_options()("help,h", "show options")("parts", po::value(&a.parts), "partial result files")(
      "output,o", po::value(&a.out), "merged bias.json, or a folder for it and the charts")(
      "json", po::bool_switch(&a.as_json),
      "print the merged JSON document (with records) instead of the table");
  return desc;
}

int run_merge(int argc, char** argv) {
  merge_args args;
  po::options_description desc = merge_option_table(args);
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc, {{"parts", -1}});
  if (vm.count("help")) return gb::cli::print_help(desc);
  if (args.parts.empty()) return gb::cli::usage_error("merge", "no partial result files given", &desc);
  if (args.out.empty() && !args.as_json)
    return gb::cli::usage_error("merge", "give -o OUT (or --json)", &desc);
  gb::probes::merged m;
  try {
    std::vector<gb::probes::part> read;
    for (const auto& p : args.parts) read.push_back(gb::probes::part_read(p));
    m = gb::probes::shard_merge(read);
  } catch (const gb::failure& f) {
    return gb::cli::report_error(f.err());
  }
  const std::string doc = gb::viz::bias_json(m.results, true, 2, true) + "\n";
  if (!args.out.empty()) {
    std::string file = args.out;
    if (!ends_with(args.out, ".json")) {
      ::mkdir(args.out.c_str(), 0755);
      file = args.out + "/bias.json";
      for (const auto& r : m.results)
        if (r.error.empty())
          std::ofstream(args.out + "/bias-" + r.suite + ".svg") << gb::viz::bias_chart_svg(r);
    }
    std::ofstream f(file, std::ios::binary | std::ios::trunc);
    f << doc;
    f.close();
    if (!f) return gb::cli::report_error({gb::errc::io, 0, "cannot write the merged result", file});
  }
  if (args.as_json)
    std::printf("%s", doc.c_str());
  else {
    std::printf("merged %zu parts of %s (model digest %s)\n\n", args.parts.size(), m.header.model.c_str(),
                m.header.model_digest.substr(0, 16).c_str());
    std::printf("%s", gb::viz::bias_text(m.results).c_str());
  }
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("merge", "merge the partial results of a sharded bias run (bias --shard I/N) exactly", run_merge);
