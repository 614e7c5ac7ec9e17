// probes/trace.h: one instrumented forward pass summarised for interpretability: residual-stream norms,
// attention/MLP output norms, MLP sparsity and top neurons, outlier dimensions, per-head attention
// statistics (entropy, sink, previous-token, diagonal) and patterns, the logit lens, and streaming export
// of selected hook tensors. trace_aggregate accumulates per-neuron / per-head statistics over many
// prompts with memory independent of the prompt count.
//
//   auto names = gb::probes::hook_select(model, {"blk.*.resid.post"});  // error lists available names
//   gb::probes::trace_options o;  o.export_hooks = names.value();
//   auto lens = gb::probes::logit_lens::create(model);
//   auto r = gb::probes::trace_run(runner, ids, o, &lens.value(), writer, nullptr);
//   r.value().lens  // per (layer, position): top-k tokens, rank/prob of the final prediction
//
// Definitions (also in the CLI help):
//   norm            L2 norm of a (D) row (per position)
//   mlp sparsity    fraction of blk.N.mlp.pre values (after the activation, gate * up for gated MLPs)
//                   with |x| < sparsity_eps
//   outlier dim     a resid.post coordinate with |x - mean| > outlier_sigma * std over that row's D values
//   head entropy    mean over queries of -sum p log p (nats) of the attention row
//   sink            mean over queries of the attention to key 0 (the first token)
//   previous-token  mean over queries t >= 1 of p[t][t-1];  diagonal: mean over queries of p[t][t]
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "formats/error.h"
#include "inspect/model.h"
#include "probes/engine/engine.h"
#include "probes/engine/tokenizer.h"
#include "probes/logit_lens.h"
#include "probes/npy.h"

namespace gb::probes {

struct trace_options {
  std::vector<std::string> export_hooks;  // exact hook names: summarised, and handed to the writer if any
  int top_neurons = 5;                    // per layer and position
  int lens_top_k = 5;
  int64_t lens_positions = 0;        // lens at the last N positions; 0 = all when small (see .cpp)
  int64_t keep_patterns_max_t = 64;  // keep attention patterns in the result when T <= this
  double sparsity_eps = 1e-2;
  double outlier_sigma = 6.0;
  size_t max_outliers_per_layer = 32;  // listed (all are counted)
};

struct neuron_hit {
  int64_t position = 0, neuron = 0;
  float value = 0;
};
struct outlier_dim {
  int64_t position = 0, dim = 0;
  float value = 0;
  double z = 0;
};
struct layer_trace {
  int layer = 0;
  std::vector<double> resid_pre, resid_mid, resid_post, attn_out, mlp_out;  // (T) L2 norms
  std::vector<double> mlp_sparsity;                                         // (T)
  std::vector<neuron_hit> top_neurons;  // (T * top_neurons), by |value|, per position best first
  std::vector<outlier_dim> outliers;    // first max_outliers_per_layer by |z|
  int64_t outliers_total = 0;
};
struct head_trace {
  int layer = 0, head = 0;
  double entropy = 0, sink = 0, prev_token = 0, diagonal = 0;
  std::vector<float> pattern;  // (T, T) when kept, else empty
};
struct lens_row {
  int layer = 0;
  int64_t position = 0;
  std::vector<std::pair<int32_t, double>> top;  // (token, probability), best first
  int32_t final_token = -1;                     // the model's prediction at this position
  int64_t final_rank = -1;                      // its rank under this layer's lens (0 = top)
  double final_prob = 0;
};
struct hook_summary {  // one selected hook tensor (export_hooks), whether exported or not
  std::string name;
  std::vector<int64_t> shape;
  double mean = 0, std = 0, absmax = 0;  // over finite values; masked -inf scores skipped
};
struct trace_result {
  std::vector<int32_t> tokens;
  int64_t n_head = 0;
  std::vector<layer_trace> layers;
  std::vector<head_trace> heads;       // layer-major (L * H)
  std::vector<lens_row> lens;          // layer-major, positions ascending
  int32_t prediction = -1;             // argmax of the model's logits at the last position
  std::vector<std::string> exported;   // names handed to the writer, in order
  std::vector<hook_summary> selected;  // one per export_hooks name that fired
};

// Running mean / variance (Welford) and max of a scalar stream.
struct running_stat {
  int64_t n = 0;
  double mean = 0, m2 = 0, max = 0;
  void push(double x);
  double variance() const { return n > 1 ? m2 / static_cast<double>(n - 1) : 0.0; }
};

// Statistics over many prompts; memory O(L * (F + H)), independent of the number of prompts.
struct trace_aggregate {
  trace_aggregate(const model& m, double sparsity_eps);
  int64_t L = 0, F = 0, H = 0, prompts = 0, tokens = 0;
  double eps = 1e-2;
  std::vector<running_stat> neuron;    // (L * F) mlp.pre value over all tokens
  std::vector<double> neuron_absmax;   // (L * F)
  std::vector<int64_t> neuron_active;  // (L * F) tokens with |x| >= eps
  std::vector<running_stat> head_entropy, head_sink, head_prev, head_diag;  // (L * H) over prompts
  std::vector<running_stat> resid_post, attn_out, mlp_out, sparsity;        // (L) over tokens
  void add_neurons(int layer, const float* t, int64_t T);                   // (T, F)
  void add(const trace_result& r);  // per-prompt head and layer statistics
  // The k neurons of `layer` with the largest max |x| (ties: the lower index first), largest first.
  std::vector<int64_t> top_neurons(int64_t layer, int64_t k) const;
  double active_fraction(size_t n) const;  // neuron n (l * F + f): fraction of tokens with |x| >= eps
};

// Resolves hook names or glob patterns ('*', '?') against engine::hook_names. A pattern matching nothing
// fails (errc::not_found) with a message listing the available names.
result<std::vector<std::string>> hook_select(const model& m, const std::vector<std::string>& patterns);
bool glob_match(std::string_view pattern, std::string_view name);

// Runs ids from position 0 (resets the runner). lens, writer and agg may be null.
result<trace_result> trace_run(engine::runner& run, const std::vector<int32_t>& ids, const trace_options& opt,
                               const logit_lens* lens, activation_writer* writer, trace_aggregate* agg);
// trace_run with opt.export_hooks written to export_path (FILE.safetensors or a folder of .npy files; "" =
// nothing written), the file finished before it returns.
result<trace_result> trace_run_export(engine::runner& run, const std::vector<int32_t>& ids,
                                      const trace_options& opt, const logit_lens* lens,
                                      const std::string& export_path);

// How trace turns text into ids: BOS first unless !add_bos, BOS alone for an empty text (when the vocabulary
// has one), cut to max_tokens (0 = the runner's context length, and never past it).
struct trace_input {
  bool add_bos = true;
  int64_t max_tokens = 0;
  int64_t truncated = 0;  // prompts cut so far
  std::vector<int32_t> encode(const engine::tokenizer& tok, const std::string& text, int64_t context_length);
};

// Many prompts, one per line of a file (CRLF accepted, blank lines skipped, the first max_prompts; 0 = all),
// each traced into agg; nothing per prompt is kept. errc::not_found when the file cannot be read,
// errc::limit when it is over formats/datasets.h's kDatasetMaxBytes, errc::bad_value when it holds no prompt.
result<bool> trace_prompts_file(engine::runner& run, const engine::tokenizer& tok, const std::string& path,
                                const trace_options& opt, trace_input& in, int64_t max_prompts,
                                trace_aggregate& agg);

}  // namespace gb::probes
