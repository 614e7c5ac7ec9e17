// ONNX loader: every model in Debian's libonnx-testdata, stories260K.onnx, and bad models built in memory.
#include <doctest/doctest.h>
#include <onnx/onnx_pb.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "formats/archive.h"
#include "tests/support/data.h"

using namespace gb;
namespace fs = std::filesystem;

namespace {

// Independent walk of the parsed protobuf: nodes and initializers, subgraphs included.
void count_graph(const onnx::GraphProto& g, size_t& nodes, size_t& inits, size_t& subgraphs) {
  nodes += static_cast<size_t>(g.node_size());
  inits += static_cast<size_t>(g.initializer_size());
  for (const auto& n : g.node())
    for (const auto& at : n.attribute()) {
      if (at.has_g()) ++subgraphs, count_graph(at.g(), nodes, inits, subgraphs);
      for (const auto& sg : at.graphs()) ++subgraphs, count_graph(sg, nodes, inits, subgraphs);
    }
}

std::string model_write(const onnx::ModelProto& m, const std::string& dir,
                        const std::string& name = "m.onnx") {
  std::string p = dir + "/" + name;
  std::string bytes;
  REQUIRE(m.SerializeToString(&bytes));
  test::write_file(p, bytes);
  return p;
}

onnx::ModelProto one_initializer_model(const std::function<void(onnx::TensorProto&)>& fill) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("glassbox-test");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("g");
  auto* n = g->add_node();
  n->set_op_type("Identity");
  n->add_input("w");
  n->add_output("y");
  auto* t = g->add_initializer();
  t->set_name("w");
  fill(*t);
  g->add_output()->set_name("y");
  return m;
}

onnx::ModelProto external_model(const std::string& location, const std::string& offset,
                                const std::string& length) {
  return one_initializer_model([&](onnx::TensorProto& t) {
    t.set_data_type(onnx::TensorProto::FLOAT);
    t.add_dims(4);
    t.set_data_location(onnx::TensorProto::EXTERNAL);
    auto kv = [&](const char* k, const std::string& v) {
      if (v.empty()) return;
      auto* e = t.add_external_data();
      e->set_key(k);
      e->set_value(v);
    };
    kv("location", location);
    kv("offset", offset);
    kv("length", length);
  });
}

}  // namespace

TEST_CASE("onnx: every model in libonnx-testdata parses and matches an independent walk") {
  const fs::path root = "/usr/share/libonnx-testdata";
  if (!fs::is_directory(root)) {
    if (test::in_ci()) FAIL("libonnx-testdata is not installed");
    MESSAGE("SKIP: libonnx-testdata not installed");
    return;
  }
  size_t files = 0, failed = 0, total_nodes = 0, total_inits = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file() || e.path().extension() != ".onnx") continue;
    ++files;
    auto r = archive_open(e.path().string());
    if (!r.ok()) {
      ++failed;
      MESSAGE("failed: " << r.err().to_string());
      continue;
    }
    std::vector<uint8_t> bytes = test::read_file(e.path().string());
    onnx::ModelProto m;
    REQUIRE(m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
    size_t nodes = 0, inits = 0, subgraphs = 0;
    count_graph(m.graph(), nodes, inits, subgraphs);
    const archive& a = r.value();
    CHECK_MESSAGE(a.graph.nodes.size() == nodes, e.path());
    CHECK_MESSAGE(a.tensors.size() == inits, e.path());
    CHECK_MESSAGE(a.graph.subgraph_count == subgraphs, e.path());
    CHECK_MESSAGE(a.graph.ir_version == m.ir_version(), e.path());
    if (e.path().string().find("/node/") != std::string::npos) CHECK_MESSAGE(nodes > 0, e.path());
    for (const tensor_view& t : a.tensors)
      if (t.available() && t.type != dtype::string && t.type != dtype::unknown)
        CHECK_MESSAGE(t.nbytes == dtype_row_bytes(t.type, t.element_count()), t.name);
    total_nodes += nodes, total_inits += inits;
  }
  MESSAGE(files << " models, " << total_nodes << " nodes, " << total_inits << " initializers");
  CHECK(files >= 1000u);
  CHECK(failed == 0u);
}

