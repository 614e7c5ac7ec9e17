// inspect/tensor_values.h: a tensor's values in canonical layout, streamed row by row from the mapped
// bytes. Shared by stats, hash, diff and spectral, so every one of them sees the same numbers.
//
// Canonical layout: row-major, outermost first; a matrix is [out, in] (PyTorch Linear). These storage
// quirks are undone here, never in the files:
//   - GPT-2 Conv1D weights stored [in, out] (role_entry::transposed): canonical row o is stored column o;
//   - q/k rows in Hugging Face rotate-half order (role_entry::hf_permuted): canonical (interleaved, Meta /
//     GGUF) row h*hd + 2p + t is stored row h*hd + t*hd/2 + p (hd = head dim, p < hd/2, t in {0, 1});
//   - fused qkv rows grouped per head (role_entry::qkv_per_head, HF GPT-NeoX / BLOOM): canonical [q | k | v]
//     row part*H*hd + h*hd + j is stored row h*3*hd + part*hd + j;
//   - PyTorch strided storage (tensor_view::strides): elements gathered by their strides;
//   - Gemma RMSNorm gains in a non-GGUF checkpoint (tensor_item::plus_one): Hugging Face stores w and
//     applies (1 + w); GGUF stores 1 + w, which is canonical. The +1 is llama.cpp's convert_hf_to_gguf.py
//     (GemmaModel / Gemma2Model / Gemma3Model: every tensor whose HF name ends in "norm.weight", which
//     covers input_layernorm, post_attention_layernorm, pre/post_feedforward_layernorm, q_norm, k_norm
//     and model.norm), computed as it does: an f32 w gets 1 + w in f32; an f16 w gets 1 + w in f16 (torch
//     half arithmetic: the f32 sum rounded to f16); bf16, f64 and other dtypes are widened to f32 first
//     and get 1 + w in f32. The converter writes every norm as F32. Hashing (row_raw): an f32 row holds the
//     f32 bytes of 1 + w, bit for bit the GGUF's, so an f32 HF folder and its GGUF share digests; rows of
//     other dtypes keep their stored bytes (w), because 1 + w does not fit their precision (bf16 near 1
//     steps by 2^-7: gains 0.003 apart would hash alike) and no GGUF digest could match them anyway (the
//     dtype is part of the digest and GGUF norms are F32). row_f32 always returns the canonical 1 + w, so
//     statistics and diffs see GGUF's numbers for every dtype.
// A "row" is the last dimension; a tensor [d0, ..., dk] has d0*...*d(k-1) rows of dk values (a 1-D
// tensor is one row; a scalar one row of one value). Rows wider than piece_cols() (2^20 values) are read
// in pieces of columns [c0, c0 + n), so no buffer ever holds a whole row of a huge tensor (a 1-D tensor of
// 2^31 values would need 8 GiB of floats); narrower rows are one piece.
//
//   std::vector<gb::tensor_item> items = gb::tensor_items(model);   // or tensor_items(archive)
//   gb::tensor_reader rd(items[0]);                                  // validates sizes, throws gb::failure
//   std::vector<float> row(rd.cols());                               // (C)
//   for (int64_t r = 0; r < rd.rows(); ++r) {
//     const float* x = rd.row_f32(r, row.data());    // dequantised exactly as ggml
//     const uint8_t* b = rd.row_raw(r);              // the same row in the stored dtype (for hashing)
//   }
//   for (int64_t c0 = 0; c0 < rd.cols(); c0 += rd.piece_cols())   // any width, bounded memory
//     const float* x = rd.piece_f32(r, c0, std::min(rd.piece_cols(), rd.cols() - c0), scratch);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "formats/archive.h"
#include "inspect/model.h"

namespace gb {

// One tensor as the integrity tools see it.
struct tensor_item {
  std::string name;         // canonical name ("blk.3.attn.q.weight"), or the stored name if unmapped
  std::string stored_name;  // name in the file
  const tensor_view* view = nullptr;
  const mapped_file* file = nullptr;  // the file the bytes live in (size check, page release)
  role_kind role = role_kind::other;
  int layer = -1;
  bool mapped = false;         // has a canonical role
  bool transposed = false;     // stored [in, out]
  int64_t hf_heads = 0;        // > 0: rows stored in HF rotate-half order over this many heads
  int64_t qkv_heads = 0;       // > 0: fused qkv rows stored per head ([H, 3, hd]) over this many heads
  bool plus_one = false;       // Gemma RMSNorm gain stored as w (HF convention): canonical 1 + w
  std::vector<int64_t> shape;  // canonical shape
  std::string excluded;        // non-empty: not a weight of the model (reason), e.g. rope_freqs
};

// Items for every tensor of a built model (roles first, in archive order, then unmapped tensors).
// rope_freqs (llama2.c's legacy freq_cis block, precomputed RoPE tables) and other non-parameter buffers
// (role_is_parameter false) are marked excluded. Gemma models from anything but GGUF get plus_one on the
// mapped tensors whose stored name ends in "norm.weight" (the converter's rule; the engine adds the same 1
// to the norms it runs, for the same formats).
std::vector<tensor_item> tensor_items(const model& m);
// Fallback when no model could be built: stored names, stored layout.
std::vector<tensor_item> tensor_items(const archive& a);

class tensor_reader {
 public:
  // Validates the layout against the bytes (fails with truncated / out_of_bounds / unsupported naming
  // the tensor). Does not touch tensor bytes.
  explicit tensor_reader(const tensor_item& it);

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  dtype type() const { return type_; }
  uint64_t row_bytes() const { return row_bytes_; }  // one canonical row in the stored dtype
  bool decodable() const;                            // dequantize_row supports the dtype

