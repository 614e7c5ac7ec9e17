#include "viz/report_trace.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>

#include "viz/svg_chart.h"

namespace gb::viz {

namespace {

double mean_of(const std::vector<double>& v) {
  return v.empty() ? std::nan("") : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}
double last_of(const std::vector<double>& v) {
  return v.empty() ? std::nan("") : v.back();
}

std::string printable(std::string s) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return s;
}

std::vector<std::string> token_labels(const probes::trace_result& r, const token_text& piece) {
  std::vector<std::string> out;
  for (size_t i = 0; i < r.tokens.size(); ++i)
    out.push_back(std::to_string(i) + ":" + printable(piece(r.tokens[i])));
  return out;
}

std::string fixed(double v, int prec = 3) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

}  // namespace

std::vector<chart_file> trace_charts(const probes::trace_result& r, const token_text& piece) {
  std::vector<chart_file> out;
  const std::vector<std::string> labels = token_labels(r, piece);
  // Residual norms across layers.
  line_chart lc;
  lc.title = "Residual stream and block output norms across layers";
  lc.x_label = "layer";
  lc.y_label = "L2 norm";
  struct pick {
    const char* name;
    std::vector<double> probes::layer_trace::*field;
  };
  const pick picks[] = {{"resid.pre", &probes::layer_trace::resid_pre},
                        {"resid.mid", &probes::layer_trace::resid_mid},
                        {"resid.post", &probes::layer_trace::resid_post},
                        {"attn.out", &probes::layer_trace::attn_out},
                        {"mlp.out", &probes::layer_trace::mlp_out}};
  for (const pick& p : picks) {
    line_series last{std::string(p.name) + " (last position)", {}, {}},
        mean{std::string(p.name) + " (mean)", {}, {}};
    for (const auto& l : r.layers) {
      last.x.push_back(l.layer), last.y.push_back(last_of(l.*p.field));
      mean.x.push_back(l.layer), mean.y.push_back(mean_of(l.*p.field));
    }
    lc.series.push_back(std::move(last));
    lc.series.push_back(std::move(mean));
  }
  out.push_back({"resid_norms.svg", svg_line_chart(lc)});
  // Attention patterns.
  const int64_t T = static_cast<int64_t>(r.tokens.size());
  for (const auto& h : r.heads) {
    if (h.pattern.size() != static_cast<size_t>(T * T)) continue;
    heatmap hm;
    hm.title = "Attention layer " + std::to_string(h.layer) + " head " + std::to_string(h.head);
    hm.x_label = "key";
    hm.y_label = "query";
    hm.x_labels = hm.y_labels = labels;
    hm.values.assign(h.pattern.begin(), h.pattern.end());
    hm.vmin = 0.0, hm.vmax = 1.0;
    hm.annotate = T <= 12;
    out.push_back(
        {"attn_L" + std::to_string(h.layer) + "_H" + std::to_string(h.head) + ".svg", svg_heatmap(hm)});
  }
  // Head statistics heatmaps (layers x heads).
  if (!r.heads.empty() && r.n_head > 0) {
    struct stat {
      const char* file;
      const char* title;
      double probes::head_trace::*field;
    };
    const stat stats[] = {{"head_entropy.svg", "Attention entropy (nats)", &probes::head_trace::entropy},
                          {"head_sink.svg", "Attention to the first token (sink)", &probes::head_trace::sink},
                          {"head_prev.svg", "Previous-token attention", &probes::head_trace::prev_token},
                          {"head_diag.svg", "Self (diagonal) attention", &probes::head_trace::diagonal}};
    const int64_t L = static_cast<int64_t>(r.layers.size()), H = r.n_head;
    for (const stat& s : stats) {
      heatmap hm;
      hm.title = s.title;
      hm.x_label = "head";
      hm.y_label = "layer";
      for (int64_t h = 0; h < H; ++h) hm.x_labels.push_back(std::to_string(h));
      for (int64_t l = 0; l < L; ++l) hm.y_labels.push_back(std::to_string(l));
      hm.values.assign(static_cast<size_t>(L * H), std::nan(""));
      for (const auto& h : r.heads)
        if (h.layer < L && h.head < H) hm.values[static_cast<size_t>(h.layer * H + h.head)] = h.*s.field;
      hm.annotate = L * H <= 64;
      out.push_back({s.file, svg_heatmap(hm)});
    }
  }
  // Logit lens: probability of the final prediction, layers x positions; labels carry the tokens.
  if (!r.lens.empty()) {
    std::vector<int64_t> pos;
    for (const auto& e : r.lens)
      if (std::find(pos.begin(), pos.end(), e.position) == pos.end()) pos.push_back(e.position);
    std::sort(pos.begin(), pos.end());
    heatmap hm;
    hm.title =
        "Logit lens: probability of the final prediction (label: top token per layer at the last position)";
    hm.x_label = "position: token -> final prediction";
    hm.y_label = "layer";
    const int64_t L = static_cast<int64_t>(r.layers.size());
    for (int64_t p : pos) {
      int32_t fin = -1;
      for (const auto& e : r.lens)
        if (e.position == p) fin = e.final_token;
      hm.x_labels.push_back(std::to_string(p) + ":" + printable(piece(r.tokens[static_cast<size_t>(p)])) +
                            " -> " + printable(piece(fin)));
    }
    for (int64_t l = 0; l < L; ++l) {
      std::string top;
      for (const auto& e : r.lens)
        if (e.layer == l && e.position == pos.back() && !e.top.empty())
          top = printable(piece(e.top[0].first));
      hm.y_labels.push_back(std::to_string(l) + " (" + top + ")");
    }
    hm.values.assign(static_cast<size_t>(L) * pos.size(), std::nan(""));
    for (const auto& e : r.lens) {
      const size_t c = static_cast<size_t>(std::find(pos.begin(), pos.end(), e.position) - pos.begin());
      if (e.layer < L) hm.values[static_cast<size_t>(e.layer) * pos.size() + c] = e.final_prob;
    }
    hm.vmin = 0.0, hm.vmax = 1.0;
    hm.annotate = hm.values.size() <= 400;
    out.push_back({"logit_lens.svg", svg_heatmap(hm)});
  }
  return out;
}

