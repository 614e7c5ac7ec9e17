// GGUF and safetensors writers: deterministic bytes, streamed to disk (tensor bytes are never copied
// into one big buffer, so benchmark files of hundreds of MB need no more memory than their tensors).
#include "formats/writers.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>

#include "formats/reader.h"

namespace gb {
namespace {

enum : uint32_t {
  T_UINT8 = 0,
  T_INT8,
  T_UINT16,
  T_INT16,
  T_UINT32,
  T_INT32,
  T_FLOAT32,
  T_BOOL,
  T_STRING,
  T_ARRAY,
  T_UINT64,
  T_INT64,
  T_FLOAT64,
  T_COUNT
};

class out_file {
 public:
  explicit out_file(const std::string& path) : path_(path), f_(std::fopen(path.c_str(), "wb")) {
    if (!f_) fail(errc::io, 0, "cannot create " + path + ": " + std::strerror(errno));
  }
  ~out_file() {
    if (f_) std::fclose(f_);
  }
  out_file(const out_file&) = delete;
  out_file& operator=(const out_file&) = delete;
  void write(const void* p, size_t n) {
    if (n && std::fwrite(p, 1, n, f_) != n)
      fail(errc::io, pos_, "cannot write " + path_ + ": " + std::strerror(errno));
    pos_ += n;
  }
  void write(const std::string& s) { write(s.data(), s.size()); }
  void pad_to(uint64_t alignment) {
    static const char zeros[256] = {};
    uint64_t n = (alignment - pos_ % alignment) % alignment;
    while (n) {
      uint64_t k = n < sizeof zeros ? n : sizeof zeros;
      write(zeros, k);
      n -= k;
    }
  }
  void close() {
    int rc = std::fclose(f_);
    f_ = nullptr;
    if (rc != 0) fail(errc::io, pos_, "cannot finish " + path_ + ": " + std::strerror(errno));
  }
  uint64_t pos() const { return pos_; }

 private:
  std::string path_;
  std::FILE* f_;
  uint64_t pos_ = 0;
};

template <class T>
void put(std::string& b, T v) {
  char tmp[sizeof(T)];
  std::memcpy(tmp, &v, sizeof(T));
  b.append(tmp, sizeof(T));
}

struct gguf_enc {
  std::string& b;
  bool v1;

  void count(uint64_t n, const char* what) {
    if (v1) {
      if (n > UINT32_MAX)
        fail(errc::limit, 0, std::string("GGUF v1 writer: ") + what + " does not fit 32 bits");
      put<uint32_t>(b, static_cast<uint32_t>(n));
    } else {
      put<uint64_t>(b, n);
    }
  }
  void str(const std::string& s) {
    count(s.size(), "string length");
    b += s;
  }

  static uint32_t infer(const meta_value& v) {
    if (v.gguf_type >= 0) return static_cast<uint32_t>(v.gguf_type);
    switch (v.k) {
      case meta_value::kind::integer:
        return v.i >= INT32_MIN && v.i <= INT32_MAX ? T_INT32 : T_INT64;
      case meta_value::kind::uinteger:
        return v.u <= UINT32_MAX ? T_UINT32 : T_UINT64;
      case meta_value::kind::floating:
        return T_FLOAT32;
      case meta_value::kind::boolean:
        return T_BOOL;
      case meta_value::kind::string:
        return T_STRING;
      case meta_value::kind::array:
        return T_ARRAY;
      default:
        fail(errc::bad_value, 0, "GGUF writer: null and object values have no GGUF type");
    }
  }

