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
  const int i = static_cast<int>(r % 16);  // its lane in its group
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
  return w.interleave == 0 && w.data && w.rows >= rows_blocks_panel(w.type) &&
         dtype_info(w.type).is_quantized && rows_blocks_supported(w.type) &&
         (all || env_all || block_columns16_packed_in_place(w.type));
}

uint64_t repack_bytes(const weight_view& w) {
  return static_cast<uint64_t>(w.rows) * w.row_bytes;
}

namespace {

// One panel of P rows (row i at src + i * ld) as nb block columns of P / 16 packed group-blocks each
// (formats/quant_cols.h), to out.
void repack_panel(dtype t, const uint8_t* src, uint64_t ld, int64_t P, uint64_t nb, uint64_t bb,
                  uint8_t* out) {
  for (int64_t g = 0; g < P / 16; ++g) {
    const uint8_t* rows[16];
    for (int64_t i = 0; i < 16; ++i) rows[i] = src + static_cast<uint64_t>(16 * g + i) * ld;
    uint8_t* o = out + static_cast<uint64_t>(g) * 16 * bb;
    for (uint64_t b = 0; b < nb; ++b, o += static_cast<uint64_t>(P) * bb)
      group_block_pack(t, rows, static_cast<int64_t>(b), o);
  }
}

}  // namespace

weight_view repack_interleave(const weight_view& w, uint8_t* dst, int threads) {
  const int64_t P = rows_blocks_panel(w.type);
  const uint64_t bb = dtype_info(w.type).type_size, nb = w.row_bytes / bb, panel = P * w.row_bytes;
  const int64_t panels = w.rows / P;
#pragma omp parallel for num_threads(threads < 1 ? 1 : threads) schedule(static)
  for (int64_t p = 0; p < panels; ++p)  // (blocks, P / 16 groups, 16 bb) per panel
    repack_panel(w.type, w.row(P * p), w.row_bytes, P, nb, bb, dst + static_cast<uint64_t>(p) * panel);
  const uint64_t head = static_cast<uint64_t>(panels) * panel;  // the tail rows stay plain
  std::memcpy(dst + head, w.data + head, repack_bytes(w) - head);
  return repack_view(w, dst);
}

weight_view repack_view(const weight_view& w, const uint8_t* dst) {
  weight_view v = w;
  v.data = dst;
  v.interleave = static_cast<int>(rows_blocks_panel(w.type));
  return v;
}

void dequantize_lane(const weight_view& w, int64_t r, float* dst) {
  const dtype_traits& tr = dtype_info(w.type);
  const int64_t bs = tr.block_size;
  const int i = static_cast<int>(r % 16);  // its lane in its group
  uint8_t block[512];                      // one ggml block (the largest, q8_k, is 292 bytes)
  static_assert(sizeof(block) >= 292);
  for (int64_t k = 0, b = 0; k < w.cols; k += bs, ++b) {
    group_block_unpack(w.type, w.group_block(r, b), i, block);
    dequantize_row(w.type, block, dst + k, bs);
  }
}

}  // namespace gb::engine
