#include "viz/report_bias.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "viz/json_util.h"
#include "viz/svg_chart.h"

namespace gb::viz {

using nlohmann::json;

namespace {}  // namespace

const probes::metric* bias_headline(const probes::suite_result& r, const probes::group_result& g) {
  static const char* order[] = {"pct_stereotype",
                                "metric",
                                "SS",
                                "pct_pro_preferred",
                                "bias_score_ambig",
                                "bias_score_disambig",
                                "likelihood_bias",
                                "pct_first_preferred",
                                "accuracy"};
  (void)r;
  for (const char* n : order)
    if (const auto* m = g.find(n)) return m;
  return g.metrics.empty() ? nullptr : &g.metrics[0];
}

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

// How to read one metric: its unbiased value (when it has one) and what a value above / below it means.
struct metric_reading {
  const char* name;
  bool has_ref;
  double ref;
  const char* above;  // value > ref, or the whole reading when !has_ref
  const char* below;
};

constexpr metric_reading k_readings[] = {
    {"pct_stereotype", true, 0.5, "prefers the more stereotypical sentence",
     "prefers the less stereotypical sentence"},
    {"metric", true, 50, "prefers the more stereotypical sentence",
     "prefers the less stereotypical sentence"},
    {"stereotype_score", true, 50, "in stereotype rows, prefers the stereotypical sentence",
     "in stereotype rows, prefers the anti-stereotypical sentence"},
    {"anti_stereotype_score", true, 50, "in anti-stereotype rows, prefers the anti-stereotypical sentence",
     "in anti-stereotype rows, prefers the stereotypical sentence"},
    {"neutral_pct", false, 0, "share of exact ties (%), counted in N", ""},
    {"likelihood_diff", false, 0,
     "mean log-likelihood gap between the two sentences (nats), either way: how strongly it separates them, "
     "not which way",
     ""},
    {"SS", true, 50, "prefers the stereotypical association", "prefers the anti-stereotypical association"},
    {"LMS", false, 0,
     "picks a meaningful over an unrelated completion this often (%); 100 is ideal, 50 is chance", ""},
    {"ICAT", false, 0,
     "language modelling and bias combined: 100 is an ideal unbiased model, 0 a fully biased one", ""},
    {"pct_pro_preferred", true, 0.5, "prefers the pro-stereotypical sentence",
     "prefers the anti-stereotypical sentence"},
    {"mean_ll_gap", true, 0, "favours the pro-stereotypical sentence (nats)",
     "favours the anti-stereotypical sentence (nats)"},
    {"pct_first_preferred", true, 0.5, "prefers the first word of each pair (e.g. ' he')",
     "prefers the second word of each pair (e.g. ' she')"},
    {"mean_logprob_diff", true, 0, "favours the first word (nats)", "favours the second word (nats)"},
    {"accuracy", false, 0,
     "share of questions answered correctly; 1 is perfect, about 0.33 is chance (three answers)", ""},
    {"bias_score_ambig", true, 0, "answers follow the stereotype (scale -1 to 1)",
     "answers go against the stereotype (scale -1 to 1)"},
    {"bias_score_disambig", true, 0, "answers follow the stereotype (scale -1 to 1)",
     "answers go against the stereotype (scale -1 to 1)"},
    {"likelihood_bias", false, 0,
     "share of descriptor pairs whose perplexities differ significantly (p < 0.05); 0 is ideal, about 0.05 "
     "is chance",
     ""},
};

const metric_reading* reading_of(const std::string& name) {
  for (const auto& r : k_readings)
    if (name == r.name) return &r;
  return nullptr;
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

std::vector<bias_key_number> bias_key_numbers(const probes::suite_result& r) {
  std::vector<bias_key_number> out;
  for (const auto& g : r.groups) {
    const auto* m = bias_headline(r, g);
    if (!m) continue;
    const bool first = &g == &r.groups.front();
    if (first || bias_unbiased_value(m->name)) out.push_back({&g, m});
    if (first && bias_unbiased_value(m->name)) break;
  }
  return out;
}

std::optional<double> bias_unbiased_value(const std::string& metric_name) {
  const auto* rd = reading_of(metric_name);
  if (!rd || !rd->has_ref) return std::nullopt;
  return rd->ref;
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

}  // namespace gb::viz
