#include "formats/dtype.h"

#include <array>
#include <cctype>
#include <string>

#include "formats/reader.h"

namespace gb {
namespace {

// type, name, block, bytes/block, ggml id, safetensors name, float, quantized, decodable
constexpr dtype_traits kTable[] = {
    {dtype::f32, "f32", 1, 4, 0, "F32", true, false, true},
    {dtype::f16, "f16", 1, 2, 1, "F16", true, false, true},
    {dtype::bf16, "bf16", 1, 2, 30, "BF16", true, false, true},
    {dtype::f64, "f64", 1, 8, 28, "F64", true, false, true},
    {dtype::f8_e4m3, "f8_e4m3", 1, 1, -1, "F8_E4M3", true, false, true},
    {dtype::f8_e5m2, "f8_e5m2", 1, 1, -1, "F8_E5M2", true, false, true},
    {dtype::i8, "i8", 1, 1, 24, "I8", false, false, true},
    {dtype::i16, "i16", 1, 2, 25, "I16", false, false, true},
    {dtype::i32, "i32", 1, 4, 26, "I32", false, false, true},
    {dtype::i64, "i64", 1, 8, 27, "I64", false, false, true},
    {dtype::u8, "u8", 1, 1, -1, "U8", false, false, true},
    {dtype::u16, "u16", 1, 2, -1, "U16", false, false, true},
    {dtype::u32, "u32", 1, 4, -1, "U32", false, false, true},
    {dtype::u64, "u64", 1, 8, -1, "U64", false, false, true},
    {dtype::boolean, "bool", 1, 1, -1, "BOOL", false, false, true},
    {dtype::c64, "c64", 1, 8, -1, nullptr, false, false, false},
    {dtype::c128, "c128", 1, 16, -1, nullptr, false, false, false},
    {dtype::q4_0, "q4_0", 32, 18, 2, nullptr, true, true, true},
    {dtype::q4_1, "q4_1", 32, 20, 3, nullptr, true, true, true},
    {dtype::q5_0, "q5_0", 32, 22, 6, nullptr, true, true, true},
    {dtype::q5_1, "q5_1", 32, 24, 7, nullptr, true, true, true},
    {dtype::q8_0, "q8_0", 32, 34, 8, nullptr, true, true, true},
    {dtype::q8_1, "q8_1", 32, 36, 9, nullptr, true, true, true},
    {dtype::q2_k, "q2_k", 256, 84, 10, nullptr, true, true, true},
    {dtype::q3_k, "q3_k", 256, 110, 11, nullptr, true, true, true},
    {dtype::q4_k, "q4_k", 256, 144, 12, nullptr, true, true, true},
    {dtype::q5_k, "q5_k", 256, 176, 13, nullptr, true, true, true},
    {dtype::q6_k, "q6_k", 256, 210, 14, nullptr, true, true, true},
    {dtype::q8_k, "q8_k", 256, 292, 15, nullptr, true, true, true},
    {dtype::iq2_xxs, "iq2_xxs", 256, 66, 16, nullptr, true, true, false},
    {dtype::iq2_xs, "iq2_xs", 256, 74, 17, nullptr, true, true, false},
    {dtype::iq3_xxs, "iq3_xxs", 256, 98, 18, nullptr, true, true, false},
    {dtype::iq1_s, "iq1_s", 256, 50, 19, nullptr, true, true, false},
    {dtype::iq4_nl, "iq4_nl", 32, 18, 20, nullptr, true, true, false},
    {dtype::iq3_s, "iq3_s", 256, 110, 21, nullptr, true, true, false},
    {dtype::iq2_s, "iq2_s", 256, 82, 22, nullptr, true, true, false},
    {dtype::iq4_xs, "iq4_xs", 256, 136, 23, nullptr, true, true, false},
    {dtype::iq1_m, "iq1_m", 256, 56, 29, nullptr, true, true, false},
    {dtype::tq1_0, "tq1_0", 256, 54, 34, nullptr, true, true, false},
    {dtype::tq2_0, "tq2_0", 256, 66, 35, nullptr, true, true, false},
    {dtype::mxfp4, "mxfp4", 32, 17, 39, nullptr, true, true, false},
    {dtype::string, "string", 1, 0, -1, nullptr, false, false, false},
    {dtype::unknown, "unknown", 1, 0, -1, nullptr, false, false, false},
};
static_assert(std::size(kTable) == static_cast<size_t>(dtype::count_), "dtype table covers every dtype");

constexpr bool table_in_order() {
  for (size_t i = 0; i < std::size(kTable); ++i)
    if (static_cast<size_t>(kTable[i].type) != i) return false;
  return true;
}
static_assert(table_in_order(), "dtype table is indexed by enum value");

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

}  // namespace

const dtype_traits& dtype_info(dtype t) {
  size_t i = static_cast<size_t>(t);
  if (i >= std::size(kTable)) i = static_cast<size_t>(dtype::unknown);
  return kTable[i];
}

std::optional<dtype> dtype_from_ggml(uint32_t id) {
  for (const auto& t : kTable)
    if (t.ggml_id >= 0 && static_cast<uint32_t>(t.ggml_id) == id) return t.type;
  return std::nullopt;
}

std::optional<dtype> dtype_from_safetensors(std::string_view s) {
  for (const auto& t : kTable)
    if (t.safetensors && s == t.safetensors) return t.type;
  return std::nullopt;
}

std::optional<dtype> dtype_from_name(std::string_view s) {
  std::string l = lower(s);
  if (l == "float32" || l == "float") return dtype::f32;
  if (l == "float16" || l == "half") return dtype::f16;
  if (l == "bfloat16") return dtype::bf16;
  for (const auto& t : kTable)
    if (l == t.name && t.type != dtype::unknown) return t.type;
  return std::nullopt;
}

std::optional<dtype> dtype_from_torch_storage(std::string_view s) {
  struct entry {
    const char* name;
    dtype t;
  };
  static constexpr entry k[] = {{"FloatStorage", dtype::f32},
                                {"HalfStorage", dtype::f16},
                                {"BFloat16Storage", dtype::bf16},
                                {"DoubleStorage", dtype::f64},
                                {"LongStorage", dtype::i64},
                                {"IntStorage", dtype::i32},
                                {"ShortStorage", dtype::i16},
                                {"CharStorage", dtype::i8},
                                {"ByteStorage", dtype::u8},
                                {"BoolStorage", dtype::boolean},
                                {"ComplexFloatStorage", dtype::c64},
                                {"ComplexDoubleStorage", dtype::c128},
                                {"Float8_e4m3fnStorage", dtype::f8_e4m3},
                                {"Float8_e5m2Storage", dtype::f8_e5m2},
                                {"UInt16Storage", dtype::u16},
                                {"UInt32Storage", dtype::u32},
                                {"UInt64Storage", dtype::u64}};
  for (const auto& e : k)
    if (s == e.name) return e.t;
  return std::nullopt;
}

std::optional<dtype> dtype_from_onnx(int32_t v) {
  switch (v) {
    case 1:
      return dtype::f32;
    case 2:
      return dtype::u8;
    case 3:
      return dtype::i8;
    case 4:
      return dtype::u16;
    case 5:
      return dtype::i16;
    case 6:
      return dtype::i32;
    case 7:
      return dtype::i64;
    case 8:
      return dtype::string;
    case 9:
      return dtype::boolean;
    case 10:
      return dtype::f16;
    case 11:
      return dtype::f64;
    case 12:
      return dtype::u32;
    case 13:
      return dtype::u64;
    case 14:
      return dtype::c64;
    case 15:
      return dtype::c128;
    case 16:
      return dtype::bf16;
    case 17:
      return dtype::f8_e4m3;
    case 19:
      return dtype::f8_e5m2;
    default:
      return std::nullopt;
  }
}

uint64_t dtype_row_bytes(dtype t, uint64_t n, uint64_t offset) {
  const dtype_traits& tr = dtype_info(t);
  if (tr.type_size == 0)
    fail(errc::unsupported, offset, std::string("dtype ") + tr.name + " has no fixed byte size");
  if (n % tr.block_size != 0)
    fail(errc::bad_value, offset,
         std::to_string(n) + " elements is not a multiple of the " + tr.name + " block size " +
             std::to_string(tr.block_size));
  return checked_mul(n / tr.block_size, tr.type_size, "tensor byte size", offset);
}

}  // namespace gb
