// formats/reader.h: the one bounds-checked cursor every loader reads file bytes through, plus checked
// arithmetic. Every read names its field, so an error says what was being read and at which offset.
//
//   gb::reader r(map->data(), map->size(), "GGUF");
//   uint32_t magic = r.u32("magic");
//   uint64_t n = r.u64("tensor count");
//   std::string_view name = r.str(r.u64("name length"), "tensor name");
//   uint64_t bytes = gb::checked_mul(n, 32, "tensor table size");
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "formats/error.h"

namespace gb {

uint64_t checked_add(uint64_t a, uint64_t b, const char* what, uint64_t offset = 0);
uint64_t checked_mul(uint64_t a, uint64_t b, const char* what, uint64_t offset = 0);

// Little-endian loads from raw bytes (no bounds check: the caller has one).
template <class T>
inline T load_le(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;  // glassbox targets little-endian hosts; CMake refuses big-endian builds
}

class reader {
 public:
  // `base` is the absolute file offset of data[0], so errors report file offsets.
  reader(const uint8_t* data, uint64_t size, const char* format, uint64_t base = 0)
      : data_(data), size_(size), base_(base), format_(format) {}

  uint64_t pos() const { return pos_; }             // relative to data
  uint64_t offset() const { return base_ + pos_; }  // absolute file offset
  uint64_t size() const { return size_; }
  uint64_t remaining() const { return size_ - pos_; }
  bool at_end() const { return pos_ == size_; }
  const uint8_t* data() const { return data_; }
  const char* format() const { return format_; }

  void seek(uint64_t pos, const char* field);
  void skip(uint64_t n, const char* field);
  // Returns a pointer to n bytes and advances; fails with truncated if fewer remain.
  const uint8_t* bytes(uint64_t n, const char* field);
  std::string_view str(uint64_t n, const char* field) {
    return {reinterpret_cast<const char*>(bytes(n, field)), static_cast<size_t>(n)};
  }
  uint8_t u8(const char* f) { return *bytes(1, f); }
  uint16_t u16(const char* f) { return load_le<uint16_t>(bytes(2, f)); }
  uint32_t u32(const char* f) { return load_le<uint32_t>(bytes(4, f)); }
  uint64_t u64(const char* f) { return load_le<uint64_t>(bytes(8, f)); }
  int8_t i8(const char* f) { return static_cast<int8_t>(u8(f)); }
  int16_t i16(const char* f) { return load_le<int16_t>(bytes(2, f)); }
  int32_t i32(const char* f) { return load_le<int32_t>(bytes(4, f)); }
  int64_t i64(const char* f) { return load_le<int64_t>(bytes(8, f)); }
  float f32(const char* f) { return load_le<float>(bytes(4, f)); }
  double f64(const char* f) { return load_le<double>(bytes(8, f)); }

  // fail() with "<format>: <message>" at the current absolute offset.
  [[noreturn]] void error(errc code, const std::string& message) const;
  [[noreturn]] void error_at(errc code, uint64_t abs_offset, const std::string& message) const;

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t base_;
  uint64_t pos_ = 0;
  const char* format_;
};

// True when s is valid UTF-8 (no overlongs, <= U+10FFFF, no surrogates unless `surrogates_ok`: CPython's
// "surrogatepass", as pickle's BINUNICODE is decoded).
bool utf8_valid(std::string_view s, bool surrogates_ok = false);

// Appends code point cp (<= U+10FFFF; surrogates are encoded as they are) as UTF-8.
void utf8_append(std::string& out, uint32_t cp);
// The character a Python simple escape \c stands for (\n \t \r \a \b \f \v \\ \' \"), or 0 when c
// starts none of them (pickle STRING operands and Jinja string literals share these).
char python_simple_escape(char c);

}  // namespace gb