  // True when canonical rows are the stored bytes in order: rows [r0, r1) are one span at span(r0).
  bool direct() const { return direct_; }
  const uint8_t* span(int64_t r0) const { return base_ + static_cast<uint64_t>(r0) * row_bytes_; }

  // Canonical row r in the stored dtype; points into the map or an internal buffer (valid until the
  // next row_raw call on this reader). A plus_one row of a dtype other than f32 keeps its stored bytes
  // (see the Gemma rule above); row_f32 is the canonical value in every case.
  const uint8_t* row_raw(int64_t r);
  // Canonical row r as f32 (cols values). Returns a pointer to the mapped data when it already is
  // aligned f32 in canonical order, else decodes into scratch (cols floats) and returns scratch.
  const float* row_f32(int64_t r, float* scratch);

  // Columns [c0, c0 + n) of canonical row r (c0 a multiple of piece_cols(), n <= piece_cols()): the same
  // bytes and values as the whole-row calls above, a piece at a time (scratch: n floats).
  static constexpr int64_t max_piece_cols = int64_t{1} << 20;
  int64_t piece_cols() const { return piece_cols_; }  // cols() when it is at most max_piece_cols
  uint64_t piece_bytes(int64_t n) const;              // bytes of n columns in the stored dtype
  const uint8_t* piece_raw(int64_t r, int64_t c0, int64_t n);
  const float* piece_f32(int64_t r, int64_t c0, int64_t n, float* scratch);
  // n values decoded from raw, the bytes piece_raw returned for them (or a copy of those bytes read from
  // the file): raw itself when it is aligned f32, else scratch (n floats).
  const float* raw_f32(const uint8_t* raw, int64_t n, float* scratch) const;
  void release_piece(int64_t r, int64_t c0, int64_t n) const;  // direct layouts only

  // Drops the mapped pages of canonical rows [r0, r1) from this process (direct layouts only; others
  // release the whole tensor when r1 == rows()). Keeps peak RSS flat on models bigger than memory.
  void release(int64_t r0, int64_t r1) const;

 private:
  const tensor_item* it_;
  const uint8_t* base_ = nullptr;
  dtype type_ = dtype::unknown;
  int64_t rows_ = 0, cols_ = 0, piece_cols_ = 0;
  uint64_t row_bytes_ = 0, elem_size_ = 0;
  bool direct_ = true;
  bool rows_only_ = false;        // only a row permutation (rows are contiguous runs of bytes)
  bool plus_one_bytes_ = false;   // f32 Gemma HF gain: row_raw writes 1 + w into buf_
  bool plus_one_values_ = false;  // row_f32 adds the converter's 1 to decoded values (f16 / bf16 / ...)
  std::vector<int64_t> dims_;     // canonical dims
  std::vector<int64_t> strides_;  // element strides for the canonical dims (plain types)
  std::vector<uint8_t> buf_;      // gathered row
  int64_t stored_row(int64_t r) const;
  const uint8_t* stored_piece_raw(int64_t r, int64_t c0, int64_t n);  // before the Gemma +1
  int64_t permute(int64_t i, int64_t n) const;  // stored index along dim 0 of canonical index i (n = dim 0)
  bool permuted() const { return it_->hf_heads > 0 || it_->qkv_heads > 0; }
};

// Opens a model for the integrity tools: archive_open, model_build (when it fails, stored names and
// layouts are used and `note` says so), tensor_items. The items point into `ar`, kept alive here.
struct integrity_input {
  std::shared_ptr<const archive> ar;
  std::shared_ptr<const model> m;  // null when no model could be built
  std::vector<tensor_item> items;
  std::string note;
};
result<integrity_input> integrity_open(const std::string& path);

// "blk.N" for a layer tensor (from `layer`, or the name's "blk.N." prefix), else "global".
std::string tensor_layer_key(const std::string& name, int layer);

// The canonical shape after undoing a transpose.
std::vector<int64_t> canonical_shape(const tensor_view& v, bool transposed);

}  // namespace gb
