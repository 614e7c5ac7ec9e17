// inspect/diff.cpp: tensor-by-tensor comparison and the lineage verdict (see the header).
#include "inspect/diff.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "inspect/model.h"

namespace gb {

diff_dtype_tol diff_dtype_tolerance(dtype t) {
  // typical: rel RMS error of N(0, s) weights round-tripped through the type (step / sqrt(12) with the
  // block's abs-max or range over its levels); bound: about twice that, the most still read as re-encoding.
  switch (t) {
    case dtype::f64:
    case dtype::f32:
      return {0.0, 1e-6};
    case dtype::f16:
      return {2.2e-4, 1e-3};
    case dtype::bf16:
      return {1.8e-3, 8e-3};
    case dtype::f8_e4m3:
      return {0.029, 0.1};
    case dtype::f8_e5m2:
      return {0.058, 0.2};
    case dtype::q8_0:
    case dtype::q8_1:
      return {0.005, 0.02};
    case dtype::q8_k:
      return {0.0066, 0.02};
    case dtype::q6_k:
      return {0.017, 0.04};
    case dtype::q5_0:
    case dtype::q5_1:
    case dtype::q5_k:
      return {0.04, 0.08};
    case dtype::q4_0:
    case dtype::q4_1:
    case dtype::q4_k:
    case dtype::iq4_nl:
    case dtype::iq4_xs:
    case dtype::mxfp4:
      return {0.08, 0.15};
    case dtype::q3_k:
    case dtype::iq3_xxs:
    case dtype::iq3_s:
      return {0.14, 0.3};
    case dtype::q2_k:
    case dtype::iq2_xxs:
    case dtype::iq2_xs:
    case dtype::iq2_s:
      return {0.35, 0.6};
    default:
      return {0.0, 1e-6};
  }
}

const char* tensor_delta_name(tensor_delta d) {
  switch (d) {
    case tensor_delta::identical:
      return "identical";
    case tensor_delta::equal:
      return "equal";
    case tensor_delta::close:
      return "close";
    case tensor_delta::moved:
      return "moved";
    case tensor_delta::unrelated:
      return "unrelated";
    case tensor_delta::reshaped:
      return "reshaped";
    case tensor_delta::undecodable:
      return "undecodable";
    case tensor_delta::added:
      return "added";
    case tensor_delta::removed:
      return "removed";
  }
  return "?";
}

severity lineage_level(lineage l) {
  switch (l) {
    case lineage::same_model:
    case lineage::same_weights:
      return severity::info;
    case lineage::reencoded:
      return severity::low;
    case lineage::derived:
      return severity::high;
    case lineage::unrelated:
      return severity::critical;
  }
  return severity::critical;
}

diff_report diff_inputs(const integrity_input& a, const integrity_input& b, int threads) {
  diff_options o;
  o.threads = threads;
  return diff_models(a.items, b.items, *a.ar, *b.ar, a.m ? &a.m->hp : nullptr, b.m ? &b.m->hp : nullptr, o);
}

std::set<std::string> diff_changed_tensors(const diff_report& d) {
  std::set<std::string> changed;
  for (const auto& t : d.tensors)
    if (t.status != tensor_delta::identical && t.status != tensor_delta::equal &&
        t.status != tensor_delta::added && t.status != tensor_delta::removed)
      changed.insert(t.name);
  return changed;
}

const char* lineage_name(lineage l) {
  switch (l) {
    case lineage::same_model:
      return "same_model";
    case lineage::same_weights:
      return "same_weights";
    case lineage::reencoded:
      return "reencoded";
    case lineage::derived:
      return "derived";
    case lineage::unrelated:
      return "unrelated";
  }
  return "?";
}

namespace {

// Streams both tensors row by row and fills the sums.
void compare(const tensor_item& ia, const tensor_item& ib, tensor_diff& d, bool release) {
  tensor_reader ra(ia), rb(ib);
  if (ra.rows() != rb.rows() || ra.cols() != rb.cols()) {
    d.status = tensor_delta::reshaped;
    return;
  }
  const int64_t rows = ra.rows(), cols = ra.cols();
  d.count = static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols);
  const bool same_type = ra.type() == rb.type();
  bool bytes_equal = same_type;
  if (!ra.decodable() || !rb.decodable()) {
    if (same_type)
      for (int64_t r = 0; r < rows && bytes_equal; ++r)
        for (int64_t c0 = 0; c0 < cols && bytes_equal; c0 += ra.piece_cols()) {
          const int64_t n = std::min(ra.piece_cols(), cols - c0);
          bytes_equal = std::memcmp(ra.piece_raw(r, c0, n), rb.piece_raw(r, c0, n), ra.piece_bytes(n)) == 0;
        }
    d.status = bytes_equal ? tensor_delta::identical : tensor_delta::undecodable;
    return;
  }
  const int64_t pc = ra.piece_cols();  // rows wider than this are compared piece by piece
  std::vector<float> sa(static_cast<size_t>(pc)), sb(static_cast<size_t>(pc));  // (piece)
  double dot = 0, na = 0, nb = 0, nd = 0;
  float mx = 0;
  const int64_t chunk =
      std::max<int64_t>(1, static_cast<int64_t>((4u << 20) / std::max<uint64_t>(1, ra.row_bytes())));
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t r1 = std::min(rows, r0 + chunk);
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t c0 = 0; c0 < cols; c0 += pc) {  // one piece per row unless the row is wider
        const int64_t n = std::min(pc, cols - c0);
        if (bytes_equal)
          bytes_equal = std::memcmp(ra.piece_raw(r, c0, n), rb.piece_raw(r, c0, n), ra.piece_bytes(n)) == 0;
        const float* x = ra.piece_f32(r, c0, n, sa.data());
        const float* y = rb.piece_f32(r, c0, n, sb.data());
        double rdot = 0, rna = 0, rnb = 0, rnd = 0;
        float rmx = 0;
#pragma omp simd reduction(+ : rdot, rna, rnb, rnd) reduction(max : rmx)
        for (int64_t c = 0; c < n; ++c) {
          const double a = static_cast<double>(x[c]), b = static_cast<double>(y[c]), df = a - b;
          rdot += a * b;
          rna += a * a;
          rnb += b * b;
          rnd += df * df;
          const float ad = std::fabs(x[c] - y[c]);
          rmx = ad > rmx ? ad : rmx;
        }
        dot += rdot;
        na += rna;
        nb += rnb;
        nd += rnd;
        mx = std::max(mx, rmx);
        if (release && n < cols) {
          ra.release_piece(r, c0, n);
          rb.release_piece(r, c0, n);
        }
      }
    if (release) {
      ra.release(r0, r1);
      rb.release(r0, r1);
    }
  }
  d.sum_a2 = na;
  d.sum_b2 = nb;
  d.sum_d2 = nd;
  d.max_abs = static_cast<double>(mx);
  d.rel_l2 = na > 0 ? std::sqrt(nd / na) : (nd > 0 ? 1.0 : 0.0);
  d.cosine = na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : (na == nb ? 1.0 : 0.0);
  if (bytes_equal)
    d.status = tensor_delta::identical;
  else if (nd == 0)
    d.status = tensor_delta::equal;
  else if (d.rel_l2 <= d.tolerance)
    d.status = tensor_delta::close;
  else if (std::fabs(d.cosine) < 0.2)
    d.status = tensor_delta::unrelated;
  else
    d.status = tensor_delta::moved;
}

