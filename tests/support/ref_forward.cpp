// tests/support/ref_forward.cpp: see the header. Plain loops in double; speed is not a goal.
#include "tests/support/ref_forward.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>

#include "tests/support/data.h"

namespace gb::test {

namespace {

// out.size() little-endian values of type T from p (avail bytes), as doubles.
template <class T>
void decode_le(const uint8_t* p, size_t avail, std::vector<double>& out) {
  REQUIRE(avail >= out.size() * sizeof(T));
  for (size_t i = 0; i < out.size(); ++i) {
    T x;
    std::memcpy(&x, p + sizeof(T) * i, sizeof(T));
    out[i] = static_cast<double>(x);
  }
}

}  // namespace

npy_array npy_read(const std::string& path) {
  const std::vector<uint8_t> b = read_file(path);
  REQUIRE(b.size() > 12);
  REQUIRE(std::memcmp(b.data(), "\x93NUMPY", 6) == 0);
  const bool v1 = b[6] == 1;
  const size_t hlen =
      v1 ? (b[8] | (b[9] << 8)) : (b[8] | (b[9] << 8) | (b[10] << 16) | (static_cast<size_t>(b[11]) << 24));
  const size_t hstart = v1 ? 10 : 12;
  REQUIRE(hstart + hlen <= b.size());
  const std::string h(reinterpret_cast<const char*>(b.data() + hstart), hlen);
  npy_array r;
  const size_t sp = h.find("'shape': (");
  REQUIRE(sp != std::string::npos);
  for (size_t i = sp + 10; i < h.size() && h[i] != ')'; ++i) {
    if (std::isdigit(static_cast<unsigned char>(h[i]))) {
      size_t e = i;
      while (e < h.size() && std::isdigit(static_cast<unsigned char>(h[e]))) ++e;
      r.shape.push_back(std::stoll(h.substr(i, e - i)));
      i = e - 1;
    }
  }
  REQUIRE(h.find("'fortran_order': False") != std::string::npos);
  size_t n = 1;
  for (int64_t d : r.shape) n *= static_cast<size_t>(d);
  const uint8_t* p = b.data() + hstart + hlen;
  const size_t avail = b.size() - hstart - hlen;
  r.v.resize(n);
  if (h.find("'<f4'") != std::string::npos) {
    decode_le<float>(p, avail, r.v);
  } else if (h.find("'<i8'") != std::string::npos) {
    decode_le<int64_t>(p, avail, r.v);
  } else if (h.find("'<i4'") != std::string::npos) {
    decode_le<int32_t>(p, avail, r.v);
  } else {
    FAIL("unsupported npy dtype: " << h);
  }
  return r;
}

namespace {

// y (out) = W (out, in) x (in) + b, for one token.
std::vector<double> lin(const std::vector<double>& W, const std::vector<double>& b,
                        const std::vector<double>& x) {
  const size_t in = x.size(), out = W.size() / in;
  std::vector<double> y(out);
  for (size_t o = 0; o < out; ++o) {
    double s = b.empty() ? 0.0 : b[o];
    for (size_t i = 0; i < in; ++i) s += W[o * in + i] * x[i];
    y[o] = s;
  }
  return y;
}

}  // namespace

ref_forward::ref_forward(const model& m) : m_(m) {
  const hparams& hp = m.hp;
  D = hp.n_embd;
  H = hp.n_head;
  Hk = hp.n_head_kv > 0 ? hp.n_head_kv : hp.n_head;
  E = hp.head_dim > 0 ? hp.head_dim : hp.n_embd / hp.n_head;
  F = hp.n_ff;
  V = hp.n_vocab;
  n_rot = hp.n_rot > 0 ? hp.n_rot : E;
  eps_ = static_cast<double>(static_cast<float>(hp.norm_eps));  // the files hold it as f32
  // hp.rope names the stored q/k order; the canonical reader turns HF rotate-half rows back into the
  // interleaved order, so such a model rotates interleaved pairs here.
  const role_entry* q = m.entry(role_kind::attn_q, 0);
  interleaved_ = hp.rope == rope_kind::interleaved || (q && q->hf_permuted);
  REQUIRE(m.source);
  items_ = tensor_items(m);
  for (const tensor_item& it : items_) {
    if (!it.mapped || !it.excluded.empty()) continue;
    const size_t index = static_cast<size_t>(it.view - m.source->tensors.data());
    tensor_reader rd(it);
    REQUIRE(rd.decodable());
    std::vector<double>& v = w_[index];
    std::vector<float> row(static_cast<size_t>(rd.cols()));
    for (int64_t r = 0; r < rd.rows(); ++r) {
      const float* x = rd.row_f32(r, row.data());
      for (int64_t c = 0; c < rd.cols(); ++c) v.push_back(static_cast<double>(x[c]));
    }
  }
}

const std::vector<double>& ref_forward::w(role_kind r, int layer, bool bias) const {
  static const std::vector<double> none;
  const role_entry* e = m_.entry(r, layer, bias);
  if (!e) return none;
  auto it = w_.find(e->tensor);
  REQUIRE_MESSAGE(it != w_.end(), e->canonical);
  return it->second;
}

std::vector<double> ref_forward::norm(const std::vector<double>& x, role_kind r, int layer) const {
  const std::vector<double>& g = w(r, layer);
  const std::vector<double>& b = w(r, layer, true);
  REQUIRE(g.size() == x.size());
  const double n = static_cast<double>(x.size());
  std::vector<double> y(x.size());
  if (m_.hp.norm == norm_kind::rms) {
    double ss = 0;
    for (double v : x) ss += v * v;
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] / std::sqrt(ss / n + eps_) * g[i];
  } else {
    double mean = 0, var = 0;
    for (double v : x) mean += v / n;
    for (double v : x) var += (v - mean) * (v - mean) / n;
    for (size_t i = 0; i < x.size(); ++i)
      y[i] = (x[i] - mean) / std::sqrt(var + eps_) * g[i] + (b.empty() ? 0.0 : b[i]);
  }
  return y;
}

