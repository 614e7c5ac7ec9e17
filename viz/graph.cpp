// viz/graph.cpp: overlay, diff, DOT and JSON writers, and rendering through Graphviz gvc (see graph.h).
// The builders live in graph_onnx.cpp (op graphs) and graph_model.cpp (architecture graphs).
#include "viz/graph.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>

#include "viz/svg_chart.h"

namespace gb::viz {
namespace {

// Text for a Graphviz HTML-like label: XML-escaped, with numeric references for quotes (Graphviz knows
// HTML 4 entities, where &apos; is missing).
std::string html(std::string_view s) {
  std::string e = xml_escape(s), o;
  o.reserve(e.size());
  for (size_t i = 0; i < e.size(); ++i) {
    if (e.compare(i, 6, "&apos;") == 0) {
      o += "&#39;";
      i += 5;
    } else if (e.compare(i, 6, "&quot;") == 0) {
      o += "&#34;";
      i += 5;
    } else
      o += e[i];
  }
  return o;
}

// A DOT quoted identifier: valid UTF-8 (via xml_escape's replacement, then unescaped), quotes/backslashes
// escaped.
std::string dot_id(std::string_view s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (c == '\n' || c == '\r' || c == '\t')
      o += ' ';
    else if (static_cast<unsigned char>(c) < 0x20)
      o += '?';
    else
      o += c;
  }
  return o + "\"";
}

// Replaces invalid UTF-8 with U+FFFD (DOT ids reach Graphviz's UTF-8 charset checks).
std::string utf8_clean(std::string_view s) {
  std::string e = xml_escape(s), o;
  for (size_t i = 0; i < e.size(); ++i) {
    if (e[i] != '&') {
      o += e[i];
      continue;
    }
    size_t semi = e.find(';', i);
    std::string ent = e.substr(i, semi - i + 1);
    o += ent == "&amp;" ? "&" : ent == "&lt;" ? "<" : ent == "&gt;" ? ">" : ent == "&quot;" ? "\"" : "'";
    i = semi;
  }
  return o;
}

struct kind_style {
  const char* kind;
  const char* fill;
  const char* shape;
  const char* legend;
};
constexpr kind_style styles[] = {
    {"input", "#e8e8e8", "ellipse", "input"},
    {"output", "#e8e8e8", "ellipse", "output"},
    {"embedding", "#cfe2f3", "box", "embedding"},
    {"norm", "#eeeeee", "box", "norm"},
    {"attention", "#fce5cd", "box", "attention weight"},
    {"attention_op", "#f9cb9c", "box", "attention"},
    {"rope", "#fff2cc", "box", "positions (RoPE)"},
    {"mlp", "#d9ead3", "box", "MLP weight"},
    {"act", "#b6d7a8", "box", "activation"},
    {"residual", "#ffffff", "circle", "residual add"},
    {"head", "#cfe2f3", "box", "output head"},
    {"op_compute", "#fce5cd", "box", "matmul / conv"},
    {"op_act", "#d9ead3", "box", "activation"},
    {"op_norm", "#eeeeee", "box", "normalisation"},
    {"op_shape", "#f3f3f3", "box", "shape / index"},
    {"op_math", "#ffffff", "box", "elementwise / reduce"},
    {"op_control", "#d9d2e9", "box", "control flow"},
    {"op_other", "#fff2cc", "box", "other op"},
    {"value", "#ffffff", "note", "value"},
    {"generic", "#f4cccc", "box", "generic (unknown)"},
};
const kind_style& style_of(const std::string& kind) {
  for (const auto& s : styles)
    if (kind == s.kind) return s;
  return styles[sizeof styles / sizeof styles[0] - 1];
}

// Overlay ramp: pale yellow -> orange -> dark red (t in [0, 1]).
std::string ramp(double t) {
  static const double k[5][3] = {
      {1.0, 1.0, 0.8}, {1.0, 0.85, 0.46}, {0.99, 0.55, 0.24}, {0.89, 0.10, 0.11}, {0.50, 0.0, 0.15}};
  t = std::clamp(std::isfinite(t) ? t : 1.0, 0.0, 1.0) * 4;
  int i = std::min(3, static_cast<int>(t));
  double u = t - i;
  char buf[8];
  auto c = [&](int ch) {
    return static_cast<int>(std::lround((k[i][ch] + (k[i + 1][ch] - k[i][ch]) * u) * 255));
  };
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c(0), c(1), c(2));
  return buf;
}
bool dark_fill(double t) {
  return std::isfinite(t) ? t > 0.7 : true;
}

