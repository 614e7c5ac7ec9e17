// cli/synth_options.h: what `glassbox synth` accepts: its arguments and their option table, apart from what
// the command does (cli/cmd_synth.cpp). For cli/ sources.
//
//   gb::cli::synth_args a;
//   gb::cli::parse_command(argc, argv, gb::cli::synth_option_table(a), {});   // a.s: the spec so far
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "inspect/synth.h"

namespace gb::cli {

struct synth_args {
  synth_spec s;
  std::string dtype_s = "f32", format_s = "gguf", perturb_s, archs;
  std::vector<std::string> plants;
  bool as_json = false;
  uint64_t shard_mb = 0;
};

boost::program_options::options_description synth_option_table(synth_args& a);

}  // namespace gb::cli
