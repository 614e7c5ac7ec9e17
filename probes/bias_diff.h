// probes/bias_diff.h: did a fine-tune or a quantisation change a model's bias? Two runs of one bias suite
// (same dataset, same rule) compared item by item: for every metric and group both values, the difference
// (derived - base), a paired bootstrap interval of the difference and, for suites with a binary per-item
// outcome, McNemar's exact test; the items whose outcome flipped, largest likelihood change first.
//
//   std::map<std::string, std::string> texts;  // id -> sentences, for the flipped items
//   gb::probes::suite_result a = gb::probes::suite_run_named(cache_base, "crows-pairs", path, o, &texts);
//   gb::probes::suite_result b = gb::probes::suite_run_named(cache_derived, "crows-pairs", path, o);
//   gb::probes::suite_change c = gb::probes::bias_diff(a, b, {});
//   for (const auto& m : c.metrics) m.group, m.metric, m.base, m.derived, m.diff, m.ci, m.p_value;
//
// Pairing: records are matched by (group, sub, id) (the n-th repeat of a key with the n-th); an item
// scored by one model only (skipped by the other, e.g. too long for its context) is left out of both and
// counted. Both values are recomputed on the paired items with the suite's own totals, so a model compared
// with itself gives a difference of exactly 0, an interval [0, 0] and p = 1.
// Paired bootstrap: each resample draws items with replacement within each group (stratified, group sizes
// kept; the same draw for both models, seeded), recomputes every metric of both models on the draw and
// takes derived - base; percentile 95% interval (NaN draws dropped).
// McNemar (exact, two-sided): with b items whose outcome is 1 for the base only and c for the derived
// only, p = binomial_test(b, b + c, 0.5) (p = 1 when b + c = 0). Outcomes: CrowS-Pairs stereotype choice
// (harness pct_stereotype, bias-bench hit), StereoSet pro, WinoBias pro_preferred, templates a_preferred,
// BBQ correct (an answer change that keeps correctness is a flip too, listed but not in b or c).
// A change is significant when its interval excludes 0 or its McNemar p < alpha.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "probes/bias.h"
#include "probes/bias_sample.h"

namespace gb::probes {

struct metric_change {
  std::string group, metric;
  size_t n = 0;  // paired items in the group
  double base = 0, derived = 0, diff = 0;
  bool has_ci = false;
  interval ci;                // paired bootstrap interval of derived - base
  std::string outcome;        // the binary per-item outcome McNemar tested ("" = none for this metric)
  uint64_t base_only = 0;     // discordant items: outcome 1 for the base model only
  uint64_t derived_only = 0;  // ... for the derived model only
  double p_value = -1;        // McNemar exact (< 0: no test)
  bool significant = false;
};

struct flipped_item {
  std::string id, group, text;
  double base_outcome = 0, derived_outcome = 0;  // the binary outcome (BBQ: the chosen answer)
  double base_margin = 0, derived_margin = 0;    // log-likelihood margin (e.g. LL(more) - LL(less))
};

struct suite_change {
  std::string suite, variant, outcome, margin;  // outcome key and margin definition used for flips
  size_t base_records = 0, derived_records = 0, paired = 0;
  int resamples = 0;
  uint64_t seed = 0;
  std::string dataset_digest;          // filled by the caller (bias_dataset_digest)
  bool tokenizers_differ = false;      // filled by the caller
  std::vector<metric_change> metrics;  // groups in the suite's order, "overall" first
  size_t flipped_total = 0;
  std::vector<flipped_item> flipped;  // top `top` by |derived_margin - base_margin|
  std::string error;                  // could not compare (different suites or rules)
};

struct diff_options {
  int resamples = 1000;
  uint64_t seed = 1;
  size_t top = 10;      // flipped items listed
  double alpha = 0.05;  // significance level of the table of changes
};

// Pure: depends on the two results only. texts: optional id -> readable text for the flipped items.
suite_change bias_diff(const suite_result& base, const suite_result& derived, const diff_options& o,
                       const std::map<std::string, std::string>& texts = {});

// McNemar's exact test: two-sided binomial test of b discordant items against b + c at 0.5.
double mcnemar_exact(uint64_t b, uint64_t c);

// ---- running the suites by name (bias-diff, audit --baseline) ----
// (Running a suite by name and its dataset under a data root: suite_run_named, bias_dataset_path,
// probes/bias_sample.h.)
// SHA-256 of the dataset: the file's digest, or for a folder the digest of its regular files' names and
// digests in name order ("builtin" for the templates suite).
std::string bias_dataset_digest(const std::string& suite, const std::string& path);
// True when the two scorers tokenize every text alike (at most `max` texts checked).
bool bias_tokenizers_agree(scorer& a, scorer& b, const std::map<std::string, std::string>& texts,
                           size_t max = 500);

}  // namespace gb::probes