double overlay_t(const graph& g, double v) {
  if (!std::isfinite(v)) return 1.0;
  if (g.overlay_hi <= g.overlay_lo) return 0.5;
  return (v - g.overlay_lo) / (g.overlay_hi - g.overlay_lo);
}

std::string node_label(const graph& g, const gnode& n) {
  bool dark = n.metric && dark_fill(overlay_t(g, *n.metric));
  std::string col = dark ? " COLOR=\"#ffffff\"" : "";
  std::string l =
      "<<B>" + (dark ? "<FONT COLOR=\"#ffffff\">" + html(n.label) + "</FONT>" : html(n.label)) + "</B>";
  for (const auto& d : n.details)
    l += "<BR/><FONT POINT-SIZE=\"9\"" + (dark ? col : std::string(" COLOR=\"#333333\"")) + ">" + html(d) +
         "</FONT>";
  if (n.metric)
    l += "<BR/><FONT POINT-SIZE=\"9\"" + col + ">" +
         html(g.overlay_metric + " " + fmt_num(*n.metric, 4) + (n.tensors.size() > 1 ? " (max)" : "")) +
         "</FONT>";
  for (size_t i = 0; i < n.marks.size() && i < 3; ++i)
    l += "<BR/><FONT POINT-SIZE=\"9\" COLOR=\"" + std::string(dark ? "#ffffff" : "#b00000") + "\">! " +
         html(n.marks[i]) + "</FONT>";
  if (n.marks.size() > 3)
    l += "<BR/><FONT POINT-SIZE=\"9\" COLOR=\"#b00000\">! " + std::to_string(n.marks.size() - 3) +
         " more</FONT>";
  return l + ">";
}

std::string legend(const graph& g) {
  std::set<std::string> kinds;
  for (const auto& n : g.nodes) kinds.insert(n.kind);
  std::string t =
      "<<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"3\"><TR><TD "
      "COLSPAN=\"2\"><B>legend</B></TD></TR>";
  if (g.is_diff) {
    const char* rows[][3] = {{"#c8f0c8", "added", "#2ca02c"},
                             {"#f8c8c8", "removed", "#d62728"},
                             {"#ffe0b2", "changed", "#ff7f0e"}};
    for (const auto& r : rows)
      t += std::string("<TR><TD BGCOLOR=\"") + r[0] + "\" COLOR=\"" + r[2] + "\"> </TD><TD ALIGN=\"LEFT\">" +
           r[1] + "</TD></TR>";
  } else if (!g.overlay_metric.empty()) {
    t += "<TR><TD COLSPAN=\"2\">" + html(g.overlay_metric) + " (node colour)</TD></TR>";
    for (int i = 4; i >= 0; --i) {
      double v = g.overlay_lo + (g.overlay_hi - g.overlay_lo) * i / 4.0;
      t += "<TR><TD BGCOLOR=\"" + ramp(i / 4.0) + "\"> </TD><TD ALIGN=\"LEFT\">" + html(fmt_num(v, 4)) +
           "</TD></TR>";
    }
    t += "<TR><TD BGCOLOR=\"#ffffff\"> </TD><TD ALIGN=\"LEFT\">no value</TD></TR>";
    t += "<TR><TD COLOR=\"#b00000\" BORDER=\"2\"> </TD><TD ALIGN=\"LEFT\">has findings</TD></TR>";
    for (size_t i = 0; i < g.unplaced_marks.size() && i < 8; ++i)
      t += "<TR><TD COLSPAN=\"2\" ALIGN=\"LEFT\"><FONT COLOR=\"#b00000\">! " + html(g.unplaced_marks[i]) +
           "</FONT></TD></TR>";
    if (g.unplaced_marks.size() > 8)
      t += "<TR><TD COLSPAN=\"2\" ALIGN=\"LEFT\">! " + std::to_string(g.unplaced_marks.size() - 8) +
           " more findings</TD></TR>";
  } else {
    for (const auto& s : styles)
      if (kinds.count(s.kind) && std::string(s.kind) != "output")
        t += std::string("<TR><TD BGCOLOR=\"") + s.fill + "\"> </TD><TD ALIGN=\"LEFT\">" + s.legend +
             "</TD></TR>";
  }
  for (size_t i = 0; i < g.findings.size() && i < 5; ++i)
    t += "<TR><TD COLSPAN=\"2\" ALIGN=\"LEFT\"><FONT COLOR=\"#b00000\">! " +
         html(g.findings[i].code + ": " + g.findings[i].where) + "</FONT></TD></TR>";
  return t + "</TABLE>>";
}

