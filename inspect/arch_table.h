// inspect/arch_table.h: the architecture table. Every canonical tensor role mapped to every known
// spelling (GGUF, Hugging Face, Meta, GPT-2, GPT-J, GPT-NeoX, Falcon, BLOOM, MPT, Phi, BERT ...), the
// architecture names each family goes by, and each family's defaults (norm, rope, activation ...).
// Tables beat branches: adding an architecture is adding rows here (see CONTRIBUTING.md).
//
//   std::optional<gb::name_match> m = gb::arch_match_name("model.layers.3.self_attn.q_proj.weight");
//   m->role == gb::role_kind::attn_q; m->layer == 3; m->style == gb::name_style::hf;
//   gb::arch_family f = gb::arch_family_from_name("GPTNeoXForCausalLM");   // arch_family::gptneox
//   const gb::family_defaults& d = gb::arch_defaults(f);                   // d.norm == norm_kind::layer
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "inspect/model.h"

namespace gb {

// Which naming world a spelling belongs to; decides layout flags (HF llama q/k are rotate-half permuted,
// GPT-2 Conv1D matrices are stored [in, out]).
enum class name_style : uint8_t { gguf, hf, meta, gpt2, other };

struct name_match {
  role_kind role = role_kind::other;
  int layer = -1;
  bool bias = false;
  std::string suffix;  // ".weight", ".bias", or another trailing part kept in the canonical name
  name_style style = name_style::other;
  bool conv1d = false;    // GPT-2 style Conv1D: the weight is stored [in, out]
  std::string canonical;  // canonical_name(...) with the suffix
};

// Maps one stored tensor name to its role, or nullopt when no spelling matches. Leading wrappers
// (`model.`, `transformer.`, `gpt_neox.`, `bert.`, `module.` ...) are stripped first; `.weight`/`.bias`
// (and LayerNorm `.gamma`/`.beta`) are the suffixes.
std::optional<name_match> arch_match_name(std::string_view name);

// "llama", "mistral", "LlamaForCausalLM", "gpt_neox", "RefinedWebModel", "phi-msft" ... -> family;
// unknown -> arch_family::unknown.
arch_family arch_family_from_name(std::string_view arch);

struct family_defaults {
  arch_family family;
  norm_kind norm;
  rope_kind rope;  // for the family's own (GGUF / original) layout
  act_kind act;
  pos_kind pos;
  bool gated_mlp;
  bool parallel_block;
  bool tied_embeddings;  // the family's usual choice when nothing says otherwise
  bool embd_norm;
  bool causal;
  double rotary_fraction;  // share of head_dim rotated when the files do not say (GPT-NeoX 0.25, Phi 0.5)
  double norm_eps;
  const char* gguf_arch;  // llama.cpp's general.architecture for the family
};
const family_defaults& arch_defaults(arch_family f);

// "silu", "swish", "gelu", "gelu_new", "gelu_pytorch_tanh", "relu" ... -> act_kind
std::optional<act_kind> act_kind_from_name(std::string_view s);

}  // namespace gb