  void value(const meta_value& v, uint32_t t, const std::string& key, int depth) {
    auto num_i = [&]() -> int64_t {
      auto x = v.as_int();
      if (!x) fail(errc::bad_value, 0, "GGUF writer: key '" + key + "' is not an integer: " + v.to_display());
      return *x;
    };
    auto num_u = [&]() -> uint64_t {
      if (v.k == meta_value::kind::uinteger) return v.u;
      int64_t x = num_i();
      if (x < 0) fail(errc::bad_value, 0, "GGUF writer: key '" + key + "' is negative for an unsigned type");
      return static_cast<uint64_t>(x);
    };
    auto num_f = [&]() -> double {
      auto x = v.as_double();
      if (!x) fail(errc::bad_value, 0, "GGUF writer: key '" + key + "' is not a number");
      return *x;
    };
    switch (t) {
      case T_UINT8:
        put<uint8_t>(b, static_cast<uint8_t>(num_u()));
        break;
      case T_INT8:
        put<int8_t>(b, static_cast<int8_t>(num_i()));
        break;
      case T_UINT16:
        put<uint16_t>(b, static_cast<uint16_t>(num_u()));
        break;
      case T_INT16:
        put<int16_t>(b, static_cast<int16_t>(num_i()));
        break;
      case T_UINT32:
        put<uint32_t>(b, static_cast<uint32_t>(num_u()));
        break;
      case T_INT32:
        put<int32_t>(b, static_cast<int32_t>(num_i()));
        break;
      case T_UINT64:
        put<uint64_t>(b, num_u());
        break;
      case T_INT64:
        put<int64_t>(b, num_i());
        break;
      case T_FLOAT32:
        put<float>(b, static_cast<float>(num_f()));
        break;
      case T_FLOAT64:
        put<double>(b, num_f());
        break;
      case T_BOOL:
        put<uint8_t>(b, v.as_bool().value_or(false) ? 1 : 0);
        break;
      case T_STRING:
        if (v.k != meta_value::kind::string)
          fail(errc::bad_value, 0, "GGUF writer: key '" + key + "' is not a string");
        str(v.s);
        break;
      case T_ARRAY: {
        if (v.k != meta_value::kind::array)
          fail(errc::bad_value, 0, "GGUF writer: key '" + key + "' is not an array");
        if (depth >= 4) fail(errc::limit, 0, "GGUF writer: key '" + key + "' nests arrays too deep");
        uint32_t et = v.gguf_elem_type >= 0 ? static_cast<uint32_t>(v.gguf_elem_type)
                      : v.arr.empty()       ? T_INT32
                                            : infer(v.arr.get(0));
        if (et >= T_COUNT) fail(errc::bad_value, 0, "GGUF writer: key '" + key + "' has a bad element type");
        put<uint32_t>(b, et);
        count(v.arr.size(), "array length");
        // get(i): packed elements are decoded one at a time, never cached in the array
        for (size_t i = 0; i < v.arr.size(); ++i) value(v.arr.get(i), et, key, depth + 1);
        break;
      }
      default:
        fail(errc::bad_value, 0, "GGUF writer: key '" + key + "' has unknown type " + std::to_string(t));
    }
  }
};

void check_bytes(const tensor_data& t) {
  uint64_t n = shape_element_count(t.shape, 0);
  uint64_t want = dtype_row_bytes(t.type, n);
  if (want != t.bytes.size())
    fail(errc::mismatch, 0,
         "writer: tensor '" + t.name + "' has " + std::to_string(t.bytes.size()) + " bytes but " +
             dtype_name(t.type) + " " + shape_string(t.shape) + " needs " + std::to_string(want));
}

std::string json_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size() + 2);
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"')
      o += "\\\"";
    else if (c == '\\')
      o += "\\\\";
    else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      o += buf;
    } else {
      o += c;
    }
  }
  return o;
}

}  // namespace

