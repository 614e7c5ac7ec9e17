// tests/inspect/integrity_fixture.h: in-memory models for the stats / hash / diff / spectral suites.
// Tensors own their bytes here; views and items point into them (no files, no loaders).
//
//   mem_model m;
//   m.add("blk.0.attn.q.weight", gb::dtype::f32, {8, 16}, gaussian(128, 1));
//   m.finish();                 // builds views and items; do not add afterwards
//   gb::stats_compute(m.items, {});
#pragma once

#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "formats/quant.h"
#include "inspect/tensor_values.h"

namespace gbt {

inline std::vector<float> gaussian(size_t n, uint64_t seed, float sd = 0.02f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0.0f, sd);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}

inline std::vector<uint8_t> encode(gb::dtype t, const std::vector<float>& v) {
  if (t == gb::dtype::f32) {
    std::vector<uint8_t> b(v.size() * 4);
    std::memcpy(b.data(), v.data(), b.size());
    return b;
  }
  return gb::quantize_row(t, v.data(), static_cast<int64_t>(v.size()));
}

struct mem_model {
  struct entry {
    std::string name;
    gb::dtype type;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
    int layer;
    bool transposed;
    int64_t hf_heads;
    std::vector<int64_t> strides;
  };
  std::deque<entry> entries;
  std::deque<gb::tensor_view> views;
  gb::archive ar;
  std::vector<gb::tensor_item> items;

  // Values are given in the stored order; the dtype encodes them row by row (the last dim).
  void add(const std::string& name, gb::dtype t, std::vector<int64_t> shape, const std::vector<float>& v,
           int layer = -1, bool transposed = false, int64_t hf_heads = 0) {
    entries.push_back({name, t, std::move(shape), encode(t, v), layer, transposed, hf_heads, {}});
  }
  void add_bytes(const std::string& name, gb::dtype t, std::vector<int64_t> shape, std::vector<uint8_t> bytes,
                 std::vector<int64_t> strides = {}) {
    entries.push_back({name, t, std::move(shape), std::move(bytes), -1, false, 0, std::move(strides)});
  }
  void finish() {
    for (entry& e : entries) {
      gb::tensor_view v;
      v.name = e.name;
      v.type = e.type;
      v.shape = e.shape;
      v.strides = e.strides;
      v.data = e.bytes.data();
      v.nbytes = e.bytes.size();
      views.push_back(v);
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      gb::tensor_item it;
      it.name = it.stored_name = entries[i].name;
      it.view = &views[i];
      it.layer = entries[i].layer;
      it.transposed = entries[i].transposed;
      it.hf_heads = entries[i].hf_heads;
      it.shape = gb::canonical_shape(views[i], it.transposed);
      items.push_back(it);
    }
  }
};

// A small llama-like layer stack: per layer q, k, v, o, gate, up, down matrices and two norms.
// perturb: layers whose matrices get relative noise `scale` added (a simulated fine-tune).
inline void llama_like(mem_model& m, uint64_t seed, gb::dtype t, const std::vector<int>& perturb = {},
                       float scale = 0.1f, int layers = 4, int64_t dim = 64, int64_t ff = 128) {
  uint64_t s = seed * 1000;
  auto mat = [&](const std::string& n, int64_t r, int64_t c, int layer) {
    std::vector<float> v = gaussian(static_cast<size_t>(r * c), ++s);
    for (int p : perturb)
      if (p == layer) {
        std::vector<float> noise = gaussian(v.size(), s + 777777, 0.02f * scale);
        for (size_t i = 0; i < v.size(); ++i) v[i] += noise[i];
      }
    m.add(n, t, {r, c}, v, layer);
  };
  mat("tok_embd.weight", 256, dim, -1);
  for (int l = 0; l < layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    m.add(p + "attn_norm.weight", gb::dtype::f32, {dim}, std::vector<float>(static_cast<size_t>(dim), 1.0f),
          l);
    mat(p + "attn.q.weight", dim, dim, l);
    mat(p + "attn.k.weight", dim, dim, l);
    mat(p + "attn.v.weight", dim, dim, l);
    mat(p + "attn.o.weight", dim, dim, l);
    m.add(p + "ffn_norm.weight", gb::dtype::f32, {dim}, std::vector<float>(static_cast<size_t>(dim), 1.0f),
          l);
    mat(p + "mlp.gate.weight", ff, dim, l);
    mat(p + "mlp.up.weight", ff, dim, l);
    mat(p + "mlp.down.weight", dim, ff, l);
  }
  m.add("output_norm.weight", gb::dtype::f32, {dim}, std::vector<float>(static_cast<size_t>(dim), 1.0f));
}

}  // namespace gbt
