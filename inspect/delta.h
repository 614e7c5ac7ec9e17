// inspect/delta.h: delta releases. Vicuna v0 / v1.1 (and others) were published as weight deltas against
// LLaMA (fine-tuned - base), to be added to the base by whoever holds it.
//
// Detection, from a diff (inspect/diff.h) of BASE against DELTA: same tensor names and shapes, and the
// delta's values centred near 0 relative to the base's scale: rms(delta) / rms(base) < 0.5 over at least
// 90% of the compared elements, norm gains included (a model's RMSNorm / LayerNorm gains sit near 1, a
// delta's near 0 — the sign that cannot come from training).
// Reconstruction: out = base + delta tensor by tensor, in the delta's stored names, layout and dtype (sum
// in f32, rounded to the delta's dtype as torch's half/bfloat16 add does), written as safetensors beside the
// delta's config and tokenizer files; the canonical root digest of the result is returned so it can be
// compared with a published one.
//
//   gb::diff_report d = gb::diff_models(base.items, delta.items, *base.ar, *delta.ar);
//   if (auto why = gb::delta_detect(d)) std::printf("%s\n", why->c_str());
//   gb::result<gb::delta_apply_report> r = gb::delta_apply(base, delta, "vicuna-7b");
//   r.value().root_hex;
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "inspect/diff.h"

namespace gb {

// One line when B looks like a delta against A, nullopt otherwise.
std::optional<std::string> delta_detect(const diff_report& d);

struct delta_apply_report {
  std::vector<std::string> files;  // written: OUT/model.safetensors + copied config/tokenizer files, or OUT
  size_t tensors = 0;
  std::string root_hex;  // canonical root digest (gb-root-v1) of the reconstructed model
};

// OUT ending in ".safetensors": that one file; otherwise a folder (created) with model.safetensors and the
// delta's config / tokenizer files. Fails (mismatch) naming the first tensor that is missing from the base,
// has another shape or another stored layout; (unsupported) for delta dtypes other than f32/f16/bf16.
result<delta_apply_report> delta_apply(const integrity_input& base, const integrity_input& delta,
                                       const std::string& out);

}  // namespace gb
