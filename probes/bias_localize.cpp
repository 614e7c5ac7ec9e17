// Direct logit attribution of minimal pairs (definitions in probes/bias_localize.h).
#include "probes/bias_localize.h"

#include <malloc.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "inspect/tensor_values.h"
#include "probes/statistics.h"

namespace gb::probes {

struct dla_weights::impl {
  std::vector<tensor_item> items;  // owns what the readers point to
  int64_t D = 0, H = 0, E = 0, L = 0, V = 0;
  norm_kind kind = norm_kind::rms;
  double eps = 1e-5;
  std::vector<std::vector<float>> wo;    // (L) x (D, H*E)
  std::vector<std::vector<float>> wo_b;  // (L) x (D) or empty
  std::vector<float> norm_w, norm_b;     // (D); norm_b empty for RMSNorm
  std::vector<float> out_b;              // (V) or empty
  size_t out_item = 0;
};

dla_weights::dla_weights(std::unique_ptr<impl> p) : p_(std::move(p)) {}
dla_weights::dla_weights(dla_weights&&) noexcept = default;
dla_weights& dla_weights::operator=(dla_weights&&) noexcept = default;
dla_weights::~dla_weights() = default;

namespace {

// All rows of a mapped tensor as f32, checked against the expected shape.
std::vector<float> read_all(const tensor_item& it, int64_t rows, int64_t cols) {
  tensor_reader rd(it);
  if (rd.rows() != rows || rd.cols() != cols)
    fail(errc::bad_value, 0,
         "bias-localize: '" + it.name + "' is [" + std::to_string(rd.rows()) + ", " +
             std::to_string(rd.cols()) + "], expected [" + std::to_string(rows) + ", " +
             std::to_string(cols) + "]");
  std::vector<float> out(static_cast<size_t>(rows * cols)),
      scratch(static_cast<size_t>(cols));  // (rows, cols)
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = rd.row_f32(r, scratch.data());
    std::copy(x, x + cols, out.begin() + r * cols);
  }
  return out;
}

const tensor_item* find_item(const std::vector<tensor_item>& items, const std::string& name) {
  for (const tensor_item& it : items)
    if (it.mapped && it.name == name) return &it;
  return nullptr;
}

// Collects embed, every attn.z and mlp.out, and the last block's residual.
struct dla_hook : engine::hook {
  int64_t L = 0;
  std::map<std::string, std::vector<float>, std::less<>> data;
  bool wants(std::string_view n) override {
    if (n == "embed" || n == "blk." + std::to_string(L - 1) + ".resid.post") return true;
    return n.size() > 7 && (n.substr(n.size() - 7) == ".attn.z" || n.substr(n.size() - 8) == ".mlp.out");
  }
  bool observe(std::string_view n, engine::activation_view a) override {
    data[std::string(n)].assign(a.data, a.data + a.size());
    return true;
  }
  const std::vector<float>& at(const std::string& n) const {
    auto it = data.find(n);
    if (it == data.end()) fail(errc::unsupported, 0, "bias-localize: the forward pass gave no " + n);
    return it->second;
  }
};

double f64(float v) {
  return static_cast<double>(v);
}

double dot(const double* g, const float* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += g[i] * static_cast<double>(x[i]);
  return s;
}

}  // namespace

result<dla_weights> dla_weights::create(const model& m) {
  try {
    auto p = std::make_unique<impl>();
    p->items = tensor_items(m);
    p->D = m.hp.n_embd;
    p->H = m.hp.n_head;
    p->L = m.hp.n_layer;
    p->E = m.hp.head_dim > 0 ? m.hp.head_dim : (p->H > 0 ? p->D / p->H : 0);
    p->kind = m.hp.norm;
    p->eps = m.hp.norm_eps;
    if (p->H <= 0 || p->E <= 0 || p->L <= 0)
      return error{errc::unsupported, 0, "bias-localize: no attention heads", ""};
    const int64_t HE = p->H * p->E;
    for (int l = 0; l < p->L; ++l) {
      const tensor_item* w = find_item(p->items, canonical_name(role_kind::attn_o, l));
      if (!w)
        return error{errc::unsupported, 0, "bias-localize: no " + canonical_name(role_kind::attn_o, l), ""};
      p->wo.push_back(read_all(*w, p->D, HE));
      const tensor_item* b = find_item(p->items, canonical_name(role_kind::attn_o, l, true));
      p->wo_b.push_back(b ? read_all(*b, 1, p->D) : std::vector<float>{});
    }
    const tensor_item* nw = find_item(p->items, canonical_name(role_kind::output_norm, -1));
    if (!nw) return error{errc::unsupported, 0, "bias-localize: the model has no output norm", ""};
    p->norm_w = read_all(*nw, 1, p->D);
    if (const tensor_item* nb = find_item(p->items, canonical_name(role_kind::output_norm, -1, true)))
      p->norm_b = read_all(*nb, 1, p->D);
    const tensor_item* ow = find_item(p->items, canonical_name(role_kind::output, -1));
    if (!ow) ow = find_item(p->items, canonical_name(role_kind::tok_embd, -1));
    if (!ow) return error{errc::unsupported, 0, "bias-localize: the model has no unembedding", ""};
    tensor_reader rd(*ow);
    if (rd.cols() != p->D)
      return error{errc::bad_value, 0, "bias-localize: unembedding '" + ow->name + "' is not [V, D]", ""};
    p->V = rd.rows();
    if (const tensor_item* ob = find_item(p->items, canonical_name(role_kind::output, -1, true)))
      p->out_b = read_all(*ob, 1, p->V);
    p->out_item = static_cast<size_t>(ow - p->items.data());
    const int64_t L = p->L, H = p->H;
    dla_weights w(std::move(p));
    w.L_ = L;
    w.H_ = H;
    return w;
  } catch (const failure& f) {
    return f.err();
  }
}

