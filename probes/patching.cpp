#include "probes/patching.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string_view>

#include "inspect/tensor_values.h"
#include "probes/engine/activation_view.h"

namespace gb::probes {

const patch_component* patch_result::find(const std::string& kind, int layer, int head,
                                          int64_t position) const {
  for (const patch_component& c : components)
    if (c.kind == kind && c.layer == layer && c.head == head && c.position == position) return &c;
  return nullptr;
}

namespace {

std::string lname(int l, const char* what) {
  return "blk." + std::to_string(l) + "." + what;
}

// Copies the per-layer tensors patching needs.
class capture : public engine::hook {
 public:
  explicit capture(int L) {
    for (int l = 0; l < L; ++l)
      for (const char* w : {"resid.pre", "attn.out", "mlp.out", "attn.v", "attn.probs"})
        names.insert({lname(l, w), {}});
  }
  bool wants(std::string_view n) override { return names.count(std::string(n)) > 0; }
  bool observe(std::string_view n, engine::activation_view a) override {
    names[std::string(n)].assign(a.data, a.data + a.size());
    shapes[std::string(n)].assign(a.shape.begin(), a.shape.end());
    return true;
  }
  std::map<std::string, std::vector<float>> names;
  std::map<std::string, std::vector<int64_t>> shapes;
};

// Replaces (or adds to) one wanted tensor in the corrupted run.
class patcher : public engine::hook {
 public:
  std::string target;
  const std::vector<float>* src = nullptr;  // same shape as the target (replace) or (T, D) delta (add)
  bool add = false;
  int64_t row = -1, row_len = 0;  // replace one row only (resid at one position)
  bool wants(std::string_view n) override { return n == target; }
  bool observe(std::string_view, engine::activation_view) override { return true; }
  bool modify(std::string_view, engine::mutable_activation_view a) override {
    float* t = a.data;
    const int64_t c = a.size();
    if (static_cast<int64_t>(src->size()) != c) return false;
    int64_t b = 0, e = c;
    if (row >= 0) b = row * row_len, e = b + row_len;
    for (int64_t i = b; i < e; ++i)
      t[i] = add ? t[i] + (*src)[static_cast<size_t>(i)] : (*src)[static_cast<size_t>(i)];
    return true;
  }
};

double metric_of(const std::vector<float>& logits, const patch_metric& m) {
  return static_cast<double>(logits[static_cast<size_t>(m.a)]) -
         static_cast<double>(logits[static_cast<size_t>(m.b)]);
}

// z_h (T, E) of head h from probs (H, T, P) and v (P, Hk*E) with P == T (runs start at position 0).
std::vector<double> head_z(const std::vector<float>& probs, const std::vector<float>& v, int64_t H,
                           int64_t Hk, int64_t E, int64_t T, int64_t h) {
  std::vector<double> z(static_cast<size_t>(T * E), 0.0);
  const int64_t g = h / (H / Hk);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t j = 0; j <= t; ++j) {
      const double p = static_cast<double>(probs[static_cast<size_t>((h * T + t) * T + j)]);
      for (int64_t e = 0; e < E; ++e)
        z[static_cast<size_t>(t * E + e)] +=
            p * static_cast<double>(v[static_cast<size_t>(j * Hk * E + g * E + e)]);
    }
  return z;
}

}  // namespace

