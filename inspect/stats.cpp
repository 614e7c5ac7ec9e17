// inspect/stats.cpp: streaming tensor statistics (see the header).
#include "inspect/stats.h"

#include <fcntl.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>

#include "inspect/model.h"
#include "inspect/sha256.h"
#include "inspect/sha256_lanes.h"
#include "inspect/stats_files.h"

namespace gb {

// ---- moments ------------------------------------------------------------------------------------

void moments::merge(const moments& o) {
  if (o.n == 0) return;
  if (n == 0) {
    *this = o;
    return;
  }
  const double na = static_cast<double>(n), nb = static_cast<double>(o.n), nn = na + nb;
  const double d = o.mean - mean, d2 = d * d;
  const double m2n = m2 + o.m2 + d2 * na * nb / nn;
  const double m3n =
      m3 + o.m3 + d2 * d * na * nb * (na - nb) / (nn * nn) + 3.0 * d * (na * o.m2 - nb * m2) / nn;
  const double m4n = m4 + o.m4 + d2 * d2 * na * nb * (na * na - na * nb + nb * nb) / (nn * nn * nn) +
                     6.0 * d2 * (na * na * o.m2 + nb * nb * m2) / (nn * nn) +
                     4.0 * d * (na * o.m3 - nb * m3) / nn;
  mean += d * nb / nn;
  m2 = m2n;
  m3 = m3n;
  m4 = m4n;
  n += o.n;
}

void moments::add(const float* x, int64_t count) {
  if (count <= 0) return;
  const double shift = n ? mean : static_cast<double>(x[0]);
  double s1 = 0, s2 = 0, s3 = 0, s4 = 0;
#pragma omp simd reduction(+ : s1, s2, s3, s4)
  for (int64_t i = 0; i < count; ++i) {
    const double d = static_cast<double>(x[i]) - shift, dd = d * d;
    s1 += d;
    s2 += dd;
    s3 += dd * d;
    s4 += dd * dd;
  }
  add_sums(count, shift, {s1, s2, s3, s4});
}

void moments::add_sums(int64_t count, double shift, const power_sums& s) {
  const double nn = static_cast<double>(count), mu = s.s1 / nn;
  moments c;
  c.n = static_cast<uint64_t>(count);
  c.mean = shift + mu;
  c.m2 = std::max(0.0, s.s2 - nn * mu * mu);
  c.m3 = s.s3 - 3.0 * mu * s.s2 + 2.0 * nn * mu * mu * mu;
  c.m4 = std::max(0.0, s.s4 - 4.0 * mu * s.s3 + 6.0 * mu * mu * s.s2 - 3.0 * nn * mu * mu * mu * mu);
  merge(c);
}

double moments::excess_kurtosis() const {
  if (n == 0 || m2 <= 0) return 0.0;
  return static_cast<double>(n) * m4 / (m2 * m2) - 3.0;
}

// ---- accumulator ----------------------------------------------------------------------------------

namespace {
constexpr float kInf = std::numeric_limits<float>::infinity();
inline bool finite_bits(float v) {
  uint32_t b;
  std::memcpy(&b, &v, 4);
  return (b & 0x7f800000u) != 0x7f800000u;
}
}  // namespace

stats_accumulator::stats_accumulator(int64_t rows, int64_t cols)
    : rows_(rows),
      cols_(cols),
      min_(kInf),
      max_(-kInf),
      row_min_(static_cast<size_t>(track_rows() ? rows : 0), kInf),
      row_max_(static_cast<size_t>(track_rows() ? rows : 0), -kInf),
      col_min_(static_cast<size_t>(track_cols() ? cols : 0), kInf),
      col_max_(static_cast<size_t>(track_cols() ? cols : 0), -kInf) {}

void stats_accumulator::add_row(int64_t r, const float* x) {
  add_piece(r, 0, x, cols_);
}

void stats_accumulator::add_piece(int64_t r, int64_t c0, const float* x, int64_t n) {
  if (track_cols())
    add_values<true>(r, x, n, col_min_.data() + c0, col_max_.data() + c0);
  else
    add_values<false>(r, x, n, nullptr, nullptr);
}

bool stats_accumulator::add_row_blocks(int64_t r, dtype t, const uint8_t* blocks) {
  if (cols_ <= 0 || !block_sums_supported(t)) return false;
  const double shift = mom_.n ? mom_.mean : static_cast<double>(block_first_value(t, blocks));  // as add
  block_row_stats s;
  const bool cols = track_cols();
  if (!block_row_scan(t, blocks, cols_, shift, cols ? col_min_.data() : nullptr,
                      cols ? col_max_.data() : nullptr, s))
    return false;
  mom_.add_sums(cols_, shift, s.sums);
  close_piece(r, cols_, s.zeros, s.mn, s.mx);
  return true;
}

// Cols: also the column extremes (cmin / cmax: the piece's n columns). Without them: one row, or too many
// columns to keep two floats each.
template <bool Cols>
void stats_accumulator::add_values(int64_t r, const float* x, int64_t n, float* cmin, float* cmax) {
  int64_t bad = 0;
#pragma omp simd reduction(+ : bad)
  for (int64_t c = 0; c < n; ++c) bad += finite_bits(x[c]) ? 0 : 1;
  float mn = kInf, mx = -kInf;
  uint64_t z = 0;
  if (bad == 0) {
#pragma omp simd reduction(min : mn) reduction(max : mx) reduction(+ : z)
    for (int64_t c = 0; c < n; ++c) {
      const float v = x[c];
      mn = v < mn ? v : mn;
      mx = v > mx ? v : mx;
      z += v == 0.0f ? 1u : 0u;
      if constexpr (Cols) {
        cmin[c] = v < cmin[c] ? v : cmin[c];
        cmax[c] = v > cmax[c] ? v : cmax[c];
      }
    }
    mom_.add(x, n);
  } else {
    finite_.clear();
    for (int64_t c = 0; c < n; ++c) {
      const float v = x[c];
      if (!finite_bits(v)) {
        if (std::isnan(v))
          ++nan_;
        else
          ++inf_;
        continue;
      }
      finite_.push_back(v);
      mn = std::min(mn, v);
      mx = std::max(mx, v);
      z += v == 0.0f ? 1u : 0u;
      if constexpr (Cols) {
        cmin[c] = std::min(cmin[c], v);
        cmax[c] = std::max(cmax[c], v);
      }
    }
    mom_.add(finite_.data(), static_cast<int64_t>(finite_.size()));
  }
  close_piece(r, n, z, mn, mx);
}

void stats_accumulator::close_piece(int64_t r, int64_t n, uint64_t z, float mn, float mx) {
  count_ += static_cast<uint64_t>(n);
  zero_ += z;
  min_ = std::min(min_, mn);
  max_ = std::max(max_, mx);
  if (!track_rows()) return;
  float& rmin = row_min_[static_cast<size_t>(r)];
  float& rmax = row_max_[static_cast<size_t>(r)];
  rmin = std::min(rmin, mn);  // a whole row is one piece: min(+inf, mn) == mn, as before
  rmax = std::max(rmax, mx);
}

void stats_accumulator::merge(const stats_accumulator& o) {
  count_ += o.count_;
  nan_ += o.nan_;
  inf_ += o.inf_;
  zero_ += o.zero_;
  mom_.merge(o.mom_);
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
  for (size_t i = 0; i < row_min_.size() && i < o.row_min_.size(); ++i) {
    row_min_[i] = std::min(row_min_[i], o.row_min_[i]);
    row_max_[i] = std::max(row_max_[i], o.row_max_[i]);
  }
  for (size_t i = 0; i < col_min_.size() && i < o.col_min_.size(); ++i) {
    col_min_[i] = std::min(col_min_[i], o.col_min_[i]);
    col_max_[i] = std::max(col_max_[i], o.col_max_[i]);
  }
}

namespace {
// Indices whose deviation max(hi - mean, mean - lo) exceeds thr, largest first (up to 8); returns count.
int64_t outliers(const std::vector<float>& lo, const std::vector<float>& hi, double mean, double thr,
                 std::vector<int64_t>& top) {
  std::vector<std::pair<double, int64_t>> v;
  int64_t count = 0;
  for (size_t i = 0; i < lo.size(); ++i) {
    if (hi[i] < lo[i]) continue;  // no finite values
    const double dev = std::max(static_cast<double>(hi[i]) - mean, mean - static_cast<double>(lo[i]));
    if (dev > thr) {
      ++count;
      v.emplace_back(dev, static_cast<int64_t>(i));
    }
  }
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  top.clear();
  for (size_t i = 0; i < v.size() && i < 8; ++i) top.push_back(v[i].second);
  return count;
}
}  // namespace

void stats_accumulator::finish(tensor_stats& t) const {
  t.count = count_;
  t.nan_count = nan_;
  t.inf_count = inf_;
  t.zero_count = zero_;
  t.mom = mom_;
  const bool any = mom_.n > 0;
  t.min = any ? static_cast<double>(min_) : 0.0;
  t.max = any ? static_cast<double>(max_) : 0.0;
  t.abs_max = any ? std::max(std::fabs(t.min), std::fabs(t.max)) : 0.0;
  t.mean = mom_.mean;
  t.std = std::sqrt(mom_.variance());
  t.l2 = std::sqrt(std::max(0.0, mom_.m2 + static_cast<double>(mom_.n) * mom_.mean * mom_.mean));
  t.kurtosis = mom_.excess_kurtosis();
  t.zero_fraction = count_ ? static_cast<double>(zero_) / static_cast<double>(count_) : 0.0;
  t.outlier_rows = t.outlier_cols = 0;
  t.outlier_row_index.clear();
  t.outlier_col_index.clear();
  if (t.std > 0) {
    const double thr = 6.0 * t.std;
    if (track_rows()) t.outlier_rows = outliers(row_min_, row_max_, t.mean, thr, t.outlier_row_index);
    if (track_cols()) t.outlier_cols = outliers(col_min_, col_max_, t.mean, thr, t.outlier_col_index);
  }
  if (!track_rows())
    t.note = "row outliers not computed: " + std::to_string(rows_) + " rows exceed " +
             std::to_string(max_tracked) + " (two floats per row would not fit the memory bound)";
  if (rows_ > 1 && !track_cols())
    t.note = "column outliers not computed: " + std::to_string(cols_) + " columns exceed " +
             std::to_string(max_tracked) + " (two floats per column would not fit the memory bound)";
}

// ---- the scan ---------------------------------------------------------------------------------------

namespace {

// The scan maps the pages of the next 2 MiB of a tensor or file in one call (mapped_file::advise_populate)
// instead of faulting them in on first touch, and drops them 4 MiB at a time behind it: measured on the 134M
// f32 file, --no-file-hash, 5 alternating pairs at load 9 on 2 cores, CPU 0.46 vs 0.51 s (0.92) against
// first-touch faults and 1 MiB releases. Peak RSS stays bounded by the lanes: 2 threads x 16 x 6 MiB.
constexpr uint64_t hash_ahead_bytes = 2u << 20, hash_release_bytes = 4u << 20;

// The items' files open for pread: a direct tensor's rows are read from its file piece by piece into a buffer
// of the reader that asks (a lane's ~32 KiB piece, a serial scan's 256 KiB of rows), never through the
// mapping: touching every mapped page of the 7B-shaped Q4_K file (3.79 GB) cost 1.6-1.8 CPU s on this VM,
// reading it by pread ~0.5 s. The mapping stays the fallback (a file whose path no longer names the mapped
// file, a layout that is not direct, rows wider than a piece).
class stats_fds {
 public:
  explicit stats_fds(const std::vector<const mapped_file*>& files) {
    for (const mapped_file* f : files) {
      if (!f || !f->data() || fds_.count(f)) continue;
      int fd = ::open(f->path().c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0 && !f->same_file(fd)) ::close(fd), fd = -1;
      if (fd >= 0) ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
      fds_[f] = fd;
    }
  }
  ~stats_fds() {
    for (const auto& [f, fd] : fds_)
      if (fd >= 0) ::close(fd);
  }
  stats_fds(const stats_fds&) = delete;
  stats_fds& operator=(const stats_fds&) = delete;
  int fd(const mapped_file* f) const {  // -1: read f through its mapping
    auto it = fds_.find(f);
    return it == fds_.end() ? -1 : it->second;
  }

