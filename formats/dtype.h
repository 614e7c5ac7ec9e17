// formats/dtype.h: one table of every element type glassbox knows, with its block geometry and the
// spellings used by GGUF (ggml type ids), safetensors, PyTorch storages and ONNX.
//
//   const gb::dtype_traits& t = gb::dtype_info(gb::dtype::q4_k);   // t.block_size 256, t.type_size 144
//   uint64_t bytes = gb::dtype_row_bytes(gb::dtype::q8_0, 4096);   // 4096/32*34, fails if not a multiple
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gb {

enum class dtype : uint8_t {
  f32,
  f16,
  bf16,
  f64,
  f8_e4m3,
  f8_e5m2,
  i8,
  i16,
  i32,
  i64,
  u8,
  u16,
  u32,
  u64,
  boolean,
  c64,
  c128,
  // ggml block types
  q4_0,
  q4_1,
  q5_0,
  q5_1,
  q8_0,
  q8_1,
  q2_k,
  q3_k,
  q4_k,
  q5_k,
  q6_k,
  q8_k,
  iq2_xxs,
  iq2_xs,
  iq3_xxs,
  iq1_s,
  iq4_nl,
  iq3_s,
  iq2_s,
  iq4_xs,
  iq1_m,
  tq1_0,
  tq2_0,
  mxfp4,
  string,  // ONNX string tensors (not numeric; no byte size)
  unknown,
  count_
};

struct dtype_traits {
  dtype type;
  const char* name;         // lower-case display name: "f32", "q4_k"
  uint32_t block_size;      // elements per block (1 for plain types)
  uint32_t type_size;       // bytes per block
  int ggml_id;              // GGUF/ggml type id, -1 if none
  const char* safetensors;  // safetensors dtype string or nullptr
  bool is_float;            // logically floating point (dequantises to f32)
  bool is_quantized;        // a ggml block type
  bool can_decode;          // glassbox dequantises it (inspect/stats/engine)
};

const dtype_traits& dtype_info(dtype t);
inline const char* dtype_name(dtype t) {
  return dtype_info(t).name;
}

std::optional<dtype> dtype_from_ggml(uint32_t id);
std::optional<dtype> dtype_from_safetensors(std::string_view s);
std::optional<dtype> dtype_from_name(std::string_view s);           // "f32", "q8_0", "Q8_0", "F16", "bf16"
std::optional<dtype> dtype_from_torch_storage(std::string_view s);  // "FloatStorage", "HalfStorage", ...
std::optional<dtype> dtype_from_onnx(int32_t onnx_type);            // TensorProto::DataType

// Bytes for n elements; fails (gb::failure, errc::bad_value) when n is not a multiple of the block size,
// errc::overflow on overflow. `offset` is used in the error.
uint64_t dtype_row_bytes(dtype t, uint64_t n, uint64_t offset = 0);

}  // namespace gb
