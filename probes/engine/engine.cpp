// The forward pass: one generic pre-norm decoder block covering the LLaMA, Qwen2, GPT-2, GPT-J, GPT-NeoX,
// Phi-2, Falcon and BLOOM families (what differs is data: norm kind, positions, fused qkv layout, parallel
// residual, gated MLP, biases).
//
// Dimension letters: T new tokens, P keys (= position after the call), D n_embd, H query heads,
// Hk kv heads, E head_dim, F n_ff, V vocab.
#include "probes/engine/engine.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <mutex>

#include "formats/mapped_file.h"
#include "formats/quant.h"
#include "inspect/forward_layout.h"
#include "probes/engine/attention.h"
#include "probes/engine/huge_buffer.h"
#include "probes/engine/kernels.h"
#include "probes/engine/kernels_q8.h"
#include "probes/engine/log_softmax.h"
#include "probes/engine/repack.h"

namespace gb::engine {
namespace {

constexpr int64_t max_head_dim = 1024;

bool family_supported(arch_family f) {
  switch (f) {
    case arch_family::llama:
    case arch_family::qwen2:
    case arch_family::gpt2:
    case arch_family::gptj:
    case arch_family::gptneox:
    case arch_family::falcon:
    case arch_family::bloom:
    case arch_family::phi:
    case arch_family::gemma:
      return true;
    default:
      return false;
  }
}

bool dtype_runnable(dtype t) {
  const dtype_traits& d = dtype_info(t);
  return d.can_decode && (t == dtype::f32 || t == dtype::f16 || t == dtype::bf16 || d.is_quantized);
}

// A matrix in use: a view into the map, or into `owned` when the stored layout had to be rewritten
// (GPT-2 Conv1D stores [in, out]), or the slices of a model-parallel split tensor (tensor_view::pieces):
// `parts` along split_dim, each a view into its shard's map, and w with the whole shape and no data.
struct matrix {
  weight_view w;
  aligned_vector<float> owned;
  int split_dim = -1;                   // 0: parts are blocks of rows; 1: blocks of columns
  std::vector<weight_view> parts;       // in order along split_dim
  const tensor_view* stored = nullptr;  // the tensor w reads in place (a repack drops its mapped pages)
  bool present() const { return w.data != nullptr || !parts.empty(); }
};

// Rows [r0, r0 + n) of m decoded to f32 into dst (n, cols): a split matrix part by part, the same bits as
// decoding the whole (decoding is element- or block-wise, and column slices hold whole blocks).
void matrix_rows_f32(const matrix& m, int64_t r0, int64_t n, float* dst) {
  if (m.parts.empty()) return weight_rows_f32(m.w, r0, n, dst);
  if (m.split_dim == 0) {
    int64_t first = 0;  // m's row index of a part's first row
    for (const weight_view& p : m.parts) {
      const int64_t a = std::max(r0, first), b = std::min(r0 + n, first + p.rows);
      if (a < b) weight_rows_f32(p, a - first, b - a, dst + (a - r0) * m.w.cols);
      first += p.rows;
    }
    return;
  }
  aligned_vector<float> piece;  // (cols of one part)
  for (int64_t r = 0; r < n; ++r) {
    int64_t c0 = 0;
    for (const weight_view& p : m.parts) {
      piece.resize(static_cast<size_t>(p.cols));
      weight_rows_f32(p, r0 + r, 1, piece.data());
      std::copy(piece.begin(), piece.end(), dst + r * m.w.cols + c0);
      c0 += p.cols;
    }
  }
}

struct vec {
  aligned_vector<float> v;  // decoded to f32 once (norm gains, biases: small)
  const float* p() const { return v.empty() ? nullptr : v.data(); }
};

struct layer_weights {
  vec attn_norm_w, attn_norm_b, attn_norm2_w, attn_norm2_b, ffn_norm_w, ffn_norm_b;
  matrix q, k, v, qkv, o, gate, up, down;
  vec q_b, k_b, v_b, qkv_b, o_b, gate_b, up_b, down_b;
};

// The repacked matrices of one model (runner::impl::repack), shared by the runners that bind the same stored
// bytes (a scorer's workers, a bias run's runners: each made a copy of its own, the weights' memory and load
// time once per runner). Found by the stored bytes of every matrix repacked, in order, while a runner holds
// them.
struct repacked_weights {
  std::vector<const uint8_t*> from;  // the stored bytes of each matrix repacked
  huge_buffer bytes;                 // their repacked copies, one after the other
};

std::mutex& repacked_mutex() {
  static std::mutex mu;
  return mu;
}
std::vector<std::weak_ptr<const repacked_weights>>& repacked_live() {  // under repacked_mutex
  static std::vector<std::weak_ptr<const repacked_weights>> live;
  return live;
}

std::string layer_name(int l, const char* what) {
  return "blk." + std::to_string(l) + "." + what;
}

}  // namespace

struct runner::impl {
  const model* m = nullptr;
  run_options opt;
  hparams hp;
  int threads = 1;
  int64_t D = 0, H = 0, Hk = 0, E = 0, F = 0, V = 0, n_ctx = 0, n_rot = 0;
  rope_kind rope = rope_kind::none;
  qkv_layout fused = qkv_layout::split;
  matrix tok_embd, pos_embd, output;
  vec embd_norm_w, embd_norm_b, out_norm_w, out_norm_b, output_b;
  float embd_scale = 1.0f;  // Gemma: embeddings times sqrt(n_embd)
  std::vector<layer_weights> layers;
  // Scratch of the split matrices (model-parallel shards): per thread, a block of a column-split matrix
  // gathered into whole rows (threads, block rows, row_bytes); the blocks' products (T, M) block by block.
  mutable huge_vector<uint8_t> split_rows;
  mutable huge_vector<float> split_out;
  std::shared_ptr<const repacked_weights> repacked;  // the repacked matrices (repack()): views point into it
  uint64_t repacked_size = 0;

  int64_t pos = 0;
  int64_t cache_cap = 0;                   // positions allocated in each cache
  std::vector<huge_vector<float>> kc, vc;  // per layer (cache_cap, Hk*E)

  // ---- binding -------------------------------------------------------------------------------------
  const role_entry* entry(role_kind r, int layer, bool bias) const { return m->entry(r, layer, bias); }

  static void check_tensor(const tensor_view& t, const role_entry& e) {
    if (!t.available()) fail(errc::unsupported, 0, "engine: tensor '" + e.canonical + "' has no data");
    if (!t.contiguous()) fail(errc::unsupported, 0, "engine: tensor '" + e.canonical + "' is not contiguous");
    if (!dtype_runnable(t.type))
      fail(errc::unsupported, t.file_offset,
           std::string("engine: tensor type ") + dtype_name(t.type) + " of '" + e.canonical +
               "' is not supported");
  }

  matrix bind_matrix(role_kind r, int layer, int64_t rows, int64_t cols, bool required) const {
    matrix out;
    const role_entry* e = entry(r, layer, false);
    if (!e) {
      if (required)
        fail(errc::mismatch, 0,
             std::string("engine: missing tensor ") +
                 (layer >= 0 ? "blk." + std::to_string(layer) + "." : "") + role_name(r));
      return out;
    }
    const tensor_view& t = m->source->tensors.at(e->tensor);
    check_tensor(t, *e);
    std::vector<int64_t> want =
        e->transposed ? std::vector<int64_t>{cols, rows} : std::vector<int64_t>{rows, cols};
    if (t.shape != want)
      fail(errc::mismatch, t.file_offset,
           "engine: tensor '" + e->canonical + "' has shape " + shape_string(t.shape) + ", expected " +
               shape_string(want));
    const uint64_t rb = dtype_row_bytes(t.type, static_cast<uint64_t>(t.shape[1]), t.file_offset);
    if (rb * static_cast<uint64_t>(t.shape[0]) > t.nbytes)
      fail(errc::out_of_bounds, t.file_offset,
           "engine: tensor '" + e->canonical + "' data shorter than its shape");
    if (t.split()) return bind_split(t, *e);
    weight_view stored{t.type, t.data, t.shape[0], t.shape[1], rb};
    if (!e->transposed) {
      out.w = stored;
      out.stored = &t;
      return out;
    }
    // Stored [in, out]: one-time transposed f32 copy.
    std::vector<float> tmp(static_cast<size_t>(rows * cols));
    weight_rows_f32(stored, 0, stored.rows, tmp.data());
    out.owned.resize(tmp.size());
    for (int64_t i = 0; i < cols; ++i)
      for (int64_t o = 0; o < rows; ++o)
        out.owned[static_cast<size_t>(o * cols + i)] = tmp[static_cast<size_t>(i * rows + o)];
    out.w = weight_view{dtype::f32, reinterpret_cast<const uint8_t*>(out.owned.data()), rows, cols,
                        static_cast<uint64_t>(cols) * 4};
    return out;
  }

