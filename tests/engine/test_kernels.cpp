// Each fast kernel against its plain `_ref` twin over random shapes, with the tolerance stated per check.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "formats/quant.h"
#include "probes/engine/attention.h"
#include "probes/engine/kernels.h"

using namespace gb;
using namespace gb::engine;

namespace {

std::vector<float> randn(size_t n, std::mt19937& g, float scale = 1.0f) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(g);
  return v;
}

// Encodes a (rows, cols) f32 matrix in dtype t, row by row.
std::vector<uint8_t> encode(dtype t, const std::vector<float>& w, int64_t rows, int64_t cols) {
  std::vector<uint8_t> out;
  for (int64_t r = 0; r < rows; ++r) {
    if (t == dtype::f32) {
      const auto* p = reinterpret_cast<const uint8_t*>(w.data() + r * cols);
      out.insert(out.end(), p, p + cols * 4);
    } else if (t == dtype::f16 || t == dtype::bf16) {
      for (int64_t i = 0; i < cols; ++i) {
        uint16_t h = t == dtype::f16 ? f32_to_fp16(w[static_cast<size_t>(r * cols + i)])
                                     : f32_to_bf16(w[static_cast<size_t>(r * cols + i)]);
        out.push_back(static_cast<uint8_t>(h & 0xff));
        out.push_back(static_cast<uint8_t>(h >> 8));
      }
    } else {
      std::vector<uint8_t> q = quantize_row(t, w.data() + r * cols, cols);
      out.insert(out.end(), q.begin(), q.end());
    }
  }
  return out;
}

double max_rel_err(const std::vector<float>& a, const std::vector<float>& b) {
  double scale = 1e-6, err = 0;
  for (size_t i = 0; i < a.size(); ++i) scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
  for (size_t i = 0; i < a.size(); ++i)
    err = std::max(err, std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
  return err / scale;
}

}  // namespace

TEST_CASE("matmul matches matmul_ref for every runnable dtype, small and large T (rel 1e-5)") {
  std::mt19937 g(42);
  const dtype types[] = {dtype::f32,  dtype::f16,  dtype::bf16, dtype::q8_0, dtype::q4_0, dtype::q4_1,
                         dtype::q5_0, dtype::q5_1, dtype::q4_k, dtype::q5_k, dtype::q6_k};
  for (dtype t : types) {
    for (int64_t T : {1, 3, 9, 37}) {
      const int64_t block = dtype_info(t).block_size;
      const int64_t cols = block * (1 + static_cast<int64_t>(g() % 3)) * (block == 1 ? 48 : 1);
      const int64_t rows = 1 + static_cast<int64_t>(g() % 300);
      const std::string type_name = dtype_name(t);
      CAPTURE(type_name);
      CAPTURE(T);
      CAPTURE(rows);
      CAPTURE(cols);
      std::vector<float> wf = randn(static_cast<size_t>(rows * cols), g);
      std::vector<uint8_t> bytes = encode(t, wf, rows, cols);
      weight_view w{t, bytes.data(), rows, cols, dtype_row_bytes(t, static_cast<uint64_t>(cols))};
      REQUIRE(bytes.size() == w.row_bytes * static_cast<uint64_t>(rows));
      std::vector<float> x = randn(static_cast<size_t>(T * cols), g);
      std::vector<float> y(static_cast<size_t>(T * rows)), yr(y.size());
      matmul(x.data(), T, w, y.data(), 2);
      matmul_ref(x.data(), T, w, yr.data());
      CHECK(max_rel_err(y, yr) < 1e-5);
    }
  }
}