double dla_terms::sum_terms() const {
  double s = embed + constant;
  for (double v : heads) s += v;
  for (double v : attn_bias) s += v;
  for (double v : mlp) s += v;
  return s;
}

dla_terms& dla_terms::operator-=(const dla_terms& b) {
  embed -= b.embed;
  constant -= b.constant;
  for (size_t i = 0; i < heads.size(); ++i) heads[i] -= b.heads[i];
  for (size_t i = 0; i < mlp.size(); ++i) mlp[i] -= b.mlp[i], attn_bias[i] -= b.attn_bias[i];
  target_logits -= b.target_logits;
  engine_target_logits -= b.engine_target_logits;
  log_partition -= b.log_partition;
  ll -= b.ll;
  return *this;
}

double row_log_partition(const float* row, int64_t V) {
  double mx = f64(row[0]), se = 0;
  for (int64_t v = 1; v < V; ++v) mx = std::max(mx, f64(row[v]));
  for (int64_t v = 0; v < V; ++v) se += std::exp(f64(row[v]) - mx);
  return mx + std::log(se);
}

void rows_log_partition(const std::vector<float>& logits, int64_t V, int64_t r0, int64_t r1, double* out) {
#pragma omp parallel for schedule(static)
  for (int64_t r = r0; r < r1; ++r) out[r - r0] = row_log_partition(logits.data() + r * V, V);
}

namespace {

// One scored position's terms (summed over positions in a fixed order afterwards).
struct position_terms {
  double embed = 0, constant = 0, log_partition = 0, engine_logit = 0;
  std::vector<double> heads, attn_bias, mlp;  // (L, H), (L), (L)
};

// The terms of the position t (= i - 1) predicting u, given the hook's tensors of layer l at zl[l], ml[l].
void position_attribute(const dla_weights::impl& p, const tensor_item& unembed, const float* x,
                        const float* emb, const std::vector<const float*>& zl,
                        const std::vector<const float*>& ml, int32_t u, position_terms& r) {
  const int64_t D = p.D, H = p.H, E = p.E, L = p.L, HE = H * E;
  tensor_reader rd(unembed);
  std::vector<float> scratch(static_cast<size_t>(D));                          // (D)
  std::vector<double> g(static_cast<size_t>(D)), rz(static_cast<size_t>(HE));  // (D), (H*E)
  double mean = 0, ss = 0;
  for (int64_t d = 0; d < D; ++d) mean += f64(x[d]);
  mean /= static_cast<double>(D);
  for (int64_t d = 0; d < D; ++d) {
    const double c = p.kind == norm_kind::layer ? f64(x[d]) - mean : f64(x[d]);
    ss += c * c;
  }
  const double s =
      1.0 / std::sqrt(ss / static_cast<double>(D) + static_cast<double>(static_cast<float>(p.eps)));
  const float* wu = rd.row_f32(u, scratch.data());
  double gmean = 0;
  for (int64_t d = 0; d < D; ++d)
    gmean += g[static_cast<size_t>(d)] = s * f64(p.norm_w[static_cast<size_t>(d)]) * f64(wu[d]);
  gmean /= static_cast<double>(D);
  if (p.kind == norm_kind::layer)
    for (double& v : g) v -= gmean;
  double c = p.out_b.empty() ? 0.0 : f64(p.out_b[static_cast<size_t>(u)]);
  if (!p.norm_b.empty())
    for (int64_t d = 0; d < D; ++d) c += f64(p.norm_b[static_cast<size_t>(d)]) * f64(wu[d]);
  r.constant = c;
  r.embed = dot(g.data(), emb, D);
  r.heads.assign(static_cast<size_t>(L * H), 0.0);
  r.attn_bias.assign(static_cast<size_t>(L), 0.0);
  r.mlp.assign(static_cast<size_t>(L), 0.0);
  for (int64_t l = 0; l < L; ++l) {
    r.mlp[static_cast<size_t>(l)] = dot(g.data(), ml[static_cast<size_t>(l)], D);
    if (!p.wo_b[static_cast<size_t>(l)].empty())
      r.attn_bias[static_cast<size_t>(l)] = dot(g.data(), p.wo_b[static_cast<size_t>(l)].data(), D);
    const std::vector<float>& W = p.wo[static_cast<size_t>(l)];  // (D, H*E)
    std::fill(rz.begin(), rz.end(), 0.0);
    for (int64_t d = 0; d < D; ++d) {
      const double gd = g[static_cast<size_t>(d)];
      const float* row = W.data() + d * HE;
      for (int64_t j = 0; j < HE; ++j) rz[static_cast<size_t>(j)] += gd * static_cast<double>(row[j]);
    }
    const float* z = zl[static_cast<size_t>(l)];
    for (int64_t h = 0; h < H; ++h)
      r.heads[static_cast<size_t>(l * H + h)] = dot(rz.data() + h * E, z + h * E, E);
  }
}

// Adds the given rows of blk.l.attn.z and blk.l.mlp.out to the sums (layers in parallel, rows in order).
void activation_accumulate(const dla_hook& hk, int64_t L, int64_t HE, int64_t D,
                           const std::vector<int32_t>& rows, int threads, activation_sums& acc) {
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t l = 0; l < L; ++l) {
    const std::string pre = "blk." + std::to_string(l);
    const std::vector<float>& z = hk.at(pre + ".attn.z");   // (T, H*E)
    const std::vector<float>& m = hk.at(pre + ".mlp.out");  // (T, D)
    double* sz = acc.z.data() + l * HE;
    double* sm = acc.mlp.data() + l * D;
    for (int32_t t : rows) {
      for (int64_t j = 0; j < HE; ++j) sz[j] += f64(z[static_cast<size_t>(t * HE + j)]);
      for (int64_t j = 0; j < D; ++j) sm[j] += f64(m[static_cast<size_t>(t * D + j)]);
    }
  }
  acc.rows += rows.size();
}

