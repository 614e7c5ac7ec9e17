// formats/tensor.h: the non-owning tensor view. Points into a mapped file (or, for a tensor that
// model-parallel shards hold in slices, into several: a split view); never owns memory.
//
// Shapes are row-major, outermost first (numpy/PyTorch order). GGUF's ne[] (innermost first) is
// reversed on load, so a GGUF matrix with ne = {in, out} has shape {out, in}.
//
//   for (const gb::tensor_view& t : archive.tensors)
//     std::printf("%s %s %s\n", t.name.c_str(), gb::dtype_name(t.type), gb::shape_string(t.shape).c_str());
//   const uint8_t* row = gb::tensor_row(t, r, row_bytes, scratch.data());  // split or not
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "formats/dtype.h"

namespace gb {

constexpr uint32_t k_no_file = UINT32_MAX;

class mapped_file;

// One slice of a split view: a contiguous row-major block of the whole tensor, `extent` long along the
// view's split_dim, in one mapped file (kept alive by the archive's files).
struct tensor_piece {
  const uint8_t* data = nullptr;
  uint64_t nbytes = 0;       // extent x cols (dim 0) or rows x extent (dim 1) elements, in the dtype
  uint64_t row_bytes = 0;    // bytes of one of its rows
  uint64_t file_offset = 0;  // of data in its file
  const mapped_file* file = nullptr;
  int64_t extent = 0;
};

struct tensor_view {
  std::string name;  // name as stored in the file
  dtype type = dtype::unknown;
  std::vector<int64_t> shape;     // row-major, outermost first; {} is a scalar
  std::vector<int64_t> strides;   // element strides (plain types only); empty = contiguous row-major
  const uint8_t* data = nullptr;  // first byte (storage offset applied); nullptr when not available
  uint64_t nbytes = 0;            // bytes the tensor spans in the file
  uint64_t file_offset = 0;       // absolute offset of data in its file
  uint32_t file_index = 0;        // index into archive::files; k_no_file: in archive::buffers, or split
  // A split view (model-parallel shards, formats/meta_folder.cpp): a contiguous 2-D tensor whose bytes are
  // `pieces` along split_dim (0: blocks of rows, 1: blocks of columns), read in place, never gathered into
  // one buffer; data is null. tensor_row / tensor_read below read split and plain views alike.
  int split_dim = -1;
  std::vector<tensor_piece> pieces;

  uint64_t element_count() const;  // product of shape (checked at load time, so no overflow here)
  bool contiguous() const { return strides.empty(); }
  bool split() const { return !pieces.empty(); }
  bool available() const { return data != nullptr || split(); }
};

// Row r (rows of row_bytes bytes: the last dimension) of a contiguous view whose layout the caller has
// validated: a pointer into the mapped bytes, or, for a view split along dim 1, the row gathered into
// `scratch` (row_bytes). Bit-for-bit the row an unsplit copy of the tensor would hold.
const uint8_t* tensor_row(const tensor_view& v, uint64_t r, uint64_t row_bytes, uint8_t* scratch);
// Copies bytes [at, at + n) of a contiguous view's row-major bytes into dst (within nbytes).
void tensor_read(const tensor_view& v, uint64_t at, uint64_t n, uint8_t* dst);
// Drops the mapped pages behind rows [r0, r1) of a split view's pieces (a streamed pass's release).
void tensor_release_rows(const tensor_view& v, uint64_t r0, uint64_t r1);

std::string shape_string(const std::vector<int64_t>& shape);  // "[512, 64]"

// Checked element count for a shape from a file: every dim >= 0 (or > 0 with `positive`), product fits.
uint64_t shape_element_count(const std::vector<int64_t>& shape, uint64_t offset, bool positive = false);

}  // namespace gb
