// formats/writers.h: writers for safetensors and GGUF (tests, benchmarks, `glassbox synth`, exports).
// Output is deterministic: the same input gives byte-identical files.
//
//   std::vector<gb::tensor_data> ts = {{"tok_embd.weight", gb::dtype::f32, {512, 64}, bytes}};
//   gb::gguf_write("m.gguf", metadata, ts);
//   gb::safetensors_write("model.safetensors", ts, {{"format", "pt"}});
//   // Streaming, one tensor in memory at a time (sink.skip leaves a hole: sparse test files):
//   gb::gguf_write_stream("big.gguf", metadata, {{"w", gb::dtype::f16, {1 << 20, 4096}}},
//                         [&](size_t i, gb::tensor_sink& out) { out.write(bytes.data(), bytes.size()); });
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "formats/archive.h"
#include "formats/meta_make.h"

namespace gb {

struct tensor_data {
  std::string name;
  dtype type = dtype::f32;
  std::vector<int64_t> shape;  // row-major, outermost first (reversed into ggml ne[] for GGUF)
  std::vector<uint8_t> bytes;  // already encoded in `type`
};

// A tensor's header fields, for the streaming writers.
struct tensor_spec {
  std::string name;
  dtype type = dtype::f32;
  std::vector<int64_t> shape;  // row-major, outermost first
};

// Where a streaming writer's fill puts one tensor's bytes: write them in order, or skip runs of zeros
// (left as holes). The writer checks the total against the tensor's dtype and shape.
class tensor_sink {
 public:
  virtual ~tensor_sink() = default;
  virtual void write(const void* p, size_t n) = 0;
  virtual void skip(uint64_t n) = 0;
};
using tensor_fill = std::function<void(size_t index, tensor_sink& out)>;

// GGUF v3 (or v2; v1 with version = 1 uses 32-bit counts). metadata values keep their gguf_type when set
// (>= 0); otherwise: integer -> INT32 when it fits else INT64, uinteger -> UINT32/UINT64, floating ->
// FLOAT32, boolean -> BOOL, string -> STRING, array -> ARRAY of the first element's type.
// Throws gb::failure on io errors or invalid input (e.g. bytes not matching shape x dtype).
void gguf_write(const std::string& path, const std::vector<std::pair<std::string, meta_value>>& metadata,
                const std::vector<tensor_data>& tensors, uint32_t alignment = 32, uint32_t version = 3);

// The same file, written tensor by tensor: the header from `tensors`, then fill(i, sink) for each tensor
// in order (peak memory is whatever fill holds, never the model).
void gguf_write_stream(const std::string& path,
                       const std::vector<std::pair<std::string, meta_value>>& metadata,
                       const std::vector<tensor_spec>& tensors, const tensor_fill& fill,
                       uint32_t alignment = 32, uint32_t version = 3);

// safetensors with an optional __metadata__ string map; tensors laid out in the given order.
void safetensors_write(const std::string& path, const std::vector<tensor_data>& tensors,
                       const std::vector<std::pair<std::string, std::string>>& metadata = {});
void safetensors_write_stream(const std::string& path, const std::vector<tensor_spec>& tensors,
                              const tensor_fill& fill,
                              const std::vector<std::pair<std::string, std::string>>& metadata = {});

// The same file written tensor by tensor, holding one tensor's bytes at a time: `heads` give the names,
// dtypes and shapes (their bytes are not looked at); produce(i, bytes) fills tensor i's encoded bytes
// (exactly shape x dtype, else errc::mismatch naming it). Byte-identical to safetensors_write.
//   gb::safetensors_write_streamed("out.safetensors", heads, {{"format", "pt"}},
//                                  [&](size_t i, std::vector<uint8_t>& b) { b = encode(i); });
void safetensors_write_streamed(const std::string& path, const std::vector<tensor_data>& heads,
                                const std::vector<std::pair<std::string, std::string>>& metadata,
                                const std::function<void(size_t, std::vector<uint8_t>&)>& produce);

// Helpers to build metadata values with a GGUF type tag (meta_str, meta_bool, meta_int ... without one are in
// formats/meta_make.h: the writer infers string and bool tags from the kind).
meta_value meta_u32(uint32_t v);
meta_value meta_i32(int32_t v);
meta_value meta_f32(float v);
meta_value meta_str_array(const std::vector<std::string>& v);
meta_value meta_f32_array(const std::vector<float>& v);
meta_value meta_i32_array(const std::vector<int32_t>& v);

}  // namespace gb