void gguf_write(const std::string& path, const std::vector<std::pair<std::string, meta_value>>& metadata,
                const std::vector<tensor_data>& tensors, uint32_t alignment, uint32_t version) {
  if (version < 1 || version > 3)
    fail(errc::unsupported, 0, "GGUF writer: version " + std::to_string(version));
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    fail(errc::bad_value, 0,
         "GGUF writer: alignment " + std::to_string(alignment) + " is not a power of two");
  bool has_alignment_key = false;
  for (const auto& [k, v] : metadata)
    if (k == "general.alignment") {
      has_alignment_key = true;
      if (v.as_int() != static_cast<int64_t>(alignment))
        fail(errc::mismatch, 0,
             "GGUF writer: general.alignment " + v.to_display() + " differs from alignment " +
                 std::to_string(alignment));
    }
  const bool add_alignment = !has_alignment_key && alignment != 32;

  std::string h;
  gguf_enc e{h, version == 1};
  h += "GGUF";
  put<uint32_t>(h, version);
  e.count(tensors.size(), "tensor count");
  e.count(metadata.size() + (add_alignment ? 1 : 0), "metadata count");
  std::unordered_set<std::string> seen;
  for (const auto& [k, v] : metadata) {
    if (!seen.insert(k).second) fail(errc::duplicate, 0, "GGUF writer: duplicate key '" + k + "'");
    e.str(k);
    uint32_t t = gguf_enc::infer(v);
    put<uint32_t>(h, t);
    e.value(v, t, k, 0);
  }
  if (add_alignment) {
    e.str("general.alignment");
    put<uint32_t>(h, T_UINT32);
    put<uint32_t>(h, alignment);
  }
  seen.clear();
  uint64_t offset = 0;
  for (const tensor_data& t : tensors) {
    if (!seen.insert(t.name).second)
      fail(errc::duplicate, 0, "GGUF writer: duplicate tensor '" + t.name + "'");
    const dtype_traits& tr = dtype_info(t.type);
    if (tr.ggml_id < 0)
      fail(errc::unsupported, 0, std::string("GGUF writer: dtype ") + tr.name + " has no ggml type");
    if (t.shape.size() > 4)
      fail(errc::bad_value, 0, "GGUF writer: tensor '" + t.name + "' has more than 4 dims");
    check_bytes(t);
    e.str(t.name);
    put<uint32_t>(h, static_cast<uint32_t>(t.shape.size()));
    for (size_t d = t.shape.size(); d-- > 0;) {
      if (e.v1) {
        if (t.shape[d] > static_cast<int64_t>(UINT32_MAX))
          fail(errc::limit, 0, "GGUF v1 writer: dimension too large");
        put<uint32_t>(h, static_cast<uint32_t>(t.shape[d]));
      } else {
        put<uint64_t>(h, static_cast<uint64_t>(t.shape[d]));
      }
    }
    put<uint32_t>(h, static_cast<uint32_t>(tr.ggml_id));
    put<uint64_t>(h, offset);
    offset += t.bytes.size();
    offset += (alignment - offset % alignment) % alignment;
  }
  out_file f(path);
  f.write(h);
  if (!tensors.empty())
    f.pad_to(alignment);  // vocab-only files end right after the header (as gguf-py writes them)
  for (const tensor_data& t :
       tensors) {  // data_start is aligned, so padding by file position pads each tensor
    f.write(t.bytes.data(), t.bytes.size());
    f.pad_to(alignment);
  }
  f.close();
}

namespace {

// Bytes a tensor of t's dtype and shape holds (t.bytes is not looked at).
uint64_t tensor_data_size(const tensor_data& t) {
  return dtype_row_bytes(t.type, shape_element_count(t.shape, 0));
}

// The length-prefixed JSON header of a safetensors file whose tensors follow in the given order.
std::string safetensors_header(const std::vector<tensor_data>& tensors,
                               const std::vector<std::pair<std::string, std::string>>& metadata) {
  std::string j = "{";
  bool first = true;
  if (!metadata.empty()) {
    j += "\"__metadata__\":{";
    for (size_t i = 0; i < metadata.size(); ++i) {
      if (i) j += ",";
      j += "\"" + json_escape(metadata[i].first) + "\":\"" + json_escape(metadata[i].second) + "\"";
    }
    j += "}";
    first = false;
  }
  std::unordered_set<std::string> seen;
  uint64_t offset = 0;
  for (const tensor_data& t : tensors) {
    if (!seen.insert(t.name).second)
      fail(errc::duplicate, 0, "safetensors writer: duplicate tensor '" + t.name + "'");
    if (t.name == "__metadata__") fail(errc::bad_value, 0, "safetensors writer: tensor named __metadata__");
    const dtype_traits& tr = dtype_info(t.type);
    if (!tr.safetensors)
      fail(errc::unsupported, 0, std::string("safetensors writer: dtype ") + tr.name + " not supported");
    const uint64_t size = tensor_data_size(t);
    if (!first) j += ",";
    first = false;
    j += "\"" + json_escape(t.name) + "\":{\"dtype\":\"" + tr.safetensors + "\",\"shape\":[";
    for (size_t d = 0; d < t.shape.size(); ++d) {
      if (d) j += ",";
      j += std::to_string(t.shape[d]);
    }
    j += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + size) + "]}";
    offset += size;
  }
  j += "}";
  while (j.size() % 8 != 0) j += ' ';  // the reference pads the header so the buffer starts 8-aligned
  std::string h;
  put<uint64_t>(h, j.size());
  return h + j;
}

}  // namespace

