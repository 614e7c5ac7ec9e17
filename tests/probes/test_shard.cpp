// probes/shard.h: shard specs from I/N and from each launcher's environment, the token-balanced assignment,
// partial files that read back to the same bits, and the merge's ordering and refusals.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <map>

#include "formats/error.h"
#include "probes/shard.h"
#include "tests/support/data.h"

using namespace gb;
using namespace gb::probes;

namespace {

env_lookup env_of(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

errc code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const failure& e) {
    return e.err().code;
  }
  FAIL("no failure");
  return errc::io;
}

suite_result sample_suite() {
  suite_result r;
  r.suite = "winobias";
  r.variant = "likelihood";
  r.definition = "d";
  r.seed = 7;
  r.resamples = 10;
  r.items = 4;
  r.skipped = {{"line 3", "bad row", k_not_an_item}};
  for (size_t i = 0; i < 4; ++i) {
    if (i == 2) {
      r.skipped.push_back({"item 2", "longer than the context", 2});
      continue;
    }
    item_record x;
    x.id = std::to_string(i);
    x.group = i % 2 ? "type1" : "type2";
    x.sub = "dev";
    x.index = i;
    const double d = (i == 1 ? -1.0 : 1.0) * (0.1 + 1e-17 * static_cast<double>(i)) / 3.0;
    x.values = {{"ll_pro", -12.345678901234567 * static_cast<double>(i + 1)},
                {"ll_anti", 5e-324},
                {"diff", d},
                {"pro_preferred", d > 0 ? 1.0 : 0.0}};
    r.records.push_back(x);
  }
  return r;
}

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

}  // namespace

TEST_CASE("--shard I/N and its refusals") {
  const env_lookup none = env_of({});
  shard_spec s = shard_parse("2/8", 0, none);
  CHECK(s.index == 2u);
  CHECK(s.count == 8u);
  CHECK(s.source == "--shard 2/8");
  for (const char* bad : {"8/8", "1/0", "a/2", "3", "-1/2", "1/2/3", "", "/", "1/99999999999"})
    CHECK_MESSAGE(code_of([&] { shard_parse(bad, 0, none); }) == errc::bad_value, bad);
  CHECK(code_of([&] { shard_parse("auto", 0, none); }) == errc::not_found);
}

TEST_CASE("--shard auto reads Slurm, Open MPI, MPICH/PMI and Kubernetes, and says which") {
  shard_spec s = shard_parse("auto", 0,
                             env_of({{"SLURM_ARRAY_TASK_ID", "5"},
                                     {"SLURM_ARRAY_TASK_MIN", "1"},
                                     {"SLURM_ARRAY_TASK_COUNT", "8"},
                                     {"SLURM_PROCID", "0"},
                                     {"SLURM_NTASKS", "1"}}));
  CHECK((s.index == 4u && s.count == 8u));
  CHECK(s.source.find("Slurm array") == 0);
  s = shard_parse("auto", 0, env_of({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}));
  CHECK((s.index == 3u && s.count == 4u));
  // --array=2-14:3 (tasks 2, 5, 8, 11, 14): task 11 is the fourth; task 9 is off the step
  const auto stepped = [](const char* id) {
    return env_of({{"SLURM_ARRAY_TASK_ID", id},
                   {"SLURM_ARRAY_TASK_MIN", "2"},
                   {"SLURM_ARRAY_TASK_MAX", "14"},
                   {"SLURM_ARRAY_TASK_STEP", "3"},
                   {"SLURM_ARRAY_TASK_COUNT", "5"}});
  };
  s = shard_parse("auto", 0, stepped("11"));
  CHECK((s.index == 3u && s.count == 5u));
  s = shard_parse("auto", 0, stepped("14"));
  CHECK((s.index == 4u && s.count == 5u));
  CHECK(code_of([&] { shard_parse("auto", 0, stepped("9")); }) == errc::bad_value);
  CHECK(code_of([] {
          shard_parse("auto", 0,
                      env_of({{"SLURM_ARRAY_TASK_ID", "1"},
                              {"SLURM_ARRAY_TASK_STEP", "0"},
                              {"SLURM_ARRAY_TASK_COUNT", "4"}}));
        }) == errc::bad_value);
  // mpirun inside a Slurm allocation: the MPI rank, not the batch step's SLURM_PROCID
  s = shard_parse("auto", 0,
                  env_of({{"OMPI_COMM_WORLD_RANK", "2"},
                          {"OMPI_COMM_WORLD_SIZE", "3"},
                          {"SLURM_PROCID", "0"},
                          {"SLURM_NTASKS", "1"}}));
  CHECK((s.index == 2u && s.count == 3u));
  CHECK(s.source.find("Open MPI") == 0);
  s = shard_parse("auto", 0, env_of({{"PMI_RANK", "1"}, {"PMI_SIZE", "4"}}));
  CHECK((s.index == 1u && s.count == 4u));
  CHECK(s.source.find("MPICH/PMI") == 0);
  s = shard_parse("auto", 0, env_of({{"SLURM_PROCID", "6"}, {"SLURM_NTASKS", "32"}}));
  CHECK((s.index == 6u && s.count == 32u));
  CHECK(s.source.find("Slurm tasks") == 0);
  s = shard_parse("auto", 5, env_of({{"JOB_COMPLETION_INDEX", "4"}}));
  CHECK((s.index == 4u && s.count == 5u));
  CHECK(s.source.find("Kubernetes") == 0);
  // Kubernetes does not publish the size; a mismatch with --shards; a rank past the size; garbage
  CHECK(code_of([] { shard_parse("auto", 0, env_of({{"JOB_COMPLETION_INDEX", "4"}})); }) == errc::bad_value);
  CHECK(code_of([] {
          shard_parse("auto", 4, env_of({{"PMI_RANK", "1"}, {"PMI_SIZE", "3"}}));
        }) == errc::mismatch);
  CHECK(code_of([] {
          shard_parse("auto", 0, env_of({{"PMI_RANK", "3"}, {"PMI_SIZE", "3"}}));
        }) == errc::bad_value);
  CHECK(code_of([] {
          shard_parse("auto", 0, env_of({{"OMPI_COMM_WORLD_RANK", "x"}, {"OMPI_COMM_WORLD_SIZE", "3"}}));
        }) == errc::bad_value);
  CHECK(code_of([] {
          shard_parse("auto", 0,
                      env_of({{"SLURM_ARRAY_TASK_ID", "9"},
                              {"SLURM_ARRAY_TASK_COUNT", "4"},
                              {"SLURM_ARRAY_TASK_MIN", "0"}}));
        }) == errc::bad_value);
}

