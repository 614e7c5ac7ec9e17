#include "probes/trace.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <set>
#include <span>
#include <tuple>
#include <xtensor/xadapt.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "formats/datasets.h"
#include "probes/engine/activation_view.h"

namespace gb::probes {

void running_stat::push(double x) {
  ++n;
  if (n == 1 || x > max) max = x;
  const double d = x - mean;
  mean += d / static_cast<double>(n);
  m2 += d * (x - mean);
}

trace_aggregate::trace_aggregate(const model& m, double sparsity_eps)
    : L(m.hp.n_layer), F(m.hp.n_ff), H(m.hp.n_head), eps(sparsity_eps) {
  const size_t lf = static_cast<size_t>(std::max<int64_t>(L * F, 0)),
               lh = static_cast<size_t>(std::max<int64_t>(L * H, 0));
  neuron.resize(lf), neuron_absmax.assign(lf, 0.0), neuron_active.assign(lf, 0);
  head_entropy.resize(lh), head_sink.resize(lh), head_prev.resize(lh), head_diag.resize(lh);
  const size_t l = static_cast<size_t>(std::max<int64_t>(L, 0));
  resid_post.resize(l), attn_out.resize(l), mlp_out.resize(l), sparsity.resize(l);
}

// A plain loop on purpose: with max |x| and the active count as row-wise xt expressions beside the Welford
// loop (and the head entropy below as one xt::where), a trace over 300 prompts took 1.38x the CPU
// (alternating runs, median of 7), and GCC then fused the Welford update into FMAs (the neuron std moved in
// the last bit against the earlier binary).
void trace_aggregate::add_neurons(int layer, const float* t, int64_t T) {
  if (layer < 0 || layer >= L) return;
  for (int64_t r = 0; r < T; ++r)
    for (int64_t f = 0; f < F; ++f) {
      const size_t i = static_cast<size_t>(layer * F + f);
      const double x = t[r * F + f];
      neuron[i].push(x);
      neuron_absmax[i] = std::max(neuron_absmax[i], std::fabs(x));
      if (std::fabs(x) >= eps) ++neuron_active[i];
    }
}

std::vector<int64_t> trace_aggregate::top_neurons(int64_t layer, int64_t k) const {
  std::vector<int64_t> idx(static_cast<size_t>(F));
  std::iota(idx.begin(), idx.end(), 0);
  k = std::clamp<int64_t>(k, 0, F);
  const double* absmax = neuron_absmax.data() + layer * F;
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int64_t x, int64_t y) {
    return absmax[x] > absmax[y] || (absmax[x] == absmax[y] && x < y);
  });
  idx.resize(static_cast<size_t>(k));
  return idx;
}

double trace_aggregate::active_fraction(size_t n) const {
  return tokens ? static_cast<double>(neuron_active[n]) / static_cast<double>(tokens) : 0.0;
}

void trace_aggregate::add(const trace_result& r) {
  ++prompts;
  tokens += static_cast<int64_t>(r.tokens.size());
  for (const head_trace& h : r.heads) {
    if (h.layer >= L || h.head >= H) continue;
    const size_t i = static_cast<size_t>(h.layer * H + h.head);
    head_entropy[i].push(h.entropy), head_sink[i].push(h.sink), head_diag[i].push(h.diagonal);
    if (r.tokens.size() > 1) head_prev[i].push(h.prev_token);
  }
  for (const layer_trace& l : r.layers) {
    if (l.layer >= L) continue;
    const size_t i = static_cast<size_t>(l.layer);
    for (double v : l.resid_post) resid_post[i].push(v);
    for (double v : l.attn_out) attn_out[i].push(v);
    for (double v : l.mlp_out) mlp_out[i].push(v);
    for (double v : l.mlp_sparsity) sparsity[i].push(v);
  }
}

