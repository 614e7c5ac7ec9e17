// probes/weat.h: WEAT / SEAT exactly as sent-bias (`sentbias/weat.py`) computes them.
//
//   cos(x, y) = x.y / sqrt((x.x)(y.y));  s(w, A, B) = mean_a cos(w, a) - mean_b cos(w, b)
//   effect size d = (mean_X s - mean_Y s) / std_{X u Y} s   (sample std, ddof = 1)
//   p (one-sided) = #{partitions with s_i >= s} / #partitions, s = sum_X s - sum_Y s;
//   exact over all |X|-subsets of X u Y when C(|X|+|Y|, |X|) <= 100,000, else Monte Carlo with
//   100,000 samples whose counts start at 1 (sent-bias's "hallucinated positive observation"), seeded.
// With unequal |X| and |Y| (a word missing from the embeddings) the partition test runs over
// |X|-subsets, which keeps the same ordering of the statistic; the result says so.
//
//   gb::probes::weat_sets t = gb::probes::weat_sets_parse_seat(json_text);
//   gb::probes::weat_result r = gb::probes::weat_run(t, lookup, {.seed = 1});
//   auto all = gb::probes::weat_run_all(tests, [&](const weat_sets&, const std::string& w) { ... }, {}, 2);
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "formats/datasets.h"
#include "formats/error.h"
#include "probes/statistics.h"

namespace gb::probes {

// The test files (SEAT/sent-bias tests, WEFE's WEAT.json) are read by formats/datasets.h.
using gb::weat_sets;
using gb::weat_sets_parse_seat;
using gb::weat_standard_tests;
using gb::word_set;

struct weat_options {
  uint64_t seed = 1;
  int samples = 100000;           // Monte Carlo samples when exact enumeration is too large
  uint64_t exact_limit = 100000;  // enumerate exactly when C(n, |X|) <= this
  int bootstrap = 1000;           // resamples for the effect-size interval (0 = none)
};

struct weat_result {
  std::string name;
  std::string x_name, y_name, a_name, b_name;
  size_t nx = 0, ny = 0, na = 0, nb = 0;
  std::vector<std::string> missing;  // words with no vector (skipped)
  double effect_size = 0;
  double statistic = 0;  // sum_X s - sum_Y s
  double p_value = 1;
  bool exact = false;       // exact enumeration or Monte Carlo
  uint64_t partitions = 0;  // enumerated or sampled
  interval effect_ci;       // bootstrap over target words (X and Y resampled separately)
  bool equal_sizes = true;
  std::string error;  // non-empty when the test could not run (a set emptied)
};

// `lookup` returns the vector for a word (or empty when absent). dim is taken from the first vector.
weat_result weat_run(const weat_sets& t, const std::function<std::vector<float>(const std::string&)>& lookup,
                     const weat_options& opt = {});
// Every test: the words are looked up first, test by test on the calling thread (a model lookup runs the
// engine), then the statistics run `threads` tests at a time (0 = all cores). Results in test order, each
// equal to weat_run's for any thread count (every test draws from its own seeded generators).
using test_lookup = std::function<std::vector<float>(const weat_sets& test, const std::string& word)>;
std::vector<weat_result> weat_run_all(const std::vector<weat_sets>& tests, const test_lookup& lookup,
                                      const weat_options& opt = {}, int threads = 0);

}  // namespace gb::probes
