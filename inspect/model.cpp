// model_build(): an archive understood. Roles come from the architecture table (arch_table.cpp),
// hyperparameters from GGUF metadata / HF config / llama2.c header keys, the rest inferred from shapes.
#include "inspect/model.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "inspect/arch_table.h"
#include "inspect/onnx_arch.h"

namespace gb {

const char* arch_family_name(arch_family f) {
  switch (f) {
    case arch_family::llama:
      return "llama";
    case arch_family::gpt2:
      return "gpt2";
    case arch_family::gptj:
      return "gptj";
    case arch_family::gptneox:
      return "gptneox";
    case arch_family::falcon:
      return "falcon";
    case arch_family::bloom:
      return "bloom";
    case arch_family::mpt:
      return "mpt";
    case arch_family::phi:
      return "phi2";
    case arch_family::qwen2:
      return "qwen2";
    case arch_family::gemma:
      return "gemma";
    case arch_family::bert:
      return "bert";
    case arch_family::unknown:
      return "unknown";
  }
  return "unknown";
}

const char* role_name(role_kind r) {
  switch (r) {
    case role_kind::tok_embd:
      return "tok_embd";
    case role_kind::pos_embd:
      return "pos_embd";
    case role_kind::tok_type_embd:
      return "tok_type_embd";
    case role_kind::embd_norm:
      return "embd_norm";
    case role_kind::attn_norm:
      return "attn_norm";
    case role_kind::attn_norm_2:
      return "attn_norm_2";
    case role_kind::attn_q:
      return "attn.q";
    case role_kind::attn_k:
      return "attn.k";
    case role_kind::attn_v:
      return "attn.v";
    case role_kind::attn_qkv:
      return "attn.qkv";
    case role_kind::attn_o:
      return "attn.o";
    case role_kind::attn_q_norm:
      return "attn.q_norm";
    case role_kind::attn_k_norm:
      return "attn.k_norm";
    case role_kind::ffn_norm:
      return "ffn_norm";
    case role_kind::mlp_gate:
      return "mlp.gate";
    case role_kind::mlp_up:
      return "mlp.up";
    case role_kind::mlp_down:
      return "mlp.down";
    case role_kind::post_attn_norm:
      return "post_attn_norm";
    case role_kind::post_ffn_norm:
      return "post_ffn_norm";
    case role_kind::attn_out_norm:
      return "attn_out_norm";
    case role_kind::layer_out_norm:
      return "layer_out_norm";
    case role_kind::output_norm:
      return "output_norm";
    case role_kind::output:
      return "output";
    case role_kind::rope_freqs:
      return "rope_freqs";
    case role_kind::other:
      return "other";
    case role_kind::buffer:
      return "buffer";
  }
  return "other";
}

const char* role_group(role_kind r) {
  switch (r) {
    case role_kind::tok_embd:
    case role_kind::pos_embd:
    case role_kind::tok_type_embd:
      return "embedding";
    case role_kind::attn_q:
    case role_kind::attn_k:
    case role_kind::attn_v:
    case role_kind::attn_qkv:
    case role_kind::attn_o:
      return "attention";
    case role_kind::mlp_gate:
    case role_kind::mlp_up:
    case role_kind::mlp_down:
      return "mlp";
    case role_kind::embd_norm:
    case role_kind::attn_norm:
    case role_kind::attn_norm_2:
    case role_kind::attn_q_norm:
    case role_kind::attn_k_norm:
    case role_kind::ffn_norm:
    case role_kind::post_attn_norm:
    case role_kind::post_ffn_norm:
    case role_kind::attn_out_norm:
    case role_kind::layer_out_norm:
    case role_kind::output_norm:
      return "norm";
    case role_kind::output:
      return "output";
    case role_kind::rope_freqs:
    case role_kind::other:
    case role_kind::buffer:
      return "other";
  }
  return "other";
}

bool role_is_parameter(role_kind r) {
  return r != role_kind::rope_freqs && r != role_kind::buffer;
}

bool is_token_embedding(const std::string& name) {
  return name == "tok_embd.weight" || name == "token_embd.weight";
}

std::string canonical_name(role_kind r, int layer, bool bias) {
  std::string c = layer >= 0 ? "blk." + std::to_string(layer) + "." : std::string();
  c += role_name(r);
  c += bias ? ".bias" : ".weight";
  return c;
}

const char* norm_kind_name(norm_kind k) {
  return k == norm_kind::rms ? "rms" : "layer";
}
const char* rope_kind_name(rope_kind k) {
  switch (k) {
    case rope_kind::none:
      return "none";
    case rope_kind::interleaved:
      return "interleaved";
    case rope_kind::neox:
      return "neox";
  }
  return "none";
}
const char* act_kind_name(act_kind k) {
  switch (k) {
    case act_kind::silu:
      return "silu";
    case act_kind::gelu:
      return "gelu";
    case act_kind::gelu_tanh:
      return "gelu_tanh";
    case act_kind::relu:
      return "relu";
  }
  return "silu";
}
const char* pos_kind_name(pos_kind k) {
  switch (k) {
    case pos_kind::rope:
      return "rope";
    case pos_kind::learned:
      return "learned";
    case pos_kind::alibi:
      return "alibi";
    case pos_kind::none:
      return "none";
  }
  return "none";
}

const role_entry* model::find(std::string_view canonical) const {
  for (const role_entry& e : roles)
    if (e.canonical == canonical) return &e;
  return nullptr;
}

const tensor_view* model::tensor(std::string_view canonical) const {
  const role_entry* e = find(canonical);
  return e && source && e->tensor < source->tensors.size() ? &source->tensors[e->tensor] : nullptr;
}

const role_entry* model::entry(role_kind r, int layer, bool bias) const {
  for (const role_entry& e : roles)
    if (e.role == r && e.layer == layer && e.bias == bias) return &e;
  return nullptr;
}

const tensor_view* model::tensor(role_kind r, int layer, bool bias) const {
  const role_entry* e = entry(r, layer, bias);
  return e && source && e->tensor < source->tensors.size() ? &source->tensors[e->tensor] : nullptr;
}

namespace {

constexpr int64_t k_hparam_max = int64_t{1} << 31;  // any count or size above this is not a real model

// Reads a positive count from metadata; arrays (per-layer values, e.g. head_count_kv) give their first
// element. Out-of-range values become a finding and are ignored.
struct hp_reader {
  const archive& a;
  std::vector<finding>& findings;

