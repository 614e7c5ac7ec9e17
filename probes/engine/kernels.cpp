#include "probes/engine/kernels.h"

// GCC 12 reports false maybe-uninitialized warnings inside Eigen's AVX-512 packet code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// ... and false "used uninitialized" ones for the shuffle intrinsics' undefined pass-through operand.
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#if defined(__F16C__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "formats/quant.h"
#include "formats/quant_cols.h"
#include "probes/engine/const_dispatch.h"
#include "probes/engine/kernels_blocks.h"
#include "probes/engine/repack.h"

namespace gb::engine {
namespace {

// ---- the packed GEMM behind matmul ----------------------------------------------------------------
// Every output is one chain of multiply-adds over k = 0..N-1 in order, y[t][r] = (((x0 w0) + x1 w1) + ...),
// started from 0 and carried through whole k (partial sums stored to y between k chunks and reloaded keep
// their exact value). So y[t][r] depends only on x row t and W row r: not on T, the tile, the thread split
// or the other rows; a sequence scores bit-identically alone or inside a batch, with 1 or many threads.
// W is packed per panel of panel_rows rows k-major (wp[k * panel_rows + j] = W[r0 + j][k], rows past M
// zero), decoded from its dtype on the way; a micro-kernel multiplies tile_tokens rows of x (broadcast)
// with a panel (4 AVX-512 vectors) into 24 accumulators.
constexpr int64_t panel_rows = matmul_panel_rows;
constexpr int64_t tile_tokens = 6;
// Columns per pass: a tile of x (6 x 512 floats, 12 KiB) stays in L1 while a panel chunk (128 KiB) streams
// from L2.
constexpr int64_t k_chunk = 512;
// Packed bytes per task for large T (two 64-row panels of a 768-wide matrix): a block stays in L2.
constexpr int64_t block_bytes = int64_t{1} << 19;
// Passes of at most this many tokens prefetch the next block's weights (matmul): T = 6..64 1.04-2.2x less
// CPU, T = 512 0.96-1.05x (bench/matmul_short.cpp, 1 thread).
constexpr int64_t prefetch_tokens = 64;

void f16_row(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
#endif
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
#endif
  for (; i < n; ++i) dst[i] = fp16_to_f32(src[i]);
}

void bf16_row(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t u = static_cast<uint32_t>(src[i]) << 16;
    std::memcpy(dst + i, &u, 4);
  }
}

huge_vector<float>& scratch(size_t n) {  // a thread's packed panels: huge_vector (kernels.h)
  static thread_local huge_vector<float> s;
  if (s.size() < n) s.resize(n);
  return s;
}

}  // namespace

void weight_rows_f32(const weight_view& w, int64_t r0, int64_t n, float* dst) {
  for (int64_t r = r0; r < r0 + n; ++r, dst += w.cols) {
    if (!w.plain(r)) {  // block-interleaved (repack.h)
      dequantize_lane(w, r, dst);
      continue;
    }
    const uint8_t* src = w.row(r);
    switch (w.type) {
      case dtype::f32:
        std::memcpy(dst, src, static_cast<size_t>(w.cols) * 4);
        break;
      case dtype::f16:
        f16_row(reinterpret_cast<const uint16_t*>(src), dst, w.cols);
        break;
      case dtype::bf16:
        bf16_row(reinterpret_cast<const uint16_t*>(src), dst, w.cols);
        break;
      default:
        dequantize_row(w.type, src, dst, w.cols);
        break;
    }
  }
}

void weight_rows_f32_ref(const weight_view& w, int64_t r0, int64_t n, float* dst) {
  std::vector<uint8_t> gathered(w.plain(r0) ? 0 : w.row_bytes);  // an interleaved row's blocks
  for (int64_t r = r0; r < r0 + n; ++r, dst += w.cols) {
    const uint8_t* src = w.row_in(r, gathered.data());
    if (w.type == dtype::f16 || w.type == dtype::bf16) {
      for (int64_t i = 0; i < w.cols; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = w.type == dtype::f16 ? fp16_to_f32(h) : bf16_to_f32(h);
      }
    } else {
      dequantize_row(w.type, src, dst, w.cols);
    }
  }
}

namespace {

#if defined(__AVX512F__)
// In-register transpose of 16 rows of 16 floats.
[[gnu::always_inline]] inline void transpose16(__m512* r) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int h = 0; h < 16; h += 8)
    for (int i = 0; i < 4; ++i) {
      t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + 4 + i], 0x88);
      t[h + 4 + i] = _mm512_shuffle_f32x4(r[h + i], r[h + 4 + i], 0xDD);
    }
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0x88);
    r[8 + i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0xDD);
  }
}
#endif

