// probes/bias_localize_run.h: one `glassbox bias-localize` run as a library call: a suite's minimal pairs
// read and tokenized, attributed to the embedding, every head and every MLP (bias_localize.h), confirmed by
// ablation (bias_localize_ablate.h) and, when asked, activation patching of each layer and head.
//
//   auto s = gb::probes::session_open_runnable("stories260K.gguf");
//   auto w = gb::probes::dla_weights::create(*s.value().m);
//   gb::probes::localize_run_options o{.suite = "crows-pairs", .path = csv, .limit = 50};
//   gb::result<gb::probes::localize_run_result> r = gb::probes::localize_run(s.value(), w.value(), o);
//   r.value().r.ranked[0], r.value().ab.claimed, r.value().skipped
#pragma once

#include <cstddef>
#include <string>

#include "probes/bias_localize.h"
#include "probes/bias_localize_ablate.h"
#include "probes/session.h"

namespace gb::probes {

struct localize_run_options {
  std::string suite;  // crows-pairs, winobias or templates
  std::string path;   // the dataset file or folder (templates: built in, may be empty)
  size_t limit = 0;   // at most this many pairs (0 = all)
  localize_options o;
  ablate_options ablate;  // k == 0: no confirmation by ablation (its seed and resamples are o's)
  bool patch = false;     // also activation patching (pairs of equal length)
};

struct localize_run_result {
  localize_result r;
  patch_summary patch;  // when asked
  ablation_result ab;   // when ablate.k > 0
  size_t skipped = 0;   // pairs longer than the context
};

// The whole run on a session that can run text. A dataset that cannot be read is its failure, naming
// the dataset when the failure names nothing; the engine's errors as they come.
result<localize_run_result> localize_run(session& s, const dla_weights& w, const localize_run_options& o);

}  // namespace gb::probes
