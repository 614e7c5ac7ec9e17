// viz/report_weat.cpp: `glassbox weat` as text and JSON (see viz/report_weat.h).
#include "viz/report_weat.h"

#include "viz/json_util.h"
#include "viz/text.h"

namespace gb::viz {

namespace {

using sorted_json = nlohmann::json;  // keys sorted, as the document always had them

sorted_json result_json(const probes::weat_result& r) {
  sorted_json j = {{"test", r.name},
                   {"X", r.x_name},
                   {"Y", r.y_name},
                   {"A", r.a_name},
                   {"B", r.b_name},
                   {"n", {{"X", r.nx}, {"Y", r.ny}, {"A", r.na}, {"B", r.nb}}},
                   {"missing_words", r.missing},
                   {"effect_size", r.effect_size},
                   {"p_value", r.p_value},
                   {"statistic", r.statistic},
                   {"p_method", r.exact ? "exact" : "monte-carlo"},
                   {"partitions", r.partitions},
                   {"equal_sizes", r.equal_sizes},
                   {"effect_size_ci95", {r.effect_ci.lo, r.effect_ci.hi}},
                   {"bootstrap_resamples", r.effect_ci.resamples}};
  if (!r.error.empty()) j["error"] = r.error;
  return j;
}

std::string result_line(const probes::weat_result& r) {
  if (!r.error.empty()) return strf("%-12s error: %s\n", r.name.c_str(), r.error.c_str());
  const std::string xy = r.x_name + " / " + r.y_name, ab = r.a_name + " / " + r.b_name;
  return strf("%-12s %-28.28s %-28.28s %8.3f [%7.3f, %7.3f] %10.2e %zu/%zu/%zu/%zu (%zu)%s\n", r.name.c_str(),
              xy.c_str(), ab.c_str(), r.effect_size, r.effect_ci.lo, r.effect_ci.hi, r.p_value, r.nx, r.ny,
              r.na, r.nb, r.missing.size(), r.exact ? " exact" : "");
}

}  // namespace

std::string weat_text(const std::vector<probes::weat_result>& results, const weat_vectors& v) {
  std::string out =
      v.is_model
          ? strf(
                "model: %s (word tests: mean input embedding of the word's tokens; sentence tests: SEAT, "
                "mean-pooled final-norm states, L2-normalised; dim %lld)\n",
                v.path.c_str(), static_cast<long long>(v.dim))
          : strf("embeddings: %s (%s, %zu words, dim %lld)\n", v.path.c_str(), v.format.c_str(), v.words,
                 static_cast<long long>(v.dim));
  out += strf("%-12s %-28s %-28s %8s %18s %10s %s\n", "test", "targets X / Y", "attributes A / B", "d",
              "95% CI", "p", "n X/Y/A/B (missing)");
  for (const auto& r : results) out += result_line(r);
  return out;
}

std::string weat_json(const std::vector<probes::weat_result>& results, const weat_vectors& v, uint64_t seed) {
  sorted_json out;
  out["embeddings"] = {{"path", v.path}, {"format", v.format}, {"words", v.words}, {"dim", v.dim}};
  out["definition"] =
      "sent-bias weat.py: effect size with sample std (ddof=1); one-sided permutation p-value";
  out["seed"] = seed;
  sorted_json arr = sorted_json::array();
  for (const auto& r : results) arr.push_back(result_json(r));
  out["tests"] = arr;
  return json_text(out);
}

}  // namespace gb::viz
