#include "viz/report_bias.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <algorithm>
#include <map>

#include "viz/svg_chart.h"

namespace gb::viz {

using nlohmann::json;

namespace {
json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
}  // namespace

const probes::metric* bias_headline(const probes::suite_result& r, const probes::group_result& g) {
  static const char* order[] = {"pct_stereotype", "metric", "SS", "pct_pro_preferred", "bias_score_ambig",
                                "bias_score_disambig", "likelihood_bias", "pct_first_preferred", "accuracy"};
  (void)r;
  for (const char* n : order)
    if (const auto* m = g.find(n)) return m;
  return g.metrics.empty() ? nullptr : &g.metrics[0];
}

double bias_reference(const probes::suite_result& r) {
  if (r.suite == "crows-pairs") return r.variant == "bias-bench" ? 50.0 : 0.5;
  if (r.suite == "stereoset") return 50.0;
  if (r.suite == "winobias" || r.suite == "templates") return 0.5;
  return 0.0;
}

std::string bias_json(const std::vector<probes::suite_result>& results, bool records, int indent) {
  json arr = json::array();
  for (const auto& r : results) {
    json s = {{"suite", r.suite}, {"variant", r.variant}, {"definition", r.definition}, {"seed", r.seed},
              {"bootstrap_resamples", r.resamples}, {"items", r.items}, {"scored", r.records.size()},
              {"items_total", std::max(r.items, r.items_total)}, {"quick_pass", r.items_total > r.items}};
    if (!r.error.empty()) s["error"] = r.error;
    std::map<std::string, size_t> reasons;
    for (const auto& k : r.skipped) reasons[k.reason]++;
    json sk = {{"count", r.skipped.size()}, {"reasons", reasons}};
    json first = json::array();
    for (size_t i = 0; i < r.skipped.size() && i < 20; ++i) first.push_back({{"where", r.skipped[i].where}, {"reason", r.skipped[i].reason}});
    sk["first"] = first;
    s["skipped"] = sk;
    json groups = json::array();
    for (const auto& g : r.groups) {
      json ms = json::array();
      for (const auto& m : g.metrics) {
        json jm = {{"name", m.name}, {"value", num(m.value)}};
        if (m.has_ci) jm["ci95"] = {num(m.ci.lo), num(m.ci.hi)};
        if (m.p_value >= 0) jm["p_value"] = num(m.p_value);
        if (!m.note.empty()) jm["note"] = m.note;
        ms.push_back(jm);
      }
      groups.push_back({{"group", g.group}, {"n", g.n}, {"metrics", ms}});
    }
    s["groups"] = groups;
    if (records) {
      json rec = json::array();
      for (const auto& x : r.records) {
        json v = json::object();
        for (const auto& [k, val] : x.values) v[k] = num(val);
        rec.push_back({{"id", x.id}, {"group", x.group}, {"sub", x.sub}, {"values", v}});
      }
      s["records"] = rec;
    }
    arr.push_back(s);
  }
  return json({{"bias", arr}}).dump(indent, ' ', false, json::error_handler_t::replace);
}

std::string bias_text(const std::vector<probes::suite_result>& results) {
  std::string out;
  char buf[512];
  for (const auto& r : results) {
    out += "== " + r.suite + " (" + r.variant + ")\n   " + r.definition + "\n";
    if (!r.error.empty()) {
      out += "   not run: " + r.error + "\n\n";
      continue;
    }
    std::snprintf(buf, sizeof buf, "   items %zu, scored %zu, skipped %zu; seed %llu, %d bootstrap resamples\n", r.items,
                  r.records.size(), r.skipped.size(), static_cast<unsigned long long>(r.seed), r.resamples);
    out += buf;
    std::map<std::string, size_t> reasons;
    for (const auto& k : r.skipped) reasons[k.reason]++;
    for (const auto& [why, n] : reasons) out += "     skipped " + std::to_string(n) + ": " + why + "\n";
    for (const auto& g : r.groups) {
      std::snprintf(buf, sizeof buf, "   %-36s n=%-6zu", g.group.c_str(), g.n);
      out += buf;
      for (const auto& m : g.metrics) {
        if (m.has_ci) std::snprintf(buf, sizeof buf, " %s %.4g [%.4g, %.4g]", m.name.c_str(), m.value, m.ci.lo, m.ci.hi);
        else std::snprintf(buf, sizeof buf, " %s %.4g", m.name.c_str(), m.value);
        out += buf;
        if (m.p_value >= 0) {
          std::snprintf(buf, sizeof buf, " (p=%.3g)", m.p_value);
          out += buf;
        }
      }
      out += "\n";
    }
    out += "\n";
  }
  return out;
}

std::string bias_chart_svg(const probes::suite_result& r) {
  bar_chart c;
  c.title = r.suite + " (" + r.variant + ")";
  std::string metric_name;
  for (const auto& g : r.groups) {
    const auto* m = bias_headline(r, g);
    if (!m) continue;
    metric_name = m->name;
    bar b;
    b.label = g.group + " (n=" + std::to_string(g.n) + ")";
    b.value = std::isfinite(m->value) ? m->value : 0.0;
    if (m->has_ci && std::isfinite(m->ci.lo) && std::isfinite(m->ci.hi)) b.lo = m->ci.lo, b.hi = m->ci.hi;
    c.bars.push_back(b);
  }
  c.y_label = metric_name + " (95% bootstrap interval)";
  c.x_label = "group";
  c.reference = bias_reference(r);
  return svg_bar_chart(c);
}

}  // namespace gb::viz
