#include "probes/lm_scorer.h"

#include <cmath>

namespace gb::probes {

engine_scorer::engine_scorer(session& s) : s_(s) {
  if (!s_.run) fail(errc::unsupported, 0, "the model cannot be run: " + s_.run_error);
  if (!s_.tok) fail(errc::unsupported, 0, "the model has no usable tokenizer" + (s_.run_error.empty() ? std::string() : ": " + s_.run_error));
}

std::vector<int32_t> engine_scorer::encode(const std::string& text) { return s_.tok->encode(text, false); }
int32_t engine_scorer::bos() const { return s_.tok->bos_id(); }
int32_t engine_scorer::eos() const { return s_.tok->eos_id(); }
int64_t engine_scorer::context_length() const { return s_.run->context_length(); }

std::vector<double> engine_scorer::logprobs(const std::vector<int32_t>& tokens, size_t first) {
  ++calls_;
  auto r = s_.run->token_logprobs(tokens, first);
  if (!r) throw failure(r.err());
  return std::move(r).value();
}

std::vector<double> engine_scorer::next_logprobs(const std::vector<int32_t>& context) {
  ++calls_;
  s_.run->reset();
  auto r = s_.run->forward_last(context);
  s_.run->reset();
  if (!r) throw failure(r.err());
  const std::vector<float>& z = r.value();
  double mx = -INFINITY;
  for (float v : z) mx = std::max(mx, static_cast<double>(v));
  double sum = 0;
  for (float v : z) sum += std::exp(static_cast<double>(v) - mx);
  const double lse = mx + std::log(sum);
  std::vector<double> out(z.size());
  for (size_t i = 0; i < z.size(); ++i) out[i] = static_cast<double>(z[i]) - lse;
  return out;
}

}  // namespace gb::probes
