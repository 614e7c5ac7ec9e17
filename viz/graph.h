// viz/graph.h: model graphs as plain data, and their DOT / JSON / SVG / PNG forms (Graphviz dot layout).
//
// Two sources:
//  * ONNX: the real op graph from archive::graph. Every op is a node (op type, short name, initializer inputs
//    with shape and dtype, a few attributes); edges are values (labelled with their shape when known); graph
//    inputs and outputs are ellipses.
//  * Weights-only formats (GGUF, safetensors, llama2.c, PyTorch, HF folders): the architecture graph rebuilt
//    from gb::model: tokens -> embeddings -> one cluster per block (norm, q/k/v/o with heads and KV heads,
//    RoPE or ALiBi, attention, residual adds, norm, MLP gated or not, activation) -> output norm -> head.
//    Compute nodes (RoPE, attention, activation, +) come from the hyperparameters; weight nodes carry shape,
//    dtype and parameter count.
//
// Folding (default; graph_options::expand turns it off):
//  * Architecture graphs: a layer's signature is its sorted list of (role, bias, shape). Consecutive layers
//  with
//    the same signature fold into one cluster "blocks 0-79 (x 80)"; its nodes keep the ids of the first layer
//    ("blk.0.attn.q") and list every layer's tensors; dtypes that vary over the run are shown as a mix
//    ("q4_k x60, q6_k x20").
//  * ONNX graphs: a node belongs to a layer when a '/'-separated segment of its name (or of its first output
//    when unnamed) is `<word>[._]<N>` (torch export: "/model/layers.3/self_attn/MatMul") or a bare number
//    after a word segment ("/encoder/layer/3/..."). A layer's signature is the sequence of (op type, name
//    with N masked, inputs with N masked, initializer shapes+dtypes). Consecutive layers of one prefix with
//    equal signatures fold into the first; edges into a folded layer are redirected to the representative,
//    and edges between consecutive folded layers become one dashed "repeat" edge. When no op name carries a
//    layer number (flat torch exports: "/MatMul_12"), repeated blocks are found from the graph structure
//    instead (inspect/graph_fold.h) and folded the same way into "blocks 0-4  (x 5, structurally identical)".
//
//   gb::viz::graph g = gb::viz::graph_from_model(model, {});          // or graph_from_onnx(archive, {})
//   gb::viz::graph_overlay(g, {"norm", per_tensor_norms, findings});  // colour by metric, mark findings
//   gb::result<std::string> svg = gb::viz::graph_render(g, "svg");    // dot layout through gvc
//   std::string dot = gb::viz::graph_to_dot(g), json = gb::viz::graph_to_json(g);
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "formats/archive.h"
#include "inspect/model.h"

namespace gb::viz {

enum class diff_status : uint8_t { same, added, removed, changed };
const char* diff_status_name(diff_status s);

struct gnode {
  std::string id;                    // stable: "tok_embd", "blk.0.attn.q", "op:/model/layers.0/MatMul"
  std::string label;                 // first line: "attn.q", "MatMul"
  std::vector<std::string> details;  // further lines: shapes, dtypes, heads, parameters
  std::string kind;     // style: input output embedding norm attention mlp residual rope act head
                        // op_compute op_act op_norm op_shape op_math op_control op_other generic value
  std::string cluster;  // enclosing cluster id ("" = top level)
  std::vector<std::string> tensors;  // canonical names drawn by this node (all folded layers)
  std::vector<std::string> stored;   // the same tensors' names as stored in the file
  int fold = 1;                      // copies this node stands for
  uint64_t params = 0;               // parameters of one copy
  std::optional<double> metric;      // set by graph_overlay (worst value over the node's tensors)
  std::vector<std::string> marks;    // findings on this node: "high tensor.nan"
  diff_status status = diff_status::same;
};

struct gedge {
  std::string from, to, label;
  bool repeat = false;    // stands for the connection between consecutive folded copies
  bool residual = false;  // skip connection
  diff_status status = diff_status::same;
};

struct gcluster {
  std::string id, label;
  int fold = 1;
};

struct graph {
  std::string title;               // format-independent summary ("llama, 5 layers, 260K params")
  std::string source;              // file and format, shown under the title
  std::vector<std::string> notes;  // extra header lines (hyperparameters, folding)
  std::vector<gnode> nodes;
  std::vector<gedge> edges;
  std::vector<gcluster> clusters;
  std::vector<finding> findings;  // about the drawing: unknown op/architecture, dangling values
  std::string overlay_metric;     // "" = no overlay
  double overlay_lo = 0, overlay_hi = 0;
  std::vector<std::string> unplaced_marks;  // findings that matched no node
  bool is_diff = false;

  const gnode* node(std::string_view id) const;
};

struct graph_options {
  bool expand = false;             // no folding
  const model* counted = nullptr;  // ONNX: the model whose parameter count the title states (inspect's)
};

// Op graph of an ONNX archive (archive.graph must be present; initializers are archive.tensors).
graph graph_from_onnx(const archive& a, const graph_options& opt);
// Architecture graph of a model (any format; ONNX models too, from their initializer roles).
graph graph_from_model(const model& m, const graph_options& opt);

// Colours nodes by a per-tensor metric (keys: canonical or stored tensor names) and marks findings on the
// node whose tensors include finding::where (or whose id equals it). A node shows the largest value over its
// tensors ("max over 80 layers"); findings that match no node are listed in the legend.
struct overlay {
  std::string metric;  // "norm", "outliers", "nan", "alpha" ...
  std::map<std::string, double> values;
  std::vector<finding> findings;
};
void graph_overlay(graph& g, const overlay& o);

// Two graphs in one picture: nodes matched by id; present only in `after` = added, only in `before` =
// removed, in both with different text or a tensor in `changed_tensors` (canonical or stored names) =
// changed.
graph graph_diff(const graph& before, const graph& after, const std::set<std::string>& changed_tensors);

std::string graph_to_dot(const graph& g);  // deterministic DOT text (no layout)
std::string graph_to_json(
    const graph& g);  // {title, source, notes, nodes, edges, clusters, findings, overlay}

// Lays out with dot and renders: format "svg", "png" (cairo), or "dot"/"json" (no layout). Graphviz
// messages are captured (never printed) into *messages. Errors: errc::unsupported (format), errc::bad_value
// (layout or render failed, with Graphviz's message).
result<std::string> graph_render(const graph& g, const std::string& format,
                                 std::vector<std::string>* messages = nullptr);

}  // namespace gb::viz