result<patch_result> patch_run(engine::runner& run, const std::vector<int32_t>& clean,
                               const std::vector<int32_t>& corrupt, const patch_metric& metric,
                               const patch_options& opt) {
  const model& m = run.source();
  if (clean.empty() || corrupt.empty()) return error{errc::bad_value, 0, "patch: empty prompt", ""};
  if (clean.size() != corrupt.size())
    return error{errc::bad_value, 0,
                 "patch: clean and corrupt prompts have different token counts (" +
                     std::to_string(clean.size()) + " vs " + std::to_string(corrupt.size()) + ")",
                 ""};
  const int64_t V = run.vocab_size();
  if (metric.a < 0 || metric.a >= V || metric.b < 0 || metric.b >= V)
    return error{errc::bad_value, 0, "patch: metric token outside the vocabulary", ""};
  const int L = static_cast<int>(m.hp.n_layer);
  const int64_t T = static_cast<int64_t>(clean.size()), D = m.hp.n_embd, H = m.hp.n_head,
                Hk = m.hp.n_head_kv > 0 ? m.hp.n_head_kv : H,
                E = m.hp.head_dim > 0 ? m.hp.head_dim : (H > 0 ? D / H : 0);
  patch_result r;
  r.T = T, r.L = L, r.H = H;
  capture cc(L), cx(L);
  run.reset();
  auto lc = run.forward_last(clean, &cc);
  run.reset();
  if (!lc) return lc.err();
  auto lx = run.forward_last(corrupt, &cx);
  run.reset();
  if (!lx) return lx.err();
  r.clean = metric_of(lc.value(), metric);
  r.corrupt = metric_of(lx.value(), metric);
  const double span = r.clean - r.corrupt;
  auto restored = [&](double v) {
    if (std::fabs(span) <= 1e-12 * std::max(1.0, std::fabs(r.clean)))
      return std::fabs(v - r.clean) <= 1e-6 * std::max(1.0, std::fabs(r.clean)) ? 1.0 : 0.0;
    return (v - r.corrupt) / span;
  };
  patcher p;
  auto one = [&](patch_component c) -> result<bool> {
    run.reset();
    auto lg = run.forward_last(corrupt, &p);
    run.reset();
    if (!lg) return lg.err();
    c.metric = metric_of(lg.value(), metric);
    c.restored = restored(c.metric);
    r.components.push_back(std::move(c));
    return true;
  };
  if (opt.resid)
    for (int l = 0; l < L; ++l)
      for (int64_t t = 0; t < T; ++t) {
        p = patcher{};
        p.target = lname(l, "resid.pre"), p.src = &cc.names[p.target], p.row = t, p.row_len = D;
        auto ok = one({"resid", l, -1, t, 0, 0});
        if (!ok) return ok.err();
      }
  for (const char* kind : {"attn", "mlp"}) {
    if ((kind[0] == 'a' && !opt.attn) || (kind[0] == 'm' && !opt.mlp)) continue;
    for (int l = 0; l < L; ++l) {
      p = patcher{};
      p.target = lname(l, kind[0] == 'a' ? "attn.out" : "mlp.out"), p.src = &cc.names[p.target];
      auto ok = one({kind, l, -1, -1, 0, 0});
      if (!ok) return ok.err();
    }
  }
  if (opt.heads && H > 0 && Hk > 0 && H % Hk == 0 && E > 0) {
    try {
      std::vector<tensor_item> items = tensor_items(m);
      for (int l = 0; l < L; ++l) {
        const std::string wname = canonical_name(role_kind::attn_o, l);
        const tensor_item* wo = nullptr;
        for (const tensor_item& it : items)
          if (it.name == wname) wo = &it;
        if (!wo) return error{errc::unsupported, 0, "patch: no " + wname + " for per-head patching", ""};
        tensor_reader rd(*wo);
        if (rd.rows() != D || rd.cols() != H * E)
          return error{errc::bad_value, 0, "patch: " + wname + " is not [D, H*E]", ""};
        std::vector<float> W(static_cast<size_t>(D * H * E)), row(static_cast<size_t>(H * E));  // (D, H*E)
        for (int64_t o = 0; o < D; ++o) {
          const float* x = rd.row_f32(o, row.data());
          std::copy(x, x + H * E, W.begin() + o * H * E);
        }
        const std::string pn = lname(l, "attn.probs"), vn = lname(l, "attn.v");
        for (int64_t h = 0; h < H; ++h) {
          const auto zc = head_z(cc.names[pn], cc.names[vn], H, Hk, E, T, h);
          const auto zx = head_z(cx.names[pn], cx.names[vn], H, Hk, E, T, h);
          std::vector<float> delta(static_cast<size_t>(T * D));  // (T, D)
          for (int64_t t = 0; t < T; ++t)
            for (int64_t o = 0; o < D; ++o) {
              double acc = 0;
              for (int64_t e = 0; e < E; ++e)
                acc += static_cast<double>(W[static_cast<size_t>(o * H * E + h * E + e)]) *
                       (zc[static_cast<size_t>(t * E + e)] - zx[static_cast<size_t>(t * E + e)]);
              delta[static_cast<size_t>(t * D + o)] = static_cast<float>(acc);
            }
          p = patcher{};
          p.target = lname(l, "attn.out"), p.src = &delta, p.add = true;
          auto ok = one({"head", l, static_cast<int>(h), -1, 0, 0});
          if (!ok) return ok.err();
        }
      }
    } catch (const failure& f) {
      return f.err();
    }
  }
  return r;
}

std::optional<int32_t> patch_token(const engine::tokenizer& tok, const std::string& s, int64_t V) {
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() < 10) {
    const long long id = std::stoll(s);
    if (id < V) return static_cast<int32_t>(id);
    return std::nullopt;
  }
  if (auto t = tok.find(s)) return t;
  if (auto t = tok.find("\xe2\x96\x81" + s)) return t;  // SentencePiece word-start form
  if (auto t = tok.find("\xc4\xa0" + s)) return t;      // GPT-2 byte-level space
  const std::vector<int32_t> ids = tok.encode(s, false);
  if (ids.size() == 1) return ids[0];
  return std::nullopt;
}

}  // namespace gb::probes
