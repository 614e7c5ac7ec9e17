// A tensor over 2^31 elements and over 4 GiB (a sparse GGUF, mostly holes): inspect, stats and hash
// complete without 32-bit overflow and with bounded peak RSS; and the piece-by-piece reading of wide rows
// gives the same bytes and numbers as whole rows.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/quant.h"
#include "formats/writers.h"
#include "inspect/hash.h"
#include "inspect/stats.h"
#include "tests/support/data.h"

namespace {

using gb::dtype;

constexpr int64_t kBig = (int64_t{1} << 31) + 4096;  // f16: 4 GiB + 8 KiB
constexpr uint16_t kOne = 0x3c00, kMinusTwo = 0xc000, kHalf = 0x3800, kNan = 0x7e00;
struct planted {
  int64_t index;
  uint16_t bits;
};
// In index order: before, at and past the 2^31 boundary, and the last element.
const std::vector<planted> kPlanted = {
    {0, kOne}, {(int64_t{1} << 31) - 1, kNan}, {(int64_t{1} << 31) + 3, kMinusTwo}, {kBig - 1, kHalf}};

// Writes big.gguf: one f16 tensor [kBig], zeros left as holes except the planted values.
std::string write_sparse(const std::string& dir) {
  const std::string path = dir + "/big.gguf";
  gb::gguf_write_stream(path, {{"general.architecture", gb::meta_str("none")}},
                        {{"big.weight", dtype::f16, {kBig}}}, [](size_t, gb::tensor_sink& out) {
                          int64_t at = 0;
                          for (const planted& p : kPlanted) {
                            out.skip(static_cast<uint64_t>(p.index - at) * 2);
                            out.write(&p.bits, 2);
                            at = p.index + 1;
                          }
                          out.skip(static_cast<uint64_t>(kBig - at) * 2);
                        });
  return path;
}

#ifndef GB_SANITIZED
// SHA-256 of bytes [off, off + n) of a file, read with pread (independent of the tensor reader).
std::string file_range_sha256(const std::string& path, uint64_t off, uint64_t n) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  std::vector<uint8_t> buf(8u << 20);
  gb::sha256 h;
  while (n > 0) {
    const ssize_t got = ::pread(fd, buf.data(), std::min<uint64_t>(n, buf.size()), static_cast<off_t>(off));
    REQUIRE(got > 0);
    h.update(buf.data(), static_cast<size_t>(got));
    off += static_cast<uint64_t>(got);
    n -= static_cast<uint64_t>(got);
  }
  ::close(fd);
  return gb::digest_hex(h.final());
}
#endif

}  // namespace

TEST_CASE("a sparse 4 GiB tensor of 2^31 + 4096 f16 values: inspect, stats, digest in bounded memory") {
  const std::string dir = gb::test::temp_dir("big_tensor");
  const std::string path = write_sparse(dir);

  // Each run's peak RSS stays far below the 4 GiB tensor (mapped pages are dropped behind the scan).
  constexpr long kBoundMiB = 768;
  std::string out;
  long rss = 0;
  REQUIRE(gb::test::run_glassbox_maxrss({"inspect", "--json", path}, &out, &rss) == 0);
  nlohmann::json ins = nlohmann::json::parse(out);
  CHECK(ins.dump().find(std::to_string(kBig)) != std::string::npos);  // the shape, not a wrapped 32-bit one
  MESSAGE("inspect peak RSS " << rss / 1024 << " MiB");
  CHECK(rss / 1024 < kBoundMiB);

#ifdef GB_SANITIZED
  // Sanitized builds (3-5x slower decoding) check the canonical digest pass only: the piece-by-piece
  // statistics are checked against whole rows below, and in full in the normal build.
  out.clear();
  CHECK(gb::test::run_glassbox_maxrss({"hash", "--no-file-hash", "--no-stats", "--json", path}, &out, &rss) ==
        0);
  MESSAGE("hash peak RSS " << rss / 1024 << " MiB");
  CHECK(rss / 1024 < kBoundMiB);
  nlohmann::json hj = nlohmann::json::parse(out);
  REQUIRE(hj["tensors"].size() == 1);
  CHECK(hj["tensors"][0]["values"].get<std::string>().size() == 64);
#else
  // stats (the canonical values digest of `hash` comes from the same pass): exit 1 (findings: the NaN),
  // exact counts, extremes from every side of 2^31.
  out.clear();
  CHECK(gb::test::run_glassbox_maxrss({"stats", "--json", path}, &out, &rss) == 1);
  MESSAGE("stats peak RSS " << rss / 1024 << " MiB");
  CHECK(rss / 1024 < kBoundMiB);
  nlohmann::json st = nlohmann::json::parse(out);
  REQUIRE(st["tensors"].size() == 1);
  const nlohmann::json& t = st["tensors"][0];
  CHECK(t["count"].get<uint64_t>() == static_cast<uint64_t>(kBig));
  CHECK(t["nan"].get<uint64_t>() == 1);
  CHECK(t["min"].get<double>() == -2.0);
  CHECK(t["max"].get<double>() == 1.0);
  CHECK(t["l2"].get<double>() == doctest::Approx(std::sqrt(5.25)).epsilon(1e-12));
  const double finite = static_cast<double>(kBig - 1);
  CHECK(t["mean"].get<double>() == doctest::Approx(-0.5 / finite).epsilon(1e-9));
  CHECK(t["zero_fraction"].get<double>() == doctest::Approx((finite - 3) / static_cast<double>(kBig)));
  bool nan_finding = false;
  for (const auto& f : st["findings"]) nan_finding |= f["code"] == "tensor.nan";
  CHECK(nan_finding);
  // The values digest is SHA-256 of the stored f16 bytes (read here with pread; the tensor ends the file).
  const uint64_t data_bytes = static_cast<uint64_t>(kBig) * 2;
  const uint64_t data_off = std::filesystem::file_size(path) - data_bytes;
  CHECK(t["values_sha256"].get<std::string>() == file_range_sha256(path, data_off, data_bytes));
#endif
  std::filesystem::remove_all(dir);
}

