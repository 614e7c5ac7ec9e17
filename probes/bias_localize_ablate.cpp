// Confirmation of a localisation by mean ablation against random components (probes/bias_localize_ablate.h).
#include "probes/bias_localize_ablate.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "probes/statistics.h"

namespace gb::probes {

namespace {

struct component {
  std::string name;
  int layer = 0, head = -1;  // head -1: the MLP
};

// The rows of the packed pass that belong to one ablation set, and the components it ablates.
struct packed_set {
  int32_t row0 = 0, rows = 0;
  std::vector<component> parts;
};

// Writes the dataset means into every row of each set that ablates a component at this point.
struct ablate_hook : engine::hook {
  const std::vector<packed_set>* sets = nullptr;
  std::vector<float> mean_z, mean_mlp;  // (L, H*E), (L, D)
  int64_t HE = 0, D = 0, E = 0;
  bool wants(std::string_view n) override {
    return (n.size() > 7 && n.substr(n.size() - 7) == ".attn.z") ||
           (n.size() > 8 && n.substr(n.size() - 8) == ".mlp.out");
  }
  bool observe(std::string_view, engine::activation_view) override { return true; }
  bool modify(std::string_view n, engine::mutable_activation_view a) override {
    float* t = a.data;
    const bool z = n.substr(n.size() - 2) == ".z";
    const int layer = std::stoi(std::string(n.substr(4, n.find('.', 4) - 4)));
    const int64_t w = a.shape[1];
    for (const packed_set& s : *sets)
      for (const component& c : s.parts) {
        if (c.layer != layer || (c.head >= 0) != z) continue;
        const int64_t c0 = z ? c.head * E : 0, c1 = z ? c0 + E : w;
        const float* src = z ? mean_z.data() + layer * HE : mean_mlp.data() + layer * D;
        for (int64_t r = s.row0; r < s.row0 + s.rows; ++r) std::copy(src + c0, src + c1, t + r * w + c0);
      }
    return true;
  }
};

std::vector<component> candidates(const localize_result& r) {
  std::vector<component> out;
  for (const component_rank& c : r.ranked)
    if (c.layer >= 0 && (c.head >= 0 || c.name.ends_with(".mlp"))) out.push_back({c.name, c.layer, c.head});
  return out;
}

// Log-likelihoods of both sentences under every set: ll[set] = {LL(more), LL(less)}.
result<std::vector<std::pair<double, double>>> pair_runs(engine::runner& run, const localize_pair& p,
                                                         std::vector<packed_set>& sets, ablate_hook& hk) {
  const std::vector<int32_t> a(p.more.begin(), p.more.end() - 1), b(p.less.begin(), p.less.end() - 1);
  size_t c = 0;  // common prefix rows
  while (c < a.size() && c < b.size() && a[c] == b[c]) ++c;
  std::vector<int32_t> tokens, parent;               // (rows)
  std::vector<std::vector<int32_t>> rows_a, rows_b;  // per set: the row of each position
  for (packed_set& s : sets) {
    s.row0 = static_cast<int32_t>(tokens.size());
    std::vector<int32_t> ra, rb;
    auto add = [&](int32_t tok, int32_t par) {
      tokens.push_back(tok);
      parent.push_back(par);
      return static_cast<int32_t>(tokens.size() - 1);
    };
    for (size_t i = 0; i < c; ++i) ra.push_back(add(a[i], i ? ra.back() : -1));
    rb = ra;
    for (size_t i = c; i < a.size(); ++i) ra.push_back(add(a[i], i ? ra.back() : -1));
    for (size_t i = c; i < b.size(); ++i) rb.push_back(add(b[i], i ? rb.back() : -1));
    s.rows = static_cast<int32_t>(tokens.size()) - s.row0;
    rows_a.push_back(std::move(ra));
    rows_b.push_back(std::move(rb));
  }
  hk.sets = &sets;
  auto lg = run.forward_packed(tokens, parent, &hk);
  if (!lg) return lg.err();
  const int64_t V = run.vocab_size(), T = static_cast<int64_t>(tokens.size());
  std::vector<double> lp(static_cast<size_t>(T));  // (rows) log-partition
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < T; ++t) {
    lp[static_cast<size_t>(t)] = row_log_partition(lg.value().data() + t * V, V);
  }
  auto ll = [&](const std::vector<int32_t>& rows, const std::vector<int32_t>& ids) {
    double s = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto r = static_cast<size_t>(rows[i]);
      s += static_cast<double>(lg.value()[r * static_cast<size_t>(V) + static_cast<size_t>(ids[i + 1])]) -
           lp[r];
    }
    return s;
  };
  std::vector<std::pair<double, double>> out;
  for (size_t j = 0; j < sets.size(); ++j) out.emplace_back(ll(rows_a[j], p.more), ll(rows_b[j], p.less));
  return out;
}

}  // namespace

