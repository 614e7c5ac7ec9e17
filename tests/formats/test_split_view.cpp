// Split views (tensor_view::pieces: a tensor held in slices by model-parallel shards) read exactly as the
// unsplit tensor: tensor_row and tensor_read against the same bytes in one block, for slices along dim 0
// and dim 1, plain and block-quantised dtypes.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "formats/dtype.h"
#include "formats/tensor.h"

using namespace gb;

namespace {

// `whole` (rows x cols of dtype t, row-major) cut into slices of the given extents along `dim`: the
// slices' bytes live in `store` (one block per slice, as in separate shard files).
tensor_view split_of(const std::vector<uint8_t>& whole, dtype t, int64_t rows, int64_t cols, int dim,
                     const std::vector<int64_t>& extents, std::vector<std::vector<uint8_t>>& store) {
  const uint64_t rb = dtype_row_bytes(t, static_cast<uint64_t>(cols));
  tensor_view v;
  v.name = "w";
  v.type = t;
  v.shape = {rows, cols};
  v.split_dim = dim;
  v.nbytes = whole.size();
  int64_t at = 0;  // first row (dim 0) or column (dim 1) of the slice
  store.clear();
  store.reserve(extents.size());
  for (int64_t e : extents) {
    tensor_piece p;
    p.extent = e;
    p.row_bytes = dim == 0 ? rb : dtype_row_bytes(t, static_cast<uint64_t>(e));
    const uint64_t col0 = dim == 0 ? 0 : dtype_row_bytes(t, static_cast<uint64_t>(at));
    std::vector<uint8_t> b;
    for (int64_t r = dim == 0 ? at : 0; r < (dim == 0 ? at + e : rows); ++r) {
      const uint8_t* src = whole.data() + static_cast<uint64_t>(r) * rb + col0;
      b.insert(b.end(), src, src + p.row_bytes);
    }
    p.nbytes = b.size();
    store.push_back(std::move(b));
    p.data = store.back().data();
    v.pieces.push_back(p);
    at += e;
  }
  REQUIRE(at == (dim == 0 ? rows : cols));
  return v;
}

void check_reads(const std::vector<uint8_t>& whole, const tensor_view& v, int64_t rows, uint64_t rb) {
  REQUIRE(v.split());
  REQUIRE(v.available());
  CHECK(v.data == nullptr);
  std::vector<uint8_t> scratch(rb);
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* row = tensor_row(v, static_cast<uint64_t>(r), rb, scratch.data());
    REQUIRE(row != nullptr);
    CHECK(std::memcmp(row, whole.data() + static_cast<uint64_t>(r) * rb, rb) == 0);
  }
  // every window [at, at + n) of a few lengths, crossing slice and row boundaries
  for (uint64_t n : {uint64_t{1}, uint64_t{7}, rb, rb + 5, static_cast<uint64_t>(whole.size())})
    for (uint64_t at = 0; at + n <= whole.size(); at += (n == whole.size() ? 1 : 3)) {
      std::vector<uint8_t> got(n, 0xAB);
      tensor_read(v, at, n, got.data());
      CHECK_MESSAGE(std::memcmp(got.data(), whole.data() + at, n) == 0, "at " << at << " n " << n);
    }
}

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>((i * 131 + 7) % 251);
  return b;
}

}  // namespace

TEST_CASE("split view along dim 0 and dim 1 reads the same bytes as the whole tensor (f32, f16)") {
  for (dtype t : {dtype::f32, dtype::f16}) {
    CAPTURE(dtype_name(t));
    const int64_t rows = 6, cols = 10;
    const uint64_t rb = dtype_row_bytes(t, cols);
    const std::vector<uint8_t> whole = pattern(static_cast<size_t>(rb * rows));
    std::vector<std::vector<uint8_t>> store;
    check_reads(whole, split_of(whole, t, rows, cols, 0, {1, 3, 2}, store), rows, rb);
    check_reads(whole, split_of(whole, t, rows, cols, 1, {3, 5, 2}, store), rows, rb);
    check_reads(whole, split_of(whole, t, rows, cols, 1, {10}, store), rows, rb);  // one slice
  }
}

TEST_CASE("split view of a block-quantised tensor: column slices of whole blocks") {
  const int64_t rows = 3, cols = 96;  // q8_0: 3 blocks of 32 per row
  const uint64_t rb = dtype_row_bytes(dtype::q8_0, cols);
  const std::vector<uint8_t> whole = pattern(static_cast<size_t>(rb * rows));
  std::vector<std::vector<uint8_t>> store;
  check_reads(whole, split_of(whole, dtype::q8_0, rows, cols, 1, {32, 64}, store), rows, rb);
  check_reads(whole, split_of(whole, dtype::q8_0, rows, cols, 0, {2, 1}, store), rows, rb);
}