// The terms of one sentence from a pass (one sentence, or a packed group) whose hook is hk and logits lg
// (T, V): rows[t] is the pass's row of the sentence's position t (t = 0 .. tokens.size() - 2).
result<dla_terms> dla_rows(const dla_weights::impl& p, const dla_hook& hk, const std::vector<float>& lg,
                           int64_t V, const std::vector<int32_t>& rows, const std::vector<int32_t>& tokens,
                           size_t first, int threads, activation_sums* acc);

}  // namespace

result<dla_terms> dla_sentence(engine::runner& run, const dla_weights& w, const std::vector<int32_t>& tokens,
                               size_t first, int threads, activation_sums* acc) {
  const dla_weights::impl& p = w.data();
  const int64_t L = p.L, V = run.vocab_size();
  if (first < 1 || first >= tokens.size())
    return error{errc::bad_value, 0, "bias-localize: nothing to score", ""};
  if (threads <= 0) threads = omp_get_max_threads();
  dla_hook hk;
  hk.L = L;
  run.reset();
  auto lg = run.forward(std::vector<int32_t>(tokens.begin(), tokens.end() - 1), &hk);
  run.reset();
  if (!lg) return lg.err();
  std::vector<int32_t> rows(tokens.size() - 1);  // (positions) the pass's row of each
  for (size_t t = 0; t < rows.size(); ++t) rows[t] = static_cast<int32_t>(t);
  return dla_rows(p, hk, lg.value(), V, rows, tokens, first, threads, acc);
}

namespace {

result<dla_terms> dla_rows(const dla_weights::impl& p, const dla_hook& hk, const std::vector<float>& lg,
                           int64_t V, const std::vector<int32_t>& rows, const std::vector<int32_t>& tokens,
                           size_t first, int threads, activation_sums* acc) {
  const int64_t D = p.D, H = p.H, L = p.L, HE = H * p.E;
  try {
    const std::vector<float>& xf = hk.at("blk." + std::to_string(L - 1) + ".resid.post");  // (T, D)
    const std::vector<float>& emb = hk.at("embed");                                        // (T, D)
    std::vector<const float*> zl, ml;  // (L) pointers to (T, H*E), (T, D)
    for (int64_t l = 0; l < L; ++l) {
      zl.push_back(hk.at("blk." + std::to_string(l) + ".attn.z").data());
      ml.push_back(hk.at("blk." + std::to_string(l) + ".mlp.out").data());
    }
    if (acc) {
      if (acc->z.empty())
        acc->z.assign(static_cast<size_t>(L * HE), 0.0), acc->mlp.assign(static_cast<size_t>(L * D), 0.0);
      activation_accumulate(hk, L, HE, D, rows, threads, *acc);
    }
    // every scored position on its own (in parallel), then summed in position order: the same bits for
    // any thread count
    const int64_t n = static_cast<int64_t>(tokens.size() - first);
    std::vector<position_terms> pos(static_cast<size_t>(n));  // (scored positions)
    std::string err;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (int64_t k = 0; k < n; ++k) {
      const int64_t t = static_cast<int64_t>(first) - 1 + k, row = rows[static_cast<size_t>(t)];
      const int32_t u = tokens[static_cast<size_t>(t + 1)];
      std::vector<const float*> zt(zl), mt(ml);
      for (auto& q : zt) q += row * HE;
      for (auto& q : mt) q += row * D;
      position_terms& r = pos[static_cast<size_t>(k)];
      try {
        position_attribute(p, p.items[p.out_item], xf.data() + row * D, emb.data() + row * D, zt, mt, u, r);
      } catch (const failure& f) {
#pragma omp critical
        err = f.err().message;
      }
      const float* lrow = lg.data() + row * V;
      r.log_partition = row_log_partition(lrow, V);
      r.engine_logit = f64(lrow[u]);
    }
    if (!err.empty()) return error{errc::bad_value, 0, err, ""};
    dla_terms r;
    r.heads.assign(static_cast<size_t>(L * H), 0.0);
    r.attn_bias.assign(static_cast<size_t>(L), 0.0);
    r.mlp.assign(static_cast<size_t>(L), 0.0);
    for (const position_terms& q : pos) {
      r.constant += q.constant;
      r.embed += q.embed;
      for (size_t i = 0; i < r.heads.size(); ++i) r.heads[i] += q.heads[i];
      for (size_t i = 0; i < r.mlp.size(); ++i) r.mlp[i] += q.mlp[i], r.attn_bias[i] += q.attn_bias[i];
      r.log_partition += q.log_partition;
      r.engine_target_logits += q.engine_logit;
      ++r.tokens;
    }
    r.target_logits = r.sum_terms();
    r.ll = r.target_logits - r.log_partition;
    double scale = 0;
    for (const position_terms& q : pos) scale += 1.0 + std::fabs(q.engine_logit);
    if (std::fabs(r.target_logits - r.engine_target_logits) > 1e-4 * scale)
      return error{
          errc::unsupported, 0,
          "bias-localize: the decomposition does not add up to the model's logits (" +
              std::to_string(r.target_logits) + " vs " + std::to_string(r.engine_target_logits) +
              "): the architecture is not linear after the final norm's scale (e.g. logit soft-capping)",
          ""};
    return r;
  } catch (const failure& f) {
    return f.err();
  }
}

}  // namespace