std::string ablation_rule() {
  return "the top K components by |mean direct attribution| (heads via blk.l.attn.z, MLPs via blk.l.mlp.out) "
         "are mean-ablated together (each replaced at every position by its mean over every position of both "
         "sentences of every pair); the effect is the change of pct_stereotype (100 x share of pairs with "
         "LL(more) > LL(less)) with a paired 95% bootstrap interval over pairs; K random components (drawn "
         "from the others, seeded) are ablated likewise several times; localisation is claimed when the "
         "top-K interval excludes 0 and |top-K effect| exceeds every random draw's |effect|";
}

result<ablation_result> ablate_confirm(engine::runner& run, const localize_result& r,
                                       const ablate_options& o) {
  ablation_result out;
  const std::vector<component> all = candidates(r);
  out.k = std::min(o.k, all.size());
  out.pairs = r.pairs.size();
  if (out.k == 0 || r.pairs.empty() || r.activations.rows == 0) return out;
  ablate_hook hk;
  const double n = static_cast<double>(r.activations.rows);
  for (double v : r.activations.z) hk.mean_z.push_back(static_cast<float>(v / n));
  for (double v : r.activations.mlp) hk.mean_mlp.push_back(static_cast<float>(v / n));
  hk.HE = static_cast<int64_t>(r.activations.z.size()) / r.L;
  hk.D = static_cast<int64_t>(r.activations.mlp.size()) / r.L;
  hk.E = hk.HE / r.H;
  // set 0: unablated; 1: the top K; then the random draws
  std::vector<packed_set> sets(2);
  sets[1].parts.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(out.k));
  rng g(o.seed);
  for (int d = 0; d < o.draws && all.size() > out.k; ++d) {
    std::vector<component> rest(all.begin() + static_cast<std::ptrdiff_t>(out.k), all.end());
    g.shuffle(rest);
    rest.resize(std::min(out.k, rest.size()));
    sets.push_back({0, 0, std::move(rest)});
  }
  std::vector<std::vector<double>> hit(sets.size()), margin(sets.size());  // (sets, pairs)
  for (const localize_pair& p : r.pairs) {
    auto ll = pair_runs(run, p, sets, hk);
    if (!ll) return ll.err();
    for (size_t j = 0; j < sets.size(); ++j) {
      const auto [m, l] = ll.value()[j];
      hit[j].push_back(m > l ? 100.0 : 0.0);
      margin[j].push_back(m - l);
    }
  }
  out.clean = mean(hit[0]);
  out.clean_ll = mean(margin[0]);
  auto measure = [&](size_t j) {
    ablation_set s;
    for (const component& c : sets[j].parts) s.components.push_back(c.name);
    std::vector<double> d(hit[j].size());  // (pairs) change of the pair's outcome
    for (size_t i = 0; i < d.size(); ++i) d[i] = hit[j][i] - hit[0][i];
    s.metric = mean(hit[j]);
    s.effect = s.metric - out.clean;
    s.ci = bootstrap_mean(d, o.resamples, o.seed);
    for (size_t i = 0; i < d.size(); ++i) d[i] = margin[j][i] - margin[0][i];
    s.ll_effect = mean(margin[j]) - out.clean_ll;
    s.ll_ci = bootstrap_mean(d, o.resamples, o.seed);
    return s;
  };
  out.top = measure(1);
  for (size_t j = 2; j < sets.size(); ++j) {
    out.random.push_back(measure(j));
    out.random_max = std::max(out.random_max, std::fabs(out.random.back().effect));
  }
  out.claimed = (out.top.ci.lo > 0 || out.top.ci.hi < 0) && std::fabs(out.top.effect) > out.random_max;
  return out;
}

}  // namespace gb::probes
