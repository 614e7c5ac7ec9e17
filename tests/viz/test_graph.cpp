// tests/viz/test_graph.cpp: architecture and op graphs (structure, folding, overlays, diff, rendering).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/data.h"
#include "viz/graph.h"
#include "viz/xml_check.h"

using namespace gb;
using namespace gb::viz;

namespace {

meta_value mv_u(uint64_t v) {
  meta_value m;
  m.k = meta_value::kind::uinteger;
  m.u = v;
  m.gguf_type = 4;
  return m;
}
meta_value mv_s(std::string s) {
  meta_value m;
  m.k = meta_value::kind::string;
  m.s = std::move(s);
  m.gguf_type = 8;
  return m;
}

struct llama_dims {
  int64_t layers, dim, heads, kv_heads, ff, vocab;
  bool q_bias_in_last = false;
};

// A header-only GGUF-style llama archive in memory: shapes and metadata, no tensor bytes (views with
// data == nullptr), so a 70B-shaped model costs nothing to build.
std::shared_ptr<archive> llama_archive(const llama_dims& d) {
  auto a = std::make_shared<archive>();
  a->format = file_format::gguf;
  a->format_version = "3";
  a->path = "memory.gguf";
  a->metadata = {{"general.architecture", mv_s("llama")},
                 {"llama.block_count", mv_u(static_cast<uint64_t>(d.layers))},
                 {"llama.embedding_length", mv_u(static_cast<uint64_t>(d.dim))},
                 {"llama.attention.head_count", mv_u(static_cast<uint64_t>(d.heads))},
                 {"llama.attention.head_count_kv", mv_u(static_cast<uint64_t>(d.kv_heads))},
                 {"llama.feed_forward_length", mv_u(static_cast<uint64_t>(d.ff))},
                 {"llama.context_length", mv_u(4096)}};
  auto t = [&](std::string name, std::vector<int64_t> shape) {
    tensor_view v;
    v.name = std::move(name);
    v.type = dtype::f16;
    v.shape = std::move(shape);
    a->tensors.push_back(std::move(v));
  };
  int64_t kv = d.dim / d.heads * d.kv_heads;
  t("token_embd.weight", {d.vocab, d.dim});
  for (int64_t l = 0; l < d.layers; ++l) {
    std::string p = "blk." + std::to_string(l) + ".";
    t(p + "attn_norm.weight", {d.dim});
    t(p + "attn_q.weight", {d.dim, d.dim});
    if (d.q_bias_in_last && l == d.layers - 1) t(p + "attn_q.bias", {d.dim});
    t(p + "attn_k.weight", {kv, d.dim});
    t(p + "attn_v.weight", {kv, d.dim});
    t(p + "attn_output.weight", {d.dim, d.dim});
    t(p + "ffn_norm.weight", {d.dim});
    t(p + "ffn_gate.weight", {d.ff, d.dim});
    t(p + "ffn_up.weight", {d.ff, d.dim});
    t(p + "ffn_down.weight", {d.dim, d.ff});
  }
  t("output_norm.weight", {d.dim});
  t("output.weight", {d.vocab, d.dim});
  return a;
}

model build(std::shared_ptr<const archive> a) {
  auto r = model_build(std::move(a));
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  return std::move(r).value();
}

bool any_text_contains(const xml_report& r, const std::string& needle) {
  return std::any_of(r.texts.begin(), r.texts.end(),
                     [&](const std::string& t) { return t.find(needle) != std::string::npos; });
}

size_t count_kind(const graph& g, const std::string& kind) {
  return static_cast<size_t>(
      std::count_if(g.nodes.begin(), g.nodes.end(), [&](const gnode& n) { return n.kind == kind; }));
}

// An empty in-memory ONNX archive with graph input x and output y.
archive onnx_x_to_y() {
  archive a;
  a.format = file_format::onnx;
  a.path = "memory.onnx";
  a.graph.ir_version = 8;
  a.graph.inputs = {"x"};
  a.graph.outputs = {"y"};
  return a;
}

xml_report render_svg(const graph& g) {
  std::vector<std::string> msgs;
  auto r = graph_render(g, "svg", &msgs);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  auto x = xml_check(r.value());
  CHECK_MESSAGE(x.ok, x.error << " at byte " << x.offset);
  CHECK(x.root == "svg");
  return x;
}

// The architecture as drawn, without what legitimately differs between containers of the same weights:
// the source line and stored tensor names; the output head (the GGUF stores an untied copy of the
// embedding, the llama2.c and HF files tie it; checked separately); the context length on the input node
// (stories260K.gguf's metadata says 2048, the other files 512); and llama2.c's precomputed RoPE tables
// (rope_freqs, stored only in the .bin).
std::string structure(const graph& g) {
  std::string s = g.title.substr(0, g.title.rfind(',')) + "\n";
  for (const auto& n : g.notes) s += n + "\n";
  for (const auto& c : g.clusters) s += "cluster " + c.id + " " + c.label + "\n";
  for (const auto& n : g.nodes) {
    if (n.id == "output" || n.id == "unmapped" || n.id.rfind("rope_freqs", 0) == 0) continue;
    if (n.id == "tokens") {
      s += "tokens\n";
      continue;
    }
    s += n.id + "|" + n.label + "|" + n.kind + "|" + n.cluster + "|" + std::to_string(n.fold) + "|" +
         std::to_string(n.params);
    for (const auto& d : n.details) s += "|" + d;
    for (const auto& t : n.tensors) s += "|" + t;
    s += "\n";
  }
  for (const auto& e : g.edges)
    if (e.to != "output" && e.from != "output") s += e.from + "->" + e.to + " " + e.label + "\n";
  return s;
}

}  // namespace

