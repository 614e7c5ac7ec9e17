// cli/trace_options.h: what `glassbox trace` accepts: its arguments and their option table (17 options, with
// the definitions of its measures in the help), apart from what the command does (cli/cmd_trace.cpp). For
// cli/ sources.
//
//   gb::cli::trace_args a;
//   auto vm = gb::cli::parse_command(argc, argv, gb::cli::trace_options_desc(a));   // a.o: trace_options
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "probes/trace.h"

namespace gb::cli {

struct trace_args {
  std::string model_path, tok_path, prompt, prompts_file, export_path, out_dir;
  std::vector<std::string> hooks;
  int threads = 0, top_neurons = 5;
  int64_t max_prompts = 0;
  bool as_json = false, no_bos = false;
  probes::trace_options o;
  probes::trace_input in;
};

boost::program_options::options_description trace_options_desc(trace_args& a);

}  // namespace gb::cli