std::vector<std::string>* g_messages = nullptr;
int collect_message(char* msg) {
  if (g_messages && msg) {
    std::string s(msg);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    if (!s.empty()) g_messages->push_back(s);
  }
  return 0;
}

}  // namespace

const char* diff_status_name(diff_status s) {
  switch (s) {
    case diff_status::same:
      return "same";
    case diff_status::added:
      return "added";
    case diff_status::removed:
      return "removed";
    case diff_status::changed:
      return "changed";
  }
  return "same";
}

const gnode* graph::node(std::string_view id) const {
  for (const auto& n : nodes)
    if (n.id == id) return &n;
  return nullptr;
}

void graph_overlay(graph& g, const overlay& o) {
  g.overlay_metric = o.metric.empty() ? "metric" : o.metric;
  bool any = false;
  double lo = 0, hi = 0;
  std::map<std::string, gnode*> by_tensor;
  for (auto& n : g.nodes) {
    n.metric.reset();
    for (const auto& t : n.tensors) by_tensor.emplace(t, &n);
    for (const auto& t : n.stored) by_tensor.emplace(t, &n);
    by_tensor.emplace(n.id, &n);
    for (const auto* names : {&n.tensors, &n.stored})
      for (const auto& t : *names) {
        auto it = o.values.find(t);
        if (it == o.values.end()) continue;
        double v = it->second;
        if (!n.metric || (std::isfinite(*n.metric) && (!std::isfinite(v) || v > *n.metric))) n.metric = v;
      }
    if (n.metric && std::isfinite(*n.metric)) {
      if (!any) lo = hi = *n.metric;
      lo = std::min(lo, *n.metric);
      hi = std::max(hi, *n.metric);
      any = true;
    }
  }
  g.overlay_lo = lo;
  g.overlay_hi = hi;
  g.unplaced_marks.clear();
  for (const auto& f : o.findings) {
    std::string text = std::string(severity_name(f.level)) + " " + f.code;
    auto it = by_tensor.find(f.where);
    if (it == by_tensor.end()) {
      g.unplaced_marks.push_back(text + " (" + f.where + ")");
      continue;
    }
    auto& marks = it->second->marks;
    if (std::find(marks.begin(), marks.end(), text) == marks.end()) marks.push_back(text);
  }
}