 private:
  std::map<const mapped_file*, int> fds_;
};

// n bytes of f at off into dst (fd: f open for reading).
void stats_pread(int fd, const mapped_file& f, uint8_t* dst, size_t n, uint64_t off) {
  while (n > 0) {
    const ssize_t k = ::pread(fd, dst, n, static_cast<off_t>(off));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0)
      fail(errc::io, off,
           "cannot read " + f.path() + ": " + (k < 0 ? std::strerror(errno) : "the file got shorter"));
    dst += k, n -= static_cast<size_t>(k), off += static_cast<uint64_t>(k);
  }
}

// Where a direct tensor's rows are read from by pread: its file's descriptor (-1: through the mapping) and
// the offset of its row 0 in the file.
struct tensor_file_at {
  int fd = -1;
  uint64_t off = 0;
};
tensor_file_at tensor_file_of(const tensor_item& it, const tensor_reader& rd, const stats_fds& fds) {
  if (!rd.direct() || rd.piece_cols() < rd.cols() || !it.file || !it.file->data()) return {};
  return {fds.fd(it.file), static_cast<uint64_t>(rd.span(0) - it.file->data())};
}

// Rows of dtype t are scanned straight from their blocks (stats_quant.h) unless GB_STATS_BLOCKS names the
// dtypes that may be ("q4_0,q8_0"; "off": none, every row dequantised first: benchmarks, identity checks).
bool stats_blocks(const tensor_item& it, dtype t) {
  static const char* only = std::getenv("GB_STATS_BLOCKS");
  return !it.plus_one && block_sums_supported(t) && (!only || std::strstr(only, dtype_name(t)));
}

// "blk.3.attn.q.weight" -> "attn.q.weight"; the key that groups a role across layers.
std::string role_key(const std::string& name) {
  if (name.rfind("blk.", 0) == 0) {
    size_t dot = name.find('.', 4);
    if (dot != std::string::npos) return name.substr(dot + 1);
  }
  return name;
}

// Rows of at most piece_cols() values, ~4 MiB of them at a time from the mapping, 256 KiB by pread (at:
// the tensor's file, its rows read into buf).
// blocks: the rows' stored bytes are the blocks of their values (no Gemma +1 on them).
void scan_rows(tensor_reader& rd, const tensor_file_at& at, const mapped_file* file,
               std::vector<uint8_t>& buf, stats_accumulator* acc, sha256* h, bool release, bool blocks) {
  const int64_t rows = rd.rows(), cols = rd.cols();
  std::vector<float> scratch(static_cast<size_t>(cols));  // (C)
  const uint64_t rb = std::max<uint64_t>(rd.row_bytes(), 1);
  const uint64_t target = at.fd >= 0 ? 256u << 10 : 4u << 20;
  const int64_t chunk = static_cast<int64_t>(std::max<uint64_t>(1, target / rb));
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t r1 = std::min(rows, r0 + chunk);
    const size_t bytes = static_cast<size_t>(r1 - r0) * rd.row_bytes();
    const uint8_t* rows_at = nullptr;  // the chunk's rows in one span (direct layouts)
    if (at.fd >= 0) {
      buf.resize(std::max(buf.size(), bytes));  // (chunk rows, row bytes)
      stats_pread(at.fd, *file, buf.data(), bytes, at.off + static_cast<uint64_t>(r0) * rd.row_bytes());
      rows_at = buf.data();
    } else if (rd.direct()) {
      rows_at = rd.span(r0);
    }
    if (h) {
      if (rows_at)
        h->update(rows_at, bytes);
      else
        for (int64_t r = r0; r < r1; ++r) h->update(rd.row_raw(r), rd.row_bytes());
    }
    if (acc)  // quantised rows straight from their blocks when stats_quant.h can (one pass, no floats)
      for (int64_t r = r0; r < r1; ++r) {
        const uint8_t* raw = rows_at ? rows_at + static_cast<size_t>(r - r0) * rd.row_bytes() : rd.row_raw(r);
        if (!blocks || !acc->add_row_blocks(r, rd.type(), raw))
          acc->add_row(r, rd.raw_f32(raw, cols, scratch.data()));
      }
    if (release && at.fd < 0) rd.release(r0, r1);
  }
}

