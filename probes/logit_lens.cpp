#include "probes/logit_lens.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <string>
#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include "inspect/tensor_values.h"

namespace gb::probes {

struct logit_lens::impl {
  std::vector<tensor_item> items;     // owns the items the readers point to
  std::vector<float> norm_w, norm_b;  // (D)
  std::vector<float> out_b;           // (V) or empty
  size_t out_item = 0;
  norm_kind kind = norm_kind::rms;
  double eps = 1e-5;
};

logit_lens::logit_lens(std::unique_ptr<impl> p) : p_(std::move(p)) {}
logit_lens::logit_lens(logit_lens&&) noexcept = default;
logit_lens& logit_lens::operator=(logit_lens&&) noexcept = default;
logit_lens::~logit_lens() = default;

namespace {

// n floats as a 1-d xtensor expression in double (no copy).
auto adapt_f64(const float* x, int64_t n) {
  const size_t c = static_cast<size_t>(n);
  return xt::cast<double>(xt::adapt(x, c, xt::no_ownership(), std::array<size_t, 1>{c}));
}

bool is_bias(const tensor_item& it) {
  return it.name.size() >= 5 && it.name.compare(it.name.size() - 5, 5, ".bias") == 0;
}

std::vector<float> read_vector(const tensor_item& it, int64_t n) {
  tensor_reader rd(it);
  if (rd.rows() != 1 || rd.cols() != n)
    fail(errc::bad_value, 0,
         "logit lens: '" + it.name + "' has " + std::to_string(rd.rows() * rd.cols()) + " values, expected " +
             std::to_string(n));
  std::vector<float> v(static_cast<size_t>(n));
  const float* r = rd.row_f32(0, v.data());
  if (r != v.data()) std::copy(r, r + n, v.begin());
  return v;
}

}  // namespace

result<logit_lens> logit_lens::create(const model& m) {
  try {
    auto p = std::make_unique<impl>();
    p->items = tensor_items(m);
    p->kind = m.hp.norm;
    p->eps = m.hp.norm_eps;
    const int64_t D = m.hp.n_embd;
    const tensor_item *nw = nullptr, *nb = nullptr, *ow = nullptr, *ob = nullptr, *te = nullptr;
    for (const tensor_item& it : p->items) {
      if (!it.mapped) continue;
      if (it.role == role_kind::output_norm) (is_bias(it) ? nb : nw) = &it;
      if (it.role == role_kind::output) (is_bias(it) ? ob : ow) = &it;
      if (it.role == role_kind::tok_embd && !is_bias(it)) te = &it;
    }
    if (!nw) return error{errc::unsupported, 0, "logit lens: the model has no output norm weight", ""};
    if (!ow) ow = te;
    if (!ow)
      return error{errc::unsupported, 0, "logit lens: the model has no unembedding (output or tok_embd)", ""};
    tensor_reader rd(*ow);
    if (rd.cols() != D || rd.rows() <= 0)
      return error{errc::bad_value, 0,
                   "logit lens: unembedding '" + ow->name + "' is not [V, " + std::to_string(D) + "]", ""};
    p->norm_w = read_vector(*nw, D);
    if (nb) p->norm_b = read_vector(*nb, D);
    if (ob) p->out_b = read_vector(*ob, rd.rows());
    p->out_item = static_cast<size_t>(ow - p->items.data());
    logit_lens l(std::move(p));
    l.D_ = D;
    l.V_ = rd.rows();
    return l;
  } catch (const failure& f) {
    return f.err();
  }
}

void logit_lens::normalize(const float* x, float* y) const {
  // Same arithmetic as the engine's kernels (double accumulation, eps rounded to float).
  const int64_t D = D_;
  const double eps = static_cast<double>(static_cast<float>(p_->eps));
  auto at = [](const std::vector<float>& v, int64_t i) {
    return v.empty() ? 0.0f : v[static_cast<size_t>(i)];
  };
  const auto xd = adapt_f64(x, D);  // (D); xt::sum runs in index order (no XTENSOR_USE_XSIMD)
  if (p_->kind == norm_kind::rms) {
    const double ss = xt::sum(xd * xd)();
    const float s = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(D) + eps));
    for (int64_t i = 0; i < D; ++i) y[i] = x[i] * s * at(p_->norm_w, i);
    return;
  }
  const double mean = xt::sum(xd)() / static_cast<double>(D);
  const double var = xt::sum((xd - mean) * (xd - mean))();
  const double s = 1.0 / std::sqrt(var / static_cast<double>(D) + eps);
  for (int64_t i = 0; i < D; ++i)
    y[i] = static_cast<float>((static_cast<double>(x[i]) - mean) * s) * at(p_->norm_w, i) + at(p_->norm_b, i);
}

void logit_lens::unembed(const float* xn, int64_t n, float* logits) const {
  tensor_reader rd(p_->items[p_->out_item]);
  std::vector<float> scratch(static_cast<size_t>(D_));  // (D)
  for (int64_t v = 0; v < V_; ++v) {
    const float* w = rd.row_f32(v, scratch.data());
    const float b = p_->out_b.empty() ? 0.0f : p_->out_b[static_cast<size_t>(v)];
    for (int64_t r = 0; r < n; ++r) {
      const float* x = xn + r * D_;
      float acc = 0;
      for (int64_t i = 0; i < D_; ++i) acc += w[i] * x[i];
      logits[r * V_ + v] = acc + b;
    }
  }
}

std::vector<std::pair<int32_t, double>> top_k_probs(const float* logits, int64_t V, int k) {
  std::vector<std::pair<int32_t, double>> out;
  if (V <= 0 || k <= 0) return out;
  // a NaN or infinite logit (a broken model) ranks last with probability 0; the rest share the softmax
  auto key = [&](int32_t i) { return std::isfinite(logits[i]) ? logits[i] : -INFINITY; };
  const auto z = adapt_f64(logits, V);                                     // (V)
  const double mx = xt::amax(xt::where(xt::isfinite(z), z, -INFINITY))();  // no NaN reaches the max
  const double sum = xt::sum(xt::where(xt::isfinite(z), xt::exp(z - mx), 0.0))();
  std::vector<int32_t> idx(static_cast<size_t>(V));
  std::iota(idx.begin(), idx.end(), 0);
  const size_t kk = std::min<size_t>(static_cast<size_t>(k), idx.size());
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(kk), idx.end(),
                    [&](int32_t a, int32_t b) { return key(a) > key(b) || (key(a) == key(b) && a < b); });
  for (size_t i = 0; i < kk; ++i) {
    const double zi = static_cast<double>(key(idx[i]));
    out.emplace_back(idx[i], std::isfinite(zi) ? std::exp(zi - mx) / sum : 0.0);
  }
  return out;
}

std::pair<int64_t, double> token_rank_prob(const float* logits, int64_t V, int32_t token) {
  if (token < 0 || token >= V) return {-1, 0.0};
  double mx = static_cast<double>(logits[0]), sum = 0;
  for (int64_t i = 1; i < V; ++i) mx = std::max(mx, static_cast<double>(logits[i]));
  int64_t rank = 0;
  const float t = logits[token];
  for (int64_t i = 0; i < V; ++i) {
    sum += std::exp(static_cast<double>(logits[i]) - mx);
    if (logits[i] > t || (logits[i] == t && i < token)) ++rank;
  }
  return {rank, std::exp(static_cast<double>(t) - mx) / sum};
}

}  // namespace gb::probes
