#include "probes/engine/kernels.h"

// GCC 12 reports false maybe-uninitialized warnings inside Eigen's AVX-512 packet code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#if defined(__F16C__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "formats/quant.h"

namespace gb::engine {
namespace {

using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using const_mat = Eigen::Map<const row_major, 0, Eigen::OuterStride<>>;
using mut_mat = Eigen::Map<row_major, 0, Eigen::OuterStride<>>;
using const_vec = Eigen::Map<const Eigen::VectorXf>;

// Below this many tokens a matmul streams W once and does T dot products per row (memory bound).
constexpr int64_t small_t = 8;
// Rows of W decoded per GEMM block (large T).
constexpr int64_t gemm_rows = 128;

void f16_row(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
#endif
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
#endif
  for (; i < n; ++i) dst[i] = fp16_to_f32(src[i]);
}

void bf16_row(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t u = static_cast<uint32_t>(src[i]) << 16;
    std::memcpy(dst + i, &u, 4);
  }
}

// Pointer to row r of w as f32: in place for f32, else decoded into buf (cols floats).
const float* row_f32(const weight_view& w, int64_t r, float* buf) {
  if (w.type == dtype::f32) return reinterpret_cast<const float*>(w.row(r));
  weight_rows_f32(w, r, 1, buf);
  return buf;
}

aligned_vector<float>& scratch(size_t n) {
  static thread_local aligned_vector<float> s;
  if (s.size() < n) s.resize(n);
  return s;
}

}  // namespace

void weight_rows_f32(const weight_view& w, int64_t r0, int64_t n, float* dst) {
  for (int64_t r = r0; r < r0 + n; ++r, dst += w.cols) {
    const uint8_t* src = w.row(r);
    switch (w.type) {
      case dtype::f32: std::memcpy(dst, src, static_cast<size_t>(w.cols) * 4); break;
      case dtype::f16: f16_row(reinterpret_cast<const uint16_t*>(src), dst, w.cols); break;
      case dtype::bf16: bf16_row(reinterpret_cast<const uint16_t*>(src), dst, w.cols); break;
      default: dequantize_row(w.type, src, dst, w.cols); break;
    }
  }
}

void weight_rows_f32_ref(const weight_view& w, int64_t r0, int64_t n, float* dst) {
  for (int64_t r = r0; r < r0 + n; ++r, dst += w.cols) {
    const uint8_t* src = w.row(r);
    if (w.type == dtype::f16 || w.type == dtype::bf16) {
      for (int64_t i = 0; i < w.cols; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = w.type == dtype::f16 ? fp16_to_f32(h) : bf16_to_f32(h);
      }
    } else {
      dequantize_row(w.type, src, dst, w.cols);
    }
  }
}

void matmul(const float* x, int64_t T, const weight_view& w, float* y, int threads) {
  const int64_t M = w.rows, N = w.cols;
  if (threads <= 0) threads = omp_get_max_threads();
  threads = threads_for(std::max(T, streamed_weight_work) * M * N, threads);  // few tokens: streaming W counts
  // The engine does its own threading: Eigen must not start nested OpenMP teams inside ours.
  static const bool eigen_single = (Eigen::setNbThreads(1), true);
  (void)eigen_single;
  if (T < small_t) {
    // Stream W once: each row is decoded (if needed) and dotted with the T inputs.
    constexpr int64_t rows_per_task = 16;
    const int64_t tasks = (M + rows_per_task - 1) / rows_per_task;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t k = 0; k < tasks; ++k) {
      float* buf = w.type == dtype::f32 ? nullptr : scratch(static_cast<size_t>(N)).data();
      const int64_t r1 = std::min(M, (k + 1) * rows_per_task);
      for (int64_t r = k * rows_per_task; r < r1; ++r) {
        const_vec wr(row_f32(w, r, buf), N);
        for (int64_t t = 0; t < T; ++t) y[t * M + r] = wr.dot(const_vec(x + t * N, N));
      }
    }
    return;
  }
  // Large T: blocks of gemm_rows rows, each decoded once and multiplied with Eigen's GEMM.
  const int64_t blocks = (M + gemm_rows - 1) / gemm_rows;
  const_mat X(x, T, N, Eigen::OuterStride<>(N));
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t r0 = b * gemm_rows, n = std::min(gemm_rows, M - r0);
    const float* wb;
    if (w.type == dtype::f32) {
      wb = reinterpret_cast<const float*>(w.row(r0));
    } else {
      float* buf = scratch(static_cast<size_t>(n * N)).data();
      weight_rows_f32(w, r0, n, buf);
      wb = buf;
    }
    const_mat W(wb, n, N, Eigen::OuterStride<>(N));
    mut_mat Y(y + r0, T, n, Eigen::OuterStride<>(M));
    Y.noalias() = X * W.transpose();
  }
}

