// probes/bias_sample.h: quick passes that are honest. `--limit N` scores N items drawn from every category of
// a suite (stratified, seeded), not the first N (one BBQ category, one HolisticBias axis), and the result
// records how many of how many items were scored so every report can say "QUICK PASS: 50 of 1508 items".
// Item selection only: shard selection (--shard I/N) is a separate step and composes with this one.
//
//   auto idx = gb::probes::stratified_pick({"age", "age", "race", "race", "race"}, 2, 1);  // one of each
//   gb::probes::suite_result r = gb::probes::suite_run_named(cache, "bbq", "data/bias/bbq", opt);
//   if (r.items_total > r.items) ...  // a quick pass: no verdict
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "probes/bias.h"

namespace gb::probes {

// Indices of n of the items whose category keys are `keys`: each category gets a share proportional to its
// size (largest remainders; at least one per category while n allows), drawn at random with `seed`;
// returned in dataset order. n == 0 or n >= keys.size(): every index.
std::vector<size_t> stratified_pick(const std::vector<std::string>& keys, size_t n, uint64_t seed);

// The dataset restricted to a stratified sample of n items (by bias type, domain, type, category, axis,
// group).
crows_data bias_sample(const crows_data& d, size_t n, uint64_t seed);
stereoset_data bias_sample(const stereoset_data& d, size_t n, uint64_t seed);
winobias_data bias_sample(const winobias_data& d, size_t n, uint64_t seed);
bbq_data bias_sample(const bbq_data& d, size_t n, uint64_t seed);
holistic_data bias_sample(const holistic_data& d, size_t n, uint64_t seed);
std::vector<template_pair> bias_sample(const std::vector<template_pair>& d, size_t n, uint64_t seed);

// Where a suite's dataset lives under a data root laid out like shared/data/bias ("" for templates or an
// empty root).
std::string bias_dataset_path(const std::string& root, const std::string& suite);

// Datasets read and parsed once, shared by the passes that use them (an audit's plan and its run): keyed by
// suite and path; a dataset that cannot be read is not kept (the next pass reports it again).
struct dataset_memo {
  std::map<std::string, std::variant<crows_data, stereoset_data, winobias_data, bbq_data, holistic_data>>
      sets;
};

// Reads suite `suite` ("crows-pairs", "stereoset", "winobias", "bbq", "holisticbias", "templates": path
// unused) from `path`, samples o.limit items from every category when o.limit is set, and scores it.
// items_total is the dataset's size, items the number scored. texts, when given, receives id -> the scored
// items' sentences ("a | b"; none for holisticbias) for listing flipped items (bias-diff, audit
// --baseline): both sides of a diff score the same seeded sample as `bias --limit`. Throws gb::failure on
// an unknown suite or a dataset that cannot be read. memo: the dataset is taken from there (read into it
// the first time); nullptr: read here.
suite_result suite_run_named(sentence_cache& c, const std::string& suite, const std::string& path,
                             const bias_options& o, std::map<std::string, std::string>* texts = nullptr,
                             dataset_memo* memo = nullptr);

}  // namespace gb::probes
