// tests/inspect/test_onnx_arch.cpp: decoder roles read from an ONNX op graph when the initializer names say
// nothing (torch exports: "onnx::MatMul_1233"). Synthetic graphs built in memory, then stories260K.onnx
// against its GGUF twin, value by value.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>

#include "inspect/hash.h"
#include "inspect/model.h"
#include "inspect/onnx_arch.h"
#include "inspect/summary.h"
#include "inspect/tensor_values.h"
#include "tests/support/data.h"

using namespace gb;

namespace {

struct llama_onnx_dims {
  int layers = 3;
  int64_t dim = 16, kv = 8, ff = 40, vocab = 50;
  bool up_before_gate = false;  // node order of the two MLP projections
  int plain_mlp_layer = -1;     // this layer's MLP is not gated (one up projection, Relu)
  bool no_norms = false;        // projections without the RMS pattern
  int64_t heads = 0,
          kv_heads =
              0;  // > 0: q and k are reshaped to [b, s, heads, head_dim] by Concat(dyn, dyn, Constants)
};

// A torch-export-like LLaMA op graph: flat op names, initializers "onnx::MatMul_<n>", no shapes on values.
struct onnx_builder {
  archive a;
  int counter = 0;
  std::string fresh(const std::string& op) {
    return "/" + op + "_" + std::to_string(counter++) + "_output_0";
  }
  std::string init(std::vector<int64_t> shape, const std::string& prefix = "onnx::MatMul_") {
    tensor_view t;
    t.name = prefix + std::to_string(1000 + counter++);
    t.type = dtype::f32;
    t.shape = std::move(shape);
    a.tensors.push_back(t);
    return a.tensors.back().name;
  }
  std::string op(const std::string& type, std::vector<std::string> in,
                 std::vector<std::pair<std::string, std::string>> at = {}) {
    std::string out = fresh(type);
    a.graph.nodes.push_back(
        {"/" + type + "_" + std::to_string(counter), type, "", std::move(in), {out}, std::move(at)});
    return out;
  }
  std::string constant() { return op("Constant", {}, {{"value", "tensor f32 []"}}); }
  std::string rms(const std::string& x, int64_t dim) {
    std::string p = op("Pow", {x, constant()});
    std::string m = op("ReduceMean", {p}, {{"axes", "[-1]"}, {"keepdims", "1"}});
    std::string e = op("Add", {m, constant()});
    std::string s = op("Sqrt", {e});
    std::string r = op("Div", {constant(), s});
    std::string n = op("Mul", {x, r});
    return op("Mul", {n, init({dim}, "onnx::Mul_")});
  }
  std::string matmul(const std::string& x, int64_t in, int64_t out) {
    return op("MatMul", {x, init({in, out})});
  }
};

archive llama_onnx(const llama_onnx_dims& d) {
  onnx_builder b;
  b.a.format = file_format::onnx;
  b.a.format_version = "ir 8";
  b.a.path = "memory.onnx";
  b.a.graph.ir_version = 8;
  b.a.graph.inputs = {"input_ids"};
  b.a.graph.outputs = {"logits"};
  tensor_view tok;
  tok.name = "tok";
  tok.type = dtype::f32;
  tok.shape = {d.vocab, d.dim};
  b.a.tensors.push_back(tok);
  std::string x = b.op("Gather", {"tok", "input_ids"}, {{"axis", "0"}});
  for (int l = 0; l < d.layers; ++l) {
    std::string h = d.no_norms ? x : b.rms(x, d.dim);
    std::string q = b.matmul(h, d.dim, d.dim), k = b.matmul(h, d.dim, d.kv), v = b.matmul(h, d.dim, d.kv);
    if (d.heads > 0) {
      std::string bs = b.op("Unsqueeze", {b.op("Gather", {b.op("Shape", {q}), b.constant()})});
      auto c = [&](int64_t val) {
        return b.op("Constant", {}, {{"value", "tensor i64 [1] = {" + std::to_string(val) + "}"}});
      };
      q = b.op("Reshape", {q, b.op("Concat", {bs, bs, c(d.heads), c(d.dim / d.heads)}, {{"axis", "0"}})});
      k = b.op("Reshape", {k, b.op("Concat", {bs, bs, c(d.kv_heads), c(-1)}, {{"axis", "0"}})});
    }
    std::string s = b.op("Softmax", {b.op("MatMul", {q, b.op("Transpose", {k})})});
    std::string att = b.op("MatMul", {s, v});
    x = b.op("Add", {x, b.matmul(att, d.dim, d.dim)});
    std::string h2 = d.no_norms ? x : b.rms(x, d.dim);
    std::string act;
    if (l == d.plain_mlp_layer) {
      act = b.op("Relu", {b.matmul(h2, d.dim, d.ff)});
    } else if (d.up_before_gate) {
      std::string up = b.matmul(h2, d.dim, d.ff), gate = b.matmul(h2, d.dim, d.ff);
      act = b.op("Mul", {b.op("Mul", {gate, b.op("Sigmoid", {gate})}), up});
    } else {
      std::string gate = b.matmul(h2, d.dim, d.ff);
      std::string silu = b.op("Mul", {gate, b.op("Sigmoid", {gate})});
      act = b.op("Mul", {silu, b.matmul(h2, d.dim, d.ff)});
    }
    x = b.op("Add", {x, b.matmul(act, d.ff, d.dim)});
  }
  std::string h = d.no_norms ? x : b.rms(x, d.dim);
  std::string logits = b.matmul(h, d.dim, d.vocab);
  b.a.graph.nodes.back().outputs = {"logits"};
  (void)logits;
  return std::move(b.a);
}

const role_entry* find_role(const std::vector<role_entry>& roles, role_kind r, int layer) {
  for (const auto& e : roles)
    if (e.role == r && e.layer == layer && !e.bias) return &e;
  return nullptr;
}

}  // namespace

