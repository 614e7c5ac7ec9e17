// probes/logit_lens.h: the logit lens: the model's final norm and unembedding applied to any residual
// vector (e.g. each layer's blk.N.resid.post), to see which tokens a layer already predicts.
// Weights are read through inspect/tensor_values.h (dequantised exactly as the engine does), so the lens
// of the last layer's residual reproduces the model's logits.
//
//   auto lens = gb::probes::logit_lens::create(model);        // result<logit_lens>
//   std::vector<float> xn(D), logits(V);
//   lens.value().normalize(resid_row, xn.data());             // final norm of one (D) row
//   lens.value().unembed(xn.data(), 1, logits.data());        // (n, D) -> (n, V)
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "formats/error.h"
#include "inspect/model.h"

namespace gb::probes {

class logit_lens {
 public:
  // Fails (errc::unsupported) when the model has no output norm or no unembedding (output / tok_embd).
  static result<logit_lens> create(const model& m);
  int64_t dim() const { return D_; }
  int64_t vocab() const { return V_; }
  // The final norm (RMS or layer norm with the model's eps) of one residual row: x (D) -> y (D).
  void normalize(const float* x, float* y) const;
  // Unembedding of n normalised rows: xn (n, D) -> logits (n, V) row-major. One sweep over the matrix.
  void unembed(const float* xn, int64_t n, float* logits) const;

  logit_lens(logit_lens&&) noexcept;
  logit_lens& operator=(logit_lens&&) noexcept;
  ~logit_lens();

 private:
  struct impl;
  explicit logit_lens(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
  int64_t D_ = 0, V_ = 0;
};

// Top-k (token, probability) of one logits row (softmax over V, computed in double), best first; ties go
// to the lower id; a non-finite logit ranks last with probability 0.
std::vector<std::pair<int32_t, double>> top_k_probs(const float* logits, int64_t V, int k);
// Rank (0 = best) and softmax probability of `token` in one logits row.
std::pair<int64_t, double> token_rank_prob(const float* logits, int64_t V, int32_t token);

}  // namespace gb::probes
