// ONNX models through the onnx protobuf classes (Debian libonnx-dev), read from the mapped bytes.
//
// - Parsing: CodedInputStream over the map, 2 GB total-bytes cap, recursion limit; any parse failure is
//   errc::bad_protobuf. The parsed ModelProto is kept alive by the archive (see keepalive below).
// - archive.graph: every node (subgraphs of If/Loop/Scan inlined with the prefix "<node>/", counted in
//   subgraph_count), opsets, ir_version, producer, graph inputs (not initializers) and outputs, shapes of
//   inputs, outputs and value_info.
// - Initializers become tensors. raw_data views point into the map at their true file offset (found by a
//   small wire-format walk, checked byte for byte against the parsed copy, which is then freed). Typed
//   fields (float_data, int64_data ...) point into the kept-alive message; int32_data holding narrower
//   types (f16, bf16, int8, bool ...) is narrowed into an owned buffer. Subgraph initializers are listed
//   with their node prefix.
// - External data: `location` must be a relative path without "..", resolve (symlinks followed) inside the
//   model's folder, and offset + length must lie inside that file, which is mapped and added to
//   archive.files with role "external_data".
//
// Keepalive: archive.files[0].map is an aliasing shared_ptr that points at the model's mapped_file but
// owns a holder with the parsed ModelProto and the narrowed buffers, so views into them live exactly as
// long as the archive's files (no extra member in archive is needed).
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/unknown_field_set.h>
#include <onnx/onnx_pb.h>
#include <sys/stat.h>

#include <climits>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "formats/loaders.h"
#include "formats/meta_make.h"
#include "formats/reader.h"

namespace gb::loaders {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t k_max_proto_bytes = uint64_t{INT_MAX};  // protobuf's 2 GB message cap
constexpr int k_recursion_limit = 100;
constexpr size_t k_max_nodes = 10'000'000;

struct onnx_holder {
  onnx::ModelProto model;
  std::vector<std::vector<uint8_t>> owned;  // narrowed int32_data buffers
  mapped_file_ptr map;
};

// ---- wire-format walk: where each top-level initializer's raw_data lies in the file ----

struct wire {
  const uint8_t* d;
  uint64_t n, p;
  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= n) return false;
      uint8_t b = d[p++];
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  // Reads one field; for length-delimited fields returns [start, start+len) in *s/*len.
  bool field(uint32_t& num, uint64_t& start, uint64_t& len) {
    uint64_t tag;
    if (!varint(tag)) return false;
    num = static_cast<uint32_t>(tag >> 3);
    switch (tag & 7) {
      case 0: {
        uint64_t v;
        len = 0;
        start = p;
        return varint(v);
      }
      case 1:
        if (n - p < 8) return false;
        start = p;
        len = 8;
        p += 8;
        return true;
      case 5:
        if (n - p < 4) return false;
        start = p;
        len = 4;
        p += 4;
        return true;
      case 2: {
        if (!varint(len) || len > n - p) return false;
        start = p;
        p += len;
        return true;
      }
      default:
        return false;  // groups: not used by ONNX
    }
  }
};

struct raw_span {
  uint64_t offset = 0, len = 0;
  bool found = false;
};

// Per top-level initializer, in order, the span of its (last) raw_data field. Empty on any oddity.
std::vector<raw_span> raw_data_spans(const uint8_t* d, uint64_t n) {
  std::vector<raw_span> out;
  wire m{d, n, 0};
  uint32_t num;
  uint64_t s, len;
  while (m.p < n) {
    if (!m.field(num, s, len)) return {};
    if (num != 7) continue;  // ModelProto.graph
    wire g{d, s + len, s};
    while (g.p < s + len) {
      uint32_t gnum;
      uint64_t gs, glen;
      if (!g.field(gnum, gs, glen)) return {};
      if (gnum != 5) continue;  // GraphProto.initializer
      raw_span span;
      wire t{d, gs + glen, gs};
      while (t.p < gs + glen) {
        uint32_t tnum;
        uint64_t ts, tlen;
        if (!t.field(tnum, ts, tlen)) return {};
        if (tnum == 9) span = {ts, tlen, true};  // TensorProto.raw_data
      }
      out.push_back(span);
    }
  }
  return out;
}

// ---- text helpers ----

