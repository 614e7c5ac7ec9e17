// Tensor statistics: moments against plain two-pass double loops, findings on planted defects, and the
// canonical-layout reader (transpose, HF rotate-half, strides, truncation).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <limits>

#include "formats/mapped_file.h"
#include "inspect/stats.h"
#include "inspect/synth.h"
#include "tests/inspect/integrity_fixture.h"
#include "tests/support/data.h"

namespace {

struct ref_stats {
  double mean = 0, sd = 0, kurt = 0, l2 = 0, mn = 0, mx = 0;
};
ref_stats reference(const std::vector<float>& v) {
  ref_stats r;
  double s = 0;
  r.mn = r.mx = static_cast<double>(v[0]);
  for (float x : v) {
    s += static_cast<double>(x);
    r.mn = std::min(r.mn, static_cast<double>(x));
    r.mx = std::max(r.mx, static_cast<double>(x));
  }
  r.mean = s / static_cast<double>(v.size());
  double m2 = 0, m4 = 0, q = 0;
  for (float x : v) {
    const double d = static_cast<double>(x) - r.mean;
    m2 += d * d;
    m4 += d * d * d * d;
    q += static_cast<double>(x) * static_cast<double>(x);
  }
  r.sd = std::sqrt(m2 / static_cast<double>(v.size()));
  r.kurt = static_cast<double>(v.size()) * m4 / (m2 * m2) - 3;
  r.l2 = std::sqrt(q);
  return r;
}

const gb::finding* find(const gb::stats_report& r, const std::string& code, const std::string& where) {
  for (const gb::finding& f : r.findings)
    if (f.code == code && f.where == where) return &f;
  return nullptr;
}

}  // namespace

TEST_CASE("stats: moments merge to the two-pass result whatever the split") {
  std::vector<float> v = gbt::gaussian(10007, 3, 1.0f);
  for (float& x : v) x = x * x * x + 5.0f;  // skewed, heavy-tailed, offset
  ref_stats ref = reference(v);
  for (size_t split : {size_t{1}, size_t{17}, size_t{5000}, size_t{9999}}) {
    gb::moments a, b;
    a.add(v.data(), static_cast<int64_t>(split));
    b.add(v.data() + split, static_cast<int64_t>(v.size() - split));
    a.merge(b);
    CHECK(a.n == v.size());
    CHECK(a.mean == doctest::Approx(ref.mean).epsilon(1e-12));
    CHECK(std::sqrt(a.variance()) == doctest::Approx(ref.sd).epsilon(1e-10));
    CHECK(a.excess_kurtosis() == doctest::Approx(ref.kurt).epsilon(1e-9));
  }
}

TEST_CASE("stats: per-tensor figures equal a plain reference; q8_0 is read dequantised") {
  gbt::mem_model m;
  std::vector<float> w = gbt::gaussian(64 * 96, 9, 0.05f);
  for (size_t i = 0; i < w.size(); i += 13) w[i] = 0.0f;
  m.add("w", gb::dtype::f32, {64, 96}, w);
  std::vector<float> q = gbt::gaussian(32 * 64, 10, 0.05f);
  m.add("q", gb::dtype::q8_0, {32, 64}, q);
  m.finish();
  gb::stats_options o;
  o.threads = 2;
  gb::stats_report r = gb::stats_compute(m.items, o);
  REQUIRE(r.tensors.size() == 2);
  const gb::tensor_stats& t = r.tensors[0];
  ref_stats ref = reference(w);
  CHECK(t.count == w.size());
  CHECK(t.mean == doctest::Approx(ref.mean).epsilon(1e-9));
  CHECK(t.std == doctest::Approx(ref.sd).epsilon(1e-9));
  CHECK(t.kurtosis == doctest::Approx(ref.kurt).epsilon(1e-7));
  CHECK(t.l2 == doctest::Approx(ref.l2).epsilon(1e-9));
  CHECK(t.min == ref.mn);
  CHECK(t.max == ref.mx);
  CHECK(t.abs_max == std::max(-ref.mn, ref.mx));
  size_t zeros = 0;
  for (float x : w) zeros += x == 0.0f;
  CHECK(t.zero_count == zeros);
  // q8_0: statistics of the ggml-decoded values.
  std::vector<uint8_t> enc = gb::quantize_row(gb::dtype::q8_0, q.data(), static_cast<int64_t>(q.size()));
  std::vector<float> dec(q.size());
  gb::dequantize_row(gb::dtype::q8_0, enc.data(), dec.data(), static_cast<int64_t>(dec.size()));
  ref_stats rq = reference(dec);
  CHECK(r.tensors[1].mean == doctest::Approx(rq.mean).epsilon(1e-9));
  CHECK(r.tensors[1].std == doctest::Approx(rq.sd).epsilon(1e-9));
  CHECK(r.tensors[1].max == rq.mx);
}