std::vector<localize_pair> localize_pairs_read(scorer& s, const std::string& suite, const std::string& path,
                                               size_t limit, size_t* skipped) {
  std::vector<localize_pair> out;
  size_t skip = 0;
  auto tokens = [&](const std::string& text) {
    std::vector<int32_t> c = s.encode(text);
    if (!c.empty() && c[0] != s.start_token()) c.insert(c.begin(), s.start_token());
    return c;
  };
  auto add = [&](const std::string& id, const std::string& group, const std::string& a,
                 const std::string& b) {
    if (limit && out.size() >= limit) return;
    localize_pair q{id, group, tokens(a), tokens(b)};
    const auto n = static_cast<size_t>(s.context_length());
    if (q.more.size() < 2 || q.less.size() < 2 || q.more.size() > n || q.less.size() > n)
      ++skip;
    else
      out.push_back(std::move(q));
  };
  if (s.start_token() < 0) fail(errc::unsupported, 0, "bias-localize: the tokenizer has neither BOS nor EOS");
  if (suite == "crows-pairs")
    for (const auto& p : crows_pairs_read(path).pairs) add(p.id, p.bias_type, p.sent_more, p.sent_less);
  else if (suite == "winobias")
    for (const auto& p : winobias_read(path).pairs) add(p.id, "type" + std::to_string(p.type), p.pro, p.anti);
  else if (suite == "templates")
    for (const auto& t : templates_builtin())
      add(t.id, t.group, t.context + t.word_a + t.rest, t.context + t.word_b + t.rest);
  else
    fail(errc::bad_value, 0,
         "bias-localize: suite '" + suite + "' has no minimal pairs (crows-pairs, winobias, templates)");
  if (skipped) *skipped = skip;
  return out;
}

pair_rows pair_append(const localize_pair& p, std::vector<int32_t>& tokens, std::vector<int32_t>& parent) {
  const size_t na = p.more.size() - 1, nb = p.less.size() - 1;
  size_t c = 0;  // common prefix rows
  while (c < na && c < nb && p.more[c] == p.less[c]) ++c;
  pair_rows r;
  r.row0 = static_cast<int32_t>(tokens.size());
  auto add = [&](int32_t tok, int32_t par) {
    tokens.push_back(tok);
    parent.push_back(par);
    return static_cast<int32_t>(tokens.size() - 1);
  };
  for (size_t i = 0; i < c; ++i) r.a.push_back(add(p.more[i], i ? r.a.back() : -1));
  r.b = r.a;
  for (size_t i = c; i < na; ++i) r.a.push_back(add(p.more[i], i ? r.a.back() : -1));
  for (size_t i = c; i < nb; ++i) r.b.push_back(add(p.less[i], i ? r.b.back() : -1));
  return r;
}

size_t pair_rows_count(const localize_pair& p) {
  const size_t na = p.more.size() - 1, nb = p.less.size() - 1;
  size_t c = 0;
  while (c < na && c < nb && p.more[c] == p.less[c]) ++c;
  return na + nb - c;
}

namespace {

// Appends a pair's terms (more - less) to out.
void localize_add(localize_result& out, const dla_terms& a, const dla_terms& b) {
  out.max_sum_error = std::max({out.max_sum_error, std::fabs(a.target_logits - a.engine_target_logits),
                                std::fabs(b.target_logits - b.engine_target_logits)});
  out.ll_more.push_back(a.ll);
  out.ll_less.push_back(b.ll);
  dla_terms d = a;
  d -= b;
  out.diffs.push_back(std::move(d));
}

// The terms of pairs [i0, i1) from one packed pass (each pair's two sentences share their prefix rows).
result<bool> localize_group(engine::runner& run, const dla_weights& w,
                            const std::vector<localize_pair>& pairs, size_t i0, size_t i1, int threads,
                            localize_result& out) {
  std::vector<int32_t> tokens, parent;  // (rows)
  std::vector<pair_rows> rows;          // (pairs of the group)
  for (size_t i = i0; i < i1; ++i) rows.push_back(pair_append(pairs[i], tokens, parent));
  dla_hook hk;
  hk.L = w.layers();
  auto lg = run.forward_packed(tokens, parent, &hk);
  if (!lg) return lg.err();
  const int64_t V = run.vocab_size();
  for (size_t i = i0; i < i1; ++i) {
    const pair_rows& r = rows[i - i0];
    auto a = dla_rows(w.data(), hk, lg.value(), V, r.a, pairs[i].more, 1, threads, &out.activations);
    if (!a) return a.err();
    auto b = dla_rows(w.data(), hk, lg.value(), V, r.b, pairs[i].less, 1, threads, &out.activations);
    if (!b) return b.err();
    localize_add(out, a.value(), b.value());
  }
  return true;
}

}  // namespace