// Rows wider than a piece (a 1-D tensor of 2^31 values): piece by piece, so memory stays bounded.
void scan_wide(tensor_reader& rd, stats_accumulator* acc, sha256* h, bool release) {
  const int64_t rows = rd.rows(), cols = rd.cols(), pc = rd.piece_cols();
  std::vector<float> scratch(static_cast<size_t>(pc));  // (piece)
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c0 = 0; c0 < cols; c0 += pc) {
      const int64_t n = std::min(pc, cols - c0);
      if (h) h->update(rd.piece_raw(r, c0, n), rd.piece_bytes(n));
      if (acc) acc->add_piece(r, c0, rd.piece_f32(r, c0, n, scratch.data()), n);
      if (release) rd.release_piece(r, c0, n);
    }
  }
  if (release) rd.release(0, rows);
}

// The item's names, role, shape and dtype into t; whether its values can be decoded (rd: its reader).
void scan_header(const tensor_item& it, const tensor_reader& rd, tensor_stats& t) {
  t.name = it.name;
  t.stored_name = it.stored_name;
  t.role = it.role;
  t.layer = it.layer;
  t.shape = it.shape;
  t.excluded = it.excluded;
  t.dtype_name = dtype_name(it.view->type);
  t.readable = rd.decodable();
  if (!t.readable) t.note = std::string("dtype ") + t.dtype_name + " cannot be decoded: statistics skipped";
}

