// probes/bias_localize_ablate.h: confirmation of a localisation by ablation. The top K components that
// direct attribution ranked (heads, MLPs) are mean-ablated together, and the change of the suite's headline
// metric is compared with the change from ablating K random components (several seeded draws). A
// localisation is claimed only when the top-K effect beats every random draw.
//
//   auto r = gb::probes::localize_pairs(run, w, pairs, {}).value();            // ranks, dataset means
//   auto a = gb::probes::ablate_confirm(run, r, {.k = 3, .draws = 10}).value();
//   a.top.effect, a.top.ci, a.random[i].effect, a.claimed
//
// Definitions:
// - Components: every head (its slice of blk.l.attn.z, before the output projection) and every MLP
//   (blk.l.mlp.out). The top K are the first K of them in localize_result::ranked (largest |mean DLA
//   difference| first); each random draw is K distinct components drawn uniformly (seeded) from the others.
// - Mean ablation: the component's activation at every position is replaced by its dataset mean, the mean
//   over every position of both sentences of every pair (localize_result::activations).
// - Headline metric: pct_stereotype = 100 x the share of pairs whose stereotypical sentence is the more
//   likely (LL(more) > LL(less), sentence log-likelihoods as scored by bias-localize); the effect of a set
//   is metric(ablated) - metric(unablated), with a paired 95% percentile bootstrap interval over pairs.
//   The change of the mean LL(more) - LL(less) is reported beside it.
// - Rule: claimed when the top-K interval excludes 0 and |top-K effect| exceeds the largest |effect| of
//   the random draws. pct_stereotype is binary per pair: a bias far larger than the model's other
//   preferences can lose most of its margin (ll_effect) without a pair changing side, and is then not
//   claimed; the margin's change and its interval are reported beside the verdict for that reading.
// Runs: pairs go in groups; a group's unablated runs are one packed pass (engine::runner::forward_packed)
// that keeps the residual entering each set's first ablated block, and every ablated run of the group is
// one staged pass (engine::runner::forward_packed_staged) in which each run starts at that block; the two
// sentences of one run share the rows of their common prefix. The same bits as one pass per pair from
// block 0 (ablate_options::reference, what the tests compare with).
#pragma once

#include <string>
#include <vector>

#include "probes/bias_localize.h"

namespace gb::probes {

struct ablate_options {
  size_t k = 3;    // components in the top set and in each random set
  int draws = 10;  // random sets
  int resamples = 1000;
  uint64_t seed = 1;
  size_t max_rows = 1024;  // rows of a group's pass of ablated runs (pairs are added while they fit)
  bool reference = false;  // the reference runs: per pair, one packed pass from block 0 with every set
};

struct ablation_set {
  std::vector<std::string> components;
  double metric = 0;     // pct_stereotype with the set ablated
  double effect = 0;     // metric - the unablated metric
  interval ci;           // paired bootstrap of the effect over pairs
  double ll_effect = 0;  // change of the mean LL(more) - LL(less)
  interval ll_ci;        // its paired bootstrap interval
};

struct ablation_result {
  size_t k = 0, pairs = 0;
  double clean = 0, clean_ll = 0;  // unablated pct_stereotype and mean LL(more) - LL(less)
  ablation_set top;
  std::vector<ablation_set> random;
  double random_max = 0;  // largest |effect| over the random draws
  bool claimed = false;
};

// The rule and the definitions above, as one sentence for reports.
std::string ablation_rule();

result<ablation_result> ablate_confirm(engine::runner& run, const localize_result& r,
                                       const ablate_options& o);

}  // namespace gb::probes