double ref_forward::act(double x) const {
  switch (m_.hp.act) {
    case act_kind::silu:
      return x / (1 + std::exp(-x));
    case act_kind::gelu:
      return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case act_kind::gelu_tanh:
      return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    case act_kind::relu:
      return x > 0 ? x : 0;
  }
  return x;
}

void ref_forward::rotate(double* v, int64_t pos) const {
  if (m_.hp.pos != pos_kind::rope) return;
  const bool inter = interleaved_;
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    const double ang = static_cast<double>(pos) /
                       std::pow(m_.hp.rope_theta, 2.0 * static_cast<double>(i) / static_cast<double>(n_rot));
    double& a = v[inter ? 2 * i : i];
    double& b = v[inter ? 2 * i + 1 : i + n_rot / 2];
    const double a0 = a, b0 = b;
    a = a0 * std::cos(ang) - b0 * std::sin(ang);
    b = a0 * std::sin(ang) + b0 * std::cos(ang);
  }
}

// Press et al.; Hugging Face build_alibi_tensor.
double ref_forward::alibi(int64_t h) const {
  int64_t p2 = 1;
  while (p2 * 2 <= H) p2 *= 2;
  if (h < p2) return std::pow(std::pow(2.0, -8.0 / static_cast<double>(p2)), static_cast<double>(h + 1));
  return std::pow(std::pow(2.0, -4.0 / static_cast<double>(p2)), static_cast<double>(2 * (h - p2) + 1));
}