  // A model-parallel split tensor: one weight view per slice, read in place (the loader checked that each
  // slice holds its block). Column slices are gathered transiently at each use (linear).
  static matrix bind_split(const tensor_view& t, const role_entry& e) {
    if (e.transposed || t.shape.size() != 2)
      fail(errc::unsupported, t.file_offset,
           "engine: split tensor '" + e.canonical + "' is not a plain matrix");
    matrix out;
    out.w = weight_view{t.type, nullptr, t.shape[0], t.shape[1],
                        dtype_row_bytes(t.type, static_cast<uint64_t>(t.shape[1]), t.file_offset)};
    out.split_dim = t.split_dim;
    for (const tensor_piece& p : t.pieces)
      out.parts.push_back(weight_view{t.type, p.data, t.split_dim == 0 ? p.extent : t.shape[0],
                                      t.split_dim == 0 ? t.shape[1] : p.extent, p.row_bytes});
    return out;
  }

  vec bind_vec(role_kind r, int layer, bool bias, int64_t n, bool required) const {
    vec out;
    const role_entry* e = entry(r, layer, bias);
    if (!e) {
      if (required) fail(errc::mismatch, 0, std::string("engine: missing tensor ") + role_name(r));
      return out;
    }
    const tensor_view& t = m->source->tensors.at(e->tensor);
    check_tensor(t, *e);
    if (static_cast<int64_t>(t.element_count()) != n)
      fail(errc::mismatch, t.file_offset,
           "engine: tensor '" + e->canonical + "' has shape " + shape_string(t.shape) + ", expected " +
               std::to_string(n) + " elements");
    const uint64_t rb = dtype_row_bytes(t.type, static_cast<uint64_t>(n), t.file_offset);
    if (rb > t.nbytes)
      fail(errc::out_of_bounds, t.file_offset, "engine: tensor '" + e->canonical + "' data too short");
    out.v.resize(static_cast<size_t>(n));
    std::vector<uint8_t> gathered;  // (rb) bytes of a split tensor, read from its slices
    const uint8_t* bytes = t.data;
    if (t.split()) {
      gathered.resize(static_cast<size_t>(rb));
      tensor_read(t, 0, rb, gathered.data());
      bytes = gathered.data();
    }
    weight_rows_f32(weight_view{t.type, bytes, 1, n, rb}, 0, 1, out.v.data());
    return out;
  }

  // Binds the model's tensors to the pass: hyperparameters, embeddings and output, each layer's weights.
  void bind() {
    bind_hparams();
    bind_ends();
    // Fused qkv rows and Gemma's norm weights as the files store them (decided in inspect/forward_layout).
    const forward_layout layout = forward_layout_of(*m);
    fused = layout.qkv;
    layers.resize(static_cast<size_t>(hp.n_layer));
    for (int l = 0; l < hp.n_layer; ++l) bind_layer(l, layers[static_cast<size_t>(l)]);
    // Gemma's RMSNorm multiplies by (1 + w); the HF files store w.
    if (layout.norm_plus_one) {
      auto plus_one = [](vec& g) {
        for (float& x : g.v) x += 1.0f;
      };
      plus_one(out_norm_w);
      for (layer_weights& L : layers) plus_one(L.attn_norm_w), plus_one(L.ffn_norm_w);
    }
    kc.assign(static_cast<size_t>(hp.n_layer), {});
    vc.assign(static_cast<size_t>(hp.n_layer), {});
  }

  // The dimensions of the pass from the model's hyperparameters (fail: missing or inconsistent ones).
  void bind_hparams() {
    hp = m->hp;
    if (!family_supported(m->family))
      fail(errc::unsupported, 0,
           "engine: architecture '" + m->architecture + "' (" + arch_family_name(m->family) +
               ") is not supported by the forward pass");
    D = hp.n_embd, H = hp.n_head, Hk = hp.n_head_kv > 0 ? hp.n_head_kv : hp.n_head, F = hp.n_ff,
    V = hp.n_vocab;
    E = hp.head_dim > 0 ? hp.head_dim : (H > 0 ? D / H : 0);
    if (D <= 0 || H <= 0 || Hk <= 0 || E <= 0 || V <= 0 || hp.n_layer <= 0 || F <= 0)
      fail(errc::bad_value, 0,
           "engine: hyperparameters incomplete (n_embd " + std::to_string(D) + ", n_head " +
               std::to_string(H) + ", n_ff " + std::to_string(F) + ", n_vocab " + std::to_string(V) + ")");
    if (H % Hk != 0)
      fail(errc::bad_value, 0,
           "engine: n_head " + std::to_string(H) + " not a multiple of n_head_kv " + std::to_string(Hk));
    if (E > max_head_dim)
      fail(errc::limit, 0,
           "engine: head_dim " + std::to_string(E) + " exceeds " + std::to_string(max_head_dim));
    n_ctx = hp.n_ctx > 0 ? hp.n_ctx : 4096;
    if (opt.max_context > 0) n_ctx = std::min(n_ctx, opt.max_context);
    rope = hp.pos == pos_kind::rope ? hp.rope : rope_kind::none;
    n_rot = hp.n_rot > 0 ? hp.n_rot : E;
    if (rope != rope_kind::none && (n_rot > E || n_rot % 2 != 0))
      fail(errc::bad_value, 0,
           "engine: n_rot " + std::to_string(n_rot) + " invalid for head_dim " + std::to_string(E));
  }

  // Token (and position) embeddings, their norm, the final norm and the output matrix (tied: tok_embd).
  void bind_ends() {
    tok_embd = bind_matrix(role_kind::tok_embd, -1, V, D, true);
    if (m->family == arch_family::gemma) embd_scale = static_cast<float>(std::sqrt(static_cast<double>(D)));
    if (hp.pos == pos_kind::learned) pos_embd = bind_matrix(role_kind::pos_embd, -1, n_ctx_rows(), D, true);
    if (entry(role_kind::embd_norm, -1, false)) {
      embd_norm_w = bind_vec(role_kind::embd_norm, -1, false, D, true);
      embd_norm_b = bind_vec(role_kind::embd_norm, -1, true, D, false);
    }
    out_norm_w = bind_vec(role_kind::output_norm, -1, false, D, true);
    out_norm_b = bind_vec(role_kind::output_norm, -1, true, D, false);
    output = bind_matrix(role_kind::output, -1, V, D, false);
    if (!output.present()) {  // tied (or the owned copy's view, or the same slices)
      output.w = tok_embd.w;
      output.split_dim = tok_embd.split_dim;
      output.parts = tok_embd.parts;
    }
    output_b = bind_vec(role_kind::output, -1, true, V, false);
  }

  // The load-time repack (repack.h) of the matrices the few-token kernel streams, into one allocation
  // tensor by tensor, each tensor's mapped pages dropped after its copy (the map stays valid: a later read
  // faults them in again), so memory peaks near the weights plus one tensor; or the copy another live
  // runner made of the same stored matrices (repacked_weights). Not repacked: the embeddings
  // (row lookups, and an output tied to them), split and transposed matrices, and in llama.cpp numerics
  // the types kernels_q8 multiplies.
  void repack() {
    if (opt.repack == repack_mode::off || !repack_enabled()) return;
    std::vector<matrix*> ms;
    for (layer_weights& L : layers)
      for (matrix* x : {&L.q, &L.k, &L.v, &L.qkv, &L.o, &L.gate, &L.up, &L.down}) ms.push_back(x);
    if (output.w.data != tok_embd.w.data) ms.push_back(&output);
    std::erase_if(ms, [&](const matrix* x) {
      return !x->stored || !repack_wanted(x->w, opt.repack == repack_mode::all) ||
             (opt.numerics == numerics_mode::llamacpp && matmul_q8_supported(x->w.type));
    });
    uint64_t total = 0;
    std::vector<const uint8_t*> from;
    for (const matrix* x : ms) {
      total += repack_bytes(x->w);
      from.push_back(x->w.data);
    }
    if (total == 0) return;
    repacked_size = total;
    std::lock_guard<std::mutex> lock(repacked_mutex());  // a second runner waits, then shares the copy
    auto& live = repacked_live();
    std::erase_if(live, [](const auto& r) { return r.expired(); });
    for (const auto& r : live)
      if (auto have = r.lock(); have && have->from == from) {
        const uint8_t* at = have->bytes.data();
        for (matrix* x : ms) {
          const uint64_t n = repack_bytes(x->w);
          x->w = repack_view(x->w, at);
          at += n;
        }
        repacked = std::move(have);
        return;
      }
    auto made = std::make_shared<repacked_weights>();
    made->from = std::move(from);
    uint8_t* at = made->bytes.reserve(total);  // not zeroed: its pages are first touched by their copy
    for (matrix* x : ms) {
      const uint64_t n = repack_bytes(x->w);
      x->w = repack_interleave(x->w, at, threads);
      at += n;
      const tensor_view& t = *x->stored;
      if (t.file_index < m->source->files.size() && m->source->files[t.file_index].map)
        m->source->files[t.file_index].map->advise_dontneed(t.file_offset, t.nbytes);
    }
    live.push_back(made);
    repacked = std::move(made);
  }

