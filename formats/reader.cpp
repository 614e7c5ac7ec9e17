#include "formats/reader.h"

namespace gb {

uint64_t checked_add(uint64_t a, uint64_t b, const char* what, uint64_t offset) {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r))
    fail(errc::overflow, offset, std::string("integer overflow computing ") + what);
  return r;
}

uint64_t checked_mul(uint64_t a, uint64_t b, const char* what, uint64_t offset) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    fail(errc::overflow, offset, std::string("integer overflow computing ") + what);
  return r;
}

void reader::seek(uint64_t pos, const char* field) {
  if (pos > size_)
    error(errc::out_of_bounds, std::string(field) + " at " + std::to_string(base_ + pos) +
                                   " lies past the end (" + std::to_string(base_ + size_) + ")");
  pos_ = pos;
}

void reader::skip(uint64_t n, const char* field) {
  bytes(n, field);
}

const uint8_t* reader::bytes(uint64_t n, const char* field) {
  if (n > size_ - pos_)
    error(errc::truncated, "truncated: need " + std::to_string(n) + " bytes for " + field + ", only " +
                               std::to_string(size_ - pos_) + " left");
  const uint8_t* p = data_ + pos_;
  pos_ += n;
  return p;
}

void reader::error(errc code, const std::string& message) const {
  error_at(code, base_ + pos_, message);
}

void reader::error_at(errc code, uint64_t abs_offset, const std::string& message) const {
  fail(code, abs_offset, std::string(format_) + ": " + message);
}

bool utf8_valid(std::string_view s, bool surrogates_ok) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else
      return false;
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (!surrogates_ok && cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

char python_simple_escape(char c) {
  static constexpr char k_from[] = "ntrabfv\\'\"", k_to[] = "\n\t\r\a\b\f\v\\'\"";
  for (size_t i = 0; k_from[i]; ++i)
    if (k_from[i] == c) return k_to[i];
  return 0;
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | ((cp >> 18) & 0x07));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace gb
