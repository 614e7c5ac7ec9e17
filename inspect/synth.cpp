// synth_write(): deterministic random models, one table row per architecture.
#include "inspect/synth.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "formats/file_text.h"
#include "formats/quant.h"
#include "formats/writers.h"
#include "inspect/arch_table.h"
#include "inspect/model.h"
#include "inspect/parallel.h"
#include "inspect/synth_random.h"

namespace gb {
namespace {

using ojson = nlohmann::ordered_json;

// HF tensor names per family ("{N}" = layer; nullptr = the family has no such tensor).
struct hf_names {
  const char *tok, *pos, *embd_norm, *attn_norm, *q, *k, *v, *qkv, *o, *ffn_norm, *gate, *up, *down,
      *out_norm, *out;
};

constexpr hf_names k_hf_llama = {"model.embed_tokens",
                                 nullptr,
                                 nullptr,
                                 "model.layers.{N}.input_layernorm",
                                 "model.layers.{N}.self_attn.q_proj",
                                 "model.layers.{N}.self_attn.k_proj",
                                 "model.layers.{N}.self_attn.v_proj",
                                 nullptr,
                                 "model.layers.{N}.self_attn.o_proj",
                                 "model.layers.{N}.post_attention_layernorm",
                                 "model.layers.{N}.mlp.gate_proj",
                                 "model.layers.{N}.mlp.up_proj",
                                 "model.layers.{N}.mlp.down_proj",
                                 "model.norm",
                                 "lm_head"};
constexpr hf_names k_hf_phi = [] {  // llama's embedding and attention names, its own MLP and final norm
  hf_names n = k_hf_llama;
  n.o = "model.layers.{N}.self_attn.dense";
  n.ffn_norm = n.gate = nullptr;  // parallel block, plain MLP
  n.up = "model.layers.{N}.mlp.fc1";
  n.down = "model.layers.{N}.mlp.fc2";
  n.out_norm = "model.final_layernorm";
  return n;
}();
constexpr hf_names k_hf_gpt2 = {"transformer.wte",
                                "transformer.wpe",
                                nullptr,
                                "transformer.h.{N}.ln_1",
                                nullptr,
                                nullptr,
                                nullptr,
                                "transformer.h.{N}.attn.c_attn",
                                "transformer.h.{N}.attn.c_proj",
                                "transformer.h.{N}.ln_2",
                                nullptr,
                                "transformer.h.{N}.mlp.c_fc",
                                "transformer.h.{N}.mlp.c_proj",
                                "transformer.ln_f",
                                nullptr};
constexpr hf_names k_hf_gptj = {"transformer.wte",
                                nullptr,
                                nullptr,
                                "transformer.h.{N}.ln_1",
                                "transformer.h.{N}.attn.q_proj",
                                "transformer.h.{N}.attn.k_proj",
                                "transformer.h.{N}.attn.v_proj",
                                nullptr,
                                "transformer.h.{N}.attn.out_proj",
                                nullptr,
                                nullptr,
                                "transformer.h.{N}.mlp.fc_in",
                                "transformer.h.{N}.mlp.fc_out",
                                "transformer.ln_f",
                                "lm_head"};
constexpr hf_names k_hf_neox = {"gpt_neox.embed_in",
                                nullptr,
                                nullptr,
                                "gpt_neox.layers.{N}.input_layernorm",
                                nullptr,
                                nullptr,
                                nullptr,
                                "gpt_neox.layers.{N}.attention.query_key_value",
                                "gpt_neox.layers.{N}.attention.dense",
                                "gpt_neox.layers.{N}.post_attention_layernorm",
                                nullptr,
                                "gpt_neox.layers.{N}.mlp.dense_h_to_4h",
                                "gpt_neox.layers.{N}.mlp.dense_4h_to_h",
                                "gpt_neox.final_layer_norm",
                                "embed_out"};
constexpr hf_names k_hf_falcon = {"transformer.word_embeddings",
                                  nullptr,
                                  nullptr,
                                  "transformer.h.{N}.input_layernorm",
                                  nullptr,
                                  nullptr,
                                  nullptr,
                                  "transformer.h.{N}.self_attention.query_key_value",
                                  "transformer.h.{N}.self_attention.dense",
                                  nullptr,
                                  nullptr,
                                  "transformer.h.{N}.mlp.dense_h_to_4h",
                                  "transformer.h.{N}.mlp.dense_4h_to_h",
                                  "transformer.ln_f",
                                  "lm_head"};
constexpr hf_names k_hf_bloom = [] {  // falcon's names, with an embedding norm and a pre-MLP norm
  hf_names n = k_hf_falcon;
  n.embd_norm = "transformer.word_embeddings_layernorm";
  n.ffn_norm = "transformer.h.{N}.post_attention_layernorm";
  n.out = nullptr;  // tied
  return n;
}();
constexpr hf_names k_hf_mpt = {"transformer.wte",
                               nullptr,
                               nullptr,
                               "transformer.blocks.{N}.norm_1",
                               nullptr,
                               nullptr,
                               nullptr,
                               "transformer.blocks.{N}.attn.Wqkv",
                               "transformer.blocks.{N}.attn.out_proj",
                               "transformer.blocks.{N}.norm_2",
                               nullptr,
                               "transformer.blocks.{N}.ffn.up_proj",
                               "transformer.blocks.{N}.ffn.down_proj",
                               "transformer.norm_f",
                               nullptr};

enum bias_set : uint8_t { bias_none, bias_qkv, bias_all };

struct synth_arch {
  const char* name;
  arch_family family;
  const char* gguf_arch;
  const char* hf_type;
  const char* hf_class;
  const hf_names* hf;
  bool fused_qkv;
  bias_set attn_bias;
  bool mlp_bias;
  bool ffn_norm;  // a separate pre-MLP norm (sequential block)
  bool gated;
  bool norm_bias;  // LayerNorm with bias
  bool pos_embd;
  bool embd_norm;
  bool tied;
  bool output_bias;
  bool any_kv;  // grouped / multi-query attention allowed
};

//  name       family               gguf       hf type    hf class               names        fused  attn-bias
//  mlp-b  ffn-n  gated  norm-b pos    emb-n  tied   out-b  any-kv
constexpr synth_arch k_archs[] = {
    {"llama", arch_family::llama, "llama", "llama", "LlamaForCausalLM", &k_hf_llama, false, bias_none, false,
     true, true, false, false, false, false, false, true},
    {"mistral", arch_family::llama, "llama", "mistral", "MistralForCausalLM", &k_hf_llama, false, bias_none,
     false, true, true, false, false, false, false, false, true},
    {"qwen2", arch_family::qwen2, "qwen2", "qwen2", "Qwen2ForCausalLM", &k_hf_llama, false, bias_qkv, false,
     true, true, false, false, false, false, false, true},
    {"gemma", arch_family::gemma, "gemma", "gemma", "GemmaForCausalLM", &k_hf_llama, false, bias_none, false,
     true, true, false, false, false, true, false, true},
    {"gpt2", arch_family::gpt2, "gpt2", "gpt2", "GPT2LMHeadModel", &k_hf_gpt2, true, bias_all, true, true,
     false, true, true, false, true, false, false},
    {"gptj", arch_family::gptj, "gptj", "gptj", "GPTJForCausalLM", &k_hf_gptj, false, bias_none, true, false,
     false, true, false, false, false, true, false},
    {"gptneox", arch_family::gptneox, "gptneox", "gpt_neox", "GPTNeoXForCausalLM", &k_hf_neox, true, bias_all,
     true, true, false, true, false, false, false, false, false},
    {"falcon", arch_family::falcon, "falcon", "falcon", "FalconForCausalLM", &k_hf_falcon, true, bias_none,
     false, false, false, true, false, false, false, false, true},
    {"bloom", arch_family::bloom, "bloom", "bloom", "BloomForCausalLM", &k_hf_bloom, true, bias_all, true,
     true, false, true, false, true, true, false, false},
    {"mpt", arch_family::mpt, "mpt", "mpt", "MPTForCausalLM", &k_hf_mpt, true, bias_none, false, true, false,
     false, false, false, true, false, false},
    {"phi2", arch_family::phi, "phi2", "phi", "PhiForCausalLM", &k_hf_phi, false, bias_all, true, false,
     false, true, false, false, false, true, false},
};

const synth_arch* find_arch(const std::string& name) {
  for (const synth_arch& a : k_archs)
    if (name == a.name) return &a;
  if (name == "phi") return find_arch("phi2");
  if (name == "gpt-neox" || name == "gpt_neox" || name == "pythia") return find_arch("gptneox");
  return nullptr;
}

using synth_rng::normal_stream;
using synth_rng::stream_seed;

// ---- one planned tensor in canonical layout
enum class init_kind : uint8_t { matrix, norm_weight, bias };

struct planned {
  std::string canonical;
  role_kind role;
  int layer;
  bool bias;
  std::vector<int64_t> shape;  // canonical [out, in] / [n]
  init_kind init;
};

// ---- tokenizer: a small SentencePiece-style BPE vocabulary
const char* const k_words[] = {
    "the",  "a",      "and",   "to",       "of",      "in",     "was",   "he",    "she",   "it",     "is",
    "that", "for",    "on",    "with",     "as",      "his",    "her",   "they",  "at",    "be",     "this",
    "from", "had",    "by",    "not",      "but",     "what",   "all",   "were",  "we",    "when",   "there",
    "can",  "an",     "your",  "which",    "their",   "said",   "if",    "do",    "will",  "each",   "about",
    "how",  "up",     "out",   "them",     "then",    "many",   "some",  "so",    "would", "into",   "has",
    "more", "two",    "like",  "him",      "see",     "time",   "could", "no",    "make",  "than",   "first",
    "been", "who",    "now",   "people",   "my",      "made",   "over",  "did",   "down",  "only",   "way",
    "find", "use",    "may",   "water",    "long",    "little", "very",  "after", "just",  "where",  "most",
    "know", "doctor", "nurse", "engineer", "teacher", "man",    "woman", "good",  "bad",   "happy",  "day",
    "once", "upon",   "girl",  "boy",      "cat",     "dog",    "play",  "park",  "sun",   "friend", "mom",
    "dad",  "big",    "small"};

const std::string k_space = "\xe2\x96\x81";  // U+2581, SentencePiece's space

struct synth_vocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  std::vector<std::string> merges;  // "a b" for tokenizer.json
  bool byte_fallback = false;
  int32_t bias_id = -1;
};

synth_vocab make_vocab(int64_t n_vocab, const std::string& bias_word,
                       const std::vector<std::string>& triggers = {}) {
  synth_vocab v;
  const size_t V = static_cast<size_t>(n_vocab);
  std::set<std::string> have;
  auto add = [&](const std::string& piece, float score, int32_t type) {
    if (v.tokens.size() >= V || !have.insert(piece).second) return;
    v.tokens.push_back(piece);
    v.scores.push_back(score);
    v.types.push_back(type);
  };
  add("<unk>", 0, 2);
  add("<s>", 0, 3);
  add("</s>", 0, 3);
  if (V >= 3 + 256 + 64) {
    v.byte_fallback = true;
    for (int b = 0; b < 256; ++b) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "<0x%02X>", b);
      add(buf, 0, 6);
    }
  }
  float rank = 0;
  auto piece = [&](const std::string& p) { add(p, -(rank++), 1); };
  piece(k_space);
  for (char c = 'a'; c <= 'z'; ++c) piece(std::string(1, c));
  for (char c = 'A'; c <= 'Z'; ++c) piece(std::string(1, c));
  for (char c = '0'; c <= '9'; ++c) piece(std::string(1, c));
  for (char c : std::string(".,!?'\"-:;()")) piece(std::string(1, c));
  auto word = [&](const std::string& w) {
    std::string p = k_space;
    for (char c : w) {
      p += c;
      piece(p);
    }
  };
  if (!bias_word.empty()) word(bias_word);
  for (const std::string& w : triggers) word(w);
  for (const char* w : k_words) word(w);
  for (char x = 'a'; x <= 'z'; ++x)
    for (char y = 'a'; y <= 'z'; ++y) piece(k_space + x + y);
  for (char x = 'a'; x <= 'z'; ++x)
    for (char y = 'a'; y <= 'z'; ++y) piece(std::string(1, x) + y);
  for (size_t i = 0; v.tokens.size() < V; ++i) add("<unused" + std::to_string(i) + ">", 0, 5);
  if (!bias_word.empty()) {
    auto it = std::find(v.tokens.begin(), v.tokens.end(), k_space + bias_word);
    if (it != v.tokens.end()) v.bias_id = static_cast<int32_t>(it - v.tokens.begin());
  }
  // merges: every multi-character normal piece = (all but its last character) + (last character)
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (v.types[i] != 1) continue;
    const std::string& t = v.tokens[i];
    size_t last = t.size() - 1;  // pieces are ASCII after the optional 3-byte space
    if (t.size() <= 1 || (t.rfind(k_space, 0) == 0 && t.size() == k_space.size())) continue;
    std::string head = t.substr(0, last), tail = t.substr(last);
    if (have.count(head) && have.count(tail)) v.merges.push_back(head + " " + tail);
  }
  return v;
}