bool glob_match(std::string_view p, std::string_view s) {
  size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++pi, ++si;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++, mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1, si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

result<std::vector<std::string>> hook_select(const model& m, const std::vector<std::string>& patterns) {
  const std::vector<std::string> all = engine::hook_names(m);
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string& p : patterns) {
    bool any = false;
    for (const std::string& n : all)
      if (glob_match(p, n)) {
        any = true;
        if (seen.insert(n).second) out.push_back(n);
      }
    if (!any) {
      std::string list;
      for (const std::string& n : all) {
        // Per-layer names are listed once with N for the layer number.
        std::string g = n;
        if (g.rfind("blk.", 0) == 0) {
          const size_t dot = g.find('.', 4);
          if (dot != std::string::npos && g.substr(4, dot - 4) != "0") continue;
          if (dot != std::string::npos) g = "blk.N" + g.substr(dot);
        }
        list += (list.empty() ? "" : ", ") + g;
      }
      return error{errc::not_found, 0,
                   "hook '" + p + "' matches no hook point; available (N = 0.." +
                       std::to_string(m.hp.n_layer - 1) + "): " + list,
                   ""};
    }
  }
  return out;
}

namespace {

// "blk.3.resid.post" -> (3, "resid.post"); other names -> (-1, name).
std::pair<int, std::string_view> split_name(std::string_view n) {
  if (n.rfind("blk.", 0) != 0) return {-1, n};
  const size_t dot = n.find('.', 4);
  if (dot == std::string_view::npos) return {-1, n};
  int l = 0;
  for (size_t i = 4; i < dot; ++i) {
    if (n[i] < '0' || n[i] > '9' || l > 1'000'000) return {-1, n};
    l = l * 10 + (n[i] - '0');
  }
  return {l, n.substr(dot + 1)};
}

using engine::activation_view;

// The activation as an xtensor expression of the given rank (row-major over its data, no copy).
template <size_t N>
auto adapt(const activation_view& a) {
  std::array<size_t, N> shape{};
  for (size_t i = 0; i < N; ++i) shape[i] = static_cast<size_t>(a.shape[i]);
  return xt::adapt(a.data, static_cast<size_t>(a.size()), xt::no_ownership(), shape);
}

class trace_hook : public engine::hook {
 public:
  trace_hook(const model& m, int64_t T, const trace_options& o, const logit_lens* lens, int64_t lens_n,
             activation_writer* w, trace_aggregate* agg)
      : m_(m),
        T_(T),
        o_(o),
        lens_(lens),
        lens_n_(lens_n),
        w_(w),
        agg_(agg),
        exports_(o.export_hooks.begin(), o.export_hooks.end()) {
    r.n_head = m.hp.n_head;
    r.layers.resize(static_cast<size_t>(m.hp.n_layer));
    for (int l = 0; l < m.hp.n_layer; ++l) r.layers[static_cast<size_t>(l)].layer = l;
    if (lens_) lens_buf.assign(static_cast<size_t>(m.hp.n_layer * lens_n * m.hp.n_embd), 0.0f);
  }

  bool wants(std::string_view name) override {
    if (exports_.count(std::string(name))) return true;
    const auto [l, k] = split_name(name);
    if (l < 0) return false;
    return k == "resid.pre" || k == "resid.mid" || k == "resid.post" || k == "attn.out" || k == "mlp.out" ||
           k == "mlp.pre" || k == "attn.probs";
  }

  bool observe(std::string_view name, activation_view a) override {
    try {
      if (exports_.count(std::string(name))) {
        summarise(name, a);
        if (w_) {
          w_->put(name, a);
          r.exported.emplace_back(name);
        }
      }
      const auto [l, k] = split_name(name);
      if (l < 0 || l >= static_cast<int>(r.layers.size())) return true;
      layer_trace& L = r.layers[static_cast<size_t>(l)];
      const int64_t D = m_.hp.n_embd;
      if (k == "resid.pre")
        norms(L.resid_pre, a);
      else if (k == "resid.mid")
        norms(L.resid_mid, a);
      else if (k == "attn.out")
        norms(L.attn_out, a);
      else if (k == "mlp.out")
        norms(L.mlp_out, a);
      else if (k == "resid.post") {
        norms(L.resid_post, a);
        outliers(L, a);
        if (lens_ && a.shape.size() == 2 && a.shape[1] == D)
          for (int64_t i = 0; i < lens_n_; ++i)
            lens_->normalize(a.row(a.shape[0] - lens_n_ + i), lens_buf.data() + (l * lens_n_ + i) * D);
      } else if (k == "mlp.pre") {
        mlp(L, a);
        if (agg_ && a.shape.size() == 2) agg_->add_neurons(l, a.data, a.shape[0]);
      } else if (k == "attn.probs") {
        heads(l, a);
      }
      return true;
    } catch (const failure& f) {
      err = f.err();
      return false;
    }
  }

