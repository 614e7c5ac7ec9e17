// cli/audit_options.h: what `glassbox audit` accepts: its arguments and their option table (the longest of
// any command, 19 options), checked before any work, apart from what the command does with them
// (cli/cmd_audit.cpp). For cli/ sources.
//
//   gb::cli::audit_args a;
//   gb::cli::parse_command(argc, argv, gb::cli::audit_options_desc(a));   // a.model_path, a.o.suites ...
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "probes/audit_run.h"

namespace gb::cli {

struct audit_args {
  probes::audit_options o;
  std::string model_path, out_dir = "glassbox-report", tok_path, key, fail_on, shard;
  std::vector<std::string> suites, bias_parts;
  bool as_json = false, no_spectral = false, plan = false;
  size_t shards = 0;
};

boost::program_options::options_description audit_options_desc(audit_args& a);
// After parsing: the suites checked and selected, $GLASSBOX_DATA, the --sign key and the output folder
// checked (before any work), all into a.o.
void audit_setup(audit_args& a);

}  // namespace gb::cli