TEST_CASE("onnx: stories260K.onnx") {
  GB_DATA(path, "models/stories260K/stories260K.onnx");
  auto r = archive_open(path);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  const archive& a = r.value();
  CHECK(a.format == file_format::onnx);
  bool opset14 = false;
  for (const auto& [d, v] : a.graph.opsets) opset14 |= (d.empty() || d == "ai.onnx") && v == 14;
  CHECK(opset14);
  CHECK(a.meta("onnx.opset.ai.onnx")->as_int() == 14);
  REQUIRE(!a.graph.inputs.empty());
  CHECK(a.graph.inputs[0] == "input_ids");
  CHECK(!a.graph.nodes.empty());
  REQUIRE(!a.tensors.empty());
  // Views point into the file: compare with the bytes at the stated offset, read independently.
  std::vector<uint8_t> raw = test::read_file(path);
  size_t in_file = 0;
  uint64_t weights = 0;
  for (const tensor_view& t : a.tensors) {
    weights += t.nbytes;
    if (t.file_offset == 0 || !t.available()) continue;
    REQUIRE(t.file_offset + t.nbytes <= raw.size());
    CHECK(std::memcmp(raw.data() + t.file_offset, t.data, t.nbytes) == 0);
    ++in_file;
  }
  CHECK(in_file > 0u);
  // ~260K f32 parameters (tied embeddings may appear once or twice)
  CHECK(weights >= 260000u * 4 / 2);
  CHECK(weights <= raw.size());
}

TEST_CASE("onnx: bytes that are not a protobuf") {
  std::string dir = test::temp_dir("onnx_bad");
  const uint8_t bad[] = {0x08, 0x07, 0x3a, 0xff, 0xff, 0x03, 0x0a};  // graph field longer than the file
  test::write_file(dir + "/bad.onnx", bad, sizeof bad);
  auto r = archive_open(dir + "/bad.onnx");
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::bad_protobuf);
}

TEST_CASE("onnx: typed data fields and narrowed int32_data") {
  std::string dir = test::temp_dir("onnx_typed");
  auto m = one_initializer_model([](onnx::TensorProto& t) {
    t.set_data_type(onnx::TensorProto::FLOAT);
    t.add_dims(3);
    for (float f : {1.5f, -2.0f, 3.25f}) t.add_float_data(f);
  });
  auto* h = m.mutable_graph()->add_initializer();
  h->set_name("h");
  h->set_data_type(onnx::TensorProto::FLOAT16);
  h->add_dims(2);
  h->add_int32_data(0x3c00);  // 1.0
  h->add_int32_data(0xc000);  // -2.0
  auto r = archive_open(model_write(m, dir));
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  const tensor_view* w = r.value().tensor("w");
  REQUIRE(w);
  REQUIRE(w->nbytes == 12u);
  float f[3];
  std::memcpy(f, w->data, 12);
  CHECK(f[1] == -2.0f);
  const tensor_view* hv = r.value().tensor("h");
  REQUIRE(hv);
  CHECK(hv->type == dtype::f16);
  REQUIRE(hv->nbytes == 4u);
  CHECK(hv->data[0] == 0x00);
  CHECK(hv->data[1] == 0x3c);
  CHECK(hv->data[3] == 0xc0);
}

TEST_CASE("onnx: raw_data size that disagrees with the shape") {
  std::string dir = test::temp_dir("onnx_mismatch");
  auto m = one_initializer_model([](onnx::TensorProto& t) {
    t.set_data_type(onnx::TensorProto::FLOAT);
    t.add_dims(4);
    t.set_raw_data(std::string(12, '\0'));
  });
  auto r = archive_open(model_write(m, dir));
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::mismatch);
}

TEST_CASE("onnx: subgraphs of If are counted and their nodes inlined") {
  std::string dir = test::temp_dir("onnx_if");
  auto m = one_initializer_model([](onnx::TensorProto& t) {
    t.set_data_type(onnx::TensorProto::BOOL);
    t.set_raw_data(std::string(1, '\1'));
  });
  auto* n = m.mutable_graph()->add_node();
  n->set_op_type("If");
  n->set_name("cond");
  n->add_input("w");
  n->add_output("z");
  for (const char* branch : {"then_branch", "else_branch"}) {
    auto* at = n->add_attribute();
    at->set_name(branch);
    at->set_type(onnx::AttributeProto::GRAPH);
    auto* sg = at->mutable_g();
    auto* sn = sg->add_node();
    sn->set_op_type("Constant");
    sn->add_output("c");
  }
  auto r = archive_open(model_write(m, dir));
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  CHECK(r.value().graph.subgraph_count == 2u);
  CHECK(r.value().graph.nodes.size() == 4u);
  bool prefixed = false;
  for (const auto& gn : r.value().graph.nodes) prefixed |= gn.name.rfind("cond/then_branch/", 0) == 0;
  CHECK(prefixed);
}