TEST_CASE("shard_assign: contiguous, every item once, balanced by weight, the same for the same N") {
  std::vector<uint64_t> w;
  uint64_t x = 12345;
  for (int i = 0; i < 1000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    w.push_back(5 + (x >> 58));  // 5..68 tokens
  }
  w[10] = 0;  // an empty item still belongs somewhere
  uint64_t total = 0, max_w = 0;
  for (uint64_t v : w) total += std::max<uint64_t>(v, 1), max_w = std::max(max_w, v);
  for (size_t n : {1u, 2u, 3u, 7u, 32u, 999u, 1000u, 1500u}) {
    INFO("N = " << n);
    const std::vector<uint32_t> a = shard_assign(w, n);
    CHECK(a == shard_assign(w, n));
    REQUIRE(a.size() == w.size());
    std::vector<uint64_t> load(n, 0);
    for (size_t i = 0; i < a.size(); ++i) {
      REQUIRE(a[i] < n);
      if (i) CHECK(a[i] >= a[i - 1]);  // contiguous runs in item order
      load[a[i]] += std::max<uint64_t>(w[i], 1);
    }
    for (uint64_t l : load)
      CHECK(static_cast<double>(l) <=
            static_cast<double>(total) / static_cast<double>(n) + static_cast<double>(max_w));
    if (n <= 32)
      for (uint64_t l : load) CHECK(l > 0);  // with many items per shard none is idle
  }
  CHECK(shard_assign({}, 3).empty());
  CHECK(code_of([] { shard_assign({1}, 0); }) == errc::bad_value);
  CHECK(code_of([] { shard_assign({~0ull, 2}, 2); }) == errc::overflow);
}