TEST_CASE("70B-shaped llama: folded into one x80 block, expanded into 80 blocks") {
  auto a = llama_archive({80, 8192, 64, 8, 28672, 32000});
  model m = build(a);
  REQUIRE(m.hp.n_layer == 80);

  graph g = graph_from_model(m, {});
  REQUIRE(g.clusters.size() == 1);
  CHECK(g.clusters[0].fold == 80);
  CHECK(g.clusters[0].label.find("x 80") != std::string::npos);
  const gnode* q = g.node("blk.0.attn.q");
  REQUIRE(q);
  CHECK(q->fold == 80);
  CHECK(q->tensors.size() == 80);
  CHECK(q->params == 8192ULL * 8192ULL);
  CHECK(q->details.at(0) == "[8192, 8192] f16");
  CHECK(std::find(q->details.begin(), q->details.end(), "64 heads x 128") != q->details.end());
  const gnode* k = g.node("blk.0.attn.k");
  REQUIRE(k);
  CHECK(k->details.at(0) == "[1024, 8192] f16");
  CHECK(std::find(k->details.begin(), k->details.end(), "8 KV heads x 128") != k->details.end());
  REQUIRE(g.node("blk.0.attn.rope"));
  REQUIRE(g.node("blk.0.mlp.act"));
  CHECK(g.node("blk.0.mlp.act")->label == "SiLU(gate) * up");
  REQUIRE(g.node("tok_embd"));
  REQUIRE(g.node("output"));
  CHECK(g.node("output")->details.at(0) == "[32000, 8192] f16");
  CHECK(g.title.find("80 layers") != std::string::npos);
  CHECK(g.nodes.size() < 30);
  auto x = render_svg(g);
  CHECK(any_text_contains(x, "x 80"));
  CHECK(any_text_contains(x, "attn.q"));
  CHECK(any_text_contains(x, "token embedding"));

  graph e = graph_from_model(m, {true});
  CHECK(e.clusters.size() == 80);
  CHECK(e.node("blk.79.mlp.down"));
  CHECK(e.node("blk.0.attn.q")->fold == 1);
  CHECK(e.nodes.size() ==
        g.nodes.size() + 79 * (g.nodes.size() - 5));  // tokens, embedding, norm, head, logits outside
  // Blocks chain: block 41's input edge comes from block 40's output add.
  CHECK(std::any_of(e.edges.begin(), e.edges.end(), [](const gedge& ed) {
    return ed.from == "blk.40.mlp.add" && ed.to == "blk.41.attn_norm";
  }));
}

TEST_CASE("a layer that differs splits the fold") {
  model m = build(llama_archive({6, 64, 4, 2, 128, 100, true}));
  graph g = graph_from_model(m, {});
  REQUIRE(g.clusters.size() == 2);
  CHECK(g.clusters[0].fold == 5);
  CHECK(g.clusters[1].fold == 1);
  CHECK(g.node("blk.5.attn.q")->details.at(0).find("+ bias") != std::string::npos);
}

