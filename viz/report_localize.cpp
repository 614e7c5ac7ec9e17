#include "viz/report_localize.h"

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "viz/json_util.h"
#include "viz/svg_chart.h"

namespace gb::viz {

using nlohmann::json;

namespace {

json terms_json(const probes::dla_terms& d, int64_t L, int64_t H) {
  json heads = json::array();
  for (int64_t l = 0; l < L; ++l) {
    json row = json::array();
    for (int64_t h = 0; h < H; ++h) row.push_back(num(d.heads[static_cast<size_t>(l * H + h)]));
    heads.push_back(row);
  }
  json mlp = json::array(), ab = json::array();
  for (double v : d.mlp) mlp.push_back(num(v));
  for (double v : d.attn_bias) ab.push_back(num(v));
  return {{"embed", num(d.embed)},
          {"heads", heads},
          {"mlp", mlp},
          {"attn_bias", ab},
          {"constant", num(d.constant)},
          {"target_logits", num(d.target_logits)},
          {"log_partition", num(d.log_partition)},
          {"ll", num(d.ll)}};
}

json patch_json(const probes::patch_summary& p, int64_t L, int64_t H, bool pairs) {
  auto grid = [&](const std::vector<double>& v) {
    json g = json::array();
    for (int64_t l = 0; l < L; ++l) {
      json row = json::array();
      for (int64_t h = 0; h < H; ++h) row.push_back(num(v[static_cast<size_t>(l * H + h)]));
      g.push_back(row);
    }
    return g;
  };
  auto list = [](const std::vector<double>& v) {
    json a = json::array();
    for (double x : v) a.push_back(num(x));
    return a;
  };
  json j = {
      {"method",
       "activation patching, anti-stereotypical (clean) into stereotypical (corrupted) run; effect = "
       "(patched - corrupted) / (clean - corrupted) of M = sum_t [log p(more) - log p(less) where the next "
       "tokens differ, log p(shared token) where they agree]; resid: "
       "blk.l.resid.pre at the differing positions; heads: the head's blk.l.attn.z at every position"},
      {"qualifying_pairs", p.qualifying},
      {"undefined_pairs", p.undefined},
      {"resid", list(p.resid)},
      {"heads", grid(p.heads)}};
  if (pairs) {
    json ps = json::array();
    for (const auto& q : p.pairs) {
      if (!q.qualifies) {
        ps.push_back(nullptr);
        continue;
      }
      ps.push_back({{"clean", num(q.clean)},
                    {"corrupted", num(q.corrupted)},
                    {"resid", list(q.resid)},
                    {"heads", grid(q.heads)}});
    }
    j["per_pair"] = ps;
  }
  return j;
}

json ablation_json(const probes::ablation_result& a) {
  auto set = [](const probes::ablation_set& s) {
    return json{{"components", s.components},
                {"pct_stereotype", num(s.metric)},
                {"effect", num(s.effect)},
                {"ci95", {num(s.ci.lo), num(s.ci.hi)}},
                {"ll_diff_effect", num(s.ll_effect)},
                {"ll_diff_effect_ci95", {num(s.ll_ci.lo), num(s.ll_ci.hi)}}};
  };
  json rnd = json::array();
  for (const auto& s : a.random) rnd.push_back(set(s));
  return {{"rule", probes::ablation_rule()},
          {"metric", "pct_stereotype"},
          {"k", a.k},
          {"pairs", a.pairs},
          {"unablated", num(a.clean)},
          {"unablated_ll_diff", num(a.clean_ll)},
          {"top", set(a.top)},
          {"random", rnd},
          {"random_max_abs_effect", num(a.random_max)},
          {"claimed", a.claimed}};
}

// One sentence: the verdict of the ablation, with the numbers it rests on.
std::string ablation_verdict(const probes::ablation_result& a) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "ablation: mean-ablating the top %zu components changes pct_stereotype by %+.2f [%.2f, %.2f] "
                "(from %.2f, %zu pairs; mean LL margin %+.3f [%.3f, %.3f]); %zu random sets of %zu: largest "
                "|change| %.2f; localisation %s",
                a.k, a.top.effect, a.top.ci.lo, a.top.ci.hi, a.clean, a.pairs, a.top.ll_effect,
                a.top.ll_ci.lo, a.top.ll_ci.hi, a.random.size(), a.k, a.random_max,
                a.claimed ? "CLAIMED (beats random)" : "NOT claimed (does not beat random)");
  return buf;
}

}  // namespace

std::string localize_json(const probes::localize_result& r, const std::string& suite, size_t top, bool pairs,
                          const probes::patch_summary* patch, int indent,
                          const probes::ablation_result* ablation) {
  json j = {{"suite", suite},
            {"method",
             "direct logit attribution through the final norm, scale frozen per position; terms sum to the "
             "summed target logits; log_partition is the remainder (ll = target_logits - log_partition); "
             "pair terms are stereotypical minus anti-stereotypical"},
            {"layers", r.L},
            {"heads", r.H},
            {"pairs", r.diffs.size()},
            {"max_sum_error", num(r.max_sum_error)}};
  j["mean"] = terms_json(r.mean, r.L, r.H);
  json rk = json::array();
  for (size_t i = 0; i < r.ranked.size() && i < top; ++i) {
    const auto& c = r.ranked[i];
    rk.push_back({{"component", c.name},
                  {"layer", c.layer},
                  {"head", c.head},
                  {"mean_diff", num(c.mean_diff)},
                  {"ci95", {num(c.ci.lo), num(c.ci.hi)}}});
  }
  j["ranked"] = rk;
  if (pairs) {
    json ps = json::array();
    for (size_t i = 0; i < r.diffs.size(); ++i) {
      json p = terms_json(r.diffs[i], r.L, r.H);
      p["id"] = r.pairs[i].id;
      p["group"] = r.pairs[i].group;
      p["ll_more"] = num(r.ll_more[i]);
      p["ll_less"] = num(r.ll_less[i]);
      ps.push_back(p);
    }
    j["per_pair"] = ps;
  }
  if (patch) j["patching"] = patch_json(*patch, r.L, r.H, pairs);
  j["ablation"] = ablation ? ablation_json(*ablation) : json(nullptr);
  return json_text(j, indent);
}