std::string trace_text(const probes::trace_result& r, const token_text& piece) {
  std::string s;
  s += "tokens (" + std::to_string(r.tokens.size()) + "):";
  for (size_t i = 0; i < r.tokens.size() && i < 64; ++i)
    s += " " + std::to_string(r.tokens[i]) + "'" + printable(piece(r.tokens[i])) + "'";
  if (r.tokens.size() > 64) s += " ...";
  s += "\nprediction at the last position: " + std::to_string(r.prediction) + " '" +
       printable(piece(r.prediction)) + "'\n\n";
  s += "layer  |resid.pre| |resid.mid| |resid.post| |attn.out| |mlp.out|  mlp sparsity  outliers  (last "
       "position; sparsity mean)\n";
  for (const auto& l : r.layers) {
    char b[256];
    std::snprintf(b, sizeof b, "%5d  %11.4f %11.4f %12.4f %10.4f %9.4f  %12.4f  %8lld\n", l.layer,
                  last_of(l.resid_pre), last_of(l.resid_mid), last_of(l.resid_post), last_of(l.attn_out),
                  last_of(l.mlp_out), mean_of(l.mlp_sparsity), static_cast<long long>(l.outliers_total));
    s += b;
  }
  s += "\nlayer head  entropy    sink    prev    diag\n";
  for (const auto& h : r.heads) {
    char b[128];
    std::snprintf(b, sizeof b, "%5d %4d  %7.4f  %6.4f  %6.4f  %6.4f\n", h.layer, h.head, h.entropy, h.sink,
                  h.prev_token, h.diagonal);
    s += b;
  }
  if (!r.lens.empty()) {
    s += "\nlogit lens (last position " + std::to_string(r.lens.back().position) +
         "): layer, top tokens (p), rank/p of the final prediction '" +
         printable(piece(r.lens.back().final_token)) + "'\n";
    for (const auto& e : r.lens) {
      if (e.position != r.lens.back().position) continue;
      s += "  " + std::to_string(e.layer) + ":";
      for (const auto& [tok, p] : e.top) s += " '" + printable(piece(tok)) + "' " + fixed(p);
      s += "   rank " + std::to_string(e.final_rank) + " p " + fixed(e.final_prob, 4) + "\n";
    }
  }
  for (const auto& l : r.layers)
    for (size_t i = 0; i < l.outliers.size() && i < 3; ++i)
      s += (i == 0 ? "outliers layer " + std::to_string(l.layer) + ":" : std::string()) + " pos " +
           std::to_string(l.outliers[i].position) + " dim " + std::to_string(l.outliers[i].dim) + " z " +
           fixed(l.outliers[i].z, 1) + (i + 1 == std::min<size_t>(3, l.outliers.size()) ? "\n" : ";");
  return s;
}

