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

// Rows [row0, row0 + rows) of a packed pass hold one pair under one ablation set (parts: its components).
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

// Keeps blk.l.resid.pre of the layers asked for (the unablated pass: where each ablated run starts).
struct resid_capture : engine::hook {
  std::vector<std::string> names;        // the layers' hook points
  std::vector<std::vector<float>> data;  // per name: (rows, D)
  bool wants(std::string_view n) override { return std::find(names.begin(), names.end(), n) != names.end(); }
  bool observe(std::string_view n, engine::activation_view a) override {  // a: (rows, D)
    const auto i = static_cast<size_t>(std::find(names.begin(), names.end(), n) - names.begin());
    data[i].assign(a.data, a.data + a.size());
    return true;
  }
};

// {LL(more), LL(less)} of one copy of a pair from a pass's logits (T, V) and log-partitions (T).
std::pair<double, double> pair_ll(const localize_pair& p, const pair_rows& r, const std::vector<float>& lg,
                                  const std::vector<double>& lp, int64_t V) {
  auto ll = [&](const std::vector<int32_t>& rows, const std::vector<int32_t>& ids) {
    double s = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto q = static_cast<size_t>(rows[i]);
      s += static_cast<double>(lg[q * static_cast<size_t>(V) + static_cast<size_t>(ids[i + 1])]) - lp[q];
    }
    return s;
  };
  return {ll(r.a, p.more), ll(r.b, p.less)};
}

std::vector<double> logits_log_partition(const std::vector<float>& lg, int64_t V) {
  const auto T = static_cast<int64_t>(lg.size()) / V;
  std::vector<double> lp(static_cast<size_t>(T));  // (rows)
  rows_log_partition(lg, V, 0, T, lp.data());
  return lp;
}

std::vector<component> candidates(const localize_result& r) {
  std::vector<component> out;
  for (const component_rank& c : r.ranked)
    if (c.layer >= 0 && (c.head >= 0 || c.name.ends_with(".mlp"))) out.push_back({c.name, c.layer, c.head});
  return out;
}

// The first block an ablation set changes (the last block for an empty set: nothing changes).
int set_start(const std::vector<component>& parts, int64_t L) {
  int s = static_cast<int>(L) - 1;
  for (const component& c : parts) s = std::min(s, c.layer);
  return s;
}

// Log-likelihoods of both sentences of pairs [i0, i1) under every set, ll[set][pair] = {LL(more),
// LL(less)}. Set 0 (unablated) is one packed pass that keeps the residual entering each set's first
// ablated block; every ablated run is then one staged pass (engine::runner::forward_packed_staged), each
// pair and set joining at that block from the unablated residual: the blocks before it are not rerun.
result<bool> group_runs(engine::runner& run, const std::vector<localize_pair>& pairs, size_t i0, size_t i1,
                        const std::vector<std::vector<component>>& sets, ablate_hook& hk,
                        std::vector<std::vector<std::pair<double, double>>>& ll, int64_t L) {
  const int64_t V = run.vocab_size();
  std::vector<int> start(sets.size());  // (sets)
  std::vector<size_t> order;            // ablated sets by start block
  resid_capture cap;
  for (size_t j = 1; j < sets.size(); ++j) {
    start[j] = set_start(sets[j], L);
    order.push_back(j);
    const std::string name = "blk." + std::to_string(start[j]) + ".resid.pre";
    if (std::find(cap.names.begin(), cap.names.end(), name) == cap.names.end()) cap.names.push_back(name);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return start[a] < start[b]; });
  cap.data.resize(cap.names.size());
  std::vector<int32_t> tokens, parent;  // (rows)
  std::vector<pair_rows> clean;         // (pairs of the group)
  for (size_t i = i0; i < i1; ++i) clean.push_back(pair_append(pairs[i], tokens, parent));
  auto lg = run.forward_packed(tokens, parent, &cap);
  if (!lg) return lg.err();
  std::vector<double> lp = logits_log_partition(lg.value(), V);
  for (size_t i = i0; i < i1; ++i) ll[0].push_back(pair_ll(pairs[i], clean[i - i0], lg.value(), lp, V));
  if (order.empty()) return true;
  const auto D = static_cast<int64_t>(cap.data[0].size() / tokens.size());
  std::vector<int32_t> stage, tk, pa;  // (rows)
  std::vector<float> x;                // (rows, D) the unablated residual entering each row's start block
  std::vector<packed_set> ps;
  std::vector<pair_rows> rows;  // (sets - 1, pairs of the group) in `order`
  for (size_t j : order) {
    const std::string name = "blk." + std::to_string(start[j]) + ".resid.pre";
    const std::vector<float>& xs = cap.data[static_cast<size_t>(
        std::find(cap.names.begin(), cap.names.end(), name) - cap.names.begin())];
    for (size_t i = i0; i < i1; ++i) {
      const size_t n0 = tk.size();
      rows.push_back(pair_append(pairs[i], tk, pa));
      ps.push_back({static_cast<int32_t>(n0), static_cast<int32_t>(tk.size() - n0), sets[j]});
      const float* src = xs.data() + static_cast<int64_t>(clean[i - i0].row0) * D;
      x.insert(x.end(), src, src + static_cast<int64_t>(tk.size() - n0) * D);
      stage.insert(stage.end(), tk.size() - n0, start[j]);
    }
  }
  hk.sets = &ps;
  auto la = run.forward_packed_staged(stage, x, tk, pa, &hk);
  if (!la) return la.err();
  lp = logits_log_partition(la.value(), V);
  size_t k = 0;
  for (size_t j : order)
    for (size_t i = i0; i < i1; ++i, ++k) ll[j].push_back(pair_ll(pairs[i], rows[k], la.value(), lp, V));
  return true;
}