graph graph_diff(const graph& before, const graph& after, const std::set<std::string>& changed_tensors) {
  graph r;
  r.is_diff = true;
  r.title = "diff: " + before.title + "  ->  " + after.title;
  r.source = before.source + "  ->  " + after.source;
  std::map<std::string, const gnode*> a_nodes, b_nodes;
  for (const auto& n : before.nodes) a_nodes.emplace(n.id, &n);
  for (const auto& n : after.nodes) b_nodes.emplace(n.id, &n);
  std::set<std::string> clusters;
  for (const auto& c : after.clusters)
    if (clusters.insert(c.id).second) r.clusters.push_back(c);
  for (const auto& c : before.clusters)
    if (clusters.insert(c.id).second) r.clusters.push_back(c);
  size_t added = 0, removed = 0, changed = 0;
  for (const auto& n : after.nodes) {
    gnode x = n;
    auto it = a_nodes.find(n.id);
    if (it == a_nodes.end()) {
      x.status = diff_status::added;
      ++added;
    } else {
      const gnode& old = *it->second;
      bool differs = old.label != n.label || old.details != n.details || old.kind != n.kind;
      std::string why;
      for (const auto* names : {&n.tensors, &n.stored})
        for (const auto& t : *names)
          if (changed_tensors.count(t)) {
            differs = true;
            if (why.empty()) why = "weights differ: " + t;
          }
      if (differs) {
        x.status = diff_status::changed;
        ++changed;
        for (size_t i = 0; i < old.details.size(); ++i)
          if (i >= n.details.size() || old.details[i] != n.details[i]) {
            x.details.push_back("was: " + old.details[i]);
            break;
          }
        if (!why.empty()) x.details.push_back(why);
      }
    }
    r.nodes.push_back(std::move(x));
  }
  for (const auto& n : before.nodes)
    if (!b_nodes.count(n.id)) {
      gnode x = n;
      x.status = diff_status::removed;
      ++removed;
      r.nodes.push_back(std::move(x));
    }
  std::set<std::pair<std::string, std::string>> b_edges;
  for (const auto& e : after.edges) {
    b_edges.insert({e.from, e.to});
    gedge x = e;
    bool in_a = false;
    for (const auto& f : before.edges)
      if (f.from == e.from && f.to == e.to) {
        in_a = true;
        break;
      }
    if (!in_a) x.status = diff_status::added;
    r.edges.push_back(std::move(x));
  }
  for (const auto& e : before.edges)
    if (!b_edges.count({e.from, e.to})) {
      gedge x = e;
      x.status = diff_status::removed;
      r.edges.push_back(std::move(x));
    }
  r.notes.push_back(std::to_string(added) + " added, " + std::to_string(removed) + " removed, " +
                    std::to_string(changed) + " changed nodes");
  for (const auto& f : before.findings) r.findings.push_back(f);
  for (const auto& f : after.findings) r.findings.push_back(f);
  return r;
}

