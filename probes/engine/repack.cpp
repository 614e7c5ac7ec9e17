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
  static const bool env_all = [] {
    const char* e = std::getenv("GB_REPACK");
    return e && std::strcmp(e, "all") == 0;
  }();
  return w.interleave == 0 && w.data && w.rows >= 16 && dtype_info(w.type).is_quantized &&
         rows_blocks_supported(w.type) && (all || env_all || w.type == dtype::q4_0);
}

uint64_t repack_bytes(const weight_view& w) {
  return static_cast<uint64_t>(w.rows) * w.row_bytes;
}

namespace {

// One 16-row group (row i at src + i * ld) as nb block columns of its 16 rows' blocks of bb bytes, to out.
// BB: the block size as a constant (the repacked types' sizes), so that each block's copy is a few inlined
// vector moves: a memcpy call per 18-210-byte block cost more than the bytes it moved. 0: bb at run time.
template <uint64_t BB>
void repack_group(const uint8_t* src, uint64_t ld, uint64_t nb, uint64_t bb, uint8_t* out) {
  const uint64_t n = BB ? BB : bb;
  for (uint64_t b = 0; b < nb; ++b, src += n)
    for (uint64_t i = 0; i < 16; ++i, out += n) std::memcpy(out, src + i * ld, n);
}

using repack_group_fn = void (*)(const uint8_t*, uint64_t, uint64_t, uint64_t, uint8_t*);

template <uint64_t... S>
repack_group_fn repack_group_for(uint64_t bb) {
  repack_group_fn f = repack_group<0>;
  ((f = bb == S ? repack_group<S> : f), ...);
  return f;
}

}  // namespace

weight_view repack_interleave(const weight_view& w, uint8_t* dst, int threads) {
  constexpr int64_t G = 16;
  const uint64_t bb = dtype_info(w.type).type_size, nb = w.row_bytes / bb, group = G * w.row_bytes;
  const int64_t groups = w.rows / G;
  // the block sizes of q4_0, q4_1, q5_0, q5_1, q8_0, q2_k, q3_k, q4_k, q5_k, q6_k
  const repack_group_fn copy = repack_group_for<18, 20, 22, 24, 34, 84, 110, 144, 176, 210>(bb);
#pragma omp parallel for num_threads(threads < 1 ? 1 : threads) schedule(static)
  for (int64_t g = 0; g < groups; ++g)  // (blocks, 16 rows, bb) per group
    copy(w.row(G * g), w.row_bytes, nb, bb, dst + static_cast<uint64_t>(g) * group);
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
