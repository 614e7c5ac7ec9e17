// viz/report_trace.h: tables and SVG charts for activation traces, multi-prompt aggregates and activation
// patching (probes/trace.h, probes/patching.h). Draws only; every number comes from the probes.
//
//   auto piece = [&](int32_t id) { return tok.token_piece(id); };
//   for (auto& c : gb::viz::trace_charts(result, piece)) write(dir / c.name, c.svg);   // resid_norms.svg ...
//   std::string table = gb::viz::trace_text(result, piece);                            // terminal report
//   write(dir / "index.html", gb::viz::charts_index_html("trace", charts, "trace.txt"));  // links every SVG
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "probes/patching.h"
#include "probes/trace.h"

namespace gb::viz {

struct chart_file {
  std::string name;  // file name inside the output folder ("attn_L0_H3.svg")
  std::string svg;
};
using token_text = std::function<std::string(int32_t)>;

// resid_norms.svg (pre/mid/post, attention and MLP output norms across layers, last position and mean
// over positions), attn_LN_HM.svg per head when patterns were kept, head_stats.svg (entropy, sink,
// previous-token heatmaps over layers x heads), logit_lens.svg (probability of the final prediction per
// layer x position, top token per cell in the labels).
std::vector<chart_file> trace_charts(const probes::trace_result& r, const token_text& piece);
// Aligned text: per-layer norms, per-head statistics, logit-lens table, outliers.
std::string trace_text(const probes::trace_result& r, const token_text& piece);

// Aggregates: agg_resid_norms.svg, agg_heads_<stat>.svg.
std::vector<chart_file> aggregate_charts(const probes::trace_aggregate& a);
std::string aggregate_text(const probes::trace_aggregate& a, int top_neurons = 5);

// --json of `glassbox trace`, as text: {"model", "trace": {tokens, pieces, prediction, layers, heads,
// logit_lens, hooks}[, "export": {path, tensors} when export_path is set]}; over many prompts {"model",
// "aggregate": {prompts, tokens, layers (top neurons as aggregate_text), heads}, "truncated_prompts"}.
std::string trace_json(const probes::trace_result& r, const token_text& piece, const std::string& model,
                       const std::string& export_path = "");
std::string aggregate_json(const probes::trace_aggregate& a, int top_neurons, const std::string& model,
                           int64_t truncated_prompts);

// Patching: patch_resid.svg (layers x positions), patch_heads.svg (layers x heads), patch_layers.svg
// (attn and MLP bars per layer); values are the restored fraction, diverging colours around 0.
// token_labels: one label per position.
std::vector<chart_file> patch_charts(const probes::patch_result& r,
                                     const std::vector<std::string>& token_labels);
std::string patch_text(const probes::patch_result& r, const std::vector<std::string>& token_labels);

// index.html for a folder of charts: a title, a link to the text report (e.g. "trace.txt"; "" = none) and
// every chart shown and linked by its file name, in order. Offline (relative links only), deterministic.
std::string charts_index_html(const std::string& title, const std::vector<chart_file>& charts,
                              const std::string& text_file);
// The folder of a command's -o DIR (created when missing): every chart, the text report as text_file, and
// index.html (charts_index_html); errc::io "cannot write NAME in DIR" when a file cannot be written.
void charts_folder_write(const std::string& dir, const std::string& title,
                         const std::vector<chart_file>& charts, const std::string& text_file,
                         const std::string& text);

}  // namespace gb::viz
