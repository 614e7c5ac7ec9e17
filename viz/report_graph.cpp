// viz/report_graph.cpp: a model's graph from its files, and what was written (see viz/report_graph.h).
#include "viz/report_graph.h"

#include <cctype>

#include "viz/graph_html.h"
#include "viz/json_util.h"
#include "viz/text.h"
#include "viz/xml_check.h"

namespace gb::viz {

namespace {

size_t folded_clusters(const graph& g) {
  size_t folded = 0;
  for (const auto& c : g.clusters) folded += c.fold > 1;
  return folded;
}

std::string ext_of(const std::string& path) {
  size_t dot = path.rfind('.');
  size_t slash = path.find_last_of("/\\");
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return {};
  std::string e = path.substr(dot + 1);
  for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e == "gv" ? "dot" : e;
}

}  // namespace

graph graph_of_diff(const graph& g, const graph& g2, const diff_report& d) {
  graph out = graph_diff(g, g2, diff_changed_tensors(d));
  out.notes.push_back("verdict: " + d.verdict_text);
  return out;
}

std::string graph_format_of(const std::string& output, const std::string& format) {
  std::string f = !format.empty() ? format : output == "-" ? "dot" : ext_of(output);
  if (f == "htm") f = "html";
  return f == "svg" || f == "png" || f == "dot" || f == "json" || f == "html" ? f : "";
}

result<graph> graph_of(const integrity_input& in, const std::string& view, bool expand) {
  graph_options opt;
  opt.expand = expand;
  opt.counted = in.m.get();
  if (view != "arch" && in.ar->graph.present()) return graph_from_onnx(*in.ar, opt);
  if (view == "ops")
    return error{errc::unsupported, 0, "graph: --view ops needs an ONNX model (this file has no op graph)",
                 in.ar->path};
  if (in.m) return graph_from_model(*in.m, opt);
  model m;  // no model could be built: every tensor generic
  m.source = in.ar;
  for (size_t i = 0; i < in.ar->tensors.size(); ++i) m.unmapped.push_back(i);
  graph g = graph_from_model(m, opt);
  if (!in.note.empty()) g.notes.push_back(in.note);
  return g;
}

result<std::string> graph_file(const graph& g, const std::string& format, const stats_report& stats,
                               std::vector<std::string>& messages) {
  result<std::string> bytes = graph_render(g, format == "html" ? "svg" : format, &messages);
  if (!bytes) return bytes;
  if (format == "html") return graph_html(g, bytes.value(), stats.tensors, true, stats.findings);
  if (format != "svg") return bytes;
  const xml_report x = xml_check(bytes.value());
  if (!x.ok)
    return error{errc::bad_value, 0,
                 "internal error: the SVG is not well-formed (" + x.error + " at byte " +
                     std::to_string(x.offset) + ")",
                 ""};
  return bytes;
}

std::string graph_written_text(const graph& g, const graph_written& w) {
  std::string out = strf(
      "wrote %s (%s, %zu bytes): %zu nodes, %zu edges, %zu clusters (%zu folded); built in %.0f ms, rendered "
      "in "
      "%.0f ms\n",
      w.output.c_str(), w.format.c_str(), w.bytes, g.nodes.size(), g.edges.size(), g.clusters.size(),
      folded_clusters(g), w.build_ms, w.render_ms);
  for (const auto& f : g.findings)
    out +=
        strf("  %s %s %s: %s\n", severity_name(f.level), f.code.c_str(), f.where.c_str(), f.message.c_str());
  return out;
}

std::string graph_written_json(const graph& g, const graph_written& w) {
  nlohmann::ordered_json j;
  j["output"] = w.output;
  j["format"] = w.format;
  j["title"] = g.title;
  j["nodes"] = g.nodes.size();
  j["edges"] = g.edges.size();
  j["clusters"] = g.clusters.size();
  j["folded_clusters"] = folded_clusters(g);
  j["bytes"] = w.bytes;
  j["build_ms"] = w.build_ms;
  j["render_ms"] = w.render_ms;
  j["graphviz_messages"] = w.messages;
  j["findings"] = findings_json<nlohmann::ordered_json>(g.findings);  // graph findings carry no byte offset
  return json_text(j);
}

}  // namespace gb::viz