TEST_CASE(
    "a torch-export-shaped LLaMA graph: roles by data flow, layers by block, [in, out] marked transposed") {
  llama_onnx_dims d;
  archive a = llama_onnx(d);
  std::optional<onnx_arch> r = onnx_arch_recognise(a);
  REQUIRE(r);
  CHECK(r->architecture == "llama");
  CHECK(r->n_layer == 3);
  CHECK(r->n_embd == 16);
  CHECK(r->n_ff == 40);
  CHECK(r->n_vocab == 50);
  CHECK(r->roles.size() == 1 + 3 * 9 + 2);
  CHECK(r->unmapped.empty());
  // projections in node order per block: q, k, v, o, gate, up, down; the builder created them in this order
  for (int l = 0; l < 3; ++l) {
    const role_entry* q = find_role(r->roles, role_kind::attn_q, l);
    const role_entry* k = find_role(r->roles, role_kind::attn_k, l);
    const role_entry* gate = find_role(r->roles, role_kind::mlp_gate, l);
    const role_entry* up = find_role(r->roles, role_kind::mlp_up, l);
    const role_entry* down = find_role(r->roles, role_kind::mlp_down, l);
    REQUIRE((q && k && gate && up && down));
    CHECK(q->transposed);
    CHECK(a.tensors[k->tensor].shape == std::vector<int64_t>{16, 8});
    CHECK(gate->tensor < up->tensor);
    CHECK(a.tensors[down->tensor].shape == std::vector<int64_t>{40, 16});
    CHECK(q->canonical == "blk." + std::to_string(l) + ".attn.q.weight");
    if (l > 0) CHECK(q->tensor > find_role(r->roles, role_kind::mlp_down, l - 1)->tensor);  // blocks in order
  }
  const role_entry* out = find_role(r->roles, role_kind::output, -1);
  REQUIRE(out);
  CHECK(a.tensors[out->tensor].shape == std::vector<int64_t>{16, 50});
  CHECK(find_role(r->roles, role_kind::output_norm, -1));
  CHECK(find_role(r->roles, role_kind::tok_embd, -1)->tensor == 0);
}

TEST_CASE("heads from the Reshape constants after q and k; unknown without them") {
  llama_onnx_dims d;
  d.heads = 4;
  d.kv_heads = 2;
  auto ar = std::make_shared<archive>(llama_onnx(d));
  std::optional<onnx_arch> r = onnx_arch_recognise(*ar);
  REQUIRE(r);
  CHECK(r->n_head == 4);
  CHECK(r->n_head_kv == 2);
  auto m = model_build(ar);
  REQUIRE(m.ok());
  CHECK(m.value().hp.n_head == 4);
  CHECK(m.value().hp.n_head_kv == 2);
  CHECK(m.value().hp.head_dim == 4);
  CHECK(!m.value().hp.inferred.count("n_head"));
  d.heads = 0;
  std::optional<onnx_arch> r0 = onnx_arch_recognise(llama_onnx(d));
  REQUIRE(r0);
  CHECK(r0->n_head == 0);
  CHECK(r0->n_head_kv == 0);
}