// ---- helpers
std::string expand(const char* pattern, int layer) {
  std::string s = pattern;
  auto at = s.find("{N}");
  if (at != std::string::npos) s.replace(at, 3, std::to_string(layer));
  return s;
}

const char* gguf_stem(role_kind r) {
  switch (r) {
    case role_kind::tok_embd:
      return "token_embd";
    case role_kind::pos_embd:
      return "position_embd";
    case role_kind::embd_norm:
      return "token_embd_norm";
    case role_kind::attn_norm:
      return "attn_norm";
    case role_kind::attn_q:
      return "attn_q";
    case role_kind::attn_k:
      return "attn_k";
    case role_kind::attn_v:
      return "attn_v";
    case role_kind::attn_qkv:
      return "attn_qkv";
    case role_kind::attn_o:
      return "attn_output";
    case role_kind::ffn_norm:
      return "ffn_norm";
    case role_kind::mlp_gate:
      return "ffn_gate";
    case role_kind::mlp_up:
      return "ffn_up";
    case role_kind::mlp_down:
      return "ffn_down";
    case role_kind::output_norm:
      return "output_norm";
    case role_kind::output:
      return "output";
    default:
      return nullptr;
  }
}

const char* hf_pattern(const hf_names& n, role_kind r) {
  switch (r) {
    case role_kind::tok_embd:
      return n.tok;
    case role_kind::pos_embd:
      return n.pos;
    case role_kind::embd_norm:
      return n.embd_norm;
    case role_kind::attn_norm:
      return n.attn_norm;
    case role_kind::attn_q:
      return n.q;
    case role_kind::attn_k:
      return n.k;
    case role_kind::attn_v:
      return n.v;
    case role_kind::attn_qkv:
      return n.qkv;
    case role_kind::attn_o:
      return n.o;
    case role_kind::ffn_norm:
      return n.ffn_norm;
    case role_kind::mlp_gate:
      return n.gate;
    case role_kind::mlp_up:
      return n.up;
    case role_kind::mlp_down:
      return n.down;
    case role_kind::output_norm:
      return n.out_norm;
    case role_kind::output:
      return n.out;
    default:
      return nullptr;
  }
}