std::string dims_text(const onnx::TensorShapeProto& s) {
  std::string r = "[";
  for (int i = 0; i < s.dim_size(); ++i) {
    if (i) r += ", ";
    const auto& d = s.dim(i);
    if (d.has_dim_value())
      r += std::to_string(d.dim_value());
    else if (d.has_dim_param() && !d.dim_param().empty())
      r += d.dim_param();
    else
      r += "?";
  }
  return r + "]";
}

std::string elem_name(int32_t t) {
  auto dt = dtype_from_onnx(t);
  return dt ? dtype_name(*dt) : "type" + std::to_string(t);
}

std::string type_text(const onnx::TypeProto& t, int depth = 0) {
  if (depth > 8) return "...";
  if (t.has_tensor_type()) {
    const auto& tt = t.tensor_type();
    return (tt.has_shape() ? dims_text(tt.shape()) : std::string("[?]")) + " " + elem_name(tt.elem_type());
  }
  if (t.has_sequence_type()) return "seq(" + type_text(t.sequence_type().elem_type(), depth + 1) + ")";
  if (t.has_map_type())
    return "map(" + elem_name(t.map_type().key_type()) + ", " +
           type_text(t.map_type().value_type(), depth + 1) + ")";
  if (t.has_optional_type()) return "optional(" + type_text(t.optional_type().elem_type(), depth + 1) + ")";
  if (t.has_sparse_tensor_type()) return "sparse " + elem_name(t.sparse_tensor_type().elem_type());
  return "?";
}

std::string short_text(const std::string& s, size_t max = 40) {
  std::string r;
  for (char c : s.substr(0, max)) r += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  if (s.size() > max) r += "...";
  return r;
}

template <class Seq, class F>
std::string list_text(const Seq& xs, F f, size_t max = 8) {
  std::string r = "[";
  int n = xs.size();
  for (int i = 0; i < n && static_cast<size_t>(i) < max; ++i) {
    if (i) r += ", ";
    r += f(xs.Get(i));
  }
  if (static_cast<size_t>(n) > max) r += ", ... (" + std::to_string(n) + ")";
  return r + "]";
}

