// probes/lm_scorer.h: the bias suites' scorer over a real model (engine runner + tokenizer).
//
//   auto s = gb::probes::session_open(path);
//   gb::probes::engine_scorer sc(s.value());     // needs s.run and s.tok
//   gb::probes::sentence_cache cache(sc);
#pragma once

#include "probes/bias.h"
#include "probes/session.h"

namespace gb::probes {

class engine_scorer : public scorer {
 public:
  explicit engine_scorer(session& s);  // throws gb::failure when the session has no runner or tokenizer
  std::vector<int32_t> encode(const std::string& text) override;
  int32_t bos() const override;
  int32_t eos() const override;
  int64_t context_length() const override;
  std::vector<double> logprobs(const std::vector<int32_t>& tokens, size_t first) override;
  std::vector<double> next_logprobs(const std::vector<int32_t>& context) override;
  size_t forward_calls() const { return calls_; }

 private:
  session& s_;
  size_t calls_ = 0;
};

}  // namespace gb::probes