void diff_hparams(const hparams& a, const hparams& b, std::vector<meta_diff>& out) {
  auto cmp = [&](const char* k, auto x, auto y) {
    if (x != y) out.push_back({k, std::to_string(x), std::to_string(y)});
  };
  cmp("n_vocab", a.n_vocab, b.n_vocab);
  cmp("n_ctx", a.n_ctx, b.n_ctx);
  cmp("n_embd", a.n_embd, b.n_embd);
  cmp("n_layer", a.n_layer, b.n_layer);
  cmp("n_head", a.n_head, b.n_head);
  cmp("n_head_kv", a.n_head_kv, b.n_head_kv);
  cmp("n_ff", a.n_ff, b.n_ff);
  cmp("head_dim", a.head_dim, b.head_dim);
  cmp("n_rot", a.n_rot, b.n_rot);
  cmp("rope_theta", a.rope_theta, b.rope_theta);
  cmp("norm_eps", a.norm_eps, b.norm_eps);
  cmp("tied_embeddings", a.tied_embeddings, b.tied_embeddings);
}

// Fixed ('f') or general ('g') notation with `prec` digits.
std::string fmt(char conv, int prec, double v) {
  char b[64];
  if (conv == 'f')
    std::snprintf(b, sizeof b, "%.*f", prec, v);
  else
    std::snprintf(b, sizeof b, "%.*g", prec, v);
  return b;
}

