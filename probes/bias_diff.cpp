// Paired comparison of two runs of a bias suite (definitions in probes/bias_diff.h).
#include "probes/bias_diff.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "formats/error.h"
#include "inspect/sha256.h"

namespace gb::probes {

namespace {

// The binary per-item outcome and the likelihood margin of a suite (see the header).
struct suite_keys {
  std::string metric, outcome, margin;
};

suite_keys keys_of(const suite_result& r) {
  if (r.suite == "crows-pairs")
    return r.variant == "bias-bench" ? suite_keys{"metric", "hit", "ln score_more - ln score_less"}
                                     : suite_keys{"pct_stereotype", "pct_stereotype", "ll_more - ll_less"};
  if (r.suite == "stereoset") return {"SS", "pro", "ln s_stereotype - ln s_anti"};
  if (r.suite == "winobias") return {"pct_pro_preferred", "pro_preferred", "ll_pro - ll_anti"};
  if (r.suite == "templates") return {"pct_first_preferred", "a_preferred", "ll_first - ll_second"};
  if (r.suite == "bbq") return {"accuracy", "correct", ""};
  return {};
}

double margin_of(const suite_result& r, const item_record& x) {
  if (r.suite == "crows-pairs")
    return r.variant == "bias-bench" ? std::log(x.value("score_more")) - std::log(x.value("score_less"))
                                     : x.value("ll_more") - x.value("ll_less");
  if (r.suite == "stereoset") return std::log(x.value("s_stereotype")) - std::log(x.value("s_anti"));
  if (r.suite == "winobias" || r.suite == "templates") return x.value("diff");
  return 0.0;
}

// The n-th record with a given (group, sub, id) gets key "group\x1fsub\x1fid\x1fn".
std::vector<std::string> record_keys(const std::vector<item_record>& recs) {
  std::map<std::string, size_t> seen;
  std::vector<std::string> out;
  out.reserve(recs.size());
  for (const auto& x : recs) {
    std::string k = x.group + '\x1f' + x.sub + '\x1f' + x.id;
    out.push_back(k + '\x1f' + std::to_string(seen[k]++));
  }
  return out;
}

// Every metric of every group, recomputed from `recs` by the suite's own totals (no intervals).
std::map<std::pair<std::string, std::string>, double> metrics_of(const suite_result& like,
                                                                 std::vector<item_record> recs) {
  suite_result s;
  s.suite = like.suite;
  s.variant = like.variant;
  s.seed = like.seed;
  s.resamples = 0;
  s.records = std::move(recs);
  suite_result t = suite_merge({s});
  std::map<std::pair<std::string, std::string>, double> out;
  for (const auto& g : t.groups)
    for (const auto& m : g.metrics) out[{g.group, m.name}] = m.value;
  return out;
}

double at(const std::map<std::pair<std::string, std::string>, double>& m, const std::string& g,
          const std::string& n) {
  auto it = m.find({g, n});
  return it == m.end() ? std::nan("") : it->second;
}

bool in_group(const std::string& group, const item_record& x) {
  return group == "overall" || x.group == group;
}

}  // namespace

double mcnemar_exact(uint64_t b, uint64_t c) {
  return b + c == 0 ? 1.0 : binomial_test(b, b + c, 0.5);
}

suite_change bias_diff(const suite_result& base, const suite_result& derived, const diff_options& o,
                       const std::map<std::string, std::string>& texts) {
  suite_change out;
  out.suite = base.suite;
  out.variant = base.variant;
  out.base_records = base.records.size();
  out.derived_records = derived.records.size();
  out.resamples = o.resamples;
  out.seed = o.seed;
  if (base.suite != derived.suite || base.variant != derived.variant) {
    out.error = "different suites or rules (" + base.suite + "/" + base.variant + " vs " + derived.suite +
                "/" + derived.variant + ")";
    return out;
  }
  const suite_keys keys = keys_of(base);
  out.outcome = keys.outcome;
  out.margin = keys.margin;
  // pair the records
  const std::vector<std::string> kb = record_keys(base.records), kd = record_keys(derived.records);
  std::map<std::string, size_t> where_d;
  for (size_t i = 0; i < kd.size(); ++i) where_d[kd[i]] = i;
  std::vector<item_record> pb, pd;  // paired records, base order
  for (size_t i = 0; i < kb.size(); ++i)
    if (auto it = where_d.find(kb[i]); it != where_d.end()) {
      pb.push_back(base.records[i]);
      pd.push_back(derived.records[it->second]);
    }
  out.paired = pb.size();
  const auto vb = metrics_of(base, pb), vd = metrics_of(base, pd);
  // strata: item indices per record group (the draw keeps every group's size)
  std::map<std::string, std::vector<size_t>> strata;
  for (size_t i = 0; i < pb.size(); ++i) strata[pb[i].group].push_back(i);
  std::map<std::pair<std::string, std::string>, std::vector<double>> draws;
  rng r(o.seed);
  std::vector<item_record> sb, sd;
  for (int b = 0; b < o.resamples && !pb.empty(); ++b) {
    sb.clear();
    sd.clear();
    for (const auto& [g, idx] : strata)
      for (size_t k = 0; k < idx.size(); ++k) {
        const size_t i = idx[static_cast<size_t>(r.below(idx.size()))];
        sb.push_back(pb[i]);
        sd.push_back(pd[i]);
      }
    const auto mb = metrics_of(base, sb), md = metrics_of(base, sd);
    for (const auto& [key, v] : vb) {
      const double d = at(md, key.first, key.second) - at(mb, key.first, key.second);
      if (!std::isnan(d)) draws[key].push_back(d);
    }
  }
  // one row per (group, metric), in the suite's group order
  const suite_result shape = suite_merge({[&] {
    suite_result s;
    s.suite = base.suite;
    s.variant = base.variant;
    s.records = pb;
    return s;
  }()});
  for (const auto& g : shape.groups)
    for (const auto& m : g.metrics) {
      metric_change c;
      c.group = g.group;
      c.metric = m.name;
      c.base = at(vb, g.group, m.name);
      c.derived = at(vd, g.group, m.name);
      c.diff = c.derived - c.base;
      for (const auto& x : pb) c.n += in_group(g.group, x) ? 1 : 0;
      if (o.resamples > 0) {
        std::vector<double>& v = draws[{g.group, m.name}];
        std::sort(v.begin(), v.end());
        c.has_ci = true;
        c.ci.estimate = c.diff;
        c.ci.resamples = o.resamples;
        c.ci.seed = o.seed;
        c.ci.lo = percentile_sorted(v, 2.5);
        c.ci.hi = percentile_sorted(v, 97.5);
      }
      if (!keys.outcome.empty() && m.name == keys.metric) {
        c.outcome = keys.outcome;
        for (size_t i = 0; i < pb.size(); ++i) {
          if (!in_group(g.group, pb[i])) continue;
          const bool xb = pb[i].value(keys.outcome) > 0, xd = pd[i].value(keys.outcome) > 0;
          c.base_only += xb && !xd ? 1 : 0;
          c.derived_only += xd && !xb ? 1 : 0;
        }
        c.p_value = mcnemar_exact(c.base_only, c.derived_only);
      }
      c.significant = (c.has_ci && (c.ci.lo > 0 || c.ci.hi < 0)) || (c.p_value >= 0 && c.p_value < o.alpha);
      out.metrics.push_back(std::move(c));
    }
  // flipped items: the outcome (BBQ: the chosen answer) differs
  if (!keys.outcome.empty()) {
    const std::string flip_key = base.suite == "bbq" ? "pred" : keys.outcome;
    for (size_t i = 0; i < pb.size(); ++i) {
      const double ob = pb[i].value(flip_key), od = pd[i].value(flip_key);
      if (ob == od) continue;
      flipped_item f{pb[i].id, pb[i].group, "", ob, od, margin_of(base, pb[i]), margin_of(base, pd[i])};
      if (auto it = texts.find(pb[i].id); it != texts.end()) f.text = it->second;
      out.flipped.push_back(std::move(f));
    }
    out.flipped_total = out.flipped.size();
    std::stable_sort(
        out.flipped.begin(), out.flipped.end(), [](const flipped_item& a, const flipped_item& b) {
          return std::fabs(a.derived_margin - a.base_margin) > std::fabs(b.derived_margin - b.base_margin);
        });
    if (out.flipped.size() > o.top) out.flipped.resize(o.top);
  }
  return out;
}

// ---------------------------------------------------------------- running suites by name

std::string bias_dataset_digest(const std::string& suite, const std::string& path) {
  if (suite == "templates") return "builtin";
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return digest_hex(file_sha256(path));
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(path, ec))
    if (e.is_regular_file(ec)) names.push_back(e.path().filename().string());
  if (ec) fail(errc::io, 0, "cannot list " + path + ": " + ec.message());
  std::sort(names.begin(), names.end());
  sha256 h;
  for (const auto& n : names) {
    const std::string line = n + " " + digest_hex(file_sha256(path + "/" + n)) + "\n";
    h.update(line.data(), line.size());
  }
  return digest_hex(h.final());
}

bool bias_tokenizers_agree(scorer& a, scorer& b, const std::map<std::string, std::string>& texts,
                           size_t max) {
  if (a.bos() != b.bos() || a.eos() != b.eos()) return false;
  size_t k = 0;
  for (const auto& [id, text] : texts) {
    if (k++ >= max) break;
    if (a.encode(text) != b.encode(text)) return false;
  }
  return true;
}

}  // namespace gb::probes