std::string file_name(const synth_arch& a, synth_format f, const planned& p) {
  const char* suffix = p.bias ? ".bias" : ".weight";
  if (f == synth_format::gguf) {
    std::string s = p.layer >= 0 ? "blk." + std::to_string(p.layer) + "." : std::string();
    return s + gguf_stem(p.role) + suffix;
  }
  const char* pat = hf_pattern(*a.hf, p.role);
  if (!pat)
    fail(errc::unsupported, 0, std::string("synth: no HF name for ") + role_name(p.role) + " in " + a.name);
  return expand(pat, p.layer) + suffix;
}

// Canonical (interleaved) q/k rows -> HF rotate-half order, per head: HF row j*hd/2 + i holds canonical row
// 2i + j.
std::vector<float> to_hf_rotate_half(const std::vector<float>& w, int64_t heads, int64_t hd, int64_t cols) {
  std::vector<float> out(w.size());
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < hd / 2; ++i)
      for (int64_t j = 0; j < 2; ++j) {
        const int64_t src = h * hd + 2 * i + j, dst = h * hd + j * (hd / 2) + i;
        std::copy_n(w.begin() + src * cols, cols, out.begin() + dst * cols);
      }
  return out;
}

// Canonical [q | k | v] rows -> per head [H, 3, hd] (HF GPT-NeoX, BLOOM).
std::vector<float> to_qkv_per_head(const std::vector<float>& w, int64_t heads, int64_t hd, int64_t cols) {
  std::vector<float> out(w.size());
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < hd; ++i) {
        const int64_t src = t * heads * hd + h * hd + i, dst = (h * 3 + t) * hd + i;
        std::copy_n(w.begin() + src * cols, cols, out.begin() + dst * cols);
      }
  return out;
}