  void summarise(std::string_view name, const activation_view& a) {
    hook_summary h;
    h.name = std::string(name);
    h.shape.assign(a.shape.begin(), a.shape.end());
    running_stat st;
    for (const float v : std::span(a.data, static_cast<size_t>(a.size())))
      if (std::isfinite(v)) {
        st.push(static_cast<double>(v));
        h.absmax = std::max(h.absmax, std::fabs(static_cast<double>(v)));
      }
    h.mean = st.mean, h.std = std::sqrt(st.variance());
    r.selected.push_back(std::move(h));
  }

  // out (T): the L2 norm of each row of a (T, D) activation, summed in double in row order.
  void norms(std::vector<double>& out, const activation_view& a) {
    if (a.shape.size() != 2) return;
    const auto x = xt::cast<double>(adapt<2>(a));                    // (T, D)
    const xt::xtensor<double, 1> n = xt::sqrt(xt::sum(x * x, {1}));  // (T)
    out.assign(n.begin(), n.end());
  }

  // Coordinates of each row of a (T, D) activation more than outlier_sigma standard deviations (of the row)
  // from the row's mean.
  void outliers(layer_trace& L, const activation_view& a) {
    if (a.shape.size() != 2 || a.shape[1] < 2) return;
    const int64_t T = a.shape[0], D = a.shape[1];
    const auto x = xt::cast<double>(adapt<2>(a));                                                   // (T, D)
    const xt::xtensor<double, 1> mean = xt::sum(x, {1}) / static_cast<double>(D);                   // (T)
    const auto dev = x - xt::view(mean, xt::all(), xt::newaxis());                                  // (T, D)
    const xt::xtensor<double, 1> sds = xt::sqrt(xt::sum(dev * dev, {1}) / static_cast<double>(D));  // (T)
    for (int64_t p = 0; p < T; ++p) {
      const float* row = a.row(p);
      const double sd = sds(p);
      if (sd <= 0) continue;
      for (int64_t i = 0; i < D; ++i) {
        const double z = (static_cast<double>(row[i]) - mean(p)) / sd;
        if (std::fabs(z) <= o_.outlier_sigma) continue;
        ++L.outliers_total;
        L.outliers.push_back({p, i, row[i], z});
      }
      // Keep the strongest ones only (bounded memory on long prompts).
      if (L.outliers.size() > 4 * o_.max_outliers_per_layer) trim(L);
    }
    trim(L);
  }
  void trim(layer_trace& L) const {
    std::sort(L.outliers.begin(), L.outliers.end(), [](const outlier_dim& a, const outlier_dim& b) {
      return std::fabs(a.z) > std::fabs(b.z) ||
             (std::fabs(a.z) == std::fabs(b.z) &&
              (a.position < b.position || (a.position == b.position && a.dim < b.dim)));
    });
    if (L.outliers.size() > o_.max_outliers_per_layer) L.outliers.resize(o_.max_outliers_per_layer);
  }