std::string num_text(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

std::string tensor_text(const onnx::TensorProto& t) {
  std::string r = "tensor " + elem_name(t.data_type()) + " [";
  for (int i = 0; i < t.dims_size(); ++i) r += (i ? ", " : "") + std::to_string(t.dims(i));
  r += "]";
  // Small integer tensors keep their values (" = {1, 8}"): Reshape shapes in Constant ops say the head count.
  std::vector<int64_t> v;
  const std::string& raw = t.raw_data();
  if (t.data_type() == onnx::TensorProto::INT64) {
    for (int i = 0; i < t.int64_data_size() && i < 9; ++i) v.push_back(t.int64_data(i));
    for (size_t i = 0; t.int64_data_size() == 0 && i + 8 <= raw.size() && i < 72; i += 8) {
      uint64_t u = 0;
      for (size_t b = 0; b < 8; ++b)
        u |= static_cast<uint64_t>(static_cast<unsigned char>(raw[i + b])) << (8 * b);
      v.push_back(static_cast<int64_t>(u));
    }
  } else if (t.data_type() == onnx::TensorProto::INT32) {
    for (int i = 0; i < t.int32_data_size() && i < 9; ++i) v.push_back(t.int32_data(i));
    for (size_t i = 0; t.int32_data_size() == 0 && i + 4 <= raw.size() && i < 36; i += 4) {
      uint32_t u = 0;
      for (size_t b = 0; b < 4; ++b)
        u |= static_cast<uint32_t>(static_cast<unsigned char>(raw[i + b])) << (8 * b);
      v.push_back(static_cast<int32_t>(u));
    }
  }
  if (!v.empty() && v.size() <= 8) {
    r += " = {";
    for (size_t i = 0; i < v.size(); ++i) r += (i ? ", " : "") + std::to_string(v[i]);
    r += "}";
  }
  return r;
}

std::string attribute_text(const onnx::AttributeProto& at) {
  using A = onnx::AttributeProto;
  switch (at.type()) {
    case A::FLOAT:
      return num_text(static_cast<double>(at.f()));
    case A::INT:
      return std::to_string(at.i());
    case A::STRING:
      return "\"" + short_text(at.s()) + "\"";
    case A::TENSOR:
      return tensor_text(at.t());
    case A::GRAPH:
      return "graph(" + std::to_string(at.g().node_size()) + " nodes)";
    case A::SPARSE_TENSOR:
      return "sparse tensor";
    case A::TYPE_PROTO:
      return "type " + type_text(at.tp());
    case A::FLOATS:
      return list_text(at.floats(), [](float v) { return num_text(static_cast<double>(v)); });
    case A::INTS:
      return list_text(at.ints(), [](int64_t v) { return std::to_string(v); });
    case A::STRINGS:
      return list_text(at.strings(), [](const std::string& v) { return "\"" + short_text(v, 16) + "\""; });
    case A::TENSORS:
      return std::to_string(at.tensors_size()) + " tensors";
    case A::GRAPHS:
      return std::to_string(at.graphs_size()) + " graphs";
    case A::SPARSE_TENSORS:
      return std::to_string(at.sparse_tensors_size()) + " sparse tensors";
    case A::TYPE_PROTOS:
      return std::to_string(at.type_protos_size()) + " types";
    default:
      break;
  }
  if (!at.ref_attr_name().empty()) return "ref " + short_text(at.ref_attr_name());
  return "?";
}

// The TensorProto data type, including values newer than the compiled proto (kept as unknown fields).
int32_t data_type_of(const onnx::TensorProto& t) {
  if (t.data_type() != 0) return t.data_type();
  const auto& u = t.GetReflection()->GetUnknownFields(t);
  for (int i = 0; i < u.field_count(); ++i)
    if (u.field(i).number() == 2 && u.field(i).type() == google::protobuf::UnknownField::TYPE_VARINT)
      return static_cast<int32_t>(u.field(i).varint());
  return 0;
}

// ---- the loader ----

struct onnx_reader {
  archive& a;
  onnx_holder& h;
  const mapped_file_ptr& m;
  fs::path dir;                              // the model's folder, canonical
  std::map<std::string, uint32_t> external;  // canonical path -> archive.files index
  std::vector<raw_span> spans;               // top-level raw_data locations

  void nodes_add(const onnx::GraphProto& g, const std::string& prefix) {
    for (int i = 0; i < g.node_size(); ++i) {
      if (a.graph.nodes.size() >= k_max_nodes)
        fail(errc::limit, 0, "ONNX: more than " + std::to_string(k_max_nodes) + " nodes");
      const onnx::NodeProto& n = g.node(i);
      graph_node gn;
      gn.name = prefix + (n.name().empty() ? n.op_type() + "#" + std::to_string(i) : n.name());
      gn.op_type = n.op_type();
      gn.domain = n.domain();
      for (const auto& s : n.input()) gn.inputs.push_back(prefix + s);
      for (const auto& s : n.output()) gn.outputs.push_back(prefix + s);
      for (const auto& at : n.attribute()) gn.attributes.emplace_back(at.name(), attribute_text(at));
      std::string node_name = gn.name;
      a.graph.nodes.push_back(std::move(gn));
      for (const auto& at : n.attribute()) {
        if (at.has_g()) {
          ++a.graph.subgraph_count;
          subgraph_add(at.g(), node_name + "/" + at.name() + "/");
        }
        for (int k = 0; k < at.graphs_size(); ++k) {
          ++a.graph.subgraph_count;
          subgraph_add(at.graphs(k), node_name + "/" + at.name() + "." + std::to_string(k) + "/");
        }
      }
    }
  }

  void subgraph_add(const onnx::GraphProto& g, const std::string& prefix) {
    for (int i = 0; i < g.initializer_size(); ++i) initializer_add(g.initializer(i), prefix, i, nullptr);
    nodes_add(g, prefix);
  }

  // Narrows int32_data (one int32 per element) to the element's own width.
  const uint8_t* narrow(const onnx::TensorProto& t, dtype dt, uint64_t n, uint64_t& nbytes) {
    uint32_t w = dtype_info(dt).type_size;
    std::vector<uint8_t> buf(n * w);
    for (uint64_t i = 0; i < n; ++i) {
      uint32_t v = static_cast<uint32_t>(t.int32_data(static_cast<int>(i)));
      std::memcpy(buf.data() + i * w, &v, w);  // little-endian: the low bytes
    }
    h.owned.push_back(std::move(buf));
    nbytes = n * w;
    return h.owned.back().data();
  }

  void initializer_add(const onnx::TensorProto& t, const std::string& prefix, int index,
                       const raw_span* span) {
    tensor_view v;
    v.name = prefix + (t.name().empty() ? "initializer#" + std::to_string(index) : t.name());
    if (t.name().empty())
      a.add_finding(severity::low, "onnx.initializer.unnamed", v.name, "initializer without a name");
    for (int64_t d : t.dims()) v.shape.push_back(d);
    const uint64_t count = shape_element_count(v.shape, 0);
    const int32_t onnx_type = data_type_of(t);
    auto dt = dtype_from_onnx(onnx_type);
    v.type = dt ? *dt : dtype::unknown;
    if (!dt)
      a.add_finding(severity::medium, "onnx.dtype.unsupported", v.name,
                    "ONNX data type " + std::to_string(onnx_type) + " is not handled; data not examined");
    const bool sized = v.type != dtype::unknown && v.type != dtype::string;
    const uint64_t expect = sized ? checked_mul(count, dtype_info(v.type).type_size, "tensor bytes") : 0;

    if (t.data_location() == onnx::TensorProto::EXTERNAL) {
      external_add(t, v);
    } else if (t.has_raw_data()) {
      v.nbytes = t.raw_data().size();
      if (span && span->found && span->len == v.nbytes &&
          std::memcmp(m->data() + span->offset, t.raw_data().data(), v.nbytes) == 0) {
        v.data = m->data() + span->offset;
        v.file_offset = span->offset;
      } else {
        v.data = reinterpret_cast<const uint8_t*>(t.raw_data().data());
      }
    } else if (sized) {
      switch (v.type) {
        case dtype::f32:
        case dtype::c64:
          v.data = reinterpret_cast<const uint8_t*>(t.float_data().data()),
          v.nbytes = t.float_data_size() * 4ull;
          break;
        case dtype::f64:
        case dtype::c128:
          v.data = reinterpret_cast<const uint8_t*>(t.double_data().data()),
          v.nbytes = t.double_data_size() * 8ull;
          break;
        case dtype::i64:
          v.data = reinterpret_cast<const uint8_t*>(t.int64_data().data()),
          v.nbytes = t.int64_data_size() * 8ull;
          break;
        case dtype::u32:
        case dtype::u64: {
          if (v.type == dtype::u64) {
            v.data = reinterpret_cast<const uint8_t*>(t.uint64_data().data()),
            v.nbytes = t.uint64_data_size() * 8ull;
          } else {
            std::vector<uint8_t> buf(static_cast<size_t>(t.uint64_data_size()) * 4);
            for (int i = 0; i < t.uint64_data_size(); ++i) {
              uint32_t x = static_cast<uint32_t>(t.uint64_data(i));
              std::memcpy(buf.data() + 4 * static_cast<size_t>(i), &x, 4);
            }
            h.owned.push_back(std::move(buf));
            v.data = h.owned.back().data(), v.nbytes = h.owned.back().size();
          }
          break;
        }
        case dtype::i32:
          v.data = reinterpret_cast<const uint8_t*>(t.int32_data().data()),
          v.nbytes = t.int32_data_size() * 4ull;
          break;
        default:  // f16, bf16, i8, u8, i16, u16, bool, f8: one int32 per element
          v.data = narrow(t, v.type, static_cast<uint64_t>(t.int32_data_size()), v.nbytes);
          break;
      }
      if (v.nbytes == 0) v.data = nullptr;
    }
    if (v.type == dtype::string) {
      v.data = nullptr;
      v.nbytes = 0;
    }
    if (sized && v.nbytes == 0 && count > 0) {
      a.add_finding(severity::medium, "onnx.initializer.no_data", v.name,
                    "initializer has a shape but no data");
    } else if (sized && v.nbytes != expect) {
      fail(errc::mismatch, v.file_offset,
           "ONNX: initializer '" + v.name + "' shape " + shape_string(v.shape) + " " + dtype_name(v.type) +
               " needs " + std::to_string(expect) + " bytes but holds " + std::to_string(v.nbytes));
    }
    a.tensors.push_back(std::move(v));
  }

  // Resolves an external data reference; fills v.data/nbytes/file_index/file_offset.
  void external_add(const onnx::TensorProto& t, tensor_view& v) {
    std::string location, offset_s, length_s;
    bool has_length = false;
    for (const auto& kv : t.external_data()) {
      if (kv.key() == "location")
        location = kv.value();
      else if (kv.key() == "offset")
        offset_s = kv.value();
      else if (kv.key() == "length")
        length_s = kv.value(), has_length = true;
    }
    const std::string what = "ONNX: initializer '" + v.name + "' external data";
    if (location.empty()) fail(errc::bad_value, 0, what + " has no location");
    if (location.find('\0') != std::string::npos)
      fail(errc::path_escape, 0, what + ": location contains NUL");
    if (location[0] == '/' || location[0] == '\\')
      fail(errc::path_escape, 0, what + ": absolute location '" + short_text(location, 200) + "' refused");
    {
      size_t start = 0;
      while (start <= location.size()) {
        size_t end = location.find_first_of("/\\", start);
        if (end == std::string::npos) end = location.size();
        if (location.compare(start, end - start, "..") == 0 && end - start == 2)
          fail(errc::path_escape, 0,
               what + ": location '" + short_text(location, 200) + "' climbs out with '..'");
        start = end + 1;
      }
    }
    std::error_code ec;
    fs::path target = fs::weakly_canonical(dir / location, ec);
    if (ec) fail(errc::io, 0, what + ": cannot resolve '" + short_text(location, 200) + "': " + ec.message());
    auto rel = target.lexically_relative(dir);
    if (rel.empty() || *rel.begin() == "..")
      fail(errc::path_escape, 0,
           what + ": location '" + short_text(location, 200) + "' resolves to " + target.string() +
               ", outside the model folder");
    auto parse_u64 = [&](const std::string& s, const char* field) -> uint64_t {
      if (s.empty()) return 0;
      uint64_t x = 0;
      for (char c : s) {
        if (c < '0' || c > '9')
          fail(errc::bad_value, 0, what + ": " + field + " '" + short_text(s) + "' is not a number");
        x = checked_add(checked_mul(x, 10, field), static_cast<uint64_t>(c - '0'), field);
      }
      return x;
    };
    uint64_t off = parse_u64(offset_s, "offset");
    uint64_t len = parse_u64(length_s, "length");

    uint32_t idx;
    auto it = external.find(target.string());
    if (it != external.end()) {
      idx = it->second;
    } else {
      mapped_file_ptr em = mapped_file::open(target.string());
      struct stat st {};
      if (::stat(target.c_str(), &st) == 0 && st.st_nlink > 1)
        a.add_finding(severity::medium, "onnx.external_data.hard_link", target.string(),
                      "external data file has " + std::to_string(st.st_nlink) +
                          " hard links; it may be shared with a file outside the model folder");
      idx = static_cast<uint32_t>(a.files.size());
      a.files.push_back({target.string(), "external_data", file_format::unknown, em});
      external.emplace(target.string(), idx);
    }
    const mapped_file& ef = *a.files[idx].map;
    if (!has_length) {
      if (off > ef.size())
        fail(errc::out_of_bounds, off,
             what + ": offset " + std::to_string(off) + " past the end of " + target.filename().string());
      len = ef.size() - off;
    }
    if (off > ef.size() || len > ef.size() - off)
      fail(errc::out_of_bounds, off,
           what + ": bytes [" + std::to_string(off) + ", +" + std::to_string(len) + ") outside " +
               target.filename().string() + " (" + std::to_string(ef.size()) + " bytes)");
    v.data = len ? ef.data() + off : nullptr;
    v.nbytes = len;
    v.file_offset = off;
    v.file_index = idx;
  }
};

}  // namespace

