// formats/gguf_value_type.h: the GGUF metadata value type ids (ggml's enum gguf_type), one list for the
// GGUF loader (formats/gguf.cpp) and writer (formats/writers.cpp).
//
//   if (type == gb::T_ARRAY) ...;                       // a value read from a GGUF header
//   put_u32(gb::T_STRING);                              // a value written to one
#pragma once

#include <cstdint>

namespace gb {

enum gguf_value_type : uint32_t {
  T_UINT8 = 0,
  T_INT8,
  T_UINT16,
  T_INT16,
  T_UINT32,
  T_INT32,
  T_FLOAT32,
  T_BOOL,
  T_STRING,
  T_ARRAY,
  T_UINT64,
  T_INT64,
  T_FLOAT64,
  T_COUNT
};

}  // namespace gb
