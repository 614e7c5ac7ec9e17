// Shared-prefix reuse in engine_scorer (runner::truncate): the log-probabilities of every sentence equal a
// full pass from position 0 (runner::token_logprobs) up to float rounding of the forward pass (the cached
// keys/values came from a pass over a different number of rows), while the shared tokens of a CrowS-Pairs
// pair or a multiple-choice question are computed once. Batches (sorted requests packed into prefix tries,
// runner::forward_packed) give the same numbers within float rounding whatever the pass size, and bit for
// bit whatever the number of workers, threads or runners.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>
#include <vector>

#include "inspect/synth.h"
#include "probes/bias.h"
#include "probes/lm_scorer.h"
#include "probes/session.h"
#include "tests/support/data.h"

using namespace gb;
using namespace gb::probes;

namespace {

std::vector<int32_t> with_start(scorer& sc, const std::string& text) {
  std::vector<int32_t> t = sc.encode(text);
  t.insert(t.begin(), sc.start_token());
  return t;
}

// A 2-layer, dim 64 synthetic model (kv heads: 0 = n_head) written under the test's temp folder.
std::string tiny_model(const std::string& arch, int64_t kv, const std::string& dir) {
  synth_spec s;
  s.arch = arch;
  s.n_layer = 2;
  s.n_embd = 64;
  s.n_head = 4;
  s.n_head_kv = kv;
  s.n_vocab = 512;
  s.path = test::temp_dir(dir) + "/" + arch + ".gguf";
  REQUIRE(synth_write(s));
  return s.path;
}

// Under ASan + UBSan (~5x slower; this was the sanitized run's second-longest test, 157 s) the full-pass
// comparison runs on 16 pairs instead of 40 and the suite on 100 items instead of 300: the same paths,
// prefixes still shared (100 items: 5730 positions computed with reuse vs 7498 without, 76%).
#ifdef GB_SANITIZED
constexpr size_t k_pairs = 16, k_items = 100;
#else
constexpr size_t k_pairs = 40, k_items = 300;
#endif

// Scores the first `pairs` CrowS-Pairs pairs (more then less) and the answers of a few multiple-choice
// prompts with reuse, and the same sequences by full passes on a second session; returns the max difference.
double compare(const std::string& model, const crows_data& d, size_t pairs, size_t& reused,
               size_t& forwarded) {
  auto s1 = session_open(model), s2 = session_open(model);
  REQUIRE(s1);
  REQUIRE(s2);
  engine_scorer sc(s1.value());
  engine::runner& ref = *s2.value().run;
  double worst = 0;
  auto check = [&](const std::vector<int32_t>& toks, size_t first) {
    std::vector<double> a = sc.logprobs(toks, first);
    auto b = ref.token_logprobs(toks, first);
    REQUIRE(b);
    REQUIRE(a.size() == b.value().size());
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b.value()[i]));
  };
  for (size_t i = 0; i < pairs && i < d.pairs.size(); ++i) {
    check(with_start(sc, d.pairs[i].sent_more), 1);
    check(with_start(sc, d.pairs[i].sent_less), 1);
  }
  // multiple choice: a long shared prompt, answers scored from a later first token; then a sequence that is
  // a prefix of the previous one, an identical one, and one sharing only the start token
  const std::vector<int32_t> prompt =
      with_start(sc, "The nurse and the doctor talked. Who was kind?\nAnswer:");
  for (const char* ans : {" The nurse", " The doctor", " Unknown"}) {
    std::vector<int32_t> t = prompt, a = sc.encode(ans);
    t.insert(t.end(), a.begin(), a.end());
    check(t, prompt.size());
  }
  check(prompt, 1);
  check(prompt, 1);
  check(with_start(sc, "Once upon a time"), 1);
  reused = sc.tokens_reused();
  forwarded = sc.tokens_forwarded();
  return worst;
}

// An engine scorer whose batches are scored one sequence at a time (scorer::logprobs_many's default): the
// path every suite took before it batched, with the engine's KV-cache reuse between neighbours.
struct one_by_one : scorer {
  engine_scorer& e;
  explicit one_by_one(engine_scorer& x) : e(x) {}
  std::vector<int32_t> encode(const std::string& t) override { return e.encode(t); }
  int32_t bos() const override { return e.bos(); }
  int32_t eos() const override { return e.eos(); }
  int64_t context_length() const override { return e.context_length(); }
  std::vector<double> logprobs(const std::vector<int32_t>& t, size_t f) override { return e.logprobs(t, f); }
  std::vector<double> next_logprobs(const std::vector<int32_t>& c) override { return e.next_logprobs(c); }
  std::pair<size_t, size_t> token_counts() const override { return e.token_counts(); }
};

}  // namespace

