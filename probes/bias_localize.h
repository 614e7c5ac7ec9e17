// probes/bias_localize.h: where does a bias live? Direct logit attribution (DLA) of minimal pairs: each
// sentence's summed target logits split into the contributions of the embedding, every attention head,
// every layer's attention output bias and MLP, through the final norm with its scale frozen per position
// (TransformerLens decompose_resid / direct logit attribution). localize_pairs runs pairs in packed groups
// (one engine::runner::forward_packed per group, each pair's sentences sharing their prefix rows);
// dla_sentence is one forward pass per sentence (the reference: the same bits).
//
//   auto w = gb::probes::dla_weights::create(model);                 // W_O per layer, final norm,
//   unembedding auto s = gb::probes::dla_sentence(runner, w.value(), ids, 1);    // ids = [BOS] +
//   encode(sentence) s.value().heads[l * H + h], s.value().mlp[l], s.value().target_logits, s.value().ll
//   gb::probes::localize_result r = gb::probes::localize_pairs(runner, w.value(), pairs, {});
//
// Definitions (positions t = first-1 .. n-2 predict targets u = tokens[t+1]; x_t = the residual leaving
// the last block; s_t = its frozen norm scale, 1/sqrt(mean(x_t^2) + eps) (RMSNorm) or 1/sqrt(var(x_t) + eps)
// (LayerNorm, whose centring is linear and is applied to the direction); g_t = s_t * (w_norm (.) W_U[u]):
//   embed      = sum_t g_t . embed_t
//   head(l,h)  = sum_t g_t . W_O[:, h*E:(h+1)*E] z_t(l,h)       (z: blk.l.attn.z, before the projection)
//   attn_bias(l) = sum_t g_t . b_O(l)
//   mlp(l)     = sum_t g_t . mlp.out_t(l)                      (its bias included)
//   constant   = sum_t (b_norm . W_U[u] + b_U[u])
// The terms add up, in double, to target_logits = sum_t logit_t[u] (checked against the engine's own f32
// logits: dla_sentence fails when they differ by more than float rounding, e.g. on a model with logit
// soft-capping, which is not linear). log_partition = sum_t logsumexp(logit_t) is the non-decomposed
// remainder: ll = target_logits - log_partition. A pair's terms are differences, stereotypical minus
// anti-stereotypical sentence.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "formats/error.h"
#include "inspect/model.h"
#include "probes/bias.h"
#include "probes/engine/engine.h"

namespace gb::probes {

class dla_weights {
 public:
  static result<dla_weights> create(const model& m);
  dla_weights(dla_weights&&) noexcept;
  dla_weights& operator=(dla_weights&&) noexcept;
  ~dla_weights();
  int64_t layers() const { return L_; }
  int64_t heads() const { return H_; }
  struct impl;
  const impl& data() const { return *p_; }

