// probes/engine/kernels.h: the numerical kernels of the forward pass, each fast one with a plain `_ref`
// twin (tests/engine/test_kernels.cpp compares them over random shapes with a stated tolerance).
//
// Dimension letters: T tokens (rows of activations), N = in features, M = out features, E head_dim.
//
//   gb::engine::weight_view w{gb::dtype::f16, bytes, /*rows M*/ 2048, /*cols N*/ 768, 768 * 2};
//   gb::engine::matmul(x, T, w, y, threads);   // y (T, M) = x (T, N) . W^T, W used in place
//   gb::engine::rms_norm(x, g, N, 1e-5f, out);
#pragma once

#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "formats/dtype.h"
#include "inspect/model.h"
#include "probes/engine/huge_buffer.h"

namespace gb::engine {

// A weight matrix [rows = out, cols = in] row-major, in its stored dtype, not owned (memory map).
// A std::vector whose storage starts on a 64-byte line. Every engine buffer uses it: Eigen peels its
// reductions and GEMV to the first aligned element, so a buffer's address would otherwise change the
// rounding, and the same input scored in two runners (or after another allocation) would differ.
template <class T>
struct aligned_allocator {
  using value_type = T;
  static constexpr std::align_val_t line{64};
  aligned_allocator() = default;
  template <class U>
  aligned_allocator(const aligned_allocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), line)); }
  void deallocate(T* p, size_t) { ::operator delete(p, line); }
  template <class U>
  bool operator==(const aligned_allocator<U>&) const {
    return true;
  }
};
template <class T>
using aligned_vector = std::vector<T, aligned_allocator<T>>;
// Buffers of MiB to GiB kept for a runner's life (repacked weights, a scorer's logits): huge_buffer
// (huge_buffer.h: 2 MiB-aligned, on transparent huge pages, untouched until written).
// A runner's working buffers, resized pass by pass (the pass's activations, the KV cache, matmul's packing
// scratch): huge_vector. From huge_min bytes on, storage is its own huge_map (2 MiB pages: one first-touch
// fault, not one per 4 KiB page; on this VM a fresh 4 KiB page costs ~10 us, 2.6-3.9 s a GiB, and a 2 MiB
// page 0.07 s a GiB when the host still backs it, up to ~1.9 s a GiB when not); below, aligned_allocator's.
// Elements are default-initialized: resize() writes nothing (a float is left as the memory holds it), so
// pages stay untouched until a kernel writes them. Only for buffers whose users write every element before
// they read it.
template <class T>
struct huge_allocator {
  using value_type = T;
#ifdef GB_SANITIZED  // every buffer through operator new, where AddressSanitizer sees an overflow
  static constexpr size_t huge_min = SIZE_MAX;
#else
  static constexpr size_t huge_min = size_t{1} << 20;
#endif
  huge_allocator() = default;
  template <class U>
  huge_allocator(const huge_allocator<U>&) {}
  T* allocate(size_t n) {
    if (n * sizeof(T) < huge_min) return aligned_allocator<T>().allocate(n);
    return reinterpret_cast<T*>(huge_map(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < huge_min)
      aligned_allocator<T>().deallocate(p, n);
    else
      huge_unmap(p, n * sizeof(T));
  }
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... A>
  void construct(U* p, A&&... a) {
    ::new (static_cast<void*>(p)) U(std::forward<A>(a)...);
  }
  template <class U>
  bool operator==(const huge_allocator<U>&) const {
    return true;
  }
};
template <class T>
using huge_vector = std::vector<T, huge_allocator<T>>;

// interleave P (ggml block types, the engine's load-time repack: probes/engine/repack.h; P = 64 or 32 rows,
// what the few-token kernel multiplies at once): rows [0, rows / P * P) are stored in panels of P rows,
// each panel block column by block column, each block column the packed group-blocks of its 16-row
// groups side by side (formats/quant_cols.h: 16 rows' block b as the column decoders read it, 16 block
// bytes), so the kernel reads a thread's consecutive panels as one sequential stream:
//   group_block(r, b) = data + P p row_bytes + (P b + 16 g) block_bytes   for row r = P p + 16 g + i
// (lane i of the group-block). The rows past the last whole panel stay plain at row(r). Readers of blocks
// decode a packed group-block (block_columns16_packed) or unpack lane i of it (group_block_unpack);
// readers of whole rows use row_in(r, scratch).
struct weight_view {
  dtype type = dtype::f32;
  const uint8_t* data = nullptr;
  int64_t rows = 0, cols = 0;
  uint64_t row_bytes = 0;  // bytes per row (dtype_row_bytes(type, cols))
  int interleave = 0;      // 0: plain rows; P: packed panels of P rows (above)
  // Row r's bytes in place: plain layout (or a row past the last panel) only.
  const uint8_t* row(int64_t r) const { return data + static_cast<uint64_t>(r) * row_bytes; }
  bool plain(int64_t r) const { return interleave == 0 || r >= rows / interleave * interleave; }
  // Packed group-block b of the 16-row group that holds row r (r not plain).
  const uint8_t* group_block(int64_t r, int64_t b) const {
    const int64_t in = r % interleave;
    return row(r - in) + static_cast<uint64_t>(b * interleave + in / 16 * 16) * dtype_info(type).type_size;
  }
  // Row r as plain bytes: in place, or its blocks gathered into scratch (row_bytes).
  const uint8_t* row_in(int64_t r, uint8_t* scratch) const;
};

// Threads worth starting for a parallel region of `work` multiply-adds (or element operations): 1 below
// min_parallel_work, else `threads`. A fork/join costs microseconds on an idle machine and up to a
// scheduler time slice when the cores are oversubscribed, so tiny models (dim 64) must not pay it per
// matmul: 4M MACs is about a millisecond on one core. A matmul for few tokens streams its weights from
// memory and counts each weight as 16 MACs, which keeps every one-token matmul of a 768-dim model
// parallel (16 x 768 x 768 = 9.4M) and every matmul of stories260K (dim 64, vocab 512) on one thread.
constexpr int64_t min_parallel_work = int64_t{1} << 22;
constexpr int64_t streamed_weight_work = 16;
inline int threads_for(int64_t work, int threads) {
  return work < min_parallel_work ? 1 : (threads < 1 ? 1 : threads);
}

// Decodes rows [r0, r0 + n) of w into dst (n, cols) f32. f32/f16/bf16 by the engine (F16C when built
// for it), ggml block types through gb::dequantize_row (bit-exact with ggml).
void weight_rows_f32(const weight_view& w, int64_t r0, int64_t n, float* dst);
void weight_rows_f32_ref(const weight_view& w, int64_t r0, int64_t n, float* dst);

// y (T, M) = x (T, N) . W^T with W (M, N). W is decoded (f32 read in place) and packed in 64-row panels
// k-major, multiplied by an AVX-512 6x64 micro-kernel (few tokens: 16 rows transposed in registers, W
// streamed once); OpenMP over panels. ggml block types are decoded 16 rows at a time straight to columns
// (formats/quant_cols.h, bit-exact with ggml's dequantisation): into the panels, or for few tokens
// (kernels_blocks.h) column by column in registers, multiplied at once by 2-4 interleaved 16-row FMA
// chains (1-2 tokens; 3-5 through a per-block tile in L1). Each y[t][r] is one in-order
// multiply-add chain over k from 0, so it depends only on x row t and W row r: bit-identical alone or in any
// batch, on any thread count.
void matmul(const float* x, int64_t T, const weight_view& w, float* y, int threads);
void matmul_ref(const float* x, int64_t T, const weight_view& w, float* y);  // double accumulation
// matmul's few-token path for rows [r0, r0 + n) of y on the calling thread (r0 a multiple of
// matmul_panel_rows), the same bits: callers that run several matmuls of a layer in one parallel region
// split the rows themselves (probes/engine/engine.cpp). Only when matmul_rows_fits(T): AVX-512 builds,
// 1 <= T < 6.
constexpr int64_t matmul_panel_rows = 64;
bool matmul_rows_fits(int64_t T);
void matmul_rows(const float* x, int64_t T, const weight_view& w, int64_t r0, int64_t n, float* y);

// Row-wise normalisation of n elements. w (gain) and b (bias) may be null.
void rms_norm(const float* x, const float* w, int64_t n, float eps, float* y);
void layer_norm(const float* x, const float* w, const float* b, int64_t n, float eps, float* y);

// Rotary embedding in place on x (n_head, E) for absolute position pos; only the first n_rot dims of
// each head rotate. interleaved: pairs (2i, 2i+1) (GPT-J / Meta LLaMA / GGUF); neox: pairs (i, i + n_rot/2).
// cos/sin of pos * theta^(-2i/n_rot) for i < n_rot/2, in double then rounded (what rope uses; a pass
// computes them once per position and rotates every layer's q and k with rope_rotate).
void rope_angles(int64_t n_rot, int64_t pos, double theta, float* c, float* s);
void rope_rotate(float* x, int64_t n_head, int64_t head_dim, int64_t n_rot, const float* c, const float* s,
                 rope_kind kind);
void rope(float* x, int64_t n_head, int64_t head_dim, int64_t n_rot, int64_t pos, double theta,
          rope_kind kind);
void rope_ref(float* x, int64_t n_head, int64_t head_dim, int64_t n_rot, int64_t pos, double theta,
              rope_kind kind);

// In place over n elements; entries equal to -inf get probability 0.
void softmax(float* x, int64_t n);
void softmax_ref(float* x, int64_t n);

// Activations in place.
void silu(float* x, int64_t n);
void gelu(float* x, int64_t n);       // erf form: x/2 (1 + erf(x/sqrt 2))
void gelu_tanh(float* x, int64_t n);  // tanh form (GPT-2 "gelu_new")
void relu(float* x, int64_t n);
// llama.cpp's CPU GELU (GGML_GELU_FP16): tanh-form GELU read from a table indexed by the f16-rounded input,
// outputs f16-rounded; x <= -10 gives 0, x >= 10 gives x. Bit-exact with ggml_vec_gelu_f32.
void gelu_ggml_f16(float* x, int64_t n);
void activate(act_kind a, float* x, int64_t n);

// ALiBi slope of head h of n_head (BLOOM; ggml's max_bias 8 formula).
float alibi_slope(int64_t h, int64_t n_head);

}  // namespace gb::engine
