#include "probes/audit_probe.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace gb::probes {
namespace {

class resid_hook : public engine::hook {
 public:
  explicit resid_hook(int64_t layers) : norms(static_cast<size_t>(layers), std::nan("")) {}
  std::vector<double> norms;
  bool wants(std::string_view name) override {
    return name.rfind("blk.", 0) == 0 && name.size() > 11 && name.substr(name.size() - 11) == ".resid.post";
  }
  bool observe(std::string_view name, const float* t, const std::vector<int64_t>& shape) override {
    size_t layer = static_cast<size_t>(std::stoi(std::string(name.substr(4))));
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
  double mx = -INFINITY;
  for (float v : z) {
    if (!std::isfinite(v))
      p.finite = false;
    else
      mx = std::max(mx, static_cast<double>(v));
  }
  double sum = 0;
  for (float v : z)
    if (std::isfinite(v)) sum += std::exp(static_cast<double>(v) - mx);
  std::vector<int32_t> idx(z.size());
  std::iota(idx.begin(), idx.end(), 0);
  auto key = [&](int32_t i) {
    return std::isfinite(z[static_cast<size_t>(i)]) ? z[static_cast<size_t>(i)] : -INFINITY;
  };
  size_t k = std::min<size_t>(static_cast<size_t>(top_k), idx.size());
  std::partial_sort(idx.begin(), idx.begin() + static_cast<long>(k), idx.end(),
                    [&](int32_t a, int32_t b) { return key(a) > key(b) || (key(a) == key(b) && a < b); });
  for (size_t i = 0; i < k; ++i) {
    double zi = static_cast<double>(key(idx[i]));
    p.top.push_back({idx[i], s.tok->token_piece(idx[i]), std::isfinite(zi) ? std::exp(zi - mx) / sum : 0.0});
  }
  return p;
}

}  // namespace gb::probes