void matmul_ref(const float* x, int64_t T, const weight_view& w, float* y) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = 0; r < w.rows; ++r) {
    weight_rows_f32_ref(w, r, 1, row.data());
    for (int64_t t = 0; t < T; ++t) {
      double s = 0;
      for (int64_t i = 0; i < w.cols; ++i) s += static_cast<double>(x[t * w.cols + i]) * static_cast<double>(row[static_cast<size_t>(i)]);
      y[t * w.rows + r] = static_cast<float>(s);
    }
  }
}

void rms_norm(const float* x, const float* w, int64_t n, float eps, float* y) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  const float scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + static_cast<double>(eps)));
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * (w ? w[i] : 1.0f);
}

void layer_norm(const float* x, const float* w, const float* b, int64_t n, float eps, float* y) {
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) mean += static_cast<double>(x[i]);
  mean /= static_cast<double>(n);
  double var = 0;
  for (int64_t i = 0; i < n; ++i) var += (static_cast<double>(x[i]) - mean) * (static_cast<double>(x[i]) - mean);
  var /= static_cast<double>(n);
  const double scale = 1.0 / std::sqrt(var + static_cast<double>(eps));
  for (int64_t i = 0; i < n; ++i) {
    float v = static_cast<float>((static_cast<double>(x[i]) - mean) * scale);
    y[i] = v * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
  }
}

namespace {
// cos/sin of pos * theta^(-2i/n_rot) for i < n_rot/2, in double then rounded.
void rope_angles(int64_t n_rot, int64_t pos, double theta, float* c, float* s) {
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    const double a = static_cast<double>(pos) * std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(n_rot));
    c[i] = static_cast<float>(std::cos(a));
    s[i] = static_cast<float>(std::sin(a));
  }
}
}  // namespace

void rope(float* x, int64_t n_head, int64_t head_dim, int64_t n_rot, int64_t pos, double theta, rope_kind kind) {
  if (kind == rope_kind::none || n_rot <= 0) return;
  float c[512], s[512];  // n_rot <= head_dim <= 1024 checked by the runner
  rope_angles(n_rot, pos, theta, c, s);
  const int64_t half = n_rot / 2;
  for (int64_t h = 0; h < n_head; ++h) {
    float* v = x + h * head_dim;
    if (kind == rope_kind::interleaved) {
      for (int64_t i = 0; i < half; ++i) {
        const float a = v[2 * i], b = v[2 * i + 1];
        v[2 * i] = a * c[i] - b * s[i];
        v[2 * i + 1] = a * s[i] + b * c[i];
      }
    } else {
      for (int64_t i = 0; i < half; ++i) {
        const float a = v[i], b = v[i + half];
        v[i] = a * c[i] - b * s[i];
        v[i + half] = a * s[i] + b * c[i];
      }
    }
  }
}

void rope_ref(float* x, int64_t n_head, int64_t head_dim, int64_t n_rot, int64_t pos, double theta,
              rope_kind kind) {
  if (kind == rope_kind::none || n_rot <= 0) return;
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t i = 0; i < n_rot / 2; ++i) {
      const double a = static_cast<double>(pos) / std::pow(theta, static_cast<double>(2 * i) / static_cast<double>(n_rot));
      const int64_t j0 = kind == rope_kind::interleaved ? 2 * i : i;
      const int64_t j1 = kind == rope_kind::interleaved ? 2 * i + 1 : i + n_rot / 2;
      float* v = x + h * head_dim;
      const double p = v[j0], q = v[j1];
      v[j0] = static_cast<float>(p * std::cos(a) - q * std::sin(a));
      v[j1] = static_cast<float>(p * std::sin(a) + q * std::cos(a));
    }
}