result<localize_result> localize_pairs(engine::runner& run, const dla_weights& w,
                                       const std::vector<localize_pair>& pairs, const localize_options& o) {
  localize_result out;
  out.L = w.layers();
  out.H = w.heads();
  out.pairs = pairs;
  out.mean.heads.assign(static_cast<size_t>(out.L * out.H), 0.0);
  out.mean.mlp.assign(static_cast<size_t>(out.L), 0.0);
  out.mean.attn_bias.assign(static_cast<size_t>(out.L), 0.0);
  const int threads = o.threads > 0 ? o.threads : omp_get_max_threads();
  for (size_t i = 0; o.reference && i < pairs.size(); ++i) {
    auto a = dla_sentence(run, w, pairs[i].more, 1, threads, &out.activations);
    if (!a) return a.err();
    auto b = dla_sentence(run, w, pairs[i].less, 1, threads, &out.activations);
    if (!b) return b.err();
    localize_add(out, a.value(), b.value());
  }
  // pairs in groups of at most max_rows rows (at least one pair), one packed pass each
  for (size_t i0 = 0; !o.reference && i0 < pairs.size();) {
    size_t i1 = i0, rows = 0;
    while (i1 < pairs.size() && (i1 == i0 || rows + pair_rows_count(pairs[i1]) <= o.max_rows))
      rows += pair_rows_count(pairs[i1++]);
    auto g = localize_group(run, w, pairs, i0, i1, threads, out);
    if (!g) return g.err();
    i0 = i1;
  }
  if (out.diffs.empty()) return out;
  // mean of every term, and the ranking with bootstrap intervals
  auto component = [&](const std::string& name, int layer, int head, auto&& get) {
    std::vector<double> v;
    for (const dla_terms& d : out.diffs) v.push_back(get(d));
    component_rank c{name, layer, head, mean(v), bootstrap_mean(v, o.resamples, o.seed)};
    out.ranked.push_back(c);
    return c.mean_diff;
  };
  out.mean = out.diffs[0];
  out.mean.embed = component("embed", -1, -1, [](const dla_terms& d) { return d.embed; });
  for (int64_t l = 0; l < out.L; ++l) {
    const size_t li = static_cast<size_t>(l);
    for (int64_t h = 0; h < out.H; ++h) {
      const size_t k = static_cast<size_t>(l * out.H + h);
      out.mean.heads[k] = component("L" + std::to_string(l) + "H" + std::to_string(h), static_cast<int>(l),
                                    static_cast<int>(h), [k](const dla_terms& d) { return d.heads[k]; });
    }
    out.mean.attn_bias[li] = component("L" + std::to_string(l) + ".attn_bias", static_cast<int>(l), -1,
                                       [li](const dla_terms& d) { return d.attn_bias[li]; });
    out.mean.mlp[li] = component("L" + std::to_string(l) + ".mlp", static_cast<int>(l), -1,
                                 [li](const dla_terms& d) { return d.mlp[li]; });
  }
  out.mean.constant = component("constant", -1, -1, [](const dla_terms& d) { return d.constant; });
  std::vector<double> v;
  for (const dla_terms& d : out.diffs) v.push_back(d.target_logits);
  out.mean.target_logits = mean(v);
  v.clear();
  for (const dla_terms& d : out.diffs) v.push_back(d.log_partition);
  out.mean.log_partition = mean(v);
  v.clear();
  for (const dla_terms& d : out.diffs) v.push_back(d.ll);
  out.mean.ll = mean(v);
  std::stable_sort(out.ranked.begin(), out.ranked.end(),
                   [](const component_rank& a, const component_rank& b) {
                     return std::fabs(a.mean_diff) > std::fabs(b.mean_diff);
                   });
  return out;
}

// ---------------------------------------------------------------- activation patching