void scan_one(const tensor_item& it, tensor_stats& t, const stats_options& opt, const stats_fds& fds,
              std::vector<uint8_t>& buf, const std::function<void(size_t, const uint8_t*)>& on_digest,
              size_t index) {
  tensor_reader rd(it);  // throws on truncated / out-of-bounds bytes
  scan_header(it, rd, t);
  const int64_t rows = rd.rows(), cols = rd.cols();
  std::unique_ptr<stats_accumulator> acc;
  if (t.readable && opt.stats) acc = std::make_unique<stats_accumulator>(rows, cols);
  sha256 h;
  if (rd.piece_cols() < cols) {  // rows wider than a piece: piece by piece, pages dropped behind
    scan_wide(rd, acc.get(), opt.values_digest ? &h : nullptr, opt.release_pages);
  } else {
    scan_rows(rd, tensor_file_of(it, rd, fds), it.file, buf, acc.get(), opt.values_digest ? &h : nullptr,
              opt.release_pages, stats_blocks(it, rd.type()));
  }
  if (acc)
    acc->finish(t);
  else
    t.count = static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols);
  if (opt.values_digest) {
    digest d = h.final();
    t.values_hex = digest_hex(d);
    if (on_digest) on_digest(index, d.data());
  }
}

// One tensor as a message for the SHA-256 lanes (sha256_lanes.h): each piece is ~32 KiB of canonical rows
// (or one piece of a wide row), their statistics taken as the piece is handed out, so the bytes are hashed
// while in cache; the pages of a piece are dropped when the next one is asked for. The bytes are those
// scan_rows / scan_wide hash, in the same order: the same digest.
class tensor_source : public sha256_source {
 public:
  tensor_source(const tensor_item& it, tensor_stats& t, const stats_options& opt, const stats_fds& fds,
                size_t index)
      : rd_(it), t_(t), release_(opt.release_pages), index_(index), it_file_(it.file) {
    scan_header(it, rd_, t);
    at_ = tensor_file_of(it, rd_, fds);
    if (at_.fd >= 0) release_ = false;  // no mapped page is touched
    if (t.readable && opt.stats) acc_ = std::make_unique<stats_accumulator>(rd_.rows(), rd_.cols());
    blocks_ = stats_blocks(it, rd_.type());
    wide_ = rd_.piece_cols() < rd_.cols();
    scratch_.resize(static_cast<size_t>(wide_ ? rd_.piece_cols() : rd_.cols()));
  }
  bool next(const uint8_t*& p, size_t& n) override {
    release_last();
    for (;;) {
      if (r_ >= rd_.rows()) return false;
      if (!wide_ && rd_.direct() && at_.fd < 0) populate_ahead();
      n = wide_ ? next_piece(p) : next_rows(p);
      if (n > 0) return true;
    }
  }
  void finish(const digest& d, const std::function<void(size_t, const uint8_t*)>& on_digest) {
    release_last(true);
    if (release_ && wide_) rd_.release(0, rd_.rows());
    if (acc_)
      acc_->finish(t_);
    else
      t_.count = static_cast<uint64_t>(rd_.rows()) * static_cast<uint64_t>(rd_.cols());
    t_.values_hex = digest_hex(d);
    if (on_digest) on_digest(index_, d.data());
  }