TEST_CASE("stories260K renders the same architecture graph from each format") {
  GB_DATA(gguf, "models/stories260K/stories260K.gguf");
  std::vector<std::string> paths = {
      gguf, test::data_path("models/stories260K/tinyllamas-stories-260k-f32.ggufv1.gguf"),
      test::data_path("models/stories260K/stories260K.bin"), test::data_path("models/stories260K/hf"),
      test::data_path("models/stories260K/stories260K.onnx")};  // roles from its op graph
  std::string first;
  for (const auto& p : paths) {
    if (p.empty()) continue;
    CAPTURE(p);
    auto ar = archive_open(p);
    REQUIRE_MESSAGE(ar.ok(), (ar.ok() ? "" : ar.err().to_string()));
    model m = build(std::make_shared<archive>(std::move(ar).value()));
    graph g = graph_from_model(m, {});
    REQUIRE(g.clusters.size() == 1);
    CHECK(g.clusters[0].fold == 5);
    const gnode* out = g.node("output");
    REQUIRE(out);
    CHECK(out->label == "output head");
    if (!out->details.empty() && out->details[0].front() == '[') CHECK(out->details[0] == "[512, 64] f32");
    std::string s = structure(g);
    CHECK(s.find("[8, 64] f32") == std::string::npos);  // q is [64, 64]; k/v are [32, 64] (4 KV heads)
    CHECK(s.find("blk.0.attn.k|attn.k|attention|blk.0|5|2048|[32, 64] f32|4 KV heads x 8") !=
          std::string::npos);
    if (first.empty())
      first = s;
    else
      CHECK(s == first);
    render_svg(g);
  }
}

TEST_CASE("every ONNX model in libonnx-testdata renders to well-formed SVG") {
  std::string root = "/usr/share/libonnx-testdata/data";
  if (!std::filesystem::exists(root)) {
    MESSAGE("SKIP: libonnx-testdata not installed");
    return;
  }
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root))
    if (e.path().extension() == ".onnx") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  CHECK(files.size() > 1000);
  size_t rendered = 0, skipped = 0, unknown = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& f : files) {
    auto ar = archive_open(f);
    if (!ar.ok()) {  // a test model the loader rejects is the loader's business; it must say why
      CHECK(!ar.err().message.empty());
      ++skipped;
      continue;
    }
    graph g = graph_from_onnx(ar.value(), {});
    for (const auto& fi : g.findings) unknown += fi.code == "graph.unknown_op";
    std::string svg;
    try {
      auto r = graph_render(g, "svg");
      REQUIRE_MESSAGE(r.ok(), f << ": " << (r.ok() ? "" : r.err().to_string()));
      svg = std::move(r).value();
    } catch (const std::exception& ex) {
      FAIL(f << ": " << ex.what());
    }
    auto x = xml_check(svg);
    if (!x.ok) FAIL(f << ": " << x.error << " at byte " << x.offset);
    ++rendered;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("rendered " << rendered << " ONNX graphs (" << skipped << " not loadable, " << unknown
                      << " unknown ops) in " << secs << " s");
  CHECK(rendered + skipped == files.size());
  CHECK(skipped * 20 < files.size());
  CHECK(unknown == 0);  // every op in the ONNX test suite is in the op table
}

TEST_CASE("stories260K ONNX expanded: every op drawn, initializer shapes on nodes") {
  GB_DATA(path, "models/stories260K/stories260K.onnx");
  auto ar = archive_open(path);
  REQUIRE(ar.ok());
  graph g = graph_from_onnx(ar.value(), {true});
  // This export names ops "/MatMul_3" (no module scopes): expanded, nothing is clustered or folded.
  CHECK(g.clusters.empty());
  size_t ops = 0, constants = 0;
  for (const auto& n : g.nodes) ops += n.id.rfind("op:", 0) == 0;
  for (const auto& n : ar.value().graph.nodes) constants += n.op_type == "Constant" && n.inputs.empty();
  CHECK(constants > 0);
  CHECK(ops + constants == ar.value().graph.nodes.size());  // Constant ops are shown on their consumers
  CHECK(count_kind(g, "op_compute") > 0);
  CHECK(std::any_of(g.nodes.begin(), g.nodes.end(), [](const gnode& n) {
    return std::any_of(n.details.begin(), n.details.end(),
                       [](const std::string& d) { return d.find("[64, 64] f32") != std::string::npos; });
  }));
  auto x = render_svg(g);
  CHECK(any_text_contains(x, "MatMul"));
}