TEST_CASE("stats: planted NaN, all-zero and duplicate tensors are found and named") {
  gbt::mem_model m;
  std::vector<float> a = gbt::gaussian(32 * 32, 1);
  std::vector<float> nan = gbt::gaussian(32 * 32, 2);
  nan[77] = std::numeric_limits<float>::quiet_NaN();
  nan[78] = std::numeric_limits<float>::infinity();
  m.add("blk.0.attn.q.weight", gb::dtype::f32, {32, 32}, a, 0);
  m.add("blk.0.attn.k.weight", gb::dtype::f32, {32, 32}, nan, 0);
  m.add("blk.0.attn.v.weight", gb::dtype::f32, {32, 32}, std::vector<float>(1024, 0.0f), 0);
  m.add("blk.1.attn.q.weight", gb::dtype::f32, {32, 32}, a, 1);  // duplicate of blk.0.attn.q
  m.finish();
  gb::stats_report r = gb::stats_compute(m.items, {});
  const gb::finding* fn = find(r, "tensor.nan", "blk.0.attn.k.weight");
  REQUIRE(fn);
  CHECK(fn->level == gb::severity::high);
  CHECK(r.tensors[1].nan_count == 1);
  CHECK(r.tensors[1].inf_count == 1);
  CHECK(find(r, "tensor.inf", "blk.0.attn.k.weight"));
  // Moments of the finite values only.
  std::vector<float> finite;
  for (float x : nan)
    if (std::isfinite(x)) finite.push_back(x);
  CHECK(r.tensors[1].mean == doctest::Approx(reference(finite).mean).epsilon(1e-9));
  CHECK(find(r, "tensor.all_zero", "blk.0.attn.v.weight"));
  const gb::finding* fd = find(r, "tensor.duplicate", "blk.1.attn.q.weight");
  REQUIRE(fd);
  CHECK(fd->message.find("blk.0.attn.q.weight") != std::string::npos);
  CHECK_FALSE(find(r, "tensor.duplicate", "blk.0.attn.k.weight"));
}

TEST_CASE("stats: outlier rows and channels, constant vectors, norm anomaly across layers") {
  gbt::mem_model m;
  for (int l = 0; l < 8; ++l) {
    std::vector<float> v = gbt::gaussian(40 * 50, 100 + l, 1.0f);
    if (l == 5)
      for (float& x : v) x *= 10.0f;    // one layer ten times larger
    if (l == 2) v[3 * 50 + 7] = 40.0f;  // one outlier at row 3, channel 7
    m.add("blk." + std::to_string(l) + ".mlp.up.weight", gb::dtype::f32, {40, 50}, v, l);
  }
  m.add("blk.0.attn_norm.weight", gb::dtype::f32, {50}, std::vector<float>(50, 1.0f), 0);
  m.finish();
  gb::stats_report r = gb::stats_compute(m.items, {});
  const gb::tensor_stats& t2 = r.tensors[2];
  CHECK(t2.outlier_rows == 1);
  CHECK(t2.outlier_cols == 1);
  REQUIRE(t2.outlier_row_index.size() == 1);
  CHECK(t2.outlier_row_index[0] == 3);
  CHECK(t2.outlier_col_index[0] == 7);
  CHECK(r.tensors[0].outlier_rows == 0);
  const gb::finding* na = find(r, "tensor.norm_anomaly", "blk.5.mlp.up.weight");
  REQUIRE(na);
  CHECK(na->message.find("robust z") != std::string::npos);
  CHECK(find(r, "tensor.outlier_anomaly", "blk.2.mlp.up.weight"));  // its 40-std value
  for (int l : {0, 1, 3, 4, 6, 7})
    CHECK_FALSE(find(r, "tensor.norm_anomaly", "blk." + std::to_string(l) + ".mlp.up.weight"));
  const gb::finding* c = find(r, "tensor.constant", "blk.0.attn_norm.weight");
  REQUIRE(c);
  CHECK(c->level == gb::severity::info);
  CHECK(r.layers.size() == 8);
}