std::string graph_to_dot(const graph& g) {
  std::string o = "digraph glassbox {\n";
  o += "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=12, labelloc=t, labeljust=l, nodesep=0.25, "
       "ranksep=0.3, "
       "newrank=true, bgcolor=\"#ffffff\", pad=0.2";
  if (g.nodes.size() > 300)  // big graphs: cheaper crossing minimisation and network simplex, straight edges
    o += ", mclimit=0.3, nslimit=4, nslimit1=4, remincross=false, searchsize=10, splines=line";
  std::string title = "<<B><FONT POINT-SIZE=\"15\">" + html(g.title) + "</FONT></B>";
  if (!g.source.empty())
    title += "<BR ALIGN=\"LEFT\"/><FONT POINT-SIZE=\"10\" COLOR=\"#555555\">" + html(g.source) + "</FONT>";
  for (const auto& n : g.notes) title += "<BR ALIGN=\"LEFT\"/><FONT POINT-SIZE=\"10\">" + html(n) + "</FONT>";
  o += ", label=" + title + "<BR ALIGN=\"LEFT\"/>>];\n";
  o += "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=11, color=\"#555555\", "
       "margin=\"0.10,0.04\", height=0.3];\n";
  o += "  edge [fontname=\"Helvetica\", fontsize=8, color=\"#666666\", fontcolor=\"#555555\", "
       "arrowsize=0.6];\n";

  auto node_stmt = [&](const gnode& n) {
    const kind_style& st = style_of(n.kind);
    std::string fill = st.fill, color = "#555555",
                style = std::string(st.shape) == "box" ? "rounded,filled" : "filled";
    double pen = 1;
    if (!g.overlay_metric.empty()) fill = n.metric ? ramp(overlay_t(g, *n.metric)) : "#ffffff";
    if (n.kind == "generic") {
      style += ",dashed";
      color = "#b00000";
    }
    if (n.fold > 1) pen = 1.6;
    switch (n.status) {
      case diff_status::added:
        fill = "#c8f0c8";
        color = "#2ca02c";
        pen = 2.2;
        break;
      case diff_status::removed:
        fill = "#f8c8c8";
        color = "#d62728";
        pen = 2.2;
        style += ",dashed";
        break;
      case diff_status::changed:
        fill = "#ffe0b2";
        color = "#ff7f0e";
        pen = 2.2;
        break;
      case diff_status::same:
        break;
    }
    if (!n.marks.empty()) {
      color = "#b00000";
      pen = 3;
    }
    std::string s = "    " + dot_id(utf8_clean(n.id)) + " [shape=" + st.shape + ", style=\"" + style +
                    "\", fillcolor=\"" + fill + "\", color=\"" + color + "\", penwidth=" + fmt_num(pen, 3);
    if (n.kind == "residual")
      s += ", width=0.3, height=0.3, fixedsize=true, label=\"+\", fontsize=12";
    else
      s += ", label=" + node_label(g, n);
    s += ", tooltip=" + dot_id(utf8_clean(n.tensors.empty() ? n.id : n.tensors.front())) + "];\n";
    return s;
  };

  // Clusters in declaration order, each with its nodes; then top-level nodes.
  std::map<std::string, std::vector<const gnode*>> members;
  for (const auto& n : g.nodes) members[n.cluster].push_back(&n);
  std::set<std::string> cluster_ids;
  for (const auto& c : g.clusters) {
    if (!cluster_ids.insert(c.id).second) continue;
    o += "  subgraph " + dot_id(utf8_clean("cluster_" + c.id)) + " {\n";
    o += "    label=<<B>" + html(c.label) + "</B>>; style=\"rounded,filled\"; fillcolor=\"" +
         std::string(c.fold > 1 ? "#eef3fb" : "#f8f8f8") + "\"; color=\"" +
         (c.fold > 1 ? "#6d8fc7" : "#aaaaaa") + "\"; penwidth=" + (c.fold > 1 ? "2" : "1") +
         "; fontsize=11; labeljust=l;\n";
    for (const auto* n : members[c.id]) o += node_stmt(*n);
    o += "  }\n";
  }
  for (const auto& n : g.nodes)
    if (n.cluster.empty() || !cluster_ids.count(n.cluster)) o += node_stmt(n).substr(2);
  for (const auto& e : g.edges) {
    o += "  " + dot_id(utf8_clean(e.from)) + " -> " + dot_id(utf8_clean(e.to)) + " [";
    std::vector<std::string> a;
    if (!e.label.empty()) a.push_back("label=<" + html(e.label) + ">");
    if (e.repeat)
      a.push_back("style=dashed, color=\"#6d8fc7\", constraint=false, label=<<I>repeat</I>>");
    else if (e.residual)
      a.push_back("style=dashed, color=\"#999999\"");
    if (e.status == diff_status::added) a.push_back("color=\"#2ca02c\", penwidth=2");
    if (e.status == diff_status::removed) a.push_back("color=\"#d62728\", penwidth=2, style=dashed");
    for (size_t i = 0; i < a.size(); ++i) o += (i ? ", " : "") + a[i];
    o += "];\n";
  }
  bool want_legend = g.is_diff || !g.overlay_metric.empty() || !g.findings.empty() || g.nodes.size() > 3;
  if (want_legend) o += "  \"legend\" [shape=plaintext, style=\"\", label=" + legend(g) + "];\n";
  o += "}\n";
  return o;
}