TEST_CASE("wide rows read piece by piece equal whole rows (bytes, values, statistics)") {
  // [2, 2^20 + 4160] in several dtypes: rows of two pieces (4160 = 130 blocks of 32).
  const int64_t cols = gb::tensor_reader::max_piece_cols + 4160;
  for (dtype ty : {dtype::f32, dtype::f16, dtype::bf16, dtype::q8_0, dtype::q4_0}) {
    CAPTURE(gb::dtype_name(ty));
    const int64_t rows = 2;
    std::vector<float> vals(static_cast<size_t>(rows * cols));
    uint64_t s = 7;
    for (float& v : vals) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      v = static_cast<float>(static_cast<int64_t>(s >> 40) % 2001 - 1000) / 250.0f;
    }
    vals[5] = 0.0f;
    const std::string dir = gb::test::temp_dir("wide_rows");
    const std::string path = dir + "/w.gguf";
    gb::gguf_write(path, {{"general.architecture", gb::meta_str("none")}},
                   {{"w", ty, {rows, cols}, gb::quantize_row(ty, vals.data(), rows * cols)}});
    gb::result<gb::integrity_input> in = gb::integrity_open(path);
    REQUIRE(in);
    const gb::tensor_item& it = in.value().items.at(0);
    gb::tensor_reader whole(it), piece(it);
    REQUIRE(piece.piece_cols() == gb::tensor_reader::max_piece_cols);
    std::vector<float> wrow(static_cast<size_t>(cols)), prow(static_cast<size_t>(piece.piece_cols()));
    gb::stats_accumulator acc_whole(rows, cols), acc_piece(rows, cols);
    for (int64_t r = 0; r < rows; ++r) {
      const float* w = whole.row_f32(r, wrow.data());
      const uint8_t* wb = whole.row_raw(r);
      acc_whole.add_row(r, w);
      for (int64_t c0 = 0; c0 < cols; c0 += piece.piece_cols()) {
        const int64_t n = std::min(piece.piece_cols(), cols - c0);
        const uint64_t off = piece.piece_bytes(c0);
        CHECK(std::memcmp(piece.piece_raw(r, c0, n), wb + off, piece.piece_bytes(n)) == 0);
        const float* p = piece.piece_f32(r, c0, n, prow.data());
        CHECK(std::memcmp(p, w + c0, static_cast<size_t>(n) * sizeof(float)) == 0);
        acc_piece.add_piece(r, c0, p, n);
      }
    }
    gb::tensor_stats a, b;
    acc_whole.finish(a);
    acc_piece.finish(b);
    // Exact: counts, extremes, outliers. The moments merge per piece (Pebay): equal to rounding.
    CHECK(a.count == b.count);
    CHECK(a.zero_count == b.zero_count);
    CHECK(a.min == b.min);
    CHECK(a.max == b.max);
    CHECK(a.outlier_rows == b.outlier_rows);
    CHECK(a.outlier_cols == b.outlier_cols);
    CHECK(a.mean == doctest::Approx(b.mean).epsilon(1e-12));
    CHECK(a.std == doctest::Approx(b.std).epsilon(1e-12));
    CHECK(a.l2 == doctest::Approx(b.l2).epsilon(1e-12));
    CHECK(a.kurtosis == doctest::Approx(b.kurtosis).epsilon(1e-9));
  }
}
