#include "probes/engine/repack.h"

#include <cstdlib>
#include <cstring>

#include "formats/quant.h"
#include "probes/engine/kernels_blocks.h"

namespace gb::engine {

const uint8_t* weight_view::row_in(int64_t r, uint8_t* scratch) const {
  if (plain(r)) return row(r);
  const uint64_t bb = dtype_info(type).type_size, step = bb * static_cast<uint64_t>(interleave);
  const uint8_t* src = lane(r);
  for (uint64_t o = 0; o < row_bytes; o += bb, src += step) std::memcpy(scratch + o, src, bb);
  return scratch;
}

bool repack_enabled() {
  const char* e = std::getenv("GB_REPACK");
  return !(e && std::strcmp(e, "0") == 0);
}

bool repack_wanted(const weight_view& w, bool all) {
  return w.interleave == 0 && w.data && w.rows >= 16 && dtype_info(w.type).is_quantized &&
         rows_blocks_supported(w.type) && (all || w.type == dtype::q4_0);
}

uint64_t repack_bytes(const weight_view& w) {
  return static_cast<uint64_t>(w.rows) * w.row_bytes;
}

weight_view repack_interleave(const weight_view& w, uint8_t* dst, int threads) {
  constexpr int64_t G = 16;
  const uint64_t bb = dtype_info(w.type).type_size, nb = w.row_bytes / bb, group = G * w.row_bytes;
  const int64_t groups = w.rows / G;
#pragma omp parallel for num_threads(threads < 1 ? 1 : threads) schedule(static)
  for (int64_t g = 0; g < groups; ++g) {
    const uint8_t* src = w.row(G * g);
    uint8_t* out = dst + static_cast<uint64_t>(g) * group;  // (blocks, 16 rows, bb)
    for (uint64_t b = 0; b < nb; ++b)
      for (int64_t i = 0; i < G; ++i, out += bb)
        std::memcpy(out, src + static_cast<uint64_t>(i) * w.row_bytes + b * bb, bb);
  }
  const uint64_t head = static_cast<uint64_t>(groups) * group;  // the tail rows stay plain
  std::memcpy(dst + head, w.data + head, repack_bytes(w) - head);
  weight_view v = w;
  v.data = dst;
  v.interleave = G;
  return v;
}

void dequantize_lane(const weight_view& w, int64_t r, float* dst) {
  const dtype_traits& tr = dtype_info(w.type);
  const int64_t bs = tr.block_size, step = w.block_step(r) * static_cast<int64_t>(tr.type_size);
  const uint8_t* src = w.lane(r);
  for (int64_t k = 0; k < w.cols; k += bs, src += step) dequantize_row(w.type, src, dst + k, bs);
}

}  // namespace gb::engine