// Metadata entries whose displayed values differ (compared when both files have the same format).
void diff_metadata(const archive& ar_a, const archive& ar_b, diff_report& rep) {
  if (ar_a.format != ar_b.format) return;
  std::map<std::string, std::string> ma, mb;
  for (const auto& [k, v] : ar_a.metadata) ma[k] = v.to_display();
  for (const auto& [k, v] : ar_b.metadata) mb[k] = v.to_display();
  for (const auto& [k, v] : ma) {
    auto it = mb.find(k);
    if (it == mb.end())
      rep.metadata.push_back({k, v, ""});
    else if (it->second != v)
      rep.metadata.push_back({k, v, it->second});
  }
  for (const auto& [k, v] : mb)
    if (!ma.count(k)) rep.metadata.push_back({k, "", v});
}

struct diff_pair_job {
  const tensor_item* a;
  const tensor_item* b;
  size_t out;  // row of rep.tensors
};

// One rep.tensors row per weight of either side, matched by canonical name (excluded items are not
// weights); returns the pairs of equal shape, whose values are compared.
std::vector<diff_pair_job> diff_match(const std::vector<tensor_item>& a, const std::vector<tensor_item>& b,
                                      diff_report& rep) {
  std::map<std::string, const tensor_item*> mb;
  for (const tensor_item& t : b)
    if (t.excluded.empty()) mb[t.name] = &t;
  std::set<std::string> in_a;
  std::vector<diff_pair_job> jobs;
  for (const tensor_item& t : a) {
    if (!t.excluded.empty()) continue;
    in_a.insert(t.name);
    tensor_diff d;
    d.name = t.name;
    d.layer = t.layer;
    d.dtype_a = dtype_name(t.view->type);
    d.shape_a = t.shape;
    auto it = mb.find(t.name);
    if (it == mb.end()) {
      d.status = tensor_delta::removed;
      rep.tensors.push_back(d);
      continue;
    }
    const tensor_item& u = *it->second;
    d.dtype_b = dtype_name(u.view->type);
    d.shape_b = u.shape;
    const diff_dtype_tol ta = diff_dtype_tolerance(t.view->type), tb = diff_dtype_tolerance(u.view->type);
    d.expected = std::max(ta.typical, tb.typical);
    d.tolerance = std::max(ta.bound, tb.bound);
    if (t.shape != u.shape)
      d.status = tensor_delta::reshaped;
    else
      jobs.push_back({&t, &u, rep.tensors.size()});
    rep.tensors.push_back(d);
  }
  for (const tensor_item& t : b)
    if (t.excluded.empty() && !in_a.count(t.name)) {
      tensor_diff d;
      d.name = t.name;
      d.layer = t.layer;
      d.status = tensor_delta::added;
      d.dtype_b = dtype_name(t.view->type);
      d.shape_b = t.shape;
      rep.tensors.push_back(d);
    }
  return jobs;
}

// Compares the shared tensors on all cores, largest first; the first failure is rethrown.
void diff_compare(std::vector<diff_pair_job>& jobs, diff_report& rep, const diff_options& opt) {
  std::sort(jobs.begin(), jobs.end(), [](const diff_pair_job& x, const diff_pair_job& y) {
    return x.a->view->nbytes > y.a->view->nbytes;
  });
  int nt = opt.threads > 0 ? opt.threads : omp_get_max_threads();
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::optional<error> err;
#pragma omp parallel num_threads(std::max(1, nt))
  for (;;) {
    const size_t k = next.fetch_add(1);
    if (k >= jobs.size()) break;
    try {
      compare(*jobs[k].a, *jobs[k].b, rep.tensors[jobs[k].out], opt.release_pages);
    } catch (const failure& f) {
      std::lock_guard<std::mutex> lk(mu);
      if (!err) err = f.err();
    }
  }
  if (err) throw failure(*err);
}

// A one-sided output.weight that equals the embedding is a tied classifier stored as a copy.
bool diff_tied_copy(const std::vector<tensor_item>& side) {
  const tensor_item *emb = nullptr, *out = nullptr;
  for (const tensor_item& t : side) {
    if (is_token_embedding(t.name)) emb = &t;
    if (t.name == "output.weight") out = &t;
  }
  if (!emb || !out) return false;
  tensor_diff d;
  d.tolerance = 0;
  try {
    compare(*emb, *out, d, false);
  } catch (const failure&) {
    return false;
  }
  return d.status == tensor_delta::identical || d.status == tensor_delta::equal;
}

