// formats/quant.h: element decoding for every decodable dtype, bit-exact with ggml's dequantize_row_*,
// and encoders (quantisers) used by the writers and `glassbox synth`.
//
//   std::vector<float> row(n);
//   gb::dequantize_row(t.type, t.data, row.data(), n);           // n a multiple of the block size
//   std::vector<uint8_t> q = gb::quantize_row(gb::dtype::q8_0, x.data(), n);
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "formats/dtype.h"

namespace gb {

float fp16_to_f32(uint16_t h);
uint16_t f32_to_fp16(float f);  // round to nearest even, as ggml (F16C semantics)
float bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);  // round to nearest even, NaN kept quiet (as ggml_fp32_to_bf16)

// Decodes n elements starting at src (for block types n must be a multiple of the block size and src
// must point at a block boundary). Integer and bool types decode to their value. Throws gb::failure
// (errc::unsupported) for a dtype that cannot be decoded (IQ types, strings, complex).
void dequantize_row(dtype t, const uint8_t* src, float* dst, int64_t n);

// Encodes n floats as dtype t (f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q2_k, q3_k, q4_k, q5_k, q6_k,
// q8_k). The encoding follows ggml's reference quantisers (quantize_row_*_ref) so files are valid for
// llama.cpp. Throws gb::failure (unsupported) for other types.
// Parity: q4_0, q4_1, q5_0, q5_1, q8_0, q8_k, f16, bf16 follow ggml's reference encoders step for step (no
// ggml binary here to compare bytes with; f16 is checked against F16C);
// q2_k..q6_k use a one-pass min/max encoder (valid blocks, error within one step, not byte-identical).
std::vector<uint8_t> quantize_row(dtype t, const float* src, int64_t n);
bool can_quantize(dtype t);

// Scale and min of sub-block j < 8 of a q4_k/q5_k block from its 12 packed scale bytes q (ggml's
// get_scale_min_k4).
void scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m);
// All 8 at once (d[j], m[j] as scale_min_k4(j, ...) gives them), on 32-bit words: a loop's hot path.
inline void scales_mins_k4(const uint8_t* q, uint8_t* d, uint8_t* m) {
  uint32_t w[3];  // (3) the 12 packed bytes
  std::memcpy(w, q, 12);
  const uint32_t d_hi = (w[2] & 0x0f0f0f0fu) | ((w[0] >> 2) & 0x30303030u);
  const uint32_t m_hi = ((w[2] >> 4) & 0x0f0f0f0fu) | ((w[1] >> 2) & 0x30303030u);
  const uint32_t d_lo = w[0] & 0x3f3f3f3fu, m_lo = w[1] & 0x3f3f3f3fu;
  std::memcpy(d, &d_lo, 4), std::memcpy(d + 4, &d_hi, 4);
  std::memcpy(m, &m_lo, 4), std::memcpy(m + 4, &m_hi, 4);
}
// The 16 6-bit sub-block scales (before ggml's - 32) of the q3_k block at `block` (its 12 packed bytes at
// 96).
void q3_k_scales(const uint8_t* block, int8_t* scales);

}  // namespace gb