ref_result ref_forward::run(const std::vector<int32_t>& ids) const {
  const int64_t T = static_cast<int64_t>(ids.size());
  const std::vector<double>& emb = w(role_kind::tok_embd, -1);
  const std::vector<double>& pemb = w(role_kind::pos_embd, -1);
  REQUIRE(static_cast<int64_t>(emb.size()) == V * D);
  std::vector<std::vector<double>> x(static_cast<size_t>(T));  // (T)(D)
  for (int64_t t = 0; t < T; ++t) {
    REQUIRE((ids[t] >= 0 && ids[t] < V));
    x[t].assign(emb.begin() + ids[t] * D, emb.begin() + (ids[t] + 1) * D);
    if (!pemb.empty())
      for (int64_t i = 0; i < D; ++i) x[t][i] += pemb[t * D + i];
    if (m_.family == arch_family::gemma)  // Gemma scales embeddings by sqrt(hidden size), as an f32 constant
      for (double& e : x[t]) e *= static_cast<double>(static_cast<float>(std::sqrt(static_cast<double>(D))));
    if (m_.entry(role_kind::embd_norm, -1)) x[t] = norm(x[t], role_kind::embd_norm, -1);
  }
  ref_result out;
  for (int l = 0; l < m_.hp.n_layer; ++l) {
    std::vector<std::vector<double>> q(T), k(T), v(T), h(T);  // (T)(H*E), (T)(Hk*E), (T)(Hk*E), (T)(D)
    for (int64_t t = 0; t < T; ++t) {
      h[t] = norm(x[t], role_kind::attn_norm, l);
      if (m_.entry(role_kind::attn_qkv, l)) {  // canonical [q | k | v]
        const std::vector<double> y = lin(w(role_kind::attn_qkv, l), w(role_kind::attn_qkv, l, true), h[t]);
        q[t].assign(y.begin(), y.begin() + H * E);
        k[t].assign(y.begin() + H * E, y.begin() + (H + Hk) * E);
        v[t].assign(y.begin() + (H + Hk) * E, y.end());
      } else {
        q[t] = lin(w(role_kind::attn_q, l), w(role_kind::attn_q, l, true), h[t]);
        k[t] = lin(w(role_kind::attn_k, l), w(role_kind::attn_k, l, true), h[t]);
        v[t] = lin(w(role_kind::attn_v, l), w(role_kind::attn_v, l, true), h[t]);
      }
      for (int64_t hh = 0; hh < H; ++hh) rotate(q[t].data() + hh * E, t);
      for (int64_t hh = 0; hh < Hk; ++hh) rotate(k[t].data() + hh * E, t);
    }
    const std::vector<double>& Wo = w(role_kind::attn_o, l);
    const std::vector<double>& bo = w(role_kind::attn_o, l, true);
    for (int64_t t = 0; t < T; ++t) {
      std::vector<double> att(static_cast<size_t>(H * E), 0.0);
      for (int64_t hh = 0; hh < H; ++hh) {
        const int64_t g = hh / (H / Hk);
        std::vector<double> s(static_cast<size_t>(t + 1));
        double mx = -1e300, z = 0;
        for (int64_t j = 0; j <= t; ++j) {
          double d = 0;
          for (int64_t e = 0; e < E; ++e) d += q[t][hh * E + e] * k[j][g * E + e];
          s[j] = d / std::sqrt(static_cast<double>(E)) +
                 (m_.hp.pos == pos_kind::alibi ? alibi(hh) * static_cast<double>(j) : 0.0);
          mx = std::max(mx, s[j]);
        }
        for (double& sj : s) z += (sj = std::exp(sj - mx));
        for (int64_t j = 0; j <= t; ++j)
          for (int64_t e = 0; e < E; ++e) att[hh * E + e] += s[j] / z * v[j][g * E + e];
      }
      const std::vector<double> a = lin(Wo, bo, att);
      std::vector<double> mlp_in;
      if (m_.hp.parallel_block) {
        if (m_.entry(role_kind::attn_norm_2, l))
          mlp_in = norm(x[t], role_kind::attn_norm_2, l);
        else if (m_.entry(role_kind::ffn_norm, l))
          mlp_in = norm(x[t], role_kind::ffn_norm, l);
        else
          mlp_in = h[t];
      } else {
        for (int64_t i = 0; i < D; ++i) x[t][i] += a[i];
        mlp_in = norm(x[t], role_kind::ffn_norm, l);
      }
      std::vector<double> u = lin(w(role_kind::mlp_up, l), w(role_kind::mlp_up, l, true), mlp_in);
      if (m_.entry(role_kind::mlp_gate, l)) {
        const std::vector<double> gt =
            lin(w(role_kind::mlp_gate, l), w(role_kind::mlp_gate, l, true), mlp_in);
        for (size_t i = 0; i < u.size(); ++i) u[i] *= act(gt[i]);
      } else {
        for (double& ui : u) ui = act(ui);
      }
      const std::vector<double> d = lin(w(role_kind::mlp_down, l), w(role_kind::mlp_down, l, true), u);
      for (int64_t i = 0; i < D; ++i) x[t][i] += d[i] + (m_.hp.parallel_block ? a[i] : 0.0);
    }
    out.resid_post.push_back(x);
  }
  const std::vector<double>& out_w = w(role_kind::output, -1).empty() ? emb : w(role_kind::output, -1);
  const std::vector<double>& out_b = w(role_kind::output, -1, true);
  for (int64_t t = 0; t < T; ++t) {
    const std::vector<double> y = lin(out_w, out_b, norm(x[t], role_kind::output_norm, -1));
    out.logits.insert(out.logits.end(), y.begin(), y.end());
  }
  return out;
}

}  // namespace gb::test
