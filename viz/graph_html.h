// viz/graph_html.h: a model graph as one self-contained, offline HTML page (`glassbox graph -o model.html`):
// the Graphviz SVG inline, the graph and per-tensor data as inline JSON, and a small inline script for pan
// (drag), zoom (wheel, +/-), search by tensor name (also from the URL: #search=blk.3.attn_q; #node=ID or
// #node=cluster:ID selects a node or a block), a side panel
// for the clicked node (shape, dtype, statistics, findings of every tensor it draws) and folded blocks that
// unfold there into their layers (rows built only when a layer is opened, so 80 layers or thousands of ONNX
// ops stay responsive). Nothing is fetched; the same input gives byte-identical output.
//
// The page records its state into the DOM for tests and scripts: <body data-ready="1" data-nodes="N"
// data-search="..." data-hits="K" data-selected="node id" data-selected-tensor="tensor name">.
//
//   gb::viz::graph g = gb::viz::graph_from_model(model, {});
//   std::string svg = gb::viz::graph_render(g, "svg").value();
//   std::string html = gb::viz::graph_html(g, svg, stats.tensors, stats.findings);
#pragma once

#include <string>
#include <vector>

#include "inspect/stats.h"
#include "viz/graph.h"

namespace gb::viz {

// tensors: one entry per tensor (name, stored name, dtype, shape; statistics when `readable` and computed:
// pass have_stats = false when only names, dtypes and shapes are known). findings: shown on the node whose
// tensors include finding::where, plus g.findings.
std::string graph_html(const graph& g, const std::string& svg, const std::vector<tensor_stats>& tensors,
                       bool have_stats, const std::vector<finding>& findings);

}  // namespace gb::viz
