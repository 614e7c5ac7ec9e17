// tests/support/session_fixture.h: the probes tests' starting points, each step REQUIREd (with the library's
// reason when it fails): a session that runs text (a runner and a tokenizer), and what the bias-localize
// tests add to it: a suite's first pairs as token ids and, when asked for, the direct-attribution weights.
//
//   GB_DATA(path, "models/stories260K/stories260K.gguf");
//   gb::probes::session S = gb::test::session_runnable(path);
//   GB_DATA(csv, "bias/crows-pairs/crows_pairs_anonymized.csv");
//   gb::test::localize_fixture f(path, "crows-pairs", csv, 10);
//   auto r = gb::probes::localize_pairs(f.run(), f.weights(), f.pairs, options);
//   gb::test::check_dla_terms_equal(r.value().diffs[0], ref.value().diffs[0]);
#pragma once

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "probes/bias_localize.h"
#include "probes/lm_scorer.h"
#include "probes/session.h"

namespace gb::test {

inline probes::session session_runnable(const std::string& path) {
  auto s = probes::session_open_runnable(path);
  REQUIRE_MESSAGE(s, (s ? "" : s.err().to_string()));
  return std::move(s).value();
}

struct localize_fixture {
  // The first n pairs of suite (0: all) from data ("" for a built-in suite) on the model at path.
  localize_fixture(const std::string& path, const std::string& suite, const std::string& data, size_t n)
      : session(session_runnable(path)) {
    probes::engine_scorer sc(session);
    pairs = probes::localize_pairs_read(sc, suite, data, n);
  }
  engine::runner& run() { return *session.run; }
  // made on the first call (the patching tests do not need them)
  const probes::dla_weights& weights() {
    if (!dla) {
      auto w = probes::dla_weights::create(*session.m);
      REQUIRE_MESSAGE(w, (w ? "" : w.err().to_string()));
      dla.emplace(std::move(w).value());
    }
    return *dla;
  }

  probes::session session;
  std::optional<probes::dla_weights> dla;
  std::vector<probes::localize_pair> pairs;
};

// Two attributions of one pair (or sentence), term by term, bit for bit.
inline void check_dla_terms_equal(const probes::dla_terms& a, const probes::dla_terms& b) {
  CHECK(a.embed == b.embed);
  CHECK(a.constant == b.constant);
  CHECK(a.heads == b.heads);
  CHECK(a.mlp == b.mlp);
  CHECK(a.attn_bias == b.attn_bias);
  CHECK(a.target_logits == b.target_logits);
  CHECK(a.engine_target_logits == b.engine_target_logits);
  CHECK(a.log_partition == b.log_partition);
  CHECK(a.ll == b.ll);
  CHECK(a.tokens == b.tokens);
}

}  // namespace gb::test