namespace {

// Captures every blk.N.resid.pre and blk.N.attn.z of the clean run.
struct capture_hook : engine::hook {
  std::map<std::string, std::vector<float>, std::less<>> data;
  bool wants(std::string_view n) override {
    return (n.size() > 10 && n.substr(n.size() - 10) == ".resid.pre") ||
           (n.size() > 7 && n.substr(n.size() - 7) == ".attn.z");
  }
  bool observe(std::string_view n, engine::activation_view a) override {
    data[std::string(n)].assign(a.data, a.data + a.shape[0] * a.shape[1]);
    return true;
  }
};

// Writes clean values into one hook point of a run that starts at position `first`: the given rows
// (positions) in full, or columns [c0, c1) of every row.
struct patch_hook : engine::hook {
  std::string target;
  const std::vector<float>* clean = nullptr;  // (T, width) of the clean run from position 0
  int64_t first = 0, c0 = 0, c1 = 0;
  std::vector<int64_t> positions;  // empty: every row, columns [c0, c1)
  bool wants(std::string_view n) override { return n == target; }
  bool observe(std::string_view, engine::activation_view) override { return true; }
  bool modify(std::string_view, engine::mutable_activation_view a) override {
    float* t = a.data;
    const int64_t rows = a.shape[0], w = a.shape[1];  // (T, width)
    const float* src = clean->data();
    if (positions.empty()) {
      for (int64_t r = 0; r < rows; ++r)
        std::copy(src + (first + r) * w + c0, src + (first + r) * w + c1, t + r * w + c0);
    } else {
      for (int64_t p : positions)
        if (p >= first && p - first < rows) std::copy(src + p * w, src + (p + 1) * w, t + (p - first) * w);
    }
    return true;
  }
};

// M over positions t = 0 .. n-2 whose logits are row(t) (V floats): where the two sentences' next tokens
// differ, log p(more) - log p(less) (the log-partition cancels); where they agree, log p(the shared token):
// how the differing words change the likelihood of the rest of the sentence. Summed in position order.
template <class Row, class Lse>
double pair_metric(const localize_pair& p, Row&& row, Lse&& lse) {
  double m = 0;
  for (size_t t = 0; t + 1 < p.more.size(); ++t) {
    const float* x = row(t);
    const size_t i = t + 1;
    m += p.more[i] != p.less[i] ? f64(x[p.more[i]]) - f64(x[p.less[i]]) : f64(x[p.more[i]]) - lse(t);
  }
  return m;
}

// The metric of a run whose logits are (positions, V) rows from position 0.
double run_metric(const localize_pair& p, const std::vector<float>& logits, int64_t V) {
  auto row = [&](size_t t) { return logits.data() + t * static_cast<size_t>(V); };
  return pair_metric(p, row, [&](size_t t) { return row_log_partition(row(t), V); });
}

// The reference: every patched run as its own forward() from position 0 (patch_hook: one target each).
struct ref_branch {
  std::string target;
  std::vector<int64_t> positions;  // resid: the differing positions; heads: empty (columns [c0, c1))
  int64_t c0 = 0, c1 = 0;
};

result<std::vector<double>> patch_sequential(engine::runner& run, const localize_pair& p,
                                             const capture_hook& clean,
                                             const std::vector<ref_branch>& branches) {
  const int64_t V = run.vocab_size();
  std::vector<double> out;
  for (const ref_branch& b : branches) {
    patch_hook h;
    h.target = b.target;
    h.clean = &clean.data.at(b.target);
    h.positions = b.positions;
    h.c0 = b.c0;
    h.c1 = b.c1;
    run.reset();
    auto lg = run.forward(std::vector<int32_t>(p.more.begin(), p.more.end() - 1), &h);
    run.reset();
    if (!lg) return lg.err();
    out.push_back(run_metric(p, lg.value(), V));
  }
  return out;
}

// The positions (< n - 1) whose tokens differ, and the first position a patch can change: positions
// before the first differing token are the same in both runs.
std::vector<int64_t> differing_positions(const localize_pair& p) {
  std::vector<int64_t> differ;
  for (size_t i = 0; i + 1 < p.more.size(); ++i)
    if (p.more[i] != p.less[i]) differ.push_back(static_cast<int64_t>(i));
  return differ;
}

// The first position a patch can change: that of the first differing token. The positions before it see
// the same tokens in both runs, so their clean and corrupted activations are the same bits and a patch
// there writes what is already there (the position before it predicts the differing token from the
// shared prefix: its logits are the corrupted run's).
size_t patch_start(const localize_pair& p) {
  size_t first = 0;
  while (first + 1 < p.more.size() && p.more[first] == p.less[first]) ++first;
  return first;
}

// ---- the fast path: pairs in groups, each group's clean and corrupted runs in one packed pass (hooks
// capture every blk.N.resid.pre and attn.z), then one packed pass per layer l that starts at block l
// (runner::forward_packed_from) from the corrupted run's residual: every patched run of that layer (the
// residual, then each head) for every pair of the group, each pair's shared prefix (positions before
// the first differing token) once as the trie's trunk. The blocks before l are never recomputed.

// A pair of a group: where its runs sit in the capture pass and what its patched runs share.
struct group_pair {
  const localize_pair* p = nullptr;
  int64_t n = 0;                         // positions of a run (tokens - 1)
  int64_t start = 0;                     // first position a patch changes (the trunk is 0 .. start-1)
  int64_t clean_row0 = 0, bad_row0 = 0;  // capture-pass rows of position 0 (clean, corrupted)
  std::vector<int64_t> differ;
  std::vector<double> metrics;  // (L, 1 + H): patched runs, layer-major, residual then heads
};

// One patched run in a pass from layer l: the clean values written to its own rows at `target`.
struct patch_branch {
  const std::string* target = nullptr;
  const std::vector<float>* clean = nullptr;  // (capture rows, width) from the capture pass
  group_pair* g = nullptr;
  int64_t c0 = 0, c1 = 0;  // heads: the columns patched at every position; resid: the differing rows
  bool resid = false;
  int64_t row0 = 0;  // packed row of position g->start
};

struct packed_patch_hook : engine::hook {
  const std::vector<patch_branch>* branches = nullptr;
  std::string resid_name, z_name;
  bool wants(std::string_view n) override { return n == resid_name || n == z_name; }
  bool observe(std::string_view, engine::activation_view) override { return true; }
  bool modify(std::string_view n, engine::mutable_activation_view a) override {
    float* t = a.data;
    const int64_t w = a.shape[1];
    const bool resid = n == resid_name;
    for (const patch_branch& b : *branches) {
      if (b.resid != resid) continue;
      const group_pair& g = *b.g;
      const float* src = b.clean->data() + g.clean_row0 * w;  // the clean run's position 0
      if (resid) {
        for (int64_t q : g.differ) std::copy(src + q * w, src + (q + 1) * w, t + (b.row0 + q - g.start) * w);
      } else {
        for (int64_t q = g.start; q < g.n; ++q)
          std::copy(src + q * w + b.c0, src + q * w + b.c1, t + (b.row0 + q - g.start) * w + b.c0);
      }
    }
    return true;
  }
};

// The clean and corrupted runs of every pair of the group in one packed pass: metrics, the captured
// activations, the corrupted run's logits and log-partitions (the trunk of every patched run).
struct group_capture {
  capture_hook cap;
  std::vector<float> logits;  // (rows, V)
  std::vector<double> lse;    // (rows)
};

result<group_capture> group_capture_run(engine::runner& run, std::vector<group_pair>& gs,
                                        std::vector<patch_pair_result>& out) {
  group_capture c;
  std::vector<int32_t> tokens, parent;  // (rows)
  auto chain = [&](const std::vector<int32_t>& ids, int64_t n) {
    const auto r0 = static_cast<int64_t>(tokens.size());
    for (int64_t t = 0; t < n; ++t) {
      parent.push_back(t == 0 ? -1 : static_cast<int32_t>(tokens.size()) - 1);
      tokens.push_back(ids[static_cast<size_t>(t)]);
    }
    return r0;
  };
  for (group_pair& g : gs) {
    g.clean_row0 = chain(g.p->less, g.n);
    g.bad_row0 = chain(g.p->more, g.n);
  }
  auto lg = run.forward_packed(tokens, parent, &c.cap);
  if (!lg) return lg.err();
  c.logits = std::move(lg.value());
  const int64_t V = run.vocab_size(), T = static_cast<int64_t>(tokens.size());
  c.lse.resize(static_cast<size_t>(T));
  rows_log_partition(c.logits, V, 0, T, c.lse.data());
  for (size_t i = 0; i < gs.size(); ++i) {
    const group_pair& g = gs[i];
    auto metric = [&](int64_t r0) {
      return pair_metric(
          *g.p, [&](size_t t) { return c.logits.data() + (r0 + static_cast<int64_t>(t)) * V; },
          [&](size_t t) { return c.lse[static_cast<size_t>(r0) + t]; });
    };
    out[i].clean = metric(g.clean_row0);
    out[i].corrupted = metric(g.bad_row0);
  }
  return c;
}

// Layer l's patched runs of every pair of the group in one pass from block l; appends each run's metric
// to its pair's metrics.
result<bool> group_layer_run(engine::runner& run, std::vector<group_pair>& gs, const group_capture& c, int l,
                             int64_t H) {
  const std::string resid_name = "blk." + std::to_string(l) + ".resid.pre",
                    z_name = "blk." + std::to_string(l) + ".attn.z";
  const std::vector<float>& xs = c.cap.data.at(resid_name);  // (capture rows, D)
  const std::vector<float>& zs = c.cap.data.at(z_name);      // (capture rows, H*E)
  const int64_t D = static_cast<int64_t>(xs.size() / c.lse.size()),
                E = static_cast<int64_t>(zs.size() / c.lse.size()) / H, V = run.vocab_size();
  std::vector<int32_t> tokens, parent;  // (rows)
  std::vector<float> x;                 // (rows, D) the corrupted residual entering block l
  std::vector<patch_branch> branches;
  auto row = [&](const group_pair& g, int64_t t, int32_t pa) {
    parent.push_back(pa);
    tokens.push_back(g.p->more[static_cast<size_t>(t)]);
    const float* src = xs.data() + (g.bad_row0 + t) * D;
    x.insert(x.end(), src, src + D);
  };
  for (group_pair& g : gs) {
    for (int64_t t = 0; t < g.start; ++t) row(g, t, t == 0 ? -1 : static_cast<int32_t>(tokens.size()) - 1);
    const int32_t trunk = g.start == 0 ? -1 : static_cast<int32_t>(tokens.size()) - 1;
    for (int64_t b = 0; b <= H; ++b) {
      patch_branch br{b == 0 ? &resid_name : &z_name, b == 0 ? &xs : &zs, &g, 0, 0, b == 0, 0};
      if (b > 0) br.c0 = (b - 1) * E, br.c1 = b * E;
      br.row0 = static_cast<int64_t>(tokens.size());
      for (int64_t t = g.start; t < g.n; ++t)
        row(g, t, t == g.start ? trunk : static_cast<int32_t>(tokens.size()) - 1);
      branches.push_back(br);
    }
  }
  packed_patch_hook hk;
  hk.branches = &branches;
  hk.resid_name = resid_name;
  hk.z_name = z_name;
  auto lg = run.forward_packed_from(l, x, tokens, parent, &hk);
  if (!lg) return lg.err();
  const auto T = static_cast<int64_t>(tokens.size());
  std::vector<double> lse(static_cast<size_t>(T));  // (rows); trunk rows unused (the capture's are)
  rows_log_partition(lg.value(), V, 0, T, lse.data());
  for (const patch_branch& br : branches) {
    group_pair& g = *br.g;
    auto logits_row = [&](size_t t) {
      const auto ti = static_cast<int64_t>(t);
      return ti < g.start ? c.logits.data() + (g.bad_row0 + ti) * V
                          : lg.value().data() + (br.row0 + ti - g.start) * V;
    };
    auto lse_of = [&](size_t t) {
      const auto ti = static_cast<int64_t>(t);
      return ti < g.start ? c.lse[static_cast<size_t>(g.bad_row0 + ti)]
                          : lse[static_cast<size_t>(br.row0 + ti - g.start)];
    };
    g.metrics.push_back(pair_metric(*g.p, logits_row, lse_of));
  }
  return true;
}

// Effects of the pairs of one group (every pair qualifies: equal lengths, different sentences).
result<std::vector<patch_pair_result>> patch_group(engine::runner& run,
                                                   const std::vector<const localize_pair*>& ps, int64_t L,
                                                   int64_t H) {
  std::vector<group_pair> gs(ps.size());
  std::vector<patch_pair_result> out(ps.size());
  for (size_t i = 0; i < ps.size(); ++i) {
    group_pair& g = gs[i];
    g.p = ps[i];
    g.n = static_cast<int64_t>(g.p->more.size()) - 1;
    g.differ = differing_positions(*g.p);
    g.start = static_cast<int64_t>(patch_start(*g.p));
    out[i].qualifies = true;
  }
  auto c = group_capture_run(run, gs, out);
  if (!c) return c.err();
  for (int64_t l = 0; l < L; ++l) {
    auto r = group_layer_run(run, gs, c.value(), static_cast<int>(l), H);
    if (!r) return r.err();
  }
  for (size_t i = 0; i < gs.size(); ++i) {
    patch_pair_result& r = out[i];
    const std::vector<double>& m = gs[i].metrics;  // (L, 1 + H)
    for (int64_t l = 0; l < L; ++l) {
      const size_t k = static_cast<size_t>(l * (H + 1));
      r.resid.push_back((m[k] - r.corrupted) / (r.clean - r.corrupted));
      for (int64_t h = 0; h < H; ++h)
        r.heads.push_back((m[k + 1 + static_cast<size_t>(h)] - r.corrupted) / (r.clean - r.corrupted));
    }
  }
  return out;
}

// Checks a pair for patching: false when the lengths differ; an error when the sentences are the same.
result<bool> patch_qualifies(const localize_pair& p) {
  if (p.more.size() != p.less.size() || p.more.size() < 2) return false;
  if (p.more == p.less)
    return error{errc::bad_value, 0, "bias-localize: the two sentences of pair are the same", ""};
  return true;
}

// Rows of a pair's pass from one layer: its trunk, then 1 + H patched runs.
size_t patch_rows(const localize_pair& p, int64_t H) {
  const size_t start = patch_start(p), n = p.more.size() - 1;
  return start + static_cast<size_t>(H + 1) * (n - start);
}

}  // namespace

