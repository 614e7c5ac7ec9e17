// probes/patching.h: activation patching. Runs a clean and a corrupted prompt (same length), then reruns
// the corrupted prompt once per component with that component's activation replaced by its clean value,
// and reports how much of the metric each patch restores: (patched - corrupt) / (clean - corrupt).
// Components: the residual stream entering each layer at each position (blk.N.resid.pre), each layer's
// attention output (attn.out) and MLP output (mlp.out) at all positions, and each head at all positions.
// A head is patched exactly through the engine's existing hooks: its contribution to attn.out is
// W_o[:, h*E:(h+1)*E] z_h with z_h = probs_h v_g (from blk.N.attn.probs and attn.v); the patch adds the
// clean-minus-corrupt contribution to the corrupted attn.out (engine::hook::modify).
// Metric: logit-diff = logit(a) - logit(b) at the last position.
//
//   auto r = gb::probes::patch_run(runner, clean_ids, corrupt_ids, {tok_a, tok_b});
//   for (auto& c : r.value().components) printf("%s L%d h%d pos%lld %.3f\n", c.kind.c_str(), ...);
//
// When clean and corrupt give the same metric, restored is defined as 1 (100%) if the patched metric
// equals it within 1e-6 (relative), else 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "formats/error.h"
#include "probes/engine/engine.h"
#include "probes/engine/tokenizer.h"

namespace gb::probes {

struct patch_metric {
  int32_t a = -1, b = -1;  // logit(a) - logit(b) at the last position
};

struct patch_component {
  std::string kind;  // "resid" (resid.pre at one position), "attn", "mlp", "head"
  int layer = 0;
  int head = -1;          // "head" only
  int64_t position = -1;  // "resid" only; -1 = all positions
  double metric = 0;      // metric of the corrupted run with this component patched
  double restored = 0;    // (metric - corrupt) / (clean - corrupt)
};

struct patch_result {
  double clean = 0, corrupt = 0;
  int64_t T = 0, L = 0, H = 0;
  std::vector<patch_component> components;  // resid (layer-major, positions), attn, mlp, heads (layer-major)
  // Lookup helper: nullptr when absent.
  const patch_component* find(const std::string& kind, int layer, int head = -1, int64_t position = -1) const;
};

struct patch_options {
  bool resid = true, attn = true, mlp = true, heads = true;
};

// Errors: empty prompts, different lengths (errc::bad_value), tokens outside the vocabulary, engine errors.
result<patch_result> patch_run(engine::runner& run, const std::vector<int32_t>& clean,
                               const std::vector<int32_t>& corrupt, const patch_metric& metric,
                               const patch_options& opt = {});

// A metric token by id (all digits, below V) or by text: the exact piece, its SentencePiece word-start form
// ("\u2581" + text), its GPT-2 byte-level form ("\u0120" + text), or text that encodes to one token.
std::optional<int32_t> patch_token(const engine::tokenizer& tok, const std::string& s, int64_t V);

}  // namespace gb::probes
