// probes/bias_diff_run.h: one `glassbox bias-diff` run as a library call: a base and a derived model scored
// on the same items of a suite (each sentence once per model, through a sentence_cache), their paired
// differences (bias_diff.h), the dataset's digest and whether the two tokenizers split the texts alike.
//
//   auto base = gb::probes::session_open_runnable("base.gguf"), derived = ...("derived.gguf");
//   gb::probes::bias_diff_models both(base.value(), derived.value(), /*threads=*/0);
//   gb::result<gb::probes::suite_change> c = both.suite("crows-pairs", csv, bias_opts, diff_opts);
#pragma once

#include <string>

#include "probes/bias.h"
#include "probes/bias_diff.h"
#include "probes/lm_scorer.h"
#include "probes/session.h"

namespace gb::probes {

class bias_diff_models {
 public:
  // Both sessions must run text and outlive this; threads: scoring workers per model (0 = all cores).
  bias_diff_models(session& base, session& derived, int threads);
  // One suite on both models. A dataset that cannot be read is its failure, naming `path` when the failure
  // names nothing.
  result<suite_change> suite(const std::string& suite, const std::string& path, const bias_options& o,
                             const diff_options& d);

 private:
  engine_scorer base_, derived_;
  sentence_cache base_cache_, derived_cache_;
};

}  // namespace gb::probes
