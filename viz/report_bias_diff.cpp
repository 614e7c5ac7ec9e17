#include "viz/report_bias_diff.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "viz/json_util.h"
#include "viz/report_bias.h"
#include "viz/svg_chart.h"

namespace gb::viz {

using nlohmann::json;

namespace {

// The headline metric's name among a group's metrics (viz::bias_headline's order).
std::string headline_name(const probes::suite_change& c, const std::string& group) {
  probes::group_result g;
  for (const auto& m : c.metrics)
    if (m.group == group) g.metrics.push_back({m.metric, 0, false, {}, -1, ""});
  const probes::metric* m = bias_headline({}, g);
  return m ? m->name : "";
}

std::vector<const probes::metric_change*> headlines(const probes::suite_change& c) {
  std::vector<const probes::metric_change*> out;
  for (const auto& m : c.metrics)
    if (m.metric == headline_name(c, m.group)) out.push_back(&m);
  return out;
}

std::string td(const std::string& s) {
  return "<td>" + s + "</td>";
}

}  // namespace

std::string bias_diff_json(const std::vector<probes::suite_change>& changes, int indent) {
  json arr = json::array();
  for (const auto& c : changes) {
    json s = {{"suite", c.suite},
              {"variant", c.variant},
              {"dataset_sha256", c.dataset_digest},
              {"tokenizers_differ", c.tokenizers_differ},
              {"base_records", c.base_records},
              {"derived_records", c.derived_records},
              {"paired", c.paired},
              {"bootstrap_resamples", c.resamples},
              {"seed", c.seed},
              {"outcome", c.outcome},
              {"margin", c.margin}};
    if (!c.error.empty()) s["error"] = c.error;
    json ms = json::array();
    for (const auto& m : c.metrics) {
      json jm = {{"group", m.group},
                 {"metric", m.metric},
                 {"n", m.n},
                 {"base", num(m.base)},
                 {"derived", num(m.derived)},
                 {"diff", num(m.diff)},
                 {"significant", m.significant}};
      if (m.has_ci) jm["diff_ci95"] = {num(m.ci.lo), num(m.ci.hi)};
      if (m.p_value >= 0)
        jm["mcnemar"] = {{"outcome", m.outcome},
                         {"base_only", m.base_only},
                         {"derived_only", m.derived_only},
                         {"p_value", num(m.p_value)}};
      ms.push_back(jm);
    }
    s["metrics"] = ms;
    json fl = json::array();
    for (const auto& f : c.flipped)
      fl.push_back({{"id", f.id},
                    {"group", f.group},
                    {"text", f.text},
                    {"base_outcome", num(f.base_outcome)},
                    {"derived_outcome", num(f.derived_outcome)},
                    {"base_margin", num(f.base_margin)},
                    {"derived_margin", num(f.derived_margin)}});
    s["flipped"] = {{"total", c.flipped_total}, {"top", fl}};
    arr.push_back(s);
  }
  return json_text(json({{"bias_drift", arr}}), indent);
}

std::string bias_diff_text(const std::vector<probes::suite_change>& changes) {
  std::string out;
  char buf[512];
  for (const auto& c : changes) {
    out += "== " + c.suite + " (" + c.variant + "): derived - base\n";
    if (!c.error.empty()) {
      out += "   not compared: " + c.error + "\n\n";
      continue;
    }
    std::snprintf(buf, sizeof buf, "   paired items %zu (base scored %zu, derived %zu); dataset sha256 %s\n",
                  c.paired, c.base_records, c.derived_records, c.dataset_digest.c_str());
    out += buf;
    if (c.tokenizers_differ)
      out += "   the tokenizers differ: items are aligned by text, token counts differ\n";
    for (const auto& m : c.metrics) {
      std::snprintf(buf, sizeof buf, "   %-28s %-22s n=%-5zu base %-9s derived %-9s diff %-10s",
                    m.group.c_str(), m.metric.c_str(), m.n, fmt_or_na(m.base).c_str(),
                    fmt_or_na(m.derived).c_str(), fmt_or_na(m.diff).c_str());
      out += buf;
      if (m.has_ci) out += " [" + fmt_or_na(m.ci.lo) + ", " + fmt_or_na(m.ci.hi) + "]";
      if (m.p_value >= 0) {
        std::snprintf(buf, sizeof buf, " McNemar %llu/%llu p=%.3g",
                      static_cast<unsigned long long>(m.base_only),
                      static_cast<unsigned long long>(m.derived_only), m.p_value);
        out += buf;
      }
      out += m.significant ? "  *\n" : "\n";
    }
    if (c.flipped_total) {
      out += "   flipped " + std::to_string(c.flipped_total) + " items (" + c.outcome +
             "); largest change of " + c.margin + " first:\n";
      for (const auto& f : c.flipped) {
        std::snprintf(buf, sizeof buf, "     %-10s %g -> %g  margin %s -> %s  ", f.id.c_str(), f.base_outcome,
                      f.derived_outcome, fmt_or_na(f.base_margin).c_str(),
                      fmt_or_na(f.derived_margin).c_str());
        out += buf + f.text.substr(0, 160) + "\n";
      }
    }
    out += "\n";
  }
  return out;
}

std::string bias_diff_chart_svg(const probes::suite_change& c) {
  bar_chart ch;
  ch.title = c.suite + " (" + c.variant + "): derived - base";
  std::string name;
  for (const auto* m : headlines(c)) {
    name = m->metric;
    bar b;
    b.label = m->group + " (n=" + std::to_string(m->n) + ")";
    b.value = std::isfinite(m->diff) ? m->diff : 0.0;
    if (m->has_ci && std::isfinite(m->ci.lo) && std::isfinite(m->ci.hi)) b.lo = m->ci.lo, b.hi = m->ci.hi;
    if (m->significant) b.color = "#d62728";
    ch.bars.push_back(b);
  }
  ch.y_label = "difference in " + name + " (paired 95% bootstrap interval)";
  ch.x_label = "group (red: significant)";
  ch.reference = 0.0;
  return svg_bar_chart(ch);
}

std::string bias_diff_html(const std::vector<probes::suite_change>& changes, const std::string& baseline) {
  std::string h =
      "<h2 id=\"bias-drift\">Bias drift</h2>\n<p>Against the baseline " + xml_escape(baseline) +
      ": the same items scored by both models, paired by item; differences are this model minus the "
      "baseline, with paired bootstrap 95% intervals and McNemar's exact test on per-item outcomes.</p>\n";
  for (const auto& c : changes) {
    h += "<h3>" + xml_escape(c.suite) + " (" + xml_escape(c.variant) + ")</h3>";
    if (!c.error.empty()) {
      h += "<p>Not compared: " + xml_escape(c.error) + "</p>\n";
      continue;
    }
    h += "<p>" + std::to_string(c.paired) + " paired items" +
         (c.tokenizers_differ ? "; the tokenizers differ (items aligned by text)" : "") + ".</p>";
    const std::string svg = bias_diff_chart_svg(c);
    h += "<div class=\"fig\">" + svg.substr(svg.find("<svg")) +
         "</div>\n<table><tr><th>group</th><th>metric</th>"
         "<th>baseline</th><th>this model</th><th>difference</th><th>95% interval</th><th>McNemar "
         "p</th></tr>\n";
    size_t shown = 0;
    for (const auto& m : c.metrics) {
      if (!m.significant) continue;
      ++shown;
      h += "<tr>" + td(xml_escape(m.group)) + td(xml_escape(m.metric)) + td(fmt_or_na(m.base)) +
           td(fmt_or_na(m.derived)) + td(fmt_or_na(m.diff)) +
           td(m.has_ci ? "[" + fmt_or_na(m.ci.lo) + ", " + fmt_or_na(m.ci.hi) + "]" : "") +
           td(m.p_value >= 0 ? fmt_or_na(m.p_value, 3) : "") + "</tr>\n";
    }
    if (!shown) h += "<tr><td colspan=\"7\">no significant change</td></tr>\n";
    h += "</table>\n";
  }
  return h;
}

}  // namespace gb::viz
