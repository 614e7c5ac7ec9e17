// viz/report_run.cpp: `glassbox run` as text and JSON (see viz/report_run.h).
#include "viz/report_run.h"

#include "probes/logit_lens.h"
#include "viz/json_util.h"
#include "viz/text.h"

namespace gb::viz {

namespace {

using ojson = nlohmann::ordered_json;

ojson prompt_json(const run_prompt& p) {
  ojson j;
  j["model"] = p.model;
  j["prompt_ids"] = p.ids;
  return j;
}

}  // namespace

std::string run_perplexity(const probes::perplexity_result& p, const std::string& model,
                           const std::string& file, bool as_json) {
  if (!as_json)
    return strf("perplexity %.4f over %zu tokens (mean NLL %.6f nats)\n", p.perplexity, p.tokens, p.mean_nll);
  ojson j;
  j["model"] = model;
  j["file"] = file, j["tokens_scored"] = p.tokens, j["mean_nll"] = p.mean_nll, j["perplexity"] = p.perplexity;
  return json_text(j);
}

std::string run_logprobs(const run_prompt& p, const std::vector<double>& logprobs, bool as_json) {
  std::string out;
  ojson arr = ojson::array();
  double sum = 0;
  for (size_t i = 1; i < p.ids.size(); ++i) {
    const double v = logprobs[i - 1];
    sum += v;
    arr.push_back({{"id", p.ids[i]}, {"piece", p.piece(p.ids[i])}, {"logprob", v}});
    out += strf("%6d  %-20s %10.5f\n", p.ids[i], p.piece(p.ids[i]).c_str(), v);
  }
  if (!as_json) return out + strf("sum %.5f over %zu tokens\n", sum, p.ids.size() - 1);
  ojson j = prompt_json(p);
  j["logprobs"] = arr, j["sum_logprob"] = sum;
  return json_text(j);
}

std::string run_top_k(const run_prompt& p, const std::vector<float>& logits, int k, bool as_json) {
  std::string out;
  ojson arr = ojson::array();
  for (const auto& [id, prob] : probes::top_k_probs(logits.data(), static_cast<int64_t>(logits.size()), k)) {
    arr.push_back(
        {{"id", id}, {"piece", p.piece(id)}, {"prob", prob}, {"logit", logits[static_cast<size_t>(id)]}});
    out += strf("%6d  %-20s %.6f\n", id, p.piece(id).c_str(), prob);
  }
  if (!as_json) return out;
  ojson j = prompt_json(p);
  j["top_k"] = arr;
  return json_text(j);
}

std::string run_continuation(const run_prompt& p, const std::vector<int32_t>& generated,
                             const std::string& text, bool has_tokenizer, bool as_json) {
  if (as_json) {
    ojson j = prompt_json(p);
    j["generated_ids"] = generated;
    if (has_tokenizer) j["text"] = text;
    return json_text(j);
  }
  if (has_tokenizer) return text + "\n";
  std::string out;
  for (size_t i = 0; i < generated.size(); ++i) out += strf("%s%d", i ? " " : "", generated[i]);
  return out + "\n";
}

}  // namespace gb::viz