void softmax(float* x, int64_t n) {
  if (n <= 0) return;
  Eigen::Map<Eigen::ArrayXf> a(x, n);
  const float mx = a.maxCoeff();
  constexpr float neg_inf = -std::numeric_limits<float>::infinity();
  if (mx == neg_inf) {
    a.setZero();
    return;
  }
  // Eigen's vectorised exp (a few ulp); -inf entries are selected to exactly 0.
  a = (a == neg_inf).select(0.0f, (a - mx).exp());
  // The sum runs in a fixed order from element 0 (16 lanes, then the lanes in order, then the tail).
  // Eigen's sum() starts its packets at the first aligned element, so one row at two addresses rounded
  // differently, and runs whose buffers landed elsewhere (several runners at once) were not repeatable.
  float lane[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) lane[j] += x[i + j];
  float sum = 0.0f;
  for (float l : lane) sum += l;
  for (; i < n; ++i) sum += x[i];
  a *= 1.0f / sum;
}

void softmax_ref(float* x, int64_t n) {
  double mx = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, static_cast<double>(x[i]));
  if (std::isinf(mx) && mx < 0) {
    std::fill(x, x + n, 0.0f);
    return;
  }
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - mx);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(std::exp(static_cast<double>(x[i]) - mx) / sum);
}

void silu(float* x, int64_t n) {
  Eigen::Map<Eigen::ArrayXf> a(x, n);
  a = a / (1.0f + (-a).exp());  // Eigen's vectorised exp (a few ulp)
}

void gelu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752f));
}

void gelu_tanh(float* x, int64_t n) {
  constexpr float k = 0.79788456080286535588f;  // sqrt(2/pi)
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.0f + std::tanh(k * v * (1.0f + 0.044715f * v * v)));
  }
}

void gelu_ggml_f16(float* x, int64_t n) {
  // The table holds f16(gelu_tanh_f32(f16 value)) for every f16 bit pattern, computed in f32 as ggml does.
  static const std::vector<uint16_t> table = [] {
    std::vector<uint16_t> t(65536);
    constexpr float k = 0.79788456080286535587989211986876f, a = 0.044715f;
    for (uint32_t i = 0; i < 65536; ++i) {
      const float f = fp16_to_f32(static_cast<uint16_t>(i));
      t[i] = f32_to_fp16(0.5f * f * (1.0f + std::tanh(k * f * (1.0f + a * f * f))));
    }
    return t;
  }();
  for (int64_t i = 0; i < n; ++i) {
    if (x[i] <= -10.0f)
      x[i] = 0.0f;
    else if (x[i] < 10.0f)
      x[i] = fp16_to_f32(table[f32_to_fp16(x[i])]);
  }
}

void relu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::max(0.0f, x[i]);
}

void activate(act_kind a, float* x, int64_t n) {
  switch (a) {
    case act_kind::silu: silu(x, n); break;
    case act_kind::gelu: gelu(x, n); break;
    case act_kind::gelu_tanh: gelu_tanh(x, n); break;
    case act_kind::relu: relu(x, n); break;
  }
}

float alibi_slope(int64_t h, int64_t n_head) {
  int64_t n_log2 = 1;
  while (n_log2 * 2 <= n_head) n_log2 *= 2;
  const double m0 = std::pow(2.0, -8.0 / static_cast<double>(n_log2));
  const double m1 = std::pow(2.0, -4.0 / static_cast<double>(n_log2));
  return static_cast<float>(h < n_log2 ? std::pow(m0, static_cast<double>(h + 1))
                                       : std::pow(m1, static_cast<double>(2 * (h - n_log2) + 1)));
}

}  // namespace gb::engine