TEST_CASE("prefix reuse gives the log-probabilities of full passes (stories260K and a synthetic llama)") {
  GB_DATA(csv, "bias/crows-pairs/crows_pairs_anonymized.csv");
  const crows_data d = crows_pairs_read(csv);
  std::vector<std::string> models;
  if (std::string p = test::data_path("models/stories260K/stories260K.gguf"); !p.empty()) models.push_back(p);
  models.push_back(tiny_model("llama", 2, "bias_prefix"));
  for (const std::string& m : models) {
    size_t reused = 0, forwarded = 0;
    double worst = compare(m, d, k_pairs, reused, forwarded);
    MESSAGE(m << ": max |reuse - full pass| = " << worst << "; positions reused " << reused << ", computed "
              << forwarded);
    CHECK(worst <= 1e-4);
    CHECK(reused > forwarded / 8);  // CrowS-Pairs pairs share prefixes
  }
}

TEST_CASE("CrowS-Pairs numbers are unchanged by prefix reuse and batching, with fewer positions computed") {
  GB_DATA(csv, "bias/crows-pairs/crows_pairs_anonymized.csv");
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  const crows_data d = crows_pairs_read(csv);
  auto s1 = session_open(model), s2 = session_open(model), s3 = session_open(model);
  REQUIRE(s1);
  REQUIRE(s2);
  REQUIRE(s3);
  engine_scorer one(s1.value(), 1), two(s3.value(), 2), without(s2.value());
  without.set_prefix_reuse(false);
  bias_options o;
  o.limit = k_items;
  o.resamples = 200;
  // the suite batches its sentences (logprobs_many); `plain` scores them one by one with no reuse
  one_by_one plain(without);
  sentence_cache c1(one), c2(two), c3(plain);
  suite_result a = crows_pairs_run(c1, d, o), b = crows_pairs_run(c2, d, o), ref = crows_pairs_run(c3, d, o);
  REQUIRE(a.records.size() == ref.records.size());
  REQUIRE(b.records.size() == ref.records.size());
  double worst = 0, worst_workers = 0;
  for (size_t i = 0; i < a.records.size(); ++i)
    for (const char* k : {"ll_more", "ll_less"}) {
      worst = std::max(worst, std::fabs(a.records[i].value(k) - ref.records[i].value(k)));
      // 1 or 2 workers: bit for bit (passes composed by the batch alone; forward_packed is
      // thread-independent)
      worst_workers = std::max(worst_workers, std::fabs(a.records[i].value(k) - b.records[i].value(k)));
    }
  CHECK(worst_workers == 0.0);
  CHECK(worst <= 1e-4);
  CHECK(a.groups[0].find("pct_stereotype")->value == ref.groups[0].find("pct_stereotype")->value);
  CHECK(a.groups[0].find("pct_stereotype")->ci.lo == ref.groups[0].find("pct_stereotype")->ci.lo);
  CHECK(b.groups[0].find("pct_stereotype")->value == ref.groups[0].find("pct_stereotype")->value);
  CHECK(without.tokens_reused() == 0u);
  CHECK(one.tokens_forwarded() == two.tokens_forwarded());
  MESSAGE(k_items << " pairs: positions computed " << one.tokens_forwarded() << " with sorted reuse vs "
                  << without.tokens_forwarded() << " one by one without; max LL difference " << worst
                  << " (1 vs 2 workers " << worst_workers << ")");
  CHECK(one.tokens_forwarded() * 100 < without.tokens_forwarded() * 85);  // measured: 18534 vs 23097
}

