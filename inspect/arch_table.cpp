// The architecture table: role <- every known spelling. "{N}" stands for the layer index.
#include "inspect/arch_table.h"

#include <cctype>
#include <cstring>

namespace gb {
namespace {

using R = role_kind;
using S = name_style;

struct name_rule {
  const char* pattern;  // after the wrapper prefixes and the .weight/.bias suffix are stripped
  role_kind role;
  name_style style;
  bool conv1d = false;
};

// First match wins. Grouped by role; each spelling names the architectures that use it.
constexpr name_rule k_rules[] = {
    // ---- token embedding
    {"token_embd", R::tok_embd, S::gguf},                // GGUF (all), llama2.c loader
    {"embed_tokens", R::tok_embd, S::hf},                // HF LLaMA, Mistral, Qwen2, Gemma, Phi (new)
    {"tok_embeddings", R::tok_embd, S::meta},            // Meta LLaMA / Mistral consolidated.pth
    {"wte", R::tok_embd, S::gpt2},                       // GPT-2, GPT-J, MPT (transformer.wte)
    {"embd.wte", R::tok_embd, S::hf},                    // Phi-1/2 (phi-msft layout)
    {"embed_in", R::tok_embd, S::hf},                    // GPT-NeoX / Pythia
    {"word_embeddings", R::tok_embd, S::hf},             // Falcon, BLOOM
    {"embeddings.word_embeddings", R::tok_embd, S::hf},  // BERT
    // ---- position / token type embeddings
    {"position_embd", R::pos_embd, S::gguf},                        // GGUF GPT-2, BERT
    {"wpe", R::pos_embd, S::gpt2},                                  // GPT-2
    {"embeddings.position_embeddings", R::pos_embd, S::hf},         // BERT
    {"token_types", R::tok_type_embd, S::gguf},                     // GGUF BERT
    {"embeddings.token_type_embeddings", R::tok_type_embd, S::hf},  // BERT
    // ---- embedding norm
    {"token_embd_norm", R::embd_norm, S::gguf},          // GGUF BLOOM, BERT
    {"word_embeddings_layernorm", R::embd_norm, S::hf},  // BLOOM
    {"embeddings.LayerNorm", R::embd_norm, S::hf},       // BERT
    // ---- attention norm (pre-attention)
    {"blk.{N}.attn_norm", R::attn_norm, S::gguf},          // GGUF (all)
    {"layers.{N}.input_layernorm", R::attn_norm, S::hf},   // HF LLaMA, Mistral, Qwen2, Gemma, NeoX, Phi
    {"h.{N}.input_layernorm", R::attn_norm, S::hf},        // Falcon-7B, BLOOM
    {"h.{N}.ln_attn", R::attn_norm, S::hf},                // Falcon-40B/180B (new decoder architecture)
    {"h.{N}.ln_1", R::attn_norm, S::gpt2},                 // GPT-2, GPT-J
    {"h.{N}.ln", R::attn_norm, S::hf},                     // Phi-1/2 (phi-msft)
    {"blocks.{N}.norm_1", R::attn_norm, S::hf},            // MPT
    {"layers.{N}.attention_norm", R::attn_norm, S::meta},  // Meta LLaMA
    // ---- second attention-side norm (Falcon-40B's ln_mlp feeds the MLP of a parallel block)
    {"blk.{N}.attn_norm_2", R::attn_norm_2, S::gguf},  // GGUF Falcon-40B
    {"h.{N}.ln_mlp", R::attn_norm_2, S::hf},           // Falcon-40B/180B
    // ---- q, k, v (separate)
    {"blk.{N}.attn_q", R::attn_q, S::gguf},  // GGUF LLaMA, Qwen2, Gemma, GPT-J, Phi-2 (split)
    {"blk.{N}.attn_k", R::attn_k, S::gguf},
    {"blk.{N}.attn_v", R::attn_v, S::gguf},
    {"layers.{N}.self_attn.q_proj", R::attn_q, S::hf},  // HF LLaMA, Mistral, Qwen2, Gemma, Phi (new)
    {"layers.{N}.self_attn.k_proj", R::attn_k, S::hf},
    {"layers.{N}.self_attn.v_proj", R::attn_v, S::hf},
    {"h.{N}.attn.q_proj", R::attn_q, S::hf},  // GPT-J
    {"h.{N}.attn.k_proj", R::attn_k, S::hf},
    {"h.{N}.attn.v_proj", R::attn_v, S::hf},
    {"layers.{N}.attention.wq", R::attn_q, S::meta},  // Meta LLaMA
    {"layers.{N}.attention.wk", R::attn_k, S::meta},
    {"layers.{N}.attention.wv", R::attn_v, S::meta},
    {"encoder.layer.{N}.attention.self.query", R::attn_q, S::hf},  // BERT
    {"encoder.layer.{N}.attention.self.key", R::attn_k, S::hf},
    {"encoder.layer.{N}.attention.self.value", R::attn_v, S::hf},
    {"layer.{N}.attention.q_lin", R::attn_q, S::hf},  // DistilBERT (distilbert.transformer.)
    {"layer.{N}.attention.k_lin", R::attn_k, S::hf},
    {"layer.{N}.attention.v_lin", R::attn_v, S::hf},
    // ---- fused qkv
    {"blk.{N}.attn_qkv", R::attn_qkv, S::gguf},         // GGUF GPT-2, NeoX, Falcon, BLOOM, MPT, Phi-2
    {"h.{N}.attn.c_attn", R::attn_qkv, S::gpt2, true},  // GPT-2 (Conv1D, stored [in, out])
    {"layers.{N}.attention.query_key_value", R::attn_qkv, S::hf},  // GPT-NeoX / Pythia
    {"h.{N}.self_attention.query_key_value", R::attn_qkv, S::hf},  // Falcon, BLOOM
    {"blocks.{N}.attn.Wqkv", R::attn_qkv, S::hf},                  // MPT
    {"h.{N}.mixer.Wqkv", R::attn_qkv, S::hf},                      // Phi-1/2 (phi-msft)
    // ---- q/k norms
    {"blk.{N}.attn_q_norm", R::attn_q_norm, S::gguf},  // GGUF Qwen3, Gemma3, OLMo2
    {"blk.{N}.attn_k_norm", R::attn_k_norm, S::gguf},
    {"layers.{N}.self_attn.q_norm", R::attn_q_norm, S::hf},  // HF Qwen3, Gemma3
    {"layers.{N}.self_attn.k_norm", R::attn_k_norm, S::hf},
    // ---- attention output projection
    {"blk.{N}.attn_output", R::attn_o, S::gguf},                     // GGUF (all)
    {"layers.{N}.self_attn.o_proj", R::attn_o, S::hf},               // HF LLaMA, Mistral, Qwen2, Gemma
    {"layers.{N}.self_attn.dense", R::attn_o, S::hf},                // Phi (new HF layout)
    {"h.{N}.attn.c_proj", R::attn_o, S::gpt2, true},                 // GPT-2 (Conv1D)
    {"h.{N}.attn.out_proj", R::attn_o, S::hf},                       // GPT-J
    {"layers.{N}.attention.dense", R::attn_o, S::hf},                // GPT-NeoX / Pythia
    {"h.{N}.self_attention.dense", R::attn_o, S::hf},                // Falcon, BLOOM
    {"blocks.{N}.attn.out_proj", R::attn_o, S::hf},                  // MPT
    {"h.{N}.mixer.out_proj", R::attn_o, S::hf},                      // Phi-1/2 (phi-msft)
    {"layers.{N}.attention.wo", R::attn_o, S::meta},                 // Meta LLaMA
    {"encoder.layer.{N}.attention.output.dense", R::attn_o, S::hf},  // BERT
    {"layer.{N}.attention.out_lin", R::attn_o, S::hf},               // DistilBERT
    // ---- post-attention norms (applied to the attention output: Gemma2/3; BERT's residual norm)
    {"blk.{N}.post_attention_norm", R::post_attn_norm, S::gguf},                // GGUF Gemma2/3
    {"blk.{N}.attn_output_norm", R::attn_out_norm, S::gguf},                    // GGUF BERT
    {"encoder.layer.{N}.attention.output.LayerNorm", R::attn_out_norm, S::hf},  // BERT
    {"layer.{N}.sa_layer_norm", R::attn_out_norm, S::hf},                       // DistilBERT
    // ---- MLP norm (pre-MLP). HF's post_attention_layernorm is the pre-MLP norm in LLaMA/NeoX/BLOOM;
    //      Gemma2/3 use it after attention (model_build remaps it when pre_feedforward_layernorm exists).
    {"blk.{N}.ffn_norm", R::ffn_norm, S::gguf},                    // GGUF (all sequential blocks)
    {"layers.{N}.post_attention_layernorm", R::ffn_norm, S::hf},   // HF LLaMA, Mistral, Qwen2, Gemma, NeoX
    {"h.{N}.post_attention_layernorm", R::ffn_norm, S::hf},        // BLOOM
    {"layers.{N}.pre_feedforward_layernorm", R::ffn_norm, S::hf},  // Gemma2/3
    {"h.{N}.ln_2", R::ffn_norm, S::gpt2},                          // GPT-2
    {"blocks.{N}.norm_2", R::ffn_norm, S::hf},                     // MPT
    {"layers.{N}.ffn_norm", R::ffn_norm, S::meta},                 // Meta LLaMA
    {"blk.{N}.post_ffw_norm", R::post_ffn_norm, S::gguf},          // GGUF Gemma2/3
    {"layers.{N}.post_feedforward_layernorm", R::post_ffn_norm, S::hf},  // Gemma2/3
    // ---- MLP
    {"blk.{N}.ffn_gate", R::mlp_gate, S::gguf},                        // GGUF LLaMA, Qwen2, Gemma
    {"layers.{N}.mlp.gate_proj", R::mlp_gate, S::hf},                  // HF LLaMA, Mistral, Qwen2, Gemma
    {"layers.{N}.feed_forward.w1", R::mlp_gate, S::meta},              // Meta LLaMA (w1 = gate)
    {"blk.{N}.ffn_up", R::mlp_up, S::gguf},                            // GGUF (all)
    {"layers.{N}.mlp.up_proj", R::mlp_up, S::hf},                      // HF LLaMA, Mistral, Qwen2, Gemma
    {"layers.{N}.feed_forward.w3", R::mlp_up, S::meta},                // Meta LLaMA (w3 = up)
    {"h.{N}.mlp.c_fc", R::mlp_up, S::gpt2, true},                      // GPT-2 (Conv1D)
    {"h.{N}.mlp.fc_in", R::mlp_up, S::hf},                             // GPT-J
    {"layers.{N}.mlp.dense_h_to_4h", R::mlp_up, S::hf},                // GPT-NeoX / Pythia
    {"h.{N}.mlp.dense_h_to_4h", R::mlp_up, S::hf},                     // Falcon, BLOOM
    {"blocks.{N}.ffn.up_proj", R::mlp_up, S::hf},                      // MPT
    {"layers.{N}.mlp.fc1", R::mlp_up, S::hf},                          // Phi (new HF layout)
    {"h.{N}.mlp.fc1", R::mlp_up, S::hf},                               // Phi-1/2 (phi-msft)
    {"encoder.layer.{N}.intermediate.dense", R::mlp_up, S::hf},        // BERT
    {"layer.{N}.ffn.lin1", R::mlp_up, S::hf},                          // DistilBERT
    {"blk.{N}.ffn_down", R::mlp_down, S::gguf},                        // GGUF (all)
    {"layers.{N}.mlp.down_proj", R::mlp_down, S::hf},                  // HF LLaMA, Mistral, Qwen2, Gemma
    {"layers.{N}.feed_forward.w2", R::mlp_down, S::meta},              // Meta LLaMA (w2 = down)
    {"h.{N}.mlp.c_proj", R::mlp_down, S::gpt2, true},                  // GPT-2 (Conv1D)
    {"h.{N}.mlp.fc_out", R::mlp_down, S::hf},                          // GPT-J
    {"layers.{N}.mlp.dense_4h_to_h", R::mlp_down, S::hf},              // GPT-NeoX / Pythia
    {"h.{N}.mlp.dense_4h_to_h", R::mlp_down, S::hf},                   // Falcon, BLOOM
    {"blocks.{N}.ffn.down_proj", R::mlp_down, S::hf},                  // MPT
    {"layers.{N}.mlp.fc2", R::mlp_down, S::hf},                        // Phi (new HF layout)
    {"h.{N}.mlp.fc2", R::mlp_down, S::hf},                             // Phi-1/2 (phi-msft)
    {"encoder.layer.{N}.output.dense", R::mlp_down, S::hf},            // BERT
    {"layer.{N}.ffn.lin2", R::mlp_down, S::hf},                        // DistilBERT
    {"blk.{N}.layer_output_norm", R::layer_out_norm, S::gguf},         // GGUF BERT
    {"encoder.layer.{N}.output.LayerNorm", R::layer_out_norm, S::hf},  // BERT
    {"layer.{N}.output_layer_norm", R::layer_out_norm, S::hf},         // DistilBERT
    // ---- final norm
    {"output_norm", R::output_norm, S::gguf},     // GGUF (all)
    {"norm", R::output_norm, S::hf},              // HF LLaMA, Mistral, Qwen2, Gemma (model.norm); Meta
    {"ln_f", R::output_norm, S::gpt2},            // GPT-2, GPT-J, Falcon, BLOOM
    {"final_layer_norm", R::output_norm, S::hf},  // GPT-NeoX / Pythia
    {"final_layernorm", R::output_norm, S::hf},   // Phi (new HF layout)
    {"norm_f", R::output_norm, S::hf},            // MPT
    {"lm_head.ln", R::output_norm, S::hf},        // Phi-1/2 (phi-msft)
    // ---- output (unembedding)
    {"output", R::output, S::gguf},        // GGUF (all); Meta LLaMA
    {"lm_head", R::output, S::hf},         // HF (most)
    {"lm_head.linear", R::output, S::hf},  // Phi-1/2 (phi-msft)
    {"embed_out", R::output, S::hf},       // GPT-NeoX / Pythia
    // ---- rotary tables and non-parameter buffers
    {"rope_freqs", R::rope_freqs, S::gguf},      // GGUF LLaMA-3 rope factors; llama2.c freq_cis
    {"rope.freqs", R::rope_freqs, S::meta},      // Meta LLaMA-1 consolidated.NN.pth
    {"freq_cis_real", R::rope_freqs, S::other},  // llama2.c (raw names)
    {"freq_cis_imag", R::rope_freqs, S::other},
    {"layers.{N}.self_attn.rotary_emb.inv_freq", R::buffer, S::hf},  // HF LLaMA (older checkpoints)
    {"layers.{N}.attention.rotary_emb.inv_freq", R::buffer, S::hf},  // GPT-NeoX
    {"layers.{N}.attention.inv_freq", R::buffer, S::meta},           // Meta LLaMA-1
    {"h.{N}.attn", R::buffer, S::gpt2},             // GPT-2/GPT-J `attn.bias` mask, `attn.masked_bias`
    {"layers.{N}.attention", R::buffer, S::hf},     // GPT-NeoX `attention.bias`, `attention.masked_bias`
    {"embeddings.position_ids", R::buffer, S::hf},  // BERT
};

constexpr const char* k_prefixes[] = {"module.", "base_model.",  "language_model.",
                                      "model.",  "transformer.", "gpt_neox.",
                                      "bert.",   "roberta.",     "distilbert."};

// Matches pattern against s exactly; "{N}" matches 1..6 digits (the layer index).
bool match_pattern(std::string_view pattern, std::string_view s, int& layer) {
  size_t i = 0, j = 0;
  layer = -1;
  while (i < pattern.size()) {
    if (pattern.compare(i, 3, "{N}") == 0) {
      size_t start = j;
      int v = 0;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j])) && j - start < 6) {
        v = v * 10 + (s[j] - '0');
        ++j;
      }
      if (j == start) return false;
      if (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) return false;  // too many digits
      layer = v;
      i += 3;
      continue;
    }
    if (j >= s.size() || pattern[i] != s[j]) return false;
    ++i;
    ++j;
  }
  return j == s.size();
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::optional<name_match> match_stem(std::string_view stem) {
  for (const name_rule& r : k_rules) {
    int layer = -1;
    if (match_pattern(r.pattern, stem, layer)) {
      name_match m;
      m.role = r.role;
      m.layer = layer;
      m.style = r.style;
      m.conv1d = r.conv1d;
      return m;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<name_match> arch_match_name(std::string_view name) {
  std::string_view body = name;
  for (bool again = true; again;) {
    again = false;
    for (const char* p : k_prefixes)
      if (body.size() > std::strlen(p) && body.substr(0, std::strlen(p)) == p) {
        body.remove_prefix(std::strlen(p));
        again = true;
      }
  }
  struct suffix_rule {
    const char* text;
    const char* canonical;
    bool bias;
  };
  constexpr suffix_rule suffixes[] = {{".weight", ".weight", false},
                                      {".bias", ".bias", true},
                                      {".gamma", ".weight", false},
                                      {".beta", ".bias", true}};
  std::optional<name_match> m;
  for (const suffix_rule& sr : suffixes) {
    if (!ends_with(body, sr.text)) continue;
    m = match_stem(body.substr(0, body.size() - std::strlen(sr.text)));
    if (m) {
      m->bias = sr.bias;
      m->suffix = sr.canonical;
      break;
    }
  }
  if (!m) {
    // names without a suffix (ONNX initializers, raw buffers), then rotary tables with their own tail
    // (llama2.c's rope_freqs.cis_real / cis_imag)
    m = match_stem(body);
    if (m) {
      m->suffix = m->role == role_kind::rope_freqs || m->role == role_kind::buffer ? "" : ".weight";
    } else if (auto dot = body.find_last_of('.'); dot != std::string_view::npos) {
      m = match_stem(body.substr(0, dot));
      if (m && m->role != role_kind::rope_freqs && m->role != role_kind::buffer) m.reset();
      if (m) m->suffix = std::string(body.substr(dot));
    }
  }
  if (!m) return std::nullopt;
  if (m->bias) m->conv1d = false;  // 1-D
  std::string c = m->layer >= 0 ? "blk." + std::to_string(m->layer) + "." : std::string();
  c += role_name(m->role);
  c += m->suffix;
  if (m->role == role_kind::buffer && m->suffix.empty())
    c += "." + std::string(name.substr(name.find_last_of('.') + 1));
  m->canonical = std::move(c);
  return m;
}

namespace {

struct family_name {
  const char* name;
  arch_family family;
};

// GGUF general.architecture, HF model_type and HF architectures[0] spellings.
constexpr family_name k_family_names[] = {
    {"llama", arch_family::llama},
    {"mistral", arch_family::llama},
    {"mixtral", arch_family::llama},
    {"vicuna", arch_family::llama},
    {"alpaca", arch_family::llama},
    {"baichuan", arch_family::llama},
    {"LlamaForCausalLM", arch_family::llama},
    {"MistralForCausalLM", arch_family::llama},
    {"LLaMAForCausalLM", arch_family::llama},
    {"MixtralForCausalLM", arch_family::llama},
    {"gpt2", arch_family::gpt2},
    {"GPT2LMHeadModel", arch_family::gpt2},
    {"GPT2Model", arch_family::gpt2},
    {"gptj", arch_family::gptj},
    {"gpt-j", arch_family::gptj},
    {"GPTJForCausalLM", arch_family::gptj},
    {"gptneox", arch_family::gptneox},
    {"gpt_neox", arch_family::gptneox},
    {"gpt-neox", arch_family::gptneox},
    {"pythia", arch_family::gptneox},
    {"GPTNeoXForCausalLM", arch_family::gptneox},
    {"falcon", arch_family::falcon},
    {"RefinedWeb", arch_family::falcon},
    {"RefinedWebModel", arch_family::falcon},
    {"FalconForCausalLM", arch_family::falcon},
    {"RWForCausalLM", arch_family::falcon},
    {"bloom", arch_family::bloom},
    {"BloomForCausalLM", arch_family::bloom},
    {"BloomModel", arch_family::bloom},
    {"mpt", arch_family::mpt},
    {"MPTForCausalLM", arch_family::mpt},
    {"phi", arch_family::phi},
    {"phi2", arch_family::phi},
    {"phi-msft", arch_family::phi},
    {"PhiForCausalLM", arch_family::phi},
    {"qwen2", arch_family::qwen2},
    {"Qwen2ForCausalLM", arch_family::qwen2},
    {"gemma", arch_family::gemma},
    {"gemma2", arch_family::gemma},
    {"gemma3", arch_family::gemma},
    {"GemmaForCausalLM", arch_family::gemma},
    {"Gemma2ForCausalLM", arch_family::gemma},
    {"bert", arch_family::bert},
    {"BertModel", arch_family::bert},
    {"BertForMaskedLM", arch_family::bert},
    {"roberta", arch_family::bert},
    {"RobertaModel", arch_family::bert},
    {"distilbert", arch_family::bert},
    {"DistilBertForMaskedLM", arch_family::bert},
};

//                     family             norm             rope                  act                  pos
//                     gated  par    tied   embn   causal rot   eps    gguf
constexpr family_defaults k_defaults[] = {
    {arch_family::llama, norm_kind::rms, rope_kind::interleaved, act_kind::silu, pos_kind::rope, true, false,
     false, false, true, 1.0, 1e-5, "llama"},
    {arch_family::gpt2, norm_kind::layer, rope_kind::none, act_kind::gelu_tanh, pos_kind::learned, false,
     false, true, false, true, 0.0, 1e-5, "gpt2"},
    {arch_family::gptj, norm_kind::layer, rope_kind::interleaved, act_kind::gelu_tanh, pos_kind::rope, false,
     true, false, false, true, 0.25, 1e-5, "gptj"},
    {arch_family::gptneox, norm_kind::layer, rope_kind::neox, act_kind::gelu, pos_kind::rope, false, true,
     false, false, true, 0.25, 1e-5, "gptneox"},
    {arch_family::falcon, norm_kind::layer, rope_kind::neox, act_kind::gelu, pos_kind::rope, false, true,
     false, false, true, 1.0, 1e-5, "falcon"},
    {arch_family::bloom, norm_kind::layer, rope_kind::none, act_kind::gelu_tanh, pos_kind::alibi, false,
     false, true, true, true, 0.0, 1e-5, "bloom"},
    {arch_family::mpt, norm_kind::layer, rope_kind::none, act_kind::gelu, pos_kind::alibi, false, false, true,
     false, true, 0.0, 1e-5, "mpt"},
    {arch_family::phi, norm_kind::layer, rope_kind::neox, act_kind::gelu_tanh, pos_kind::rope, false, true,
     false, false, true, 0.5, 1e-5, "phi2"},
    {arch_family::qwen2, norm_kind::rms, rope_kind::neox, act_kind::silu, pos_kind::rope, true, false, false,
     false, true, 1.0, 1e-6, "qwen2"},
    {arch_family::gemma, norm_kind::rms, rope_kind::neox, act_kind::gelu_tanh, pos_kind::rope, true, false,
     true, false, true, 1.0, 1e-6, "gemma"},
    {arch_family::bert, norm_kind::layer, rope_kind::none, act_kind::gelu, pos_kind::learned, false, false,
     true, false, false, 0.0, 1e-12, "bert"},
    {arch_family::unknown, norm_kind::rms, rope_kind::none, act_kind::silu, pos_kind::none, false, false,
     false, false, true, 0.0, 1e-5, ""},
};

}  // namespace

arch_family arch_family_from_name(std::string_view arch) {
  for (const family_name& f : k_family_names)
    if (arch == f.name) return f.family;
  // case-insensitive second pass ("Llama", "GPTJ")
  for (const family_name& f : k_family_names) {
    std::string_view n = f.name;
    if (n.size() != arch.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < n.size() && eq; ++i)
      eq =
          std::tolower(static_cast<unsigned char>(n[i])) == std::tolower(static_cast<unsigned char>(arch[i]));
    if (eq) return f.family;
  }
  return arch_family::unknown;
}

const family_defaults& arch_defaults(arch_family f) {
  for (const family_defaults& d : k_defaults)
    if (d.family == f) return d;
  return k_defaults[sizeof k_defaults / sizeof k_defaults[0] - 1];
}

std::optional<act_kind> act_kind_from_name(std::string_view s) {
  struct act_name {
    const char* name;
    act_kind act;
  };
  constexpr act_name names[] = {
      {"silu", act_kind::silu},           {"swish", act_kind::silu},
      {"swiglu", act_kind::silu},         {"gelu", act_kind::gelu},
      {"gelu_exact", act_kind::gelu},     {"gelu_new", act_kind::gelu_tanh},
      {"gelu_fast", act_kind::gelu_tanh}, {"gelu_pytorch_tanh", act_kind::gelu_tanh},
      {"gelu_tanh", act_kind::gelu_tanh}, {"relu", act_kind::relu},
  };
  for (const act_name& a : names)
    if (s == a.name) return a.act;
  return std::nullopt;
}

}  // namespace gb
