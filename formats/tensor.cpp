#include "formats/tensor.h"

#include "formats/reader.h"

namespace gb {

uint64_t tensor_view::element_count() const {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
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
