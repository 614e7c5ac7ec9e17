// probes/bias_diff_run.cpp: one bias-diff run on two models (probes/bias_diff_run.h).
#include "probes/bias_diff_run.h"

#include <algorithm>
#include <map>

#include "inspect/parallel.h"
#include "probes/bias_sample.h"

namespace gb::probes {

bias_diff_models::bias_diff_models(session& base, session& derived, int threads)
    : base_(base, threads_resolve(threads)),
      derived_(derived, threads_resolve(threads)),
      base_cache_(base_),
      derived_cache_(derived_) {}

result<suite_change> bias_diff_models::suite(const std::string& suite, const std::string& path,
                                             const bias_options& o, const diff_options& d) {
  try {
    std::map<std::string, std::string> texts;
    suite_result rb = suite_run_named(base_cache_, suite, path, o, &texts);
    suite_result rd = suite_run_named(derived_cache_, suite, path, o);
    suite_change c = bias_diff(rb, rd, d, texts);
    c.dataset_digest = bias_dataset_digest(suite, path);
    c.tokenizers_differ = !bias_tokenizers_agree(base_, derived_, texts);
    return c;
  } catch (failure& f) {
    error e = f.err();
    if (e.where.empty()) e.where = path;
    return e;
  }
}

}  // namespace gb::probes