 private:
  static constexpr uint64_t piece_target = 32u << 10;  // bytes of rows a piece: 16 lanes' pieces fit in L2
  tensor_reader rd_;
  tensor_stats& t_;
  bool release_, blocks_ = false, wide_ = false;
  size_t index_;
  const mapped_file* it_file_;
  tensor_file_at at_;  // fd >= 0: the rows are read by pread into gathered_
  std::unique_ptr<stats_accumulator> acc_;
  std::vector<float> scratch_;     // (C) or (piece)
  std::vector<uint8_t> gathered_;  // (rows of a piece, row bytes) canonical rows read by pread or gathered
  int64_t r_ = 0, c0_ = 0;         // the next row (and column of a wide row)
  int64_t last_r0_ = 0, last_r1_ = 0, last_c0_ = 0, last_n_ = 0;  // the piece handed out last
  int64_t free_r0_ = 0;                                           // rows before this one have been released

  int64_t pop_r_ = 0;  // rows before this one have been populated
  // Maps the pages of the next hash_ahead_bytes of rows in one call when the rows handed out reach the
  // half of what was populated.
  void populate_ahead() {
    const uint64_t ahead = hash_ahead_bytes, rb = std::max<uint64_t>(rd_.row_bytes(), 1);
    if (!it_file_ || pop_r_ >= rd_.rows()) return;
    const int64_t step = static_cast<int64_t>(std::max<uint64_t>(1, ahead / rb));
    if (pop_r_ - r_ > step / 2) return;
    const int64_t r1 = std::min(rd_.rows(), pop_r_ + step);
    it_file_->advise_populate(static_cast<uint64_t>(rd_.span(pop_r_) - it_file_->data()),
                              static_cast<uint64_t>(r1 - pop_r_) * rb);
    pop_r_ = r1;
  }
  // Drops the pages of the pieces handed out so far, ~1 MiB of rows at a time (a madvise per 32 KiB piece
  // costs more system time than the hashing), all that is left at the end (`all`).
  void release_last(bool all = false) {
    if (!release_) return;
    if (wide_ && last_n_ > 0) rd_.release_piece(last_r0_, last_c0_, last_n_);
    last_n_ = 0;
    if (wide_ || last_r1_ <= free_r0_) return;
    if (all || static_cast<uint64_t>(last_r1_ - free_r0_) * rd_.row_bytes() >= hash_release_bytes) {
      rd_.release(free_r0_, last_r1_);
      free_r0_ = last_r1_;
    }
  }
  void add_rows_stats(int64_t r, const uint8_t* raw) {
    if (acc_ && (!blocks_ || !acc_->add_row_blocks(r, rd_.type(), raw)))
      acc_->add_row(r, rd_.raw_f32(raw, rd_.cols(), scratch_.data()));
  }
  size_t next_rows(const uint8_t*& p) {
    const uint64_t rb = rd_.row_bytes();
    const int64_t r0 = r_, r1 = std::min(rd_.rows(), r0 + static_cast<int64_t>(std::max<uint64_t>(
                                                              1, piece_target / std::max<uint64_t>(rb, 1))));
    r_ = r1, last_r0_ = r0, last_r1_ = r1;
    const size_t bytes = static_cast<size_t>(r1 - r0) * rb;
    if (at_.fd >= 0) {
      gathered_.resize(bytes);
      stats_pread(at_.fd, *it_file_, gathered_.data(), bytes, at_.off + static_cast<uint64_t>(r0) * rb);
      p = gathered_.data();
      for (int64_t r = r0; r < r1; ++r) add_rows_stats(r, p + static_cast<size_t>(r - r0) * rb);
      return bytes;
    }
    if (rd_.direct()) {
      p = rd_.span(r0);
      for (int64_t r = r0; r < r1; ++r) add_rows_stats(r, p + static_cast<size_t>(r - r0) * rb);
      return bytes;
    }
    gathered_.resize(bytes);
    for (int64_t r = r0; r < r1; ++r) {
      uint8_t* dst = gathered_.data() + static_cast<size_t>(r - r0) * rb;
      std::memcpy(dst, rd_.row_raw(r), rb);
      add_rows_stats(r, dst);
    }
    p = gathered_.data();
    return bytes;
  }
  size_t next_piece(const uint8_t*& p) {
    const int64_t n = std::min(rd_.piece_cols(), rd_.cols() - c0_);
    if (acc_) acc_->add_piece(r_, c0_, rd_.piece_f32(r_, c0_, n, scratch_.data()), n);
    p = rd_.piece_raw(r_, c0_, n);  // after piece_f32: valid until the next call on the reader
    last_r0_ = r_, last_c0_ = c0_, last_n_ = n;
    c0_ += n;
    if (c0_ >= rd_.cols()) c0_ = 0, ++r_;
    return static_cast<size_t>(rd_.piece_bytes(n));
  }
};

