// inspect/diff.h: what changed between two models, and a lineage verdict with its evidence.
//
// Tensors are matched by canonical name (tensor_values.h), so a GGUF and an HF folder of one model line
// up; values are compared in canonical layout after dequantisation, streaming row by row (models bigger
// than memory are fine). Per shared tensor: identical (same dtype and bytes), equal (same values, other
// encoding), or rel_l2 = |a - b| / |a|, cosine, max |a - b|, classified against the tolerance of the
// coarser dtype of the two (diff_dtype_tolerance):
//   close     rel_l2 <= tolerance (a re-encoding: quantisation / conversion error)
//   unrelated |cosine| < 0.2
//   moved     otherwise (trained further)
// Verdict (fractions weighted by element count over shared, same-shape tensors):
//   same_model   every tensor identical and the same tensor set            ("same weights: identical")
//   same_weights every tensor identical or equal (another container/layout) ("same weights")
//   reencoded    every tensor identical, equal or close, at least one close  ("same weights re-encoded")
//   unrelated    >= 50% of the elements in unrelated tensors, or nothing comparable
//   derived      otherwise: most weights close, some moved (the moved layers are named)
// A tied classifier (output.weight equal to tok_embd.weight, present on one side only) is not an added
// tensor; rope_freqs is ignored (tensor_item::excluded).
//
//   gb::diff_report d = gb::diff_models(a_items, b_items, archive_a, archive_b);
//   std::printf("%s\n", d.verdict_text.c_str());
#pragma once

#include <set>
#include <string>
#include <vector>

#include "inspect/tensor_values.h"

namespace gb {

struct diff_dtype_tol {
  double typical;  // typical rel L2 error of round-tripping N(0, s) weights through the dtype
  double bound;    // the largest rel L2 error still read as a re-encoding
};
diff_dtype_tol diff_dtype_tolerance(dtype t);

enum class tensor_delta : uint8_t {
  identical,
  equal,
  close,
  moved,
  unrelated,
  reshaped,
  undecodable,
  added,
  removed
};
const char* tensor_delta_name(tensor_delta d);

struct tensor_diff {
  std::string name;
  tensor_delta status = tensor_delta::identical;
  int layer = -1;
  std::string dtype_a, dtype_b;
  std::vector<int64_t> shape_a, shape_b;
  uint64_t count = 0;
  double rel_l2 = 0, cosine = 1, max_abs = 0;
  double expected = 0, tolerance = 0;  // typical and bound rel error of the coarser dtype
  // Raw sums for pure merges (layer profile): sum a^2, sum b^2, sum (a-b)^2.
  double sum_a2 = 0, sum_b2 = 0, sum_d2 = 0;
};

struct meta_diff {
  std::string key, a, b;  // empty a: added in B; empty b: removed in B
};

struct layer_change {
  std::string key;  // "blk.3" or "global"
  size_t tensors = 0, moved = 0;
  double rel_l2 = 0;  // sqrt(sum (a-b)^2 / sum a^2) over the layer's shared tensors
  double min_cosine = 1;
};

enum class lineage : uint8_t { same_model, same_weights, reencoded, derived, unrelated };
const char* lineage_name(lineage l);
// The one --fail-on scale for a lineage verdict: same model/weights info, re-encoded low, derived high,
// unrelated critical.
severity lineage_level(lineage l);

struct diff_report {
  std::string format_a, format_b;
  std::vector<meta_diff> metadata;   // changed / added / removed keys (same-format comparisons)
  std::vector<meta_diff> hparams;    // model hyperparameters that differ
  std::vector<tensor_diff> tensors;  // every tensor of A and B
  std::vector<layer_change> layers;
  lineage verdict = lineage::unrelated;
  std::string verdict_text;           // one line
  std::vector<std::string> evidence;  // the figures behind it
};

struct diff_options {
  int threads = 0;
  bool release_pages = true;
};

// hp_a / hp_b may be null (no model could be built).
diff_report diff_models(const std::vector<tensor_item>& a, const std::vector<tensor_item>& b,
                        const archive& ar_a, const archive& ar_b, const hparams* hp_a = nullptr,
                        const hparams* hp_b = nullptr, const diff_options& opt = {});
// diff_models of two opened models (their hyperparameters when a model could be built). Throws gb::failure.
diff_report diff_inputs(const integrity_input& a, const integrity_input& b, int threads);
// The names of the tensors present in both models whose values changed (not identical, equal, added or
// removed).
std::set<std::string> diff_changed_tensors(const diff_report& d);

}  // namespace gb
