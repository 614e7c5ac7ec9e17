// inspect/model.h: the model, i.e. an archive understood: architecture, hyperparameters, and every
// tensor mapped to a canonical role. Immutable and shareable; the run state lives in probes/engine.
//
// Canonical tensor names are the probe API and appear in hashes, graphs and reports:
//   tok_embd.weight  pos_embd.weight  embd_norm.weight  output_norm.weight  output.weight
//   blk.N.attn_norm.weight  blk.N.attn.q.weight  blk.N.attn.k.bias  blk.N.attn.qkv.weight blk.N.attn.o.weight
//   blk.N.ffn_norm.weight   blk.N.mlp.gate.weight  blk.N.mlp.up.weight  blk.N.mlp.down.weight
// Matrices are [out, in] row-major (PyTorch Linear convention); a tensor stored [in, out] (GPT-2 Conv1D)
// has role_entry::transposed set. q/k rows stored in Hugging Face's rotate-half order have
// role_entry::hf_permuted set; the canonical layout is the interleaved (Meta / GGUF) one.
//
//   auto ar = std::make_shared<gb::archive>(std::move(gb::archive_open(path).value()));
//   gb::result<gb::model> m = gb::model_build(ar);
//   m.value().hp.n_layer; m.value().tensor(gb::role_kind::attn_q, 3);
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "formats/archive.h"

namespace gb {

enum class arch_family : uint8_t {
  llama,
  gpt2,
  gptj,
  gptneox,
  falcon,
  bloom,
  mpt,
  phi,
  qwen2,
  gemma,
  bert,
  unknown
};
const char* arch_family_name(arch_family f);

enum class norm_kind : uint8_t { rms, layer };
enum class rope_kind : uint8_t { none, interleaved, neox };  // neox = rotate-half (GPT-NeoX, HF llama layout)
enum class act_kind : uint8_t { silu, gelu, gelu_tanh, relu };
enum class pos_kind : uint8_t { rope, learned, alibi, none };

struct hparams {
  int64_t n_vocab = 0, n_ctx = 0, n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, n_ff = 0;
  int64_t head_dim = 0;  // n_embd / n_head unless the config says otherwise
  int64_t n_rot = 0;     // rotary dimensions per head (partial rotary: GPT-J, NeoX, Phi)
  double rope_theta = 10000.0;
  double norm_eps = 1e-5;
  norm_kind norm = norm_kind::rms;
  rope_kind rope = rope_kind::interleaved;
  act_kind act = act_kind::silu;
  pos_kind pos = pos_kind::rope;
  bool gated_mlp = true;           // SwiGLU-style gate * up
  bool parallel_block = false;     // attention and MLP read the same input (GPT-J, NeoX, Falcon)
  bool tied_embeddings = false;    // output uses tok_embd
  bool embd_norm = false;          // layer norm after the embedding (BLOOM)
  bool causal = true;              // decoder (false for BERT encoders)
  std::set<std::string> inferred;  // field names inferred from tensor shapes, not read from metadata
  // field name -> where its value came from: the metadata key that stated it ("params.n_heads" from
  // params.json, "config.num_attention_heads" from config.json, "hparams.n_head" from hparams.yaml,
  // "checkpoint.config.n_head" from a config saved in a checkpoint, "llama.block_count" from GGUF), or a
  // rule ("tensor shapes", "tokenizer", "Meta FFN rule ...", "n_embd / n_head", "= n_head")
  std::map<std::string, std::string> sources;
};

enum class role_kind : uint8_t {
  tok_embd,
  pos_embd,
  tok_type_embd,
  embd_norm,
  attn_norm,
  attn_norm_2,
  attn_q,
  attn_k,
  attn_v,
  attn_qkv,
  attn_o,
  attn_q_norm,
  attn_k_norm,
  ffn_norm,
  mlp_gate,
  mlp_up,
  mlp_down,
  post_attn_norm,
  post_ffn_norm,
  attn_out_norm,
  layer_out_norm,
  output_norm,
  output,
  rope_freqs,
  other,
  buffer  // a non-parameter buffer saved with the weights (causal mask, rotary inv_freq, position ids)
};
const char* role_name(role_kind r);   // "attn.q", "mlp.down", "tok_embd" ...
const char* role_group(role_kind r);  // "embedding", "attention", "mlp", "norm", "output", "other"
// True for the roles that hold learned weights (not rope_freqs, buffer): what parameter counts add up.
bool role_is_parameter(role_kind r);
// "blk.3.attn.q.weight", "tok_embd.weight", "blk.0.mlp.up.bias"
std::string canonical_name(role_kind r, int layer, bool bias = false);
// The token embedding's weight under glassbox's name or GGUF's ("tok_embd.weight", "token_embd.weight").
bool is_token_embedding(const std::string& name);

const char* norm_kind_name(norm_kind k);  // "rms", "layer"
const char* rope_kind_name(rope_kind k);  // "none", "interleaved", "neox"
const char* act_kind_name(act_kind k);    // "silu", "gelu", "gelu_tanh", "relu"
const char* pos_kind_name(pos_kind k);    // "rope", "learned", "alibi", "none"

struct role_entry {
  std::string canonical;  // "blk.3.attn.q.weight"
  role_kind role = role_kind::other;
  int layer = -1;             // -1 for global tensors
  bool bias = false;          // .bias rather than .weight
  size_t tensor = 0;          // index into archive::tensors
  bool transposed = false;    // stored [in, out]
  bool hf_permuted = false;   // q/k rows in HF rotate-half order
  bool qkv_per_head = false;  // fused qkv rows grouped per head, [H, 3, head_dim] (HF GPT-NeoX, BLOOM),
                              // rather than the canonical [q | k | v] blocks of GGUF
};

struct model {
  std::shared_ptr<const archive> source;
  std::string architecture;  // as the files name it: "llama", "gpt2", "LlamaForCausalLM" -> "llama"
  arch_family family = arch_family::unknown;
  hparams hp;
  std::vector<role_entry> roles;  // one per recognised tensor, in archive order
  std::vector<size_t> unmapped;   // archive tensor indices with no role
  std::vector<finding> findings;

  const role_entry* find(std::string_view canonical) const;
  const tensor_view* tensor(std::string_view canonical) const;
  const tensor_view* tensor(role_kind r, int layer = -1, bool bias = false) const;
  const role_entry* entry(role_kind r, int layer = -1, bool bias = false) const;
};

// Maps names to roles through the architecture table and reads hyperparameters from metadata/config,
// inferring from shapes what is absent (recorded in hp.inferred). Never fails on an unknown architecture:
// family = unknown and a finding; fails only when the archive is unusable.
result<model> model_build(std::shared_ptr<const archive> ar);

}  // namespace gb