// Drops a one-sided output.weight that is such a copy (with a line of evidence).
void diff_drop_tied(const std::vector<tensor_item>& a, const std::vector<tensor_item>& b, diff_report& rep) {
  for (auto it = rep.tensors.begin(); it != rep.tensors.end();) {
    if (it->name == "output.weight" && ((it->status == tensor_delta::removed && diff_tied_copy(a)) ||
                                        (it->status == tensor_delta::added && diff_tied_copy(b)))) {
      rep.evidence.push_back(std::string("output.weight is a copy of the embedding on the ") +
                             (it->status == tensor_delta::removed ? "A" : "B") +
                             " side only (tied classifier): not counted as a change");
      it = rep.tensors.erase(it);
    } else {
      ++it;
    }
  }
}

// What the verdict reads from the compared tensors.
struct diff_tally {
  double el_total = 0, el_unrelated = 0, el_moved = 0;  // elements
  size_t n_by[9] = {0};                                 // tensors per tensor_delta
  std::set<std::string> moved_layers;
  std::vector<double> cosines;
  double worst_ratio = 0;
  std::string worst_close;
  std::set<std::string> dtypes_a, dtypes_b;
  size_t cnt(tensor_delta s) const { return n_by[static_cast<int>(s)]; }
};

// The layer profile (rep.layers) and the tally of the compared tensors.
diff_tally diff_layers(diff_report& rep) {
  diff_tally t;
  std::map<std::string, layer_change> layers;
  for (const tensor_diff& d : rep.tensors) {
    ++t.n_by[static_cast<int>(d.status)];
    if (d.status == tensor_delta::added || d.status == tensor_delta::removed ||
        d.status == tensor_delta::reshaped || d.status == tensor_delta::undecodable)
      continue;
    t.dtypes_a.insert(d.dtype_a);
    t.dtypes_b.insert(d.dtype_b);
    const double el = static_cast<double>(d.count);
    t.el_total += el;
    if (d.status == tensor_delta::unrelated) t.el_unrelated += el;
    if (d.status == tensor_delta::moved) {
      t.el_moved += el;
      t.moved_layers.insert(tensor_layer_key(d.name, d.layer));
    }
    t.cosines.push_back(d.cosine);
    if (d.status == tensor_delta::close && d.expected > 0 && d.rel_l2 / d.expected > t.worst_ratio) {
      t.worst_ratio = d.rel_l2 / d.expected;
      t.worst_close = d.name;
    }
    layer_change& l = layers[tensor_layer_key(d.name, d.layer)];
    ++l.tensors;
    if (d.status == tensor_delta::moved || d.status == tensor_delta::unrelated) ++l.moved;
    l.rel_l2 += d.sum_d2;  // sums first, ratio below
    l.min_cosine = std::min(l.min_cosine, d.cosine);
  }
  std::map<std::string, double> layer_a2;
  for (const tensor_diff& d : rep.tensors) layer_a2[tensor_layer_key(d.name, d.layer)] += d.sum_a2;
  for (auto& [k, l] : layers) {
    l.key = k;
    const double a2 = layer_a2[k];
    l.rel_l2 = a2 > 0 ? std::sqrt(l.rel_l2 / a2) : 0.0;
    rep.layers.push_back(l);
  }
  std::sort(rep.layers.begin(), rep.layers.end(), [](const layer_change& x, const layer_change& y) {
    auto num = [](const std::string& s) { return s.rfind("blk.", 0) == 0 ? std::atoi(s.c_str() + 4) : -1; };
    return num(x.key) < num(y.key) || (num(x.key) == num(y.key) && x.key < y.key);
  });
  return t;
}