TEST_CASE("onnx: external data inside the folder is mapped") {
  std::string dir = test::temp_dir("onnx_ext_ok");
  float w[4] = {1, 2, 3, 4};
  std::vector<uint8_t> blob(8, 0);
  blob.insert(blob.end(), reinterpret_cast<uint8_t*>(w), reinterpret_cast<uint8_t*>(w) + 16);
  fs::create_directories(dir + "/data");
  test::write_file(dir + "/data/w.bin", blob.data(), blob.size());
  auto r = archive_open(model_write(external_model("data/w.bin", "8", "16"), dir));
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  const archive& a = r.value();
  const tensor_view* t = a.tensor("w");
  REQUIRE(t);
  REQUIRE(t->file_index < a.files.size());
  CHECK(a.files[t->file_index].role == "external_data");
  CHECK(t->file_offset == 8u);
  CHECK(std::memcmp(t->data, w, 16) == 0);
}

TEST_CASE("onnx: external data locations that leave the folder are refused") {
  std::string outside = test::temp_dir("onnx_ext_outside");
  std::vector<uint8_t> blob(16, 0);
  test::write_file(outside + "/secret.bin", blob.data(), blob.size());
  std::string dir = test::temp_dir("onnx_ext_escape");
  fs::create_symlink(outside + "/secret.bin", dir + "/link.bin");
  for (const std::string& loc : {std::string("../onnx_ext_outside/secret.bin"), outside + "/secret.bin",
                                 std::string("link.bin"), std::string("a/../../x.bin")}) {
    auto r = archive_open(model_write(external_model(loc, "0", "16"), dir));
    REQUIRE_MESSAGE(!r.ok(), loc);
    CHECK_MESSAGE(r.err().code == errc::path_escape, loc);
  }
}

TEST_CASE("onnx: external data range outside the file, and a non-numeric offset") {
  std::string dir = test::temp_dir("onnx_ext_range");
  std::vector<uint8_t> blob(16, 0);
  test::write_file(dir + "/w.bin", blob.data(), blob.size());
  auto r = archive_open(model_write(external_model("w.bin", "4", "16"), dir));
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::out_of_bounds);
  auto r2 = archive_open(model_write(external_model("w.bin", "x1", "16"), dir));
  REQUIRE(!r2.ok());
  CHECK(r2.err().code == errc::bad_value);
  auto r3 = archive_open(model_write(external_model("missing.bin", "0", "16"), dir));
  REQUIRE(!r3.ok());
  CHECK(r3.err().code == errc::not_found);
}

TEST_CASE("onnx: a file past protobuf's 2 GB cap is refused before parsing") {
  std::string dir = test::temp_dir("onnx_huge");
  std::string p = dir + "/huge.onnx";
  test::write_file(p, std::string(16, '\0'));
  fs::resize_file(p, (uint64_t{1} << 31) + 16);  // sparse: no disk blocks, no reads
  auto r = archive_open(p);
  fs::remove(p);
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::limit);
}

TEST_CASE("onnx: stories260K.onnx holds the same embedding and final norm as stories260K.bin") {
  GB_DATA(onnx_path, "models/stories260K/stories260K.onnx");
  GB_DATA(bin_path, "models/stories260K/stories260K.bin");
  auto o = archive_open(onnx_path);
  auto b = archive_open(bin_path);
  REQUIRE(o.ok());
  REQUIRE(b.ok());
  for (auto [onnx_name, l2c_name] :
       {std::pair{"tok", "token_embd.weight"}, std::pair{"rms_final", "output_norm.weight"}}) {
    const tensor_view* x = o.value().tensor(onnx_name);
    const tensor_view* y = b.value().tensor(l2c_name);
    REQUIRE_MESSAGE(x, onnx_name);
    REQUIRE(y);
    CHECK(x->shape == y->shape);
    REQUIRE(x->nbytes == y->nbytes);
    CHECK_MESSAGE(std::memcmp(x->data, y->data, x->nbytes) == 0, onnx_name);
  }
}