std::string localize_text(const probes::localize_result& r, size_t top, const probes::patch_summary* patch,
                          const probes::ablation_result* ablation) {
  std::string out;
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%zu pairs; mean LL(more) - LL(less) %.4f = target logits %.4f - log-partition %.4f "
                "(max decomposition error %.2g)\n",
                r.diffs.size(), r.mean.ll, r.mean.target_logits, r.mean.log_partition, r.max_sum_error);
  out += buf;
  out += "rank  component        mean diff   95% interval\n";
  for (size_t i = 0; i < r.ranked.size() && i < top; ++i) {
    const auto& c = r.ranked[i];
    std::snprintf(buf, sizeof buf, "%4zu  %-15s %10.4f   [%.4f, %.4f]\n", i + 1, c.name.c_str(), c.mean_diff,
                  c.ci.lo, c.ci.hi);
    out += buf;
  }
  out += ablation ? ablation_verdict(*ablation) + "\n"
                  : std::string("ablation: not run (--ablate 0): the ranking is unconfirmed\n");
  if (patch) {
    std::snprintf(buf, sizeof buf,
                  "activation patching: %zu pairs of equal length (%zu with clean = corrupted)\n",
                  patch->qualifying, patch->undefined);
    out += buf;
    out += "layer  resid effect  strongest head (effect)\n";
    const int64_t H = r.H;
    for (int64_t l = 0; l < r.L && !patch->resid.empty(); ++l) {
      int64_t best = 0;
      for (int64_t h = 1; h < H; ++h)
        if (std::fabs(patch->heads[static_cast<size_t>(l * H + h)]) >
            std::fabs(patch->heads[static_cast<size_t>(l * H + best)]))
          best = h;
      std::snprintf(buf, sizeof buf, "%5lld  %12.4f  L%lldH%lld (%.4f)\n", static_cast<long long>(l),
                    patch->resid[static_cast<size_t>(l)], static_cast<long long>(l),
                    static_cast<long long>(best), patch->heads[static_cast<size_t>(l * H + best)]);
      out += buf;
    }
  }
  return out;
}

std::string localize_heatmap_svg(const probes::localize_result& r, const std::string& suite) {
  heatmap h;
  h.title = suite + ": mean direct logit attribution per head (stereotypical - anti)";
  h.x_label = "head";
  h.y_label = "layer";
  for (int64_t k = 0; k < r.H; ++k) h.x_labels.push_back(std::to_string(k));
  for (int64_t l = 0; l < r.L; ++l) h.y_labels.push_back(std::to_string(l));
  h.values = r.mean.heads;
  h.diverging = true;
  double m = 0;
  for (double v : h.values) m = std::max(m, std::fabs(v));
  if (m > 0) h.vmin = -m, h.vmax = m;
  h.annotate = r.L * r.H <= 64;
  return svg_heatmap(h);
}

std::string localize_html(const probes::localize_result& r, const std::string& suite, size_t top,
                          const probes::ablation_result* ablation) {
  std::string h =
      "<h2 id=\"bias-localization\">Bias localization</h2>\n<p>Direct logit attribution of " +
      std::to_string(r.diffs.size()) + " " + xml_escape(suite) +
      " pairs: each sentence's summed target logits split into the embedding, every head, every "
      "attention bias and MLP through the final norm (scale frozen per position); a component's value "
      "is its mean contribution to the stereotypical minus the anti-stereotypical sentence, with a 95% "
      "bootstrap interval over pairs. Mean log-likelihood difference " +
      fmt_num(r.mean.ll) + " = target logits " + fmt_num(r.mean.target_logits) + " - log-partition " +
      fmt_num(r.mean.log_partition) + ". " +
      (ablation
           ? xml_escape(ablation_verdict(*ablation)) + ". Rule: " + xml_escape(probes::ablation_rule()) + "."
           : std::string("Direct effects only: not confirmed by ablation against random components.")) +
      "</p>\n";
  const std::string svg = localize_heatmap_svg(r, suite);
  h += "<div class=\"fig\">" + svg.substr(svg.find("<svg")) + "</div>\n";
  h += "<table><tr><th>rank</th><th>component</th><th>mean difference</th><th>95% interval</th></tr>\n";
  for (size_t i = 0; i < r.ranked.size() && i < top; ++i) {
    const auto& c = r.ranked[i];
    h += "<tr><td>" + std::to_string(i + 1) + "</td><td>" + xml_escape(c.name) + "</td><td>" +
         fmt_num(c.mean_diff) + "</td><td>[" + fmt_num(c.ci.lo) + ", " + fmt_num(c.ci.hi) + "]</td></tr>\n";
  }
  return h + "</table>\n";
}

void localize_folder_write(const std::string& dir, const probes::localize_run_result& r,
                           const std::string& suite, const probes::patch_summary* patch,
                           const probes::ablation_result* ablation) {
  ::mkdir(dir.c_str(), 0755);
  std::ofstream(dir + "/localize.json")
      << localize_json(r.r, suite, r.r.ranked.size(), true, patch, 2, ablation) << "\n";
  std::ofstream(dir + "/localize-heads.svg") << localize_heatmap_svg(r.r, suite);
}

}  // namespace gb::viz