TEST_CASE("weight row decoding matches the reference decoder bit for bit (f16, bf16)") {
  std::mt19937 g(7);
  for (dtype t : {dtype::f16, dtype::bf16}) {
    const int64_t cols = 1 + static_cast<int64_t>(g() % 97);
    std::vector<float> wf = randn(static_cast<size_t>(3 * cols), g, 100.0f);
    wf[0] = std::numeric_limits<float>::infinity();
    wf[1] = 1e-7f;  // f16 subnormal
    std::vector<uint8_t> bytes = encode(t, wf, 3, cols);
    weight_view w{t, bytes.data(), 3, cols, static_cast<uint64_t>(cols) * 2};
    std::vector<float> a(static_cast<size_t>(3 * cols)), b(a.size());
    weight_rows_f32(w, 0, 3, a.data());
    weight_rows_f32_ref(w, 0, 3, b.data());
    CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
  }
}

TEST_CASE("rope matches rope_ref in both layouts with partial rotary (abs 1e-5)") {
  std::mt19937 g(3);
  for (rope_kind k : {rope_kind::interleaved, rope_kind::neox}) {
    for (int rep = 0; rep < 20; ++rep) {
      const int64_t E = 2 * (1 + static_cast<int64_t>(g() % 64)), H = 1 + static_cast<int64_t>(g() % 5);
      const int64_t n_rot = 2 * (1 + static_cast<int64_t>(g() % (E / 2)));
      const int64_t pos = static_cast<int64_t>(g() % 4096);
      std::vector<float> a = randn(static_cast<size_t>(H * E), g), b = a;
      rope(a.data(), H, E, n_rot, pos, 10000.0, k);
      rope_ref(b.data(), H, E, n_rot, pos, 10000.0, k);
      for (size_t i = 0; i < a.size(); ++i) CHECK(std::fabs(a[i] - b[i]) < 1e-5f);
      // Dimensions past n_rot are untouched.
      std::vector<float> c = randn(static_cast<size_t>(E), g), d = c;
      rope(c.data(), 1, E, n_rot, pos, 10000.0, k);
      for (int64_t i = n_rot; i < E; ++i) CHECK(c[static_cast<size_t>(i)] == d[static_cast<size_t>(i)]);
    }
  }
}

TEST_CASE("rope at position 0 is the identity and preserves pair norms") {
  std::vector<float> a = {1, 2, 3, 4}, b = a;
  rope(a.data(), 1, 4, 4, 0, 10000.0, rope_kind::interleaved);
  CHECK(a == b);
  rope(a.data(), 1, 4, 4, 17, 10000.0, rope_kind::neox);
  CHECK(std::fabs(a[0] * a[0] + a[2] * a[2] - (1.0f + 9.0f)) < 1e-4f);
}

TEST_CASE("softmax matches softmax_ref, masks -inf, sums to one (abs 1e-6)") {
  std::mt19937 g(5);
  for (int rep = 0; rep < 50; ++rep) {
    const int64_t n = 1 + static_cast<int64_t>(g() % 700);
    std::vector<float> a = randn(static_cast<size_t>(n), g, 10.0f);
    if (n > 2) a[1] = -std::numeric_limits<float>::infinity();
    std::vector<float> b = a;
    softmax(a.data(), n);
    softmax_ref(b.data(), n);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      CHECK(std::fabs(a[static_cast<size_t>(i)] - b[static_cast<size_t>(i)]) < 1e-6f);
      sum += static_cast<double>(a[static_cast<size_t>(i)]);
    }
    CHECK(std::fabs(sum - 1.0) < 1e-5);
    if (n > 2) CHECK(a[1] == 0.0f);
  }
}

