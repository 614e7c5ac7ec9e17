// GGUF and safetensors writers: deterministic bytes, streamed to disk (tensor bytes are never copied
// into one big buffer, so benchmark files of hundreds of MB need no more memory than their tensors).
#include "formats/writers.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>

#include "formats/gguf_value_type.h"
#include "formats/reader.h"
#include "formats/safetensors_stream.h"

namespace gb {
namespace {

class out_file {
 public:
  explicit out_file(const std::string& path)
      : path_(path), buf_(new char[buf_bytes]), f_(std::fopen(path.c_str(), "wb")) {
    if (!f_) fail(errc::io, 0, "cannot create " + path + ": " + std::strerror(errno));
    std::setvbuf(f_, buf_.get(), _IOFBF, buf_bytes);
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
  // Leaves n bytes unwritten (a hole in a sparse file; reads back as zeros).
  void skip(uint64_t n) {
    if (n == 0) return;
    if (::fseeko(f_, static_cast<off_t>(n), SEEK_CUR) != 0)
      fail(errc::io, pos_, "cannot seek in " + path_ + ": " + std::strerror(errno));
    pos_ += n;
    holes_ = true;
  }
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
    // A file that ends in a hole gets its length from ftruncate (seeking alone does not extend it).
    if (holes_ && (std::fflush(f_) != 0 || ::ftruncate(::fileno(f_), static_cast<off_t>(pos_)) != 0))
      fail(errc::io, pos_, "cannot finish " + path_ + ": " + std::strerror(errno));
    int rc = std::fclose(f_);
    f_ = nullptr;
    if (rc != 0) fail(errc::io, pos_, "cannot finish " + path_ + ": " + std::strerror(errno));
  }
  uint64_t pos() const { return pos_; }

 private:
  // Written in 4 MiB pieces at 4 MiB offsets (stdio's default is one 4 KiB block): a kernel whose page
  // cache holds large folios (Linux 6.x on ext4, xfs) then caches the file in 2 MiB folios, and a process
  // that maps it right after gets 2 MiB pages: on this VM a fresh process's first touch of a 537 MB model
  // costs 0.01 s instead of 0.3 s (each 4 KiB page's first translation ~1.7 us, bench_suite_rates.sh).
  static constexpr size_t buf_bytes = size_t{4} << 20;
  std::string path_;
  std::unique_ptr<char[]> buf_;
  std::FILE* f_;
  uint64_t pos_ = 0;
  bool holes_ = false;
};

// Streams one tensor's bytes into the file and counts them.
class file_sink final : public tensor_sink {
 public:
  explicit file_sink(out_file& f) : f_(f) {}
  void write(const void* p, size_t n) override { f_.write(p, n); }
  void skip(uint64_t n) override { f_.skip(n); }