// The evidence lines and the lineage verdict.
void diff_verdict(const diff_tally& t, diff_report& rep) {
  const size_t* n_by = t.n_by;
  const double el_total = t.el_total, el_unrelated = t.el_unrelated, el_moved = t.el_moved;
  const size_t shared = n_by[0] + n_by[1] + n_by[2] + n_by[3] + n_by[4];
  const size_t structural = n_by[static_cast<int>(tensor_delta::added)] +
                            n_by[static_cast<int>(tensor_delta::removed)] +
                            n_by[static_cast<int>(tensor_delta::reshaped)];
  auto cnt = [&](tensor_delta s) { return t.cnt(s); };
  rep.evidence.push_back(
      std::to_string(shared) + " shared tensors: " + std::to_string(cnt(tensor_delta::identical)) +
      " identical, " + std::to_string(cnt(tensor_delta::equal)) + " equal values, " +
      std::to_string(cnt(tensor_delta::close)) + " close, " + std::to_string(cnt(tensor_delta::moved)) +
      " moved, " + std::to_string(cnt(tensor_delta::unrelated)) + " unrelated; " +
      std::to_string(cnt(tensor_delta::added)) + " added, " + std::to_string(cnt(tensor_delta::removed)) +
      " removed, " + std::to_string(cnt(tensor_delta::reshaped)) + " reshaped");
  std::string dta, dtb;
  for (const auto& s : t.dtypes_a) dta += (dta.empty() ? "" : "+") + s;
  for (const auto& s : t.dtypes_b) dtb += (dtb.empty() ? "" : "+") + s;
  if (!t.cosines.empty()) {
    std::vector<double> c = t.cosines;
    std::sort(c.begin(), c.end());
    rep.evidence.push_back("cosine similarity: median " + fmt('f', 6, c[c.size() / 2]) + ", min " +
                           fmt('f', 6, c.front()));
  }
  if (el_total > 0)
    rep.evidence.push_back("elements in moved tensors " + fmt('f', 1, 100 * el_moved / el_total) + "%" +
                           ", in unrelated tensors " + fmt('f', 1, 100 * el_unrelated / el_total) + "%");

  if (shared == 0 || el_total == 0) {
    rep.verdict = lineage::unrelated;
    rep.verdict_text = "unrelated: no tensors with matching names and shapes to compare";
  } else if (el_unrelated >= 0.5 * el_total) {
    rep.verdict = lineage::unrelated;
    rep.verdict_text = "unrelated: " + fmt('f', 0, 100 * el_unrelated / el_total) + "%" +
                       " of the compared weights have |cosine| < 0.2";
  } else if (cnt(tensor_delta::moved) + cnt(tensor_delta::unrelated) > 0) {
    rep.verdict = lineage::derived;
    std::string ls;
    for (const auto& l : t.moved_layers) ls += (ls.empty() ? "" : ", ") + l;
    rep.verdict_text = "derived (fine-tuned or edited): " +
                       std::to_string(cnt(tensor_delta::moved) + cnt(tensor_delta::unrelated)) + " of " +
                       std::to_string(shared) + " tensors moved beyond re-encoding error, in " + ls;
  } else if (cnt(tensor_delta::close) > 0) {
    rep.verdict = lineage::reencoded;
    rep.verdict_text =
        "same weights re-encoded (" + dta + " -> " + dtb + "): every tensor within the quantisation error";
    if (!t.worst_close.empty())
      for (const tensor_diff& d : rep.tensors)
        if (d.name == t.worst_close)
          rep.evidence.push_back("largest error relative to the dtype's typical: " + d.name + " rel L2 " +
                                 fmt('g', 3, d.rel_l2) + " (typical " + fmt('g', 3, d.expected) + ", bound " +
                                 fmt('g', 3, d.tolerance) + ")");
  } else if (cnt(tensor_delta::equal) > 0 || structural > 0 || rep.format_a != rep.format_b) {
    rep.verdict = lineage::same_weights;
    rep.verdict_text = "same weights: every shared tensor has identical values (" + rep.format_a + " vs " +
                       rep.format_b + ")";
  } else {
    rep.verdict = lineage::same_model;
    rep.verdict_text = "same weights: identical tensors, same model";
  }
  if (structural > 0 && (rep.verdict == lineage::same_weights || rep.verdict == lineage::same_model))
    rep.verdict_text +=
        "; but the tensor sets differ (" + std::to_string(structural) + " added/removed/reshaped)";
}

}  // namespace

diff_report diff_models(const std::vector<tensor_item>& a, const std::vector<tensor_item>& b,
                        const archive& ar_a, const archive& ar_b, const hparams* hp_a, const hparams* hp_b,
                        const diff_options& opt) {
  diff_report rep;
  rep.format_a = file_format_name(ar_a.format);
  rep.format_b = file_format_name(ar_b.format);
  diff_metadata(ar_a, ar_b, rep);
  if (hp_a && hp_b) diff_hparams(*hp_a, *hp_b, rep.hparams);
  std::vector<diff_pair_job> jobs = diff_match(a, b, rep);
  diff_compare(jobs, rep, opt);
  diff_drop_tied(a, b, rep);
  diff_verdict(diff_layers(rep), rep);
  return rep;
}

}  // namespace gb
