// formats/tensor.h: the non-owning tensor view. Points into a mapped file; never owns memory.
//
// Shapes are row-major, outermost first (numpy/PyTorch order). GGUF's ne[] (innermost first) is
// reversed on load, so a GGUF matrix with ne = {in, out} has shape {out, in}.
//
//   for (const gb::tensor_view& t : archive.tensors)
//     std::printf("%s %s %s\n", t.name.c_str(), gb::dtype_name(t.type), gb::shape_string(t.shape).c_str());
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "formats/dtype.h"

namespace gb {

constexpr uint32_t k_no_file = UINT32_MAX;

struct tensor_view {
  std::string name;  // name as stored in the file
  dtype type = dtype::unknown;
  std::vector<int64_t> shape;     // row-major, outermost first; {} is a scalar
  std::vector<int64_t> strides;   // element strides (plain types only); empty = contiguous row-major
  const uint8_t* data = nullptr;  // first byte (storage offset applied); nullptr when not available
  uint64_t nbytes = 0;            // bytes the tensor spans in the file
  uint64_t file_offset = 0;       // absolute offset of data in its file
  uint32_t file_index = 0;        // index into archive::files; k_no_file: in archive::buffers

  uint64_t element_count() const;  // product of shape (checked at load time, so no overflow here)
  bool contiguous() const { return strides.empty(); }
  bool available() const { return data != nullptr; }
};

std::string shape_string(const std::vector<int64_t>& shape);  // "[512, 64]"

// Checked element count for a shape from a file: every dim >= 0 (or > 0 with `positive`), product fits.
uint64_t shape_element_count(const std::vector<int64_t>& shape, uint64_t offset, bool positive = false);

}  // namespace gb