result<patch_pair_result> patch_pair(engine::runner& run, const localize_pair& p, int64_t L, int64_t H,
                                     bool reuse_prefix) {
  patch_pair_result r;
  auto q = patch_qualifies(p);
  if (!q) return q.err();
  if (!q.value()) return r;
  if (reuse_prefix) {
    auto g = patch_group(run, {&p}, L, H);
    if (!g) return g.err();
    return std::move(g.value()[0]);
  }
  r.qualifies = true;
  const int64_t V = run.vocab_size();
  capture_hook cap;
  run.reset();
  auto lc = run.forward(std::vector<int32_t>(p.less.begin(), p.less.end() - 1), &cap);
  if (!lc) return lc.err();
  r.clean = run_metric(p, lc.value(), V);
  run.reset();
  auto lx = run.forward(std::vector<int32_t>(p.more.begin(), p.more.end() - 1));
  run.reset();
  if (!lx) return lx.err();
  r.corrupted = run_metric(p, lx.value(), V);
  const int64_t E =
      static_cast<int64_t>(cap.data.at("blk.0.attn.z").size()) / static_cast<int64_t>(p.less.size() - 1) / H;
  std::vector<ref_branch> branches;  // per layer: resid, then its heads
  for (int64_t l = 0; l < L; ++l) {
    branches.push_back({"blk." + std::to_string(l) + ".resid.pre", differing_positions(p), 0, 0});
    for (int64_t k = 0; k < H; ++k)
      branches.push_back({"blk." + std::to_string(l) + ".attn.z", {}, k * E, (k + 1) * E});
  }
  auto m = patch_sequential(run, p, cap, branches);
  if (!m) return m.err();
  for (int64_t l = 0; l < L; ++l) {
    const size_t k = static_cast<size_t>(l * (H + 1));
    r.resid.push_back((m.value()[k] - r.corrupted) / (r.clean - r.corrupted));
    for (int64_t h = 0; h < H; ++h)
      r.heads.push_back((m.value()[k + 1 + static_cast<size_t>(h)] - r.corrupted) / (r.clean - r.corrupted));
  }
  return r;
}