 private:
  out_file& f_;
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

namespace {

uint64_t spec_bytes(const tensor_spec& t) {
  return dtype_row_bytes(t.type, shape_element_count(t.shape, 0));
}

// Writes tensor i's bytes through fill and checks their count against its dtype and shape.
void write_tensor(out_file& f, const tensor_spec& t, size_t i, const tensor_fill& fill) {
  const uint64_t start = f.pos();
  file_sink sink(f);
  fill(i, sink);
  const uint64_t want = spec_bytes(t);
  if (f.pos() - start != want)
    fail(errc::mismatch, start,
         "writer: tensor '" + t.name + "' got " + std::to_string(f.pos() - start) + " bytes but " +
             dtype_name(t.type) + " " + shape_string(t.shape) + " needs " + std::to_string(want));
}

std::vector<tensor_spec> specs_of(const std::vector<tensor_data>& tensors) {
  std::vector<tensor_spec> specs;
  specs.reserve(tensors.size());
  for (const tensor_data& t : tensors) {
    check_bytes(t);
    specs.push_back({t.name, t.type, t.shape});
  }
  return specs;
}

tensor_fill fill_from(const std::vector<tensor_data>& tensors) {
  return
      [&tensors](size_t i, tensor_sink& out) { out.write(tensors[i].bytes.data(), tensors[i].bytes.size()); };
}

}  // namespace

void gguf_write(const std::string& path, const std::vector<std::pair<std::string, meta_value>>& metadata,
                const std::vector<tensor_data>& tensors, uint32_t alignment, uint32_t version) {
  gguf_write_stream(path, metadata, specs_of(tensors), fill_from(tensors), alignment, version);
}

void gguf_write_stream(const std::string& path,
                       const std::vector<std::pair<std::string, meta_value>>& metadata,
                       const std::vector<tensor_spec>& tensors, const tensor_fill& fill, uint32_t alignment,
                       uint32_t version) {
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
  for (const tensor_spec& t : tensors) {
    if (!seen.insert(t.name).second)
      fail(errc::duplicate, 0, "GGUF writer: duplicate tensor '" + t.name + "'");
    const dtype_traits& tr = dtype_info(t.type);
    if (tr.ggml_id < 0)
      fail(errc::unsupported, 0, std::string("GGUF writer: dtype ") + tr.name + " has no ggml type");
    if (t.shape.size() > 4)
      fail(errc::bad_value, 0, "GGUF writer: tensor '" + t.name + "' has more than 4 dims");
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
    offset += spec_bytes(t);
    offset += (alignment - offset % alignment) % alignment;
  }
  out_file f(path);
  f.write(h);
  if (!tensors.empty())
    f.pad_to(alignment);  // vocab-only files end right after the header (as gguf-py writes them)
  for (size_t i = 0; i < tensors.size(); ++i) {  // data_start is aligned: padding by position pads each
    write_tensor(f, tensors[i], i, fill);
    f.pad_to(alignment);
  }
  f.close();
}

std::string safetensors_header(const std::vector<safetensors_entry>& entries,
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
  for (const safetensors_entry& t : entries) {
    if (!seen.insert(t.name).second)
      fail(errc::duplicate, 0, "safetensors writer: duplicate tensor '" + t.name + "'");
    if (t.name == "__metadata__") fail(errc::bad_value, 0, "safetensors writer: tensor named __metadata__");
    const dtype_traits& tr = dtype_info(t.type);
    if (!tr.safetensors)
      fail(errc::unsupported, 0, std::string("safetensors writer: dtype ") + tr.name + " not supported");
    if (!first) j += ",";
    first = false;
    j += "\"" + json_escape(t.name) + "\":{\"dtype\":\"" + tr.safetensors + "\",\"shape\":[";
    for (size_t d = 0; d < t.shape.size(); ++d) {
      if (d) j += ",";
      j += std::to_string(t.shape[d]);
    }
    j += "],\"data_offsets\":[" + std::to_string(t.begin) + "," + std::to_string(t.end) + "]}";
  }
  j += "}";
  while (j.size() % 8 != 0) j += ' ';  // the reference pads the header so the buffer starts 8-aligned
  std::string h;
  put<uint64_t>(h, j.size());
  return h + j;
}

void safetensors_write(const std::string& path, const std::vector<tensor_data>& tensors,
                       const std::vector<std::pair<std::string, std::string>>& metadata) {
  safetensors_write_stream(path, specs_of(tensors), fill_from(tensors), metadata);
}

void safetensors_write_stream(const std::string& path, const std::vector<tensor_spec>& tensors,
                              const tensor_fill& fill,
                              const std::vector<std::pair<std::string, std::string>>& metadata) {
  std::vector<safetensors_entry> entries;
  uint64_t offset = 0;
  for (const tensor_spec& t : tensors) {  // (a dtype safetensors has no name for fails in the header)
    const uint64_t nb = dtype_info(t.type).safetensors ? spec_bytes(t) : 0;
    entries.push_back({t.name, t.type, t.shape, offset, offset + nb});
    offset += nb;
  }
  const std::string head = safetensors_header(entries, metadata);
  out_file f(path);
  f.write(head);
  for (size_t i = 0; i < tensors.size(); ++i) write_tensor(f, tensors[i], i, fill);
  f.close();
}

void safetensors_write_streamed(const std::string& path, const std::vector<tensor_data>& heads,
                                const std::vector<std::pair<std::string, std::string>>& metadata,
                                const std::function<void(size_t, std::vector<uint8_t>&)>& produce) {
  std::vector<tensor_spec> specs;
  specs.reserve(heads.size());
  for (const tensor_data& t : heads) specs.push_back({t.name, t.type, t.shape});
  std::vector<uint8_t> bytes;  // one tensor's encoded bytes at a time
  const tensor_fill fill = [&](size_t i, tensor_sink& out) {
    bytes.clear();
    produce(i, bytes);
    out.write(bytes.data(), bytes.size());
  };
  safetensors_write_stream(path, specs, fill, metadata);
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