void load_onnx(archive& a, const mapped_file_ptr& m, const open_options&) {
  if (m->size() > k_max_proto_bytes)
    fail(errc::limit, 0,
         "ONNX: file of " + std::to_string(m->size()) + " bytes exceeds protobuf's 2 GB message cap");
  auto h = std::make_shared<onnx_holder>();
  h->map = m;
  {
    google::protobuf::io::CodedInputStream in(m->data(), static_cast<int>(m->size()));
    in.SetTotalBytesLimit(static_cast<int>(k_max_proto_bytes));
    in.SetRecursionLimit(k_recursion_limit);
    if (!h->model.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
      fail(errc::bad_protobuf, static_cast<uint64_t>(in.CurrentPosition()),
           "ONNX: the bytes do not parse as an onnx.ModelProto (malformed protobuf, or nesting deeper than " +
               std::to_string(k_recursion_limit) + ")");
  }
  onnx::ModelProto& model = h->model;
  if (!model.has_graph() && model.ir_version() == 0)
    fail(errc::bad_protobuf, 0, "ONNX: the bytes parse but hold neither ir_version nor a graph");

  a.format = file_format::onnx;
  a.format_version = "ir " + std::to_string(model.ir_version());
  // The aliasing pointer keeps the parsed model alive as long as the archive's files (see file comment).
  a.files.push_back({m->path(), "weights", file_format::onnx, mapped_file_ptr(h, m.get())});

  op_graph& g = a.graph;
  g.ir_version = model.ir_version();
  g.producer = model.producer_name();
  g.producer_version = model.producer_version();
  g.name = model.graph().name();
  a.metadata.emplace_back("onnx.ir_version", meta_int(model.ir_version()));
  a.metadata.emplace_back("onnx.producer_name", meta_str(model.producer_name()));
  if (!model.producer_version().empty())
    a.metadata.emplace_back("onnx.producer_version", meta_str(model.producer_version()));
  if (!model.domain().empty()) a.metadata.emplace_back("onnx.domain", meta_str(model.domain()));
  if (model.model_version() != 0)
    a.metadata.emplace_back("onnx.model_version", meta_int(model.model_version()));
  if (!model.doc_string().empty()) a.metadata.emplace_back("onnx.doc_string", meta_str(model.doc_string()));
  for (const auto& op : model.opset_import()) {
    g.opsets.emplace_back(op.domain(), op.version());
    a.metadata.emplace_back("onnx.opset." + (op.domain().empty() ? std::string("ai.onnx") : op.domain()),
                            meta_int(op.version()));
  }
  for (const auto& kv : model.metadata_props())
    a.metadata.emplace_back("onnx.metadata." + kv.key(), meta_str(kv.value()));
  if (model.ir_version() <= 0)
    a.add_finding(severity::medium, "onnx.ir_version.missing", m->path(), "model has no ir_version");
  if (model.opset_import_size() == 0 && model.has_graph())
    a.add_finding(severity::low, "onnx.opset.missing", m->path(), "model imports no opset");
  if (model.functions_size() > 0)
    a.add_finding(
        severity::info, "onnx.functions", m->path(),
        std::to_string(model.functions_size()) + " model-local functions (their bodies are not inlined)");
  if (model.training_info_size() > 0)
    a.add_finding(severity::info, "onnx.training_info", m->path(), "model carries training information");

  std::error_code ec;
  fs::path dir = fs::weakly_canonical(fs::absolute(fs::path(m->path()), ec).parent_path(), ec);
  onnx_reader r{a, *h, m, dir, {}, raw_data_spans(m->data(), m->size())};
  const onnx::GraphProto& graph = model.graph();
  if (static_cast<int>(r.spans.size()) != graph.initializer_size()) r.spans.clear();

  std::set<std::string> init_names;
  for (int i = 0; i < graph.initializer_size(); ++i) {
    const onnx::TensorProto& t = graph.initializer(i);
    if (!init_names.insert(t.name()).second && !t.name().empty())
      a.add_finding(severity::medium, "onnx.initializer.duplicate", t.name(),
                    "two initializers share this name");
    r.initializer_add(t, "", i, r.spans.empty() ? nullptr : &r.spans[static_cast<size_t>(i)]);
    const tensor_view& v = a.tensors.back();
    if (v.file_index == 0 && v.data >= m->data() && v.data < m->data() + m->size())
      std::string().swap(*model.mutable_graph()->mutable_initializer(i)->mutable_raw_data());  // map holds it
  }
  if (graph.sparse_initializer_size() > 0)
    a.add_finding(
        severity::info, "onnx.sparse_initializer", m->path(),
        std::to_string(graph.sparse_initializer_size()) + " sparse initializers not listed as tensors");
  for (const auto& in : graph.input()) {
    g.value_shapes.emplace_back(in.name(), type_text(in.type()));
    if (!init_names.count(in.name())) g.inputs.push_back(in.name());
  }
  for (const auto& out : graph.output()) {
    g.outputs.push_back(out.name());
    g.value_shapes.emplace_back(out.name(), type_text(out.type()));
  }
  for (const auto& vi : graph.value_info()) g.value_shapes.emplace_back(vi.name(), type_text(vi.type()));
  r.nodes_add(graph, "");
}

}  // namespace gb::loaders
