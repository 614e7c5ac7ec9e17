// inspect/onnx_arch.cpp: decoder roles from an ONNX op graph (see inspect/onnx_arch.h for the pattern).
#include "inspect/onnx_arch.h"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace gb {
namespace {

bool in_std_domain(const graph_node& nd) {
  return nd.domain.empty() || nd.domain == "ai.onnx";
}

struct graph_index {
  const archive& a;
  std::unordered_map<std::string, size_t> init;      // initializer name -> archive tensor index
  std::unordered_map<std::string, size_t> producer;  // value -> node index
  std::unordered_map<std::string, std::vector<size_t>> consumers;

  explicit graph_index(const archive& ar) : a(ar) {
    for (size_t i = 0; i < a.tensors.size(); ++i) init.emplace(a.tensors[i].name, i);
    const auto& nodes = a.graph.nodes;
    for (size_t i = 0; i < nodes.size(); ++i) {
      for (const auto& o : nodes[i].outputs)
        if (!o.empty()) producer.emplace(o, i);
      for (const auto& in : nodes[i].inputs)
        if (!in.empty()) consumers[in].push_back(i);
    }
  }
  const graph_node& node(size_t i) const { return a.graph.nodes[i]; }
  const tensor_view* tensor_of(const std::string& v, size_t* index = nullptr) const {
    auto it = init.find(v);
    if (it == init.end()) return nullptr;
    if (index) *index = it->second;
    return &a.tensors[it->second];
  }
  const graph_node* producer_of(const std::string& v, size_t* index = nullptr) const {
    auto it = producer.find(v);
    if (it == producer.end()) return nullptr;
    if (index) *index = it->second;
    return &a.graph.nodes[it->second];
  }
  // The value behind Cast / Identity wrappers.
  std::string through_casts(std::string v) const {
    for (int step = 0; step < 4; ++step) {
      const graph_node* p = producer_of(v);
      if (!p || !in_std_domain(*p) || (p->op_type != "Cast" && p->op_type != "Identity") || p->inputs.empty())
        break;
      v = p->inputs[0];
    }
    return v;
  }
  // Integer values of a small constant: a Constant op (" = {..}" kept in its attribute text), an int64
  // initializer, or a Concat of such parts (a dynamic part counts as one unknown value, -2).
  std::vector<int64_t> int_values(const std::string& v, int depth = 0) const {
    std::vector<int64_t> out;
    size_t ti = 0;
    if (const tensor_view* t = tensor_of(v, &ti)) {
      if (t->type == dtype::i64 && t->available() && t->element_count() <= 8 &&
          t->nbytes >= 8 * t->element_count())
        for (uint64_t i = 0; i < t->element_count(); ++i) {
          uint64_t u = 0;
          for (int b = 0; b < 8; ++b)
            u |= static_cast<uint64_t>(t->data[8 * i + static_cast<uint64_t>(b)]) << (8 * b);
          out.push_back(static_cast<int64_t>(u));
        }
      return out;
    }
    const graph_node* p = producer_of(v);
    if (!p) return out;
    if (p->op_type == "Constant") {
      for (const auto& [k, text] : p->attributes) {
        size_t at = text.find(" = {");
        if (k != "value" || at == std::string::npos) continue;
        size_t i = at + 4;
        while (i < text.size() && text[i] != '}') {
          size_t used = 0;
          long long x = 0;
          try {
            x = std::stoll(text.substr(i), &used);
          } catch (...) {
            return {};
          }
          out.push_back(x);
          i += used;
          while (i < text.size() && (text[i] == ',' || text[i] == ' ')) ++i;
        }
      }
      return out;
    }
    if (p->op_type == "Concat" && depth < 2) {
      for (const auto& in : p->inputs) {
        std::vector<int64_t> part = int_values(in, depth + 1);
        if (part.empty()) part.push_back(-2);
        out.insert(out.end(), part.begin(), part.end());
      }
    }
    return out;
  }
  std::vector<size_t> consumers_of(const std::string& v) const {
    auto it = consumers.find(v);
    return it == consumers.end() ? std::vector<size_t>{} : it->second;
  }
  // Ops within `depth` producer steps above value v (v's producer is step 1).
  std::vector<std::string> ops_above(const std::string& v, int depth) const {
    std::vector<std::string> out;
    std::vector<std::string> frontier{v};
    std::map<std::string, bool> seen;
    for (int d = 0; d < depth && !frontier.empty(); ++d) {
      std::vector<std::string> next;
      for (const auto& x : frontier) {
        const graph_node* p = producer_of(x);
        if (!p || seen[x] || seen.size() > 64)
          continue;  // a norm pattern is a short chain; hostile fan-in stops here
        seen[x] = true;
        out.push_back(p->op_type);
        for (const auto& in : p->inputs)
          if (!in.empty() && !init.count(in)) next.push_back(in);
      }
      frontier = std::move(next);
    }
    return out;
  }
};

struct norm_ev {
  size_t node, weight;
  std::optional<size_t> bias;
  std::string out;
  bool layer_norm = false;
};
struct proj_ev {
  size_t node, weight;
  bool transposed;
  std::optional<size_t> bias;
  std::string in, out;  // activation input (through casts), output (after the bias Add when there is one)
  int64_t d_in = 0, d_out = 0;
};

bool has(const std::vector<std::string>& v, const char* s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The token embedding: the first Gather of a 2-D float initializer by computed indices (axis 0).
std::optional<size_t> find_token_embedding(const archive& a, const graph_index& gi) {
  for (const auto& nd : a.graph.nodes) {
    if (nd.op_type != "Gather" || !in_std_domain(nd) || nd.inputs.size() < 2) continue;
    size_t ti = 0;
    const tensor_view* t = gi.tensor_of(nd.inputs[0], &ti);
    if (!t || t->shape.size() != 2 || gi.init.count(nd.inputs[1]) || !dtype_info(t->type).is_float) continue;
    for (const auto& [k, v] : nd.attributes)
      if (k == "axis" && v != "0") t = nullptr;
    if (!t) continue;
    return ti;
  }
  return std::nullopt;
}

// A 1-D initializer of length `len` added to value v by its only consumer: (bias index, Add output).
std::optional<std::pair<size_t, std::string>> bias_after(const graph_index& gi, const std::string& v,
                                                         int64_t len) {
  auto cs = gi.consumers_of(v);
  if (cs.size() != 1) return std::nullopt;
  const graph_node& add = gi.node(cs[0]);
  if (add.op_type != "Add" || !in_std_domain(add) || add.inputs.size() != 2 || add.outputs.empty())
    return std::nullopt;
  for (const auto& in : add.inputs) {
    size_t bi = 0;
    const tensor_view* b = gi.tensor_of(in, &bi);
    if (b && b->shape.size() == 1 && b->shape[0] == len) return std::make_pair(bi, add.outputs[0]);
  }
  return std::nullopt;
}

// The output of a projection feeds an activation (gate) directly or through x * sigmoid(x).
std::optional<act_kind> activation_after(const graph_index& gi, const proj_ev& p) {
  for (size_t c : gi.consumers_of(p.out)) {
    const std::string& op = gi.node(c).op_type;
    if (op == "Sigmoid" || op == "Silu" || op == "Swish") return act_kind::silu;
    if (op == "Gelu" || op == "FastGelu" || op == "BiasGelu") return act_kind::gelu;
    if (op == "Relu") return act_kind::relu;
    if (op == "Div")  // erf GELU: x / sqrt(2) -> Erf
      for (const auto& o : gi.node(c).outputs)
        for (size_t c2 : gi.consumers_of(o))
          if (gi.node(c2).op_type == "Erf") return act_kind::gelu;
  }
  return std::nullopt;
}

// Norms and projections in node order, and whether q/k are rotated by halves (a Neg).
struct graph_events {
  std::vector<norm_ev> norms;
  std::vector<proj_ev> projs;
  std::vector<int> kind;      // per event in order: 0 = norm (index into norms), 1 = proj
  std::vector<size_t> index;  // per event: into norms or projs
  bool rotate_half = false;

  void add_norm(const norm_ev& e) {
    kind.push_back(0);
    index.push_back(norms.size());
    norms.push_back(e);
  }
  void add_proj(const proj_ev& e) {
    kind.push_back(1);
    index.push_back(projs.size());
    projs.push_back(e);
  }
};

// A norm spelled as ops: x * weight, with a ReduceMean above x (a Sub above too: LayerNorm).
std::optional<norm_ev> norm_from_mul(const graph_index& gi, const graph_node& nd, size_t i, int64_t dim) {
  for (int w = 0; w < 2; ++w) {
    size_t ti = 0;
    const tensor_view* t = gi.tensor_of(nd.inputs[static_cast<size_t>(w)], &ti);
    if (!t || t->shape.size() != 1 || t->shape[0] != dim ||
        gi.init.count(nd.inputs[static_cast<size_t>(1 - w)]))
      continue;
    auto above = gi.ops_above(nd.inputs[static_cast<size_t>(1 - w)], 5);
    if (!has(above, "ReduceMean")) continue;
    norm_ev e{i, ti, std::nullopt, nd.outputs[0],
              has(gi.ops_above(nd.inputs[static_cast<size_t>(1 - w)], 3), "Sub")};
    if (e.layer_norm)
      if (auto b = bias_after(gi, e.out, dim)) e.bias = b->first, e.out = b->second;
    return e;
  }
  return std::nullopt;
}

// A MatMul / Gemm by a 2-D float initializer (its bias from Gemm's third input or the Add after it).
std::optional<proj_ev> projection_of(const graph_index& gi, const graph_node& nd, size_t i) {
  size_t ti = 0;
  const tensor_view* t = gi.tensor_of(nd.inputs[1], &ti);
  if (!t || t->shape.size() != 2 || gi.init.count(nd.inputs[0]) || !dtype_info(t->type).is_float)
    return std::nullopt;
  bool transposed = true;
  if (nd.op_type == "Gemm")
    for (const auto& [k, v] : nd.attributes)
      if (k == "transB" && v == "1") transposed = false;
  proj_ev e{i, ti, transposed, std::nullopt, gi.through_casts(nd.inputs[0]), nd.outputs[0], 0, 0};
  e.d_in = transposed ? t->shape[0] : t->shape[1];
  e.d_out = transposed ? t->shape[1] : t->shape[0];
  size_t bi = 0;
  if (nd.op_type == "Gemm" && nd.inputs.size() >= 3 && gi.tensor_of(nd.inputs[2], &bi))
    e.bias = bi;
  else if (auto b = bias_after(gi, e.out, e.d_out))
    e.bias = b->first, e.out = b->second;
  return e;
}

graph_events collect_events(const archive& a, const graph_index& gi, int64_t dim) {
  graph_events ev;
  const auto& nodes = a.graph.nodes;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const graph_node& nd = nodes[i];
    if (!in_std_domain(nd) && nd.domain != "com.microsoft") continue;
    if (nd.outputs.empty() || nd.outputs[0].empty()) continue;
    if (nd.op_type == "Neg") ev.rotate_half = true;
    if (nd.op_type == "Mul" && nd.inputs.size() == 2) {
      if (auto e = norm_from_mul(gi, nd, i, dim)) ev.add_norm(*e);
      continue;
    }
    if ((nd.op_type == "LayerNormalization" || nd.op_type == "RMSNormalization" ||
         nd.op_type == "SimplifiedLayerNormalization") &&
        nd.inputs.size() >= 2) {
      size_t ti = 0;
      const tensor_view* t = gi.tensor_of(nd.inputs[1], &ti);
      if (!t || t->shape.size() != 1 || t->shape[0] != dim) continue;
      norm_ev e{i, ti, std::nullopt, nd.outputs[0], nd.op_type == "LayerNormalization"};
      size_t bi = 0;
      if (nd.inputs.size() >= 3 && gi.tensor_of(nd.inputs[2], &bi)) e.bias = bi;
      ev.add_norm(e);
      continue;
    }
    if ((nd.op_type == "MatMul" || nd.op_type == "Gemm") && nd.inputs.size() >= 2)
      if (auto e = projection_of(gi, nd, i)) ev.add_proj(*e);
  }
  return ev;
}

// The walk over the events that assigns roles: a norm read by 3 projections opens a layer's attention
// (q, k, v), by 2 its gated MLP (gate, up), by 1 of vocab width the output; the next lone projection is
// attn_o or mlp_down. Anything else is not the pattern (false).
struct pattern_walk {
  const graph_index& gi;
  const graph_events& ev;
  int64_t dim, vocab;
  onnx_arch& r;
  std::vector<char> used;                                        // (tensors) a role was given
  std::vector<char> proj_done;                                   // (projs) assigned
  std::unordered_map<std::string, std::vector<size_t>> read_by;  // activation value -> projections reading it
  int layer = -1;
  enum class want : uint8_t { none, attn_o, mlp_down };
  want next = want::none;
  bool have_output = false, any_norm_layer = false, any_bias_qkv = false;
  int64_t ff = 0;
  act_kind act = act_kind::silu;

