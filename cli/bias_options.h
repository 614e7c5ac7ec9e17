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
#include "probes/shard.h"

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

// The bias commands' datasets: an empty root becomes $GLASSBOX_DATA/bias (when that is set).
void bias_data_root_default(std::string& root);
// The dataset of `suite`: `data` when given, else its place under `root`. Ends the command with a usage
// error ("<prefix>no dataset: ..." / "<prefix>dataset not found: PATH") when it is missing (templates:
// built in, never missing).
std::string bias_dataset_find(const std::string& cmd, const std::string& suite, const std::string& data,
                              const std::string& root, const std::string& prefix = "");

// --shard I/N or auto (bias, audit; shards: --shards): probes::shard_parse, whose refusals (a value, or a
// launcher's environment, that names no shard) end the command as usage errors (exit 2), not bad input.
probes::shard_spec shard_option(const std::string& arg, size_t shards);

// bias, a shard of it, and merge: exit 1 (with a line per suite outside --json) when a requested suite did
// not run, else 0. The JSON document carries each error.
int suites_exit(const std::vector<probes::suite_result>& results);

}  // namespace gb::cli
