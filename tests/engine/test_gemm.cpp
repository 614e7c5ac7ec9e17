// matmul's determinism contract checked against an independent oracle: every y[t][r] must equal, bit for
// bit, one float FMA chain over k = 0..N-1 in order started from 0 (std::fma here; multiply then add on a
// target without FMA), for the few-token streamed path (T < 6, 16-row groups) and the packed path alike,
// at shapes around their step edges.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "formats/quant.h"
#include "probes/engine/kernels.h"

using namespace gb;
using namespace gb::engine;

namespace {

struct shape {
  dtype t;
  int64_t M, N;
  int64_t pad = 0;     // extra bytes after each row (row_bytes > the row's data)
  int64_t offset = 0;  // bytes before row 0 (an unaligned start)
};

// y[t][r] as one in-order float FMA chain over k, weights decoded with the scalar decoders.
std::vector<float> chain_ref(const std::vector<float>& x, int64_t T, const weight_view& w) {
  std::vector<float> y(static_cast<size_t>(T * w.rows));
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = 0; r < w.rows; ++r) {
    const uint8_t* src = w.row(r);
    if (dtype_info(w.type).block_size > 1)
      dequantize_row(w.type, src, row.data(), w.cols);  // ggml's scalar decode
    for (int64_t k = 0; k < w.cols && dtype_info(w.type).block_size == 1; ++k) {
      if (w.type == dtype::f32) {
        std::memcpy(&row[static_cast<size_t>(k)], src + 4 * k, 4);
      } else {
        uint16_t h;
        std::memcpy(&h, src + 2 * k, 2);
        row[static_cast<size_t>(k)] = fp16_to_f32(h);
      }
    }
    for (int64_t t = 0; t < T; ++t) {
      float acc = 0.0f;
      for (int64_t k = 0; k < w.cols; ++k) {
#if defined(__FMA__)
        acc = std::fma(x[static_cast<size_t>(t * w.cols + k)], row[static_cast<size_t>(k)], acc);
#else  // a target without FMA (sanitizer builds: no -march=native): the kernel multiplies, then adds
        const volatile float p = x[static_cast<size_t>(t * w.cols + k)] * row[static_cast<size_t>(k)];
        acc = acc + p;
#endif
      }
      y[static_cast<size_t>(t * w.rows + r)] = acc;
    }
  }
  return y;
}

// matmul of random x (T rows) by w on 1 and 2 threads equals chain_ref bit for bit, for each T.
void check_chains(const weight_view& w, std::initializer_list<int64_t> Ts, std::mt19937& g) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  for (int64_t T : Ts) {
    std::vector<float> x(static_cast<size_t>(T * w.cols));
    for (float& v : x) v = d(g);
    const std::vector<float> want = chain_ref(x, T, w);
    for (int threads : {1, 2}) {
      CAPTURE(T);
      CAPTURE(threads);
      std::vector<float> y(want.size(), std::nanf(""));
      matmul(x.data(), T, w, y.data(), threads);
      CHECK(std::memcmp(y.data(), want.data(), want.size() * 4) == 0);
    }
  }
}

}  // namespace

TEST_CASE(
    "matmul equals an in-order FMA chain per output bit for bit (f16 and f32, T 1..7 and 40, 1-2 threads)") {
  std::mt19937 g(31);
  std::normal_distribution<float> d(0.0f, 1.0f);
  // N around the f16 path's 32-column lines and 16-column halves; M around 16-row groups and 64-row
  // panels (a last group with a short next group to prefetch); padded rows and an unaligned start.
  const shape shapes[] = {{dtype::f16, 16, 2048},     {dtype::f16, 70, 531},       {dtype::f16, 33, 40},
                          {dtype::f16, 17, 16},       {dtype::f16, 5, 1},          {dtype::f16, 64, 32},
                          {dtype::f16, 20, 48, 6, 0}, {dtype::f16, 48, 100, 0, 2}, {dtype::f16, 130, 768},
                          {dtype::f32, 40, 100},      {dtype::f32, 17, 33, 4, 4}};
  for (const shape& s : shapes) {
    const std::string type_name = dtype_name(s.t);
    CAPTURE(type_name);
    CAPTURE(s.M);
    CAPTURE(s.N);
    CAPTURE(s.pad);
    CAPTURE(s.offset);
    const int64_t elt = s.t == dtype::f32 ? 4 : 2;
    const int64_t row_bytes = s.N * elt + s.pad;
    std::vector<uint8_t> bytes(static_cast<size_t>(s.offset + s.M * row_bytes), 0xAB);
    for (int64_t r = 0; r < s.M; ++r)
      for (int64_t k = 0; k < s.N; ++k) {
        uint8_t* p = bytes.data() + s.offset + r * row_bytes + k * elt;
        const float v = d(g);
        if (s.t == dtype::f32) {
          std::memcpy(p, &v, 4);
        } else {
          const uint16_t h = f32_to_fp16(v);
          std::memcpy(p, &h, 2);
        }
      }
    check_chains(weight_view{s.t, bytes.data() + s.offset, s.M, s.N, static_cast<uint64_t>(row_bytes)},
                 {1, 2, 3, 4, 5, 6, 7, 40}, g);
  }
}

TEST_CASE(
    "matmul equals an in-order FMA chain per output bit for bit, every ggml block type (T 1..7 and 40, 1-2 "
    "threads)") {
  std::mt19937 g(20);
  std::normal_distribution<float> d(0.0f, 1.0f);
  for (dtype t : {dtype::q4_0, dtype::q4_1, dtype::q5_0, dtype::q5_1, dtype::q8_0, dtype::q2_k, dtype::q3_k,
                  dtype::q4_k, dtype::q5_k, dtype::q6_k, dtype::q8_k}) {
    const int64_t bs = dtype_info(t).block_size;
    // M around 16-row groups and 64-row panels (a short last group, a short next group to prefetch);
    // N of one block, several, and past the packed path's 512-column chunk; padded rows, unaligned start.
    const shape shapes[] = {{t, 16, bs}, {t, 70, 3 * bs}, {t, 33, 640 / bs * bs + bs, 3, 1}, {t, 5, 2 * bs}};
    for (const shape& s : shapes) {
      const std::string type_name = dtype_name(s.t);
      CAPTURE(type_name);
      CAPTURE(s.M);
      CAPTURE(s.N);
      const int64_t row_bytes = static_cast<int64_t>(dtype_row_bytes(s.t, s.N)) + s.pad;
      std::vector<uint8_t> bytes(static_cast<size_t>(s.offset + s.M * row_bytes), 0xAB);
      std::vector<float> v(static_cast<size_t>(s.N));
      for (int64_t r = 0; r < s.M; ++r) {
        for (float& e : v) e = d(g);
        const std::vector<uint8_t> q = quantize_row(s.t, v.data(), s.N);
        std::memcpy(bytes.data() + s.offset + r * row_bytes, q.data(), q.size());
      }
      check_chains(weight_view{s.t, bytes.data() + s.offset, s.M, s.N, static_cast<uint64_t>(row_bytes)},
                   {1, 2, 3, 5, 6, 7, 40}, g);
    }
  }
}