TEST_CASE("gate and up told apart by the SiLU pattern, not by node order") {
  llama_onnx_dims d;
  d.up_before_gate = true;
  archive a = llama_onnx(d);
  std::optional<onnx_arch> r = onnx_arch_recognise(a);
  REQUIRE(r);
  for (int l = 0; l < 3; ++l) {
    const role_entry* gate = find_role(r->roles, role_kind::mlp_gate, l);
    const role_entry* up = find_role(r->roles, role_kind::mlp_up, l);
    REQUIRE((gate && up));
    CHECK(up->tensor < gate->tensor);  // the up projection was created first
    // the gate's output is what the Sigmoid reads
    std::string gate_out;
    for (const auto& n : a.graph.nodes)
      if (n.op_type == "MatMul" && n.inputs.size() == 2 && n.inputs[1] == a.tensors[gate->tensor].name)
        gate_out = n.outputs[0];
    CHECK(std::any_of(a.graph.nodes.begin(), a.graph.nodes.end(), [&](const graph_node& n) {
      return n.op_type == "Sigmoid" && n.inputs[0] == gate_out;
    }));
  }
}

TEST_CASE("model_build on the synthetic export: llama, hyperparameters inferred, parameters by role") {
  llama_onnx_dims d;
  auto ar = std::make_shared<archive>(llama_onnx(d));
  auto m = model_build(ar);
  REQUIRE(m.ok());
  const model& mm = m.value();
  CHECK(mm.architecture == "llama");
  CHECK(mm.family == arch_family::llama);
  CHECK(mm.hp.n_layer == 3);
  CHECK(mm.hp.n_embd == 16);
  CHECK(mm.hp.n_ff == 40);
  CHECK(mm.hp.n_vocab == 50);
  CHECK(mm.hp.n_head == 0);  // not readable from this graph: unknown, not guessed
  CHECK(mm.hp.inferred.count("n_ff"));
  CHECK(!mm.hp.tied_embeddings);
  CHECK(std::any_of(mm.findings.begin(), mm.findings.end(),
                    [](const finding& f) { return f.code == "model.architecture_from_graph"; }));
  CHECK(std::none_of(mm.findings.begin(), mm.findings.end(),
                     [](const finding& f) { return f.code == "model.shape_mismatch"; }));
  model_summary s = summary_build(mm);
  std::map<std::string, uint64_t> g;
  for (const auto& x : s.by_group) g[x.group] = x.params;
  const uint64_t D = 16, KV = 8, F = 40, V = 50, L = 3;
  CHECK(g["embedding"] == V * D);
  CHECK(g["attention"] == L * (2 * D * D + 2 * D * KV));
  CHECK(g["mlp"] == L * 3 * D * F);
  CHECK(g["norm"] == (2 * L + 1) * D);
  CHECK(g["output"] == D * V);
  CHECK(g["other"] == 0);
}

TEST_CASE("graphs off the pattern stay unknown, unchanged") {
  SUBCASE("no norms") {
    llama_onnx_dims d;
    d.no_norms = true;
    archive a = llama_onnx(d);
    CHECK(!onnx_arch_recognise(a));
    auto m = model_build(std::make_shared<archive>(std::move(a)));
    REQUIRE(m.ok());
    CHECK(m.value().family == arch_family::unknown);
    CHECK(m.value().roles.empty());
  }
  SUBCASE("one block with an ungated MLP") {
    llama_onnx_dims d;
    d.plain_mlp_layer = 1;
    CHECK(!onnx_arch_recognise(llama_onnx(d)));
  }
  SUBCASE("not ONNX, or no graph") {
    archive a = llama_onnx({});
    a.format = file_format::safetensors;
    CHECK(!onnx_arch_recognise(a));
    archive b = llama_onnx({});
    b.graph.nodes.clear();
    CHECK(!onnx_arch_recognise(b));
  }
  SUBCASE("hostile: a projection reads an initializer that another role took") {
    archive a = llama_onnx({});
    for (auto& n : a.graph.nodes)  // every MatMul reads the first q weight
      if (n.op_type == "MatMul" && n.inputs.size() == 2 && n.inputs[1].rfind("onnx::", 0) == 0)
        n.inputs[1] = a.tensors[1 + 1].name;
    CHECK(!onnx_arch_recognise(a));
  }
}

