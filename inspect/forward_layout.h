// inspect/forward_layout.h: how a model's files lay out what the forward pass reads, decided once from the
// model (its format and family) so that the engine never asks which file format it runs: the row order of
// a fused qkv matrix, and whether RMSNorm weights are stored as w and applied as (1 + w).
//
//   gb::forward_layout f = gb::forward_layout_of(model);
//   if (f.qkv == gb::qkv_layout::grouped) ...   // HF Falcon: [Hk][H/Hk q, k, v][head_dim]
//   if (f.norm_plus_one) ...                    // Gemma's HF weights
#pragma once

#include <cstdint>

#include "inspect/model.h"

namespace gb {

enum class qkv_layout : uint8_t {
  split,     // [q | k | v] blocks (GGUF, and the canonical layout)
  per_head,  // [H][q, k, v][head_dim] (HF GPT-NeoX, BLOOM: role_entry::qkv_per_head)
  grouped,   // [Hk][H/Hk q, k, v][head_dim] (HF Falcon's new decoder; with one kv head it equals split)
};

struct forward_layout {
  qkv_layout qkv = qkv_layout::split;
  bool norm_plus_one = false;  // Gemma: llama.cpp's converter stores 1 + w in GGUF, HF stores w
};

forward_layout forward_layout_of(const model& m);

}  // namespace gb