  pattern_walk(const archive& a_, const graph_index& gi_, const graph_events& ev_, int64_t dim_,
               int64_t vocab_, onnx_arch& r_)
      : gi(gi_),
        ev(ev_),
        dim(dim_),
        vocab(vocab_),
        r(r_),
        used(a_.tensors.size(), 0),
        proj_done(ev_.projs.size(), 0) {
    for (size_t j = 0; j < ev.projs.size(); ++j) read_by[ev.projs[j].in].push_back(j);
  }

  bool add_role(role_kind k, int l, size_t tensor, bool transposed, bool bias) {
    if (used[tensor]) return false;  // one tensor, two roles: tied or shared weights are not this pattern
    used[tensor] = 1;
    role_entry e;
    e.canonical = canonical_name(k, l, bias);
    e.role = k;
    e.layer = l;
    e.bias = bias;
    e.tensor = tensor;
    e.transposed = transposed;
    r.roles.push_back(std::move(e));
    return true;
  }
  bool add_proj(role_kind k, int l, const proj_ev& p) {
    bool ok = add_role(k, l, p.weight, p.transposed, false);
    if (p.bias) ok = ok && add_role(k, l, *p.bias, false, true);
    return ok;
  }
  bool add_norm(role_kind k, int l, const norm_ev& n) {
    bool ok = add_role(k, l, n.weight, false, false);
    if (n.bias) ok = ok && add_role(k, l, *n.bias, false, true);
    return ok;
  }
  std::vector<size_t> readers(const norm_ev& n) const {
    auto it = read_by.find(n.out);
    return it == read_by.end() ? std::vector<size_t>{} : it->second;
  }

