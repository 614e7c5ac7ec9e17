// inspect/meta_export.h: writes a LLaMA-family model in Meta's original release layout: params.json,
// consolidated.NN.pth (torch.save zips with Meta's tensor names, q/k rows interleaved as in the canonical
// layout) cut into model-parallel shards by Meta's split rule (formats/meta_layout.h), and the source's
// tokenizer.model / tokenizer.json copied beside them. Tests build Meta folders and 2- or 8-way splits
// from a synthetic model with it; `glassbox export-meta` exposes it.
// params.json states the FFN width the way Meta does (multiple_of, and ffn_dim_multiplier when the width
// needs it), so reading it back exercises Meta's rule.
//
//   gb::meta_export_options o;
//   o.dir = "llama-meta"; o.shards = 8;
//   gb::result<gb::meta_export_report> r = gb::meta_export(model, o);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "inspect/model.h"

namespace gb {

struct meta_export_options {
  std::string dir;  // created when absent
  int shards = 1;   // model-parallel degree: every split dimension must divide by it
  bool vocab_from_tokenizer =
      false;  // params.json vocab_size -1 (LLaMA 1): readers take it from the tokenizer
};

struct meta_export_report {
  std::vector<std::string> files;  // written, in order
  uint64_t bytes = 0;              // tensor bytes written over all shards
};

// Fails (unsupported) for a family other than LLaMA, biases or extra roles Meta's layout has no name for,
// and dtypes other than f32/f16/bf16; (bad_value) when a split dimension does not divide by `shards`.
result<meta_export_report> meta_export(const model& m, const meta_export_options& opt);

// The (multiple_of, ffn_dim_multiplier) params.json needs so that Meta's rule gives n_ff for n_embd;
// ffn_dim_multiplier 0 when the rule needs none.
std::pair<int64_t, double> meta_ffn_params(int64_t n_embd, int64_t n_ff);

}  // namespace gb