// Packs n <= 16 rows of src (f32, ld floats apart, N columns) into columns [j0, j0 + 16) of panel wp
// (N, panel_rows); rows past n are zero. The pn rows after the 16 are prefetched into L2 meanwhile.
void pack16(const float* src, int64_t ld, int64_t n, int64_t N, float* wp, int64_t j0, int64_t pn = 0) {
  int64_t k = 0;
#if defined(__AVX512F__)
  __m512 r[16];
  for (; k < N; k += 16) {
    const int64_t nk = std::min<int64_t>(16, N - k);
    const __mmask16 m = static_cast<__mmask16>((1u << nk) - 1);
    for (int64_t i = 0; i < pn; ++i)
      _mm_prefetch(reinterpret_cast<const char*>(src + (16 + i) * ld + k), _MM_HINT_T1);
    for (int64_t i = 0; i < 16; ++i)
      r[i] = i < n ? _mm512_maskz_loadu_ps(m, src + i * ld + k) : _mm512_setzero_ps();
    transpose16(r);
    for (int64_t i = 0; i < nk; ++i) _mm512_storeu_ps(wp + (k + i) * panel_rows + j0, r[i]);
  }
#else
  (void)pn;
  for (; k < N; ++k)
    for (int64_t i = 0; i < 16; ++i) wp[k * panel_rows + j0 + i] = i < n ? src[i * ld + k] : 0.0f;
#endif
}

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
// pack16 for n <= 16 f16 rows (ld bytes apart) converted on the way (f16 -> f32 is exact): no decoded copy.
void pack16_f16(const uint8_t* src, int64_t ld, int64_t n, int64_t N, float* wp, int64_t j0) {
  __m512 r[16];
  for (int64_t k = 0; k < N; k += 16) {
    const int64_t nk = std::min<int64_t>(16, N - k);
    const __mmask16 m = static_cast<__mmask16>((1u << nk) - 1);
    for (int64_t i = 0; i < 16; ++i)
      r[i] = i < n ? _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, src + i * ld + 2 * k)) : _mm512_setzero_ps();
    transpose16(r);
    for (int64_t i = 0; i < nk; ++i) _mm512_storeu_ps(wp + (k + i) * panel_rows + j0, r[i]);
  }
}
#endif

// True when a whole panel of w is more than a block's L2 budget (N > 2048) and pack_panel packs any column
// range [k0, k1) of its rows without decoding whole rows (f32, f16, ggml blocks with k0, k1 on block
// boundaries): matmul then packs each k chunk of a panel just before its tiles, into a buffer that stays
// in L2 (a whole 7B-wide panel, 64 x 4096 floats, is 1 MiB: written out to L3 and read back). Panels that
// fit are packed whole, once.
bool pack_chunks(const weight_view& w) {
  if (w.cols * panel_rows * 4 <= block_bytes) return false;
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
  if (w.type == dtype::f16) return true;
#endif
  return w.type == dtype::f32 ||
         (block_columns16(w.type) != nullptr && k_chunk % dtype_info(w.type).block_size == 0);
}

// Packs columns [k0, k1) of rows [r0, r0 + n) of w (n <= panel_rows) into panel wp (k1 - k0, panel_rows);
// dec is 16 x N scratch (the types that decode whole rows: k0 = 0, k1 = N).
void pack_panel(const weight_view& w, int64_t r0, int64_t n, int64_t k0, int64_t k1, float* wp, float* dec) {
  const int64_t N = w.cols, nk = k1 - k0;
  for (int64_t j = 0; j < panel_rows; j += 16) {
    const int64_t m = std::clamp<int64_t>(n - j, 0, 16);
    if (m == 0) {  // rows past M
      for (int64_t k = 0; k < nk; ++k) std::fill_n(wp + k * panel_rows + j, 16, 0.0f);
    } else if (w.type == dtype::f32) {
      pack16(reinterpret_cast<const float*>(w.row(r0 + j)) + k0, static_cast<int64_t>(w.row_bytes / 4), m, nk,
             wp, j, std::clamp<int64_t>(w.rows - r0 - j - 16, 0, 16));
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
    } else if (w.type == dtype::f16) {
      pack16_f16(w.row(r0 + j) + 2 * k0, static_cast<int64_t>(w.row_bytes), m, nk, wp, j);
#endif
    } else if (block_columns_fn cols = block_columns16(w.type)) {
      // ggml blocks: 16 rows' block decoded straight into the panel's columns (rows past m repeat the
      // last one: their lanes are never stored); a packed group (repack.h) block column by block column
      const int64_t bs = dtype_info(w.type).block_size, b0 = k0 / bs;
      float* out = wp + j;  // block b's columns at (b - b0) * bs * panel_rows
      if (w.plain(r0 + j)) {
        const uint8_t* rows[16];
        for (int64_t i = 0; i < 16; ++i) rows[i] = w.row(r0 + j + std::min(i, m - 1));
        for (int64_t b = b0; b < k1 / bs; ++b) cols(rows, b, out + (b - b0) * bs * panel_rows, panel_rows);
      } else {
        const packed_columns_fn pc = block_columns16_packed(w.type);
        for (int64_t b = b0; b < k1 / bs; ++b)
          pc(w.group_block(r0 + j, b), out + (b - b0) * bs * panel_rows, panel_rows);
      }
    } else {
      weight_rows_f32(w, r0 + j, m, dec);
      pack16(dec + k0, N, m, nk, wp, j);
    }
  }
}