  // Layer l's norms, attention (fused qkv or q, k, v) and MLP weights; an HF-permuted q turns
  // interleaved RoPE into NeoX's.
  void bind_layer(int l, layer_weights& L) {
    L.attn_norm_w = bind_vec(role_kind::attn_norm, l, false, D, true);
    L.attn_norm_b = bind_vec(role_kind::attn_norm, l, true, D, false);
    L.attn_norm2_w = bind_vec(role_kind::attn_norm_2, l, false, D, false);
    L.attn_norm2_b = bind_vec(role_kind::attn_norm_2, l, true, D, false);
    L.ffn_norm_w = bind_vec(role_kind::ffn_norm, l, false, D, !hp.parallel_block);
    L.ffn_norm_b = bind_vec(role_kind::ffn_norm, l, true, D, false);
    const int64_t nq = H * E, nk = Hk * E;
    if (entry(role_kind::attn_qkv, l, false)) {
      L.qkv = bind_matrix(role_kind::attn_qkv, l, nq + 2 * nk, D, true);
      L.qkv_b = bind_vec(role_kind::attn_qkv, l, true, nq + 2 * nk, false);
      if (fused == qkv_layout::per_head && H != Hk)
        fail(errc::unsupported, 0, "engine: per-head fused qkv with grouped kv heads");
    } else {
      L.q = bind_matrix(role_kind::attn_q, l, nq, D, true);
      L.k = bind_matrix(role_kind::attn_k, l, nk, D, true);
      L.v = bind_matrix(role_kind::attn_v, l, nk, D, true);
      L.q_b = bind_vec(role_kind::attn_q, l, true, nq, false);
      L.k_b = bind_vec(role_kind::attn_k, l, true, nk, false);
      L.v_b = bind_vec(role_kind::attn_v, l, true, nk, false);
      const role_entry* qe = entry(role_kind::attn_q, l, false);
      if (qe && qe->hf_permuted && rope == rope_kind::interleaved) rope = rope_kind::neox;
    }
    L.o = bind_matrix(role_kind::attn_o, l, D, nq, true);
    L.o_b = bind_vec(role_kind::attn_o, l, true, D, false);
    if (hp.gated_mlp || entry(role_kind::mlp_gate, l, false)) {
      L.gate = bind_matrix(role_kind::mlp_gate, l, F, D, true);
      L.gate_b = bind_vec(role_kind::mlp_gate, l, true, F, false);
    }
    L.up = bind_matrix(role_kind::mlp_up, l, F, D, true);
    L.up_b = bind_vec(role_kind::mlp_up, l, true, F, false);
    L.down = bind_matrix(role_kind::mlp_down, l, D, F, true);
    L.down_b = bind_vec(role_kind::mlp_down, l, true, D, false);
  }

  int64_t n_ctx_rows() {
    const role_entry* e = entry(role_kind::pos_embd, -1, false);
    if (!e) fail(errc::mismatch, 0, "engine: missing tensor pos_embd");
    const tensor_view& t = m->source->tensors.at(e->tensor);
    if (t.shape.size() != 2) fail(errc::mismatch, t.file_offset, "engine: pos_embd is not a matrix");
    const int64_t rows = e->transposed ? t.shape[1] : t.shape[0];
    if (rows < n_ctx) n_ctx = rows;
    return rows;
  }

  void ensure_cache(int64_t need) {
    if (need <= cache_cap) return;
    int64_t cap = std::max<int64_t>(need, std::min<int64_t>(n_ctx, std::max<int64_t>(cache_cap * 2, 256)));
    cap = std::min(cap, n_ctx);
    const size_t row = static_cast<size_t>(Hk * E);
    for (size_t l = 0; l < kc.size(); ++l) {
      kc[l].resize(static_cast<size_t>(cap) * row);
      vc[l].resize(static_cast<size_t>(cap) * row);
    }
    cache_cap = cap;
  }

  // ---- the pass ------------------------------------------------------------------------------------
  struct tap {  // asks the hook once per point, hands over the tensor when wanted
    hook* h;
    bool stopped = false;
    bool wants(const std::string& name) const { return h && h->wants(name); }
    void give(const std::string& name, float* t, std::vector<int64_t> shape) {
      const mutable_activation_view a{t, shape};
      if (!stopped && !h->observe(name, a)) stopped = true;
      if (!stopped && !h->modify(name, a)) stopped = true;
    }
    void maybe(const std::string& name, float* t, std::vector<int64_t> shape) {
      if (h && !stopped && h->wants(name)) give(name, t, std::move(shape));
    }
  };

  void add_bias(float* y, int64_t T, const vec& b, int64_t n) const {
    if (b.v.empty()) return;
    for (int64_t t = 0; t < T; ++t)
      for (int64_t i = 0; i < n; ++i) y[t * n + i] += b.v[static_cast<size_t>(i)];
  }

  void linear(const float* x, int64_t T, const matrix& w, const vec& b, float* y) const {
    if (!w.parts.empty())
      linear_split(x, T, w, y);  // model-parallel shards: exact numerics (the Q8 mode needs one tensor)
    else if (opt.numerics == numerics_mode::llamacpp && matmul_q8_supported(w.w.type))
      matmul_q8(x, T, w.w, y, threads);
    else
      matmul(x, T, w.w, y, threads);
    add_bias(y, T, b, w.w.rows);
  }

  // y (T, M) = x . W^T for a split W, bit for bit the unsplit product: each y[t][r] is one chain over
  // W's row r (kernels.h), so any block of W's rows multiplies alone into its columns of y. Row slices are
  // such blocks in place; column slices are gathered into blocks of whole rows (~1 MiB, still in cache
  // for the matmul that reads them). The blocks run in parallel, one thread each (a slice of a one-token
  // matmul is too small to split further).
  void linear_split(const float* x, int64_t T, const matrix& w, float* y) const {
    struct block {
      int64_t r0, n;
      const weight_view* part;  // a row slice, or null: rows [r0, r0 + n) gathered from the column slices
    };
    const int64_t M = w.w.rows;
    const uint64_t rb = w.w.row_bytes;
    std::vector<block> blocks;
    int64_t rows_max = 0;  // rows of a gathered block
    if (w.split_dim == 0) {
      int64_t r0 = 0;
      for (const weight_view& p : w.parts) blocks.push_back({r0, p.rows, &p}), r0 += p.rows;
    } else {
      rows_max = std::clamp<int64_t>(static_cast<int64_t>((uint64_t{1} << 20) / rb), 16, M);
      for (int64_t r0 = 0; r0 < M; r0 += rows_max)
        blocks.push_back({r0, std::min(rows_max, M - r0), nullptr});
    }
    const int nt =
        std::min<int>(threads_for(std::max<int64_t>(T, streamed_weight_work) * M * w.w.cols, threads),
                      static_cast<int>(blocks.size()));
    split_out.resize(static_cast<size_t>(T * M));  // block b's (T, n) product at T * b.r0
    split_rows.resize(static_cast<size_t>(rb * static_cast<uint64_t>(rows_max) * static_cast<uint64_t>(nt)));
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (size_t i = 0; i < blocks.size(); ++i) {
      const block& b = blocks[i];
      weight_view v = b.part ? *b.part : weight_view{};
      if (!b.part) {
        uint8_t* dst = split_rows.data() + rb * static_cast<uint64_t>(rows_max * omp_get_thread_num());
        v = weight_view{w.w.type, dst, b.n, w.w.cols, rb};
        for (int64_t r = b.r0; r < b.r0 + b.n; ++r)
          for (const weight_view& p : w.parts) {
            std::memcpy(dst, p.row(r), p.row_bytes);
            dst += p.row_bytes;
          }
      }
      matmul(x, T, v, split_out.data() + T * b.r0, 1);
    }
    for (const block& b : blocks)
      for (int64_t t = 0; t < T; ++t)
        std::copy_n(split_out.data() + T * b.r0 + t * b.n, b.n, y + t * M + b.r0);
  }

  // Row-wise work over T rows of `cost` elements each on the pass's threads when large enough; every row is
  // computed alone, so the split changes no bits.
  template <class F>
  void rows(int64_t T, int64_t cost, F f) const {
#pragma omp parallel for num_threads(threads_for(T* cost * 16, threads)) schedule(static)
    for (int64_t t = 0; t < T; ++t) f(t);
  }

  void norm(const float* x, int64_t T, const vec& w, const vec& b, float* y) const {
    rows(T, D, [&](int64_t t) { norm_row(x + t * D, w, b, y + t * D); });
  }
  void norm_row(const float* x, const vec& w, const vec& b, float* y) const {  // x, y: (D)
    if (hp.norm == norm_kind::rms)
      rms_norm(x, w.p(), D, static_cast<float>(hp.norm_eps), y);
    else
      layer_norm(x, w.p(), b.p(), D, static_cast<float>(hp.norm_eps), y);
  }

  void act(float* y, int64_t n) const {
    if (opt.gelu == gelu_mode::ggml_f16_table && (hp.act == act_kind::gelu || hp.act == act_kind::gelu_tanh))
      gelu_ggml_f16(y, n);
    else
      activate(hp.act, y, n);
  }

