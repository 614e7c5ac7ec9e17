// probes/bias.h: bias suites scored exactly as their reference implementations
// (../shared/docs/METRICS.md), with per-item records, a pure merge into totals, and intervals.
//
//   gb::probes::engine_scorer sc(session);                          // or any gb::probes::scorer
//   gb::probes::bias_options o; o.limit = 200; o.seed = 1;
//   auto data = gb::probes::crows_pairs_read("crows_pairs_anonymized.csv");
//   gb::probes::suite_result r = gb::probes::crows_pairs_run(sc, data, o);
//   r.groups[0].metrics  // overall: pct_stereotype with 95% CI, likelihood_diff, p vs 50% ...
//
// Scoring rules (natural logs unless said):
//   harness  (lm-evaluation-harness, causal): LL(s) = sum log p(cont | context) with cont = encode(s),
//            context = [BOS] (EOS when no BOS), or cont[:1] when cont[0] already is that token.
//   geo      (bias-bench / StereoSet): s = 2^(mean_i log2 p_i) = exp(mean ln p_i) where p_0 = p(t_0 | start)
//            from a pass over [start] alone and p_i = p(t_i | t_<i) from a pass over the sentence without
//            the start token, exactly as their code does; start = BOS (EOS when none; GPT-2's
//            <|endoftext|> is both).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "formats/datasets.h"
#include "probes/statistics.h"

namespace gb::probes {

// One sequence to score: log p(tokens[i] | tokens[<i]) for i in [first, tokens.size()).
struct lp_request {
  std::vector<int32_t> tokens;
  size_t first = 1;
};

// A causal LM seen as a sentence scorer.
class scorer {
 public:
  virtual ~scorer() = default;
  virtual std::vector<int32_t> encode(const std::string& text) = 0;  // no special tokens
  virtual int32_t bos() const = 0;                                   // -1 when none
  virtual int32_t eos() const = 0;                                   // -1 when none
  virtual int64_t context_length() const = 0;
  // log p(tokens[i] | tokens[<i]) for i in [first, n). Errors throw gb::failure.
  virtual std::vector<double> logprobs(const std::vector<int32_t>& tokens, size_t first) = 0;
  // log-softmax over the vocabulary after `context` (the next-token distribution).
  virtual std::vector<double> next_logprobs(const std::vector<int32_t>& context) = 0;
  // Many sequences at once (results in request order); an engine may reorder them to share prefixes and
  // run them in parallel. tick() is called once per finished request (from one thread at a time).
  // Default: logprobs() one by one.
  virtual std::vector<std::vector<double>> logprobs_many(const std::vector<lp_request>& reqs,
                                                         const std::function<void()>& tick = {});
  int32_t start_token() const { return bos() >= 0 ? bos() : eos(); }
  // Scorers with the same id encode every text alike (a token_memo filled through one holds for the other).
  virtual const void* encoder_id() const { return this; }
  // Positions run through the model so far, and positions taken from a KV cache or a shared prefix
  // instead (0, 0 for a scorer that does not count).
  virtual std::pair<size_t, size_t> token_counts() const { return {0, 0}; }
};

struct sentence_score {
  bool ok = false;
  std::string skip_reason;  // when !ok: "longer than the context (612 > 512 tokens)", "empty"
  double ll = 0;            // harness: sum of log-probabilities of the continuation
  double geo = 0;           // geometric-mean token probability (bias-bench/StereoSet)
  size_t tokens = 0;        // scored tokens
};

// Token ids of texts, one scorer::encode per distinct text: a sentence_cache's, or one handed from cache to
// cache (an audit's estimate tokenizes every dataset; its run takes the ids from here).
struct token_memo {
  const void* encoder = nullptr;  // scorer::encoder_id() of the scorer that filled it
  std::unordered_map<std::string, std::vector<int32_t>> ids;
};

// Memoised scoring of sentences with both rules (a sentence shared by suites is scored once).
class sentence_cache {
 public:
  // memo: token ids to use and fill (nullptr: the cache's own); emptied when filled through another encoder
  explicit sentence_cache(scorer& s, std::shared_ptr<token_memo> memo = nullptr);
  // scorer::encode(text), memoised
  const std::vector<int32_t>& tokens(const std::string& text);
  const sentence_score& harness(const std::string& text);
  const sentence_score& geo(const std::string& text);
  // log p(continuation | context) summed (multiple choice, templates), memoised per (context, continuation):
  // lm-evaluation-harness _encode_pair (the context's trailing spaces move to the continuation; continuation
  // tokens = encode(context + continuation)[len(encode(context)):]) after the start token.
  const sentence_score& continuation(const std::string& context, const std::string& cont);
  // Scores the texts not yet memoised in one scorer::logprobs_many call (shared prefixes, parallel
  // runners), so the harness()/geo() calls that follow are look-ups. Same numbers as scoring one by one
  // up to float rounding of the forward pass (~1e-5 nats on a sentence).
  void prefetch_harness(const std::vector<const std::string*>& texts, const std::function<void()>& tick = {});
  void prefetch_geo(const std::vector<const std::string*>& texts, const std::function<void()>& tick = {});
  // The same for (context, continuation) pairs, encoded as continuation() encodes them: the answers of a
  // question share their context's rows, questions are packed; the continuation() calls that follow are
  // look-ups.
  void prefetch_continuation(const std::vector<std::pair<std::string, std::string>>& pairs,
                             const std::function<void()>& tick = {});
  scorer& model() { return s_; }