  mutable std::string last;  // the key the last successful read came from

  // "config.X" is the same key in every place a checkpoint states it, read in this order: config.json
  // (config.X), Meta's params.json (params.X), hparams.yaml (hparams.X), a config dict or object saved in
  // a training checkpoint (checkpoint.config.X). Other keys (GGUF) are read as they are.
  const meta_value* get(std::string_view key) const {
    if (const meta_value* v = a.meta(key)) return last = key, v;
    if (key.substr(0, 7) != "config.") return nullptr;
    const std::string rest(key.substr(7));
    for (const char* pre : {"params.", "hparams.", "checkpoint.config."})
      if (const meta_value* v = a.meta(pre + rest)) return last = pre + rest, v;
    return nullptr;
  }

  std::optional<int64_t> count(std::initializer_list<std::string> keys) const {
    for (const std::string& k : keys) {
      const meta_value* v = get(k);
      if (!v) continue;
      if (v->k == meta_value::kind::array && !v->arr.empty()) v = &v->arr.front();
      std::optional<int64_t> n = v->as_int();
      if (!n) continue;  // null (e.g. GPT-2 n_inner: null) or a non-number: try the next spelling
      if (*n == -1 && last == "params.vocab_size") continue;  // LLaMA 1: "take it from the tokenizer"
      if (*n <= 0 || *n >= k_hparam_max) {
        findings.push_back(
            {severity::medium, "model.bad_hparam", last,
             "hyperparameter " + last + " = " + std::to_string(*n) + " is out of range; ignored"});
        continue;
      }
      return n;
    }
    return std::nullopt;
  }

  std::optional<double> real(std::initializer_list<std::string> keys) const {
    for (const std::string& k : keys) {
      const meta_value* v = get(k);
      if (!v) continue;
      std::optional<double> d = v->as_double();
      if (!d) continue;
      if (!(*d > 0) || *d > 1e12) {
        findings.push_back({severity::medium, "model.bad_hparam", last,
                            "hyperparameter " + last + " is out of range; ignored"});
        continue;
      }
      return d;
    }
    return std::nullopt;
  }

  std::optional<bool> flag(std::initializer_list<std::string> keys) const {
    for (const std::string& k : keys)
      if (const meta_value* v = get(k))
        if (std::optional<bool> b = v->as_bool()) return b;
    return std::nullopt;
  }