// Lines to prefetch from at (a tile call's share).
struct pf_share {
  const char* at = nullptr;
  int64_t lines = 0;
};
// The packed bytes pack_panel reads for columns [k0, k1) of a panel of a packed view (interleave P
// dividing panel_rows), split over the nt tile calls of a chunk: each P-row sub-panel's chunk is one byte
// range (quant_cols.h), given out in order over per_sub calls, per lines a call.
struct chunk_plan {
  int64_t P = 0, per_sub = 1, lines = 0, per = 0, packed_rows = 0;
  uint64_t col_off = 0;  // the chunk's first byte in a sub-panel
  chunk_plan() = default;
  chunk_plan(const weight_view& w, int64_t k0, int64_t k1, int64_t nt) {
    P = w.interleave;
    per_sub = (nt * P + panel_rows - 1) / panel_rows;
    const int64_t bs = dtype_info(w.type).block_size;
    const uint64_t ts = dtype_info(w.type).type_size;
    lines = static_cast<int64_t>(static_cast<uint64_t>(P * (k1 - k0) / bs) * ts / 64) + 1;
    per = (lines + per_sub - 1) / per_sub;
    packed_rows = w.rows / P * P;
    col_off = static_cast<uint64_t>(P * (k0 / bs)) * ts;
  }
  // Call ti's share for the panel at row r0 (nothing past the packed rows).
  pf_share share(const weight_view& w, int64_t r0, int64_t ti) const {
    const int64_t sub = ti / per_sub, j = ti - sub * per_sub, rs = r0 + sub * P;
    if (rs + P > packed_rows) return {};
    return {reinterpret_cast<const char*>(w.row(rs) + col_off) + 64 * j * per,
            std::clamp<int64_t>(lines - j * per, 0, per)};
  }
};

// y[i][j] (i < RT, j < nr <= panel_rows) over columns [k0, k1), wp at column k0 of a panel: starts from 0
// when first, else continues from the partial sums in y.
// pf: n_pf lines to prefetch into L2 meanwhile (the next block's weights), spread over the k steps.
template <int RT>
void tile_kernel(const float* x, int64_t ldx, const float* wp, int64_t k0, int64_t k1, float* y, int64_t ldy,
                 int64_t nr, bool first, const char* pf, int64_t n_pf) {
#if defined(__AVX512F__)
  const int64_t pf_step = (n_pf + (k1 - k0) - 1) / std::max<int64_t>(1, k1 - k0);  // lines per k step
  constexpr int V = panel_rows / 16;
  __mmask16 mask[V];
  for (int j = 0; j < V; ++j)
    mask[j] = static_cast<__mmask16>(nr >= 16 * (j + 1) ? 0xFFFF
                                     : nr <= 16 * j     ? 0
                                                        : (1u << (nr - 16 * j)) - 1);
  __m512 acc[RT][V];
  for (int i = 0; i < RT; ++i)
    for (int j = 0; j < V; ++j)
      acc[i][j] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mask[j], y + i * ldy + 16 * j);
  const auto step = [&](int64_t k) __attribute__((always_inline)) {
    __m512 wv[V];
    for (int j = 0; j < V; ++j) wv[j] = _mm512_loadu_ps(wp + (k - k0) * panel_rows + 16 * j);
    for (int i = 0; i < RT; ++i) {
      const __m512 xb = _mm512_set1_ps(x[i * ldx + k]);
      for (int j = 0; j < V; ++j) acc[i][j] = _mm512_fmadd_ps(xb, wv[j], acc[i][j]);
    }
  };
  int64_t k = k0;
  for (; k < k1 && n_pf > 0; ++k) {  // the steps that prefetch, then the plain loop
    for (int64_t j = 0; j < pf_step && n_pf > 0; ++j, --n_pf, pf += 64) _mm_prefetch(pf, _MM_HINT_T1);
    step(k);
  }
  for (; k < k1; ++k) step(k);
  for (int i = 0; i < RT; ++i)
    for (int j = 0; j < V; ++j) _mm512_mask_storeu_ps(y + i * ldy + 16 * j, mask[j], acc[i][j]);
#else
  (void)pf, (void)n_pf;
  float acc[RT][panel_rows];
  for (int i = 0; i < RT; ++i)
    for (int64_t j = 0; j < panel_rows; ++j) acc[i][j] = first || j >= nr ? 0.0f : y[i * ldy + j];
  for (int64_t k = k0; k < k1; ++k)
    for (int i = 0; i < RT; ++i) {
      const float xv = x[i * ldx + k];
      for (int64_t j = 0; j < panel_rows; ++j) {
#if defined(__FMA__)
        acc[i][j] = std::fma(xv, wp[(k - k0) * panel_rows + j], acc[i][j]);  // one rounding, as AVX-512
#else
        acc[i][j] = acc[i][j] + xv * wp[(k - k0) * panel_rows + j];  // no FMA here: multiply, then add
#endif
      }
    }
  for (int i = 0; i < RT; ++i)
    for (int64_t j = 0; j < nr; ++j) y[i * ldy + j] = acc[i][j];
#endif
}