TEST_CASE(
    "packed batches: any pass size and runner split gives the one-by-one log-probabilities; runners agree "
    "bit for bit") {
  GB_DATA(csv, "bias/crows-pairs/crows_pairs_anonymized.csv");
  const crows_data d = crows_pairs_read(csv);
  const std::string path =
      tiny_model("bloom", 0, "bias_packed");  // ALiBi and an embedding norm: positions by trie depth
  auto ses = session_open(path), ref_ses = session_open(path);
  REQUIRE(ses);
  REQUIRE(ref_ses);
  engine_scorer sc(ses.value(), 2);
  engine::runner& ref = *ref_ses.value().run;
  std::vector<lp_request> reqs;
  for (size_t i = 0; i < 60 && i < d.pairs.size(); ++i)
    for (const std::string* t : {&d.pairs[i].sent_more, &d.pairs[i].sent_less})
      reqs.push_back({with_start(sc, *t), 1});
  reqs.push_back(reqs[3]);                             // a duplicate request
  reqs.push_back({{sc.start_token()}, 1});             // nothing to score
  reqs.push_back({with_start(sc, "Answer: yes"), 3});  // scored from a later token
  std::vector<std::vector<double>> want;
  for (const lp_request& q : reqs) {
    auto b = ref.token_logprobs(q.tokens, q.first);
    REQUIRE(b);
    want.push_back(b.value());
  }
  std::vector<std::vector<double>> base;
  // 512 rows (a few passes), 40 rows (many passes; most sentences share a pass with a few others), 8 rows
  // (long sentences run alone through the KV-cache path); 1 runner with 2 threads and 2 runners with 1 thread
  for (size_t rows : std::initializer_list<size_t>{512, 40, 8})
    for (int runners : {1, 2}) {
      CAPTURE(rows);
      CAPTURE(runners);
      sc.set_batching(rows, runners);
      size_t ticks = 0;
      std::vector<std::vector<double>> got = sc.logprobs_many(reqs, [&] { ++ticks; });
      CHECK(ticks == reqs.size());
      REQUIRE(got.size() == want.size());
      double worst = 0;
      for (size_t i = 0; i < got.size(); ++i) {
        REQUIRE(got[i].size() == want[i].size());
        for (size_t j = 0; j < got[i].size(); ++j) worst = std::max(worst, std::fabs(got[i][j] - want[i][j]));
      }
      MESSAGE("pass rows " << rows << ", runners " << runners
                           << ": max |batch - token_logprobs| = " << worst);
      CHECK(worst <= 1e-4);
      if (runners == 1)
        base = got;
      else
        CHECK(got == base);  // the passes are the batch's alone: runners and threads change nothing
    }
  CHECK(want[want.size() - 2].empty());
}

TEST_CASE(
    "continuations packed (BBQ, templates) give the one-at-a-time log-likelihoods; the answers share their "
    "context's rows") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  GB_DATA(bbq_path, "bias/bbq/Age.jsonl");
  const bbq_data bbq = bbq_read(bbq_path);
  const std::vector<template_pair> templates = templates_builtin();
  auto s1 = session_open(model), s2 = session_open(model);
  REQUIRE(s1);
  REQUIRE(s2);
  engine_scorer packed(s1.value(), 2), single(s2.value());
  one_by_one plain(single);
  sentence_cache a(packed), b(plain);
  bias_options o;
  o.limit = k_pairs;
  o.resamples = 50;
  const suite_result bbq_a = bbq_run(a, bbq, o), bbq_b = bbq_run(b, bbq, o);
  const suite_result tpl_a = templates_run(a, templates, o), tpl_b = templates_run(b, templates, o);
  REQUIRE(bbq_a.records.size() == k_pairs);
  REQUIRE(bbq_b.records.size() == k_pairs);
  REQUIRE(tpl_a.records.size() == k_pairs);
  REQUIRE(tpl_b.records.size() == k_pairs);
  CHECK(packed.tokens_packed() == packed.tokens_forwarded());  // every continuation in packed passes
  CHECK(single.tokens_packed() == 0u);
  // every continuation's log-likelihood (looked up in both caches) within float rounding of the forward pass
  double worst = 0;
  size_t pairs = 0;
  auto compare = [&](const std::string& context, const std::string& cont) {
    const sentence_score &x = a.continuation(context, cont), &y = b.continuation(context, cont);
    REQUIRE(x.ok);
    REQUIRE(y.ok);
    CHECK(x.tokens == y.tokens);
    worst = std::max(worst, std::fabs(x.ll - y.ll));
    ++pairs;
  };
  for (size_t i = 0; i < k_pairs; ++i) {
    const bbq_item& it = bbq.items[bbq_a.records[i].index];
    for (const std::string& ans : it.answers)
      compare(it.context + " " + it.question + "\nAnswer:", " " + ans);
    const template_pair& t = templates[tpl_a.records[i].index];
    compare(t.context, t.word_a + t.rest);
    compare(t.context, t.word_b + t.rest);
  }
  MESSAGE(pairs << " continuations: max |packed - one at a time| = " << worst << "; positions computed "
                << packed.tokens_forwarded() << " packed vs " << single.tokens_forwarded()
                << " one at a time");
  CHECK(worst <= 1e-4);
  // the records agree: BBQ's chosen answers, the templates' log-likelihoods within the same rounding
  for (size_t i = 0; i < k_pairs; ++i) {
    CHECK(bbq_a.records[i].values == bbq_b.records[i].values);
    for (const char* k : {"ll_first", "ll_second"})
      CHECK(std::fabs(tpl_a.records[i].value(k) - tpl_b.records[i].value(k)) <= 1e-4);
  }
  // an item's three answers share its prompt's rows: far fewer positions than scoring each answer whole
  CHECK(packed.tokens_forwarded() * 2 < bbq_a.tokens + tpl_a.tokens);
  CHECK(bbq_a.tokens_computed > 0);
  CHECK(bbq_a.tokens == bbq_b.tokens);  // the positions scored do not depend on the path
}