  // Splits fused qkv (T, (H + 2Hk) E) into q (T, H E), k (T, Hk E), v (T, Hk E).
  void split_qkv(const float* qkv, int64_t T, float* q, float* k, float* v) const {
    const int64_t nq = H * E, nk = Hk * E, row = nq + 2 * nk;
    for (int64_t t = 0; t < T; ++t) {
      const float* s = qkv + t * row;
      if (fused == qkv_layout::split) {
        std::memcpy(q + t * nq, s, static_cast<size_t>(nq) * 4);
        std::memcpy(k + t * nk, s + nq, static_cast<size_t>(nk) * 4);
        std::memcpy(v + t * nk, s + nq + nk, static_cast<size_t>(nk) * 4);
      } else if (fused == qkv_layout::per_head) {  // [h][q k v][E]  (H == Hk)
        for (int64_t h = 0; h < H; ++h) {
          std::memcpy(q + t * nq + h * E, s + (3 * h) * E, static_cast<size_t>(E) * 4);
          std::memcpy(k + t * nk + h * E, s + (3 * h + 1) * E, static_cast<size_t>(E) * 4);
          std::memcpy(v + t * nk + h * E, s + (3 * h + 2) * E, static_cast<size_t>(E) * 4);
        }
      } else {  // grouped: [g][q x (H/Hk), k, v][E]
        const int64_t r = H / Hk;
        for (int64_t g = 0; g < Hk; ++g) {
          const float* gs = s + g * (r + 2) * E;
          std::memcpy(q + t * nq + g * r * E, gs, static_cast<size_t>(r * E) * 4);
          std::memcpy(k + t * nk + g * E, gs + r * E, static_cast<size_t>(E) * 4);
          std::memcpy(v + t * nk + g * E, gs + (r + 1) * E, static_cast<size_t>(E) * 4);
        }
      }
    }
  }

  // Buffers of one pass (nq = H*E, nk = Hk*E; T rows in, Tr rows carried on, P positions attended).
  // huge_vector (kernels.h): 2 MiB pages from 1 MiB on, and resize() does not zero them (every stage writes
  // the rows it reads: with the new elements filled with NaN instead, every suite's --json and the engine
  // and probes tests gave the same bits). The templates suite (100 items, 2 threads) faulted 10286 pages,
  // 5504 of them in begin()'s zero fill of these 21.5 MB (T = 512); now 4724 in all.
  huge_vector<float> x;                 // (T, D) the residual stream
  huge_vector<float> xn;                // (T, D) attention norm, then the final norm
  huge_vector<float> xn2;               // (T, D) MLP norm (parallel blocks: their second norm)
  huge_vector<float> qkv;               // (T, nq + 2*nk) a fused projection
  huge_vector<float> q;                 // (T, nq)
  huge_vector<float> k, v;              // (T, nk) each
  huge_vector<float> att;               // (T, nq) per-head attention outputs
  huge_vector<float> o;                 // (T, D) attention projection
  huge_vector<float> hb, hb2;           // (T, F) MLP hidden: (gate or up), up
  huge_vector<float> mo;                // (T, D) MLP output
  aligned_vector<float> scores, probs;  // (H, T, P) when a hook wants them
  aligned_vector<float> rope_cs;        // (T, n_rot) per row: n_rot/2 cosines, then n_rot/2 sines

  // What the stages of one pass share.
  struct pass {
    tap tp{nullptr};
    int64_t T = 0, p0 = 0, P = 0;  // rows; position of row 0 (cached pass); positions after the pass
    int64_t tq = 0, Tr = 0;        // the current layer: first query row, rows carried on (T - tq)
    bool packed = false, last_only = false;
    const std::vector<int32_t>* parent = nullptr;  // (T) packed: each row's parent row, -1 for a root
    std::vector<int64_t> depth;                    // (T) packed: each row's position
    int64_t position(int64_t t) const { return packed ? depth[static_cast<size_t>(t)] : p0 + t; }
  };

  // parent == nullptr: the tokens continue the KV cache at `pos`. Otherwise a packed trie (forward_packed):
  // row t sits at position depth[t] and attends to its ancestors and itself; the cache is not touched.
  // from_layer > 0 (packed only): the pass starts at that block with x = resid (T, D), the rows of
  // blk.<from_layer>.resid.pre; the embedding and the blocks before it are skipped. stage (packed, with
  // resid): row t joins at block (*stage)[t] (nondecreasing), so block l runs on the rows that have joined.
  // out_rows (packed, no hook): only those rows' logits, into out (forward_packed_rows); returns nothing.
  result<std::vector<float>> run(const std::vector<int32_t>& tokens, hook* h, bool last_only,
                                 const std::vector<int32_t>* parent = nullptr, int from_layer = 0,
                                 const float* resid = nullptr, const std::vector<int32_t>* stage = nullptr,
                                 const std::vector<int32_t>* out_rows = nullptr, float* out = nullptr,
                                 size_t out_chunk = 0,
                                 const std::function<void(size_t, size_t)>* out_each = nullptr) {
    pass ps;
    ps.tp.h = h;
    ps.last_only = last_only;
    ps.parent = parent;
    ps.packed = parent != nullptr;
    const error stopped{errc::limit, 0, "engine: stopped by hook", ""};
    begin(tokens, ps);
    if (resid && !stage)
      std::memcpy(x.data(), resid, static_cast<size_t>(ps.T * D) * sizeof(float));
    else if (!resid && !embed(tokens, ps))
      return stopped;
    rope_table(ps);
    const int64_t T = ps.T;
    std::vector<float> logits;  // (n_out, V)
    if (team_fits(ps)) {
      logits = layers_team(ps);
    } else {
      for (int l = from_layer; l < hp.n_layer; ++l) {
        if (stage) stage_join(*stage, resid, l, T, ps);
        if (!attention(l, ps) || !mlp(l, ps)) return stopped;
      }
      if (out_rows) {  // forward_packed_rows (packed: never the team's): those rows' logits into out
        output_rows(*out_rows, out, out_chunk, out_each);
        return std::vector<float>();
      }
      logits = output_logits(ps);
    }
    if (ps.tp.stopped) return stopped;
    if (!ps.packed) pos = ps.P;
    return logits;
  }

  // ---- few tokens: the whole pass in one parallel region ------------------------------------------
  // A token of generation is short: per layer 7 matmuls of 0.3-1 MB of weights, each its own parallel
  // region (a fork and a join; on a busy machine a futex wake-up each), with the norms, RoPE and attention
  // on one thread between them while the other waits. When no hook takes part, a pass of 1-5 tokens
  // (matmul_rows_fits) runs every layer and the output layer in one region instead. Each layer is four
  // stages of matmul rows: q, k and v (one input); the output projection; gate and up with the activation
  // of the same rows (act(gate) * up is element-wise); down. A stage's 64-row panels go to whichever thread
  // is free (omp for, dynamic: a thread the scheduler preempts holds up one panel, not half the stage) and
  // it ends at the loop's barrier. Attention, between the first two stages, is shared by kv-head group: a
  // thread rotates the group's k, writes it and v to the cache, and attends with the group's query heads
  // (with fewer groups than threads: by head, after the groups).
  // The residual stream and its norms are computed by every thread into its own copy (D floats per row:
  // cheaper than a barrier), so a layer has five barriers. Every output is the same kernel call on the
  // same inputs as in the stage-by-stage pass (matmul_rows is matmul's few-token path; bias adds,
  // activations, RoPE and attention are per element, per head or per row): the same bits, on any thread
  // count (tests/engine/test_forward.cpp).
  // Each matrix's packed stream starts cold (~85 times a token at 134M); warming the first 8 KiB of a
  // thread's next panel before each barrier and attention did not pay (134M tg128 against without, CPU,
  // load 3-5: q4_0 0.94-1.04x, q4_k 1.00-1.01x, q6_k 1.02-1.05x; 24 KiB more into L2, or the stage's
  // first panels handed out statically, no better). Estimated, 85 starts of ~1 us are under 2% of a 5 ms
  // token: inside this machine's noise.
  struct team_job {  // rows [r0, r0 + n) of y = x . W^T + b; act: y = act(y), times (x . W2^T + b2) if w2
    const float* x;  // null: the thread's own norm rows (team_xn)
    const matrix* w;
    const vec* b;
    float* y;
    const matrix* w2 = nullptr;  // up beside gate
    const vec* b2 = nullptr;
    float* y2 = nullptr;
    bool act = false;
    int64_t r0 = 0, n = 0;
  };
  std::vector<team_job> team_jobs;  // (jobs) stage by stage
  std::vector<size_t> team_stage;   // (stages + 1) each stage's first job
  huge_vector<float> team_x;        // (threads, T, D) each thread's copy of the residual stream
  huge_vector<float> team_xn;       // (threads, T, D) each thread's norm of it

  // The pass can run in one region: no hook, the cached (not packed) pass, few tokens, sequential blocks of
  // separate q, k and v, one tensor per matrix, exact numerics (or no type llama.cpp's numerics change).
  bool team_fits(const pass& ps) const {
    if (ps.tp.h || ps.packed || !matmul_rows_fits(ps.T) || hp.parallel_block) return false;
    auto plain = [&](const matrix& w) {
      return w.parts.empty() && (opt.numerics == numerics_mode::exact || !matmul_q8_supported(w.w.type));
    };
    if (!plain(output)) return false;
    for (const layer_weights& L : layers) {
      if (L.qkv.present()) return false;
      for (const matrix* w : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down})
        if (w->present() && !plain(*w)) return false;
    }
    return true;
  }

