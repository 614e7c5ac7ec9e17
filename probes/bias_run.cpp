// probes/bias_run.cpp: the suites of `glassbox bias` on one session (see probes/bias_run.h).
#include "probes/bias_run.h"

#include <algorithm>

#include "formats/file_text.h"
#include "inspect/parallel.h"
#include "probes/bias_sample.h"
#include "probes/lm_scorer.h"
#include "probes/shard.h"

namespace gb::probes {

std::vector<suite_result> bias_suites_run(session& s, const std::vector<std::string>& suites,
                                          const bias_run_options& r, const bias_options& o,
                                          std::map<std::string, std::string>* digests) {
  engine_scorer scorer(s, threads_resolve(r.threads));
  scorer.set_prefix_reuse(r.prefix_reuse);
  sentence_cache cache(scorer);
  std::vector<suite_result> results;
  for (const auto& suite : suites) {
    const std::string path = !r.data.empty() ? r.data : bias_dataset_path(r.data_root, suite);
    bias_options so = o;
    if (suite != "crows-pairs") so.variant.clear();
    try {
      if (digests) (*digests)[suite] = dataset_digest(suite, path);
      if (suite != "templates" && (path.empty() || !path_exists(path))) {
        suite_result absent;
        absent.suite = suite;
        absent.error = path.empty() ? "no dataset: pass --data or --data-root" : "dataset not found: " + path;
        results.push_back(absent);
        continue;
      }
      results.push_back(suite_run_named(cache, suite, path, so));
    } catch (failure& f) {
      if (f.err().where.empty()) f.err().where = path;
      throw;
    }
  }
  return results;
}

std::string bias_part_save(const std::string& dir, const session& s, const std::string& model_path,
                           const std::string& tokenizer_path, const shard_spec& shard,
                           const std::vector<std::string>& suites, const bias_run_options& r,
                           const bias_options& o, const std::map<std::string, std::string>& digests,
                           const std::vector<suite_result>& results) {
  std::string suites_text;  // as the parts compare it
  for (const auto& n : suites) suites_text += (suites_text.empty() ? "" : ",") + n;
  return part_save(dir,
                   part_header_of(s, model_path, tokenizer_path, shard, digests,
                                  {{"suites", suites_text},
                                   {"variant", o.variant},
                                   {"limit", std::to_string(o.limit)},
                                   {"seed", std::to_string(o.seed)},
                                   {"resamples", std::to_string(o.resamples)},
                                   {"prefix_reuse", r.prefix_reuse ? "on" : "off"}}),
                   results);
}

}  // namespace gb::probes
