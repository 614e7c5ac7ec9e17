// cli/bias_options.h: what `glassbox bias` accepts: its arguments and their option table, apart from what the
// command does (cli/cmd_bias.cpp). For cli/ sources.
//
//   gb::cli::bias_args a;
//   gb::cli::parse_command(argc, argv, gb::cli::bias_options_desc(a));   // a.r: where the datasets are
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "probes/bias_run.h"

namespace gb::cli {

struct bias_args {
  std::string model_path, tok_path, variant, out_dir, shard, table_format;
  std::vector<std::string> suites;
  size_t shards = 0;
  probes::bias_run_options r;
  probes::bias_options o;
  bool as_json = false, records = false, no_reuse = false;
};

boost::program_options::options_description bias_options_desc(bias_args& a);

}  // namespace gb::cli