  // The stages' jobs, the buffers sized for the pass: per layer q/k/v, o, gate/up, down; then the logits
  // (n_out, V).
  void team_plan(float* logits) {
    team_jobs.clear(), team_stage.clear();
    auto stage = [&](std::initializer_list<team_job> mats) {
      team_stage.push_back(team_jobs.size());
      for (const team_job& m : mats)
        for (int64_t r0 = 0; r0 < m.w->w.rows; r0 += matmul_panel_rows) {
          team_job j = m;
          j.r0 = r0, j.n = std::min(matmul_panel_rows, m.w->w.rows - r0);
          team_jobs.push_back(j);
        }
    };
    for (const layer_weights& L : layers) {
      stage({{nullptr, &L.q, &L.q_b, q.data()},
             {nullptr, &L.k, &L.k_b, k.data()},
             {nullptr, &L.v, &L.v_b, v.data()}});
      stage({{att.data(), &L.o, &L.o_b, o.data()}});
      if (L.gate.present())
        stage({{nullptr, &L.gate, &L.gate_b, hb.data(), &L.up, &L.up_b, hb2.data(), true}});
      else
        stage({{nullptr, &L.up, &L.up_b, hb.data(), nullptr, nullptr, nullptr, true}});
      stage({{hb.data(), &L.down, &L.down_b, mo.data()}});
    }
    stage({{nullptr, &output, &output_b, logits}});
    team_stage.push_back(team_jobs.size());
  }

  // Stage s's jobs on T rows of x (own: the thread's norm rows), shared by the team (every thread calls
  // it); ends at a barrier.
  void team_stage_run(size_t s, int64_t T, const float* own) {
#pragma omp for schedule(dynamic, 1)
    for (size_t i = team_stage[s]; i < team_stage[s + 1]; ++i) {
      const team_job& j = team_jobs[i];
      const int64_t M = j.w->w.rows;
      const float* x_in = j.x ? j.x : own;
      matmul_rows(x_in, T, j.w->w, j.r0, j.n, j.y);
      for (int64_t t = 0; t < T; ++t) bias_rows(j.y + t * M, *j.b, j.r0, j.n);
      if (j.w2) {
        matmul_rows(x_in, T, j.w2->w, j.r0, j.n, j.y2);
        for (int64_t t = 0; t < T; ++t) bias_rows(j.y2 + t * M, *j.b2, j.r0, j.n);
      }
      if (!j.act) continue;
      for (int64_t t = 0; t < T; ++t) {
        float* h = j.y + t * M + j.r0;
        act(h, j.n);
        if (j.w2)
          for (int64_t c = 0; c < j.n; ++c) h[c] *= j.y2[t * M + j.r0 + c];
      }
    }
  }

  static void bias_rows(float* y, const vec& b, int64_t r0, int64_t n) {  // y[r0 .. r0 + n) += b
    if (b.v.empty()) return;
    for (int64_t i = r0; i < r0 + n; ++i) y[i] += b.v[static_cast<size_t>(i)];
  }

  // Layer l's attention, shared by the team (nt threads) by kv-head group: RoPE on the group's k rows and
  // query heads, its cache rows, its heads' attention. With fewer groups than threads (multi-query models)
  // the groups are prepared first and the heads shared after one more barrier. Ends at a barrier.
  void team_attend(int l, const pass& ps, int nt) {
    const int64_t group = H / Hk;
    const bool by_group = Hk >= nt;
#pragma omp for schedule(dynamic, 1)
    for (int64_t g = 0; g < Hk; ++g) {
      team_kv_group(l, g, ps);
      if (by_group)
        for (int64_t hh = g * group; hh < (g + 1) * group; ++hh) attend_head(l, hh, ps, false, false);
    }
    if (by_group) return;
#pragma omp for schedule(dynamic, 1)
    for (int64_t hh = 0; hh < H; ++hh) attend_head(l, hh, ps, false, false);
  }

  // kv-head group g of the pass's rows: its k rows and query heads rotated, its k and v rows in the cache.
  void team_kv_group(int l, int64_t g, const pass& ps) {
    const int64_t nq = H * E, nk = Hk * E, group = H / Hk;
    float* K = kc[static_cast<size_t>(l)].data();   // (cache_cap, nk)
    float* Vv = vc[static_cast<size_t>(l)].data();  // (cache_cap, nk)
    for (int64_t t = 0; t < ps.T; ++t) {
      const float* c = rope_cs.data() + t * n_rot;
      float* kt = k.data() + t * nk + g * E;
      if (rope != rope_kind::none) {
        rope_rotate(kt, 1, E, n_rot, c, c + n_rot / 2, rope);
        for (int64_t hh = g * group; hh < (g + 1) * group; ++hh)
          rope_rotate(q.data() + t * nq + hh * E, 1, E, n_rot, c, c + n_rot / 2, rope);
      }
      std::memcpy(K + (ps.p0 + t) * nk + g * E, kt, static_cast<size_t>(E) * 4);
      std::memcpy(Vv + (ps.p0 + t) * nk + g * E, v.data() + t * nk + g * E, static_cast<size_t>(E) * 4);
    }
  }

  // Every layer and the logits (n_out, V) in one region (see above).
  std::vector<float> layers_team(pass& ps) {
    const int64_t T = ps.T, first = ps.last_only ? T - 1 : 0, n_out = T - first;
    ps.tq = 0, ps.Tr = T;
    std::vector<float> logits(static_cast<size_t>(n_out * V));  // (n_out, V)
    team_plan(logits.data());
    const int team = threads_for(streamed_weight_work * D * (H + 2 * Hk) * E, threads);
    const size_t rows = static_cast<size_t>(T * D);
    team_x.resize(rows * static_cast<size_t>(team)), team_xn.resize(rows * static_cast<size_t>(team));
#pragma omp parallel num_threads(team)
    {
      float* xt = team_x.data() + rows * static_cast<size_t>(omp_get_thread_num());    // (T, D)
      float* xnt = team_xn.data() + rows * static_cast<size_t>(omp_get_thread_num());  // (T, D)
      // x += d, then the norm of rows [t0, T) into xnt
      auto add_norm = [&](const float* d, int64_t t0, const vec& w, const vec& b) {
        if (d)
          for (size_t i = 0; i < rows; ++i) xt[i] += d[i];
        for (int64_t t = t0; t < T; ++t) norm_row(xt + t * D, w, b, xnt + t * D);
      };
      std::copy(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(rows), xt);
      for (int l = 0; l < hp.n_layer; ++l) {
        const layer_weights& L = layers[static_cast<size_t>(l)];
        const size_t s = 4 * static_cast<size_t>(l);
        add_norm(l > 0 ? mo.data() : nullptr, 0, L.attn_norm_w, L.attn_norm_b);
        team_stage_run(s, T, xnt);
        team_attend(l, ps, team);
        team_stage_run(s + 1, T, nullptr);
        add_norm(o.data(), 0, L.ffn_norm_w, L.ffn_norm_b);
        team_stage_run(s + 2, T, xnt);
        team_stage_run(s + 3, T, nullptr);
      }
      add_norm(mo.data(), first, out_norm_w, out_norm_b);
      team_stage_run(4 * static_cast<size_t>(hp.n_layer), n_out, xnt + first * D);
    }
    return logits;
  }

  // A staged pass entering block l: the rows that join there take their residual rows; the block then runs
  // on every row joined so far (rows [0, ps.T): the stage is nondecreasing, so a row's ancestors are in).
  void stage_join(const std::vector<int32_t>& stage, const float* resid, int l, int64_t T, pass& ps) {
    int64_t a = l == stage[0] ? 0 : ps.T;
    const int64_t a0 = a;
    while (a < T && stage[static_cast<size_t>(a)] <= l) ++a;
    std::memcpy(x.data() + a0 * D, resid + a0 * D, static_cast<size_t>((a - a0) * D) * sizeof(float));
    ps.T = ps.Tr = a;
  }

  // Checks the pass's input (fail: one line), fixes its positions and sizes its buffers.
  void begin(const std::vector<int32_t>& tokens, pass& ps) {
    const int64_t T = static_cast<int64_t>(tokens.size());
    if (!opt.kv_cache && !ps.packed) pos = 0;
    if (T == 0) fail(errc::bad_value, 0, "engine: no tokens to run");
    if (ps.packed)
      pack_depths(*ps.parent, T, ps.depth);
    else if (pos + T > n_ctx)
      fail(errc::limit, 0,
           "engine: " + std::to_string(pos + T) + " positions exceed the context length " +
               std::to_string(n_ctx));
    for (int32_t id : tokens)
      if (id < 0 || id >= V)
        fail(
            errc::bad_value, 0,
            "engine: token id " + std::to_string(id) + " outside the vocabulary (" + std::to_string(V) + ")");
    if (!ps.packed) ensure_cache(pos + T);
    ps.T = ps.Tr = T;
    ps.p0 = ps.packed ? 0 : pos;
    ps.P = ps.p0 + T;
    const size_t t = static_cast<size_t>(T), nq = static_cast<size_t>(H * E),
                 nk = static_cast<size_t>(Hk * E);
    for (huge_vector<float>* b : {&x, &xn, &xn2, &o, &mo}) b->resize(t * static_cast<size_t>(D));
    q.resize(t * nq), att.resize(t * nq), k.resize(t * nk), v.resize(t * nk);
    hb.resize(t * static_cast<size_t>(F)), hb2.resize(t * static_cast<size_t>(F));
  }

