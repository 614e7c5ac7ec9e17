// probes/engine/engine.h: the instrumented CPU forward pass. One immutable gb::model (shared, memory
// mapped) + one `runner` per concurrent run; the runner owns the run state (KV cache, activations).
//
//   auto r = gb::engine::runner::create(model);            // result<unique_ptr<runner>>; fails (unsupported)
//   if (!r) return r.err();                                // naming the architecture or tensor type
//   gb::engine::runner& run = *r.value();
//   auto logits = run.forward({1, 403, 407});              // result<vector<float>>, shape (T, V) row-major
//   auto next = run.forward({261});                        // continues at position 3 with the KV cache
//   run.reset();                                           // back to position 0
//   auto lp = run.token_logprobs(ids);                     // log p(ids[i] | ids[<i]) for i >= 1
//   auto many = run.forward_packed({1, 5, 9, 7}, {-1, 0, 1, 0});  // "1 5 9" and "1 7" in one pass (trie)
//
// Hooks (two-phase, like ggml's scheduler callback): wants(name) is asked once per hook point per
// forward() call; only wanted tensors are materialised and handed to observe(). With no hook (or a hook
// that wants nothing) the pass does no extra work. observe() returning false stops the run: forward()
// then returns an error with errc::limit and message "stopped by hook" (the KV cache holds the positions
// already written; call reset() before reusing the runner).
//
// Hook point names (dimension letters: T new tokens, P = position() after the call (keys in the cache),
// D n_embd, H query heads, Hk kv heads, E head_dim, F n_ff, V vocab), every tensor float32 row-major:
//   embed               (T, D)       token (+ learned position) embedding, after the embedding norm (BLOOM)
//   blk.N.resid.pre     (T, D)       residual stream entering block N
//   blk.N.attn_norm     (T, D)       normalised input of attention
//   blk.N.attn.q        (T, H*E)     after bias and RoPE
//   blk.N.attn.k        (T, Hk*E)    after bias and RoPE
//   blk.N.attn.v        (T, Hk*E)
//   blk.N.attn.scores   (H, T, P)    scaled q.k (+ ALiBi), pre-softmax; masked (future) entries = -inf
//   blk.N.attn.probs    (H, T, P)    softmax of scores
//   blk.N.attn.z        (T, H*E)     per-head attention outputs (probs . v), before the output projection
//   blk.N.attn.out      (T, D)       after the output projection (and its bias)
//   blk.N.resid.mid     (T, D)       residual after attention (sequential blocks; parallel blocks: x + attn)
//   blk.N.mlp.pre       (T, F)       MLP hidden after the activation (act(gate) * up for gated MLPs)
//   blk.N.mlp.out       (T, D)       after the down projection (and its bias)
//   blk.N.resid.post    (T, D)       residual leaving block N
//   final.norm          (T, D)       after the output norm
//   logits              (T, V)
// Note for HF folders with q/k rows in rotate-half order (role_entry::hf_permuted), blk.N.attn.q/k
// are in that stored order (the engine applies rotate-half RoPE instead of permuting weights).
//
// Weights are used in place from the map (f32 [out, in]); f16/bf16/ggml block types are dequantised
// on the fly inside the matmul with formats/quant.h (bit-exact with ggml). Compute is f32 throughout.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "formats/error.h"
#include "inspect/model.h"
#include "probes/engine/activation_view.h"