// A whole mapped file as a message for the lanes: 64 KiB pieces, read by pread (fd >= 0) or from the mapping,
// its pages dropped ~1 MiB at a time behind them.
class file_source : public sha256_source {
 public:
  file_source(const stats_file& f, int fd) : f_(f), fd_(fd) {}
  bool next(const uint8_t*& p, size_t& n) override {
    const mapped_file& m = *f_.file;
    if (fd_ >= 0) {
      if (off_ >= m.size()) return false;
      n = static_cast<size_t>(std::min<uint64_t>(64u << 10, m.size() - off_));
      buf_.resize(n);
      stats_pread(fd_, m, buf_.data(), n, off_);
      p = buf_.data();
      off_ += n;
      return true;
    }
    if (off_ - freed_ >= hash_release_bytes) m.advise_dontneed(freed_, off_ - freed_), freed_ = off_;
    if (off_ >= m.size()) return false;
    if (pop_ - off_ <= hash_ahead_bytes / 2 && pop_ < m.size())
      m.advise_populate(pop_, hash_ahead_bytes), pop_ += hash_ahead_bytes;
    n = static_cast<size_t>(std::min<uint64_t>(64u << 10, m.size() - off_));
    p = m.data() + off_;
    off_ += n;
    return true;
  }
  void finish(const digest& d) {
    if (fd_ < 0) f_.file->advise_dontneed(freed_, off_ - freed_);
    f_.done(d);
  }

 private:
  const stats_file& f_;
  int fd_;
  std::vector<uint8_t> buf_;                // (64 KiB) the piece read by pread
  uint64_t off_ = 0, freed_ = 0, pop_ = 0;  // bytes handed out, whose pages were dropped, populated
};

}  // namespace

stats_report stats_compute(const std::vector<tensor_item>& items, const stats_options& opt,
                           const std::vector<std::function<void()>>& side_jobs,
                           const std::function<void(size_t, const uint8_t*)>& on_values_digest) {
  return stats_compute_files(items, opt, {}, side_jobs, on_values_digest);
}