#if defined(__AVX512F__)
// Few tokens (T < tile_tokens): W is streamed once, so it is not packed through memory; each 16-row group
// is transposed in registers 16 columns at a time and multiplied at once, in the same order per output
// as tile_kernel (one FMA chain over k from 0), so the bits equal the packed path's. f32 rows are read in
// place, other types (not f16: rows16_f16) decoded into dec (16 x N) first.
template <int RT>
void rows16_kernel(const float* x, int64_t N, const weight_view& w, int64_t r0, int64_t n, float* y,
                   int64_t M, float* dec) {
  const float* src = dec;
  int64_t ld = N;
  if (w.type == dtype::f32) {
    src = reinterpret_cast<const float*>(w.row(r0));
    ld = static_cast<int64_t>(w.row_bytes / 4);
  } else {
    weight_rows_f32(w, r0, n, dec);
  }
  // f32: the next 16 rows' lines are prefetched into L2 (as in rows16_f16).
  const int64_t pn = w.type == dtype::f32 ? std::clamp<int64_t>(w.rows - r0 - 16, 0, 16) : 0;
  __m512 acc[RT];
  for (int i = 0; i < RT; ++i) acc[i] = _mm512_setzero_ps();
  __m512 r[16];
  for (int64_t k = 0; k < N; k += 16) {
    const int64_t nk = std::min<int64_t>(16, N - k);
    const __mmask16 m = static_cast<__mmask16>((1u << nk) - 1);
    for (int64_t i = 0; i < pn; ++i)
      _mm_prefetch(reinterpret_cast<const char*>(w.row(r0 + 16 + i) + 4 * k), _MM_HINT_T1);
    for (int64_t i = 0; i < 16; ++i) {
      if (i >= n)
        r[i] = _mm512_setzero_ps();
      else
        r[i] = _mm512_maskz_loadu_ps(m, src + i * ld + k);
    }
    transpose16(r);
    if (nk == 16) {
      for (int kk = 0; kk < 16; ++kk)
        for (int i = 0; i < RT; ++i)
          acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(x[i * N + k + kk]), r[kk], acc[i]);
    } else {
      for (int64_t kk = 0; kk < nk; ++kk)
        for (int i = 0; i < RT; ++i)
          acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(x[i * N + k + kk]), r[kk], acc[i]);
    }
  }
  const __mmask16 out = static_cast<__mmask16>((1u << n) - 1);
  for (int i = 0; i < RT; ++i) _mm512_mask_storeu_ps(y + i * M + r0, out, acc[i]);
}

// In-register transpose of 16 rows of 32 f16 (a[i] = row i). After it, a[2p] holds column p in its low
// 256 bits and column 8 + p in its high 256 bits, a[2p + 1] columns 16 + p and 24 + p (16 rows each):
// 64 shuffles where converting first and transposing two 16 x 16 float blocks takes 128.
[[gnu::always_inline]] inline void transpose16x32_f16(__m512i* a) {
  __m512i b[16];
  for (int m = 0; m < 8; ++m) {  // 32-bit unit u of lane: rows (2m, 2m + 1) at position 4 hi + u
    b[2 * m] = _mm512_unpacklo_epi16(a[2 * m], a[2 * m + 1]);
    b[2 * m + 1] = _mm512_unpackhi_epi16(a[2 * m], a[2 * m + 1]);
  }
  for (int q = 0; q < 4; ++q)  // a[4q + c], 64-bit unit v: rows 4q..4q+3 at position 2c + v
    for (int hi = 0; hi < 2; ++hi) {
      a[4 * q + 2 * hi] = _mm512_unpacklo_epi32(b[4 * q + hi], b[4 * q + 2 + hi]);
      a[4 * q + 2 * hi + 1] = _mm512_unpackhi_epi32(b[4 * q + hi], b[4 * q + 2 + hi]);
    }
  for (int o = 0; o < 2; ++o)  // b[8o + p], 128-bit lane L: rows 8o..8o+7 at position 8L + p
    for (int c = 0; c < 4; ++c) {
      b[8 * o + 2 * c] = _mm512_unpacklo_epi64(a[8 * o + c], a[8 * o + 4 + c]);
      b[8 * o + 2 * c + 1] = _mm512_unpackhi_epi64(a[8 * o + c], a[8 * o + 4 + c]);
    }
  const __m512i lo = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0),
                hi = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
  for (int p = 0; p < 8; ++p) {
    a[2 * p] = _mm512_permutex2var_epi64(b[p], lo, b[8 + p]);
    a[2 * p + 1] = _mm512_permutex2var_epi64(b[p], hi, b[8 + p]);
  }
}

// Column kk (< 32) of a transpose16x32_f16 result, as 16 floats.
[[gnu::always_inline]] inline __m512 f16_column(const __m512i* a, int kk) {
  const __m512i v = a[2 * (kk % 8) + kk / 16];
  return _mm512_cvtph_ps(kk / 8 % 2 ? _mm512_extracti64x4_epi64(v, 1) : _mm512_castsi512_si256(v));
}