  // depth (T): the position of each row of a packed trie; fail: a parent that is not an earlier row, a
  // path longer than the context.
  void pack_depths(const std::vector<int32_t>& parent, int64_t T, std::vector<int64_t>& depth) const {
    if (parent.size() != static_cast<size_t>(T))
      fail(errc::bad_value, 0,
           "engine: packed batch has " + std::to_string(T) + " tokens but " + std::to_string(parent.size()) +
               " parents");
    depth.resize(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) {
      const int32_t pa = parent[static_cast<size_t>(t)];
      if (pa < -1 || pa >= t)
        fail(errc::bad_value, 0,
             "engine: packed row " + std::to_string(t) + " has parent " + std::to_string(pa) +
                 " (must be -1 or an earlier row)");
      const int64_t d = pa < 0 ? 0 : depth[static_cast<size_t>(pa)] + 1;
      depth[static_cast<size_t>(t)] = d;
      if (d >= n_ctx)
        fail(errc::limit, 0,
             "engine: packed row " + std::to_string(t) + " at position " + std::to_string(d) +
                 " exceeds the context length " + std::to_string(n_ctx));
    }
  }

  // x (T, D) = token embeddings (times embd_scale) + position embeddings, then the embedding norm.
  // false: a hook stopped the pass.
  bool embed(const std::vector<int32_t>& tokens, pass& ps) {
    const int64_t T = ps.T;
    for (int64_t t = 0; t < T; ++t)
      matrix_rows_f32(tok_embd, tokens[static_cast<size_t>(t)], 1, x.data() + t * D);
    if (embd_scale != 1.0f)
      for (float& e : x) e *= embd_scale;
    if (pos_embd.present()) {
      aligned_vector<float> pe(static_cast<size_t>(D));  // (D) one row's position embedding
      for (int64_t t = 0; t < T; ++t) {
        matrix_rows_f32(pos_embd, ps.position(t), 1, pe.data());
        for (int64_t i = 0; i < D; ++i) x[static_cast<size_t>(t * D + i)] += pe[static_cast<size_t>(i)];
      }
    }
    if (!embd_norm_w.v.empty())
      for (int64_t t = 0; t < T; ++t)
        layer_norm(x.data() + t * D, embd_norm_w.p(), embd_norm_b.p(), D, static_cast<float>(hp.norm_eps),
                   x.data() + t * D);
    ps.tp.maybe("embed", x.data(), {T, D});
    return !ps.tp.stopped;
  }

  // rope_cs: cos/sin of each row's position, once for every layer's q and k.
  void rope_table(const pass& ps) {
    if (rope == rope_kind::none) return;
    rope_cs.resize(static_cast<size_t>(ps.T * n_rot));
    rows(ps.T, 64 * n_rot, [&](int64_t t) {
      rope_angles(n_rot, ps.position(t), hp.rope_theta, rope_cs.data() + t * n_rot,
                  rope_cs.data() + t * n_rot + n_rot / 2);
    });
  }

  // The attention half of block l: norm, q/k/v, attention (cached or packed), output projection into o.
  // false: a hook stopped the pass.
  bool attention(int l, pass& ps) {
    const layer_weights& L = layers[static_cast<size_t>(l)];
    const int64_t T = ps.T;
    tap& tp = ps.tp;
    tp.maybe(layer_name(l, "resid.pre"), x.data(), {T, D});
    norm(x.data(), T, L.attn_norm_w, L.attn_norm_b, xn.data());
    tp.maybe(layer_name(l, "attn_norm"), xn.data(), {T, D});
    ps.tq = trim_last(l, ps) ? T - 1 : 0;
    ps.Tr = T - ps.tq;
    qkv_rows(L, ps);
    tp.maybe(layer_name(l, "attn.q"), q.data(), {T, H * E});
    tp.maybe(layer_name(l, "attn.k"), k.data(), {T, Hk * E});
    tp.maybe(layer_name(l, "attn.v"), v.data(), {T, Hk * E});
    if (tp.stopped) return false;
    if (ps.packed)
      packed_attention(l, ps);
    else
      cached_attention(l, ps);
    if (ps.tq > 0) {  // the last row of x (and of the attention norm, a parallel block's MLP input) becomes
                      // row 0
      std::memmove(x.data(), x.data() + ps.tq * D, static_cast<size_t>(D) * 4);
      std::memmove(xn.data(), xn.data() + ps.tq * D, static_cast<size_t>(D) * 4);
    }
    tp.maybe(layer_name(l, "attn.z"), att.data(), {ps.Tr, H * E});  // per-head outputs before the projection
    if (tp.stopped) return false;
    linear(att.data(), ps.Tr, L.o, L.o_b, o.data());
    tp.maybe(layer_name(l, "attn.out"), o.data(), {ps.Tr, D});
    return !tp.stopped;
  }

  // The last layer of a last-only pass: only the last row reaches the logits, so once K and V of every row
  // are made (the cache keeps them) the layer runs on that row alone, as llama.cpp does; unless a hook
  // wants a per-row point of it. The row's arithmetic is the same, so are its bits.
  bool trim_last(int l, const pass& ps) const {
    if (!ps.last_only || ps.packed || ps.T < 2 || l != hp.n_layer - 1 || ps.tp.wants("final.norm"))
      return false;
    for (const char* w : {"attn.q", "attn.scores", "attn.probs", "attn.z", "attn.out", "resid.mid", "mlp.pre",
                          "mlp.out", "resid.post"})
      if (ps.tp.wants(layer_name(l, w))) return false;
    return true;
  }

  // q (Tr, nq) from the rows [tq, T) of xn; k, v (T, nk) from all rows; rotated.
  void qkv_rows(const layer_weights& L, const pass& ps) {
    const int64_t T = ps.T, tq = ps.tq, nq = H * E, nk = Hk * E;
    if (L.qkv.present()) {
      qkv.resize(static_cast<size_t>(T * (nq + 2 * nk)));
      linear(xn.data(), T, L.qkv, L.qkv_b, qkv.data());
      split_qkv(qkv.data(), T, q.data(), k.data(), v.data());
      if (tq > 0) std::memmove(q.data(), q.data() + tq * nq, static_cast<size_t>(nq) * 4);
    } else {
      linear(xn.data() + tq * D, ps.Tr, L.q, L.q_b, q.data());
      linear(xn.data(), T, L.k, L.k_b, k.data());
      linear(xn.data(), T, L.v, L.v_b, v.data());
    }
    if (rope == rope_kind::none) return;
    rows(ps.Tr, nq, [&](int64_t t) {
      const float* c = rope_cs.data() + (tq + t) * n_rot;
      rope_rotate(q.data() + t * nq, H, E, n_rot, c, c + n_rot / 2, rope);
    });
    rows(T, nk, [&](int64_t t) {
      const float* c = rope_cs.data() + t * n_rot;
      rope_rotate(k.data() + t * nk, Hk, E, n_rot, c, c + n_rot / 2, rope);
    });
  }

  // Attention of the pass's query rows against the KV cache of layer l, after appending k and v to it:
  // writes att (Tr, H*E); scores and probs (H, T, P) to a hook that wants them.
  void cached_attention(int l, pass& ps) {
    const int64_t T = ps.T, Tr = ps.Tr, P = ps.P, p0 = ps.p0, nk = Hk * E;
    const size_t nkc = static_cast<size_t>(T * nk);
    std::memcpy(kc[static_cast<size_t>(l)].data() + p0 * nk, k.data(), nkc * 4);
    std::memcpy(vc[static_cast<size_t>(l)].data() + p0 * nk, v.data(), nkc * 4);
    const std::string sname = layer_name(l, "attn.scores"), pname = layer_name(l, "attn.probs");
    const bool want_s = ps.tp.wants(sname), want_p = ps.tp.wants(pname);
    if (want_s) scores.resize(static_cast<size_t>(H * T * P));
    if (want_p) probs.resize(static_cast<size_t>(H * T * P));
    // q.k and probs.v; per multiply-add it reads more memory than a GEMM does, so it goes parallel sooner
    const int attn_threads = threads_for(16 * 2 * H * Tr * P * E, threads);
#pragma omp parallel for num_threads(attn_threads) schedule(static)
    for (int64_t hh = 0; hh < H; ++hh) attend_head(l, hh, ps, want_s, want_p);
    if (want_s) ps.tp.give(sname, scores.data(), {H, T, P});
    if (want_p) ps.tp.give(pname, probs.data(), {H, T, P});
  }

