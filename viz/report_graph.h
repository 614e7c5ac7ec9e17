// viz/report_graph.h: `glassbox graph` beside the drawing itself (viz/graph.h): the graph of what
// integrity_open read (ONNX op graph or the architecture, with a note when no model could be built), and the
// summary of what was written, as a line of text or the --json document. Renders only.
//
//   gb::result<gb::viz::graph> g = gb::viz::graph_of(input, "auto", /*expand=*/false);
//   std::fputs(gb::viz::graph_written_text(g.value(), written).c_str(), stdout);
#pragma once

#include <string>
#include <vector>

#include "inspect/diff.h"
#include "inspect/stats.h"
#include "inspect/tensor_values.h"
#include "viz/graph.h"

namespace gb::viz {

// view: auto (ONNX op graph when the files have one, else the architecture), ops (errc::unsupported without
// an op graph) or arch.
result<graph> graph_of(const integrity_input& in, const std::string& view, bool expand);

// g (MODEL) and g2 (OTHER) in one picture: the tensors d found changed highlighted, its verdict as a note.
graph graph_of_diff(const graph& g, const graph& g2, const diff_report& d);

// The output format: `format` when given ("htm" is html), else from the extension of `output` (".gv" is dot,
// "-" is dot); "" when it is none of svg, png, dot, json, html.
std::string graph_format_of(const std::string& output, const std::string& format);

// The file's bytes in `format` (graph_render; html: the SVG in one offline page with `stats` for the side
// panel). An SVG that is not well-formed is an error (a bug of ours), never written.
result<std::string> graph_file(const graph& g, const std::string& format, const stats_report& stats,
                               std::vector<std::string>& messages);

// What graph_render wrote, and how long building and rendering took.
struct graph_written {
  std::string output, format;
  size_t bytes = 0;
  double build_ms = 0, render_ms = 0;
  std::vector<std::string> messages;  // Graphviz's
};
// "wrote FILE (svg, N bytes): ... nodes, ... edges ..." and one line per finding.
std::string graph_written_text(const graph& g, const graph_written& w);
std::string graph_written_json(const graph& g, const graph_written& w);

}  // namespace gb::viz
