// cli/graph_options.h: what `glassbox graph` accepts: its arguments, their option table and the checks made
// before any work (output format from the extension, --view, --overlay with --diff), apart from what the
// command does (cli/cmd_graph.cpp). For cli/ sources.
//
//   gb::cli::graph_args a;
//   if (int rc = gb::cli::graph_parse(argc, argv, a); rc >= 0) return rc;   // a.format: svg, png, ...
#pragma once

#include <string>

namespace gb::cli {

struct graph_args {
  std::string path, out, format, overlay, other, view = "auto";
  bool expand = false, as_json = false;
  int threads = 0;
};

// Options parsed and checked; -1 to go on, else the exit code (the error already printed).
int graph_parse(int argc, char** argv, graph_args& a);

}  // namespace gb::cli
