// inspect/stats.h: per-tensor statistics streamed over the mapped weights (dequantised as ggml does),
// per-layer and per-role summaries, and the findings they support.
//
// Per tensor: count, mean, std (population), min, max, abs-max, L2 norm, fraction of zeros, NaN / Inf
// counts, excess kurtosis, outlier rows and channels (a row / column holding a value with
// |x - mean| > 6 std). Moments come from double power sums per chunk about a shift near the mean, merged
// with Pebay's pairwise formulas: every partial is a pure merge, so chunks, threads or processes combine
// to the same numbers.
// Findings (codes): tensor.nan, tensor.inf, tensor.all_zero, tensor.constant, tensor.duplicate (same
// dtype, shape and values under another name; found by value digest), tensor.tied_copy (output.weight a copy
// of tok_embd.weight), tensor.norm_anomaly and tensor.outlier_anomaly (robust z-score against the other
// layers of the same role: z = 0.6745 (x - median) / MAD, flagged when |z| > 3.5 (Iglewicz & Hoaglin) and
// x is more than 50% away from the median, with >= 4 layers), tensor.unreadable (dtype that cannot be
// decoded).
//
//   std::vector<gb::tensor_item> items = gb::tensor_items(model);
//   gb::stats_report s = gb::stats_compute(items, {});
//   for (const gb::tensor_stats& t : s.tensors) std::printf("%s %g\n", t.name.c_str(), t.std);
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "formats/error.h"
#include "inspect/stats_quant.h"
#include "inspect/tensor_values.h"

namespace gb {

// Mergeable moments of the finite values.
struct moments {
  uint64_t n = 0;
  double mean = 0, m2 = 0, m3 = 0, m4 = 0;  // central sums: m_k = sum (x - mean)^k
  void add(const float* x, int64_t n);      // finite values only (caller filters)
  // count values given as their power sums about `shift` (add computes these, then calls this).
  void add_sums(int64_t count, double shift, const power_sums& s);
  void merge(const moments& o);
  double variance() const { return n ? m2 / static_cast<double>(n) : 0.0; }
  double excess_kurtosis() const;  // n m4 / m2^2 - 3 (0 when m2 == 0)
};

struct tensor_stats {
  std::string name, stored_name;
  role_kind role = role_kind::other;
  int layer = -1;
  std::string dtype_name;
  std::vector<int64_t> shape;
  bool readable = true;  // false: dtype not decodable (message in `note`)
  std::string note;
  uint64_t count = 0, nan_count = 0, inf_count = 0, zero_count = 0;
  moments mom;
  double min = 0, max = 0, abs_max = 0, l2 = 0;  // over finite values
  double mean = 0, std = 0, kurtosis = 0, zero_fraction = 0;
  int64_t outlier_rows = 0, outlier_cols = 0;                 // rows / columns with |x - mean| > 6 std
  std::vector<int64_t> outlier_row_index, outlier_col_index;  // up to 8 each, largest deviation first
  std::string values_hex;  // value digest (hash.h) when computed, else empty
  std::string excluded;    // from tensor_item
};

struct group_stats {  // merged over the tensors of a layer or a role
  std::string key;    // "blk.3" / "global", or a role name "attn.q"
  size_t tensors = 0;
  uint64_t count = 0, nan_count = 0, inf_count = 0;
  moments mom;
  double abs_max = 0, l2 = 0;
};

struct stats_report {
  std::vector<tensor_stats> tensors;
  std::vector<group_stats> layers, roles;
  std::vector<finding> findings;
  std::string anomaly_rule =
      "robust z-score over layers of one role: z = 0.6745 (x - median) / MAD, |z| > 3.5 and |x - median| > "
      "50% of the "
      "median, >= 4 layers";
};

struct stats_options {
  int threads = 0;            // 0 = all cores
  bool stats = true;          // false: digests only
  bool values_digest = true;  // SHA-256 of canonical values (duplicates; hash.h reuses it)
  bool release_pages = true;  // madvise DONTNEED behind the scan
  bool digest_lanes = true;   // value digests on SHA-256 lanes (sha256_lanes.h) when the CPU has them;
                              // false: OpenSSL, one tensor per thread (the twin the lanes are tested against)
};

// One streaming pass over every item. `side_jobs` (hash.h: one whole-file SHA-256 per file, largest first)
// are taken first from the same queue as the tensors, by whichever thread is free: one file is hashed on
// one thread while the others start on tensors, several files are hashed side by side.
// `on_values_digest(i, digest)` receives each item's value digest (32 bytes) when values_digest is set.
stats_report stats_compute(const std::vector<tensor_item>& items, const stats_options& opt,
                           const std::vector<std::function<void()>>& side_jobs = {},
                           const std::function<void(size_t, const uint8_t*)>& on_values_digest = {});

// The findings and summaries only (stats_compute calls it; exposed for tests).
void stats_summarise(stats_report& r);

// Accumulates one tensor's rows (exposed for tests and for diff's reuse): feed rows, then finish.
class stats_accumulator {
 public:
  stats_accumulator(int64_t rows, int64_t cols);
  void add_row(int64_t r, const float* x);  // x: cols values of canonical row r
  // x: n values of canonical row r from column c0 (rows wider than tensor_reader::piece_cols() come
  // in pieces; a row fed whole is bit for bit add_row).
  void add_piece(int64_t r, int64_t c0, const float* x, int64_t n);
  // Row r from its stored blocks of dtype t (block_sums_supported(t); the row's values as stored, no
  // Gemma +1): stats_quant.h's one pass over the bytes, the same figures as add_row over the dequantised
  // row (the moments to rounding). False, nothing added, on a scale that is not finite: use add_row.
  bool add_row_blocks(int64_t r, dtype t, const uint8_t* blocks);
  void finish(tensor_stats& out) const;    // fills count .. outliers
  void merge(const stats_accumulator& o);  // o covered other rows of the same tensor
  // Row and column extremes (outlier rows / columns) are kept for up to this many rows / columns (two
  // floats each, 128 MiB); beyond, those outliers are not computed and tensor_stats::note says so.
  static constexpr int64_t max_tracked = int64_t{1} << 24;

 private:
  bool track_rows() const { return rows_ <= max_tracked; }
  bool track_cols() const { return rows_ > 1 && cols_ <= max_tracked; }
  template <bool Cols>
  void add_values(int64_t r, const float* x, int64_t n, float* cmin, float* cmax);
  void close_piece(int64_t r, int64_t n, uint64_t z, float mn, float mx);
  int64_t rows_, cols_;
  uint64_t count_ = 0, nan_ = 0, inf_ = 0, zero_ = 0;
  moments mom_;
  double sumsq_ = 0;
  float min_, max_;
  std::vector<float> row_min_, row_max_;  // (R)
  std::vector<float> col_min_, col_max_;  // (C) when track_cols(), else empty
  std::vector<float> finite_;             // scratch (C)
};

}  // namespace gb