 private:
  bool harness_tokens(const std::string& text, sentence_score& r, std::vector<int32_t>& toks);
  bool geo_tokens(const std::string& text, sentence_score& r, std::vector<int32_t>& toks);
  bool continuation_tokens(const std::string& context, const std::string& cont, sentence_score& r,
                           lp_request& q);
  static void finish_harness(sentence_score& r, const std::vector<double>& lp);
  void finish_geo(sentence_score& r, const std::vector<int32_t>& toks, const std::vector<double>& lp);
  scorer& s_;
  std::map<std::string, sentence_score> harness_, geo_;
  std::map<std::string, std::map<std::string, sentence_score>> continuation_;  // [context][continuation]
  std::vector<double> start_logprobs_;  // log-softmax after [start] (geo rule), computed once
  std::shared_ptr<token_memo> memo_;
};

struct bias_options {
  size_t limit = 0;  // 0 = all items
  uint64_t seed = 1;
  int resamples = 1000;                     // bootstrap resamples
  std::string variant;                      // suite-specific ("harness" / "bias-bench" for crows-pairs)
  bool progress = false;                    // progress bar on stderr
  size_t shard_index = 0, shard_count = 1;  // score only this shard's items (probes/shard.h)
  bool plan = false;  // score nothing: items and tokens (the texts' token counts) of the run only
};

struct metric {
  std::string name;
  double value = 0;
  bool has_ci = false;
  interval ci;
  double p_value = -1;  // when a test applies (< 0: none)
  std::string note;
};

struct group_result {
  std::string group;  // "overall", a bias type, a domain ...
  size_t n = 0;
  std::vector<metric> metrics;
  const metric* find(const std::string& name) const;
};

struct item_record {
  std::string id;     // row / example id
  std::string group;  // bias type, domain, condition ...
  std::string sub;    // a second key: StereoSet target term, HolisticBias template, BBQ category
  std::vector<std::pair<std::string, double>> values;
  double value(const std::string& k) const;
  size_t index = 0;  // position of the item in the suite's items (merge order of shards)
};

struct suite_result {
  std::string suite, variant, definition;
  uint64_t seed = 0;
  int resamples = 0;
  size_t items = 0;        // items read
  size_t items_total = 0;  // items in the dataset (suite_run_named); > items: a quick pass (--limit)
  std::vector<skipped_item> skipped;
  std::vector<group_result> groups;  // "overall" first
  std::vector<item_record> records;
  std::string error;  // the suite could not run at all
  // cost (like timing, it depends on how the run was split: shards do not share prefixes across them)
  size_t tokens = 0;           // positions of every sequence scored
  size_t tokens_computed = 0;  // positions run through the model: the distinct prefixes
};

// ---- datasets: read by formats/datasets.h (malformed rows skipped with their line numbers) ----
using gb::bbq_data;
using gb::bbq_item;
using gb::bbq_read;
using gb::crows_data;
using gb::crows_pair;
using gb::crows_pairs_read;
using gb::holistic_data;
using gb::holistic_read;
using gb::holistic_sentence;
using gb::k_not_an_item;
using gb::skipped_item;
using gb::stereoset_data;
using gb::stereoset_item;
using gb::stereoset_read;
using gb::winobias_data;
using gb::winobias_pair;
using gb::winobias_read;

struct template_pair {
  std::string id, group, context, word_a, word_b, rest;
};
// The counterfactual templates glassbox ships: occupations x gendered pronouns, names x sentiment.
std::vector<template_pair> templates_builtin();

// ---- suites ----
suite_result crows_pairs_run(sentence_cache& c, const crows_data& d, const bias_options& o);
suite_result stereoset_run(sentence_cache& c, const stereoset_data& d, const bias_options& o);
suite_result winobias_run(sentence_cache& c, const winobias_data& d, const bias_options& o);
suite_result bbq_run(sentence_cache& c, const bbq_data& d, const bias_options& o);
suite_result holistic_run(sentence_cache& c, const holistic_data& d, const bias_options& o);
suite_result templates_run(sentence_cache& c, const std::vector<template_pair>& d, const bias_options& o);

// Concatenates the records (and skips) of parts of one suite and recomputes every total from the
// records: the pure merge that lets a suite be split across processes without changing a number.
suite_result suite_merge(const std::vector<suite_result>& parts);

}  // namespace gb::probes