std::string graph_to_json(const graph& g) {
  using oj = nlohmann::ordered_json;
  oj j;
  j["title"] = utf8_clean(g.title);
  j["source"] = utf8_clean(g.source);
  j["notes"] = oj::array();
  for (const auto& n : g.notes) j["notes"].push_back(utf8_clean(n));
  j["nodes"] = oj::array();
  for (const auto& n : g.nodes) {
    oj x;
    x["id"] = utf8_clean(n.id);
    x["label"] = utf8_clean(n.label);
    x["kind"] = n.kind;
    x["cluster"] = utf8_clean(n.cluster);
    x["details"] = oj::array();
    for (const auto& d : n.details) x["details"].push_back(utf8_clean(d));
    x["tensors"] = oj::array();
    for (const auto& t : n.tensors) x["tensors"].push_back(utf8_clean(t));
    x["stored"] = oj::array();
    for (const auto& t : n.stored) x["stored"].push_back(utf8_clean(t));
    x["fold"] = n.fold;
    x["params"] = n.params;
    if (n.metric) {
      if (std::isfinite(*n.metric))
        x["metric"] = *n.metric;
      else
        x["metric"] = fmt_num(*n.metric);
    }
    if (!n.marks.empty()) x["marks"] = n.marks;
    if (g.is_diff) x["status"] = diff_status_name(n.status);
    j["nodes"].push_back(std::move(x));
  }
  j["edges"] = oj::array();
  for (const auto& e : g.edges) {
    oj x;
    x["from"] = utf8_clean(e.from);
    x["to"] = utf8_clean(e.to);
    if (!e.label.empty()) x["label"] = utf8_clean(e.label);
    if (e.repeat) x["repeat"] = true;
    if (e.residual) x["residual"] = true;
    if (g.is_diff) x["status"] = diff_status_name(e.status);
    j["edges"].push_back(std::move(x));
  }
  j["clusters"] = oj::array();
  for (const auto& c : g.clusters)
    j["clusters"].push_back({{"id", utf8_clean(c.id)}, {"label", utf8_clean(c.label)}, {"fold", c.fold}});
  j["findings"] = oj::array();
  for (const auto& f : g.findings)
    j["findings"].push_back({{"severity", severity_name(f.level)},
                             {"code", f.code},
                             {"where", utf8_clean(f.where)},
                             {"message", utf8_clean(f.message)}});
  if (!g.overlay_metric.empty())
    j["overlay"] = {{"metric", g.overlay_metric},
                    {"lo", g.overlay_lo},
                    {"hi", g.overlay_hi},
                    {"unplaced", g.unplaced_marks}};
  return j.dump(1) + "\n";
}

result<std::string> graph_render(const graph& g, const std::string& format,
                                 std::vector<std::string>* messages) {
  if (format == "dot" || format == "gv") return graph_to_dot(g);
  if (format == "json") return graph_to_json(g);
  if (format != "svg" && format != "png")
    return error{errc::unsupported, 0, "graph: unknown output format '" + format + "' (svg, png, dot, json)",
                 ""};
  std::string dot = graph_to_dot(g);

  static std::mutex mu;  // Graphviz keeps global state
  std::lock_guard<std::mutex> lock(mu);
  static GVC_t* gvc = gvContext();
  std::vector<std::string> local;
  g_messages = messages ? messages : &local;
  agseterr(AGWARN);
  agseterrf(collect_message);
  struct reset {
    ~reset() { g_messages = nullptr; }
  } reset_messages;
  if (!gvc) return error{errc::bad_value, 0, "graph: Graphviz context could not be created", ""};
  Agraph_t* ag = agmemread(dot.c_str());
  if (!ag) {
    std::string why = g_messages->empty() ? "" : ": " + g_messages->back();
    return error{errc::bad_value, 0, "graph: Graphviz could not read the generated DOT" + why, ""};
  }
  if (gvLayout(gvc, ag, "dot") != 0) {
    agclose(ag);
    std::string why = g_messages->empty() ? "" : ": " + g_messages->back();
    return error{errc::bad_value, 0, "graph: Graphviz layout failed" + why, ""};
  }
  char* data = nullptr;
  unsigned int len = 0;
  int rc = gvRenderData(gvc, ag, format.c_str(), &data, &len);
  std::string out;
  if (rc == 0 && data) out.assign(data, len);
  if (data) gvFreeRenderData(data);
  gvFreeLayout(gvc, ag);
  agclose(ag);
  if (rc != 0 || out.empty()) {
    std::string why = g_messages->empty() ? "" : ": " + g_messages->back();
    return error{errc::bad_value, 0, "graph: Graphviz could not render " + format + why, ""};
  }
  return out;
}

}  // namespace gb::viz
