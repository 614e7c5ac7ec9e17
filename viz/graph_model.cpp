// viz/graph_model.cpp: the architecture graph of a gb::model (graph_from_model in viz/graph.h).
//
// Flow drawn per block (pre-norm transformer; parallel blocks feed attention and MLP from the same input):
//   in -> attn_norm -> q,k,v (or fused qkv) [-> q/k norm] [-> RoPE] -> attention -> o [-> post norm] -> (+
//   in)
//      -> ffn_norm -> gate,up -> act(gate) x up -> down [-> post norm] -> (+) -> out
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "inspect/summary.h"
#include "viz/graph.h"
#include "viz/svg_chart.h"

namespace gb::viz {
namespace {

std::string count_text(uint64_t n) {  // 262144 -> "262.1K"
  char buf[32];
  if (n >= 1000000000ULL)
    std::snprintf(buf, sizeof buf, "%.2fB", static_cast<double>(n) / 1e9);
  else if (n >= 1000000ULL)
    std::snprintf(buf, sizeof buf, "%.1fM", static_cast<double>(n) / 1e6);
  else if (n >= 1000ULL)
    std::snprintf(buf, sizeof buf, "%.1fK", static_cast<double>(n) / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
  return buf;
}

// "blk.3.attn.q.weight" -> "attn.q"; "tok_embd.weight" -> "tok_embd".
std::string short_role(const std::string& canonical) {
  std::string s = canonical;
  if (s.rfind("blk.", 0) == 0) {
    size_t dot = s.find('.', 4);
    s = dot == std::string::npos ? s : s.substr(dot + 1);
  }
  for (const char* suf : {".weight", ".bias"}) {
    std::string f(suf);
    if (s.size() > f.size() && s.compare(s.size() - f.size(), f.size(), f) == 0)
      s.resize(s.size() - f.size());
  }
  return s;
}

std::vector<int64_t> canonical_shape(const role_entry& e, const tensor_view& t) {
  std::vector<int64_t> s = t.shape;
  if (e.transposed && s.size() == 2) std::swap(s[0], s[1]);
  return s;
}

const char* act_name(act_kind a) {
  switch (a) {
    case act_kind::silu:
      return "SiLU";
    case act_kind::gelu:
      return "GELU";
    case act_kind::gelu_tanh:
      return "GELU (tanh)";
    case act_kind::relu:
      return "ReLU";
  }
  return "act";
}

struct builder {
  const model& m;
  const graph_options& opt;
  graph g;
  std::map<int, std::vector<const role_entry*>> by_layer;  // layer -> its role entries
  std::vector<const role_entry*> globals;

  const tensor_view* tv(const role_entry* e) const {
    if (!m.source || e->tensor >= m.source->tensors.size()) return nullptr;
    return &m.source->tensors[e->tensor];
  }

  // Entries of role r in layers [a, b] (a = -1 for globals).
  std::vector<const role_entry*> entries(role_kind r, int a, int b) const {
    std::vector<const role_entry*> out;
    if (a < 0) {
      for (const auto* e : globals)
        if (e->role == r) out.push_back(e);
      return out;
    }
    for (int l = a; l <= b; ++l) {
      auto it = by_layer.find(l);
      if (it == by_layer.end()) continue;
      for (const auto* e : it->second)
        if (e->role == r) out.push_back(e);
    }
    return out;
  }
  bool has(role_kind r, int layer) const { return !entries(r, layer, layer).empty(); }

  void edge(const std::string& from, const std::string& to, std::string label = {}, bool residual = false) {
    if (from.empty() || to.empty()) return;
    g.edges.push_back({from, to, std::move(label), false, residual});
  }

  std::string add(gnode n) {
    std::string id = n.id;
    g.nodes.push_back(std::move(n));
    return id;
  }

  std::string compute(const std::string& id, const std::string& label, const std::string& kind,
                      const std::string& cluster, std::vector<std::string> details, int fold) {
    gnode n;
    n.id = id;
    n.label = label;
    n.kind = kind;
    n.cluster = cluster;
    for (auto& d : details)
      if (!d.empty()) n.details.push_back(std::move(d));
    n.fold = fold;
    return add(std::move(n));
  }

  // A weight node for role r over layers [a, b]: shape of layer a's weight, dtype mix, parameters per copy.
  std::string weight(role_kind r, int a, int b, const std::string& kind, const std::string& cluster,
                     std::vector<std::string> extra = {}, const std::string& label_override = {}) {
    auto es = entries(r, a, b);
    if (es.empty()) return {};
    const role_entry* first = nullptr;
    for (const auto* e : es)
      if ((a < 0 || e->layer == a) && !e->bias && !first) first = e;
    if (!first) first = es.front();
    gnode n;
    std::string role = short_role(first->canonical);
    n.id = a < 0 ? role : "blk." + std::to_string(a) + "." + role;
    n.label = label_override.empty() ? role : label_override;
    n.kind = kind;
    n.cluster = cluster;
    n.fold = a < 0 ? 1 : b - a + 1;
    std::map<std::string, int> dtypes;
    bool has_bias = false;
    for (const auto* e : es) {
      n.tensors.push_back(e->canonical);
      const tensor_view* t = tv(e);
      if (t) n.stored.push_back(t->name);
      if (e->bias) has_bias = true;
      if (t && !e->bias) ++dtypes[dtype_name(t->type)];
      if (t && (a < 0 || e->layer == a)) n.params += t->element_count();
    }
    const tensor_view* ft = tv(first);
    if (ft) {
      std::string dt;
      if (dtypes.size() <= 1) {
        dt = dtype_name(ft->type);
      } else {
        for (const auto& [name, cnt] : dtypes)
          dt += (dt.empty() ? "" : ", ") + name + " x" + std::to_string(cnt);
      }
      n.details.push_back(shape_string(canonical_shape(*first, *ft)) + " " + dt +
                          (has_bias ? " + bias" : ""));
    }
    for (auto& x : extra)
      if (!x.empty()) n.details.push_back(std::move(x));
    n.details.push_back(count_text(n.params) + " params" +
                        (n.fold > 1 ? " (x" + std::to_string(n.fold) + ")" : ""));
    return add(std::move(n));
  }

  std::string heads_text(int64_t heads, const char* what) const {
    if (heads <= 0) return {};
    return std::to_string(heads) + " " + what +
           (m.hp.head_dim > 0 ? " x " + std::to_string(m.hp.head_dim) : "");
  }

  // One block, or a folded run of identical blocks [a, b]: its cluster id, node id prefix, copies.
  struct block_span {
    int a, b;
    std::string cl, p;
    int fold;
  };

  // The q, k, v projections (or one fused qkv) fed from x, each after its optional norm.
  void block_qkv(const block_span& s, const std::string& x, std::string& q, std::string& k, std::string& v) {
    const hparams& hp = m.hp;
    if (has(role_kind::attn_qkv, s.a)) {
      std::vector<std::string> ex;
      std::string h = heads_text(hp.n_head, "heads"), kv = heads_text(hp.n_head_kv, "KV heads");
      if (!h.empty()) ex.push_back(h);
      if (!kv.empty() && hp.n_head_kv != hp.n_head) ex.push_back(kv);
      q = k = v = weight(role_kind::attn_qkv, s.a, s.b, "attention", s.cl, ex);
      edge(x, q);
    } else {
      q = weight(role_kind::attn_q, s.a, s.b, "attention", s.cl, {heads_text(hp.n_head, "heads")});
      k = weight(role_kind::attn_k, s.a, s.b, "attention", s.cl, {heads_text(hp.n_head_kv, "KV heads")});
      v = weight(role_kind::attn_v, s.a, s.b, "attention", s.cl, {heads_text(hp.n_head_kv, "KV heads")});
      edge(x, q);
      edge(x, k);
      edge(x, v);
    }
    std::string qn = weight(role_kind::attn_q_norm, s.a, s.b, "norm", s.cl);
    if (!qn.empty()) {
      edge(q, qn);
      q = qn;
    }
    std::string kn = weight(role_kind::attn_k_norm, s.a, s.b, "norm", s.cl);
    if (!kn.empty()) {
      edge(k, kn);
      k = kn;
    }
  }

  // Attention from x: projections, RoPE, the attention op, output projection, post norm; returns its output.
  std::string block_attention(const block_span& s, const std::string& x) {
    const hparams& hp = m.hp;
    std::string q, k, v;
    block_qkv(s, x, q, k, v);
    std::vector<std::string> sd;
    std::string hh = std::to_string(hp.n_head) + " heads";
    if (hp.n_head_kv > 0 && hp.n_head_kv != hp.n_head)
      hh += hp.n_head_kv == 1 ? ", multi-query" : ", " + std::to_string(hp.n_head_kv) + " KV heads (GQA)";
    sd.push_back("softmax(QK^T / sqrt(d)) V, causal");
    if (hp.n_head > 0) sd.push_back(hh);
    if (hp.pos == pos_kind::alibi) sd.push_back("ALiBi position bias");
    std::string attn = compute(s.p + "attn.sdpa", "attention", "attention_op", s.cl, sd, s.fold);
    if (hp.pos == pos_kind::rope) {
      std::vector<std::string> rd{"theta " + fmt_num(hp.rope_theta, 6)};
      if (hp.n_rot > 0 && hp.head_dim > 0 && hp.n_rot != hp.head_dim)
        rd.push_back(std::to_string(hp.n_rot) + " of " + std::to_string(hp.head_dim) + " dims");
      std::string rope = compute(s.p + "attn.rope", "RoPE", "rope", s.cl, rd, s.fold);
      edge(q, rope, "q");
      edge(k, rope, "k");
      edge(rope, attn);
    } else {
      edge(q, attn, q == k ? "qkv" : "q");
      if (k != q) edge(k, attn, "k");
    }
    if (v != q) edge(v, attn, "v");
    std::string a_out = attn;
    std::string o = weight(role_kind::attn_o, s.a, s.b, "attention", s.cl);
    if (!o.empty()) {
      edge(attn, o);
      a_out = o;
    }
    std::string pan = weight(role_kind::post_attn_norm, s.a, s.b, "norm", s.cl);
    if (!pan.empty()) {
      edge(a_out, pan);
      a_out = pan;
    }
    return a_out;
  }

  // The MLP from src (its norm, else, in a parallel block, the attention norm's output x): gate and up, the
  // activation, down, post norm; returns its output.
  std::string block_mlp(const block_span& s, std::string src, const std::string& x) {
    const hparams& hp = m.hp;
    std::string fn = weight(role_kind::ffn_norm, s.a, s.b, "norm", s.cl);
    if (fn.empty()) fn = weight(role_kind::attn_norm_2, s.a, s.b, "norm", s.cl);
    if (!fn.empty()) {
      edge(src, fn);
      src = fn;
    } else if (hp.parallel_block)
      src = x;  // shares the attention norm
    std::string gate = weight(role_kind::mlp_gate, s.a, s.b, "mlp", s.cl);
    std::string up = weight(role_kind::mlp_up, s.a, s.b, "mlp", s.cl);
    std::string act = compute(s.p + "mlp.act",
                              gate.empty() ? act_name(hp.act) : std::string(act_name(hp.act)) + "(gate) * up",
                              "act", s.cl, {}, s.fold);
    if (!gate.empty()) {
      edge(src, gate);
      edge(gate, act);
    }
    if (!up.empty()) {
      edge(src, up);
      edge(up, act);
    }
    if (gate.empty() && up.empty()) edge(src, act);
    std::string d_out = act;
    std::string down = weight(role_kind::mlp_down, s.a, s.b, "mlp", s.cl);
    if (!down.empty()) {
      edge(act, down);
      d_out = down;
    }
    std::string pfn = weight(role_kind::post_ffn_norm, s.a, s.b, "norm", s.cl);
    if (!pfn.empty()) {
      edge(d_out, pfn);
      d_out = pfn;
    }
    return d_out;
  }

  // Layer tensors with other roles: shown beside the block, fed from its input.
  void block_others(const block_span& s, const std::string& in) {
    std::map<std::string, bool> seen;
    for (const auto* e : entries(role_kind::other, s.a, s.a)) {
      std::string r = short_role(e->canonical);
      if (seen[r]) continue;
      seen[r] = true;
      gnode n;
      n.id = s.p + r;
      n.label = r;
      n.kind = "generic";
      n.cluster = s.cl;
      n.fold = s.fold;
      for (int l = s.a; l <= s.b; ++l)
        for (const auto* e2 : entries(role_kind::other, l, l))
          if (short_role(e2->canonical) == r) {
            n.tensors.push_back(e2->canonical);
            if (const tensor_view* t = tv(e2)) n.stored.push_back(t->name);
          }
      if (const tensor_view* t = tv(e)) {
        n.details.push_back(shape_string(t->shape) + " " + dtype_name(t->type));
        n.params = t->element_count();
      }
      edge(in, add(std::move(n)));
    }
  }

  // One block (or a folded run of identical blocks [a, b]); returns the id of its output.
  std::string block(int a, int b, const std::string& in) {
    const block_span s{a, b, "blk." + std::to_string(a), "blk." + std::to_string(a) + ".", b - a + 1};
    gcluster c;
    c.id = s.cl;
    c.fold = s.fold;
    c.label = s.fold > 1 ? "blocks " + std::to_string(a) + "-" + std::to_string(b) + "  (x " +
                               std::to_string(s.fold) + ")"
                         : "block " + std::to_string(a);
    g.clusters.push_back(c);
    const hparams& hp = m.hp;

    std::string x = in;
    std::string n_attn = weight(role_kind::attn_norm, a, b, "norm", s.cl);
    if (!n_attn.empty()) {
      edge(in, n_attn);
      x = n_attn;
    }
    bool has_attn = has(role_kind::attn_qkv, a) || has(role_kind::attn_q, a) || has(role_kind::attn_o, a);
    std::string a_out = has_attn ? block_attention(s, x) : std::string();

    bool has_mlp = has(role_kind::mlp_up, a) || has(role_kind::mlp_down, a) || has(role_kind::mlp_gate, a);
    std::string res1 = in, mlp_in = x;
    if (!hp.parallel_block && !a_out.empty()) {
      res1 = compute(s.p + "attn.add", "+", "residual", s.cl, {}, s.fold);
      edge(a_out, res1);
      edge(in, res1, "residual", true);
      std::string aon = weight(role_kind::attn_out_norm, a, b, "norm", s.cl);
      if (!aon.empty()) {
        edge(res1, aon);
        res1 = aon;
      }
      mlp_in = res1;
    }
    std::string d_out = has_mlp ? block_mlp(s, hp.parallel_block ? in : mlp_in, x) : std::string();
    std::string out = res1;
    if (!d_out.empty() || hp.parallel_block) {
      out = compute(s.p + "mlp.add", "+", "residual", s.cl, {}, s.fold);
      if (!d_out.empty()) edge(d_out, out);
      if (hp.parallel_block) {
        if (!a_out.empty()) edge(a_out, out);
        edge(in, out, "residual", true);
      } else {
        edge(res1, out, "residual", true);
      }
    }
    std::string lon = weight(role_kind::layer_out_norm, a, b, "norm", s.cl);
    if (!lon.empty()) {
      edge(out, lon);
      out = lon;
    }
    block_others(s, in);
    if (!has_attn && !has_mlp && out == in) {  // nothing recognisable: keep the chain visible
      out = compute(s.p + "block", "block", "generic", s.cl, {"no attention or MLP tensors"}, s.fold);
      edge(in, out);
    }
    return out;
  }

  // Signature of a layer: sorted (role, bias, canonical shape); dtypes are not part of it.
  std::string signature(int l) const {
    auto it = by_layer.find(l);
    if (it == by_layer.end()) return "(empty)";
    std::vector<std::string> parts;
    for (const auto* e : it->second) {
      const tensor_view* t = tv(e);
      parts.push_back(short_role(e->canonical) + (e->bias ? ".b" : ".w") +
                      (t ? shape_string(canonical_shape(*e, *t)) : "?"));
    }
    std::sort(parts.begin(), parts.end());
    std::string s;
    for (const auto& x : parts) s += x + ";";
    return s;
  }

  void unmapped_node(const std::string& out) {
    if (m.unmapped.empty() || !m.source) return;
    gnode n;
    n.id = "unmapped";
    n.label = "tensors with no role (" + std::to_string(m.unmapped.size()) + ")";
    n.kind = "generic";
    for (size_t i = 0; i < m.unmapped.size(); ++i) {
      size_t ti = m.unmapped[i];
      if (ti >= m.source->tensors.size()) continue;
      const tensor_view& t = m.source->tensors[ti];
      n.stored.push_back(t.name);
      n.tensors.push_back(t.name);
      n.params += t.element_count();
      if (i < 6) n.details.push_back(t.name + " " + shape_string(t.shape) + " " + dtype_name(t.type));
    }
    if (m.unmapped.size() > 6) n.details.push_back("... " + std::to_string(m.unmapped.size() - 6) + " more");
    std::string id = add(std::move(n));
    g.edges.push_back({out, id, "", false, false});
  }

  void run() {
    int max_layer = -1;
    for (const auto& e : m.roles) {
      if (e.layer >= 0 && e.layer < 100000) {
        by_layer[e.layer].push_back(&e);
        max_layer = std::max(max_layer, e.layer);
      } else {
        globals.push_back(&e);
      }
    }
    const hparams& hp = m.hp;
    int n_layer = max_layer + 1;
    std::string arch = m.architecture.empty() ? "unknown architecture" : m.architecture;
    // the one parameter count (inspect, diff, report): tied copies once, rope tables and buffers apart
    g.title = arch + ", " + std::to_string(n_layer) + " layer" + (n_layer == 1 ? "" : "s") + ", " +
              parameter_count_text(summary_build(m));
    if (m.source) g.source = m.source->path + " (" + file_format_name(m.source->format) + ")";
    {
      std::string l1 = "d_model " + std::to_string(hp.n_embd) + " | heads " + std::to_string(hp.n_head);
      if (hp.n_head_kv > 0 && hp.n_head_kv != hp.n_head) l1 += " (KV " + std::to_string(hp.n_head_kv) + ")";
      if (hp.head_dim > 0) l1 += " x " + std::to_string(hp.head_dim);
      l1 += " | d_ff " + std::to_string(hp.n_ff) + " | vocab " + std::to_string(hp.n_vocab);
      g.notes.push_back(l1);
      std::string l2 = hp.norm == norm_kind::rms ? "RMSNorm" : "LayerNorm";
      l2 += std::string(" | ") + act_name(hp.act) + (hp.gated_mlp ? " gated MLP" : " MLP");
      l2 += hp.pos == pos_kind::rope      ? " | RoPE"
            : hp.pos == pos_kind::alibi   ? " | ALiBi"
            : hp.pos == pos_kind::learned ? " | learned positions"
                                          : "";
      if (hp.parallel_block) l2 += " | parallel attention+MLP";
      g.notes.push_back(l2);
    }
    if (m.family == arch_family::unknown || m.roles.empty()) {
      g.findings.push_back({severity::low, "graph.unknown_architecture", arch,
                            "architecture '" + arch +
                                "' is not in the table: drawn from the tensors that could be placed, "
                                "the rest as generic nodes",
                            UINT64_MAX});
    }

    // Input and embeddings.
    std::string cur = compute("tokens", "tokens", "input", "",
                              {hp.n_ctx > 0 ? "context " + std::to_string(hp.n_ctx) : ""}, 1);
    std::string emb = weight(role_kind::tok_embd, -1, -1, "embedding", "", {}, "token embedding");
    if (!emb.empty()) {
      edge(cur, emb);
      cur = emb;
    }
    std::string pe = weight(role_kind::pos_embd, -1, -1, "embedding", "", {}, "position embedding");
    std::string te = weight(role_kind::tok_type_embd, -1, -1, "embedding", "", {}, "token type embedding");
    if (!pe.empty() || !te.empty()) {
      std::string sum = compute("embd.add", "+", "residual", "", {}, 1);
      edge(cur, sum);
      edge(pe, sum);
      edge(te, sum);
      cur = sum;
    }
    std::string en = weight(role_kind::embd_norm, -1, -1, "norm", "", {}, "embedding norm");
    if (!en.empty()) {
      edge(cur, en);
      cur = en;
    }

    // Blocks, folded into runs of identical signatures.
    int l = 0;
    size_t runs = 0;
    while (l < n_layer) {
      int e = l;
      if (!opt.expand) {
        std::string s = signature(l);
        while (e + 1 < n_layer && signature(e + 1) == s) ++e;
      }
      cur = block(l, e, cur);
      ++runs;
      l = e + 1;
    }
    if (!opt.expand && n_layer > 0 && runs < static_cast<size_t>(n_layer))
      g.notes.push_back(std::to_string(n_layer) + " blocks drawn as " + std::to_string(runs) +
                        " (identical blocks folded; --expand draws all)");

    std::string on = weight(role_kind::output_norm, -1, -1, "norm", "", {}, "output norm");
    if (!on.empty()) {
      edge(cur, on);
      cur = on;
    }
    std::string head = weight(role_kind::output, -1, -1, "head", "", {}, "output head");
    if (head.empty() && !emb.empty()) {
      head = compute("output", "output head", "head", "", {"tied: uses the token embedding"}, 1);
      g.edges.push_back({emb, head, "tied weights", false, true});
    }
    if (!head.empty()) {
      edge(cur, head);
      cur = head;
    }
    std::string logits = compute("logits", "logits", "output", "",
                                 {hp.n_vocab > 0 ? "vocab " + std::to_string(hp.n_vocab) : ""}, 1);
    edge(cur, logits);
    // Global tensors with other roles (rope_freqs, unknown globals).
    for (const auto* e : globals) {
      if (e->role != role_kind::other && e->role != role_kind::rope_freqs) continue;
      std::string r = short_role(e->canonical);
      if (g.node(r)) continue;
      gnode n;
      n.id = r;
      n.label = e->role == role_kind::rope_freqs ? r + " (precomputed RoPE table)" : r;
      n.kind = e->role == role_kind::rope_freqs ? "rope" : "generic";
      n.tensors.push_back(e->canonical);
      if (const tensor_view* t = tv(e)) {
        n.stored.push_back(t->name);
        n.details.push_back(shape_string(t->shape) + " " + dtype_name(t->type));
        n.params = t->element_count();
      }
      add(std::move(n));
    }
    unmapped_node(logits);
  }
};

}  // namespace

graph graph_from_model(const model& m, const graph_options& opt) {
  builder b{m, opt, {}, {}, {}};
  b.run();
  return std::move(b.g);
}

}  // namespace gb::viz