// f16 rows, few tokens: 16 rows (n <= 16 from r0). Per step one whole 64-byte line (32 columns) of each
// row is loaded and the 16 x 32 block transposed as 16-bit data, then converted column by column. The
// next 16 rows' lines are prefetched into L2 meanwhile: each row of a 2048-wide matrix is its own 4 KiB
// page, which the hardware prefetcher does not cross. Each output is the same FMA chain as in
// rows16_kernel, so the same bits. (Interleaving two 16-row groups helped the float-transpose version,
// 35 -> 45 tok/s, but is slower with this one: 57-60 vs 62-69.)
template <int RT>
void rows16_f16(const float* x, int64_t N, const weight_view& w, int64_t r0, int64_t n, float* y, int64_t M) {
  const uint16_t* row[16];
  const uint8_t* next[16];
  const int64_t pn = std::clamp<int64_t>(w.rows - r0 - 16, 0, 16);  // rows prefetched
  for (int64_t i = 0; i < 16; ++i) {
    row[i] = i < n ? reinterpret_cast<const uint16_t*>(w.row(r0 + i)) : nullptr;
    next[i] = i < pn ? w.row(r0 + 16 + i) : nullptr;
  }
  __m512 acc[RT];
  for (int i = 0; i < RT; ++i) acc[i] = _mm512_setzero_ps();
  __m512i a[16];
  for (int64_t k = 0; k < N; k += 32) {
    const int64_t nk = std::min<int64_t>(32, N - k);
    const __mmask32 m = nk == 32 ? ~__mmask32{0} : static_cast<__mmask32>((1u << nk) - 1);
    for (int64_t i = 0; i < pn; ++i)
      _mm_prefetch(reinterpret_cast<const char*>(next[i] + 2 * k), _MM_HINT_T1);
    for (int i = 0; i < 16; ++i)
      a[i] = i < n ? _mm512_maskz_loadu_epi16(m, row[i] + k) : _mm512_setzero_si512();
    transpose16x32_f16(a);
    const float* xk = x + k;
    if (nk == 32) {
#pragma GCC unroll 32
      for (int kk = 0; kk < 32; ++kk) {
        const __m512 c = f16_column(a, kk);
        for (int i = 0; i < RT; ++i) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(xk[i * N + kk]), c, acc[i]);
      }
    } else {
#pragma GCC unroll 32
      for (int kk = 0; kk < 32; ++kk) {  // unrolled: a[] indexed by a variable would go through memory
        if (kk >= nk) break;
        const __m512 c = f16_column(a, kk);
        for (int i = 0; i < RT; ++i) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(xk[i * N + kk]), c, acc[i]);
      }
    }
  }
  const __mmask16 out = static_cast<__mmask16>((1u << n) - 1);
  for (int i = 0; i < RT; ++i) _mm512_mask_storeu_ps(y + i * M + r0, out, acc[i]);
}

// Rows [r0, r0 + n) of y for T < tile_tokens tokens, 16 at a time.
template <int RT>
void rows_kernel(const float* x, int64_t N, const weight_view& w, int64_t r0, int64_t n, float* y, int64_t M,
                 float* dec) {
  if (rows_blocks_supported(w.type)) {  // ggml blocks: decoded in registers (kernels_blocks.cpp)
    rows_blocks(x, RT, N, w, r0, n, y, M);
    return;
  }
  for (int64_t j = 0; j < n; j += 16) {
    if (w.type == dtype::f16)
      rows16_f16<RT>(x, N, w, r0 + j, std::min<int64_t>(16, n - j), y, M);
    else
      rows16_kernel<RT>(x, N, w, r0 + j, std::min<int64_t>(16, n - j), y, M, dec);
  }
}

void rows16(const float* x, int64_t T, int64_t N, const weight_view& w, int64_t r0, int64_t n, float* y,
            int64_t M, float* dec) {
  const_dispatch<5>(T, [&](auto t) { rows_kernel<decltype(t)::value>(x, N, w, r0, n, y, M, dec); });
}
#endif

// Rows [t0, t1) of x against one packed panel (wp at its column k0) over columns [k0, k1), prefetching
// n_pf lines from pf.
void panel_tiles(const float* x, int64_t t0, int64_t t1, int64_t N, const float* wp, int64_t k0, int64_t k1,
                 float* y, int64_t M, int64_t r0, int64_t nr, const char* pf, int64_t n_pf) {
  const bool first = k0 == 0;
  int64_t t = t0;
  for (; t + tile_tokens <= t1; t += tile_tokens, n_pf = 0)
    tile_kernel<tile_tokens>(x + t * N, N, wp, k0, k1, y + t * M + r0, M, nr, first, pf, n_pf);
  const float* xt = x + t * N;
  float* yt = y + t * M + r0;
  const_dispatch<5>(t1 - t, [&](auto r) {
    tile_kernel<decltype(r)::value>(xt, N, wp, k0, k1, yt, M, nr, first, pf, n_pf);
  });
}

}  // namespace