  bool on_norm(const norm_ev& n) {
    const auto& projs = ev.projs;
    any_norm_layer = any_norm_layer || n.layer_norm;
    std::vector<size_t> rs = readers(n);
    if (rs.size() == 3) {  // attention: q, k, v
      ++layer;
      const proj_ev &q = projs[rs[0]], &k = projs[rs[1]], &v = projs[rs[2]];
      if (q.d_in != dim || k.d_in != dim || v.d_in != dim || k.d_out != v.d_out) return false;
      if (!add_norm(role_kind::attn_norm, layer, n) || !add_proj(role_kind::attn_q, layer, q) ||
          !add_proj(role_kind::attn_k, layer, k) || !add_proj(role_kind::attn_v, layer, v))
        return false;
      any_bias_qkv = any_bias_qkv || q.bias || k.bias || v.bias;
      for (size_t j : rs) proj_done[j] = 1;
      next = want::attn_o;
    } else if (rs.size() == 2 && layer >= 0) {  // gated MLP: gate, up
      auto a0 = activation_after(gi, projs[rs[0]]), a1 = activation_after(gi, projs[rs[1]]);
      if (a0.has_value() == a1.has_value()) return false;
      const proj_ev& gate = projs[a0 ? rs[0] : rs[1]];
      const proj_ev& up = projs[a0 ? rs[1] : rs[0]];
      act = a0 ? *a0 : *a1;
      if (gate.d_in != dim || up.d_in != dim || gate.d_out != up.d_out) return false;
      if (!add_norm(role_kind::ffn_norm, layer, n) || !add_proj(role_kind::mlp_gate, layer, gate) ||
          !add_proj(role_kind::mlp_up, layer, up))
        return false;
      ff = up.d_out;
      for (size_t j : rs) proj_done[j] = 1;
      next = want::mlp_down;
    } else if (rs.size() == 1 && projs[rs[0]].d_out == vocab && projs[rs[0]].d_in == dim && !have_output) {
      if (!add_norm(role_kind::output_norm, -1, n) || !add_proj(role_kind::output, -1, projs[rs[0]]))
        return false;
      proj_done[rs[0]] = 1;
      have_output = true;
      next = want::none;
    } else {
      return false;
    }
    return true;
  }