std::vector<chart_file> aggregate_charts(const probes::trace_aggregate& a) {
  std::vector<chart_file> out;
  line_chart lc;
  lc.title = "Mean norms across layers over " + std::to_string(a.prompts) + " prompts (" +
             std::to_string(a.tokens) + " tokens)";
  lc.x_label = "layer";
  lc.y_label = "mean L2 norm";
  const std::vector<probes::running_stat>* ser[] = {&a.resid_post, &a.attn_out, &a.mlp_out};
  const char* names[] = {"resid.post", "attn.out", "mlp.out"};
  for (int k = 0; k < 3; ++k) {
    line_series s{names[k], {}, {}};
    for (size_t l = 0; l < ser[k]->size(); ++l)
      s.x.push_back(static_cast<double>(l)), s.y.push_back((*ser[k])[l].mean);
    lc.series.push_back(std::move(s));
  }
  out.push_back({"agg_resid_norms.svg", svg_line_chart(lc)});
  const std::vector<probes::running_stat>* hs[] = {&a.head_entropy, &a.head_sink, &a.head_prev, &a.head_diag};
  const char* hn[] = {"entropy", "sink", "prev", "diag"};
  for (int k = 0; k < 4; ++k) {
    heatmap hm;
    hm.title = std::string("Mean head ") + hn[k] + " over " + std::to_string(a.prompts) + " prompts";
    hm.x_label = "head";
    hm.y_label = "layer";
    for (int64_t h = 0; h < a.H; ++h) hm.x_labels.push_back(std::to_string(h));
    for (int64_t l = 0; l < a.L; ++l) hm.y_labels.push_back(std::to_string(l));
    for (const auto& st : *hs[k]) hm.values.push_back(st.n ? st.mean : std::nan(""));
    hm.annotate = a.L * a.H <= 64;
    out.push_back({std::string("agg_heads_") + hn[k] + ".svg", svg_heatmap(hm)});
  }
  return out;
}

std::string aggregate_text(const probes::trace_aggregate& a, int top_neurons) {
  std::string s = "prompts " + std::to_string(a.prompts) + ", tokens " + std::to_string(a.tokens) + "\n";
  s += "layer  mean|resid.post|  mean|attn.out|  mean|mlp.out|  mlp sparsity   top neurons by max|x| (mean, "
       "active fraction)\n";
  for (int64_t l = 0; l < a.L; ++l) {
    char b[256];
    const size_t i = static_cast<size_t>(l);
    std::snprintf(b, sizeof b, "%5lld  %15.4f  %14.4f  %13.4f  %12.4f  ", static_cast<long long>(l),
                  a.resid_post[i].mean, a.attn_out[i].mean, a.mlp_out[i].mean, a.sparsity[i].mean);
    s += b;
    for (int64_t f : a.top_neurons(l, top_neurons)) {
      const size_t n = static_cast<size_t>(l * a.F + f);
      s += " " + std::to_string(f) + "(" + fixed(a.neuron[n].mean) + ", " + fixed(a.active_fraction(n), 2) +
           ")";
    }
    s += "\n";
  }
  return s;
}

std::vector<chart_file> patch_charts(const probes::patch_result& r,
                                     const std::vector<std::string>& token_labels) {
  std::vector<chart_file> out;
  const std::string sub = " (clean " + fixed(r.clean, 4) + ", corrupt " + fixed(r.corrupt, 4) + ")";
  auto grid = [&](const std::string& kind, const std::string& title, const std::string& xl,
                  std::vector<std::string> xs, bool by_pos) {
    heatmap hm;
    hm.title = title + sub;
    hm.x_label = xl;
    hm.y_label = "layer";
    hm.x_labels = std::move(xs);
    for (int64_t l = 0; l < r.L; ++l) hm.y_labels.push_back(std::to_string(l));
    const size_t C = hm.x_labels.size();
    hm.values.assign(static_cast<size_t>(r.L) * C, std::nan(""));
    bool any = false;
    for (const auto& c : r.components) {
      if (c.kind != kind || c.layer >= r.L) continue;
      const int64_t col = by_pos ? c.position : c.head;
      if (col < 0 || static_cast<size_t>(col) >= C) continue;
      hm.values[static_cast<size_t>(c.layer) * C + static_cast<size_t>(col)] = c.restored;
      any = true;
    }
    hm.diverging = true;
    hm.vmin = -1.0, hm.vmax = 1.0;
    hm.annotate = hm.values.size() <= 400;
    return any ? std::optional<heatmap>(hm) : std::nullopt;
  };
  if (auto h = grid("resid", "Restored fraction: residual stream (resid.pre) patched per position",
                    "position", token_labels, true))
    out.push_back({"patch_resid.svg", svg_heatmap(*h)});
  std::vector<std::string> heads;
  for (int64_t h = 0; h < r.H; ++h) heads.push_back(std::to_string(h));
  if (auto h = grid("head", "Restored fraction: attention heads patched", "head", heads, false))
    out.push_back({"patch_heads.svg", svg_heatmap(*h)});
  bar_chart bc;
  bc.title = "Restored fraction: attention and MLP outputs per layer" + sub;
  bc.y_label = "restored";
  for (const auto& c : r.components)
    if (c.kind == "attn" || c.kind == "mlp")
      bc.bars.push_back({"L" + std::to_string(c.layer) + " " + c.kind, c.restored, std::nullopt, std::nullopt,
                         c.kind == "attn" ? "#1f77b4" : "#ff7f0e"});
  bc.reference = 1.0;
  if (!bc.bars.empty()) out.push_back({"patch_layers.svg", svg_bar_chart(bc)});
  return out;
}