 private:
  explicit dla_weights(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
  int64_t L_ = 0, H_ = 0;
};

struct dla_terms {
  double embed = 0, constant = 0;
  std::vector<double> heads;        // (L, H)
  std::vector<double> attn_bias;    // (L)
  std::vector<double> mlp;          // (L)
  double target_logits = 0;         // the sum of every term above
  double engine_target_logits = 0;  // the engine's f32 logits summed (float rounding away from target_logits)
  double log_partition = 0;
  double ll = 0;      // target_logits - log_partition
  size_t tokens = 0;  // scored positions
  double sum_terms() const;
  dla_terms& operator-=(const dla_terms& b);  // every term; same shapes
};

// log sum_v exp(row[v]) of one row of logits, in double (max first).
double row_log_partition(const float* row, int64_t V);
// out[r - r0] = row_log_partition of rows [r0, r1) of (rows, V) logits; rows in parallel (each row alone:
// the same bits for any thread count).
void rows_log_partition(const std::vector<float>& logits, int64_t V, int64_t r0, int64_t r1, double* out);

// Sums of every component's activation over the positions of the sentences given to dla_sentence (every
// position the pass computes, 0 .. n-2): the dataset mean that ablation (probes/bias_ablate.h) writes.
struct activation_sums {
  std::vector<double> z;    // (L, H*E) sums of blk.l.attn.z rows
  std::vector<double> mlp;  // (L, D) sums of blk.l.mlp.out rows
  size_t rows = 0;
};

// One forward pass of `tokens` from position 0 (the runner is reset), scoring targets [first, n). The
// attribution arithmetic runs on `threads` OpenMP threads (0 = the OpenMP default), one scored position
// each, summed in position order: the same bits for any thread count. acc: when given, receives the
// sentence's activations.
result<dla_terms> dla_sentence(engine::runner& run, const dla_weights& w, const std::vector<int32_t>& tokens,
                               size_t first = 1, int threads = 0, activation_sums* acc = nullptr);

struct localize_pair {
  std::string id, group;
  std::vector<int32_t> more, less;  // stereotypical / anti-stereotypical token ids (first = 1 scored)
};

struct component_rank {
  std::string name;  // "embed", "L3H5", "L3.mlp", "L3.attn_bias", "constant"
  int layer = -1, head = -1;
  double mean_diff = 0;  // mean over pairs of (more - less)
  interval ci;           // bootstrap over pairs
};

struct localize_options {
  size_t top = 10;
  int resamples = 1000;
  uint64_t seed = 1;
  int threads = 0;         // attribution arithmetic (0 = the OpenMP default)
  size_t max_rows = 512;   // rows of a group's packed pass (pairs are added while they fit; at least one)
  bool reference = false;  // the reference: one dla_sentence pass per sentence (the same bits)
};

// A pair in a packed pass (engine::runner::forward_packed): its two sentences (every token but the last,
// the positions that predict a next token) share the rows of their common prefix.
struct pair_rows {
  int32_t row0 = 0;
  std::vector<int32_t> a, b;  // the pass's row of each position of `more`, of `less`
};
// Appends the pair's rows to a packed pass's tokens and parents; pair_rows_count: how many it appends.
pair_rows pair_append(const localize_pair& p, std::vector<int32_t>& tokens, std::vector<int32_t>& parent);
size_t pair_rows_count(const localize_pair& p);

struct localize_result {
  int64_t L = 0, H = 0;
  std::vector<localize_pair> pairs;
  std::vector<dla_terms> diffs;  // per pair: terms(more) - terms(less)
  std::vector<double> ll_more, ll_less;
  dla_terms mean;                      // mean of diffs
  std::vector<component_rank> ranked;  // every component, largest |mean_diff| first
  double max_sum_error = 0;            // max |target_logits - engine_target_logits| over sentences
  activation_sums activations;         // over both sentences of every pair
};

// The minimal pairs of a suite, tokenized by the harness rule ([start] + encode(sentence)): crows-pairs
// (sent_more, sent_less), winobias (pro, anti), templates (context + first word, context + second word:
// the shared context cancels in the difference). Pairs longer than the context are skipped (counted).
std::vector<localize_pair> localize_pairs_read(scorer& s, const std::string& suite, const std::string& path,
                                               size_t limit, size_t* skipped = nullptr);

result<localize_result> localize_pairs(engine::runner& run, const dla_weights& w,
                                       const std::vector<localize_pair>& pairs, const localize_options& o);

// ---- activation patching (causal), pairs of equal token length ----
// The anti-stereotypical sentence (`less`) is the clean run, the stereotypical one (`more`) the corrupted run
// that receives its activations. Metric of a run: M = sum over the scored positions t of log p(more[t+1]) -
// log p(less[t+1]) where the next tokens differ and log p(the shared next token) where they agree (so a
// one-word substitution is measured by the rest of the sentence). effect = (M_patched - M_corrupted) /
// (M_clean - M_corrupted), as TransformerLens's patching module (NaN when M_clean == M_corrupted).
//   resid(l)    blk.l.resid.pre patched at the positions whose tokens differ (layer 0: the whole clean run,
//   1) head(l, h)  head h's slice of blk.l.attn.z patched at every position
// Positions before the first differing token are the same in both runs, and a patch at block l leaves
// blocks 0 .. l-1 as in the corrupted run: pairs go in groups; a group's clean and corrupted runs are one
// packed pass (engine::runner::forward_packed) whose hooks keep every blk.N.resid.pre and attn.z; then
// each layer l is one pass from block l (engine::runner::forward_packed_from, from the corrupted run's
// residual) holding every patched run of that layer for every pair of the group, as branches of a prefix
// trie whose trunk (each pair's shared prefix) is computed once. The same bits as the reference.
struct patch_pair_result {
  bool qualifies = false;  // same token length
  double clean = 0, corrupted = 0;
  std::vector<double> resid;  // (L)
  std::vector<double> heads;  // (L, H)
};
// reuse_prefix = false: every patched run as its own forward() from position 0 (the reference the packed
// runs are tested against: the same bits). true: patch_pairs's fast path on a group of this one pair.
result<patch_pair_result> patch_pair(engine::runner& run, const localize_pair& p, int64_t L, int64_t H,
                                     bool reuse_prefix = true);

struct patch_summary {
  size_t qualifying = 0, undefined = 0;  // pairs of equal length; of those, M_clean == M_corrupted
  std::vector<double> resid, heads;      // mean effect over the qualifying pairs with a defined effect
  std::vector<patch_pair_result> pairs;  // in the order of the input pairs
};
// max_rows: the rows of a group's pass from one layer (pairs are added while they fit; at least one).
// Process allocator policy for a localisation run (call once, before it; it stays for the process): every
// packed pass returns fresh (rows, V) logits of 30-130 MB, which glibc maps and unmaps per pass, so each pass
// page-faults and zeroes them anew (a third of the CPU time of --patch on the 134M model). This keeps such
// buffers in the heap (allocations below 1 GiB from the heap, up to 2 GiB of freed memory kept): the next
// pass reuses the memory of the last. For programs that run localisation, not for a library user's process.
void localize_heap_policy();

result<patch_summary> patch_pairs(engine::runner& run, const std::vector<localize_pair>& pairs, int64_t L,
                                  int64_t H, size_t max_rows = 768);

}  // namespace gb::probes
