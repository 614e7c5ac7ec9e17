// Quick passes sample every category: stratified_pick and bias_sample (probes/bias_sample.h).
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "probes/bias_sample.h"

using gb::probes::stratified_pick;

namespace {
std::vector<std::string> keys_of(const std::vector<std::pair<std::string, size_t>>& sizes) {
  std::vector<std::string> k;
  for (const auto& [name, n] : sizes) k.insert(k.end(), n, name);  // categories in blocks, as datasets are
  return k;
}
}  // namespace

TEST_CASE("stratified_pick: every category, proportional shares, distinct indices in dataset order, seeded") {
  // BBQ-like: the first category alone is larger than the sample (the old "first N" took only it)
  const auto keys =
      keys_of({{"age", 3680}, {"disability", 1556}, {"gender", 5672}, {"nationality", 3080}, {"race", 6880}});
  const auto idx = stratified_pick(keys, 50, 1);
  REQUIRE(idx.size() == 50);
  std::map<std::string, size_t> per;
  for (size_t i = 0; i < idx.size(); ++i) {
    if (i) CHECK(idx[i - 1] < idx[i]);  // sorted and distinct
    per[keys[idx[i]]]++;
  }
  CHECK(per.size() == 5);
  CHECK(per["race"] == 16);       // 50 * 6880 / 20868 = 16.48
  CHECK(per["disability"] == 4);  // 3.73, rounded up by largest remainder
  CHECK(stratified_pick(keys, 50, 1) == idx);
  CHECK(stratified_pick(keys, 50, 2) != idx);
}

TEST_CASE("stratified_pick: small categories get one item; more categories than n; n = 0 or >= size is all") {
  const auto keys = keys_of({{"a", 1000}, {"b", 2}, {"c", 1}});
  auto idx = stratified_pick(keys, 10, 7);
  REQUIRE(idx.size() == 10);
  std::set<std::string> seen;
  for (size_t i : idx) seen.insert(keys[i]);
  CHECK(seen.size() == 3);
  const auto many = keys_of({{"a", 5}, {"b", 5}, {"c", 5}, {"d", 5}});
  CHECK(stratified_pick(many, 3, 1).size() == 3);
  CHECK(stratified_pick(many, 0, 1).size() == 20);
  CHECK(stratified_pick(many, 20, 1).size() == 20);
  CHECK(stratified_pick(many, 99, 1).size() == 20);
}

TEST_CASE("bias_sample keeps the dataset's bad rows and samples by category") {
  gb::probes::crows_data d;
  for (int i = 0; i < 100; ++i)
    d.pairs.push_back({std::to_string(i), "a", "b", "stereo", i < 90 ? "race" : "gender", 0});
  d.bad_rows.push_back({"line 3", "bad"});
  auto s = gb::probes::bias_sample(d, 10, 1);
  REQUIRE(s.pairs.size() == 10);
  CHECK(s.bad_rows.size() == 1);
  size_t gender = 0;
  for (const auto& p : s.pairs) gender += p.bias_type == "gender";
  CHECK(gender == 1);
}