TEST_CASE("ONNX layers named like torch exports fold into one x N cluster") {
  archive a = onnx_x_to_y();
  std::string prev = "x";
  for (int l = 0; l < 6; ++l) {
    std::string p = "/model/layers." + std::to_string(l) + "/";
    std::string w = "model.layers." + std::to_string(l) + ".w";
    tensor_view t;
    t.name = w;
    t.type = dtype::f32;
    t.shape = {8, 8};
    a.tensors.push_back(t);
    a.graph.nodes.push_back({p + "mlp/MatMul", "MatMul", "", {prev, w}, {p + "mlp/MatMul_output_0"}, {}});
    a.graph.nodes.push_back(
        {p + "Add", "Add", "", {prev, p + "mlp/MatMul_output_0"}, {p + "Add_output_0"}, {}});
    prev = p + "Add_output_0";
  }
  a.graph.nodes.push_back({"/model/norm/Relu", "Relu", "", {prev}, {"y"}, {}});
  graph g = graph_from_onnx(a, {});
  REQUIRE(g.clusters.size() == 1);
  CHECK(g.clusters[0].fold == 6);
  CHECK(g.clusters[0].label == "/model/layers.0-5  (x 6)");
  const gnode* mm = g.node("op:/model/layers.0/mlp/MatMul");
  REQUIRE(mm);
  CHECK(mm->tensors.size() == 6);
  CHECK(!g.node("op:/model/layers.3/mlp/MatMul"));
  CHECK(std::any_of(g.edges.begin(), g.edges.end(), [](const gedge& e) { return e.repeat; }));
  CHECK(std::any_of(g.edges.begin(), g.edges.end(), [](const gedge& e) {
    return e.from == "op:/model/layers.0/Add" && e.to == "op:/model/norm/Relu";
  }));
  graph e = graph_from_onnx(a, {true});
  CHECK(e.clusters.size() == 6);
  CHECK(e.node("op:/model/layers.3/mlp/MatMul"));
  auto x = render_svg(g);
  CHECK(any_text_contains(x, "(x 6)"));
}

TEST_CASE("unknown op and hostile names still render, with a finding") {
  archive a = onnx_x_to_y();
  a.graph.inputs = {"x\"<in>"};
  a.graph.value_shapes = {{"x\"<in>", "[1, 3] f32"}};
  a.graph.nodes.push_back(
      {"n1 -- \"quoted\" <b>&", "FancyOp", "", {"x\"<in>"}, {"h\xFF"}, {{"alpha", "1 < 2 & 'x'"}}});
  a.graph.nodes.push_back({"", "Relu", "", {"h\xFF", "ghost"}, {"y"}, {}});
  a.graph.nodes.push_back({"custom", "Thing", "com.example", {"y"}, {"z"}, {}});
  graph g = graph_from_onnx(a, {});
  const gnode* n = g.node("op:n1 -- \"quoted\" <b>&");
  REQUIRE(n);
  CHECK(n->kind == "generic");
  auto has = [&](const char* code) {
    return std::any_of(g.findings.begin(), g.findings.end(),
                       [&](const finding& f) { return f.code == code; });
  };
  CHECK(has("graph.unknown_op"));
  CHECK(has("graph.custom_op"));
  CHECK(has("graph.unproduced_value"));
  CHECK(g.node("value:ghost"));
  auto x = render_svg(g);
  CHECK(any_text_contains(x, "FancyOp"));
  CHECK(any_text_contains(x, "alpha=1 < 2 & 'x'"));
  auto j = nlohmann::json::parse(graph_to_json(g));
  CHECK(j["nodes"].size() == g.nodes.size());
  CHECK(j["edges"].size() == g.edges.size());
  CHECK(j["findings"].size() == g.findings.size());
}