TEST_CASE("norms and activations against closed forms") {
  std::vector<float> x = {1, 2, 3, 4}, y(4);
  rms_norm(x.data(), nullptr, 4, 0.0f, y.data());
  const float r = std::sqrt(7.5f);
  for (int i = 0; i < 4; ++i)
    CHECK(y[static_cast<size_t>(i)] == doctest::Approx(x[static_cast<size_t>(i)] / r).epsilon(1e-6));
  std::vector<float> w = {2, 2, 2, 2}, b = {1, 1, 1, 1};
  layer_norm(x.data(), w.data(), b.data(), 4, 0.0f, y.data());
  const float sd = std::sqrt(1.25f);
  for (int i = 0; i < 4; ++i)
    CHECK(y[static_cast<size_t>(i)] ==
          doctest::Approx(2 * (x[static_cast<size_t>(i)] - 2.5f) / sd + 1).epsilon(1e-6));
  std::vector<float> a = {-1.0f, 0.0f, 2.0f};
  std::vector<float> s = a, ge = a, gt = a;
  silu(s.data(), 3);
  gelu(ge.data(), 3);
  gelu_tanh(gt.data(), 3);
  CHECK(s[2] == doctest::Approx(2.0 / (1 + std::exp(-2.0))));
  CHECK(ge[0] == doctest::Approx(-0.15865525393145707));  // -Phi(-1)
  CHECK(gt[2] == doctest::Approx(1.9545976940871754));    // tanh approximation at 2
  CHECK(s[1] == 0.0f);
  CHECK(alibi_slope(0, 8) == doctest::Approx(0.5));
  CHECK(alibi_slope(7, 8) == doctest::Approx(1.0 / 256));
  CHECK(alibi_slope(8, 12) ==
        doctest::Approx(std::pow(2.0, -0.5)));  // BLOOM: extra heads use 2^(-4/8) odd powers
  CHECK(alibi_slope(9, 12) == doctest::Approx(std::pow(2.0, -1.5)));
}

TEST_CASE("threads_for: tiny work runs on one thread, a 768-dim one-token matmul stays parallel") {
  // stories260K (dim 64, vocab 512): the largest one-token matmul streams 512 x 64 weights.
  CHECK(engine::threads_for(engine::streamed_weight_work * 512 * 64, 2) == 1);
  CHECK(engine::threads_for(engine::streamed_weight_work * 768 * 768, 2) == 2);
  CHECK(engine::threads_for(engine::min_parallel_work - 1, 8) == 1);
  CHECK(engine::threads_for(engine::min_parallel_work, 8) == 8);
  CHECK(engine::threads_for(engine::min_parallel_work, 0) == 1);
}

TEST_CASE("vectorised silu and softmax over long rows against double closed forms (rel 1e-6)") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-30.0f, 30.0f);
  std::vector<float> x(1003);
  for (float& v : x) v = u(rng);
  std::vector<float> s = x;
  silu(s.data(), static_cast<int64_t>(s.size()));
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double xd = x[i], want = xd / (1 + std::exp(-xd));
    worst = std::max(worst, std::fabs(static_cast<double>(s[i]) - want) / std::max(1e-30, std::fabs(want)));
  }
  MESSAGE("silu max relative error " << worst);
  CHECK(worst < 1e-6);
  std::vector<float> p = x, q = x;
  p[5] = q[5] = -std::numeric_limits<float>::infinity();
  softmax(p.data(), static_cast<int64_t>(p.size()));
  softmax_ref(q.data(), static_cast<int64_t>(q.size()));
  CHECK(p[5] == 0.0f);
  double wp = 0;
  for (size_t i = 0; i < p.size(); ++i)
    if (q[i] > 1e-30f)
      wp = std::max(
          wp, std::fabs(static_cast<double>(p[i]) - static_cast<double>(q[i])) / static_cast<double>(q[i]));
  MESSAGE("softmax max relative error " << wp);
  CHECK(wp < 1e-5);
}

