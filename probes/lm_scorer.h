// probes/lm_scorer.h: the bias suites' scorer over a real model (engine runner + tokenizer).
//
//   auto s = gb::probes::session_open(path);
//   gb::probes::engine_scorer sc(s.value(), /*workers=*/2);   // needs s.run and s.tok
//   gb::probes::sentence_cache cache(sc);
//
// One by one (logprobs): a runner keeps the KV cache of the sequence it scored last and rewinds it
// (runner::truncate) to the longest common prefix with the next one, so the shared tokens of a CrowS-Pairs
// pair, of a BBQ question's answers or of a template's two words are computed once; their
// log-probabilities are reused from the previous sequence.
// Batches (logprobs_many): requests are sorted by token ids and consecutive ones are packed, up to
// pack_rows (default 512) trie rows per pass, into a prefix trie of their input tokens that one
// runner::forward_packed call runs at once: every matmul multiplies all packed rows (big GEMMs, compute
// bound, instead of one ~20-token sentence streaming all the weights), and tokens shared by neighbours
// (a CrowS-Pairs pair, a question's answers) are single rows. The passes are composed by the batch alone;
// forward_packed does not depend on its thread count, so results are identical for any number of
// workers/threads (and equal to one-by-one scoring within float rounding: rows differ in which GEMM
// blocks they land in). The log-softmax of each needed row is taken in double, rows in parallel. A request
// longer than pack_rows runs alone through the KV-cache path (chunks of 256). The passes go to `workers`
// single-threaded runners when there are at least two per worker (no per-matmul thread barriers: robust on
// a loaded machine), else to one runner with `workers` threads. Pass sizes 256/512/1024 measured alike
// (200 CrowS-Pairs pairs, 134M model: 25.8/24.5/25.2 CPU s); 512 keeps the (rows, V) logits small.
// 134M model, 2 threads: 100 CrowS-Pairs pairs in 11.8 CPU s vs 28.7 with one sentence per forward (side
// by side); full CrowS-Pairs 191.9 CPU s, 2.6-2.8x faster than PyTorch at its best batch
// (bench/bench_bias.sh). The scorer assumes it is the only user of the session's runner while it scores (a
// runner moved elsewhere in between is detected by its position and the cache is dropped).
#pragma once

#include <memory>

#include "probes/bias.h"
#include "probes/session.h"

namespace gb::probes {

class engine_scorer : public scorer {
 public:
  // workers: threads for logprobs_many's runner(s), over the same weights as the session's runner (which
  // scores the one-by-one calls with its own threads). Throws gb::failure when the session has no runner or
  // tokenizer.
  explicit engine_scorer(session& s, int workers = 1);
  ~engine_scorer() override;
  std::vector<int32_t> encode(const std::string& text) override;
  const void* encoder_id() const override;  // the session's tokenizer
  int32_t bos() const override;
  int32_t eos() const override;
  int64_t context_length() const override;
  std::vector<double> logprobs(const std::vector<int32_t>& tokens, size_t first) override;
  std::vector<double> next_logprobs(const std::vector<int32_t>& context) override;
  std::vector<std::vector<double>> logprobs_many(const std::vector<lp_request>& reqs,
                                                 const std::function<void()>& tick = {}) override;
  size_t forward_calls() const { return calls_; }
  // Prefix reuse on (default) or off (every sequence from position 0, as runner::token_logprobs; batches
  // then pack every sequence as its own rows).
  void set_prefix_reuse(bool on);
  // Batch packing: trie rows per forward_packed pass (>= 1; default 512) and runners sharing the `workers`
  // threads (0 = automatic, see above). Results do not depend on `runners`.
  void set_batching(size_t pack_rows, int runners = 0);
  // Count only (an audit's plan): nothing runs, every log-probability is 0, and the positions are counted
  // exactly as a real pass would count them (tokens_forwarded, tokens_reused, tokens_packed).
  void set_count_only(bool on);
  size_t tokens_forwarded() const;  // positions actually computed
  size_t tokens_packed() const;     // of which in packed passes (the rest: one sequence at a time)
  size_t tokens_reused() const;     // positions taken from a KV cache
  std::pair<size_t, size_t> token_counts() const override { return {tokens_forwarded(), tokens_reused()}; }

  struct worker;

 private:
  size_t pool_ready(size_t passes);  // runners for a batch of `passes` (created as needed); how many to use

  session& s_;
  size_t calls_ = 0;
  bool reuse_ = true;
  bool count_only_ = false;
  int n_workers_ = 1;
  size_t pack_rows_ = 512;
  int runners_ = 0;
  int pool_threads_ = 0;                       // threads of each runner in pool_
  std::unique_ptr<worker> main_;               // over the session's runner
  std::vector<std::unique_ptr<worker>> pool_;  // own runners for batches, created on first logprobs_many
};

}  // namespace gb::probes