void localize_heap_policy() {
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
}

result<patch_summary> patch_pairs(engine::runner& run, const std::vector<localize_pair>& pairs, int64_t L,
                                  int64_t H, size_t max_rows) {
  patch_summary s;
  s.resid.assign(static_cast<size_t>(L), 0.0);
  s.heads.assign(static_cast<size_t>(L * H), 0.0);
  s.pairs.resize(pairs.size());
  // groups of qualifying pairs whose pass from one layer has at most max_rows rows (at least one pair)
  std::vector<size_t> group;  // indices into pairs
  size_t rows = 0;
  auto flush = [&]() -> result<bool> {
    if (group.empty()) return true;
    std::vector<const localize_pair*> ps;
    for (size_t i : group) ps.push_back(&pairs[i]);
    auto g = patch_group(run, ps, L, H);
    if (!g) return g.err();
    for (size_t k = 0; k < group.size(); ++k) s.pairs[group[k]] = std::move(g.value()[k]);
    group.clear();
    rows = 0;
    return true;
  };
  for (size_t i = 0; i < pairs.size(); ++i) {
    auto q = patch_qualifies(pairs[i]);
    if (!q) return q.err();
    if (!q.value()) continue;
    const size_t r = patch_rows(pairs[i], H);
    if (!group.empty() && rows + r > max_rows) {
      auto f = flush();
      if (!f) return f.err();
    }
    group.push_back(i);
    rows += r;
  }
  auto f = flush();
  if (!f) return f.err();
  size_t n = 0;
  for (const patch_pair_result& r : s.pairs) {
    if (!r.qualifies) continue;
    ++s.qualifying;
    if (r.clean == r.corrupted) {
      ++s.undefined;
      continue;
    }
    ++n;
    for (size_t i = 0; i < s.resid.size(); ++i) s.resid[i] += r.resid[i];
    for (size_t i = 0; i < s.heads.size(); ++i) s.heads[i] += r.heads[i];
  }
  for (double& v : s.resid) v = n ? v / static_cast<double>(n) : std::nan("");
  for (double& v : s.heads) v = n ? v / static_cast<double>(n) : std::nan("");
  return s;
}

}  // namespace gb::probes
