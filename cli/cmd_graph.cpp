// glassbox graph: draw a model as a graph (ONNX op graph, or the architecture rebuilt from the weights),
// optionally coloured by a per-tensor metric or diffed against another model.
#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "inspect/diff.h"
#include "inspect/stats.h"
#include "inspect/tensor_overlay.h"
#include "inspect/tensor_values.h"
#include "viz/graph.h"
#include "viz/graph_html.h"
#include "viz/xml_check.h"

namespace po = boost::program_options;

namespace {

using gb::viz::graph;

std::string ext_of(const std::string& path) {
  size_t dot = path.rfind('.');
  size_t slash = path.find_last_of("/\\");
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return {};
  std::string e = path.substr(dot + 1);
  for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e == "gv" ? "dot" : e;
}

// The graph of one model: ONNX op graph unless --view arch (or the file has no op graph).
gb::result<graph> graph_of(const gb::integrity_input& in, const std::string& view, bool expand) {
  gb::viz::graph_options opt;
  opt.expand = expand;
  opt.counted = in.m.get();
  if (view != "arch" && in.ar->graph.present()) return gb::viz::graph_from_onnx(*in.ar, opt);
  if (view == "ops")
    return gb::error{gb::errc::unsupported, 0,
                     "graph: --view ops needs an ONNX model (this file has no op graph)", in.ar->path};
  if (in.m) return gb::viz::graph_from_model(*in.m, opt);
  gb::model m;  // no model could be built: every tensor generic
  m.source = in.ar;
  for (size_t i = 0; i < in.ar->tensors.size(); ++i) m.unmapped.push_back(i);
  graph g = gb::viz::graph_from_model(m, opt);
  if (!in.note.empty()) g.notes.push_back(in.note);
  return g;
}

int run_graph(int argc, char** argv) {
  po::options_description desc(
      "glassbox graph MODEL -o FILE.{svg,png,dot,json,html} [--expand] [--overlay METRIC] [--diff OTHER] "
      "[--view auto|ops|arch]");
  std::string path, out, format, overlay_metric, other, view = "auto";
  bool expand = false, as_json = false;
  int threads = 0;
  desc.add_options()("help,h", "show options")("model", po::value(&path), "model file or folder")(
      "output,o", po::value(&out),
      "output file; the extension picks the format (svg, png, dot, json, html); '-' = stdout")(
      "format", po::value(&format),
      "svg, png, dot, json or html: one offline page with pan, zoom, search and tensor details (overrides "
      "the extension)")("expand", po::bool_switch(&expand),
                        "draw every layer (default: identical layers folded into one 'x N' block)")(
      "overlay", po::value(&overlay_metric),
      "colour nodes by a per-tensor metric: norm absmax std kurtosis outliers nan zeros (stats) or alpha "
      "alpha_weighted "
      "stable_rank spectral_norm log_norm (spectral); findings are marked on their node")(
      "diff", po::value(&other),
      "draw MODEL and OTHER in one picture: added, removed and changed nodes highlighted")(
      "view", po::value(&view)->default_value("auto"), "auto (ONNX: ops, others: arch), ops, or arch")(
      "threads", po::value(&threads)->default_value(0), "threads for --overlay / --diff (0 = all cores)")(
      "json", po::bool_switch(&as_json), "print a JSON summary of what was written");
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc);
  if (path.empty() || out.empty()) return gb::cli::missing_positional(path.empty() ? "MODEL" : "-o FILE");
  gb::cli::check_output_file("output", out);
  if (format.empty()) format = out == "-" ? "dot" : ext_of(out);
  if (format == "htm") format = "html";
  if (format != "svg" && format != "png" && format != "dot" && format != "json" && format != "html") {
    std::fprintf(stderr,
                 "glassbox graph: cannot tell the format of '%s' (use .svg, .png, .dot, .json or .html, or "
                 "--format)\n",
                 out.c_str());
    return gb::cli::exit_usage;
  }
  if (view != "auto" && view != "ops" && view != "arch")
    return gb::cli::usage_error("graph", "--view must be auto, ops or arch");
  if (!overlay_metric.empty() && !other.empty())
    return gb::cli::usage_error("graph", "--overlay and --diff cannot be combined");

  auto t0 = std::chrono::steady_clock::now();
  gb::result<gb::integrity_input> in = gb::integrity_open(path);
  if (!in) return gb::cli::report_error(in.err());
  gb::result<graph> gr = graph_of(in.value(), view, expand);
  if (!gr) return gb::cli::report_error(gr.err());
  graph g = std::move(gr).value();