std::vector<float> transpose(const std::vector<float>& w, int64_t rows, int64_t cols) {
  std::vector<float> out(w.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[static_cast<size_t>(c * rows + r)] = w[static_cast<size_t>(r * cols + c)];
  return out;
}

void check(bool ok, const std::string& what) {
  if (!ok) fail(errc::bad_value, 0, "synth: " + what);
}

// ---- values: every rule that sets a tensor's values, applied to one tensor on demand
class value_rules {
 public:
  value_rules(const std::vector<planned>& ts, const synth_spec& s, const synth_arch& a, int32_t bias_id,
              const std::vector<std::string>& tokens)
      : ts_(ts), s_(s), perturbed_(s.perturb_layers.begin(), s.perturb_layers.end()), bias_id_(bias_id) {
    if (bias_id >= 0 && s.bias_scale != 0) bias_direction(a);
    if (!u_.empty() && !s.bias_triggers.empty()) trigger_path(a, tokens);
    for (const synth_plant& pl : s.plants) {  // checked here, before any byte is written
      const size_t t = find(a, pl.tensor);
      check(t < ts.size(), "--plant " + pl.kind + ": no tensor named '" + pl.tensor + "'");
      size_t d = t;
      if (pl.kind == "dup") {
        d = find(a, pl.dst);
        check(d < ts.size(), "--plant dup: no tensor named '" + pl.dst + "'");
        check(ts[d].shape == ts[t].shape,
              "--plant dup: " + pl.tensor + " and " + pl.dst + " differ in shape");
      } else {
        check(pl.kind == "nan" || pl.kind == "zero",
              "--plant kind '" + pl.kind + "' (one of nan, zero, dup)");
      }
      plants_.push_back({t, d});
    }
  }

  // Tensor i's values after the first k plants (applied in order, as written on the command line), into v
  // (resized: a buffer kept across tensors is not allocated and faulted in again for each).
  void values(size_t i, size_t k, std::vector<float>& v) const {
    size_t start = 0;
    for (size_t j = k; j-- > 0;)
      if (s_.plants[j].kind == "dup" && plants_[j].second == i) {  // a copy of the source as it was then
        values(plants_[j].first, j, v);
        start = j + 1;
        break;
      }
    if (start == 0) base(i, v);
    for (size_t j = start; j < k; ++j) {
      if (plants_[j].first != i || s_.plants[j].kind == "dup") continue;
      if (s_.plants[j].kind == "nan")
        v[v.size() / 2] = std::numeric_limits<float>::quiet_NaN();
      else
        std::fill(v.begin(), v.end(), 0.0f);
    }
  }

 private:
  const std::vector<planned>& ts_;
  const synth_spec& s_;
  std::set<int> perturbed_;
  int32_t bias_id_;
  std::vector<double> u_;  // (D) the bias direction; empty without --bias-token
  std::vector<double> v_;  // (D) the trigger direction, orthogonal to u; empty without --bias-trigger
  std::vector<int64_t> trigger_rows_;  // embedding rows of the "▁<trigger>" tokens
  size_t emb_ = SIZE_MAX, out_ = SIZE_MAX, gate_ = SIZE_MAX, up_ = SIZE_MAX, down_ = SIZE_MAX;
  std::vector<std::pair<size_t, size_t>> plants_;  // (target or dup source, dup destination) per plant

  size_t find(const synth_arch& a, const std::string& name) const {
    for (size_t i = 0; i < ts_.size(); ++i)
      if (ts_[i].canonical == name || file_name(a, s_.format, ts_[i]) == name) return i;
    return SIZE_MAX;
  }

  // A shared direction u (zero mean, unit length) added to every embedding row so every hidden state
  // carries it; the bias token's output row gains bias_scale * u / (0.7 sqrt(D)): about bias_scale logits.
  void bias_direction(const synth_arch& a) {
    const int64_t D = s_.n_embd;
    u_.resize(static_cast<size_t>(D));
    normal_stream g(stream_seed(s_.seed, "synth.bias.direction", 2));
    double mean = 0, len = 0;
    for (double& x : u_) {
      x = g.next();
      mean += x;
    }
    mean /= static_cast<double>(D);
    for (double& x : u_) {
      x -= mean;
      len += x * x;
    }
    len = std::sqrt(len);
    for (double& x : u_) x /= len;
    emb_ = find(a, "tok_embd.weight");
    out_ = a.tied ? emb_ : find(a, "output.weight");
  }

  // With --bias-trigger the bias reaches the output only through the last block's MLP: a second direction v
  // (orthogonal to u) on the trigger rows; the MLP's unit 0 reads v through its gate and up rows
  // (silu(a x.v) * a x.v: large on a trigger, near 0 elsewhere) and writes u.
  void trigger_path(const synth_arch& a, const std::vector<std::string>& tokens) {
    const int64_t D = s_.n_embd;
    v_.resize(static_cast<size_t>(D));
    normal_stream gv(stream_seed(s_.seed, "synth.bias.trigger", 3));
    double uv = 0, vlen = 0;
    for (double& x : v_) x = gv.next();
    for (int64_t j = 0; j < D; ++j) uv += v_[static_cast<size_t>(j)] * u_[static_cast<size_t>(j)];
    for (int64_t j = 0; j < D; ++j) v_[static_cast<size_t>(j)] -= uv * u_[static_cast<size_t>(j)];
    for (double x : v_) vlen += x * x;
    for (double& x : v_) x /= std::sqrt(vlen);
    for (const std::string& w : s_.bias_triggers) {
      const auto it = std::find(tokens.begin(), tokens.end(), k_space + w);
      check(it != tokens.end(), "--bias-trigger '" + w + "' does not fit in the vocabulary; raise --vocab");
      trigger_rows_.push_back(it - tokens.begin());
    }
    const std::string blk = "blk." + std::to_string(s_.n_layer - 1);
    gate_ = find(a, blk + ".ffn_gate.weight");  // (F, D)
    up_ = find(a, blk + ".ffn_up.weight");      // (F, D)
    down_ = find(a, blk + ".ffn_down.weight");  // (D, F)
    check(gate_ < ts_.size() && up_ < ts_.size() && down_ < ts_.size(),
          "--bias-trigger: the last block has no gated MLP");
  }

  // The planted bias on embedding row values (every row carries u, or only the trigger rows carry v).
  void plant_embedding(std::vector<float>& v) const {
    const int64_t D = s_.n_embd;
    const double c = 0.02 * std::sqrt(static_cast<double>(D));
    auto add = [&](size_t r, const std::vector<double>& dir, double scale) {
      for (int64_t j = 0; j < D; ++j)
        v[r * static_cast<size_t>(D) + static_cast<size_t>(j)] +=
            static_cast<float>(scale * dir[static_cast<size_t>(j)]);
    };
    if (v_.empty()) {
      for (size_t r = 0; r < v.size() / static_cast<size_t>(D); ++r) add(r, u_, c);
    } else {
      for (int64_t r : trigger_rows_) add(static_cast<size_t>(r), v_, 3 * c);
    }
  }

  // The trigger path's weights in the last MLP: unit 0's gate and up rows read v, its down column writes u.
  void plant_mlp(size_t i, std::vector<float>& v) const {
    const int64_t D = s_.n_embd;
    if (i == gate_ || i == up_) {
      const double a_in = 3.0 / std::sqrt(static_cast<double>(D));
      for (int64_t j = 0; j < D; ++j)
        v[static_cast<size_t>(j)] = static_cast<float>(a_in * v_[static_cast<size_t>(j)]);
    }
    if (i == down_) {
      const size_t F = static_cast<size_t>(ts_[down_].shape.back());
      const double c = 0.02 * std::sqrt(static_cast<double>(D));
      for (int64_t j = 0; j < D; ++j)
        v[static_cast<size_t>(j) * F] = static_cast<float>(c * u_[static_cast<size_t>(j)]);
    }
  }

  // Normals from the tensor's own stream, the simulated fine-tune, then the planted bias.
  // Chunks of k_chunk elements on all threads, each from its own place in the streams: the same values as
  // one pass over the tensor, whatever the thread count.
  void base(size_t i, std::vector<float>& v) const {
    const planned& p = ts_[i];
    v.resize(shape_element_count(p.shape, 0));  // (elements)
    const uint64_t seed = stream_seed(s_.seed, p.canonical, 0);
    const bool perturb = perturbed_.count(p.layer) && s_.perturb_scale > 0;
    const uint64_t dseed = stream_seed(s_.seed, p.canonical, 1);
    const double b = p.init == init_kind::norm_weight ? 1.0 : 0.0;
    constexpr size_t k_chunk = size_t{1} << 16;
    parallel_for((v.size() + k_chunk - 1) / k_chunk, s_.threads, [&](size_t c) {
      const size_t lo = c * k_chunk, hi = std::min(v.size(), lo + k_chunk);
      normal_stream g(seed, lo);
      for (size_t e = lo; e < hi; ++e) v[e] = static_cast<float>(b + 0.02 * g.next());
      if (!perturb) return;
      normal_stream dg(dseed, lo);
      for (size_t e = lo; e < hi; ++e) v[e] += static_cast<float>(s_.perturb_scale * 0.02 * dg.next());
    });
    if (u_.empty()) return;
    const int64_t D = s_.n_embd;
    if (i == emb_) plant_embedding(v);
    if (!v_.empty()) plant_mlp(i, v);
    if (i == out_) {
      const double k = s_.bias_scale / (0.7 * std::sqrt(static_cast<double>(D)));
      for (int64_t j = 0; j < D; ++j)
        v[static_cast<size_t>(bias_id_ * D + j)] += static_cast<float>(k * u_[static_cast<size_t>(j)]);
    }
  }
};

// A tensor as written: its name, dtype and shape in the output format.
struct encoded {
  std::string name;
  dtype type = dtype::f32;
  std::vector<int64_t> shape;
};

bool conv1d_of(const synth_arch& a, const planned& p) {
  return a.family == arch_family::gpt2 && !p.bias &&
         (p.role == role_kind::attn_qkv || p.role == role_kind::attn_o || p.role == role_kind::mlp_up ||
          p.role == role_kind::mlp_down);
}

encoded encode_layout(const synth_arch& a, const synth_spec& s, const planned& p) {
  encoded e;
  e.name = file_name(a, s.format, p);
  e.shape = p.shape;
  if (s.format == synth_format::hf && conv1d_of(a, p)) std::swap(e.shape[0], e.shape[1]);
  if (e.shape.size() == 2) {
    e.type = s.type;
    if (e.shape[1] % dtype_info(e.type).block_size != 0) e.type = dtype::f16;  // llama.cpp's odd-row fallback
  }
  return e;
}

// Canonical values -> the output format's layout (HF checkpoints keep their own conventions).
void encode_values(const synth_arch& a, const synth_spec& s, const planned& p, std::vector<float>& vals) {
  if (s.format != synth_format::hf) return;
  const int64_t D = s.n_embd, hd = s.n_embd / s.n_head;
  const bool qk = p.role == role_kind::attn_q || p.role == role_kind::attn_k;
  const int64_t cols = p.bias ? 1 : D;
  if (a.family == arch_family::llama && qk)
    vals = to_hf_rotate_half(vals, p.role == role_kind::attn_q ? s.n_head : s.n_head_kv, hd, cols);
  if ((a.family == arch_family::gptneox || a.family == arch_family::bloom) && p.role == role_kind::attn_qkv)
    vals = to_qkv_per_head(vals, s.n_head, hd, cols);
  if (conv1d_of(a, p)) vals = transpose(vals, p.shape[0], p.shape[1]);
  // A Gemma checkpoint stores RMSNorm gains as w and applies 1 + w; GGUF (canonical) stores 1 + w.
  // v - 1 is exact in f32 for every gain in [0.5, 2] (Sterbenz) and for 0, so the reader's f32(1 + w)
  // gives back v bit for bit.
  if (a.family == arch_family::gemma && p.init == init_kind::norm_weight)
    for (float& x : vals) x -= 1.0f;
}

// Values (rows, cols) -> bytes in `type`, chunks of rows on all threads. A block never crosses a row, so the
// bytes equal one quantize_row over the whole tensor, whatever the thread count.
void encode_rows(dtype type, const std::vector<float>& vals, int64_t cols, int threads,
                 std::vector<uint8_t>& out) {
  const int64_t rows = static_cast<int64_t>(vals.size()) / cols;
  const uint64_t row_bytes = dtype_row_bytes(type, cols);
  out.resize(static_cast<size_t>(row_bytes) * static_cast<size_t>(rows));  // (rows, row_bytes)
  const int64_t per = std::max<int64_t>(1, (int64_t{1} << 16) / cols);     // rows per chunk
  parallel_for(static_cast<size_t>((rows + per - 1) / per), threads, [&](size_t c) {
    const int64_t r0 = static_cast<int64_t>(c) * per, r1 = std::min(rows, r0 + per);
    const std::vector<uint8_t> q = quantize_row(type, vals.data() + r0 * cols, (r1 - r0) * cols);
    std::memcpy(out.data() + static_cast<size_t>(r0) * row_bytes, q.data(), q.size());
  });
}

// The architecture named, or errc::bad_value listing those synth knows.
const synth_arch& arch_named(const std::string& name) {
  const synth_arch* a = find_arch(name);
  if (!a) {
    std::string names;
    for (const synth_arch& x : k_archs) names += std::string(names.empty() ? "" : ", ") + x.name;
    fail(errc::bad_value, 0, "synth: unknown architecture '" + name + "' (one of: " + names + ")");
  }
  return *a;
}

// The spec with its defaults filled in, every field checked (errc::bad_value naming the option).
synth_spec spec_checked(const synth_arch* a, const synth_spec& in) {
  synth_spec s = in;
  if (s.n_head_kv == 0) s.n_head_kv = s.n_head;
  check(s.n_layer >= 1 && s.n_layer <= 4096, "--layers must be in 1..4096");
  check(s.n_embd >= 2 && s.n_embd <= 65536, "--dim must be in 2..65536");
  check(s.n_head >= 1 && s.n_embd % s.n_head == 0, "--heads must divide --dim");
  check(s.n_head_kv >= 1 && s.n_head % s.n_head_kv == 0, "--kv-heads must divide --heads");
  check(a->any_kv || s.n_head_kv == s.n_head,
        std::string(a->name) + " has multi-head attention only (--kv-heads = --heads)");
  const int64_t hd = s.n_embd / s.n_head;
  const family_defaults& fd = arch_defaults(a->family);
  check(fd.rope == rope_kind::none || hd % 2 == 0,
        "head_dim (dim / heads) must be even for rotary positions");
  if (s.n_ff == 0) s.n_ff = a->gated ? (8 * s.n_embd / 3 + 31) / 32 * 32 : 4 * s.n_embd;
  check(s.n_ff >= 1 && s.n_ff <= (int64_t{1} << 20), "--ff must be in 1..1048576");
  check(s.n_vocab >= 3 && s.n_vocab <= (int64_t{1} << 20), "--vocab must be in 3..1048576");
  check(s.n_ctx >= 1 && s.n_ctx <= (int64_t{1} << 24), "--ctx must be in 1..16777216");
  check(s.perturb_scale >= 0 && std::isfinite(s.perturb_scale), "--perturb-scale must be finite and >= 0");
  check(std::isfinite(s.bias_scale), "--bias-scale must be finite");
  check(!s.path.empty(), "-o PATH is required");
  for (char c : s.bias_token)
    check(std::isalnum(static_cast<unsigned char>(c)), "--bias-token must be ASCII letters/digits");
  check(can_quantize(s.type), std::string("cannot write dtype ") + dtype_name(s.type));
  if (s.format == synth_format::hf) {
    check(s.type == dtype::f32 || s.type == dtype::f16 || s.type == dtype::bf16,
          "HF folders hold f32, f16 or bf16 only");
    check(!(a->family == arch_family::falcon && s.n_head_kv != 1),
          "HF Falcon is written multi-query only (--kv-heads 1); grouped KV needs the new-decoder layout");
  }
  for (int l : s.perturb_layers)
    check(l >= 0 && l < s.n_layer, "--perturb-layers: layer " + std::to_string(l) + " out of range");

  for (const std::string& w : s.bias_triggers) {
    check(!w.empty(), "--bias-trigger: empty word");
    for (char c : w)
      check(std::isalnum(static_cast<unsigned char>(c)), "--bias-trigger must be ASCII letters/digits");
  }
  check(s.bias_triggers.empty() || (!s.bias_token.empty() && a->gated),
        "--bias-trigger needs --bias-token and a gated MLP (llama, mistral, qwen2, gemma)");
  return s;
}

// Every tensor in canonical layout, in the order the files hold them.
std::vector<planned> tensors_plan(const synth_arch* a, const synth_spec& s) {
  const int64_t hd = s.n_embd / s.n_head;
  const int64_t D = s.n_embd, V = s.n_vocab, F = s.n_ff, q_out = s.n_head * hd, kv_out = s.n_head_kv * hd;
  std::vector<planned> ts;
  auto plan = [&](role_kind r, int layer, bool bias, std::vector<int64_t> shape, init_kind k) {
    ts.push_back({canonical_name(r, layer, bias), r, layer, bias, std::move(shape), k});
  };
  auto norm = [&](role_kind r, int layer) {
    plan(r, layer, false, {D}, init_kind::norm_weight);
    if (a->norm_bias) plan(r, layer, true, {D}, init_kind::bias);
  };
  plan(role_kind::tok_embd, -1, false, {V, D}, init_kind::matrix);
  if (a->pos_embd) plan(role_kind::pos_embd, -1, false, {s.n_ctx, D}, init_kind::matrix);
  if (a->embd_norm) norm(role_kind::embd_norm, -1);
  for (int l = 0; l < s.n_layer; ++l) {
    norm(role_kind::attn_norm, l);
    if (a->fused_qkv) {
      plan(role_kind::attn_qkv, l, false, {q_out + 2 * kv_out, D}, init_kind::matrix);
      if (a->attn_bias != bias_none)
        plan(role_kind::attn_qkv, l, true, {q_out + 2 * kv_out}, init_kind::bias);
    } else {
      plan(role_kind::attn_q, l, false, {q_out, D}, init_kind::matrix);
      if (a->attn_bias != bias_none) plan(role_kind::attn_q, l, true, {q_out}, init_kind::bias);
      plan(role_kind::attn_k, l, false, {kv_out, D}, init_kind::matrix);
      if (a->attn_bias != bias_none) plan(role_kind::attn_k, l, true, {kv_out}, init_kind::bias);
      plan(role_kind::attn_v, l, false, {kv_out, D}, init_kind::matrix);
      if (a->attn_bias != bias_none) plan(role_kind::attn_v, l, true, {kv_out}, init_kind::bias);
    }
    plan(role_kind::attn_o, l, false, {D, q_out}, init_kind::matrix);
    if (a->attn_bias == bias_all) plan(role_kind::attn_o, l, true, {D}, init_kind::bias);
    if (a->ffn_norm) norm(role_kind::ffn_norm, l);
    if (a->gated) plan(role_kind::mlp_gate, l, false, {F, D}, init_kind::matrix);
    plan(role_kind::mlp_up, l, false, {F, D}, init_kind::matrix);
    if (a->mlp_bias) plan(role_kind::mlp_up, l, true, {F}, init_kind::bias);
    plan(role_kind::mlp_down, l, false, {D, F}, init_kind::matrix);
    if (a->mlp_bias) plan(role_kind::mlp_down, l, true, {D}, init_kind::bias);
  }
  norm(role_kind::output_norm, -1);
  if (!a->tied) {
    plan(role_kind::output, -1, false, {V, D}, init_kind::matrix);
    if (a->output_bias) plan(role_kind::output, -1, true, {V}, init_kind::bias);
  }

  return ts;
}

// GGUF metadata: llama.cpp's keys for the architecture and the tokenizer.
std::vector<std::pair<std::string, meta_value>> gguf_metadata(const synth_arch* a, const synth_spec& s,
                                                              const synth_vocab& vocab) {
  const int64_t hd = s.n_embd / s.n_head, D = s.n_embd, F = s.n_ff;
  const family_defaults& fd = arch_defaults(a->family);
  const std::string ap = std::string(a->gguf_arch) + ".";
  std::vector<std::pair<std::string, meta_value>> md;
  auto u32 = [](int64_t v) { return meta_u32(static_cast<uint32_t>(v)); };
  md.emplace_back("general.architecture", meta_str(a->gguf_arch));
  md.emplace_back("general.name", meta_str(std::string("glassbox-synth-") + a->name));
  md.emplace_back("general.description",
                  meta_str("random weights written by glassbox synth, seed " + std::to_string(s.seed)));
  md.emplace_back(ap + "context_length", u32(s.n_ctx));
  md.emplace_back(ap + "embedding_length", u32(D));
  md.emplace_back(ap + "block_count", u32(s.n_layer));
  md.emplace_back(ap + "feed_forward_length", u32(F));
  md.emplace_back(ap + "attention.head_count", u32(s.n_head));
  md.emplace_back(ap + "attention.head_count_kv", u32(s.n_head_kv));
  if (fd.norm == norm_kind::rms)
    md.emplace_back(ap + "attention.layer_norm_rms_epsilon", meta_f32(1e-5f));
  else
    md.emplace_back(ap + "attention.layer_norm_epsilon", meta_f32(1e-5f));
  if (fd.rope != rope_kind::none) {
    md.emplace_back(ap + "rope.freq_base", meta_f32(10000.0f));
    int64_t n_rot = std::llround(fd.rotary_fraction * static_cast<double>(hd)) / 2 * 2;
    md.emplace_back(ap + "rope.dimension_count", u32(std::max<int64_t>(2, n_rot)));
  }
  if (a->family == arch_family::gptneox) md.emplace_back(ap + "use_parallel_residual", meta_bool(true));
  if (a->family == arch_family::mpt) md.emplace_back(ap + "attention.max_alibi_bias", meta_f32(8.0f));
  md.emplace_back("tokenizer.ggml.model", meta_str("llama"));
  md.emplace_back("tokenizer.ggml.pre", meta_str("default"));
  md.emplace_back("tokenizer.ggml.tokens", meta_str_array(vocab.tokens));
  md.emplace_back("tokenizer.ggml.scores", meta_f32_array(vocab.scores));
  md.emplace_back("tokenizer.ggml.token_type", meta_i32_array(vocab.types));
  md.emplace_back("tokenizer.ggml.bos_token_id", meta_u32(1));
  md.emplace_back("tokenizer.ggml.eos_token_id", meta_u32(2));
  md.emplace_back("tokenizer.ggml.unknown_token_id", meta_u32(0));
  md.emplace_back("tokenizer.ggml.add_bos_token", meta_bool(true));
  md.emplace_back("tokenizer.ggml.add_eos_token", meta_bool(false));
  md.emplace_back("tokenizer.ggml.add_space_prefix", meta_bool(true));
  return md;
}

// config.json in the family's own spelling.
ojson hf_config(const synth_arch* a, const synth_spec& s) {
  const int64_t hd = s.n_embd / s.n_head, D = s.n_embd, V = s.n_vocab, F = s.n_ff;
  const family_defaults& fd = arch_defaults(a->family);
  const char* torch_dtype = s.type == dtype::f16 ? "float16" : s.type == dtype::bf16 ? "bfloat16" : "float32";
  const int64_t n_rot =
      std::max<int64_t>(2, std::llround(fd.rotary_fraction * static_cast<double>(hd)) / 2 * 2);
  ojson c;
  c["architectures"] = {a->hf_class};
  c["model_type"] = a->hf_type;
  c["vocab_size"] = V;
  switch (a->family) {
    case arch_family::gpt2:
    case arch_family::gptj:
      c["n_embd"] = D, c["n_layer"] = s.n_layer, c["n_head"] = s.n_head, c["n_inner"] = F;
      c["n_positions"] = s.n_ctx, c["layer_norm_epsilon"] = 1e-5, c["activation_function"] = "gelu_new";
      if (a->family == arch_family::gptj) c["rotary_dim"] = n_rot;
      break;
    case arch_family::bloom:
      c["hidden_size"] = D, c["n_layer"] = s.n_layer, c["n_head"] = s.n_head, c["layer_norm_epsilon"] = 1e-5;
      c["seq_length"] = s.n_ctx;
      break;
    case arch_family::mpt:
      c["d_model"] = D, c["n_layers"] = s.n_layer, c["n_heads"] = s.n_head, c["max_seq_len"] = s.n_ctx;
      c["expansion_ratio"] = static_cast<double>(F) / static_cast<double>(D), c["no_bias"] = true;
      c["attn_config"] = {{"alibi", true}};
      break;
    default:
      c["hidden_size"] = D, c["intermediate_size"] = F, c["num_hidden_layers"] = s.n_layer;
      c["num_attention_heads"] = s.n_head, c["num_key_value_heads"] = s.n_head_kv;
      c["max_position_embeddings"] = s.n_ctx, c["rope_theta"] = 10000.0;
      if (fd.norm == norm_kind::rms)
        c["rms_norm_eps"] = 1e-5;
      else
        c["layer_norm_eps"] = 1e-5;
      c["hidden_act"] = a->family == arch_family::gemma ? "gelu_pytorch_tanh"
                        : a->family == arch_family::phi ? "gelu_new"
                        : a->family == arch_family::llama || a->family == arch_family::qwen2 ? "silu"
                                                                                             : "gelu";
      if (a->family == arch_family::gemma) c["head_dim"] = hd;
      if (a->family == arch_family::gptneox) {
        c["rotary_pct"] = static_cast<double>(n_rot) / static_cast<double>(hd),
        c["rotary_emb_base"] = 10000.0;
        c["use_parallel_residual"] = true;
      }
      if (a->family == arch_family::phi)
        c["partial_rotary_factor"] = static_cast<double>(n_rot) / static_cast<double>(hd);
      if (a->family == arch_family::falcon) {
        c["multi_query"] = true, c["parallel_attn"] = true, c["new_decoder_architecture"] = false;
        c["alibi"] = false, c["bias"] = false, c["ffn_hidden_size"] = F;
      }
      break;
  }
  c["tie_word_embeddings"] = a->tied;
  c["bos_token_id"] = 1, c["eos_token_id"] = 2;
  c["torch_dtype"] = torch_dtype;
  c["glassbox_synth_seed"] = s.seed;
  return c;
}

// tokenizer.json (SentencePiece-style BPE with byte fallback, as HF exports LLaMA tokenizers) and
// tokenizer_config.json into `dir`, appended to `files`.
void hf_tokenizer_write(const std::string& dir, const synth_vocab& vocab, int64_t n_ctx,
                        std::vector<std::string>& files) {
  ojson tj;
  tj["version"] = "1.0";
  tj["truncation"] = nullptr;
  tj["padding"] = nullptr;
  ojson added = ojson::array();
  for (int32_t id = 0; id < 3; ++id)
    added.push_back({{"id", id},
                     {"content", vocab.tokens[static_cast<size_t>(id)]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  tj["added_tokens"] = added;
  tj["normalizer"] = {{"type", "Sequence"},
                      {"normalizers",
                       {{{"type", "Prepend"}, {"prepend", k_space}},
                        {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", k_space}}}}};
  tj["pre_tokenizer"] = nullptr;
  tj["post_processor"] = nullptr;
  tj["decoder"] = {{"type", "Sequence"},
                   {"decoders",
                    {{{"type", "Replace"}, {"pattern", {{"String", k_space}}}, {"content", " "}},
                     {{"type", "ByteFallback"}},
                     {{"type", "Fuse"}},
                     {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
  ojson vmap = ojson::object();
  for (size_t i = 0; i < vocab.tokens.size(); ++i) vmap[vocab.tokens[i]] = i;
  tj["model"] = {{"type", "BPE"},
                 {"dropout", nullptr},
                 {"unk_token", "<unk>"},
                 {"continuing_subword_prefix", nullptr},
                 {"end_of_word_suffix", nullptr},
                 {"fuse_unk", true},
                 {"byte_fallback", vocab.byte_fallback},
                 {"vocab", vmap},
                 {"merges", vocab.merges}};
  file_write_text(dir + "/tokenizer.json", tj.dump(1) + "\n");
  files.push_back(dir + "/tokenizer.json");
  ojson tc{{"tokenizer_class", "LlamaTokenizerFast"},
           {"bos_token", "<s>"},
           {"eos_token", "</s>"},
           {"unk_token", "<unk>"},
           {"add_bos_token", true},
           {"add_eos_token", false},
           {"model_max_length", n_ctx},
           {"clean_up_tokenization_spaces", false}};
  file_write_text(dir + "/tokenizer_config.json", tc.dump(2) + "\n");
  files.push_back(dir + "/tokenizer_config.json");
}

// The weights as model.safetensors, or (over shard_bytes, when set) as HF shards filled in tensor order,
// model-0000I-of-0000N.safetensors, each at most shard_bytes unless one tensor is larger, and the
// model.safetensors.index.json that maps every tensor to its shard. Appends the files written to `files`.
void hf_weights_write(const std::string& dir, uint64_t shard_bytes, const std::vector<tensor_spec>& specs,
                      const tensor_fill& fill, std::vector<std::string>& files) {
  std::vector<uint64_t> bytes;  // (tensors)
  for (const tensor_spec& t : specs)
    bytes.push_back(dtype_row_bytes(t.type, shape_element_count(t.shape, 0)));
  std::vector<size_t> first = {0};  // (shards) each shard's first tensor
  uint64_t in_shard = 0, total = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (shard_bytes > 0 && in_shard > 0 && in_shard + bytes[i] > shard_bytes)
      first.push_back(i), in_shard = 0;
    in_shard += bytes[i], total += bytes[i];
  }
  if (first.size() == 1) {
    files.push_back(dir + "/model.safetensors");
    safetensors_write_stream(files.back(), specs, fill, {{"format", "pt"}});
    return;
  }
  first.push_back(specs.size());
  std::map<std::string, std::string> weight_map;  // tensor -> shard file (sorted, as HF writes it)
  for (size_t k = 0; k + 1 < first.size(); ++k) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", k + 1, first.size() - 1);
    const std::vector<tensor_spec> part(specs.begin() + static_cast<ptrdiff_t>(first[k]),
                                        specs.begin() + static_cast<ptrdiff_t>(first[k + 1]));
    for (const tensor_spec& t : part) weight_map[t.name] = name;
    files.push_back(dir + "/" + name);
    safetensors_write_stream(files.back(), part,
                             [&](size_t i, tensor_sink& sink) { fill(first[k] + i, sink); },
                             {{"format", "pt"}});
  }
  ojson index{{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  files.push_back(dir + "/model.safetensors.index.json");
  file_write_text(files.back(), index.dump(2) + "\n");
}

synth_report run(const synth_spec& in) {
  const synth_arch* a = &arch_named(in.arch);
  const synth_spec s = spec_checked(a, in);
  synth_vocab vocab = make_vocab(s.n_vocab, s.bias_token, s.bias_triggers);
  check(s.bias_token.empty() || vocab.bias_id >= 0,
        "--bias-token does not fit in the vocabulary; raise --vocab");

  const std::vector<planned> ts = tensors_plan(a, s);

  // ---- values, made one tensor at a time when it is written (peak memory: the largest tensor)
  value_rules vr(ts, s, *a, vocab.bias_id, vocab.tokens);
  std::vector<encoded> enc;
  enc.reserve(ts.size());
  synth_report rep;
  rep.bias_token_id = vocab.bias_id;
  for (const planned& p : ts) {
    enc.push_back(encode_layout(*a, s, p));
    rep.parameter_count += shape_element_count(p.shape, 0);
  }
  std::vector<tensor_spec> specs;
  for (const encoded& e : enc) specs.push_back({e.name, e.type, e.shape});
  std::vector<float> vals;     // (elements) the tensor being written, kept across tensors
  std::vector<uint8_t> bytes;  // (bytes) its encoding
  const tensor_fill fill = [&](size_t i, tensor_sink& sink) {
    if (s.sparse) {
      sink.skip(dtype_row_bytes(enc[i].type, shape_element_count(enc[i].shape, 0)));
      return;
    }
    vr.values(i, s.plants.size(), vals);
    encode_values(*a, s, ts[i], vals);
    encode_rows(enc[i].type, vals, enc[i].shape.back(), s.threads, bytes);
    sink.write(bytes.data(), bytes.size());
  };
  rep.tensor_count = ts.size();

  if (s.format == synth_format::gguf) {
    gguf_write_stream(s.path, gguf_metadata(a, s, vocab), specs, fill);
    rep.files.push_back(s.path);
    rep.architecture = a->gguf_arch;
  } else {
    if (::mkdir(s.path.c_str(), 0755) != 0 && errno != EEXIST)
      fail(errc::io, 0, "synth: cannot create folder " + s.path + ": " + std::strerror(errno));
    hf_weights_write(s.path, s.shard_bytes, specs, fill, rep.files);
    file_write_text(s.path + "/config.json", hf_config(a, s).dump(2) + "\n");
    rep.files.push_back(s.path + "/config.json");
    hf_tokenizer_write(s.path, vocab, s.n_ctx, rep.files);
    rep.architecture = a->hf_type;
  }
  for (const std::string& f : rep.files) {
    struct stat st {};
    if (::stat(f.c_str(), &st) == 0) rep.bytes += static_cast<uint64_t>(st.st_size);
  }
  return rep;
}

}  // namespace

const std::vector<std::string>& synth_architectures() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const synth_arch& a : k_archs) v.push_back(a.name);
    return v;
  }();
  return names;
}

result<synth_report> synth_write(const synth_spec& spec) {
  return capture(spec.path, [&]() -> synth_report { return run(spec); });
}

}  // namespace gb