  // Per row of mlp.pre (T, F): the fraction of |x| < sparsity_eps, and the top_neurons largest |x|.
  void mlp(layer_trace& L, const activation_view& a) {
    if (a.shape.size() != 2) return;
    const int64_t T = a.shape[0], F = a.shape[1];
    const auto small =
        xt::sum(xt::cast<int64_t>(xt::cast<double>(xt::abs(adapt<2>(a))) < o_.sparsity_eps), {1});  // (T)
    const xt::xtensor<double, 1> frac = xt::cast<double>(small) / static_cast<double>(F);           // (T)
    L.mlp_sparsity.assign(frac.begin(), frac.end());
    const int64_t k = std::min<int64_t>(o_.top_neurons, F);
    std::vector<int64_t> idx(static_cast<size_t>(F));  // (F) neuron indices, the top k first
    for (int64_t p = 0; p < T; ++p) {
      const float* x = a.row(p);
      for (int64_t i = 0; i < F; ++i) idx[static_cast<size_t>(i)] = i;
      std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int64_t i0, int64_t i1) {
        return std::fabs(x[i0]) > std::fabs(x[i1]) || (std::fabs(x[i0]) == std::fabs(x[i1]) && i0 < i1);
      });
      for (int64_t i = 0; i < k; ++i)
        L.top_neurons.push_back({p, idx[static_cast<size_t>(i)], x[idx[static_cast<size_t>(i)]]});
    }
  }

  // Per head of attn.probs (H, T, P): mean entropy, attention to the first key (sink), to the previous
  // token and to itself over the query rows; the whole pattern when T is small.
  void heads(int l, const activation_view& a) {
    if (a.shape.size() != 3) return;
    const float* t = a.data;
    const int64_t H = a.shape[0], T = a.shape[1], P = a.shape[2];
    const int64_t p0 = P - T;  // position of the first query: query q sees keys [0, p0 + q]
    const bool keep = T <= o_.keep_patterns_max_t;
    const auto probs = xt::cast<double>(adapt<3>(a));  // (H, T, P)
    for (int64_t h = 0; h < H; ++h) {
      head_trace ht;
      ht.layer = l, ht.head = static_cast<int>(h);
      // Entropy stays a loop over the causal keys: xt::where(p > 0, -p log p, 0) over every key also takes
      // the log of each masked 0 (see add_neurons for the cost), and it loses the fused multiply-subtract
      // GCC gives this loop (the entropies moved in the last bit).
      for (int64_t q = 0; q < T; ++q) {
        const float* row = t + (h * T + q) * P;
        double e = 0;
        for (int64_t j = 0; j <= p0 + q && j < P; ++j)
          if (row[j] > 0) e -= static_cast<double>(row[j]) * std::log(static_cast<double>(row[j]));
        ht.entropy += e;
      }
      const auto head = xt::view(probs, h, xt::all(), xt::all());      // (T, P)
      const auto prev = xt::diagonal(head, static_cast<int>(p0) - 1);  // p[q][p0 + q - 1] where it exists
      ht.entropy /= static_cast<double>(T);
      ht.sink = xt::sum(xt::view(head, xt::all(), 0))() / static_cast<double>(T);
      ht.diagonal = xt::sum(xt::diagonal(head, static_cast<int>(p0)))() / static_cast<double>(T);
      if (prev.size()) ht.prev_token = xt::sum(prev)() / static_cast<double>(prev.size());
      if (keep) ht.pattern.assign(t + h * T * P, t + (h + 1) * T * P);
      r.heads.push_back(std::move(ht));
    }
  }

  const model& m_;
  int64_t T_;
  const trace_options& o_;
  const logit_lens* lens_;
  int64_t lens_n_;
  activation_writer* w_;
  trace_aggregate* agg_;
  std::set<std::string> exports_;
  trace_result r;
  std::vector<float> lens_buf;  // (L, lens_n, D) final-normed resid.post rows
  std::optional<error> err;
};

}  // namespace

