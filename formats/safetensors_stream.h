// formats/safetensors_stream.h: safetensors written as their tensors arrive (activation exports, traces):
// data goes to a temporary file beside the target and finish() writes the header, then the data (safetensors
// needs the header first), so no more than one tensor is ever held in memory. The header is the one
// safetensors_write (formats/writers.h) writes: the same bytes for the same tensors.
//
//   auto s = gb::safetensors_stream::open("trace.safetensors", {{"format", "pt"}});
//   if (!s) return s.err();
//   s.value()->put("blk.0.resid.post", gb::dtype::f32, {5, 64}, data);   // (T, D) row-major
//   auto bytes = s.value()->finish();                                     // result<uint64_t>
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/dtype.h"
#include "formats/error.h"

namespace gb {

struct safetensors_entry {
  std::string name;
  dtype type = dtype::f32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // data_offsets
};
// The 8-byte header length and the JSON header (__metadata__ first, then the entries in order), padded with
// spaces so that the data starts 8-aligned, as the reference writer does. Throws gb::failure on a repeated
// name, a tensor named __metadata__ or a dtype safetensors has no name for.
std::string safetensors_header(const std::vector<safetensors_entry>& entries,
                               const std::vector<std::pair<std::string, std::string>>& metadata);

class safetensors_stream {
 public:
  // errc::io when the temporary file (path + ".data.tmp") cannot be created.
  static result<std::unique_ptr<safetensors_stream>> open(
      const std::string& path, std::vector<std::pair<std::string, std::string>> metadata = {});
  ~safetensors_stream();
  safetensors_stream(const safetensors_stream&) = delete;
  safetensors_stream& operator=(const safetensors_stream&) = delete;
  // Appends one tensor of `type` and `shape` (its bytes: elements x dtype size). Throws gb::failure:
  // errc::io on write errors, errc::bad_value on a repeated name or after finish().
  void put(std::string_view name, dtype type, const std::vector<int64_t>& shape, const void* data);
  // Header + data into the target; the temporary file goes. Returns the bytes written.
  result<uint64_t> finish();
  const std::string& path() const { return path_; }

 private:
  safetensors_stream(std::string path, std::FILE* tmp, std::vector<std::pair<std::string, std::string>> md);
  std::string path_, tmp_path_;
  std::FILE* tmp_;
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::set<std::string> seen_;
  std::vector<safetensors_entry> entries_;
  uint64_t offset_ = 0;
};

}  // namespace gb