  bool on_proj(size_t j) {
    if (proj_done[j]) return true;
    const proj_ev& p = ev.projs[j];
    if (next == want::attn_o && p.d_out == dim) {
      if (!add_proj(role_kind::attn_o, layer, p)) return false;
      next = want::none;
    } else if (next == want::mlp_down && p.d_out == dim && p.d_in == ff) {
      if (!add_proj(role_kind::mlp_down, layer, p)) return false;
      next = want::none;
    } else {
      return false;  // a projection the pattern has no place for
    }
    proj_done[j] = 1;
    return true;
  }

  bool run() {
    for (size_t e = 0; e < ev.kind.size(); ++e)
      if (!(ev.kind[e] == 0 ? on_norm(ev.norms[ev.index[e]]) : on_proj(ev.index[e]))) return false;
    return layer >= 0 && have_output;
  }
};

// Every block: the same roles with the same shapes, nine weights each (norms, q, k, v, o, norm, gate, up,
// down).
bool blocks_alike(const archive& a, const onnx_arch& r, int layers) {
  std::map<int, std::vector<std::string>> sig;
  for (const role_entry& e : r.roles)
    if (e.layer >= 0) {
      const tensor_view& t = a.tensors[e.tensor];
      sig[e.layer].push_back(std::string(role_name(e.role)) + (e.bias ? ".b" : ".w") + shape_string(t.shape));
    }
  if (static_cast<int>(sig.size()) != layers) return false;
  for (auto& [l, s] : sig) std::sort(s.begin(), s.end());
  for (const auto& [l, s] : sig)
    if (s != sig.begin()->second) return false;
  size_t per_layer = sig.begin()->second.size();
  size_t weights = 0;
  for (const auto& s : sig.begin()->second) weights += s.find(".w[") != std::string::npos;
  return per_layer >= 9 && weights == 9;
}

// Heads from the Reshape that splits q (k) into heads.
void heads_from_reshape(const graph_index& gi, const std::vector<proj_ev>& projs, onnx_arch& r) {
  for (const role_entry& e : r.roles) {
    if (e.layer != 0 || e.bias || (e.role != role_kind::attn_q && e.role != role_kind::attn_k)) continue;
    for (const proj_ev& p : projs) {
      if (p.weight != e.tensor) continue;
      int64_t heads = 0;
      for (size_t c : gi.consumers_of(p.out)) {
        const graph_node& rs = gi.node(c);
        if (rs.op_type != "Reshape" || rs.inputs.size() < 2 || rs.inputs[0] != p.out) continue;
        std::vector<int64_t> shape = gi.int_values(rs.inputs[1]);
        if (shape.size() < 2) continue;
        int64_t h = shape[shape.size() - 2], hd = shape.back();
        if (h > 0 && p.d_out % h == 0 && (hd == -1 || hd * h == p.d_out)) heads = h;
      }
      (e.role == role_kind::attn_q ? r.n_head : r.n_head_kv) = heads;
    }
  }
}

}  // namespace