result<trace_result> trace_run(engine::runner& run, const std::vector<int32_t>& ids, const trace_options& opt,
                               const logit_lens* lens, activation_writer* writer, trace_aggregate* agg) {
  const model& m = run.source();
  const int64_t T = static_cast<int64_t>(ids.size());
  if (T == 0) return error{errc::bad_value, 0, "trace: no tokens", ""};
  const int64_t L = m.hp.n_layer;
  int64_t lens_n = 0;
  if (lens && lens->dim() == m.hp.n_embd) {
    // Default: as many last positions as keep the lens logits (L * n, V) under 8M floats (32 MB).
    const int64_t budget = std::max<int64_t>(1, (int64_t{8} << 20) / std::max<int64_t>(1, L * lens->vocab()));
    lens_n = std::min(T, opt.lens_positions > 0 ? opt.lens_positions : budget);
  }
  trace_hook h(m, T, opt, lens_n ? lens : nullptr, lens_n, writer, agg);
  run.reset();
  auto logits = run.forward_last(ids, &h);
  run.reset();
  if (h.err) return *h.err;
  if (!logits) return logits.err();
  trace_result& r = h.r;
  r.tokens = ids;
  const std::vector<float>& lg = logits.value();
  r.prediction = static_cast<int32_t>(std::max_element(lg.begin(), lg.end()) - lg.begin());
  std::sort(r.heads.begin(), r.heads.end(), [](const head_trace& a, const head_trace& b) {
    return a.layer != b.layer ? a.layer < b.layer : a.head < b.head;
  });
  if (lens_n > 0) {
    const int64_t V = lens->vocab();
    std::vector<float> out(static_cast<size_t>(L * lens_n * V));  // (L * lens_n, V)
    lens->unembed(h.lens_buf.data(), L * lens_n, out.data());
    for (int64_t i = 0; i < lens_n; ++i) {
      const float* last = out.data() + ((L - 1) * lens_n + i) * V;
      const int32_t fin = static_cast<int32_t>(std::max_element(last, last + V) - last);
      for (int64_t l = 0; l < L; ++l) {
        const float* row = out.data() + (l * lens_n + i) * V;
        lens_row lr;
        lr.layer = static_cast<int>(l);
        lr.position = T - lens_n + i;
        lr.top = top_k_probs(row, V, opt.lens_top_k);
        lr.final_token = fin;
        std::tie(lr.final_rank, lr.final_prob) = token_rank_prob(row, V, fin);
        r.lens.push_back(std::move(lr));
      }
    }
    std::sort(r.lens.begin(), r.lens.end(), [](const lens_row& a, const lens_row& b) {
      return a.layer != b.layer ? a.layer < b.layer : a.position < b.position;
    });
  }
  if (agg) agg->add(r);
  return std::move(h.r);
}

std::vector<int32_t> trace_input::encode(const engine::tokenizer& tok, const std::string& text,
                                         int64_t context_length) {
  std::vector<int32_t> ids = tok.encode(text, add_bos);
  if (ids.empty() && tok.bos_id() >= 0) ids.push_back(tok.bos_id());
  const int64_t cap = max_tokens > 0 ? std::min(max_tokens, context_length) : context_length;
  if (static_cast<int64_t>(ids.size()) > cap) ids.resize(static_cast<size_t>(cap)), ++truncated;
  return ids;
}

result<bool> trace_prompts_file(engine::runner& run, const engine::tokenizer& tok, const std::string& path,
                                const trace_options& opt, trace_input& in, int64_t max_prompts,
                                trace_aggregate& agg) {
  return gb::capture(path, [&] {  // gb::: patching.cpp (its unity batch) has a hook named capture
    text_lines_each(dataset_text(path, "prompts file"), [&](std::string_view line, size_t, uint64_t) {
      if (max_prompts != 0 && agg.prompts >= max_prompts) return;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) return;
      std::vector<int32_t> ids = in.encode(tok, std::string(line), run.context_length());
      if (ids.empty()) return;
      auto r = trace_run(run, ids, opt, nullptr, nullptr, &agg);
      if (!r) throw failure(r.err());
    });
    if (agg.prompts == 0) fail(errc::bad_value, 0, "no prompts in " + path);
    return true;
  });
}

result<trace_result> trace_run_export(engine::runner& run, const std::vector<int32_t>& ids,
                                      const trace_options& opt, const logit_lens* lens,
                                      const std::string& export_path) {
  std::unique_ptr<activation_writer> w;  // none without a path
  if (!export_path.empty()) {
    auto ow = activation_writer::open(export_path);
    if (!ow) return ow.err();
    w = std::move(ow).value();
  }
  auto r = trace_run(run, ids, opt, lens, w.get(), nullptr);
  if (!r || !w) return r;
  if (auto fin = w->finish(); !fin) return fin.err();
  return r;
}

}  // namespace gb::probes