TEST_CASE("unknown architecture renders generic nodes with a finding") {
  auto a = std::make_shared<archive>();
  a->format = file_format::safetensors;
  a->path = "weird.safetensors";
  for (const char* nm : {"frobnicator.alpha", "frobnicator.beta", "zz.0.w"}) {
    tensor_view v;
    v.name = nm;
    v.type = dtype::f32;
    v.shape = {4, 4};
    a->tensors.push_back(v);
  }
  model m = build(a);
  graph g = graph_from_model(m, {});
  CHECK(std::any_of(g.findings.begin(), g.findings.end(),
                    [](const finding& f) { return f.code == "graph.unknown_architecture"; }));
  CHECK(count_kind(g, "generic") >= 1);
  auto x = render_svg(g);
  CHECK(any_text_contains(x, "frobnicator.alpha [4, 4] f32"));
}

TEST_CASE("overlay colours nodes by the worst value and marks findings") {
  model m = build(llama_archive({4, 64, 4, 2, 128, 100}));
  graph g = graph_from_model(m, {});
  overlay o;
  o.metric = "norm";
  o.values = {{"blk.0.attn.q.weight", 1.5},
              {"blk.3.attn.q.weight", 7.25},
              {"tok_embd.weight", 0.5},
              {"blk.2.ffn_up.weight", 3.0}};
  o.findings = {{severity::high, "tensor.nan", "blk.2.attn.k.weight", "NaN values", UINT64_MAX},
                {severity::low, "tensor.odd", "no.such.tensor", "?", UINT64_MAX}};
  graph_overlay(g, o);
  REQUIRE(g.node("blk.0.attn.q")->metric);
  CHECK(*g.node("blk.0.attn.q")->metric == 7.25);
  CHECK(*g.node("blk.0.mlp.up")->metric == 3.0);  // matched by stored name
  CHECK(!g.node("blk.0.attn.v")->metric);
  CHECK(g.overlay_lo == 0.5);
  CHECK(g.overlay_hi == 7.25);
  REQUIRE(g.node("blk.0.attn.k")->marks.size() == 1);
  CHECK(g.node("blk.0.attn.k")->marks[0] == "high tensor.nan");
  REQUIRE(g.unplaced_marks.size() == 1);
  std::string dot = graph_to_dot(g);
  CHECK(dot.find("norm 7.25 (max)") != std::string::npos);
  auto x = render_svg(g);
  CHECK(any_text_contains(x, "! high tensor.nan"));
  CHECK(any_text_contains(x, "norm (node colour)"));
}

TEST_CASE("diff marks added, removed and changed nodes") {
  model a = build(llama_archive({4, 64, 4, 2, 128, 100}));
  model b = build(llama_archive({5, 64, 4, 2, 128, 100, true}));
  graph ga = graph_from_model(a, {true}), gb_ = graph_from_model(b, {true});
  graph d = graph_diff(ga, gb_, {"blk.1.attn.v.weight"});
  auto status = [&](const char* id) {
    const gnode* n = d.node(id);
    REQUIRE(n);
    return n->status;
  };
  CHECK(status("blk.4.attn.q") == diff_status::added);
  CHECK(status("blk.1.attn.v") == diff_status::changed);
  CHECK(status("blk.0.attn.q") == diff_status::same);
  graph d2 = graph_diff(gb_, ga, {});
  CHECK(d2.node("blk.4.attn.q")->status == diff_status::removed);
  auto x = render_svg(d);
  CHECK(any_text_contains(x, "added"));
  auto j = nlohmann::json::parse(graph_to_json(d));
  CHECK(j["nodes"][0].contains("status"));
}

