// viz/report_trace_json.cpp: the --json documents of `glassbox trace` (one prompt, many prompts).
#include <cmath>

#include "viz/json_util.h"
#include "viz/report_trace.h"

namespace gb::viz {

namespace {

using ojson = nlohmann::ordered_json;

ojson trace_body(const probes::trace_result& r, const token_text& piece) {
  ojson j;
  j["tokens"] = r.tokens;
  ojson pieces = ojson::array();
  for (int32_t t : r.tokens) pieces.push_back(piece(t));
  j["pieces"] = pieces;
  j["prediction"] = {{"id", r.prediction}, {"piece", piece(r.prediction)}};
  ojson layers = ojson::array();
  for (const auto& l : r.layers) {
    ojson tn = ojson::array(), od = ojson::array();
    for (const auto& n : l.top_neurons)
      tn.push_back({{"position", n.position}, {"neuron", n.neuron}, {"value", n.value}});
    for (const auto& o : l.outliers)
      od.push_back({{"position", o.position}, {"dim", o.dim}, {"value", o.value}, {"z", o.z}});
    layers.push_back({{"layer", l.layer},
                      {"resid_pre_norm", l.resid_pre},
                      {"resid_mid_norm", l.resid_mid},
                      {"resid_post_norm", l.resid_post},
                      {"attn_out_norm", l.attn_out},
                      {"mlp_out_norm", l.mlp_out},
                      {"mlp_sparsity", l.mlp_sparsity},
                      {"top_neurons", tn},
                      {"outliers", od},
                      {"outliers_total", l.outliers_total}});
  }
  j["layers"] = layers;
  ojson heads = ojson::array();
  for (const auto& h : r.heads) {
    ojson e = {{"layer", h.layer},           {"head", h.head},
               {"entropy", h.entropy},       {"sink", h.sink},
               {"prev_token", h.prev_token}, {"diagonal", h.diagonal}};
    if (!h.pattern.empty()) e["pattern"] = h.pattern;
    heads.push_back(e);
  }
  j["heads"] = heads;
  ojson lens = ojson::array();
  for (const auto& e : r.lens) {
    ojson top = ojson::array();
    for (const auto& [t, p] : e.top) top.push_back({{"id", t}, {"piece", piece(t)}, {"p", p}});
    lens.push_back({{"layer", e.layer},
                    {"position", e.position},
                    {"top", top},
                    {"final_token", e.final_token},
                    {"final_rank", e.final_rank},
                    {"final_prob", e.final_prob}});
  }
  j["logit_lens"] = lens;
  ojson sel = ojson::array();
  for (const auto& s : r.selected)
    sel.push_back(
        {{"name", s.name}, {"shape", s.shape}, {"mean", s.mean}, {"std", s.std}, {"absmax", s.absmax}});
  j["hooks"] = sel;
  return j;
}

ojson aggregate_body(const probes::trace_aggregate& a, int top) {
  ojson j;
  j["prompts"] = a.prompts, j["tokens"] = a.tokens;
  ojson layers = ojson::array();
  for (int64_t l = 0; l < a.L; ++l) {
    const size_t i = static_cast<size_t>(l);
    ojson tn = ojson::array();
    for (int64_t f : a.top_neurons(l, top)) {
      const size_t n = static_cast<size_t>(l * a.F + f);
      tn.push_back({{"neuron", f},
                    {"absmax", a.neuron_absmax[n]},
                    {"mean", a.neuron[n].mean},
                    {"std", std::sqrt(a.neuron[n].variance())},
                    {"active_fraction", a.active_fraction(n)}});
    }
    layers.push_back({{"layer", l},
                      {"resid_post_norm_mean", a.resid_post[i].mean},
                      {"attn_out_norm_mean", a.attn_out[i].mean},
                      {"mlp_out_norm_mean", a.mlp_out[i].mean},
                      {"mlp_sparsity_mean", a.sparsity[i].mean},
                      {"top_neurons", tn}});
  }
  j["layers"] = layers;
  ojson heads = ojson::array();
  for (int64_t l = 0; l < a.L; ++l)
    for (int64_t h = 0; h < a.H; ++h) {
      const size_t i = static_cast<size_t>(l * a.H + h);
      heads.push_back({{"layer", l},
                       {"head", h},
                       {"entropy_mean", a.head_entropy[i].mean},
                       {"entropy_std", std::sqrt(a.head_entropy[i].variance())},
                       {"sink_mean", a.head_sink[i].mean},
                       {"prev_token_mean", a.head_prev[i].mean},
                       {"diagonal_mean", a.head_diag[i].mean}});
    }
  j["heads"] = heads;
  return j;
}

}  // namespace

std::string trace_json(const probes::trace_result& r, const token_text& piece, const std::string& model,
                       const std::string& export_path) {
  ojson j;
  j["model"] = model;
  j["trace"] = trace_body(r, piece);
  if (!export_path.empty()) j["export"] = {{"path", export_path}, {"tensors", r.exported}};
  return json_text(j);
}

std::string aggregate_json(const probes::trace_aggregate& a, int top_neurons, const std::string& model,
                           int64_t truncated_prompts) {
  ojson j;
  j["model"] = model;
  j["aggregate"] = aggregate_body(a, top_neurons);
  j["truncated_prompts"] = truncated_prompts;
  return json_text(j);
}

}  // namespace gb::viz
