// cli/run_options.h: what `glassbox run` accepts: its arguments and their option table, apart from what the
// command does (cli/cmd_run.cpp). For cli/ sources.
//
//   gb::cli::run_args a;
//   auto vm = gb::cli::parse_command(argc, argv, gb::cli::run_options_desc(a));   // a.prompt, a.top_k ...
#pragma once

#include <boost/program_options.hpp>
#include <string>

namespace gb::cli {

struct run_args {
  std::string model_path, tok_path, prompt, ids_text, ppl_file, gelu = "exact", numerics = "exact";
  int n_tokens = 64, top_k = 0, threads = 0;
  bool logprobs = false, as_json = false, no_bos = false;
};

boost::program_options::options_description run_options_desc(run_args& a);

}  // namespace gb::cli