// The reference: per pair, one packed pass from block 0 holding the unablated run and every ablated run.
result<bool> pair_runs_ref(engine::runner& run, const localize_pair& p,
                           const std::vector<std::vector<component>>& sets, ablate_hook& hk,
                           std::vector<std::vector<std::pair<double, double>>>& ll) {
  std::vector<int32_t> tokens, parent;  // (rows)
  std::vector<packed_set> ps;
  std::vector<pair_rows> rows;  // (sets)
  for (const std::vector<component>& parts : sets) {
    rows.push_back(pair_append(p, tokens, parent));
    ps.push_back({rows.back().row0, static_cast<int32_t>(tokens.size()) - rows.back().row0, parts});
  }
  hk.sets = &ps;
  auto lg = run.forward_packed(tokens, parent, &hk);
  if (!lg) return lg.err();
  const std::vector<double> lp = logits_log_partition(lg.value(), run.vocab_size());
  for (size_t j = 0; j < sets.size(); ++j)
    ll[j].push_back(pair_ll(p, rows[j], lg.value(), lp, run.vocab_size()));
  return true;
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
  std::vector<std::vector<component>> sets(2);
  sets[1].assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(out.k));
  rng g(o.seed);
  for (int d = 0; d < o.draws && all.size() > out.k; ++d) {
    std::vector<component> rest(all.begin() + static_cast<std::ptrdiff_t>(out.k), all.end());
    g.shuffle(rest);
    rest.resize(std::min(out.k, rest.size()));
    sets.push_back(std::move(rest));
  }
  // pairs in groups whose ablated runs fit max_rows rows (at least one pair)
  std::vector<std::vector<std::pair<double, double>>> ll(sets.size());  // (sets, pairs)
  for (size_t i = 0; o.reference && i < r.pairs.size(); ++i) {
    auto pr = pair_runs_ref(run, r.pairs[i], sets, hk, ll);
    if (!pr) return pr.err();
  }
  for (size_t i0 = 0; !o.reference && i0 < r.pairs.size();) {
    size_t i1 = i0, rows = 0;
    while (i1 < r.pairs.size() &&
           (i1 == i0 || rows + (sets.size() - 1) * pair_rows_count(r.pairs[i1]) <= o.max_rows))
      rows += (sets.size() - 1) * pair_rows_count(r.pairs[i1++]);
    auto gr = group_runs(run, r.pairs, i0, i1, sets, hk, ll, r.L);
    if (!gr) return gr.err();
    i0 = i1;
  }
  std::vector<std::vector<double>> hit(sets.size()), margin(sets.size());  // (sets, pairs)
  for (size_t j = 0; j < sets.size(); ++j)
    for (const auto& [m, l] : ll[j]) {
      hit[j].push_back(m > l ? 100.0 : 0.0);
      margin[j].push_back(m - l);
    }
  out.clean = mean(hit[0]);
  out.clean_ll = mean(margin[0]);
  auto measure = [&](size_t j) {
    ablation_set s;
    for (const component& c : sets[j]) s.components.push_back(c.name);
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