  std::optional<std::string> text(std::initializer_list<std::string> keys) const {
    for (const std::string& k : keys)
      if (const meta_value* v = get(k)) {
        if (v->k == meta_value::kind::array && !v->arr.empty()) v = &v->arr.front();
        if (std::optional<std::string> s = v->as_string(); s && !s->empty()) return s;
      }
    return std::nullopt;
  }
};

// Guess the family from tensor spellings when no metadata names it (ONNX exports, bare .bin/.pt).
struct name_hint {
  const char* substring;
  arch_family family;
};
constexpr name_hint k_name_hints[] = {
    {"gpt_neox.", arch_family::gptneox},
    {"attention.query_key_value", arch_family::gptneox},
    {"word_embeddings_layernorm", arch_family::bloom},
    {"self_attention.query_key_value", arch_family::falcon},
    {"attn.c_attn", arch_family::gpt2},
    {"mlp.fc_in", arch_family::gptj},
    {"attn.Wqkv", arch_family::mpt},
    {"mixer.Wqkv", arch_family::phi},
    {"self_attn.dense", arch_family::phi},
    {"attention.self.query", arch_family::bert},
    {"attention.q_lin", arch_family::bert},  // DistilBERT
    {"pre_feedforward_layernorm", arch_family::gemma},
    {"mlp.gate_proj", arch_family::llama},
    {"feed_forward.w1", arch_family::llama},
    {"ffn_gate", arch_family::llama},
};

arch_family guess_family(const archive& a) {
  for (const name_hint& h : k_name_hints)
    for (const tensor_view& t : a.tensors)
      if (t.name.find(h.substring) != std::string::npos) {
        if (h.family == arch_family::llama) {
          // Qwen2 is LLaMA-shaped with q/k/v biases
          for (const tensor_view& u : a.tensors)
            if (u.name.find("q_proj.bias") != std::string::npos ||
                u.name.find("attn_q.bias") != std::string::npos)
              return arch_family::qwen2;
        }
        return h.family;
      }
  return arch_family::unknown;
}

// Meta's FFN width (llama/model.py FeedForward): hidden = int(2 * 4 * dim / 3), times ffn_dim_multiplier
// when given, rounded up to a multiple of multiple_of. Used when no file states the width itself; the
// shape check below compares it with w1's rows.
void meta_ffn_rule(const hp_reader& rd, hparams& hp) {
  std::optional<int64_t> mult = rd.count({"config.multiple_of"});
  if (!mult) return;
  const std::string from = rd.last;
  int64_t hidden = 2 * 4 * hp.n_embd / 3;
  std::string how = "Meta FFN rule (" + from;
  if (auto f = rd.real({"config.ffn_dim_multiplier"})) {
    hidden = static_cast<int64_t>(*f * static_cast<double>(hidden));
    how += ", " + rd.last;
  }
  if (hidden <= 0 || hidden >= k_hparam_max) return;
  hp.n_ff = (hidden + *mult - 1) / *mult * *mult;
  hp.sources["n_ff"] = how + ", n_embd)";
}

// Canonical [out, in] dims of a matrix (a Conv1D weight is stored [in, out]).
int64_t rows_of(const tensor_view& t, const role_entry& e) {
  if (t.shape.size() != 2) return t.shape.empty() ? 0 : t.shape[0];
  return e.transposed ? t.shape[1] : t.shape[0];
}
int64_t cols_of(const tensor_view& t, const role_entry& e) {
  if (t.shape.size() != 2) return 0;
  return e.transposed ? t.shape[0] : t.shape[1];
}

// What the steps of one build share: the archive, the model being filled and what a step leaves for the
// later ones. build() runs the steps in this file's order; each reads and writes only through here.
struct build_state {
  build_state(const archive& a_, model& m_) : a(a_), m(m_), rd{a_, m_.findings, {}} {}

  const archive& a;
  model& m;
  hp_reader rd;
  std::map<name_style, size_t> q_styles;  // how the q (qkv) tensors are spelled: layout detection
  std::optional<onnx_arch> from_graph;    // roles from the ONNX op graph (flat names)
  std::string arch;                       // the architecture's name as the files give it
  bool guessed = false;                   // the family was guessed from tensor names
  std::optional<bool> tie_cfg;            // config's tie_word_embeddings
  int max_layer = -1;                     // the highest layer a role names