void matmul(const float* x, int64_t T, const weight_view& w, float* y, int threads) {
  const int64_t M = w.rows, N = w.cols;
  if (T <= 0 || M <= 0) return;
  if (N <= 0) {
    std::fill(y, y + T * M, 0.0f);
    return;
  }
  if (threads <= 0) threads = omp_get_max_threads();
  threads =
      threads_for(std::max(T, streamed_weight_work) * M * N, threads);  // few tokens: streaming W counts
  const int64_t panels = (M + panel_rows - 1) / panel_rows;
  const int64_t panel_floats = N * panel_rows;
  // Few tokens: one panel per task (W streamed once); many: blocks of panels that fit L2, x in k chunks.
  const int64_t per_block = T < tile_tokens ? 1
                                            : std::clamp<int64_t>(block_bytes / (panel_floats * 4), 1,
                                                                  (panels + threads - 1) / threads);
  const int64_t blocks = (panels + per_block - 1) / per_block;
  if (matmul_rows_fits(T)) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t p = 0; p < panels; ++p)
      matmul_rows(x, T, w, p * panel_rows, std::min(panel_rows, M - p * panel_rows), y);
    return;
  }
  // While a thread multiplies one block it prefetches the block it will likely take next (b + threads: the
  // blocks go round in order) into L2, spread over its tile steps: the packing then reads from L2 instead
  // of waiting on memory, which a short pass (T rows, few tiles per block) otherwise pays in full.
  // (Rows [r0, r1) of a weight view, plain or packed in panels, are one byte range.) Only for short passes:
  // a long one packs once for many tiles, and the prefetched block would evict the packed one from L2; a
  // long one over chunked panels (pack_chunks) prefetches each panel's next chunk instead (chunk_plan).
  const int64_t tiles = (T + tile_tokens - 1) / tile_tokens;
  const int64_t calls = (N + k_chunk - 1) / k_chunk * tiles;  // per panel
  const bool chunked = pack_chunks(w),
             chunk_pf = chunked && T > prefetch_tokens && w.interleave > 0 && panel_rows % w.interleave == 0;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t p0 = b * per_block, p1 = std::min(panels, p0 + per_block);
    // chunked: each panel's k chunk packed just before its tiles (stride k_chunk columns), else whole
    // panels (stride N) packed first
    const int64_t stride = (chunked ? k_chunk : N) * panel_rows;
    huge_vector<float>& buf = scratch(static_cast<size_t>((p1 - p0) * stride + (chunked ? 0 : 16 * N)));
    float* dec = chunked ? nullptr : buf.data() + (p1 - p0) * stride;
    for (int64_t p = p0; p < p1 && !chunked; ++p)
      pack_panel(w, p * panel_rows, std::min(panel_rows, M - p * panel_rows), 0, N,
                 buf.data() + (p - p0) * stride, dec);
    const int64_t q0 = std::min(panels, p0 + threads * per_block), q1 = std::min(panels, q0 + per_block);
    const int64_t n0 = std::min(M, q0 * panel_rows), n1 = std::min(M, q1 * panel_rows);
    const char* pf = reinterpret_cast<const char*>(w.data + static_cast<uint64_t>(n0) * w.row_bytes);
    int64_t pf_lines =
        T <= prefetch_tokens ? static_cast<int64_t>(static_cast<uint64_t>(n1 - n0) * w.row_bytes / 64) : 0;
    const int64_t pf_call = (pf_lines + calls * (p1 - p0) - 1) / (calls * (p1 - p0));
    for (int64_t k0 = 0; k0 < N; k0 += k_chunk) {
      const int64_t k1 = std::min(N, k0 + k_chunk);
      for (int64_t p = p0; p < p1 && chunked; ++p)
        pack_panel(w, p * panel_rows, std::min(panel_rows, M - p * panel_rows), k0, k1,
                   buf.data() + (p - p0) * stride, nullptr);
      const float* wk = buf.data() + (chunked ? 0 : k0 * panel_rows);  // the block's panels at column k0
      // long passes, chunked: the next chunk of each panel (after the last: of the next block's panel) is
      // prefetched over the panel's tiles
      const int64_t nk0 = k1 < N ? k1 : 0, next = k1 < N ? 0 : q0 - p0;
      const chunk_plan plan = chunk_pf ? chunk_plan(w, nk0, std::min(N, nk0 + k_chunk), tiles) : chunk_plan();
      for (int64_t t0 = 0; t0 < T; t0 += tile_tokens)  // a tile of x stays in L1 across the block's panels
        for (int64_t p = p0; p < p1; ++p) {
          pf_share sh{pf, std::min(pf_call, pf_lines)};
          if (chunk_pf) sh = plan.share(w, (p + next) * panel_rows, t0 / tile_tokens);
          panel_tiles(x, t0, std::min(T, t0 + tile_tokens), N, wk + (p - p0) * stride, k0, k1, y, M,
                      p * panel_rows, std::min(panel_rows, M - p * panel_rows), sh.at, sh.lines);
          if (!chunk_pf) pf += 64 * sh.lines, pf_lines -= sh.lines;
        }
    }
  }
}

bool matmul_rows_fits(int64_t T) {
#if defined(__AVX512F__)
  return T > 0 && T < tile_tokens;
#else
  (void)T;
  return false;
#endif
}