TEST_CASE(
    "stories260K.onnx: llama, 5 layers, dim 64, FFN 172, vocab 512; every role holds the GGUF's values") {
  GB_DATA(onnx_path, "models/stories260K/stories260K.onnx");
  GB_DATA(gguf_path, "models/stories260K/stories260K.gguf");
  auto oa = archive_open(onnx_path);
  REQUIRE(oa.ok());
  auto om = model_build(std::make_shared<archive>(std::move(oa).value()));
  REQUIRE(om.ok());
  const model& m = om.value();
  CHECK(m.architecture == "llama");
  CHECK(m.hp.n_layer == 5);
  CHECK(m.hp.n_embd == 64);
  CHECK(m.hp.n_ff == 172);
  CHECK(m.hp.n_vocab == 512);
  CHECK(m.unmapped.empty());
  model_summary s = summary_build(m);
  std::map<std::string, uint64_t> g;
  uint64_t sum = 0;
  for (const auto& x : s.by_group) g[x.group] = x.params, sum += x.params;
  // the GGUF's 260,032: ONNX stores the tied output head as a transposed copy of the embedding, found and
  // counted once (tied_copy_elements says how much was left out)
  CHECK(sum == 260032);
  CHECK(s.parameter_count == 260032);
  CHECK(s.tied_copy_elements == 512 * 64);
  CHECK(g["embedding"] == 512 * 64);
  CHECK(g["output"] == 0);
  CHECK(g["norm"] == 11 * 64);
  CHECK(g["attention"] == 5 * (2 * 64 * 64 + 2 * 64 * 32));
  CHECK(g["mlp"] == 5 * 3 * 64 * 172);

  // Same canonical tensor, same values: the roles (and the [in, out] transposition) are right.
  auto ga = archive_open(gguf_path);
  REQUIRE(ga.ok());
  auto gm = model_build(std::make_shared<archive>(std::move(ga).value()));
  REQUIRE(gm.ok());
  std::vector<tensor_item> oi = tensor_items(m), gi = tensor_items(gm.value());
  std::map<std::string, const tensor_item*> by_name;
  for (const auto& it : gi) by_name[it.name] = &it;
  size_t compared = 0;
  for (const auto& it : oi) {
    auto g2 = by_name.find(it.name);
    if (g2 == by_name.end()) continue;
    INFO(it.name);
    REQUIRE(it.shape == g2->second->shape);
    tensor_reader r1(it), r2(*g2->second);
    std::vector<float> s1(static_cast<size_t>(r1.cols())), s2(static_cast<size_t>(r2.cols()));
    double worst = 0;
    for (int64_t row = 0; row < r1.rows(); ++row) {
      const float* x = r1.row_f32(row, s1.data());
      const float* y = r2.row_f32(row, s2.data());
      for (int64_t c = 0; c < r1.cols(); ++c)
        worst = std::max(worst, static_cast<double>(std::fabs(x[c] - y[c])));
    }
    CHECK(worst == 0.0);
    ++compared;
  }
  CHECK(compared == 1 + 5 * 9 + 2);  // tok_embd, 9 per block, output_norm, output: every tensor of both

  // So the canonical digests (gb-tensor-v1) agree tensor by tensor, and so does the root.
  hash_options ho;
  ho.files = false;
  ho.stats = false;
  ho.threads = 1;
  hash_report h1 = hash_model(oi, m.source->files, ho), h2 = hash_model(gi, gm.value().source->files, ho);
  std::map<std::string, std::string> d2;
  for (const auto& t : h2.tensors) d2[t.name] = t.digest_hex;
  size_t equal = 0;
  for (const auto& t : h1.tensors) equal += d2.count(t.name) && d2[t.name] == t.digest_hex;
  CHECK(equal == 48);
  CHECK(h1.root_hex == h2.root_hex);
}