stats_report stats_compute_files(const std::vector<tensor_item>& items, const stats_options& opt,
                                 const std::vector<stats_file>& files,
                                 const std::vector<std::function<void()>>& side_jobs_in,
                                 const std::function<void(size_t, const uint8_t*)>& on_values_digest) {
  stats_report rep;
  rep.tensors.resize(items.size());
  // Largest first, so the two cores finish together.
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return items[a].view->nbytes > items[b].view->nbytes; });
  int nt = opt.threads > 0 ? opt.threads : omp_get_max_threads();
  nt = std::max(1, nt);
  std::vector<const mapped_file*> mapped;  // (items + files) what is read by pread
  for (const tensor_item& it : items) mapped.push_back(it.file);
  for (const stats_file& f : files) mapped.push_back(f.file);
  const stats_fds fds(mapped);
  std::atomic<size_t> next{0};
  std::mutex err_mu;
  std::optional<error> first_err;
  std::exception_ptr other_err;
  // Runs f, keeping the first error for the caller (exceptions must not leave an OpenMP region).
  auto guarded = [&](const auto& f) {
    try {
      f();
    } catch (const failure& e) {
      std::lock_guard<std::mutex> lk(err_mu);
      if (!first_err) first_err = e.err();
    } catch (...) {
      std::lock_guard<std::mutex> lk(err_mu);
      if (!other_err) other_err = std::current_exception();
    }
  };
  // With SHA-256 lanes: each thread hashes up to 16 tensors and files at once, a lane taking the queue's next
  // message when its own ends (side jobs met on the way run there and then). Without: files are side jobs.
  // Fewer files than threads (one GGUF on 2 cores): a file in a lane would advance at a 16th of the lanes'
  // rate beside the tensors and then finish alone, one serial stream after the tensors; as a side job it is
  // one stream (OpenSSL, SHA-NI) on its own thread from the start while the other threads take the tensors.
  const sha256_isa lanes = opt.values_digest && opt.digest_lanes ? sha256_lanes_isa_best() : sha256_isa::ref;
  const bool use_lanes = lanes != sha256_isa::ref;
  const bool files_apart = !use_lanes || files.size() < static_cast<size_t>(nt);
  std::vector<std::function<void()>> side_jobs;
  if (files_apart)
    for (const stats_file& f : files) side_jobs.push_back([&f] { f.done(mapped_sha256(*f.file)); });
  side_jobs.insert(side_jobs.end(), side_jobs_in.begin(), side_jobs_in.end());
  const size_t nf = files_apart ? 0 : files.size();
  // One queue: the files (lanes), the side jobs, then the tensors, largest first.
  const size_t ns = side_jobs.size();
  auto work = [&]() {
    std::vector<uint8_t> buf;  // (256 KiB, or one row if larger) this thread's rows read by pread
    for (;;) {
      size_t k = next.fetch_add(1);
      if (k >= ns + order.size()) break;
      {
        std::lock_guard<std::mutex> lk(err_mu);
        if (first_err || other_err) break;
      }
      if (k < ns) {
        guarded(side_jobs[k]);
        continue;
      }
      const size_t i = order[k - ns];
      guarded([&] { scan_one(items[i], rep.tensors[i], opt, fds, buf, on_values_digest, i); });
    }
  };
  auto work_lanes = [&]() {
    std::vector<std::unique_ptr<tensor_source>> live;      // (lanes) the tensors being hashed
    std::vector<std::unique_ptr<file_source>> live_files;  // (lanes) the files being hashed
    auto take = [&]() -> sha256_source* {
      for (;;) {
        const size_t k = next.fetch_add(1);
        if (k >= nf + ns + order.size()) return nullptr;
        {
          std::lock_guard<std::mutex> lk(err_mu);
          if (first_err || other_err) return nullptr;
        }
        if (k < nf) {
          live_files.push_back(std::make_unique<file_source>(files[k], fds.fd(files[k].file)));
          return live_files.back().get();
        }
        if (k < nf + ns) {
          guarded(side_jobs[k - nf]);
          continue;
        }
        const size_t i = order[k - nf - ns];
        live.push_back(std::make_unique<tensor_source>(items[i], rep.tensors[i], opt, fds, i));
        return live.back().get();
      }
    };
    auto done = [&](sha256_source* s, const digest& d) {
      auto it = std::find_if(live.begin(), live.end(), [&](const auto& u) { return u.get() == s; });
      if (it != live.end()) {
        (*it)->finish(d, on_values_digest);
        live.erase(it);
        return;
      }
      auto f =
          std::find_if(live_files.begin(), live_files.end(), [&](const auto& u) { return u.get() == s; });
      (*f)->finish(d);
      live_files.erase(f);
    };
    guarded([&] { sha256_lanes_run(lanes, take, done); });
  };
  if (nt == 1) {
    use_lanes ? work_lanes() : work();
  } else {
#pragma omp parallel num_threads(nt)
    use_lanes ? work_lanes() : work();
  }
  if (first_err) throw failure(*first_err);
  if (other_err) std::rethrow_exception(other_err);
  stats_summarise(rep);
  return rep;
}

