// inspect/tensor_values.cpp: canonical-layout row reader (see the header for the layout rules).
#include "inspect/tensor_values.h"

#include <algorithm>
#include <cstring>

#include "formats/quant.h"
#include "formats/reader.h"

namespace gb {

std::vector<int64_t> canonical_shape(const tensor_view& v, bool transposed) {
  std::vector<int64_t> s = v.shape;
  if (transposed && s.size() == 2) std::swap(s[0], s[1]);
  return s;
}

std::string tensor_layer_key(const std::string& name, int layer) {
  if (layer >= 0) return "blk." + std::to_string(layer);
  if (name.rfind("blk.", 0) == 0) {
    size_t dot = name.find('.', 4);
    if (dot != std::string::npos) return name.substr(0, dot);
  }
  return "global";
}

namespace {

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

tensor_item item_from_view(const archive& a, size_t index) {
  const tensor_view& v = a.tensors[index];
  tensor_item it;
  it.name = v.name;
  it.stored_name = v.name;
  it.view = &v;
  if (v.file_index < a.files.size()) it.file = a.files[v.file_index].map.get();
  it.shape = v.shape;
  return it;
}

}  // namespace

std::vector<tensor_item> tensor_items(const archive& a) {
  std::vector<tensor_item> out;
  out.reserve(a.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) out.push_back(item_from_view(a, i));
  return out;
}

std::vector<tensor_item> tensor_items(const model& m) {
  std::vector<tensor_item> out;
  if (!m.source) return out;
  const archive& a = *m.source;
  std::vector<bool> seen(a.tensors.size(), false);
  // Gemma's RMSNorm gains: w in Hugging Face checkpoints (applied as 1 + w), 1 + w in GGUF (the header).
  const bool gemma_hf = m.family == arch_family::gemma && a.format != file_format::gguf;
  for (const role_entry& e : m.roles) {
    if (e.tensor >= a.tensors.size()) continue;
    seen[e.tensor] = true;
    tensor_item it = item_from_view(a, e.tensor);
    it.name = e.canonical;
    it.role = e.role;
    it.layer = e.layer;
    it.mapped = true;
    it.transposed = e.transposed;
    it.shape = canonical_shape(*it.view, e.transposed);
    if (e.hf_permuted) {
      int64_t heads = e.role == role_kind::attn_k && m.hp.n_head_kv > 0 ? m.hp.n_head_kv : m.hp.n_head;
      it.hf_heads = heads > 0 ? heads : 1;
    }
    if (e.qkv_per_head) it.qkv_heads = m.hp.n_head > 0 ? m.hp.n_head : 1;
    if (gemma_hf && ends_with(it.stored_name, "norm.weight")) it.plus_one = true;
    if (e.role == role_kind::rope_freqs)
      it.excluded = "precomputed RoPE table (llama2.c legacy freq_cis block), not a trained weight";
    else if (!role_is_parameter(e.role))
      it.excluded = "non-parameter buffer saved with the weights";
    out.push_back(std::move(it));
  }
  for (size_t i = 0; i < a.tensors.size(); ++i)
    if (!seen[i]) out.push_back(item_from_view(a, i));
  return out;
}

result<integrity_input> integrity_open(const std::string& path) {
  result<archive> r = archive_open(path);
  if (!r) return r.err();
  integrity_input in;
  in.ar = std::make_shared<const archive>(std::move(r).value());
  result<model> m = model_build(in.ar);
  if (m) {
    in.m = std::make_shared<const model>(std::move(m).value());
    in.items = tensor_items(*in.m);
  } else {
    in.note = "no model could be built (" + m.err().message + "): stored names and layouts used";
    in.items = tensor_items(*in.ar);
  }
  return in;
}

tensor_reader::tensor_reader(const tensor_item& it) : it_(&it) {
  const tensor_view& v = *it.view;
  const std::string who = "tensor '" + it.stored_name + "'";
  type_ = v.type;
  const dtype_traits& tr = dtype_info(type_);
  if (type_ == dtype::string || type_ == dtype::unknown || tr.type_size == 0)
    fail(errc::unsupported, v.file_offset, who + ": dtype " + tr.name + " has no numeric values");
  if (!v.available()) fail(errc::unsupported, v.file_offset, who + ": bytes not available");
  base_ = v.data;
  if (v.split() && (it.transposed || !v.contiguous() || v.shape.size() != 2 || it.plus_one))
    fail(errc::unsupported, v.file_offset, who + ": a model-parallel split tensor must be a plain matrix");

  // The bytes must lie inside the file (a truncated file names the tensor whose bytes are missing; the
  // loader checked a split view's pieces).
  if (it.file && it.file->data() && !v.split()) {
    const uint8_t* fb = it.file->data();
    if (base_ < fb || base_ > fb + it.file->size() ||
        v.nbytes > static_cast<uint64_t>(fb + it.file->size() - base_)) {
      uint64_t off = static_cast<uint64_t>(base_ >= fb ? base_ - fb : 0);
      fail(errc::truncated, off,
           who + " needs bytes [" + std::to_string(off) + ", " + std::to_string(off + v.nbytes) + ") but " +
               it.file->path() + " ends at " + std::to_string(it.file->size()));
    }
  }

  dims_ = canonical_shape(v, it.transposed);
  if (it.transposed && v.shape.size() != 2)
    fail(errc::unsupported, v.file_offset, who + ": transposed layout needs a matrix");
  cols_ = dims_.empty() ? 1 : dims_.back();
  rows_ = 1;
  for (size_t i = 0; i + 1 < dims_.size(); ++i)
    rows_ = static_cast<int64_t>(checked_mul(static_cast<uint64_t>(rows_), static_cast<uint64_t>(dims_[i]),
                                             "tensor rows", v.file_offset));
  for (int64_t d : dims_)
    if (d < 0) fail(errc::bad_value, v.file_offset, who + ": negative dimension");
  const uint64_t count = checked_mul(static_cast<uint64_t>(rows_), static_cast<uint64_t>(cols_),
                                     "tensor elements", v.file_offset);

  // Stored strides (elements), then canonical strides.
  std::vector<int64_t> st = v.strides;
  const bool stored_contig = st.empty();
  if (!stored_contig && st.size() != v.shape.size())
    fail(errc::bad_value, v.file_offset, who + ": strides do not match the shape");
  if (stored_contig) {
    st.assign(v.shape.size(), 1);
    for (size_t i = v.shape.size(); i-- > 1;) st[i - 1] = st[i] * v.shape[i];
  }
  strides_ = st;
  if (it.transposed) std::swap(strides_[0], strides_[1]);

  if (it.qkv_heads > 0 && !dims_.empty() && dims_[0] % (3 * it.qkv_heads) != 0)
    fail(errc::mismatch, v.file_offset,
         who + ": " + std::to_string(dims_[0]) + " fused qkv rows do not split into 3 x " +
             std::to_string(it.qkv_heads) + " heads");
  if (it.hf_heads > 0 && !dims_.empty()) {
    int64_t d0 = dims_[0];
    if (d0 % it.hf_heads != 0 || (d0 / it.hf_heads) % 2 != 0)
      fail(errc::mismatch, v.file_offset,
           who + ": " + std::to_string(d0) + " rows do not split into " + std::to_string(it.hf_heads) +
               " heads of even size (cannot undo the rotate-half permutation)");
  }

  if (tr.block_size > 1) {
    if (!stored_contig || it.transposed)
      fail(errc::unsupported, v.file_offset, who + ": strided or transposed block-quantised tensor");
    if ((it.hf_heads > 0 || it.qkv_heads > 0) && dims_.size() < 2)
      fail(errc::unsupported, v.file_offset, who + ": permuted 1-D block-quantised tensor");
    row_bytes_ = dtype_row_bytes(type_, static_cast<uint64_t>(cols_), v.file_offset);
    elem_size_ = 0;
  } else {
    elem_size_ = tr.type_size;
    row_bytes_ = checked_mul(static_cast<uint64_t>(cols_), elem_size_, "row bytes", v.file_offset);
  }

  const bool is_perm = it.hf_heads > 0 || it.qkv_heads > 0;
  // Gemma HF gains: the +1 goes into the hashed bytes only where the converter's result has the stored
  // dtype (f32); other dtypes get it in row_f32 (see the header).
  plus_one_bytes_ = it.plus_one && type_ == dtype::f32;
  plus_one_values_ = it.plus_one && type_ != dtype::f32;
  direct_ = stored_contig && !it.transposed && !is_perm && !plus_one_bytes_ && !v.split();
  rows_only_ = stored_contig && !it.transposed && is_perm && dims_.size() >= 2;

  uint64_t need = 0;
  if (direct_ || rows_only_ || tr.block_size > 1) {
    need = checked_mul(static_cast<uint64_t>(rows_), row_bytes_, "tensor bytes", v.file_offset);
  } else if (count > 0) {
    uint64_t max_el = 0;
    for (size_t i = 0; i < dims_.size(); ++i) {
      if (strides_[i] < 0) fail(errc::bad_value, v.file_offset, who + ": negative stride");
      max_el = checked_add(max_el,
                           checked_mul(static_cast<uint64_t>(dims_[i] - 1),
                                       static_cast<uint64_t>(strides_[i]), "stride span", v.file_offset),
                           "stride span", v.file_offset);
    }
    need = checked_mul(max_el + 1, elem_size_, "tensor bytes", v.file_offset);
  }
  if (need > v.nbytes)
    fail(errc::out_of_bounds, v.file_offset,
         who + ": layout " + shape_string(dims_) + " " + tr.name + " needs " + std::to_string(need) +
             " bytes but the tensor spans " + std::to_string(v.nbytes));
  piece_cols_ = cols_;
  if (cols_ > max_piece_cols) {
    const int64_t bs = static_cast<int64_t>(tr.block_size > 1 ? tr.block_size : 1);
    piece_cols_ = std::max(bs, max_piece_cols / bs * bs);
  }
  // a split tensor's row is gathered whole from its pieces (dim 1) before a piece of it is returned
  if (!direct_ && (!rows_only_ || plus_one_bytes_ || v.split()))
    buf_.resize(v.split() ? row_bytes_ : piece_bytes(piece_cols_));
}

uint64_t tensor_reader::piece_bytes(int64_t n) const {
  return elem_size_ ? static_cast<uint64_t>(n) * elem_size_
                    : dtype_row_bytes(type_, static_cast<uint64_t>(n));
}

bool tensor_reader::decodable() const {
  return dtype_info(type_).can_decode;
}

namespace {
int64_t hf_unpermute(int64_t i, int64_t n, int64_t heads) {
  const int64_t hd = n / heads, h = i / hd, j = i % hd;
  return h * hd + (j % 2) * (hd / 2) + j / 2;
}
}  // namespace

int64_t tensor_reader::permute(int64_t i, int64_t n) const {
  if (it_->hf_heads > 0) return hf_unpermute(i, n, it_->hf_heads);
  if (it_->qkv_heads > 0) {
    const int64_t hd = n / (3 * it_->qkv_heads), part = i / (n / 3), w = i % (n / 3);
    return (w / hd) * 3 * hd + part * hd + w % hd;
  }
  return i;
}

int64_t tensor_reader::stored_row(int64_t r) const {
  if (permuted() && dims_.size() >= 2) {
    // Canonical row r = (i0, rest); only i0 is permuted.
    const int64_t inner = rows_ / dims_[0];
    const int64_t i0 = r / inner, rest = r % inner;
    return permute(i0, dims_[0]) * inner + rest;
  }
  return r;
}

const uint8_t* tensor_reader::row_raw(int64_t r) {
  return piece_raw(r, 0, cols_);
}

const float* tensor_reader::row_f32(int64_t r, float* scratch) {
  return piece_f32(r, 0, cols_, scratch);
}

const uint8_t* tensor_reader::piece_raw(int64_t r, int64_t c0, int64_t n) {
  const uint8_t* p = stored_piece_raw(r, c0, n);
  if (!plus_one_bytes_) return p;
  // f32 w -> f32(1 + w), the converter's float32 add (p may be buf_ itself: element by element is safe).
  if (buf_.size() < piece_bytes(n)) buf_.resize(piece_bytes(n));
  for (int64_t c = 0; c < n; ++c) {
    float w;
    std::memcpy(&w, p + 4 * c, 4);
    w = 1.0f + w;
    std::memcpy(buf_.data() + 4 * c, &w, 4);
  }
  return buf_.data();
}

const uint8_t* tensor_reader::stored_piece_raw(int64_t r, int64_t c0, int64_t n) {
  if (direct_) return base_ + static_cast<uint64_t>(r) * row_bytes_ + piece_bytes(c0);
  if (it_->view->split())  // plain rows, read from the pieces (dim 1: gathered into buf_)
    return tensor_row(*it_->view, static_cast<uint64_t>(stored_row(r)), row_bytes_, buf_.data()) +
           piece_bytes(c0);
  if (rows_only_) return base_ + static_cast<uint64_t>(stored_row(r)) * row_bytes_ + piece_bytes(c0);
  // Plain type gathered by strides. Outer index of the row, dim 0 possibly permuted.
  const size_t nd = dims_.size();
  int64_t off = 0;
  if (nd >= 2) {
    int64_t rem = r;
    for (size_t i = nd - 1; i-- > 0;) {
      int64_t idx = rem % dims_[i];
      rem /= dims_[i];
      if (i == 0 && permuted()) idx = permute(idx, dims_[0]);
      off += idx * strides_[i];
    }
  }
  const int64_t cs = nd >= 1 ? strides_[nd - 1] : 1;
  const bool perm_1d = nd == 1 && permuted();
  if (buf_.size() < piece_bytes(n)) buf_.resize(piece_bytes(n));
  for (int64_t c = 0; c < n; ++c) {
    const int64_t cc = perm_1d ? permute(c0 + c, cols_) : c0 + c;
    std::memcpy(buf_.data() + static_cast<uint64_t>(c) * elem_size_,
                base_ + static_cast<uint64_t>(off + cc * cs) * elem_size_, elem_size_);
  }
  return buf_.data();
}

const float* tensor_reader::piece_f32(int64_t r, int64_t c0, int64_t n, float* scratch) {
  return raw_f32(piece_raw(r, c0, n), n, scratch);
}

const float* tensor_reader::raw_f32(const uint8_t* p, int64_t n, float* scratch) const {
  if (type_ == dtype::f32) {
    if (reinterpret_cast<uintptr_t>(p) % alignof(float) == 0) return reinterpret_cast<const float*>(p);
    std::memcpy(scratch, p, static_cast<size_t>(n) * sizeof(float));
    return scratch;
  }
  dequantize_row(type_, p, scratch, n);
  if (plus_one_values_) {
    // The converter adds 1 in f16 to an f16 tensor (the f32 sum rounded to f16, as torch's half add),
    // in f32 to everything else (widened to f32 first).
    if (type_ == dtype::f16)
      for (int64_t c = 0; c < n; ++c) scratch[c] = fp16_to_f32(f32_to_fp16(1.0f + scratch[c]));
    else
      for (int64_t c = 0; c < n; ++c) scratch[c] = 1.0f + scratch[c];
  }
  return scratch;
}

void tensor_reader::release_piece(int64_t r, int64_t c0, int64_t n) const {
  const mapped_file* f = it_->file;
  if (!f || !f->data() || n <= 0 || !direct_) return;
  const uint64_t off = static_cast<uint64_t>(base_ - f->data());
  f->advise_dontneed(off + static_cast<uint64_t>(r) * row_bytes_ + piece_bytes(c0), piece_bytes(n));
}

void tensor_reader::release(int64_t r0, int64_t r1) const {
  if (it_->view->split()) {
    if (!permuted())
      tensor_release_rows(*it_->view, static_cast<uint64_t>(r0), static_cast<uint64_t>(r1));
    else if (r1 == rows_)
      tensor_release_rows(*it_->view, 0, static_cast<uint64_t>(rows_));
    return;
  }
  const mapped_file* f = it_->file;
  if (!f || !f->data() || r1 <= r0) return;
  const uint64_t off = static_cast<uint64_t>(base_ - f->data());
  if (direct_)
    f->advise_dontneed(off + static_cast<uint64_t>(r0) * row_bytes_,
                       static_cast<uint64_t>(r1 - r0) * row_bytes_);
  else if (r1 == rows_)
    f->advise_dontneed(off, it_->view->nbytes);
}

}  // namespace gb