  // Query head hh of the pass's rows [tq, T) against layer l's KV cache (its rows written): att's columns
  // of the head; the head's scores and probs rows when a hook wants them.
  void attend_head(int l, int64_t hh, const pass& ps, bool want_s, bool want_p) {
    const int64_t T = ps.T, Tr = ps.Tr, P = ps.P, p0 = ps.p0, tq = ps.tq, nq = H * E, nk = Hk * E;
    const float* K = kc[static_cast<size_t>(l)].data();   // (cache_cap, nk)
    const float* Vv = vc[static_cast<size_t>(l)].data();  // (cache_cap, nk)
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(E)));
    // Causal: query t sees keys [0, p0 + t]; tiles of query rows share each key and value read (see
    // score_rows): the per-query arithmetic does not depend on the tile.
    constexpr int64_t tile = 16;
    static thread_local aligned_vector<float> srows;  // (tile, P)
    if (srows.size() < static_cast<size_t>(tile * P)) srows.resize(static_cast<size_t>(tile * P));
    const int64_t g = hh / (H / Hk);
    const float slope = hp.pos == pos_kind::alibi ? alibi_slope(hh, H) : 0.0f;
    const kv_rows key{K + g * E, nk}, val{Vv + g * E, nk};  // rows of the cache, head group g
    for (int64_t t0 = 0; t0 < Tr; t0 += tile) {
      const int64_t R = std::min(tile, Tr - t0);
      int64_t n[tile];  // (R) visible keys of each query row
      for (int64_t r = 0; r < R; ++r) n[r] = p0 + tq + t0 + r + 1;
      attention_scores(R, q.data() + t0 * nq + hh * E, nq, n, E, key, scale, slope, srows.data(), P);
      for (int64_t r = 0; r < R; ++r) {
        float* row = srows.data() + r * P;
        const size_t at = static_cast<size_t>((hh * T + t0 + r) * P), seen = static_cast<size_t>(n[r]);
        if (want_s) {
          std::memcpy(scores.data() + at, row, seen * 4);
          std::fill(scores.data() + at + seen, scores.data() + at + static_cast<size_t>(P),
                    -std::numeric_limits<float>::infinity());
        }
        softmax(row, n[r]);
        if (want_p) {
          std::memcpy(probs.data() + at, row, seen * 4);
          std::fill(probs.data() + at + seen, probs.data() + at + static_cast<size_t>(P), 0.0f);
        }
      }
      attention_weigh(R, srows.data(), P, n, E, val, att.data() + t0 * nq + hh * E, nq);
    }
  }

  // The MLP half of block l: its input (the residual after attention, or a parallel block's norm), the
  // hidden layer, and the residual update of x (Tr, D). false: a hook stopped the pass.
  bool mlp(int l, pass& ps) {
    const layer_weights& L = layers[static_cast<size_t>(l)];
    const int64_t Tr = ps.Tr;
    tap& tp = ps.tp;
    const float* in = mlp_input(l, L, ps);  // (Tr, D)
    if (L.gate.present()) {
      linear(in, Tr, L.gate, L.gate_b, hb.data());
      linear(in, Tr, L.up, L.up_b, hb2.data());
      rows(Tr, 4 * F, [&](int64_t t) {
        act(hb.data() + t * F, F);
        for (int64_t i = t * F; i < (t + 1) * F; ++i)
          hb[static_cast<size_t>(i)] *= hb2[static_cast<size_t>(i)];
      });
    } else {
      linear(in, Tr, L.up, L.up_b, hb.data());
      rows(Tr, 4 * F, [&](int64_t t) { act(hb.data() + t * F, F); });
    }
    tp.maybe(layer_name(l, "mlp.pre"), hb.data(), {Tr, F});
    linear(hb.data(), Tr, L.down, L.down_b, mo.data());
    tp.maybe(layer_name(l, "mlp.out"), mo.data(), {Tr, D});
    rows(Tr, D, [&](int64_t t) {
      if (hp.parallel_block)
        for (int64_t i = t * D; i < (t + 1) * D; ++i)
          x[static_cast<size_t>(i)] += o[static_cast<size_t>(i)] + mo[static_cast<size_t>(i)];
      else
        for (int64_t i = t * D; i < (t + 1) * D; ++i) x[static_cast<size_t>(i)] += mo[static_cast<size_t>(i)];
    });
    tp.maybe(layer_name(l, "resid.post"), x.data(), {Tr, D});
    return !tp.stopped;
  }

  // The MLP's input (Tr, D). Sequential block: x += o, then the MLP norm. Parallel block: its second norm
  // of x (or the attention norm's output when it has none); x + o goes to a hook only.
  const float* mlp_input(int l, const layer_weights& L, pass& ps) {
    const int64_t Tr = ps.Tr;
    if (!hp.parallel_block) {
      rows(Tr, D, [&](int64_t t) {
        for (int64_t i = t * D; i < (t + 1) * D; ++i) x[static_cast<size_t>(i)] += o[static_cast<size_t>(i)];
      });
      ps.tp.maybe(layer_name(l, "resid.mid"), x.data(), {Tr, D});
      norm(x.data(), Tr, L.ffn_norm_w, L.ffn_norm_b, xn2.data());
      return xn2.data();
    }
    const bool own_norm = !L.attn_norm2_w.v.empty() || !L.ffn_norm_w.v.empty();
    if (!L.attn_norm2_w.v.empty())
      norm(x.data(), Tr, L.attn_norm2_w, L.attn_norm2_b, xn2.data());
    else if (!L.ffn_norm_w.v.empty())
      norm(x.data(), Tr, L.ffn_norm_w, L.ffn_norm_b, xn2.data());
    const std::string mid = layer_name(l, "resid.mid");
    if (ps.tp.wants(mid)) {
      aligned_vector<float> r(x.begin(), x.end());  // (T, D) x + o, rows [0, Tr)
      for (size_t i = 0; i < r.size(); ++i) r[i] += o[i];
      ps.tp.give(mid, r.data(), {Tr, D});
    }
    return own_norm ? xn2.data() : xn.data();
  }

  // The final norm of the rows carried through the layers, and the logits (n_out, V) of all of them or of
  // the last.
  std::vector<float> output_logits(pass& ps) {
    const int64_t Tr = ps.Tr;  // the last layer may have kept only the last row
    norm(x.data(), Tr, out_norm_w, out_norm_b, xn.data());
    ps.tp.maybe("final.norm", xn.data(), {Tr, D});
    const int64_t first = ps.last_only ? Tr - 1 : 0, n_out = Tr - first;
    std::vector<float> logits(static_cast<size_t>(n_out * V));  // (n_out, V)
    linear(xn.data() + first * D, n_out, output, output_b, logits.data());
    ps.tp.maybe("logits", logits.data(), {n_out, V});
    return logits;
  }

  // forward_packed_rows: the final norm and the logits of rows `rows` only (increasing) into out (n, V), or
  // with chunk > 0 chunk rows at a time into out (chunk, V), each(first, rows) after each chunk. The rows are
  // moved to the front of x first (the pass is over; rows[i] >= i). Norm and matmul work row by row, so each
  // row's bits are output_logits'. No hook point is offered.
  void output_rows(const std::vector<int32_t>& rows, float* out, size_t chunk,
                   const std::function<void(size_t, size_t)>* each) {
    const int64_t n = static_cast<int64_t>(rows.size());
    for (int64_t i = 0; i < n; ++i)
      if (const int64_t r = rows[static_cast<size_t>(i)]; r != i)
        std::memcpy(x.data() + i * D, x.data() + r * D, sizeof(float) * static_cast<size_t>(D));
    norm(x.data(), n, out_norm_w, out_norm_b, xn.data());
    const int64_t c = chunk > 0 ? static_cast<int64_t>(std::min<size_t>(chunk, rows.size())) : n;
    for (int64_t c0 = 0; c0 < n; c0 += c) {
      const int64_t m = std::min(c, n - c0);
      linear(xn.data() + c0 * D, m, output, output_b, out);  // (m, V)
      if (each && *each) (*each)(static_cast<size_t>(c0), static_cast<size_t>(m));
    }
  }

  // Attention of a packed trie: query row t against the keys of its path (root .. t), from the q, k, v
  // buffers of this pass; writes att (T, H*E). ALiBi distances are depths, as in a single sequence.
  void packed_attention(int l, const pass& ps) {
    for (const char* w : {"attn.scores", "attn.probs"})
      if (ps.tp.wants(layer_name(l, w)))
        fail(errc::unsupported, 0,
             "engine: hook point '" + layer_name(l, w) +
                 "' is not available in a packed forward (attention is per trie path)");
    const int64_t T = ps.T;
    const std::vector<int32_t>& parent = *ps.parent;  // (T)
    const std::vector<int64_t>& depth = ps.depth;     // (T)
    const int64_t nq = H * E, nk = Hk * E, group = H / Hk;
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(E)));
    int64_t work = 0;
    for (int64_t t = 0; t < T; ++t) work += 2 * H * E * (depth[static_cast<size_t>(t)] + 1);
    const int attn_threads = threads_for(work, threads);