namespace gb::engine {

// GELU arithmetic. exact: the model's own formula in f32 (erf GELU, or the tanh form for gelu_new/gelu_tanh
// models). ggml_f16_table: reproduce llama.cpp's arithmetic bit for bit: ggml's CPU backend computes every
// GELU (erf or tanh models alike) as the tanh form through a 64K table indexed by the input rounded to f16,
// holding f16-rounded outputs (GGML_GELU_FP16), with x <= -10 -> 0 and x >= 10 -> x. For comparing with
// llama.cpp only; its error against the true GELU is up to ~1e-3 relative.
enum class gelu_mode : uint8_t { exact, ggml_f16_table };

// Matmul arithmetic for ggml block weights. exact: weights decoded bit-exactly to f32, one f32 FMA chain per
// output. llamacpp: llama.cpp's CPU numerics (probes/engine/kernels_q8.h): activations quantized to 8 bits
// per block, integer dot products per block (q4_0, q8_0, q4_k, q5_k, q6_k; other types stay exact), to
// reproduce the deployed runtime's logits on quantized files. Both are batch- and thread-invariant.
enum class numerics_mode : uint8_t { exact, llamacpp };
enum class repack_mode : uint8_t { off, measured, all };

struct run_options {
  int threads = 0;          // 0 = OpenMP default (OMP_NUM_THREADS or all cores)
  bool kv_cache = true;     // false: every forward() starts at position 0 (no state kept)
  int64_t max_context = 0;  // 0 = the model's n_ctx; a smaller cap bounds KV cache memory
  gelu_mode gelu = gelu_mode::exact;
  numerics_mode numerics = numerics_mode::exact;
  // Ggml block matrices repacked at load time for the few-token kernel (probes/engine/repack.h; same bits):
  // measured, the types where it measured faster; all, every type it can; off (or GB_REPACK=0 in the
  // environment), read in place.
  repack_mode repack = repack_mode::measured;
};

class hook {
 public:
  virtual ~hook() = default;
  // Asked once per hook point per forward() call.
  virtual bool wants(std::string_view name) = 0;
  // a: the point's tensor (row-major float32, its shape), valid only during the call. Return false to stop
  // the run.
  virtual bool observe(std::string_view name, activation_view a) = 0;
  // Write access for activation patching, called right after observe() on the same wanted point: changes
  // to a.data flow into the rest of the pass. attn.scores, attn.probs and parallel-block resid.mid are copies
  // (changes there are ignored). Default: no change. Return false to stop the run.
  virtual bool modify(std::string_view name, mutable_activation_view a) {
    (void)name, (void)a;
    return true;
  }
};

class runner {
 public:
  // Validates that the engine can run the model (family, roles present, shapes, dtypes).
  static result<std::unique_ptr<runner>> create(const model& m, const run_options& opt = {});
  ~runner();
  runner(const runner&) = delete;
  runner& operator=(const runner&) = delete;

  // Appends tokens at the current position; returns logits for every new position, (T, V) row-major.
  // Errors: empty input, token id outside the vocabulary, position + T > context length, hook stop.
  result<std::vector<float>> forward(const std::vector<int32_t>& tokens, hook* h = nullptr);
  // Like forward() but returns only the last position's logits (V), bit-identical to forward()'s last row
  // (generation and prompt processing). The other positions skip the output projection and, once their K
  // and V are cached, the rest of the last layer and the final norm, unless the hook wants one of that
  // layer's points after attn.v or final.norm (then every row is computed and handed over as in forward()).
  result<std::vector<float>> forward_last(const std::vector<int32_t>& tokens, hook* h = nullptr);

  // A batch of sequences packed as a prefix trie, in one pass: row t holds tokens[t]; parent[t] is the row of
  // the previous token of its sequence (-1: first token, position 0), always an earlier row (t's ancestors
  // come before it: DFS or any topological order). Row t sits at position depth(t) (learned positions,
  // RoPE and ALiBi distances all by depth) and attends to its ancestors and itself only, so each row's
  // logits equal, bit for bit, those of runner::forward over its root-to-row path (every matmul row and every
  // query's attention is computed in an order that does not depend on the batch). Returns (T, V) logits.
  // Shared prefixes are rows shared by sequences. The KV cache and position() are neither read nor changed
  // (forward() after it continues where it was). Hooks: the per-token points (embed .. logits, shapes (T,
  // ...) with T = packed rows) work as in forward(), modify() included; a hook that wants blk.N.attn.scores
  // or attn.probs gets errc::unsupported (attention is per path, not a (H, T, P) tensor). Errors: empty
  // input, parent.size() != tokens.size(), parent[t] not in [-1, t) (bad_value), depth(t) >= context length
  // (limit), token outside the vocabulary.
  //   tokens {1, 5, 9, 7}, parent {-1, 0, 1, 0}: sequences "1 5 9" and "1 7" (row 0 shared)
  result<std::vector<float>> forward_packed(const std::vector<int32_t>& tokens,
                                            const std::vector<int32_t>& parent, hook* h = nullptr);

