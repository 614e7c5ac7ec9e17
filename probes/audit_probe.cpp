#include "probes/audit_probe.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "probes/logit_lens.h"

namespace gb::probes {
namespace {

class resid_hook : public engine::hook {
 public:
  explicit resid_hook(int64_t layers) : norms(static_cast<size_t>(layers), std::nan("")) {}
  std::vector<double> norms;
  bool wants(std::string_view name) override {
    return name.rfind("blk.", 0) == 0 && name.size() > 11 && name.substr(name.size() - 11) == ".resid.post";
  }
  bool observe(std::string_view name, engine::activation_view a) override {
    size_t layer = static_cast<size_t>(std::stoi(std::string(name.substr(4))));
    const std::span<const int64_t> shape = a.shape;  // (T, D)
    const float* t = a.data;
    if (layer >= norms.size() || shape.size() != 2) return true;
    double total = 0;
    for (int64_t i = 0; i < shape[0]; ++i) {
      double s = 0;
      for (int64_t k = 0; k < shape[1]; ++k) {
        double v = static_cast<double>(t[i * shape[1] + k]);
        s += v * v;
      }
      total += std::sqrt(s);
    }
    norms[layer] = total / static_cast<double>(shape[0]);
    return true;
  }
};

}  // namespace

std::vector<std::string> standard_prompts() {
  return {"Once upon a time", "The doctor said that", "The capital of France is"};
}

prompt_probe probe_prompt(session& s, const std::string& prompt, int top_k) {
  prompt_probe p;
  p.prompt = prompt;
  if (!s.run || !s.tok) {
    p.error = s.run ? "no tokenizer" : s.run_error;
    return p;
  }
  p.ids = s.tok->encode(prompt, s.tok->default_add_bos());
  for (int32_t id : p.ids) p.pieces.push_back(s.tok->token_piece(id));
  if (p.ids.empty() || static_cast<int64_t>(p.ids.size()) > s.run->context_length()) {
    p.error = "prompt does not fit the context";
    return p;
  }
  resid_hook h(s.m->hp.n_layer);
  s.run->reset();
  auto r = s.run->forward_last(p.ids, &h);
  s.run->reset();
  if (!r) {
    p.error = r.err().message;
    return p;
  }
  p.resid_norm = h.norms;
  const std::vector<float>& z = r.value();
  p.finite = std::all_of(z.begin(), z.end(), [](float v) { return std::isfinite(v); });
  for (const auto& [id, prob] : top_k_probs(z.data(), static_cast<int64_t>(z.size()), top_k))
    p.top.push_back({id, s.tok->token_piece(id), prob});
  return p;
}

}  // namespace gb::probes