TEST_CASE("tensor_reader: transposed, HF rotate-half and strided layouts read back canonical rows") {
  const int64_t rows = 16, cols = 6;  // canonical [out=16, in=6]
  std::vector<float> canon(static_cast<size_t>(rows * cols));
  for (size_t i = 0; i < canon.size(); ++i) canon[i] = static_cast<float>(i) * 0.5f - 3.0f;
  // Conv1D storage: [in, out].
  std::vector<float> tr(canon.size());
  for (int64_t o = 0; o < rows; ++o)
    for (int64_t i = 0; i < cols; ++i)
      tr[static_cast<size_t>(i * rows + o)] = canon[static_cast<size_t>(o * cols + i)];
  // HF rotate-half storage of q with 2 heads of 8: HF row h*8 + t*4 + p holds Meta row h*8 + 2p + t.
  std::vector<float> hf(canon.size());
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t p = 0; p < 4; ++p)
      for (int64_t t = 0; t < 2; ++t)
        for (int64_t c = 0; c < cols; ++c)
          hf[static_cast<size_t>((h * 8 + t * 4 + p) * cols + c)] =
              canon[static_cast<size_t>((h * 8 + 2 * p + t) * cols + c)];
  gbt::mem_model m;
  m.add("canon", gb::dtype::f32, {rows, cols}, canon);
  m.add("conv1d", gb::dtype::f32, {cols, rows}, tr, -1, true);
  m.add("hf_q", gb::dtype::f32, {rows, cols}, hf, -1, false, 2);
  // PyTorch strided view of the canonical matrix: column-major storage with strides {1, rows}.
  std::vector<uint8_t> colmajor(canon.size() * 4);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      std::memcpy(colmajor.data() + (c * rows + r) * 4, &canon[static_cast<size_t>(r * cols + c)], 4);
  m.add_bytes("strided", gb::dtype::f32, {rows, cols}, colmajor, {1, rows});
  m.finish();
  std::vector<float> scratch(static_cast<size_t>(cols));
  for (const gb::tensor_item& it : m.items) {
    gb::tensor_reader rd(it);
    CHECK(rd.rows() == rows);
    CHECK(rd.cols() == cols);
    for (int64_t r = 0; r < rows; ++r) {
      const float* x = rd.row_f32(r, scratch.data());
      for (int64_t c = 0; c < cols; ++c) CHECK(x[c] == canon[static_cast<size_t>(r * cols + c)]);
    }
  }
  // The same values give the same value digest in every layout.
  gb::stats_report s = gb::stats_compute(m.items, {});
  for (const auto& t : s.tensors) CHECK(t.values_hex == s.tensors[0].values_hex);
}

TEST_CASE("tensor_reader: bytes past the end of the file name the tensor (truncated)") {
  const std::string dir = gb::test::temp_dir("stats_truncated");
  std::vector<uint8_t> bytes(100, 0);
  gb::test::write_file(dir + "/f.bin", bytes.data(), bytes.size());
  auto map = gb::mapped_file::open(dir + "/f.bin");
  gb::tensor_view v;
  v.name = "blk.0.attn.q.weight";
  v.type = gb::dtype::f32;
  v.shape = {8, 8};  // 256 bytes wanted from offset 16 of a 100-byte file
  v.data = map->data() + 16;
  v.nbytes = 256;
  gb::tensor_item it;
  it.name = it.stored_name = v.name;
  it.view = &v;
  it.file = map.get();
  it.shape = v.shape;
  try {
    gb::tensor_reader rd(it);
    FAIL("no error");
  } catch (const gb::failure& f) {
    CHECK(f.err().code == gb::errc::truncated);
    CHECK(f.err().message.find("blk.0.attn.q.weight") != std::string::npos);
    CHECK(f.err().offset == 16);
  }
  // A shape that needs more bytes than the tensor spans is out_of_bounds.
  v.nbytes = 64;
  try {
    gb::tensor_reader rd(it);
    FAIL("no error");
  } catch (const gb::failure& f) {
    CHECK(f.err().code == gb::errc::out_of_bounds);
  }
}

TEST_CASE("tensor_reader: HF heads that do not divide the rows are a mismatch") {
  gbt::mem_model m;
  m.add("q", gb::dtype::f32, {12, 4}, std::vector<float>(48, 1.0f), -1, false, 5);
  m.finish();
  try {
    gb::tensor_reader rd(m.items[0]);
    FAIL("no error");
  } catch (const gb::failure& f) {
    CHECK(f.err().code == gb::errc::mismatch);
  }
}

TEST_CASE("stats: synth plants (NaN, all-zero, duplicate) are found and named") {
  const std::string dir = gb::test::temp_dir("stats_synth");
  gb::synth_spec s;
  s.n_layer = 2;
  s.path = dir + "/planted.gguf";
  s.plants = {{"nan", "blk.0.attn.q.weight", ""},
              {"zero", "blk.1.mlp.up.weight", ""},
              {"dup", "blk.0.attn.k.weight", "blk.1.attn.k.weight"}};
  REQUIRE(gb::synth_write(s).ok());
  gb::result<gb::integrity_input> in = gb::integrity_open(s.path);
  REQUIRE(in.ok());
  gb::stats_report r = gb::stats_compute(in.value().items, {});
  CHECK(find(r, "tensor.nan", "blk.0.attn.q.weight"));
  CHECK(find(r, "tensor.all_zero", "blk.1.mlp.up.weight"));
  const gb::finding* d = find(r, "tensor.duplicate", "blk.1.attn.k.weight");
  REQUIRE(d);
  CHECK(d->message.find("blk.0.attn.k.weight") != std::string::npos);
  size_t nan_findings = 0;
  for (const auto& f : r.findings) nan_findings += f.code == "tensor.nan";
  CHECK(nan_findings == 1);
  // CLI: exit 1 (a high finding), the JSON names them.
  std::string out;
  CHECK(gb::test::run_glassbox("stats --json " + s.path, &out) == 1);
  CHECK(out.find("\"tensor.nan\"") != std::string::npos);
}
