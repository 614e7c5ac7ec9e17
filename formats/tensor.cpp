#include "formats/tensor.h"

#include <algorithm>
#include <cstring>

#include "formats/mapped_file.h"
#include "formats/reader.h"

namespace gb {

uint64_t tensor_view::element_count() const {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

const uint8_t* tensor_row(const tensor_view& v, uint64_t r, uint64_t row_bytes, uint8_t* scratch) {
  if (!v.split()) return v.data + r * row_bytes;
  if (v.split_dim == 0) {
    for (const tensor_piece& p : v.pieces) {
      const uint64_t n = static_cast<uint64_t>(p.extent);
      if (r < n) return p.data + r * p.row_bytes;
      r -= n;
    }
    return nullptr;  // past the last row: callers validated r < rows
  }
  uint8_t* out = scratch;
  for (const tensor_piece& p : v.pieces) {
    std::memcpy(out, p.data + r * p.row_bytes, p.row_bytes);
    out += p.row_bytes;
  }
  return scratch;
}

void tensor_read(const tensor_view& v, uint64_t at, uint64_t n, uint8_t* dst) {
  if (!v.split()) {
    std::memcpy(dst, v.data + at, n);
    return;
  }
  if (v.split_dim == 0) {  // the pieces' bytes one after another
    for (const tensor_piece& p : v.pieces) {
      const uint64_t size = static_cast<uint64_t>(p.extent) * p.row_bytes;
      if (at < size) {
        const uint64_t k = std::min(n, size - at);
        std::memcpy(dst, p.data + at, k);
        dst += k, n -= k, at = 0;
        if (n == 0) return;
      } else {
        at -= size;
      }
    }
    return;
  }
  uint64_t row_bytes = 0;  // of the whole tensor: the pieces' rows side by side
  for (const tensor_piece& p : v.pieces) row_bytes += p.row_bytes;
  while (n > 0) {
    const uint64_t r = at / row_bytes;
    uint64_t c = at % row_bytes;
    for (const tensor_piece& p : v.pieces) {
      if (c >= p.row_bytes) {
        c -= p.row_bytes;
        continue;
      }
      const uint64_t k = std::min(n, p.row_bytes - c);
      std::memcpy(dst, p.data + r * p.row_bytes + c, k);
      dst += k, n -= k, at += k, c = 0;
      if (n == 0) return;
    }
  }
}

void tensor_release_rows(const tensor_view& v, uint64_t r0, uint64_t r1) {
  uint64_t first = 0;  // the whole tensor's row index of a dim-0 piece's first row
  for (const tensor_piece& p : v.pieces) {
    uint64_t a = r0, b = r1;
    if (v.split_dim == 0) {
      const uint64_t n = static_cast<uint64_t>(p.extent);
      a = std::clamp(r0, first, first + n) - first;
      b = std::clamp(r1, first, first + n) - first;
      first += n;
    }
    if (p.file && b > a) p.file->advise_dontneed(p.file_offset + a * p.row_bytes, (b - a) * p.row_bytes);
  }
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

uint64_t shape_element_count(const std::vector<int64_t>& shape, uint64_t offset, bool positive) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || (positive && d == 0))
      fail(errc::bad_value, offset,
           "invalid dimension " + std::to_string(d) + " in shape " + shape_string(shape));
    n = checked_mul(n, static_cast<uint64_t>(d), "element count", offset);
  }
  if (n > (uint64_t{1} << 62))
    fail(errc::overflow, offset, "element count of " + shape_string(shape) + " too large");
  return n;
}

}  // namespace gb