void matmul_rows(const float* x, int64_t T, const weight_view& w, int64_t r0, int64_t n, float* y) {
  const int64_t M = w.rows, N = w.cols;
  if (N <= 0) {
    for (int64_t t = 0; t < T; ++t) std::fill(y + t * M + r0, y + t * M + r0 + n, 0.0f);
    return;
  }
#if defined(__AVX512F__)
  float* dec = w.type == dtype::f32 || w.type == dtype::f16 || block_columns16_simd(w.type)
                   ? nullptr
                   : scratch(static_cast<size_t>(16 * N)).data();
  for (int64_t p = r0; p < r0 + n; p += panel_rows)
    rows16(x, T, N, w, p, std::min(panel_rows, r0 + n - p), y, M, dec);
#else
  (void)x;
#endif
}

void matmul_ref(const float* x, int64_t T, const weight_view& w, float* y) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = 0; r < w.rows; ++r) {
    weight_rows_f32_ref(w, r, 1, row.data());
    for (int64_t t = 0; t < T; ++t) {
      double s = 0;
      for (int64_t i = 0; i < w.cols; ++i)
        s += static_cast<double>(x[t * w.cols + i]) * static_cast<double>(row[static_cast<size_t>(i)]);
      y[t * w.rows + r] = static_cast<float>(s);
    }
  }
}

void rms_norm(const float* x, const float* w, int64_t n, float eps, float* y) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  const float scale =
      static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + static_cast<double>(eps)));
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * (w ? w[i] : 1.0f);
}

void layer_norm(const float* x, const float* w, const float* b, int64_t n, float eps, float* y) {
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) mean += static_cast<double>(x[i]);
  mean /= static_cast<double>(n);
  double var = 0;
  for (int64_t i = 0; i < n; ++i)
    var += (static_cast<double>(x[i]) - mean) * (static_cast<double>(x[i]) - mean);
  var /= static_cast<double>(n);
  const double scale = 1.0 / std::sqrt(var + static_cast<double>(eps));
  for (int64_t i = 0; i < n; ++i) {
    float v = static_cast<float>((static_cast<double>(x[i]) - mean) * scale);
    y[i] = v * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
  }
}

void rope_angles(int64_t n_rot, int64_t pos, double theta, float* c, float* s) {
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    const double a = static_cast<double>(pos) *
                     std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(n_rot));
    c[i] = static_cast<float>(std::cos(a));
    s[i] = static_cast<float>(std::sin(a));
  }
}

void rope_rotate(float* x, int64_t n_head, int64_t head_dim, int64_t n_rot, const float* c, const float* s,
                 rope_kind kind) {
  if (kind == rope_kind::none || n_rot <= 0) return;
  const int64_t half = n_rot / 2;
  for (int64_t h = 0; h < n_head; ++h) {
    float* v = x + h * head_dim;
    if (kind == rope_kind::interleaved) {
      for (int64_t i = 0; i < half; ++i) {
        const float a = v[2 * i], b = v[2 * i + 1];
        v[2 * i] = a * c[i] - b * s[i];
        v[2 * i + 1] = a * s[i] + b * c[i];
      }
    } else {
      for (int64_t i = 0; i < half; ++i) {
        const float a = v[i], b = v[i + half];
        v[i] = a * c[i] - b * s[i];
        v[i + half] = a * s[i] + b * c[i];
      }
    }
  }
}

void rope(float* x, int64_t n_head, int64_t head_dim, int64_t n_rot, int64_t pos, double theta,
          rope_kind kind) {
  if (kind == rope_kind::none || n_rot <= 0) return;
  float c[512], s[512];  // n_rot <= head_dim <= 1024 checked by the runner
  rope_angles(n_rot, pos, theta, c, s);
  rope_rotate(x, n_head, head_dim, n_rot, c, s, kind);
}

void rope_ref(float* x, int64_t n_head, int64_t head_dim, int64_t n_rot, int64_t pos, double theta,
              rope_kind kind) {
  if (kind == rope_kind::none || n_rot <= 0) return;
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t i = 0; i < n_rot / 2; ++i) {
      const double a =
          static_cast<double>(pos) / std::pow(theta, static_cast<double>(2 * i) / static_cast<double>(n_rot));
      const int64_t j0 = kind == rope_kind::interleaved ? 2 * i : i;
      const int64_t j1 = kind == rope_kind::interleaved ? 2 * i + 1 : i + n_rot / 2;
      float* v = x + h * head_dim;
      const double p = v[j0], q = v[j1];
      v[j0] = static_cast<float>(p * std::cos(a) - q * std::sin(a));
      v[j1] = static_cast<float>(p * std::sin(a) + q * std::cos(a));
    }
}

