// glassbox graph: draw a model as a graph (ONNX op graph, or the architecture rebuilt from the weights),
// optionally coloured by a per-tensor metric or diffed against another model. Building is viz/graph.h
// (viz/report_graph.h: which graph, and the summary printed), the overlay inspect/tensor_overlay.h.
#include <chrono>
#include <cstdio>

#include "cli/command.h"
#include "cli/graph_options.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "formats/file_text.h"
#include "inspect/diff.h"
#include "inspect/stats.h"
#include "inspect/tensor_overlay.h"
#include "inspect/tensor_values.h"
#include "viz/graph.h"
#include "viz/report_graph.h"

namespace {

using gb::viz::graph;

// --overlay METRIC: nodes coloured by a per-tensor metric; -1 to go on, else an exit code.
int overlay_add(graph& g, const gb::integrity_input& in, const std::string& metric, int threads) {
  auto o = gb::tensor_overlay_compute(in, metric, threads);
  if (!o && o.err().code == gb::errc::unsupported)  // an unknown metric
    return gb::cli::fail_message(gb::cli::exit_usage, o.err().message);
  if (!o) return gb::cli::report_error(o.err());
  gb::viz::graph_overlay(g, {o.value().metric, std::move(o.value().values), std::move(o.value().findings)});
  return -1;
}

// --diff OTHER: MODEL and OTHER in one picture, changed tensors highlighted.
gb::result<graph> graph_diffed(const graph& g, const gb::integrity_input& in, const std::string& other,
                               const std::string& view, bool expand, int threads) {
  gb::result<gb::integrity_input> in2 = gb::integrity_open(other);
  if (!in2) return in2.err();
  gb::result<graph> g2 = gb::viz::graph_of(in2.value(), view, expand);
  if (!g2) return g2.err();
  auto dr = gb::capture(other, [&] { return gb::diff_inputs(in, in2.value(), threads); });
  if (!dr) return dr.err();
  return gb::viz::graph_of_diff(g, g2.value(), dr.value());
}

// html: every tensor's statistics for the page's side panel (other formats: none computed).
gb::result<gb::stats_report> panel_stats(const std::string& format, const gb::integrity_input& in,
                                         int threads) {
  if (format != "html") return gb::stats_report{};
  return gb::capture(in.ar->path, [&] {
    gb::stats_options so;
    so.threads = threads;
    so.values_digest = false;
    return gb::stats_compute(in.items, so);
  });
}

int run_graph(int argc, char** argv) {
  gb::cli::graph_args a;
  if (const int rc = gb::cli::graph_parse(argc, argv, a); rc >= 0) return rc;
  const auto t0 = std::chrono::steady_clock::now();
  gb::result<gb::integrity_input> in = gb::integrity_open(a.path);
  if (!in) return gb::cli::report_error(in.err());
  gb::result<graph> g = gb::viz::graph_of(in.value(), a.view, a.expand);
  if (!g) return gb::cli::report_error(g.err());
  if (!a.overlay.empty())
    if (int rc = overlay_add(g.value(), in.value(), a.overlay, a.threads); rc >= 0) return rc;
  if (!a.other.empty()) g = graph_diffed(g.value(), in.value(), a.other, a.view, a.expand, a.threads);
  if (!g) return gb::cli::report_error(g.err());
  const auto t1 = std::chrono::steady_clock::now();
  gb::viz::graph_written w{a.out, a.format, 0, 0, 0, {}};
  gb::result<gb::stats_report> st = panel_stats(a.format, in.value(), a.threads);
  if (!st) return gb::cli::report_error(st.err());
  gb::result<std::string> bytes = gb::viz::graph_file(g.value(), a.format, st.value(), w.messages);
  if (!bytes) return gb::cli::report_error(bytes.err());
  const auto t2 = std::chrono::steady_clock::now();
  if (a.out == "-")
    std::fwrite(bytes.value().data(), 1, bytes.value().size(), stdout);
  else if (auto wr = gb::capture(a.out, [&] { return gb::file_write_text(a.out, bytes.value()), true; }); !wr)
    return gb::cli::report_error(wr.err());
  w.bytes = bytes.value().size();
  w.build_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  w.render_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  if (a.as_json) gb::cli::print_json_text(gb::viz::graph_written_json(g.value(), w));
  if (a.as_json || a.out == "-") return gb::cli::exit_ok;
  std::printf("%s", gb::viz::graph_written_text(g.value(), w).c_str());
  for (const auto& m : w.messages) std::fprintf(stderr, "  graphviz: %s\n", m.c_str());
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("graph", "draw the model: ONNX op graph or architecture, folded, with metric overlays and diffs",
           run_graph);