#pragma omp parallel for num_threads(attn_threads) schedule(dynamic, 16)
    for (int64_t t = 0; t < T; ++t) {
      static thread_local std::vector<int64_t> path;   // (n) rows of t's path, root first
      static thread_local aligned_vector<float> srow;  // (n)
      const int64_t n = depth[static_cast<size_t>(t)] + 1;
      path.resize(static_cast<size_t>(n));
      for (int64_t j = t, i = n - 1; i >= 0; j = parent[static_cast<size_t>(j)], --i)
        path[static_cast<size_t>(i)] = j;
      if (srow.size() < static_cast<size_t>(n)) srow.resize(static_cast<size_t>(n));
      for (int64_t hh = 0; hh < H; ++hh) {
        const int64_t g = hh / group;
        const float slope = hp.pos == pos_kind::alibi ? alibi_slope(hh, H) : 0.0f;
        const kv_rows key{k.data() + g * E, nk, path.data()}, val{v.data() + g * E, nk, path.data()};
        attention_scores(1, q.data() + t * nq + hh * E, nq, &n, E, key, scale, slope, srow.data(), n);
        softmax(srow.data(), n);
        attention_weigh(1, srow.data(), n, &n, E, val, att.data() + t * nq + hh * E, nq);
      }
    }
  }
};

runner::runner(std::unique_ptr<impl> p) : p_(std::move(p)) {}
runner::~runner() = default;

result<std::unique_ptr<runner>> runner::create(const model& m, const run_options& opt) {
  auto p = std::make_unique<impl>();
  p->m = &m;
  p->opt = opt;
  p->threads = opt.threads > 0 ? opt.threads : omp_get_max_threads();
  if (!m.source) return error{errc::bad_value, 0, "engine: model has no source archive", ""};
  for (const source_file& f : m.source->files)  // the weights are read whole: 2 MiB pages where offered
    if (f.map && f.role == "weights") f.map->advise_hugepage();
  try {
    p->bind();
    p->repack();
  } catch (failure& f) {
    if (f.err().where.empty()) f.err().where = m.source->path;
    return f.err();
  } catch (const std::bad_alloc&) {
    return error{errc::limit, 0, "engine: out of memory binding weights", m.source->path};
  }
  return std::unique_ptr<runner>(new runner(std::move(p)));
}

result<std::vector<float>> runner::forward(const std::vector<int32_t>& tokens, hook* h) {
  try {
    return p_->run(tokens, h, false);
  } catch (failure& f) {
    return f.err();
  }
}

result<std::vector<float>> runner::forward_packed(const std::vector<int32_t>& tokens,
                                                  const std::vector<int32_t>& parent, hook* h) {
  try {
    return p_->run(tokens, h, false, &parent);
  } catch (failure& f) {
    return f.err();
  }
}

result<size_t> runner::forward_packed_rows(const std::vector<int32_t>& tokens,
                                           const std::vector<int32_t>& parent,
                                           const std::vector<int32_t>& rows, float* logits) {
  return forward_packed_rows(tokens, parent, rows, logits, 0, {});
}

result<size_t> runner::forward_packed_rows(const std::vector<int32_t>& tokens,
                                           const std::vector<int32_t>& parent,
                                           const std::vector<int32_t>& rows, float* logits, size_t chunk_rows,
                                           const std::function<void(size_t, size_t)>& each) {
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i] < 0 || static_cast<size_t>(rows[i]) >= tokens.size() || (i > 0 && rows[i] <= rows[i - 1]))
      return error{errc::bad_value, 0,
                   "engine: packed output row " + std::to_string(rows[i]) + " (entry " + std::to_string(i) +
                       ") is not an increasing row of the " + std::to_string(tokens.size()) + "-row batch",
                   ""};
  try {
    p_->run(tokens, nullptr, false, &parent, 0, nullptr, nullptr, &rows, logits, chunk_rows, &each);
    return rows.size();
  } catch (failure& f) {
    return f.err();
  }
}

result<std::vector<float>> runner::forward_packed_from(int layer, const std::vector<float>& resid,
                                                       const std::vector<int32_t>& tokens,
                                                       const std::vector<int32_t>& parent, hook* h) {
  if (layer < 0 || layer >= p_->hp.n_layer)
    return error{
        errc::bad_value, 0,
        "engine: packed pass from layer " + std::to_string(layer) + " of " + std::to_string(p_->hp.n_layer),
        ""};
  if (resid.size() != tokens.size() * static_cast<size_t>(p_->D))
    return error{errc::bad_value, 0,
                 "engine: packed pass from a layer needs (T, D) = (" + std::to_string(tokens.size()) + ", " +
                     std::to_string(p_->D) + ") residual rows, got " + std::to_string(resid.size()) +
                     " floats",
                 ""};
  try {
    return p_->run(tokens, h, false, &parent, layer, resid.data());
  } catch (failure& f) {
    return f.err();
  }
}

result<std::vector<float>> runner::forward_packed_staged(const std::vector<int32_t>& stage,
                                                         const std::vector<float>& resid,
                                                         const std::vector<int32_t>& tokens,
                                                         const std::vector<int32_t>& parent, hook* h) {
  const int n_layer = p_->hp.n_layer;
  if (stage.size() != tokens.size() || tokens.empty())
    return error{errc::bad_value, 0,
                 "engine: staged pass has " + std::to_string(tokens.size()) + " tokens but " +
                     std::to_string(stage.size()) + " start blocks",
                 ""};
  for (size_t t = 0; t < stage.size(); ++t)
    if (stage[t] < 0 || stage[t] >= n_layer || (t > 0 && stage[t] < stage[t - 1]))
      return error{errc::bad_value, 0,
                   "engine: staged row " + std::to_string(t) + " has start block " +
                       std::to_string(stage[t]) + " (start blocks must be nondecreasing over rows, in [0, " +
                       std::to_string(n_layer) + "))",
                   ""};
  if (resid.size() != tokens.size() * static_cast<size_t>(p_->D))
    return error{errc::bad_value, 0,
                 "engine: staged pass needs (T, D) = (" + std::to_string(tokens.size()) + ", " +
                     std::to_string(p_->D) + ") residual rows, got " + std::to_string(resid.size()) +
                     " floats",
                 ""};
  try {
    return p_->run(tokens, h, false, &parent, stage[0], resid.data(), &stage);
  } catch (failure& f) {
    return f.err();
  }
}

result<std::vector<float>> runner::forward_last(const std::vector<int32_t>& tokens, hook* h) {
  try {
    return p_->run(tokens, h, true);
  } catch (failure& f) {
    return f.err();
  }
}

void runner::reset() {
  p_->pos = 0;
}
void runner::truncate(int64_t pos) {
  p_->pos = std::clamp<int64_t>(pos, 0, p_->pos);
}
int64_t runner::position() const {
  return p_->pos;
}
uint64_t runner::repacked_bytes() const {
  return p_->repacked_size;
}

const uint8_t* runner::repacked_data() const {
  return p_->repacked ? p_->repacked->bytes.data() : nullptr;
}

int64_t runner::vocab_size() const {
  return p_->V;
}
int64_t runner::context_length() const {
  return p_->n_ctx;
}
const model& runner::source() const {
  return *p_->m;
}

result<std::vector<double>> runner::token_logprobs(const std::vector<int32_t>& tokens, size_t first_scored) {
  reset();
  std::vector<double> out;
  if (tokens.empty()) return out;
  first_scored = std::max<size_t>(first_scored, 1);
  const int64_t V = p_->V;
  constexpr size_t chunk = 256;
  for (size_t s = 0; s + 1 < tokens.size(); s += chunk) {
    // Positions [s, e) produce predictions for tokens [s+1, e+1).
    const size_t e = std::min(tokens.size() - 1, s + chunk);
    std::vector<int32_t> part(tokens.begin() + static_cast<std::ptrdiff_t>(s),
                              tokens.begin() + static_cast<std::ptrdiff_t>(e));
    auto lg = forward(part);
    if (!lg) return lg.err();
    for (size_t i = s; i < e; ++i) {
      if (i + 1 < first_scored) continue;
      const float* row = lg.value().data() + static_cast<int64_t>(i - s) * V;
      double mx = 0, log_sum = 0;
      row_log_sum(row, V, mx, log_sum);
      out.push_back(static_cast<double>(row[tokens[i + 1]]) - mx - log_sum);
    }
  }
  return out;
}

std::vector<std::string> hook_names(const model& m) {
  std::vector<std::string> n{"embed"};
  static const char* per_layer[] = {"resid.pre",   "attn_norm",  "attn.q",    "attn.k",   "attn.v",
                                    "attn.scores", "attn.probs", "attn.z",    "attn.out", "resid.mid",
                                    "mlp.pre",     "mlp.out",    "resid.post"};
  for (int l = 0; l < m.hp.n_layer; ++l)
    for (const char* w : per_layer) n.push_back(layer_name(l, w));
  n.push_back("final.norm");
  n.push_back("logits");
  return n;
}

std::string engine_unsupported_reason(const model& m) {
  if (!family_supported(m.family))
    return "architecture '" + m.architecture + "' (" + arch_family_name(m.family) +
           ") is not supported by the forward pass";
  if (m.source)
    for (const role_entry& e : m.roles) {
      const tensor_view& t = m.source->tensors.at(e.tensor);
      if (!dtype_runnable(t.type))
        return std::string("tensor type ") + dtype_name(t.type) + " of '" + e.canonical +
               "' is not supported";
    }
  return {};
}

}  // namespace gb::engine
