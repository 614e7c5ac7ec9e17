#include "probes/engine/repack.h"

#include <cstdlib>
#include <cstring>

#include "formats/quant.h"
#include "formats/quant_cols.h"
#include "probes/engine/kernels_blocks.h"

namespace gb::engine {

const uint8_t* weight_view::row_in(int64_t r, uint8_t* scratch) const {
  if (plain(r)) return row(r);
  const uint64_t bb = dtype_info(type).type_size;
  const int i = static_cast<int>(r % interleave);
  for (uint64_t o = 0, b = 0; o < row_bytes; o += bb, ++b)
    group_block_unpack(type, group_block(r, static_cast<int64_t>(b)), i, scratch + o);
  return scratch;
}

bool repack_enabled() {
  const char* e = std::getenv("GB_REPACK");
  return !(e && std::strcmp(e, "0") == 0);
}

bool repack_wanted(const weight_view& w, bool all) {
  static const bool env_all = [] {
    const char* e = std::getenv("GB_REPACK");
    return e && std::strcmp(e, "all") == 0;
  }();
  return w.interleave == 0 && w.data && w.rows >= 16 && dtype_info(w.type).is_quantized &&
         rows_blocks_supported(w.type) && (all || env_all || w.type == dtype::q4_0 || w.type == dtype::q8_0);
}

uint64_t repack_bytes(const weight_view& w) {
  return static_cast<uint64_t>(w.rows) * w.row_bytes;
}

namespace {

// One 16-row group (row i at src[i]) as nb packed group-blocks (formats/quant_cols.h), to out.
void repack_group(dtype t, const uint8_t* const* src, uint64_t nb, uint64_t bb, uint8_t* out) {
  for (uint64_t b = 0; b < nb; ++b, out += 16 * bb) group_block_pack(t, src, static_cast<int64_t>(b), out);
}

}  // namespace

weight_view repack_interleave(const weight_view& w, uint8_t* dst, int threads) {
  constexpr int64_t G = 16;
  const uint64_t bb = dtype_info(w.type).type_size, nb = w.row_bytes / bb, group = G * w.row_bytes;
  const int64_t groups = w.rows / G;
#pragma omp parallel for num_threads(threads < 1 ? 1 : threads) schedule(static)
  for (int64_t g = 0; g < groups; ++g) {  // (blocks, 16 bb) per group
    const uint8_t* src[G];
    for (int64_t i = 0; i < G; ++i) src[i] = w.row(G * g + i);
    repack_group(w.type, src, nb, bb, dst + static_cast<uint64_t>(g) * group);
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
  const int64_t bs = tr.block_size;
  const int i = static_cast<int>(r % w.interleave);
  uint8_t block[512];  // one ggml block (the largest, q8_k, is 292 bytes)
  static_assert(sizeof(block) >= 292);
  for (int64_t k = 0, b = 0; k < w.cols; k += bs, ++b) {
    group_block_unpack(w.type, w.group_block(r, b), i, block);
    dequantize_row(w.type, block, dst + k, bs);
  }
}

}  // namespace gb::engine