std::string patch_text(const probes::patch_result& r, const std::vector<std::string>& token_labels) {
  std::string s = "metric clean " + fixed(r.clean, 6) + ", corrupt " + fixed(r.corrupt, 6) +
                  "; restored = (patched - corrupt) / (clean - corrupt)\n";
  s += "\nlayer  attn.out  mlp.out   heads...\n";
  for (int64_t l = 0; l < r.L; ++l) {
    const auto* a = r.find("attn", static_cast<int>(l));
    const auto* m = r.find("mlp", static_cast<int>(l));
    char b[64];
    std::snprintf(b, sizeof b, "%5lld  %8s  %7s  ", static_cast<long long>(l),
                  a ? fixed(a->restored).c_str() : "-", m ? fixed(m->restored).c_str() : "-");
    s += b;
    for (int64_t h = 0; h < r.H; ++h)
      if (const auto* c = r.find("head", static_cast<int>(l), static_cast<int>(h)))
        s += " " + fixed(c->restored);
    s += "\n";
  }
  bool any = false;
  for (const auto& c : r.components) any = any || c.kind == "resid";
  if (any) {
    s += "\nresid.pre by position (rows = layers):";
    for (const auto& t : token_labels) s += " [" + t + "]";
    s += "\n";
    for (int64_t l = 0; l < r.L; ++l) {
      s += std::to_string(l) + ":";
      for (int64_t t = 0; t < r.T; ++t)
        if (const auto* c = r.find("resid", static_cast<int>(l), -1, t)) s += " " + fixed(c->restored);
      s += "\n";
    }
  }
  return s;
}

std::string charts_index_html(const std::string& title, const std::vector<chart_file>& charts,
                              const std::string& text_file) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width, initial-scale=1\"><title>" +
      xml_escape(title) +
      "</title><style>body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:16px}"
      "img{max-width:100%;height:auto;border:1px solid #d0d7de}h2{font-size:15px;margin:24px 0 6px}"
      "ul{columns:2}a{color:#0969da}</style></head><body>\n<h1>" +
      xml_escape(title) + "</h1>\n";
  if (!text_file.empty())
    h += "<p>Tables: <a href=\"" + xml_escape(text_file) + "\">" + xml_escape(text_file) + "</a></p>\n";
  h += "<ul>";
  for (const auto& c : charts)
    h += "<li><a href=\"#" + xml_escape(c.name) + "\">" + xml_escape(c.name) + "</a></li>";
  h += "</ul>\n";
  for (const auto& c : charts)
    h += "<h2 id=\"" + xml_escape(c.name) + "\"><a href=\"" + xml_escape(c.name) + "\">" +
         xml_escape(c.name) + "</a></h2><a href=\"" + xml_escape(c.name) + "\"><img src=\"" +
         xml_escape(c.name) + "\" alt=\"" + xml_escape(c.name) + "\" loading=\"lazy\"></a>\n";
  return h + "</body></html>\n";
}

void charts_folder_write(const std::string& dir, const std::string& title,
                         const std::vector<chart_file>& charts, const std::string& text_file,
                         const std::string& text) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::vector<chart_file> files = charts;
  files.push_back({text_file, text});
  files.push_back({"index.html", charts_index_html(title, charts, text_file)});
  for (const auto& f : files) {
    std::ofstream o(std::filesystem::path(dir) / f.name, std::ios::binary);
    if (!(o << f.svg)) fail(errc::io, 0, "cannot write " + f.name + " in " + dir);
  }
}

}  // namespace gb::viz
