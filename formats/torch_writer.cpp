// torch.save zip writer (see torch_writer.h).
#include "formats/torch_writer.h"

#include <bit>
#include <cstdio>
#include <cstring>
#include <memory>

#include "formats/zip.h"

namespace gb {
namespace {

const char* storage_name(dtype t) {
  switch (t) {
    case dtype::f32:
      return "FloatStorage";
    case dtype::f16:
      return "HalfStorage";
    case dtype::bf16:
      return "BFloat16Storage";
    case dtype::f64:
      return "DoubleStorage";
    case dtype::i64:
      return "LongStorage";
    case dtype::i32:
      return "IntStorage";
    case dtype::i16:
      return "ShortStorage";
    case dtype::i8:
      return "CharStorage";
    case dtype::u8:
      return "ByteStorage";
    case dtype::boolean:
      return "BoolStorage";
    default:
      return nullptr;
  }
}

// Protocol-2 pickle emitter: only the opcodes torch.save itself writes.
struct emitter {
  std::string out;
  const std::vector<tensor_data>& tensors;

  void op(char c) { out += c; }
  void raw(const void* p, size_t n) { out.append(static_cast<const char*>(p), n); }
  void str(const std::string& s) {
    op('X');  // BINUNICODE
    uint32_t n = static_cast<uint32_t>(s.size());
    raw(&n, 4);
    out += s;
  }
  void integer(int64_t v) {
    if (v >= INT32_MIN && v <= INT32_MAX) {
      op('J');  // BININT
      int32_t x = static_cast<int32_t>(v);
      raw(&x, 4);
    } else {
      op('\x8a');  // LONG1, 8 bytes little-endian two's complement
      op('\x08');
      raw(&v, 8);
    }
  }
  void global(const std::string& module, const std::string& name) {
    out += "c" + module + "\n" + name + "\n";
  }
  void int_tuple(const std::vector<int64_t>& v) {
    op('(');
    for (int64_t x : v) integer(x);
    op('t');
  }
  void tensor(size_t index) {
    if (index >= tensors.size()) fail(errc::bad_value, 0, "pytorch_write: tensor index out of range");
    const tensor_data& t = tensors[index];
    const char* st = storage_name(t.type);
    if (!st)
      fail(errc::bad_value, 0,
           std::string("pytorch_write: dtype ") + dtype_name(t.type) + " has no torch storage");
    uint64_t count = 1;
    for (int64_t d : t.shape) count *= static_cast<uint64_t>(d);
    if (count * dtype_info(t.type).type_size != t.bytes.size())
      fail(errc::bad_value, 0, "pytorch_write: tensor '" + t.name + "' bytes do not match its shape");
    std::vector<int64_t> stride(t.shape.size());
    int64_t s = 1;
    for (size_t k = t.shape.size(); k-- > 0;) {
      stride[k] = s;
      s *= t.shape[k];
    }
    global("torch._utils", "_rebuild_tensor_v2");
    op('(');
    op('(');
    str("storage");
    global("torch", st);
    str(std::to_string(index));
    str("cpu");
    integer(static_cast<int64_t>(count));
    op('t');
    op('Q');  // BINPERSID
    integer(0);
    int_tuple(t.shape);
    int_tuple(stride);
    op('\x89');  // requires_grad False
    global("collections", "OrderedDict");
    op(')');
    op('R');
    op('t');
    op('R');
  }
  void entries(const std::vector<torch_entry>& items) {
    op('}');
    if (items.empty()) return;
    op('(');
    for (const auto& [k, v] : items) {
      str(k);
      node(v);
    }
    op('u');  // SETITEMS
  }
  void node(const torch_node& n) {
    switch (n.k) {
      case torch_node::kind::none:
        op('N');
        break;
      case torch_node::kind::boolean:
        op(n.b ? '\x88' : '\x89');
        break;
      case torch_node::kind::integer:
        integer(n.i);
        break;
      case torch_node::kind::floating: {
        op('G');  // BINFLOAT, big-endian
        uint64_t u = std::bit_cast<uint64_t>(n.f);
        for (int k = 7; k >= 0; --k) out += static_cast<char>((u >> (8 * k)) & 0xff);
        break;
      }
      case torch_node::kind::string:
        str(n.s);
        break;
      case torch_node::kind::dict:
        entries(n.items);
        break;
      case torch_node::kind::list:
        op(']');
        if (!n.list.empty()) {
          op('(');
          for (const torch_node& x : n.list) node(x);
          op('e');  // APPENDS
        }
        break;
      case torch_node::kind::tensor:
        tensor(n.tensor_index);
        break;
      case torch_node::kind::object:
        global(n.s, n.name);
        op(')');
        op('\x81');  // NEWOBJ
        entries(n.items);
        op('b');  // BUILD
        break;
    }
  }
};

}  // namespace

torch_node torch_state_dict(const std::vector<tensor_data>& tensors) {
  std::vector<torch_entry> items;
  items.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) items.push_back({tensors[i].name, torch_node::tensor(i)});
  return torch_node::dict(std::move(items));
}

void pytorch_write(const std::string& path, const torch_node& root, const std::vector<tensor_data>& tensors) {
  emitter e{"\x80\x02", tensors};
  e.node(root);
  e.op('.');
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) fail(errc::io, 0, "cannot write " + path);
  bool ok = true;
  zip::writer w([&](const uint8_t* p, size_t n) { ok = ok && std::fwrite(p, 1, n, f.get()) == n; });
  auto add = [&](const std::string& name, const void* p, size_t n) {
    w.add(name, static_cast<const uint8_t*>(p), n, false, 64);
  };
  add("archive/data.pkl", e.out.data(), e.out.size());
  add("archive/byteorder", "little", 6);
  for (size_t i = 0; i < tensors.size(); ++i)
    add("archive/data/" + std::to_string(i), tensors[i].bytes.data(), tensors[i].bytes.size());
  add("archive/version", "3\n", 2);
  w.finish();
  if (!ok || std::fflush(f.get()) != 0) fail(errc::io, 0, "cannot write " + path);
}

}  // namespace gb