TEST_CASE("softmax and matmul give the same bits wherever their buffers sit (repeatable runs)") {
  // One row copied to every float offset of a 64-byte line: the results must be identical bit for bit,
  // or a run's numbers would depend on where its allocations happened to land.
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  for (int64_t n : {5, 16, 37, 100, 513}) {
    std::vector<float> row(static_cast<size_t>(n));
    for (float& v : row) v = nd(rng);
    std::vector<float> first;
    for (int off = 0; off < 16; ++off) {
      std::vector<float> buf(static_cast<size_t>(n + 16));
      std::copy(row.begin(), row.end(), buf.begin() + off);
      engine::softmax(buf.data() + off, n);
      std::vector<float> got(buf.begin() + off, buf.begin() + off + n);
      if (off == 0) first = got;
      CHECK(std::memcmp(got.data(), first.data(), sizeof(float) * static_cast<size_t>(n)) == 0);
    }
  }
  const int64_t M = 24, N = 100;
  std::vector<float> w(static_cast<size_t>(M * N));
  for (float& v : w) v = nd(rng);
  engine::weight_view wv;
  wv.type = dtype::f32;
  wv.rows = M;
  wv.cols = N;
  wv.data = reinterpret_cast<const uint8_t*>(w.data());
  wv.row_bytes = static_cast<uint64_t>(N) * 4;
  for (int64_t T : {1, 3, 40}) {
    std::vector<float> x(static_cast<size_t>(T * N));
    for (float& v : x) v = nd(rng);
    std::vector<float> first;
    for (int off = 0; off < 16; ++off) {
      std::vector<float> buf(x.size() + 16), y(static_cast<size_t>(T * M));
      std::copy(x.begin(), x.end(), buf.begin() + off);
      engine::matmul(buf.data() + off, T, wv, y.data(), 1);
      if (off == 0) first = y;
      CHECK(std::memcmp(y.data(), first.data(), sizeof(float) * y.size()) == 0);
    }
  }
}

TEST_CASE("matmul matches matmul_ref across tile, panel and k-chunk edges (rel 1e-5)") {
  // Shapes around the packed GEMM's edges: T around its 6-token tile, M around 64-row panels, N not a
  // multiple of 16 and past the 512-column chunk, for the dtypes with any column count and a block type.
  std::mt19937 g(17);
  struct shape {
    dtype t;
    int64_t T, M, N;
  };
  const shape shapes[] = {{dtype::f32, 5, 63, 17},     {dtype::f32, 6, 64, 16},    {dtype::f32, 7, 65, 513},
                          {dtype::f32, 13, 129, 1100}, {dtype::f32, 1, 1, 1},      {dtype::f16, 11, 70, 531},
                          {dtype::bf16, 8, 127, 45},   {dtype::q8_0, 12, 66, 544}, {dtype::q4_k, 19, 5, 768},
                          {dtype::q6_k, 2, 200, 512}};
  for (const shape& s : shapes) {
    const std::string type_name = dtype_name(s.t);
    CAPTURE(type_name);
    CAPTURE(s.T);
    CAPTURE(s.M);
    CAPTURE(s.N);
    std::vector<float> wf = randn(static_cast<size_t>(s.M * s.N), g);
    std::vector<uint8_t> bytes = encode(s.t, wf, s.M, s.N);
    weight_view w{s.t, bytes.data(), s.M, s.N, dtype_row_bytes(s.t, static_cast<uint64_t>(s.N))};
    std::vector<float> x = randn(static_cast<size_t>(s.T * s.N), g);
    std::vector<float> y(static_cast<size_t>(s.T * s.M)), yr(y.size());
    for (int threads : {1, 2}) {
      std::fill(y.begin(), y.end(), std::numeric_limits<float>::quiet_NaN());
      matmul(x.data(), s.T, w, y.data(), threads);
      matmul_ref(x.data(), s.T, w, yr.data());
      CHECK(max_rel_err(y, yr) < 1e-5);
    }
  }
}