TEST_CASE("a partial file reads back to the same bits, and a bad one is refused with its path") {
  const std::string dir = test::temp_dir("shard_part");
  part_header h;
  h.tool_version = "0.1.0";
  h.model = "m.gguf";
  h.model_digest = "abc";
  h.datasets = {{"winobias", "d1"}};
  h.options = {{"seed", "7"}};
  h.shard_index = 1;
  h.shard_count = 2;
  suite_result r = sample_suite();
  r.records[0].values.push_back({"nan", std::nan("")});
  r.records[0].values.push_back({"inf", -INFINITY});
  const std::string path = part_save(dir, h, {r});
  CHECK(path == dir + "/bias.part-0001-of-0002.json");
  const part p = part_read(path);
  CHECK(p.header.model_digest == "abc");
  CHECK(p.header.datasets == h.datasets);
  CHECK(p.header.options == h.options);
  CHECK((p.header.shard_index == 1u && p.header.shard_count == 2u));
  REQUIRE(p.results.size() == 1u);
  const suite_result& q = p.results[0];
  CHECK((q.suite == r.suite && q.variant == r.variant && q.seed == 7u && q.resamples == 10 && q.items == 4u));
  REQUIRE(q.records.size() == r.records.size());
  for (size_t i = 0; i < r.records.size(); ++i) {
    CHECK(q.records[i].index == r.records[i].index);
    REQUIRE(q.records[i].values.size() == r.records[i].values.size());
    for (size_t k = 0; k < r.records[i].values.size(); ++k) {
      CHECK(q.records[i].values[k].first == r.records[i].values[k].first);
      CHECK(same_bits(q.records[i].values[k].second, r.records[i].values[k].second));
    }
  }
  REQUIRE(q.skipped.size() == 2u);
  CHECK(q.skipped[0].index == k_not_an_item);
  CHECK(q.skipped[1].index == 2u);

  for (const std::string& bad :
       {std::string("not json"), std::string("{\"format\": \"glassbox-bias-part/1\"}"),
        std::string("{\"format\": \"glassbox-bias-part/1\", \"header\": {}, \"suites\": []}"),
        std::string(100000, '[')}) {
    test::write_file(dir + "/bad.json", bad);
    try {
      part_read(dir + "/bad.json");
      FAIL("accepted: " << bad.substr(0, 40));
    } catch (const failure& f) {
      CHECK(f.err().code == (bad[0] == '[' ? errc::limit : errc::bad_json));  // too deep: the depth guard
      CHECK(f.err().message.find(dir + "/bad.json") != std::string::npos);
    }
  }
  CHECK(code_of([&] { part_read(dir + "/none.json"); }) == errc::not_found);
}

TEST_CASE("shard_merge puts records and skips back in item order and recomputes the totals") {
  const suite_result whole = suite_merge({sample_suite()});  // the single-process totals
  // shard 0: items 0, 1 (a record each); shard 1: items 2 (a skip), 3; both carry the dataset-level skip
  part a, b;
  a.path = "a.json";
  b.path = "b.json";
  a.header.model_digest = b.header.model_digest = "m";
  a.header.shard_count = b.header.shard_count = 2;
  b.header.shard_index = 1;
  suite_result ra = whole, rb = whole;
  ra.records = {whole.records[0], whole.records[1]};
  ra.skipped = {whole.skipped[0]};
  ra.items = 2;
  rb.records = {whole.records[2]};
  rb.skipped = {whole.skipped[0], whole.skipped[1]};
  rb.items = 2;
  a.results = {ra};
  b.results = {rb};
  for (const auto& order : {std::vector<part>{a, b}, std::vector<part>{b, a}}) {
    const merged m = shard_merge(order);
    REQUIRE(m.results.size() == 1u);
    const suite_result& r = m.results[0];
    CHECK(r.items == 4u);
    REQUIRE(r.records.size() == 3u);
    for (size_t i = 0; i < 3; ++i) CHECK(r.records[i].id == whole.records[i].id);
    REQUIRE(r.skipped.size() == 2u);
    CHECK(r.skipped[0].where == "line 3");
    CHECK(r.skipped[1].where == "item 2");
    REQUIRE(r.groups.size() == whole.groups.size());
    for (size_t g = 0; g < r.groups.size(); ++g)
      for (size_t k = 0; k < r.groups[g].metrics.size(); ++k) {
        CHECK(same_bits(r.groups[g].metrics[k].value, whole.groups[g].metrics[k].value));
        CHECK(same_bits(r.groups[g].metrics[k].ci.lo, whole.groups[g].metrics[k].ci.lo));
        CHECK(same_bits(r.groups[g].metrics[k].ci.hi, whole.groups[g].metrics[k].ci.hi));
      }
  }
  part c = b;  // another model's shard
  c.header.model_digest = "other";
  CHECK(code_of([&] { shard_merge({a, c}); }) == errc::mismatch);
  part d = b;
  d.header.options["limit"] = "10";
  CHECK(code_of([&] { shard_merge({a, d}); }) == errc::mismatch);
  CHECK(code_of([&] { shard_merge({a}); }) == errc::not_found);
  CHECK(code_of([&] { shard_merge({a, a, b}); }) == errc::duplicate);
  CHECK(code_of([&] { shard_merge({}); }) == errc::not_found);
}