void stats_summarise(stats_report& r) {
  r.layers.clear();
  r.roles.clear();
  r.findings.clear();
  std::map<std::string, group_stats> layers, roles;
  for (const tensor_stats& t : r.tensors) {
    if (!t.readable || !t.excluded.empty()) continue;
    for (auto* g : {&layers[tensor_layer_key(t.name, t.layer)], &roles[role_key(t.name)]}) {
      ++g->tensors;
      g->count += t.count;
      g->nan_count += t.nan_count;
      g->inf_count += t.inf_count;
      g->mom.merge(t.mom);
      g->abs_max = std::max(g->abs_max, t.abs_max);
      g->l2 = std::sqrt(g->l2 * g->l2 + t.l2 * t.l2);
    }
  }
  for (auto& [k, g] : layers) {
    g.key = k;
    r.layers.push_back(g);
  }
  for (auto& [k, g] : roles) {
    g.key = k;
    r.roles.push_back(g);
  }

  auto add = [&](severity s, const char* code, const std::string& where, std::string msg) {
    r.findings.push_back({s, code, where, std::move(msg), UINT64_MAX});
  };
  for (const tensor_stats& t : r.tensors) {
    if (!t.readable) {
      add(severity::low, "tensor.unreadable", t.name, t.note);
      continue;
    }
    if (t.nan_count)
      add(severity::high, "tensor.nan", t.name,
          std::to_string(t.nan_count) + " NaN value(s) of " + std::to_string(t.count));
    if (t.inf_count)
      add(severity::high, "tensor.inf", t.name,
          std::to_string(t.inf_count) + " infinite value(s) of " + std::to_string(t.count));
    if (t.count > 0 && t.zero_count == t.count)
      add(severity::medium, "tensor.all_zero", t.name,
          "every one of " + std::to_string(t.count) + " values is zero");
    else if (t.count > 1 && t.mom.n == t.count && t.min == t.max) {
      const bool vec = t.shape.size() <= 1;
      add(vec ? severity::info : severity::medium, "tensor.constant", t.name,
          "all " + std::to_string(t.count) + " values equal " + std::to_string(t.min) +
              (vec ? " (an untrained or initial value)" : ""));
    }
  }
  // Byte-identical tensors (same dtype, shape, values) under different names.
  std::map<std::string, std::vector<size_t>> by_values;
  for (size_t i = 0; i < r.tensors.size(); ++i) {
    const tensor_stats& t = r.tensors[i];
    if (t.values_hex.empty() || !t.excluded.empty() || t.count < 2) continue;
    if (t.readable && t.mom.n == t.count && t.min == t.max) continue;  // constants reported above
    by_values[t.values_hex + "|" + t.dtype_name + "|" + shape_string(t.shape)].push_back(i);
  }
  for (const auto& [k, v] : by_values) {
    for (size_t j = 1; j < v.size(); ++j) {
      const tensor_stats& a = r.tensors[v[0]];
      const tensor_stats& b = r.tensors[v[j]];
      const bool tied = (b.name == "output.weight" && is_token_embedding(a.name)) ||
                        (a.name == "output.weight" && is_token_embedding(b.name));
      if (tied)
        add(severity::info, "tensor.tied_copy", b.name,
            "a copy of '" + a.name + "' (tied embeddings stored twice)");
      else
        add(severity::medium, "tensor.duplicate", b.name,
            "byte-identical to '" + a.name + "' (same dtype, shape and values; value digest " +
                a.values_hex.substr(0, 16) + ")");
    }
  }
  // Anomalies against the other layers of the same role.
  std::map<std::string, std::vector<size_t>> by_role;
  for (size_t i = 0; i < r.tensors.size(); ++i) {
    const tensor_stats& t = r.tensors[i];
    if (!t.readable || !t.excluded.empty() || t.mom.n == 0) continue;
    if (t.layer < 0 && t.name.rfind("blk.", 0) != 0) continue;
    by_role[role_key(t.name)].push_back(i);
  }
  auto robust = [&](const std::vector<size_t>& idx, auto get, const char* code, const char* what) {
    if (idx.size() < 4) return;
    std::vector<double> x;
    for (size_t i : idx) x.push_back(get(r.tensors[i]));
    std::vector<double> s = x;
    std::sort(s.begin(), s.end());
    const size_t n = s.size();
    const double med = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    std::vector<double> dev;
    for (double v : x) dev.push_back(std::fabs(v - med));
    std::sort(dev.begin(), dev.end());
    const double mad = n % 2 ? dev[n / 2] : 0.5 * (dev[n / 2 - 1] + dev[n / 2]);
    if (!(mad > 1e-12 * std::max(1.0, std::fabs(med)))) return;
    for (size_t j = 0; j < idx.size(); ++j) {
      const double z = 0.6745 * (x[j] - med) / mad;
      if (std::fabs(z) > 3.5 && std::fabs(x[j] - med) > 0.5 * std::fabs(med)) {
        char buf[200];
        std::snprintf(buf, sizeof buf,
                      "%s %.6g vs median %.6g over %zu layers (robust z %.1f, off by %.0f%%)", what, x[j],
                      med, n, z, 100.0 * std::fabs(x[j] - med) / std::fabs(med));
        add(severity::low, code, r.tensors[idx[j]].name, buf);
      }
    }
  };
  for (const auto& [k, idx] : by_role) {
    robust(
        idx, [](const tensor_stats& t) { return t.l2; }, "tensor.norm_anomaly", "L2 norm");
    robust(
        idx, [](const tensor_stats& t) { return t.std > 0 ? t.abs_max / t.std : 0.0; },
        "tensor.outlier_anomaly", "abs-max / std");
  }
}

}  // namespace gb