TEST_CASE("matmul: a row's outputs are bit-identical alone and among 1..600 rows, on 1 or 2 threads") {
  // Each y[t][r] must depend only on x row t and W row r (a fixed accumulation order), so one sequence
  // scores the same alone, inside a packed batch, and whatever the thread count.
  std::mt19937 g(23);
  struct shape {
    dtype t;
    int64_t M, N;
  };
  for (const shape& s :
       {shape{dtype::f32, 200, 1100}, shape{dtype::f16, 70, 531}, shape{dtype::q8_0, 130, 544},
        shape{dtype::f32, 70, 2600}, shape{dtype::f16, 20, 2100}, shape{dtype::f32, 172, 64},
        shape{dtype::f32, 64, 172}, shape{dtype::f32, 512, 64}}) {
    const std::string type_name = dtype_name(s.t);
    CAPTURE(type_name);
    std::vector<float> wf = randn(static_cast<size_t>(s.M * s.N), g);
    std::vector<uint8_t> bytes = encode(s.t, wf, s.M, s.N);
    weight_view w{s.t, bytes.data(), s.M, s.N, dtype_row_bytes(s.t, static_cast<uint64_t>(s.N))};
    const std::vector<float> row = randn(static_cast<size_t>(s.N), g);
    std::vector<float> alone(static_cast<size_t>(s.M));
    matmul(row.data(), 1, w, alone.data(), 1);
    for (int64_t T : {1, 2, 5, 6, 7, 8, 13, 64, 600}) {
      std::vector<float> x = randn(static_cast<size_t>(T * s.N), g);
      const int64_t at = static_cast<int64_t>(g() % static_cast<uint32_t>(T));
      std::copy(row.begin(), row.end(), x.begin() + at * s.N);
      for (int threads : {1, 2}) {
        CAPTURE(T);
        CAPTURE(at);
        CAPTURE(threads);
        std::vector<float> y(static_cast<size_t>(T * s.M));
        matmul(x.data(), T, w, y.data(), threads);
        CHECK(std::memcmp(y.data() + at * s.M, alone.data(), alone.size() * 4) == 0);
      }
    }
  }
}

TEST_CASE("attention kernels match attention_ref; a row's bits do not depend on its tile or its addressing") {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int64_t E : {8, 16, 40, 64, 80, 128, 136}) {  // portable tails, every AVX-512 chunk count, > 128
    INFO("E = " << E);
    const int64_t P = 37, stride = 3 * E;  // keys of three heads interleaved, as in the KV cache
    std::vector<float> q(static_cast<size_t>(5 * E)), kv(static_cast<size_t>(P * stride)),
        vv(static_cast<size_t>(P * stride));
    for (float& x : q) x = nd(rng);
    for (float& x : kv) x = nd(rng);
    for (float& x : vv) x = nd(rng);
    const kv_rows keys{kv.data() + E, stride}, vals{vv.data() + E, stride};
    const float scale = 1.0f / std::sqrt(static_cast<float>(E));
    for (float slope : {0.0f, -0.25f}) {
      const int64_t n[5] = {1, 17, 33, 36, 37};  // causal rows: 1..37 visible keys
      std::vector<float> s(static_cast<size_t>(5 * P)), out(static_cast<size_t>(5 * E));
      attention_scores(5, q.data(), E, n, E, keys, scale, slope, s.data(), P);
      for (int r = 0; r < 5; ++r) softmax(s.data() + r * P, n[r]);
      attention_weigh(5, s.data(), P, n, E, vals, out.data(), E);
      std::vector<int64_t> path(static_cast<size_t>(P));
      for (int64_t i = 0; i < P; ++i) path[static_cast<size_t>(i)] = i;
      const kv_rows pk{kv.data() + E, stride, path.data()}, pv{vv.data() + E, stride, path.data()};
      for (int r = 0; r < 5; ++r) {
        std::vector<float> ref(static_cast<size_t>(E)), one(static_cast<size_t>(E)),
            s1(static_cast<size_t>(P));
        attention_ref(q.data() + r * E, n[r], E, keys, vals, scale, slope, ref.data());
        for (int64_t e = 0; e < E; ++e)
          CHECK(out[static_cast<size_t>(r * E + e)] ==
                doctest::Approx(ref[static_cast<size_t>(e)]).epsilon(1e-5));
        // the same row alone, addressed through an index (a packed trie's path): the same bits
        attention_scores(1, q.data() + r * E, E, &n[r], E, pk, scale, slope, s1.data(), P);
        softmax(s1.data(), n[r]);
        attention_weigh(1, s1.data(), P, &n[r], E, pv, one.data(), E);
        CHECK(std::memcmp(one.data(), out.data() + r * E, static_cast<size_t>(E) * sizeof(float)) == 0);
      }
    }
  }
}
