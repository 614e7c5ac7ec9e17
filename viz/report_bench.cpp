// viz/report_bench.cpp: `glassbox bench` as text, JSON and table rows (see viz/report_bench.h).
#include "viz/report_bench.h"

#include "viz/json_util.h"
#include "viz/text.h"

namespace gb::viz {

std::string bench_text(const bench_report& r) {
  std::string out = strf("%s (threads %d, %d runs each, hook %s)\n", r.model.c_str(), r.threads,
                         r.repetitions, r.hook.c_str());
  for (const auto& t : r.tests) out += strf("%-8s %10.2f ± %.2f tokens/s\n", t.label.c_str(), t.mean, t.sd);
  return out + strf("peak RSS %.1f MiB (weights %.1f MiB)\n", r.peak_rss_mib,
                    static_cast<double>(r.weight_bytes) / 1048576.0);
}

std::string bench_json(const bench_report& r) {
  using ojson = nlohmann::ordered_json;
  ojson j;
  j["model"] = r.model;
  j["threads"] = r.threads;
  j["hook"] = r.hook;
  j["repetitions"] = r.repetitions;
  j["load_seconds"] = r.load_seconds;
  ojson tests = ojson::array();
  for (const auto& t : r.tests)
    tests.push_back({{"test", t.label},
                     {"tokens", t.tokens},
                     {"tokens_per_second", t.mean},
                     {"stddev", t.sd},
                     {"runs", t.tokens_per_second}});
  j["tests"] = tests;
  j["weight_bytes"] = r.weight_bytes;
  j["peak_rss_mib"] = r.peak_rss_mib;
  return json_text(j);
}

std::vector<bench_result> bench_rows(const bench_report& r) {
  std::vector<bench_result> rows;
  for (const auto& t : r.tests)
    rows.push_back(
        {r.model, r.hook, t.label, r.threads, static_cast<int>(t.tokens_per_second.size()), t.mean, t.sd});
  return rows;
}

}  // namespace gb::viz
