#include "formats/archive.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>

#include "formats/reader.h"

namespace gb {

// Packed elements, immutable once built (copies of the array share them). `cache` holds the elements
// handed out by reference through operator[]; std::map nodes never move, so references stay valid.
struct meta_array::packed_data {
  meta_value::kind k = meta_value::kind::null;  // of every element
  int gguf_type = -1;                           // of every element
  unsigned width = 0;                           // bytes per number; 0 for strings
  size_t n = 0;
  std::string bytes;           // numbers: n x width LE bytes; strings: the texts, concatenated
  std::vector<uint64_t> ends;  // strings: end of element i in bytes
  mutable std::mutex mu;
  mutable std::map<size_t, meta_value> cache;

  std::string_view text(size_t i) const {
    uint64_t b = i == 0 ? 0 : ends[i - 1];
    return std::string_view(bytes).substr(b, ends[i] - b);
  }
  meta_value make(size_t i) const {
    meta_value v;
    v.k = k;
    v.gguf_type = gguf_type;
    if (k == meta_value::kind::string) {
      v.s.assign(text(i));
      return v;
    }
    const uint8_t* p = reinterpret_cast<const uint8_t*>(bytes.data()) + i * width;
    switch (k) {
      case meta_value::kind::integer:
        switch (width) {
          case 1:
            v.i = static_cast<int8_t>(*p);
            break;
          case 2:
            v.i = load_le<int16_t>(p);
            break;
          case 4:
            v.i = load_le<int32_t>(p);
            break;
          default:
            v.i = load_le<int64_t>(p);
            break;
        }
        break;
      case meta_value::kind::uinteger:
        switch (width) {
          case 1:
            v.u = *p;
            break;
          case 2:
            v.u = load_le<uint16_t>(p);
            break;
          case 4:
            v.u = load_le<uint32_t>(p);
            break;
          default:
            v.u = load_le<uint64_t>(p);
            break;
        }
        break;
      case meta_value::kind::floating:
        v.f = width == 4 ? static_cast<double>(load_le<float>(p)) : load_le<double>(p);
        break;
      case meta_value::kind::boolean:
        v.b = *p != 0;
        break;
      default:
        break;
    }
    return v;
  }
};

meta_array::meta_array() = default;
meta_array::meta_array(std::initializer_list<meta_value> init) : items_(init) {}
meta_array::meta_array(const meta_array&) = default;
meta_array::meta_array(meta_array&&) noexcept = default;
meta_array& meta_array::operator=(const meta_array&) = default;
meta_array& meta_array::operator=(meta_array&&) noexcept = default;
meta_array& meta_array::operator=(std::initializer_list<meta_value> init) {
  packed_.reset();
  items_.assign(init);
  return *this;
}
meta_array::~meta_array() = default;

meta_array meta_array::packed_numbers(uint8_t kind, int gguf_type, unsigned width, std::string raw) {
  auto k = static_cast<meta_value::kind>(kind);
  bool ok = (k == meta_value::kind::integer || k == meta_value::kind::uinteger)
                ? (width == 1 || width == 2 || width == 4 || width == 8)
            : k == meta_value::kind::floating ? (width == 4 || width == 8)
            : k == meta_value::kind::boolean  ? width == 1
                                              : false;
  if (!ok || raw.size() % width != 0)
    fail(errc::bad_value, 0,
         "packed array: kind " + std::to_string(kind) + " with element width " + std::to_string(width) +
             " over " + std::to_string(raw.size()) + " bytes");
  auto d = std::make_shared<packed_data>();
  d->k = k;
  d->gguf_type = gguf_type;
  d->width = width;
  d->n = raw.size() / width;
  d->bytes = std::move(raw);
  meta_array a;
  a.packed_ = std::move(d);
  return a;
}

meta_array meta_array::packed_strings(int gguf_type, std::string blob, std::vector<uint64_t> ends) {
  uint64_t prev = 0;
  for (uint64_t e : ends) {
    if (e < prev || e > blob.size())
      fail(errc::bad_value, 0,
           "packed array: string end " + std::to_string(e) + " out of order or past the " +
               std::to_string(blob.size()) + "-byte blob");
    prev = e;
  }
  auto d = std::make_shared<packed_data>();
  d->k = meta_value::kind::string;
  d->gguf_type = gguf_type;
  d->n = ends.size();
  d->bytes = std::move(blob);
  d->ends = std::move(ends);
  meta_array a;
  a.packed_ = std::move(d);
  return a;
}

size_t meta_array::size() const {
  return packed_ ? packed_->n : items_.size();
}

const meta_value& meta_array::operator[](size_t i) const {
  static const meta_value k_null;
  if (i >= size()) return k_null;
  if (!packed_) return items_[i];
  std::lock_guard<std::mutex> lock(packed_->mu);
  auto it = packed_->cache.find(i);
  if (it == packed_->cache.end()) it = packed_->cache.emplace(i, packed_->make(i)).first;
  return it->second;
}

std::string_view meta_array::str(size_t i) const {
  if (i >= size()) return {};
  if (packed_) return packed_->k == meta_value::kind::string ? packed_->text(i) : std::string_view();
  return items_[i].k == meta_value::kind::string ? std::string_view(items_[i].s) : std::string_view();
}

std::optional<double> meta_array::number(size_t i) const {
  if (i >= size()) return std::nullopt;
  if (packed_) {
    if (packed_->k == meta_value::kind::string) return std::nullopt;
    return packed_->make(i).as_double();
  }
  return items_[i].as_double();
}

std::optional<int64_t> meta_array::integer(size_t i) const {
  if (i >= size()) return std::nullopt;
  if (packed_) {
    if (packed_->k == meta_value::kind::string) return std::nullopt;
    return packed_->make(i).as_int();
  }
  return items_[i].as_int();
}

meta_value meta_array::get(size_t i) const {
  if (i >= size()) return {};
  return packed_ ? packed_->make(i) : items_[i];
}

void meta_array::unpack() {
  if (!packed_) return;
  std::vector<meta_value> v;
  v.reserve(packed_->n);
  for (size_t i = 0; i < packed_->n; ++i) v.push_back(packed_->make(i));
  packed_.reset();
  items_ = std::move(v);
}

void meta_array::push_back(meta_value v) {
  unpack();
  items_.push_back(std::move(v));
}
void meta_array::reserve(size_t n) {
  unpack();
  items_.reserve(n);
}
void meta_array::resize(size_t n) {
  unpack();
  items_.resize(n);
}
void meta_array::clear() {
  packed_.reset();
  items_.clear();
}

meta_value::meta_value(const meta_value&) = default;
meta_value::meta_value(meta_value&&) noexcept = default;
meta_value& meta_value::operator=(const meta_value&) = default;
meta_value& meta_value::operator=(meta_value&&) noexcept = default;
meta_value::~meta_value() = default;

const char* file_format_name(file_format f) {
  switch (f) {
    case file_format::unknown:
      return "unknown";
    case file_format::safetensors:
      return "safetensors";
    case file_format::gguf:
      return "gguf";
    case file_format::onnx:
      return "onnx";
    case file_format::pytorch_zip:
      return "pytorch-zip";
    case file_format::pytorch_legacy:
      return "pytorch-legacy";
    case file_format::pickle:
      return "pickle";
    case file_format::llama2c:
      return "llama2c";
    case file_format::llama2c_tokenizer:
      return "llama2c-tokenizer";
    case file_format::hf_folder:
      return "hf-folder";
    case file_format::numpy:
      return "numpy";
    case file_format::zip:
      return "zip";
    case file_format::sevenzip:
      return "7z";
    case file_format::json:
      return "json";
    case file_format::sentencepiece:
      return "sentencepiece";
  }
  return "unknown";
}

std::optional<int64_t> meta_value::as_int() const {
  switch (k) {
    case kind::integer:
      return i;
    case kind::uinteger:
      if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
      return static_cast<int64_t>(u);
    case kind::floating:
      if (std::isfinite(f) && std::floor(f) == f && std::fabs(f) < 9.2e18) return static_cast<int64_t>(f);
      return std::nullopt;
    case kind::boolean:
      return b ? 1 : 0;
    default:
      return std::nullopt;
  }
}

std::optional<double> meta_value::as_double() const {
  switch (k) {
    case kind::integer:
      return static_cast<double>(i);
    case kind::uinteger:
      return static_cast<double>(u);
    case kind::floating:
      return f;
    default:
      return std::nullopt;
  }
}

std::optional<std::string> meta_value::as_string() const {
  if (k == kind::string) return s;
  return std::nullopt;
}

std::optional<bool> meta_value::as_bool() const {
  if (k == kind::boolean) return b;
  if (k == kind::integer) return i != 0;
  if (k == kind::uinteger) return u != 0;
  return std::nullopt;
}

std::string meta_value::to_display(size_t max_array) const {
  switch (k) {
    case kind::null:
      return "null";
    case kind::boolean:
      return b ? "true" : "false";
    case kind::integer:
      return std::to_string(i);
    case kind::uinteger:
      return std::to_string(u);
    case kind::floating: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.7g", f);
      return buf;
    }
    case kind::string: {
      std::string t = s.size() > 200 ? s.substr(0, 200) + "... (" + std::to_string(s.size()) + " chars)" : s;
      std::string out;
      for (char c : t) {
        if (c == '\n')
          out += "\\n";
        else if (static_cast<unsigned char>(c) < 0x20)
          out += '?';
        else
          out += c;
      }
      return out;
    }
    case kind::array: {
      std::string r = "[";
      for (size_t j = 0; j < arr.size() && j < max_array; ++j) {
        if (j) r += ", ";
        r += arr[j].to_display(max_array);
      }
      if (arr.size() > max_array) r += ", ... (" + std::to_string(arr.size()) + " items)";
      return r + "]";
    }
    case kind::object: {
      std::string r = "{";
      for (size_t j = 0; j < obj.size() && j < max_array; ++j) {
        if (j) r += ", ";
        r += obj[j].first + ": " + obj[j].second.to_display(max_array);
      }
      if (obj.size() > max_array) r += ", ...";
      return r + "}";
    }
  }
  return "";
}

const meta_value* archive::meta(std::string_view key) const {
  for (const auto& [k, v] : metadata)
    if (k == key) return &v;
  return nullptr;
}

const tensor_view* archive::tensor(std::string_view name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

uint64_t archive::tensor_bytes() const {
  uint64_t n = 0;
  for (const auto& t : tensors) n += t.nbytes;
  return n;
}

}  // namespace gb