void safetensors_write(const std::string& path, const std::vector<tensor_data>& tensors,
                       const std::vector<std::pair<std::string, std::string>>& metadata) {
  for (const tensor_data& t : tensors) check_bytes(t);
  const std::string h = safetensors_header(tensors, metadata);
  out_file f(path);
  f.write(h);
  for (const tensor_data& t : tensors) f.write(t.bytes.data(), t.bytes.size());
  f.close();
}

void safetensors_write_streamed(const std::string& path, const std::vector<tensor_data>& heads,
                                const std::vector<std::pair<std::string, std::string>>& metadata,
                                const std::function<void(size_t, std::vector<uint8_t>&)>& produce) {
  const std::string h = safetensors_header(heads, metadata);
  out_file f(path);
  f.write(h);
  std::vector<uint8_t> bytes;  // one tensor's (tensor_data_size(heads[i]))
  for (size_t i = 0; i < heads.size(); ++i) {
    bytes.clear();
    produce(i, bytes);
    const tensor_data& t = heads[i];
    if (bytes.size() != tensor_data_size(t))
      fail(errc::mismatch, f.pos(),
           "writer: tensor '" + t.name + "' produced " + std::to_string(bytes.size()) + " bytes but " +
               dtype_name(t.type) + " " + shape_string(t.shape) + " needs " +
               std::to_string(tensor_data_size(t)));
    f.write(bytes.data(), bytes.size());
  }
  f.close();
}

namespace {
meta_value typed(meta_value::kind k, uint32_t t) {
  meta_value m;
  m.k = k;
  m.gguf_type = static_cast<int>(t);
  return m;
}
meta_value array_of(uint32_t et) {
  meta_value m = typed(meta_value::kind::array, T_ARRAY);
  m.gguf_elem_type = static_cast<int>(et);
  return m;
}
}  // namespace

meta_value meta_u32(uint32_t v) {
  meta_value m = typed(meta_value::kind::uinteger, T_UINT32);
  m.u = v;
  return m;
}
meta_value meta_i32(int32_t v) {
  meta_value m = typed(meta_value::kind::integer, T_INT32);
  m.i = v;
  return m;
}
meta_value meta_f32(float v) {
  meta_value m = typed(meta_value::kind::floating, T_FLOAT32);
  m.f = static_cast<double>(v);
  return m;
}

// Arrays are built packed, as the GGUF loader stores them.
meta_value meta_str_array(const std::vector<std::string>& v) {
  meta_value m = array_of(T_STRING);
  std::string blob;
  std::vector<uint64_t> ends;
  ends.reserve(v.size());
  for (const auto& s : v) {
    blob += s;
    ends.push_back(blob.size());
  }
  m.arr = meta_array::packed_strings(T_STRING, std::move(blob), std::move(ends));
  return m;
}
meta_value meta_f32_array(const std::vector<float>& v) {
  meta_value m = array_of(T_FLOAT32);
  std::string raw;
  raw.reserve(v.size() * 4);
  for (float x : v) put<float>(raw, x);
  m.arr = meta_array::packed_numbers(static_cast<uint8_t>(meta_value::kind::floating), T_FLOAT32, 4,
                                     std::move(raw));
  return m;
}
meta_value meta_i32_array(const std::vector<int32_t>& v) {
  meta_value m = array_of(T_INT32);
  std::string raw;
  raw.reserve(v.size() * 4);
  for (int32_t x : v) put<int32_t>(raw, x);
  m.arr =
      meta_array::packed_numbers(static_cast<uint8_t>(meta_value::kind::integer), T_INT32, 4, std::move(raw));
  return m;
}

}  // namespace gb