TEST_CASE("render formats and errors") {
  model m = build(llama_archive({2, 32, 4, 4, 64, 50}));
  graph g = graph_from_model(m, {});
  auto bad = graph_render(g, "bmpx");
  REQUIRE(!bad.ok());
  CHECK(bad.err().code == errc::unsupported);
  auto dot = graph_render(g, "dot");
  REQUIRE(dot.ok());
  CHECK(dot.value() == graph_to_dot(g));
  CHECK(dot.value() == graph_to_dot(graph_from_model(m, {})));  // deterministic
  auto png = graph_render(g, "png");
  REQUIRE(png.ok());
  CHECK(png.value().compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
}

namespace {

struct flat_block {
  int64_t hidden = 8;
  const char* act = "Relu";
};

// A flat-named ONNX graph (ops "/MatMul_7", weights "onnx::MatMul_12"): x -> per block
// [Mul by a norm weight, MatMul, activation, MatMul, residual Add] -> MatMul head -> y.
archive flat_onnx(const std::vector<flat_block>& blocks) {
  archive a = onnx_x_to_y();
  int c = 0;
  auto init = [&](std::vector<int64_t> shape) {
    tensor_view t;
    t.name = "onnx::W_" + std::to_string(c++);
    t.type = dtype::f32;
    t.shape = std::move(shape);
    a.tensors.push_back(t);
    return t.name;
  };
  auto op = [&](const std::string& type, std::vector<std::string> in) {
    std::string name = "/" + type + "_" + std::to_string(c++);
    a.graph.nodes.push_back({name, type, "", std::move(in), {name + "_output_0"}, {}});
    return name + "_output_0";
  };
  std::string x = "x";
  for (const auto& b : blocks) {
    std::string n = op("Mul", {x, init({8})});
    std::string h = op(b.act, {op("MatMul", {n, init({8, b.hidden})})});
    x = op("Add", {x, op("MatMul", {h, init({b.hidden, 8})})});
  }
  op("MatMul", {x, init({8, 4})});
  a.graph.nodes.back().outputs = {"y"};
  return a;
}

size_t op_nodes(const graph& g) {
  return static_cast<size_t>(std::count_if(g.nodes.begin(), g.nodes.end(),
                                           [](const gnode& n) { return n.id.rfind("op:", 0) == 0; }));
}

}  // namespace

TEST_CASE("flat-named ONNX: identical blocks found from the structure fold into one x N cluster") {
  archive a = flat_onnx(std::vector<flat_block>(7));
  graph g = graph_from_onnx(a, {});
  REQUIRE(g.clusters.size() == 1);
  CHECK(g.clusters[0].fold == 7);
  CHECK(op_nodes(g) == 5 + 1);                              // one block of 5 ops, the head
  const gnode* mm = g.node("op:" + a.graph.nodes[1].name);  // block 0's first MatMul stands for all 7
  CHECK(!g.node("op:" + a.graph.nodes[5 + 1].name));        // block 1's is folded into it
  REQUIRE(mm);
  CHECK(mm->fold == 7);
  CHECK(mm->tensors.size() == 7);
  CHECK(std::any_of(g.edges.begin(), g.edges.end(), [](const gedge& e) { return e.repeat; }));
  graph e = graph_from_onnx(a, {true});
  CHECK(op_nodes(e) == 7 * 5 + 1);
  CHECK(e.clusters.empty());
  auto x = render_svg(g);
  CHECK(any_text_contains(x, "(x 7"));
}

TEST_CASE("flat-named ONNX: a block that differs is not folded into its neighbours") {
  SUBCASE("another activation") {
    std::vector<flat_block> bs(6);
    bs[3].act = "Sigmoid";
    graph g = graph_from_onnx(flat_onnx(bs), {});
    std::vector<int> folds;
    for (const auto& c : g.clusters) folds.push_back(c.fold);
    CHECK(folds == std::vector<int>{3, 2});  // blocks 0-2, block 3 alone, blocks 4-5
    const gnode* odd = nullptr;
    for (const auto& n : g.nodes)
      if (n.label == "Sigmoid") odd = &n;
    REQUIRE(odd);
    CHECK(odd->cluster.empty());
    CHECK(odd->fold == 1);
    CHECK(op_nodes(g) == 5 + 5 + 5 + 1);
  }
  SUBCASE("another weight shape") {
    std::vector<flat_block> bs(4);
    bs[0].hidden = 16;
    archive a = flat_onnx(bs);
    graph g = graph_from_onnx(a, {});
    REQUIRE(g.clusters.size() == 1);
    CHECK(g.clusters[0].fold == 3);
    const gnode* first = g.node("op:" + a.graph.nodes[1].name);
    REQUIRE(first);
    CHECK(first->fold == 1);  // block 0 ([8, 16]) drawn on its own
    CHECK(first->cluster.empty());
  }
  SUBCASE("nothing repeats") {
    std::vector<flat_block> bs(3);
    bs[1].act = "Tanh";
    bs[2].act = "Sigmoid";
    graph g = graph_from_onnx(flat_onnx(bs), {});
    CHECK(g.clusters.empty());
    CHECK(op_nodes(g) == 3 * 5 + 1);
  }
}

TEST_CASE("stories260K ONNX folds into one x 5 block and lays out fast") {
  GB_DATA(path, "models/stories260K/stories260K.onnx");
  auto ar = archive_open(path);
  REQUIRE(ar.ok());
  const size_t all_ops = ar.value().graph.nodes.size();
  auto t0 = std::chrono::steady_clock::now();
  graph g = graph_from_onnx(ar.value(), {});
  REQUIRE(g.clusters.size() == 1);
  CHECK(g.clusters[0].fold == 5);
  size_t drawn = op_nodes(g);
  CHECK(drawn < all_ops / 4);
  // each of the 35 weight MatMuls and Muls of the blocks is drawn once, standing for 5 tensors
  size_t folded_weights = 0;
  for (const auto& n : g.nodes)
    if (n.fold == 5 && !n.tensors.empty()) {
      CHECK(n.tensors.size() == 5);
      ++folded_weights;
    }
  CHECK(folded_weights == 9);  // 2 norms, q, k, v, o, gate, up, down
  // shape arithmetic (Shape -> Gather -> Unsqueeze -> Concat -> Reshape shape) is left out of the folded
  // drawing; the RoPE tables and the causal mask, computed from positions rather than sizes, stay connected
  size_t shape_ops_in_block = 0, concat_in_block = 0;
  for (const auto& n : g.nodes) {
    shape_ops_in_block += n.cluster == g.clusters[0].id && n.label == "Shape";
    concat_in_block += n.cluster == g.clusters[0].id && n.label == "Concat";
  }
  CHECK(shape_ops_in_block == 0);
  CHECK(concat_in_block == 2);  // the RoPE re-interleave of q and k (values, not sizes)
  for (const char* table : {"Cos", "Sin", "Greater"}) {
    const gnode* t = nullptr;
    for (const auto& n : g.nodes)
      if (n.label == table) t = &n;
    REQUIRE_MESSAGE(t, table);
    CHECK(std::any_of(g.edges.begin(), g.edges.end(), [&](const gedge& e) { return e.from == t->id; }));
  }
  graph ex = graph_from_onnx(ar.value(), {true});
  CHECK(std::count_if(ex.nodes.begin(), ex.nodes.end(), [](const gnode& n) { return n.label == "Shape"; }) >
        5);
  auto x = render_svg(g);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("stories260K.onnx: " << all_ops << " ops drawn as " << drawn << " op nodes; built and laid out in "
                               << secs << " s");
  CHECK(any_text_contains(x, "(x 5"));
}

TEST_CASE("flat-named ONNX: 2000 blocks (10,001 ops) fold to one x 2000 block") {
  archive a = flat_onnx(std::vector<flat_block>(2000));
  auto t0 = std::chrono::steady_clock::now();
  graph g = graph_from_onnx(a, {});
  double fold_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(g.clusters.size() == 1);
  CHECK(g.clusters[0].fold == 2000);
  CHECK(op_nodes(g) == 6);
  render_svg(g);
  double all_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("10,001-op flat graph: folded in " << fold_s << " s, laid out in " << all_s << " s");
}

TEST_CASE("flat-named ONNX, hostile structure: cycles, self-loops, twice-produced values, empty names") {
  archive a = flat_onnx(std::vector<flat_block>(4));
  auto& nodes = a.graph.nodes;
  nodes[2].inputs.push_back(nodes[12].outputs[0]);  // a cycle from block 2 back into block 0
  nodes[7].inputs.push_back(nodes[7].outputs[0]);   // a self-loop
  nodes.push_back(
      {"", "Relu", "", {nodes[3].outputs[0]}, {nodes[4].outputs[0]}, {}});  // value produced twice
  nodes.push_back({"", "", "", {"", "missing"}, {""}, {}});  // no name, no op type, empty values
  for (bool expand : {false, true}) {
    graph g = graph_from_onnx(a, {expand});
    for (const auto& c : g.clusters) CHECK(c.fold <= 4);
    render_svg(g);
  }
}