  if (!overlay_metric.empty()) {
    auto o = gb::tensor_overlay_compute(in.value(), overlay_metric, threads);
    if (!o) {
      if (o.err().code == gb::errc::unsupported) {
        std::fprintf(stderr, "glassbox %s\n", o.err().message.c_str());
        return gb::cli::exit_usage;
      }
      return gb::cli::report_error(o.err());
    }
    gb::tensor_overlay& v = o.value();
    gb::viz::graph_overlay(g, {v.metric, std::move(v.values), std::move(v.findings)});
  }
  if (!other.empty()) {
    gb::result<gb::integrity_input> in2 = gb::integrity_open(other);
    if (!in2) return gb::cli::report_error(in2.err());
    gb::result<graph> g2 = graph_of(in2.value(), view, expand);
    if (!g2) return gb::cli::report_error(g2.err());
    std::set<std::string> changed;
    auto dr = gb::capture(other, [&] {
      gb::diff_options dopt;
      dopt.threads = threads;
      return gb::diff_models(in.value().items, in2.value().items, *in.value().ar, *in2.value().ar,
                             in.value().m ? &in.value().m->hp : nullptr,
                             in2.value().m ? &in2.value().m->hp : nullptr, dopt);
    });
    if (!dr) return gb::cli::report_error(dr.err());
    for (const auto& t : dr.value().tensors)
      if (t.status != gb::tensor_delta::identical && t.status != gb::tensor_delta::equal &&
          t.status != gb::tensor_delta::added && t.status != gb::tensor_delta::removed)
        changed.insert(t.name);
    g = gb::viz::graph_diff(g, g2.value(), changed);
    g.notes.push_back("verdict: " + dr.value().verdict_text);
  }
  auto t1 = std::chrono::steady_clock::now();

  std::vector<std::string> messages;
  gb::result<std::string> bytes = gb::viz::graph_render(g, format == "html" ? "svg" : format, &messages);
  if (!bytes) return gb::cli::report_error(bytes.err());
  if (format ==
      "html") {  // the SVG inside an offline page, with every tensor's statistics for the side panel
    auto st = gb::capture(in.value().ar->path, [&] {
      gb::stats_options so;
      so.threads = threads;
      so.values_digest = false;
      return gb::stats_compute(in.value().items, so);
    });
    if (!st) return gb::cli::report_error(st.err());
    bytes = gb::viz::graph_html(g, bytes.value(), st.value().tensors, true, st.value().findings);
  }
  if (format == "svg") {
    gb::viz::xml_report x = gb::viz::xml_check(bytes.value());
    if (!x.ok) {
      std::fprintf(stderr, "glassbox graph: internal error: the SVG is not well-formed (%s at byte %zu)\n",
                   x.error.c_str(), x.offset);
      return gb::cli::exit_input;
    }
  }
  auto t2 = std::chrono::steady_clock::now();
  if (out == "-") {
    std::fwrite(bytes.value().data(), 1, bytes.value().size(), stdout);
  } else {
    std::ofstream f(out, std::ios::binary);
    f.write(bytes.value().data(), static_cast<std::streamsize>(bytes.value().size()));
    if (!f) return gb::cli::report_error({gb::errc::io, 0, "cannot write " + out, out});
  }
  double build_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  double render_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  size_t folded = 0;
  for (const auto& c : g.clusters) folded += c.fold > 1;
  if (as_json) {
    nlohmann::ordered_json j;
    j["output"] = out;
    j["format"] = format;
    j["title"] = g.title;
    j["nodes"] = g.nodes.size();
    j["edges"] = g.edges.size();
    j["clusters"] = g.clusters.size();
    j["folded_clusters"] = folded;
    j["bytes"] = bytes.value().size();
    j["build_ms"] = build_ms;
    j["render_ms"] = render_ms;
    j["graphviz_messages"] = messages;
    j["findings"] = nlohmann::ordered_json::array();
    for (const auto& f : g.findings)
      j["findings"].push_back({{"severity", gb::severity_name(f.level)},
                               {"code", f.code},
                               {"where", f.where},
                               {"message", f.message}});
    gb::cli::print_json(j);
  } else if (out != "-") {
    std::printf(
        "wrote %s (%s, %zu bytes): %zu nodes, %zu edges, %zu clusters (%zu folded); built in %.0f ms, "
        "rendered in %.0f ms\n",
        out.c_str(), format.c_str(), bytes.value().size(), g.nodes.size(), g.edges.size(), g.clusters.size(),
        folded, build_ms, render_ms);
    for (const auto& f : g.findings)
      std::printf("  %s %s %s: %s\n", gb::severity_name(f.level), f.code.c_str(), f.where.c_str(),
                  f.message.c_str());
    for (const auto& m : messages) std::fprintf(stderr, "  graphviz: %s\n", m.c_str());
  }
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("graph", "draw the model: ONNX op graph or architecture, folded, with metric overlays and diffs",
           run_graph);
