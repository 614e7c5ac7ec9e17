#include "viz/report_bias.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "formats/file_text.h"
#include "probes/audit_verdict.h"
#include "viz/json_util.h"
#include "viz/svg_chart.h"
#include "viz/text.h"

namespace gb::viz {

using nlohmann::json;

namespace {}  // namespace

std::string bias_json(const std::vector<probes::suite_result>& results, bool records, int indent, bool cost) {
  json arr = json::array();
  for (const auto& r : results) {
    json s = {{"suite", r.suite},
              {"variant", r.variant},
              {"definition", r.definition},
              {"seed", r.seed},
              {"bootstrap_resamples", r.resamples},
              {"items", r.items},
              {"scored", r.records.size()},
              {"items_total", std::max(r.items, r.items_total)},
              {"quick_pass", r.items_total > r.items}};
    if (!r.error.empty()) s["error"] = r.error;
    if (cost) s["cost"] = {{"tokens", r.tokens}, {"tokens_computed", r.tokens_computed}};
    std::map<std::string, size_t> reasons;
    for (const auto& k : r.skipped) reasons[k.reason]++;
    json sk = {{"count", r.skipped.size()}, {"reasons", reasons}};
    json first = json::array();
    for (size_t i = 0; i < r.skipped.size() && i < 20; ++i)
      first.push_back({{"where", r.skipped[i].where}, {"reason", r.skipped[i].reason}});
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
  return json_text(json({{"schema", "glassbox-bias/1"}, {"bias", arr}}), indent);
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
    std::snprintf(buf, sizeof buf,
                  "   items %zu, scored %zu, skipped %zu; seed %llu, %d bootstrap resamples\n", r.items,
                  r.records.size(), r.skipped.size(), static_cast<unsigned long long>(r.seed), r.resamples);
    out += buf;
    std::map<std::string, size_t> reasons;
    for (const auto& k : r.skipped) reasons[k.reason]++;
    for (const auto& [why, n] : reasons) out += "     skipped " + std::to_string(n) + ": " + why + "\n";
    for (const auto& g : r.groups) {
      std::snprintf(buf, sizeof buf, "   %-36s n=%-6zu", g.group.c_str(), g.n);
      out += buf;
      for (const auto& m : g.metrics) {
        if (m.has_ci)
          std::snprintf(buf, sizeof buf, " %s %.4g [%.4g, %.4g]", m.name.c_str(), m.value, m.ci.lo, m.ci.hi);
        else
          std::snprintf(buf, sizeof buf, " %s %.4g", m.name.c_str(), m.value);
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

namespace {

const probes::metric_reading* reading_of(const std::string& name) {
  return probes::bias_metric_reading(name);
}

// Charted kind of a metric: the two BBQ bias scores share one axis.
std::string chart_kind(const std::string& name) {
  return name.rfind("bias_score", 0) == 0 ? "bias_score" : name;
}

std::string chart_of(const probes::suite_result& r, const std::string& kind) {
  bar_chart c;
  c.title = r.suite + " (" + r.variant + ")";
  c.width = 960;  // wide: the report draws charts at the page's full width
  c.height = 380;
  std::string metric_name;
  for (const auto& g : r.groups) {
    const probes::metric* m = nullptr;
    for (const auto& x : g.metrics)
      if (chart_kind(x.name) == kind) m = &x;
    if (!m) continue;
    metric_name = kind == "bias_score" ? "bias score" : m->name;
    bar b;
    b.label = g.group + " (n=" + std::to_string(g.n) + ")";
    b.value = std::isfinite(m->value) ? m->value : 0.0;
    if (m->has_ci && g.n > 1 && std::isfinite(m->ci.lo) && std::isfinite(m->ci.hi))
      b.lo = m->ci.lo, b.hi = m->ci.hi;
    c.bars.push_back(b);
  }
  const auto* rd = reading_of(kind == "bias_score" ? "bias_score_ambig" : kind);
  c.title += ": " + metric_name;
  c.y_label = metric_name + " (95% bootstrap interval)";
  c.x_label = "group";
  if (rd && rd->has_ref) c.reference = rd->ref;
  return svg_bar_chart(c);
}

}  // namespace

namespace {
// The kinds charted for a suite, bias kinds first.
std::vector<std::string> chart_kinds(const probes::suite_result& r) {
  std::vector<std::string> kinds;  // headline kinds in group order, then accuracy when another kind leads
  for (const auto& g : r.groups)
    if (const auto* m = bias_headline(r, g)) {
      std::string k = chart_kind(m->name);
      if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) kinds.push_back(k);
    }
  // a headline that is only accuracy (BBQ's overall group) is charted after the bias kinds, on its own
  std::stable_partition(kinds.begin(), kinds.end(), [](const std::string& k) { return k != "accuracy"; });
  return kinds;
}
}  // namespace

std::vector<std::string> bias_charts_svg(const probes::suite_result& r) {
  std::vector<std::string> out;
  for (const auto& k : chart_kinds(r)) out.push_back(chart_of(r, k));
  return out;
}

std::vector<bias_chart_file> bias_chart_files(const probes::suite_result& r) {
  std::vector<bias_chart_file> out;
  const std::vector<std::string> kinds = chart_kinds(r);
  if (kinds.empty()) return {{"bias-" + r.suite + ".svg", chart_of(r, "")}};
  for (size_t i = 0; i < kinds.size(); ++i)
    out.push_back({"bias-" + r.suite + (i ? "-" + kinds[i] : "") + ".svg", chart_of(r, kinds[i])});
  return out;
}

std::string bias_chart_svg(const probes::suite_result& r) {
  auto charts = bias_charts_svg(r);
  return charts.empty() ? chart_of(r, "") : charts.front();
}

std::string bias_reading(const probes::suite_result& r, const probes::metric& m) {
  (void)r;
  const auto* rd = reading_of(m.name);
  if (!rd) return "";
  if (!std::isfinite(m.value)) return "not computed (no items)";
  if (!rd->has_ref) return rd->above;
  const std::string ref = fmt_num(rd->ref) + " is unbiased";
  if (m.value == rd->ref) return "no preference; " + ref;
  const std::string lean = m.value > rd->ref ? rd->above : rd->below;
  if (m.has_ci && std::isfinite(m.ci.lo) && std::isfinite(m.ci.hi) && m.ci.lo <= rd->ref &&
      rd->ref <= m.ci.hi)
    return lean + ", within noise (the 95% interval includes " + fmt_num(rd->ref) + "); " + ref;
  return lean + "; " + ref;
}

std::string bias_note(const probes::metric& m) {
  std::string n = m.note;
  for (const char* nan : {"; stderr nan", "; stderr -nan", "stderr nan", "stderr -nan"})
    for (size_t p; (p = n.find(nan)) != std::string::npos;) n.erase(p, std::strlen(nan));
  return n;
}

std::string bias_quick_pass_text(const std::vector<probes::suite_result>& results) {
  std::string out;
  for (const auto& r : results)  // a quick pass says so, and is not a measurement of the whole suite
    if (r.error.empty() && r.items_total > r.items)
      out += strf("QUICK PASS: %s scored %zu of %zu items (stratified sample, seed %llu); not a verdict\n",
                  r.suite.c_str(), r.items, r.items_total, static_cast<unsigned long long>(r.seed));
  return out;
}

void bias_folder_write(const std::string& dir, const std::vector<probes::suite_result>& results) {
  file_write_text(dir + "/bias.json", bias_json(results, true, 2, true) + "\n");
  for (const auto& r : results)  // BBQ: accuracy and bias scores on separate charts, as in the report
    if (r.error.empty())
      for (const auto& c : bias_chart_files(r)) file_write_text(dir + "/" + c.name, c.svg);
}

}  // namespace gb::viz