// The embedding, the events in node order, the walk that assigns roles, the checks that every block is
// alike and LLaMA-shaped, then heads and the rest of the description.
std::optional<onnx_arch> onnx_arch_recognise(const archive& a) {
  if (a.format != file_format::onnx || a.graph.nodes.empty() || a.tensors.empty()) return std::nullopt;
  graph_index gi(a);
  std::optional<size_t> tok = find_token_embedding(a, gi);
  if (!tok) return std::nullopt;
  const int64_t vocab = a.tensors[*tok].shape[0], dim = a.tensors[*tok].shape[1];
  if (vocab <= 0 || dim <= 0) return std::nullopt;
  const graph_events ev = collect_events(a, gi, dim);
  if (ev.norms.empty() || ev.projs.empty()) return std::nullopt;

  onnx_arch r;
  r.n_embd = dim;
  r.n_vocab = vocab;
  pattern_walk w(a, gi, ev, dim, vocab, r);
  if (!w.add_role(role_kind::tok_embd, -1, *tok, false, false)) return std::nullopt;
  if (!w.run()) return std::nullopt;
  // LLaMA-shaped only (RMS norms, SiLU gate): LayerNorm or GELU-gated decoders (Gemma) are other families
  // whose details (norm offsets, biases) this pattern does not check, so they stay unknown.
  if (w.any_norm_layer || w.act != act_kind::silu) return std::nullopt;
  if (!blocks_alike(a, r, w.layer + 1)) return std::nullopt;
  heads_from_reshape(gi, ev.projs, r);

  std::sort(r.roles.begin(), r.roles.end(),
            [](const role_entry& x, const role_entry& y) { return x.tensor < y.tensor; });
  for (size_t i = 0; i < a.tensors.size(); ++i)
    if (!w.used[i]) r.unmapped.push_back(i);
  if (ev.rotate_half)
    for (role_entry& e : r.roles)
      if (e.role == role_kind::attn_q || e.role == role_kind::attn_k) e.hf_permuted = true;
  r.family = w.any_bias_qkv ? arch_family::qwen2 : arch_family::llama;
  r.architecture = arch_family_name(r.family);
  r.n_layer = w.layer + 1;
  r.n_ff = w.ff;
  r.rotate_half = ev.rotate_half;
  r.act = w.act;
  r.norm = w.any_norm_layer ? norm_kind::layer : norm_kind::rms;
  return r;
}

}  // namespace gb
