// inspect/graph_fold.cpp: structural repeat detection for ONNX op graphs (see inspect/graph_fold.h for the
// method).
#include "inspect/graph_fold.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <queue>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>

namespace gb {
namespace {

uint64_t mix64(uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
uint64_t combine(uint64_t h, uint64_t v) {
  return mix64(h ^ (v + 0x632be59bd9b4e019ULL + (h << 7) + (h >> 3)));
}
uint64_t text_hash(std::string_view s) {  // FNV-1a, deterministic across runs and platforms
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return h;
}

bool is_constant(const graph_node& nd) {
  return nd.op_type == "Constant" && nd.inputs.empty() && (nd.domain.empty() || nd.domain == "ai.onnx");
}
bool is_shape_op(const graph_node& nd) {
  return nd.op_type == "Shape" || nd.op_type == "Size";
}

// A weight-like initializer: learned values, not a shape or axis list.
bool weight_like(const tensor_view& t) {
  if (t.element_count() < 2) return false;
  const dtype_traits& d = dtype_info(t.type);
  return d.is_float || d.is_quantized || t.type == dtype::i8 || t.type == dtype::u8;
}

constexpr size_t k_max_unit = 256;  // segments per repeated unit searched (transformer layer: 2)

// What the steps of fold_onnx_structure share: the graph's value wiring, then each step's result.
struct fold_state {
  const archive& a;
  const std::vector<graph_node>& nodes;
  size_t n = 0;
  std::unordered_map<std::string, const tensor_view*> inits;
  std::unordered_map<std::string, std::pair<size_t, size_t>> producer;  // value -> (node, output index)
  std::unordered_map<std::string, std::vector<size_t>> consumers;       // value -> nodes reading it
  std::unordered_map<std::string, bool> graph_inputs, graph_outputs;
  std::vector<size_t> order;                   // (n) topological order
  std::vector<size_t> pos;                     // (n) place of each node in order
  std::vector<char> main;                      // (n) on the data path
  std::vector<size_t> mains;                   // (m) main nodes in topological order
  std::vector<int> seg_of;                     // (n) segment of each node (main, or attached side node), -1
  std::vector<std::vector<size_t>> seg_nodes;  // (segments) nodes of each, in topological order
  std::vector<size_t> seg_mains;               // (segments) main nodes in each
  std::vector<uint64_t> h;                     // (n) node hash inside its segment
  std::vector<int> sig;                        // (segments) signature id
  std::vector<size_t> main_prefix;             // (segments + 1) main nodes before each segment

  explicit fold_state(const archive& ar) : a(ar), nodes(ar.graph.nodes), n(ar.graph.nodes.size()) {
    for (const auto& t : a.tensors) inits.emplace(t.name, &t);
    for (size_t i = 0; i < n; ++i)
      for (size_t o = 0; o < nodes[i].outputs.size(); ++o)
        if (!nodes[i].outputs[o].empty()) producer.emplace(nodes[i].outputs[o], std::make_pair(i, o));
    for (size_t i = 0; i < n; ++i)
      for (const auto& in : nodes[i].inputs)
        if (!in.empty()) consumers[in].push_back(i);
    for (const auto& in : a.graph.inputs) graph_inputs[in] = true;
    for (const auto& out : a.graph.outputs) graph_outputs[out] = true;
  }
};

// 1. topological order (Kahn, smallest file index first; nodes on a cycle follow in file order)
void fold_order(fold_state& st) {
  const size_t n = st.n;
  std::vector<std::vector<size_t>> succ(n);
  std::vector<size_t> indeg(n, 0);
  for (size_t i = 0; i < n; ++i)
    for (const auto& in : st.nodes[i].inputs) {
      auto p = st.producer.find(in);
      if (p == st.producer.end() || p->second.first == i) continue;
      succ[p->second.first].push_back(i);
      ++indeg[i];
    }
  std::vector<size_t>& order = st.order;
  order.reserve(n);
  std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
  for (size_t i = 0; i < n; ++i)
    if (indeg[i] == 0) ready.push(i);
  std::vector<char> placed(n, 0);
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    placed[i] = 1;
    order.push_back(i);
    for (size_t j : succ[i])
      if (--indeg[j] == 0) ready.push(j);
  }
  for (size_t i = 0; i < n; ++i)
    if (!placed[i]) order.push_back(i);
  st.pos.resize(n);
  for (size_t k = 0; k < n; ++k) st.pos[order[k]] = k;
}

// main nodes: read a graph input, a weight-like initializer or another main node's (non-shape) output
void fold_main(fold_state& st) {
  st.main.assign(st.n, 0);
  for (size_t i : st.order) {
    const graph_node& nd = st.nodes[i];
    if (is_constant(nd)) continue;
    for (const auto& in : nd.inputs) {
      if (in.empty()) continue;
      if (st.graph_inputs.count(in)) {
        st.main[i] = 1;
        break;
      }
      if (auto it = st.inits.find(in); it != st.inits.end()) {
        if (weight_like(*it->second)) {
          st.main[i] = 1;
          break;
        }
        continue;
      }
      auto p = st.producer.find(in);
      if (p != st.producer.end() && p->second.first != i && st.main[p->second.first] &&
          !is_shape_op(st.nodes[p->second.first])) {
        st.main[i] = 1;
        break;
      }
    }
  }
  for (size_t i : st.order)
    if (st.main[i]) st.mains.push_back(i);
}

// shape arithmetic (f.shape_only), from the consumers back
void fold_shape_only(const fold_state& st, structural_folding& f) {
  const auto& nodes = st.nodes;
  f.shape_only.assign(st.n, 0);
  static const char* const k_shape_ops[] = {
      "Shape",   "Size",     "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Slice", "ConstantOfShape",
      "Reshape", "Equal",    "Where",  "Expand",    "Div",     "Mul",    "Add",  "Sub",   "Floor",
      "Ceil",    "Identity", "Min",    "Max",       "Not",     "Tile"};
  // forward: computed from sizes only (Shape/Size of anything, then listed ops over constants and sizes);
  // a RoPE table (Cos/Sin) or a mask (Greater, Trilu) is not, nor anything computed from it
  std::vector<char> from_sizes(st.n, 0);
  for (size_t i : st.order) {
    const graph_node& nd = nodes[i];
    if (is_constant(nd) || !(nd.domain.empty() || nd.domain == "ai.onnx")) continue;
    if (is_shape_op(nd)) {
      from_sizes[i] = 1;
      continue;
    }
    bool listed = std::find_if(std::begin(k_shape_ops), std::end(k_shape_ops),
                               [&](const char* o) { return nd.op_type == o; }) != std::end(k_shape_ops);
    if (st.main[i] || !listed) continue;
    bool ok = true;
    for (const auto& in : nd.inputs) {
      if (in.empty() || st.inits.count(in)) continue;
      auto p = st.producer.find(in);
      if (p == st.producer.end() || p->second.first == i ||
          (!is_constant(nodes[p->second.first]) && !from_sizes[p->second.first]))
        ok = false;
    }
    from_sizes[i] = ok;
  }
  // backward: every consumer is more of the same or reads it as a parameter
  for (size_t k = st.n; k-- > 0;) {
    size_t i = st.order[k];
    if (!from_sizes[i]) continue;
    bool ok = true, any = false;
    for (const auto& out : nodes[i].outputs) {
      if (out.empty()) continue;
      if (st.graph_outputs.count(out)) ok = false;
      auto c = st.consumers.find(out);
      if (c == st.consumers.end()) continue;
      for (size_t j : c->second) {
        any = true;
        if (!f.shape_only[j] && !(st.main[j] && !is_shape_op(nodes[j]))) ok = false;
      }
    }
    f.shape_only[i] = ok && any;
  }
}

// 2. live main values per boundary (boundary b sits between mains[b] and mains[b+1]): diff (m + 1) of
// value lifetimes; a boundary with at most one live value starts a new segment of mains.
void fold_segment_mains(fold_state& st) {
  const size_t m = st.mains.size();
  std::vector<long> mpos(st.n, -1);  // (n) place of each main node in mains
  for (size_t k = 0; k < m; ++k) mpos[st.mains[k]] = static_cast<long>(k);
  std::vector<long> diff(m + 1, 0);
  auto live_span = [&](long first, long last) {
    if (first < 0 || last <= first) return;
    diff[static_cast<size_t>(first)] += 1;
    diff[static_cast<size_t>(last)] -= 1;
  };
  for (size_t k = 0; k < m; ++k) {
    const graph_node& nd = st.nodes[st.mains[k]];
    if (is_shape_op(nd)) continue;
    for (const auto& out : nd.outputs) {
      if (out.empty() || st.graph_outputs.count(out)) continue;
      auto c = st.consumers.find(out);
      if (c == st.consumers.end()) continue;
      long last = -1;
      for (size_t j : c->second) last = std::max(last, mpos[j]);
      live_span(static_cast<long>(k), last);
    }
  }
  for (const auto& in : st.a.graph.inputs) {
    auto c = st.consumers.find(in);
    if (c == st.consumers.end()) continue;
    long first = -1, last = -1;
    for (size_t j : c->second)
      if (mpos[j] >= 0) {
        first = first < 0 ? mpos[j] : std::min(first, mpos[j]);
        last = std::max(last, mpos[j]);
      }
    live_span(first, last);
  }
  st.seg_of.assign(st.n, -1);
  int nseg = 0;
  long live = 0;
  for (size_t k = 0; k < m; ++k) {
    st.seg_of[st.mains[k]] = nseg;
    live += diff[k];
    if (k + 1 < m && live <= 1) ++nseg;
  }
  st.seg_nodes.resize(static_cast<size_t>(nseg + 1));
}

// side nodes join the one segment all their consumers sit in; then each segment's nodes
void fold_segment_sides(fold_state& st) {
  for (size_t k = st.n; k-- > 0;) {
    size_t i = st.order[k];
    if (st.main[i] || is_constant(st.nodes[i])) continue;
    int s = -1;
    bool shared = false;
    for (const auto& out : st.nodes[i].outputs) {
      if (out.empty()) continue;
      if (st.graph_outputs.count(out)) shared = true;
      auto c = st.consumers.find(out);
      if (c == st.consumers.end()) continue;
      for (size_t j : c->second) {
        int t = st.seg_of[j];
        if (t < 0)
          shared = true;
        else if (s < 0)
          s = t;
        else if (s != t)
          shared = true;
      }
    }
    if (!shared && s >= 0) st.seg_of[i] = s;
  }
  st.seg_mains.assign(st.seg_nodes.size(), 0);
  for (size_t i : st.order)
    if (st.seg_of[i] >= 0) {
      st.seg_nodes[static_cast<size_t>(st.seg_of[i])].push_back(i);
      st.seg_mains[static_cast<size_t>(st.seg_of[i])] += st.main[i] ? 1 : 0;
    }
}

// 3. node hashes inside their segment, segment signatures
void fold_hash(fold_state& st) {
  const auto& nodes = st.nodes;
  std::vector<uint64_t>& h = st.h;
  h.assign(st.n, 0);
  for (size_t i = 0; i < st.n; ++i) {
    const graph_node& nd = nodes[i];
    uint64_t x = combine(text_hash(nd.domain), text_hash(nd.op_type));
    for (const auto& [k, v] : nd.attributes) x = combine(combine(x, text_hash(k)), text_hash(v));
    x = combine(x, nd.inputs.size() * 131 + nd.outputs.size());
    h[i] = x;
  }
  const uint64_t tag_none = text_hash("\x01none"), tag_const = text_hash("\x01const"),
                 tag_out = text_hash("\x01outside");
  for (const auto& sn : st.seg_nodes)
    for (size_t i : sn) {
      uint64_t x = h[i];
      for (const auto& in : nodes[i].inputs) {
        uint64_t t = tag_out;
        if (in.empty()) {
          t = tag_none;
        } else if (auto it = st.inits.find(in); it != st.inits.end()) {
          t = combine(text_hash(shape_string(it->second->shape)), text_hash(dtype_name(it->second->type)));
        } else if (auto p = st.producer.find(in); p != st.producer.end()) {
          size_t j = p->second.first;
          if (is_constant(nodes[j]))
            t = tag_const;
          else if (st.seg_of[j] == st.seg_of[i] && st.pos[j] < st.pos[i])
            t = combine(h[j], p->second.second);
        }
        x = combine(x, t);
      }
      h[i] = x;
    }
  st.sig.resize(st.seg_nodes.size());
  std::map<std::vector<uint64_t>, int> ids;
  for (size_t s = 0; s < st.seg_nodes.size(); ++s) {
    std::vector<uint64_t> v;
    v.reserve(st.seg_nodes[s].size());
    for (size_t i : st.seg_nodes[s]) v.push_back(h[i]);
    std::sort(v.begin(), v.end());
    st.sig[s] = ids.emplace(std::move(v), static_cast<int>(ids.size())).first->second;
  }
  st.main_prefix.assign(st.seg_mains.size() + 1, 0);
  for (size_t s = 0; s < st.seg_mains.size(); ++s)
    st.main_prefix[s + 1] = st.main_prefix[s] + st.seg_mains[s];
}

struct found_run {
  size_t start, unit, copies;  // first segment, segments per unit, units
};

// 4. runs of equal units, largest coverage first, then the parts beside them; by start
std::vector<found_run> fold_runs(const fold_state& st) {
  const std::vector<int>& sig = st.sig;
  std::vector<found_run> runs;
  std::vector<std::pair<size_t, size_t>> work{{0, sig.size()}};
  while (!work.empty()) {
    auto [lo, hi] = work.back();
    work.pop_back();
    if (hi - lo < 2) continue;
    size_t best_cov = 0, best_l = 0, best_s = 0;
    for (size_t L = 1; L <= (hi - lo) / 2 && L <= k_max_unit; ++L) {
      size_t r = 0;  // length of the run of sig[j] == sig[j + L] starting at j
      for (size_t j = hi - L; j-- > lo;) {
        r = sig[j] == sig[j + L] ? r + 1 : 0;
        if (r < L) continue;
        size_t k = r / L + 1;
        size_t cov = k * L;
        if (st.main_prefix[j + L] - st.main_prefix[j] < 2) continue;
        if (cov > best_cov || (cov == best_cov && L < best_l) ||
            (cov == best_cov && L == best_l && j < best_s)) {
          best_cov = cov;
          best_l = L;
          best_s = j;
        }
      }
    }
    if (best_cov == 0) continue;
    size_t k = best_cov / best_l;
    runs.push_back({best_s, best_l, k});
    work.push_back({lo, best_s});
    work.push_back({best_s + best_cov, hi});
  }
  std::sort(runs.begin(), runs.end(),
            [](const found_run& x, const found_run& y) { return x.start < y.start; });
  return runs;
}

// maps every copy of run r onto copy 0 by (segment in unit, hash, occurrence)
void fold_map_copies(const fold_state& st, const found_run& fr, size_t r, structural_folding& f) {
  fold_run out;
  out.copies = static_cast<int>(fr.copies);
  std::map<std::tuple<size_t, uint64_t, size_t>, size_t> first;
  for (size_t c = 0; c < fr.copies; ++c)
    for (size_t u = 0; u < fr.unit; ++u) {
      const auto& sn = st.seg_nodes[fr.start + c * fr.unit + u];
      std::map<uint64_t, size_t> occ;
      for (size_t i : sn) {
        auto key = std::make_tuple(u, st.h[i], occ[st.h[i]]++);
        f.run[i] = static_cast<int>(r);
        f.copy[i] = static_cast<int>(c);
        if (c == 0) {
          first.emplace(key, i);
          ++out.ops_per_copy;
        } else if (auto it = first.find(key); it != first.end()) {
          f.rep[i] = it->second;
        }
      }
    }
  for (size_t i : st.seg_nodes[fr.start])
    if (st.main[i]) {
      out.first_node_pos = st.pos[i];
      break;
    }
  f.runs.push_back(out);
}

}  // namespace

structural_folding fold_onnx_structure(const archive& a) {
  const size_t n = a.graph.nodes.size();
  structural_folding f;
  f.run.assign(n, -1);
  f.copy.assign(n, -1);
  f.rep.resize(n);
  for (size_t i = 0; i < n; ++i) f.rep[i] = i;
  f.shape_only.assign(n, 0);
  if (n < 4) return f;
  fold_state st(a);
  fold_order(st);
  fold_main(st);
  if (st.mains.size() < 4) return f;
  fold_shape_only(st, f);
  fold_segment_mains(st);
  fold_segment_sides(st);
  fold_hash(st);
  const std::vector<found_run> runs = fold_runs(st);
  for (size_t r = 0; r < runs.size(); ++r) fold_map_copies(st, runs[r], r, f);
  return f;
}

}  // namespace gb