  const role_entry* entry_of(role_kind r, int layer) const { return m.entry(r, layer, false); }
  const tensor_view* view(const role_entry* e) const { return e ? &a.tensors[e->tensor] : nullptr; }
  // a parameter inferred from tensor shapes (only when no file stated it and it is in range)
  void infer(int64_t& field, int64_t value, const char* name) {
    if (field == 0 && value > 0 && value < k_hparam_max) {
      field = value;
      m.hp.inferred.insert(name);
      m.hp.sources[name] = "tensor shapes";
    }
  }
};

// 1. Roles through the architecture table, one tensor at a time; duplicates stay unmapped.
void map_roles(build_state& s) {
  const archive& a = s.a;
  model& m = s.m;
  bool gemma2_norms = false;  // Gemma2/3: post_attention_layernorm is applied to the attention output
  for (const tensor_view& t : a.tensors)
    if (t.name.find("pre_feedforward_layernorm") != std::string::npos) gemma2_norms = true;
  std::unordered_map<std::string, size_t> seen;  // canonical -> index into m.roles
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const tensor_view& t = a.tensors[i];
    std::optional<name_match> nm = arch_match_name(t.name);
    if (!nm) {
      m.unmapped.push_back(i);
      continue;
    }
    if (gemma2_norms && nm->role == role_kind::ffn_norm &&
        t.name.find("post_attention_layernorm") != std::string::npos) {
      nm->role = role_kind::post_attn_norm;
      nm->canonical = "blk." + std::to_string(nm->layer) + "." + role_name(nm->role) + nm->suffix;
    }
    if (auto it = seen.find(nm->canonical); it != seen.end()) {
      m.findings.push_back({severity::medium, "model.duplicate_role", t.name,
                            "tensor '" + t.name + "' maps to " + nm->canonical + ", already taken by '" +
                                a.tensors[m.roles[it->second].tensor].name + "'; left unmapped"});
      m.unmapped.push_back(i);
      continue;
    }
    role_entry e;
    e.canonical = nm->canonical;
    e.role = nm->role;
    e.layer = nm->layer;
    e.bias = nm->bias;
    e.tensor = i;
    e.transposed = nm->conv1d;  // decided finally in family_layout, once the family is known
    if (nm->role == role_kind::attn_q || nm->role == role_kind::attn_qkv) s.q_styles[nm->style]++;
    seen.emplace(e.canonical, m.roles.size());
    m.roles.push_back(std::move(e));
  }
  // ONNX exports with flat names ("onnx::MatMul_1233"): roles from the op graph (inspect/onnx_arch.h)
  if (m.roles.empty() && a.format == file_format::onnx && (s.from_graph = onnx_arch_recognise(a))) {
    m.roles = s.from_graph->roles;
    m.unmapped = s.from_graph->unmapped;
  }
}

// 2. The architecture's name (op graph, metadata, params.json, else guessed from tensor names) and family.
void name_architecture(build_state& s) {
  const archive& a = s.a;
  model& m = s.m;
  std::string& arch = s.arch;
  if (s.from_graph) {
    arch = s.from_graph->architecture;
    m.findings.push_back({severity::info, "model.architecture_from_graph", a.path,
                          "no names say the architecture; the op graph follows the " + arch +
                              " pattern (roles and layers assigned by data flow)"});
  } else if (auto t1 = s.rd.text({"general.architecture"})) {
    arch = *t1;
  } else if (auto t2 = s.rd.text({"config.model_type"})) {
    arch = *t2;
  } else if (auto t3 = s.rd.text({"config.architectures"})) {
    arch = *t3;
  }
  m.family = arch_family_from_name(arch);
  if (m.family == arch_family::unknown) {
    if (auto t4 = s.rd.text({"config.architectures"})) {
      arch_family f = arch_family_from_name(*t4);
      if (f != arch_family::unknown) m.family = f;
    }
  }
  if (arch.empty() && a.meta("params.dim")) {
    arch = "llama";
    m.family = arch_family::llama;
    m.findings.push_back(
        {severity::info, "model.architecture_from_params", a.path,
         "params.json (Meta's original release) names no architecture; its keys and Meta's tensor "
         "names are LLaMA's"});
  }
  if (arch.empty()) {
    m.family = guess_family(a);
    if (m.family != arch_family::unknown) {
      arch = arch_family_name(m.family);
      s.guessed = true;
      m.findings.push_back(
          {severity::info, "model.architecture_guessed", a.path,
           std::string("no metadata names the architecture; tensor names look like ") + arch});
    }
  }
  if (arch == "RefinedWeb" || arch == "RefinedWebModel") arch = "falcon";
  m.architecture = arch.empty() ? "unknown" : arch;
  if (m.family == arch_family::unknown)
    m.findings.push_back(
        {severity::low, "model.unknown_architecture", arch.empty() ? a.path : m.architecture,
         arch.empty() ? std::string("no metadata names the architecture and the tensor names match no "
                                    "known family; roles mapped by spelling only")
                      : "architecture '" + m.architecture +
                            "' is not in the architecture table; roles mapped by spelling only"});
}

// 3. The family's defaults, and the weight layout: HF-named LLaMA q/k rows are in rotate-half order;
// GPT-2 Conv1D weights are [in, out].
void family_layout(build_state& s) {
  model& m = s.m;
  const family_defaults& d = arch_defaults(m.family);
  hparams& hp = m.hp;
  hp.norm = d.norm;
  hp.rope = d.rope;
  hp.act = d.act;
  hp.pos = d.pos;
  hp.gated_mlp = d.gated_mlp;
  hp.parallel_block = d.parallel_block;
  hp.tied_embeddings = d.tied_embeddings;
  hp.embd_norm = d.embd_norm;
  hp.causal = d.causal;
  hp.norm_eps = d.norm_eps;

  name_style q_style = name_style::other;
  size_t best = 0;
  for (auto [st, n] : s.q_styles)
    if (n > best) best = n, q_style = st;
  bool hf_layout_llama = m.family == arch_family::llama && q_style == name_style::hf;
  if (s.from_graph && s.from_graph->rotate_half) hp.rope = rope_kind::neox;  // hf_permuted set on q/k already
  if (hf_layout_llama) hp.rope = rope_kind::neox;
  for (role_entry& e : m.roles) {
    if (e.transposed && m.family != arch_family::gpt2 && !(m.family == arch_family::unknown && s.guessed) &&
        !s.from_graph)
      e.transposed = false;
    if (hf_layout_llama && (e.role == role_kind::attn_q || e.role == role_kind::attn_k)) {
      std::optional<name_match> nm = arch_match_name(s.a.tensors[e.tensor].name);
      e.hf_permuted = nm && nm->style == name_style::hf;
    }
    if (e.role == role_kind::attn_qkv &&
        (m.family == arch_family::gptneox || m.family == arch_family::bloom)) {
      std::optional<name_match> nm = arch_match_name(s.a.tensors[e.tensor].name);
      e.qkv_per_head = nm && nm->style == name_style::hf;
    }
  }
}

// 4. Hyperparameters from metadata: GGUF keys under the architecture prefix, HF config.* (and the places
// hp_reader reads "config." from), then the op graph's head counts.
void hparams_from_metadata(build_state& s) {
  hparams& hp = s.m.hp;
  const hp_reader& rd = s.rd;
  const std::string p = s.arch + ".";
  auto set = [&](int64_t& field, const char* name, std::optional<int64_t> v) {
    if (!v) return;
    field = *v;
    hp.sources[name] = rd.last;
  };
  set(hp.n_embd, "n_embd",
      rd.count({p + "embedding_length", "config.hidden_size", "config.n_embd", "config.d_model",
                "config.n_embed", "config.dim"}));
  set(hp.n_layer, "n_layer",
      rd.count({p + "block_count", "config.num_hidden_layers", "config.n_layer", "config.n_layers",
                "config.num_layers"}));
  set(hp.n_head, "n_head",
      rd.count({p + "attention.head_count", "config.num_attention_heads", "config.n_head", "config.n_heads",
                "config.num_heads"}));
  set(hp.n_head_kv, "n_head_kv",
      rd.count({p + "attention.head_count_kv", "config.num_key_value_heads", "config.num_kv_heads",
                "config.n_head_kv", "config.n_kv_heads", "config.attn_config.kv_n_heads"}));
  if (!hp.n_head_kv && rd.flag({"config.multi_query"}).value_or(false) &&
      !rd.flag({"config.new_decoder_architecture"}).value_or(false))
    hp.n_head_kv = 1, hp.sources["n_head_kv"] = rd.last;  // Falcon-7B multi-query
  set(hp.n_ff, "n_ff",
      rd.count({p + "feed_forward_length", "config.intermediate_size", "config.n_inner",
                "config.ffn_hidden_size", "config.ffn_dim", "config.hidden_dim"}));
  if (!hp.n_ff && hp.n_embd) meta_ffn_rule(rd, hp);
  if (!hp.n_ff && hp.n_embd)
    if (auto r = rd.real({"config.expansion_ratio"});
        r && *r * static_cast<double>(hp.n_embd) < static_cast<double>(k_hparam_max))
      hp.n_ff = std::llround(*r * static_cast<double>(hp.n_embd)), hp.sources["n_ff"] = rd.last;
  set(hp.n_ctx, "n_ctx",
      rd.count({p + "context_length", "config.max_position_embeddings", "config.n_positions",
                "config.max_seq_len", "config.seq_length", "config.n_ctx", "config.block_size"}));
  set(hp.n_vocab, "n_vocab", rd.count({p + "vocab_size", "config.vocab_size"}));
  set(hp.head_dim, "head_dim", rd.count({p + "attention.key_length", "config.head_dim"}));
  if (auto th = rd.real({p + "rope.freq_base", "config.rope_theta", "config.rotary_emb_base"}))
    hp.rope_theta = *th, hp.sources["rope_theta"] = rd.last;
  if (auto ep = rd.real({p + "attention.layer_norm_rms_epsilon", p + "attention.layer_norm_epsilon",
                         "config.rms_norm_eps", "config.layer_norm_epsilon", "config.layer_norm_eps",
                         "config.norm_epsilon", "config.norm_eps"}))
    hp.norm_eps = *ep, hp.sources["norm_eps"] = rd.last;
  if (auto act = rd.text({"config.hidden_act", "config.activation_function", "config.hidden_activation"}))
    if (auto k = act_kind_from_name(*act)) hp.act = *k;
  if (auto par =
          rd.flag({p + "use_parallel_residual", "config.use_parallel_residual", "config.parallel_attn"}))
    hp.parallel_block = *par;
  if (rd.flag({"config.new_decoder_architecture"}).value_or(false)) hp.parallel_block = true;
  if (rd.flag({"config.alibi", "config.attn_config.alibi"}).value_or(false))
    hp.pos = pos_kind::alibi, hp.rope = rope_kind::none;
  s.tie_cfg = rd.flag({"config.tie_word_embeddings"});
  if (s.tie_cfg) hp.tied_embeddings = *s.tie_cfg;

  if (s.from_graph && !hp.n_head && s.from_graph->n_head > 0)
    hp.n_head = s.from_graph->n_head;  // Reshape constants
  if (s.from_graph && !hp.n_head_kv && s.from_graph->n_head_kv > 0) hp.n_head_kv = s.from_graph->n_head_kv;
}

// 5. Structure from which tensors are present: tied output, embedding norm, gated MLP, parallel block,
// learned positions.
void structure_from_tensors(build_state& s) {
  const archive& a = s.a;
  model& m = s.m;
  hparams& hp = m.hp;
  for (const role_entry& e : m.roles) s.max_layer = std::max(s.max_layer, e.layer);
  if (a.tensors.empty()) return;
  const bool has_output = s.entry_of(role_kind::output, -1) != nullptr;
  if (s.view(s.entry_of(role_kind::tok_embd, -1)) && !has_output) {
    if (s.tie_cfg && !*s.tie_cfg)
      m.findings.push_back(
          {severity::medium, "model.output_missing", a.path,
           "config says tie_word_embeddings = false but there is no output tensor; using tok_embd"});
    hp.tied_embeddings = true;
  } else if (has_output) {
    hp.tied_embeddings = false;
  }
  hp.embd_norm = s.entry_of(role_kind::embd_norm, -1) != nullptr;
  bool any_up = false, any_gate = false, any_ffn_norm = false, any_attn_norm = false;
  for (const role_entry& e : m.roles) {
    any_up |= e.role == role_kind::mlp_up;
    any_gate |= e.role == role_kind::mlp_gate;
    any_ffn_norm |= e.role == role_kind::ffn_norm;
    any_attn_norm |= e.role == role_kind::attn_norm;
  }
  if (any_up) hp.gated_mlp = any_gate;
  if (any_attn_norm && m.family != arch_family::bert) hp.parallel_block = hp.parallel_block || !any_ffn_norm;
  // (NeoX keeps both norms; parallel or not comes from use_parallel_residual, default true)
  if (s.entry_of(role_kind::pos_embd, -1) && hp.pos != pos_kind::alibi)
    hp.pos = pos_kind::learned, hp.rope = rope_kind::none;
}

// 6a. The vocabulary's size where no file states it: LLaMA 1's params.json -1, the embedding's rows, the
// tokenizer, the GGUF token list.
void vocab_from_shapes(build_state& s) {
  const archive& a = s.a;
  hparams& hp = s.m.hp;
  const tensor_view* tokv = s.view(s.entry_of(role_kind::tok_embd, -1));
  if (const meta_value* pv = a.meta("params.vocab_size");
      hp.n_vocab == 0 && pv && pv->as_int() == -1 && a.tokenizer && a.tokenizer->size() > 0) {
    hp.n_vocab = static_cast<int64_t>(a.tokenizer->size());  // LLaMA 1's params.json: from the tokenizer
    hp.sources["n_vocab"] = "tokenizer (params.json vocab_size -1)";
  }
  if (tokv && tokv->shape.size() == 2) {
    s.infer(hp.n_embd, tokv->shape[1], "n_embd");
    s.infer(hp.n_vocab, tokv->shape[0], "n_vocab");
  }
  if (hp.n_vocab == 0 && a.tokenizer && a.tokenizer->size() > 0) {
    s.infer(hp.n_vocab, static_cast<int64_t>(a.tokenizer->size()), "n_vocab");
    hp.sources["n_vocab"] = "tokenizer";
  }
  if (hp.n_vocab == 0)
    if (const meta_value* toks = a.meta("tokenizer.ggml.tokens"); toks && toks->k == meta_value::kind::array)
      s.infer(hp.n_vocab, static_cast<int64_t>(toks->arr.size()), "n_vocab");
}

// 6b. Layers, context, FFN width and heads from tensor shapes where no file states them.
void dims_from_shapes(build_state& s) {
  const archive& a = s.a;
  model& m = s.m;
  hparams& hp = m.hp;
  s.infer(hp.n_layer, s.max_layer + 1, "n_layer");
  if (const tensor_view* pe = s.view(s.entry_of(role_kind::pos_embd, -1)); pe && !pe->shape.empty())
    s.infer(hp.n_ctx, pe->shape[0], "n_ctx");
  if (const role_entry* up = s.entry_of(role_kind::mlp_up, 0))
    if (a.tensors[up->tensor].shape.size() == 2)
      s.infer(hp.n_ff, rows_of(a.tensors[up->tensor], *up), "n_ff");
  if (hp.n_head == 0) {
    // a per-head q norm gives head_dim; otherwise the head count cannot be read from weight shapes
    const tensor_view* qn = s.view(s.entry_of(role_kind::attn_q_norm, 0));
    const role_entry* q = s.entry_of(role_kind::attn_q, 0);
    if (qn && qn->shape.size() == 1 && qn->shape[0] > 0 && q && a.tensors[q->tensor].shape.size() == 2)
      s.infer(hp.n_head, rows_of(a.tensors[q->tensor], *q) / qn->shape[0], "n_head");
  }
  if (hp.head_dim == 0 && hp.n_head > 0 && hp.n_embd > 0 && hp.n_embd % hp.n_head == 0)
    hp.head_dim = hp.n_embd / hp.n_head, hp.sources["head_dim"] = "n_embd / n_head";
  if (hp.n_head_kv == 0 && hp.head_dim > 0) {
    const role_entry* k = s.entry_of(role_kind::attn_k, 0);
    const role_entry* qkv = s.entry_of(role_kind::attn_qkv, 0);
    if (k && a.tensors[k->tensor].shape.size() == 2) {
      s.infer(hp.n_head_kv, rows_of(a.tensors[k->tensor], *k) / hp.head_dim, "n_head_kv");
    } else if (qkv && a.tensors[qkv->tensor].shape.size() == 2 && hp.n_head < k_hparam_max / hp.head_dim) {
      int64_t rest = rows_of(a.tensors[qkv->tensor], *qkv) - hp.n_head * hp.head_dim;
      if (rest > 0 && rest % (2 * hp.head_dim) == 0)
        s.infer(hp.n_head_kv, rest / (2 * hp.head_dim), "n_head_kv");
    }
  }
  if (hp.n_head_kv == 0 && hp.n_head > 0)
    hp.n_head_kv = hp.n_head, hp.sources["n_head_kv"] = "= n_head";  // multi-head attention by default
  if (hp.n_ff == 0 && hp.n_embd > 0 &&
      (m.family == arch_family::gpt2 || m.family == arch_family::bloom || m.family == arch_family::falcon ||
       m.family == arch_family::gptj))
    hp.n_ff = 4 * hp.n_embd, hp.inferred.insert("n_ff"), hp.sources["n_ff"] = "4 * n_embd";
}

// 6c. Rotary dimensions: stated, a stated fraction of head_dim, or the family's default fraction.
void rotary_dims(build_state& s) {
  model& m = s.m;
  hparams& hp = m.hp;
  const hp_reader& rd = s.rd;
  const family_defaults& d = arch_defaults(m.family);
  const std::string p = s.arch + ".";
  if (hp.rope != rope_kind::none && hp.head_dim > 0) {
    if (auto r = rd.count({p + "rope.dimension_count", "config.rotary_dim"})) {
      hp.n_rot = *r, hp.sources["n_rot"] = rd.last;
    } else if (auto f = rd.real({"config.rotary_pct", "config.partial_rotary_factor"}); f && *f <= 1.0) {
      hp.n_rot = std::llround(*f * static_cast<double>(hp.head_dim)), hp.sources["n_rot"] = rd.last;
    } else {
      hp.n_rot = std::llround(d.rotary_fraction * static_cast<double>(hp.head_dim));
      hp.sources["n_rot"] = d.rotary_fraction < 1.0 ? "family default rotary fraction" : "= head_dim";
      if (d.rotary_fraction < 1.0) hp.inferred.insert("n_rot");
    }
    if (hp.n_rot > hp.head_dim) {
      m.findings.push_back({severity::medium, "model.bad_hparam", "n_rot",
                            "rotary dimensions " + std::to_string(hp.n_rot) + " exceed head_dim " +
                                std::to_string(hp.head_dim) + "; clamped"});
      hp.n_rot = hp.head_dim;
    }
  } else if (hp.rope == rope_kind::none) {
    hp.n_rot = 0;
  }
}

bool role_is_matrix(role_kind r) {
  return r == role_kind::attn_q || r == role_kind::attn_k || r == role_kind::attn_v ||
         r == role_kind::attn_qkv || r == role_kind::attn_o || r == role_kind::mlp_gate ||
         r == role_kind::mlp_up || r == role_kind::mlp_down || r == role_kind::tok_embd ||
         r == role_kind::output;
}

// 7a. Every matrix's shape against the hyperparameters: one finding per distinct mismatch, with a count.
void check_shapes(build_state& s) {
  const archive& a = s.a;
  model& m = s.m;
  const hparams& hp = m.hp;
  struct mismatch {
    size_t count = 0;
    std::string first;
  };
  std::map<std::string, mismatch> mism;  // message -> occurrences
  auto expect = [&](const role_entry& e, int64_t got, int64_t want, const char* what) {
    if (want <= 0 || got == want) return;
    std::string msg = std::string(role_name(e.role)) + " " + what + " " + std::to_string(got) +
                      " != expected " + std::to_string(want);
    mismatch& mm = mism[msg];
    if (mm.count++ == 0) mm.first = a.tensors[e.tensor].name;
  };
  // expected widths (0 = unknown: skip the check); heads and head_dim from a file may be absurd, so cap
  // them before multiplying to keep the arithmetic in range
  constexpr int64_t k_dim_cap = int64_t{1} << 24;
  const bool dims_ok = hp.n_head < k_dim_cap && hp.n_head_kv < k_dim_cap && hp.head_dim < k_dim_cap;
  const int64_t q_out = dims_ok ? hp.n_head * hp.head_dim : 0,
                kv_out = dims_ok ? hp.n_head_kv * hp.head_dim : 0;
  for (const role_entry& e : m.roles) {
    const tensor_view& t = a.tensors[e.tensor];
    if (e.bias || !role_is_matrix(e.role)) continue;
    if (t.shape.size() != 2) {
      expect(e, static_cast<int64_t>(t.shape.size()), 2, "rank");
      continue;
    }
    int64_t r = rows_of(t, e), c = cols_of(t, e);
    switch (e.role) {
      case role_kind::attn_q:
        expect(e, r, q_out, "rows"), expect(e, c, hp.n_embd, "columns");
        break;
      case role_kind::attn_k:
      case role_kind::attn_v:
        expect(e, r, kv_out, "rows"), expect(e, c, hp.n_embd, "columns");
        break;
      case role_kind::attn_qkv:
        expect(e, r, q_out ? q_out + 2 * kv_out : 0, "rows"), expect(e, c, hp.n_embd, "columns");
        break;
      case role_kind::attn_o:
        expect(e, r, hp.n_embd, "rows"), expect(e, c, q_out, "columns");
        break;
      case role_kind::mlp_gate:
      case role_kind::mlp_up:
        expect(e, r, hp.n_ff, "rows"), expect(e, c, hp.n_embd, "columns");
        break;
      case role_kind::mlp_down:
        expect(e, r, hp.n_embd, "rows"), expect(e, c, hp.n_ff, "columns");
        break;
      case role_kind::tok_embd:
      case role_kind::output:
        expect(e, r, hp.n_vocab, "rows"), expect(e, c, hp.n_embd, "columns");
        break;
      default:
        break;
    }
  }
  for (const auto& [msg, mm] : mism)
    m.findings.push_back(
        {severity::medium, "model.shape_mismatch", mm.first,
         msg + (mm.count > 1 ? " (" + std::to_string(mm.count) + " tensors)" : std::string())});
}

// 7b. Counts against each other: layers, the tokenizer's vocabulary, heads per KV head.
void check_counts(build_state& s) {
  const archive& a = s.a;
  model& m = s.m;
  const hparams& hp = m.hp;
  if (hp.n_layer > 0 && s.max_layer >= 0 && s.max_layer + 1 != hp.n_layer)
    m.findings.push_back({severity::medium, "model.layer_count_mismatch", a.path,
                          "metadata says " + std::to_string(hp.n_layer) + " layers but tensors cover " +
                              std::to_string(s.max_layer + 1)});
  if (a.tokenizer && hp.n_vocab > 0 && a.tokenizer->size() > 0 &&
      static_cast<int64_t>(a.tokenizer->size()) != hp.n_vocab) {
    const int64_t nt = static_cast<int64_t>(a.tokenizer->size());
    if (nt > hp.n_vocab)
      m.findings.push_back({severity::medium, "model.vocab_mismatch", a.tokenizer->source,
                            "the tokenizer has " + std::to_string(nt) + " tokens but the model only " +
                                std::to_string(hp.n_vocab) +
                                " embedding rows: ids past the table have no embedding"});
    else
      m.findings.push_back({severity::info, "model.vocab_padded", a.tokenizer->source,
                            "the embedding has " + std::to_string(hp.n_vocab) + " rows for " +
                                std::to_string(nt) + " tokens (padded vocabulary)"});
  }
  if (hp.n_head > 0 && hp.n_head_kv > 0 && hp.n_head % hp.n_head_kv != 0)
    m.findings.push_back({severity::medium, "model.bad_hparam", "n_head_kv",
                          "n_head " + std::to_string(hp.n_head) + " is not a multiple of n_head_kv " +
                              std::to_string(hp.n_head_kv)});
}

// 7c. Every layer should carry the same set of roles: one finding per role some layers lack.
void check_layer_roles(build_state& s) {
  model& m = s.m;
  if (s.max_layer < 0) return;
  std::map<std::pair<role_kind, bool>, std::vector<char>> present;  // (role, bias) -> per layer
  for (const role_entry& e : m.roles)
    if (e.layer >= 0 && e.layer <= s.max_layer && role_is_parameter(e.role)) {
      auto& v = present[{e.role, e.bias}];
      v.resize(static_cast<size_t>(s.max_layer) + 1, 0);
      v[static_cast<size_t>(e.layer)] = 1;
    }
  for (const auto& [key, v] : present) {
    size_t missing = 0;
    int first = -1;
    for (size_t l = 0; l < v.size(); ++l)
      if (!v[l]) {
        ++missing;
        if (first < 0) first = static_cast<int>(l);
      }
    if (missing)
      m.findings.push_back({severity::medium, "model.layer_missing_tensor",
                            canonical_name(key.first, first, key.second),
                            std::string(role_name(key.first)) + (key.second ? " bias" : "") + " missing in " +
                                std::to_string(missing) + " of " + std::to_string(v.size()) +
                                " layers (first: " + std::to_string(first) + ")"});
  }
}

// 7d. What has no role, and files without tensors.
void report_unmapped(build_state& s) {
  const archive& a = s.a;
  model& m = s.m;
  if (!m.unmapped.empty()) {
    std::string names;
    for (size_t j = 0; j < m.unmapped.size() && j < 5; ++j)
      names += (j ? ", " : "") + a.tensors[m.unmapped[j]].name;
    if (m.unmapped.size() > 5) names += ", ...";
    m.findings.push_back({severity::info, "model.unmapped_tensor", a.tensors[m.unmapped.front()].name,
                          std::to_string(m.unmapped.size()) + " tensor(s) have no canonical role: " + names});
  }
  if (a.tensors.empty())
    m.findings.push_back({severity::info, "model.no_tensors", a.path,
                          "the files hold no tensors (metadata or vocabulary only)"});
}

// The steps in order: roles, names, defaults and layout, metadata, tensors, shapes, checks.
void build(const archive& a, model& m) {
  build_state s(a, m);
  map_roles(s);
  name_architecture(s);
  family_layout(s);
  hparams_from_metadata(s);
  structure_from_tensors(s);
  vocab_from_shapes(s);
  dims_from_shapes(s);
  rotary_dims(s);
  check_shapes(s);
  check_counts(s);
  check_layer_roles(s);
  report_unmapped(s);
}

}  // namespace

result<model> model_build(std::shared_ptr<const archive> ar) {
  std::string where = ar ? ar->path : std::string();
  return capture(where, [&]() -> model {
    if (!ar) fail(errc::bad_value, 0, "model_build: no archive");
    model m;
    m.source = ar;
    build(*ar, m);
    return m;
  });
}

}  // namespace gb