void softmax(float* x, int64_t n) {
  if (n <= 0) return;
  const float mx = Eigen::Map<Eigen::ArrayXf>(x, n).maxCoeff();
  static constexpr float neg_inf = -std::numeric_limits<float>::infinity();
  if (mx == neg_inf) {
    std::fill(x, x + n, 0.0f);
    return;
  }
  // Eigen's vectorised exp (a few ulp) on blocks of 16, the tail padded into a block of its own: every
  // element goes through the same packet code whatever the row's address. -inf entries are selected to
  // exactly 0. The sum runs in a fixed order from element 0 (16 lanes, then the lanes in order, then the
  // tail).
#if defined(__AVX512F__)
  using Eigen::internal::Packet16f;
  const __m512 mv = _mm512_set1_ps(mx), ninf = _mm512_set1_ps(neg_inf);
  auto exp_block = [&](const float* p) -> __m512 {
    const __m512 c = _mm512_loadu_ps(p);
    const __m512 e = Eigen::internal::pexp<Packet16f>(_mm512_sub_ps(c, mv));
    return _mm512_maskz_mov_ps(static_cast<__mmask16>(~_mm512_cmp_ps_mask(c, ninf, _CMP_EQ_OQ)), e);
  };
  __m512 lanes = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 e = exp_block(x + i);
    _mm512_storeu_ps(x + i, e);
    lanes = _mm512_add_ps(lanes, e);
  }
  alignas(64) float lane[16];
  _mm512_store_ps(lane, lanes);
#else
  using block = Eigen::Array<float, 16, 1>;
  auto exp_block16 = [mx](float* p) {
    Eigen::Map<block> c(p);
    const block e = (c - mx).exp();
    c = (c == neg_inf).select(block::Zero(), e);
  };
  float lane[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    exp_block16(x + i);
    for (int j = 0; j < 16; ++j) lane[j] += x[i + j];
  }
#endif
  float sum = 0.0f;
  for (float l : lane) sum += l;
  if (i < n) {
    alignas(64) float tail[16];
    std::fill(tail, tail + 16, mx);
    std::copy(x + i, x + n, tail);
#if defined(__AVX512F__)
    _mm512_store_ps(tail, exp_block(tail));
#else
    exp_block16(tail);
#endif
    std::copy(tail, tail + (n - i), x + i);
    for (; i < n; ++i) sum += x[i];
  }
  Eigen::Map<Eigen::ArrayXf>(x, n) *= 1.0f / sum;
}

void softmax_ref(float* x, int64_t n) {
  double mx = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, static_cast<double>(x[i]));
  if (std::isinf(mx) && mx < 0) {
    std::fill(x, x + n, 0.0f);
    return;
  }
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - mx);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(std::exp(static_cast<double>(x[i]) - mx) / sum);
}

void silu(float* x, int64_t n) {
  // Eigen's vectorised exp (a few ulp) on blocks of 16, the tail padded into a block of its own, so each
  // element's result depends on its value only: not on its index or the buffer's length and address (a
  // dynamic-size map sends the unaligned head and the tail through the scalar libm exp, so a row's
  // activations would change with the number of rows around it).
  using block = Eigen::Array<float, 16, 1>;
  auto silu_block = [](float* p) {
    Eigen::Map<block> a(p);
    const block e = (-a).exp();
    a = a / (1.0f + e);
  };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) silu_block(x + i);
  if (i < n) {
    float tail[16] = {};
    std::copy(x + i, x + n, tail);
    silu_block(tail);
    std::copy(tail, tail + (n - i), x + i);
  }
}

void gelu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752f));
}

void gelu_tanh(float* x, int64_t n) {
  constexpr float k = 0.79788456080286535588f;  // sqrt(2/pi)
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.0f + std::tanh(k * v * (1.0f + 0.044715f * v * v)));
  }
}

void gelu_ggml_f16(float* x, int64_t n) {
  // The table holds f16(gelu_tanh_f32(f16 value)) for every f16 bit pattern, computed in f32 as ggml does.
  static const std::vector<uint16_t> table = [] {
    std::vector<uint16_t> t(65536);
    constexpr float k = 0.79788456080286535587989211986876f, a = 0.044715f;
    for (uint32_t i = 0; i < 65536; ++i) {
      const float f = fp16_to_f32(static_cast<uint16_t>(i));
      t[i] = f32_to_fp16(0.5f * f * (1.0f + std::tanh(k * f * (1.0f + a * f * f))));
    }
    return t;
  }();
  for (int64_t i = 0; i < n; ++i) {
    if (x[i] <= -10.0f)
      x[i] = 0.0f;
    else if (x[i] < 10.0f)
      x[i] = fp16_to_f32(table[f32_to_fp16(x[i])]);
  }
}

void relu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::max(0.0f, x[i]);
}

void activate(act_kind a, float* x, int64_t n) {
  switch (a) {
    case act_kind::silu:
      silu(x, n);
      break;
    case act_kind::gelu:
      gelu(x, n);
      break;
    case act_kind::gelu_tanh:
      gelu_tanh(x, n);
      break;
    case act_kind::relu:
      relu(x, n);
      break;
  }
}

float alibi_slope(int64_t h, int64_t n_head) {
  int64_t n_log2 = 1;
  while (n_log2 * 2 <= n_head) n_log2 *= 2;
  const double m0 = std::pow(2.0, -8.0 / static_cast<double>(n_log2));
  const double m1 = std::pow(2.0, -4.0 / static_cast<double>(n_log2));
  return static_cast<float>(h < n_log2 ? std::pow(m0, static_cast<double>(h + 1))
                                       : std::pow(m1, static_cast<double>(2 * (h - n_log2) + 1)));
}

}  // namespace gb::engine
