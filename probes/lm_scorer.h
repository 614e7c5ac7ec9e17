// probes/lm_scorer.h: the bias suites' scorer over a real model (engine runner + tokenizer).
//
//   auto s = gb::probes::session_open(path);
//   gb::probes::engine_scorer sc(s.value(), /*workers=*/2);   // needs s.run and s.tok
//   gb::probes::sentence_cache cache(sc);
//
// Shared prefixes: a runner keeps the KV cache of the sequence it scored last and rewinds it
// (runner::truncate) to the longest common prefix with the next one, so the shared tokens of a CrowS-Pairs
// pair, of a BBQ question's answers or of a template's two words are computed once; their
// log-probabilities are reused from the previous sequence.
// Batches (logprobs_many): requests are sorted by token ids (neighbours share the longest prefixes) and
// cut into blocks (8 to 64 requests, sized by the batch alone); `workers` single-threaded runners take
// blocks in turn, each block from an empty cache. Results agree across worker counts and runs within float
// rounding (up to ~6e-5 nats on a sentence observed), not bit for bit.
// The scorer assumes it is the only user of the session's runner while it scores (a runner moved elsewhere
// in between is detected by its position and the cache is dropped).
#pragma once

#include <memory>

#include "probes/bias.h"
#include "probes/session.h"

namespace gb::probes {

class engine_scorer : public scorer {
 public:
  // workers: single-threaded runners for logprobs_many, over the same weights as the session's runner
  // (which scores the one-by-one calls with its own threads). Throws gb::failure when the session has no runner or
  // tokenizer.
  explicit engine_scorer(session& s, int workers = 1);
  ~engine_scorer() override;
  std::vector<int32_t> encode(const std::string& text) override;
  int32_t bos() const override;
  int32_t eos() const override;
  int64_t context_length() const override;
  std::vector<double> logprobs(const std::vector<int32_t>& tokens, size_t first) override;
  std::vector<double> next_logprobs(const std::vector<int32_t>& context) override;
  std::vector<std::vector<double>> logprobs_many(const std::vector<lp_request>& reqs,
                                                 const std::function<void()>& tick = {}) override;
  size_t forward_calls() const { return calls_; }
  // Prefix reuse on (default) or off (every sequence from position 0, as runner::token_logprobs).
  void set_prefix_reuse(bool on);
  size_t tokens_forwarded() const;  // positions actually computed
  size_t tokens_reused() const;     // positions taken from a KV cache

  struct worker;

 private:
  session& s_;
  size_t calls_ = 0;
  bool reuse_ = true;
  int n_workers_ = 1;
  std::unique_ptr<worker> main_;                  // over the session's runner
  std::vector<std::unique_ptr<worker>> pool_;     // own runners, created on first logprobs_many
};

}  // namespace gb::probes