  // forward_packed for a scorer that reads some rows only: the logits of rows `rows` (strictly increasing
  // rows of the trie) into logits (rows.size(), V) row-major, which the caller provides (a scorer reuses one
  // buffer: no allocation or zeroing per pass); row i equals, bit for bit, row rows[i] of forward_packed's.
  // The other rows skip the final norm and the output projection. No hooks. Returns rows.size(). Errors:
  // those of forward_packed, rows not increasing in [0, T) (bad_value).
  result<size_t> forward_packed_rows(const std::vector<int32_t>& tokens, const std::vector<int32_t>& parent,
                                     const std::vector<int32_t>& rows, float* logits);
  // The same in chunks: logits holds (chunk_rows, V) (0: all rows at once), and each(first, n) is called once
  // rows[first .. first + n) have their logits in logits' first n rows, which the next chunk overwrites. A
  // scorer's buffer then stays (chunk_rows, V) however many rows a pass reads; each row's bits are the same
  // (the output projection gives a row the same bits in any batch).
  result<size_t> forward_packed_rows(const std::vector<int32_t>& tokens, const std::vector<int32_t>& parent,
                                     const std::vector<int32_t>& rows, float* logits, size_t chunk_rows,
                                     const std::function<void(size_t first, size_t n)>& each);

  // forward_packed from block `layer` on: resid (T, D) holds each row's blk.<layer>.resid.pre (as a hook
  // saw it in an earlier pass); the embedding and blocks 0 .. layer-1 are skipped, so each row's logits equal
  // those of forward_packed over the same trie whose rows had that residual there (bit for bit). Hooks see
  // blk.<layer>.resid.pre and later points. For reruns that change only later blocks (activation patching).
  // Errors: those of forward_packed, layer outside [0, n_layer), resid.size() != T * D (bad_value).
  result<std::vector<float>> forward_packed_from(int layer, const std::vector<float>& resid,
                                                 const std::vector<int32_t>& tokens,
                                                 const std::vector<int32_t>& parent, hook* h = nullptr);

  // forward_packed_from with a start block per row: row t joins the pass at block stage[t] with resid row t
  // (its blk.<stage[t]>.resid.pre) and skips the blocks before it. stage is nondecreasing over the rows (so
  // a row's ancestors have joined before it), each in [0, n_layer). Each row's logits equal those of
  // forward_packed over the same trie whose rows had that residual at their start block (bit for bit).
  // Hooks at block l see the rows joined so far, rows [0, T_l) (shapes (T_l, ...)); final.norm and logits
  // every row. For reruns that change each row from its own block on (ablation of components by layer).
  // Errors: those of forward_packed, stage.size() != T or not nondecreasing in [0, n_layer), resid.size() !=
  // T * D (bad_value).
  result<std::vector<float>> forward_packed_staged(const std::vector<int32_t>& stage,
                                                   const std::vector<float>& resid,
                                                   const std::vector<int32_t>& tokens,
                                                   const std::vector<int32_t>& parent, hook* h = nullptr);

  void reset();  // clear the KV cache / position
  // Rewind to position pos (0 <= pos <= position()): the KV cache keeps positions [0, pos), so a shared
  // prefix is computed once and each continuation runs from there. Out-of-range pos is clamped.
  void truncate(int64_t pos);
  int64_t position() const;
  int64_t vocab_size() const;
  uint64_t repacked_bytes() const;  // weight bytes repacked at load (run_options::repack)
  // Where the repacked copy lives (null: none). Runners of the same loaded model with the same matrices
  // repacked share one copy while any of them lives.
  const uint8_t* repacked_data() const;
  int64_t context_length() const;  // min(model n_ctx, run_options::max_context)
  const model& source() const;

  // log p(tokens[i] | tokens[<i]) for each i >= first_scored, from one pass over the whole sequence
  // starting at position 0 (resets first). Result has tokens.size() - first_scored entries.
  result<std::vector<double>> token_logprobs(const std::vector<int32_t>& tokens, size_t first_scored = 1);

 private:
  struct impl;
  explicit runner(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

// Names of every hook point for this model, in execution order (for errors listing what exists).
std::vector<std::string> hook_names(const model& m);

// The reason the engine cannot run `m` (empty when it can): "architecture 'mpt' is not supported ...".
std::string engine_unsupported_reason(const model& m);

}  // namespace gb::engine
