// probes/bias_run.h: `glassbox bias` on one session: every requested suite scored through one sentence cache
// (sentences packed into prefix tries, scored by up to `threads` runners: probes/lm_scorer.h), each from its
// dataset (one --data file, or the suite's place under a data root).
//
//   gb::probes::bias_run_options r{threads, /*prefix_reuse=*/true, data, data_root};
//   auto results = gb::probes::bias_suites_run(session, {"crows-pairs", "winobias"}, r, opts, nullptr);
#pragma once

#include <map>
#include <string>
#include <vector>

#include "probes/bias.h"
#include "probes/session.h"
#include "probes/shard.h"

namespace gb::probes {

struct bias_run_options {
  int threads = 0;  // scoring runners (0 = all cores)
  bool prefix_reuse = true;
  std::string data;       // one suite's dataset (file or folder); "" = under data_root
  std::string data_root;  // laid out like shared/data/bias
};

// One result per suite, in order. A suite whose dataset is absent is a result with `error` (templates are
// built in); a dataset that cannot be read throws gb::failure with `where` = its path. digests: when given,
// each suite's dataset_digest (what a shard part records).
std::vector<suite_result> bias_suites_run(session& s, const std::vector<std::string>& suites,
                                          const bias_run_options& r, const bias_options& o,
                                          std::map<std::string, std::string>* digests);

// --shard: this shard's results saved as a partial result in dir (part_save), with what every part must share
// (the suites, variant, limit, seed, resamples, prefix reuse, datasets' digests). Returns the file's path.
std::string bias_part_save(const std::string& dir, const session& s, const std::string& model_path,
                           const std::string& tokenizer_path, const shard_spec& shard,
                           const std::vector<std::string>& suites, const bias_run_options& r,
                           const bias_options& o, const std::map<std::string, std::string>& digests,
                           const std::vector<suite_result>& results);

}  // namespace gb::probes
