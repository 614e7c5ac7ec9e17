// probes/audit_estimate.cpp: see audit_estimate.h.
#include "probes/audit_estimate.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "inspect/hash.h"
#include "inspect/stats.h"
#include "inspect/summary.h"

namespace gb::probes {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Modelled flops of one matrix's spectral solve (inspect/spectral.h): exact = the M x M Gram product and a
// symmetric eigenvalue solve; randomised = the range finder's products and QRs on l = k + 10 columns.
double spectral_flops(double N, double M, const spectral_options& o) {
  if (M < 10) return 0;
  if (M <= static_cast<double>(o.max_exact)) return 2 * N * M * M + 4.0 / 3.0 * M * M * M;
  const double l = std::min(M, static_cast<double>(o.top_k) + 10), p = o.power_iters;
  return (4 + 4 * p) * N * M * l + (2 * p + 1) * 4 * N * l * l + 2 * l * l * M + 4.0 / 3.0 * l * l * l;
}

std::string rate_text(double bytes_per_s) {
  return format_bytes(static_cast<uint64_t>(bytes_per_s)) + "/s";
}

// Computed positions and process CPU seconds of one calibration round (a fresh sentence cache each time).
struct round_cost {
  double computed = 0, cpu = 0, wall = 0;
};
template <class Fn>
round_cost round_of(scorer& sc, Fn&& fn) {
  const size_t c0 = sc.token_counts().first;
  const double cpu0 = process_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  sentence_cache fresh(sc);
  fn(fresh);
  return {static_cast<double>(sc.token_counts().first - c0), process_cpu_seconds() - cpu0, seconds_since(t0)};
}

// The scoring rates of audit_rates_measure: the first 6 templates' continuations one sequence at a time (the
// runner's KV cache shares each context), and the first 12 templates' sentences in one packed batch, after an
// untimed warm-up round of both.
void token_rates(scorer& sc, double token_seconds, audit_rates& r) {
  const std::vector<template_pair> t = templates_builtin();
  std::vector<std::string> texts;  // (24) the first 12 templates' two sentences
  for (size_t i = 0; i < t.size() && texts.size() < 24; ++i)
    for (const std::string* w : {&t[i].word_a, &t[i].word_b}) texts.push_back(t[i].context + *w + t[i].rest);
  std::vector<const std::string*> ptrs;
  for (const std::string& x : texts) ptrs.push_back(&x);
  const auto continuations = [&](sentence_cache& c, size_t n) {
    for (size_t i = 0; i < n && i < t.size(); ++i)
      for (const std::string* w : {&t[i].word_a, &t[i].word_b})
        (void)c.continuation(t[i].context, *w + t[i].rest);
  };
  const auto single = [&](sentence_cache& c) { continuations(c, 6); };
  const auto packed = [&](sentence_cache& c) { c.prefetch_harness(ptrs); };
  round_of(sc, [&](sentence_cache& c) {  // warm-up: pages the weights in, creates the batch runners
    c.prefetch_harness({ptrs.begin(), ptrs.begin() + 4});
    continuations(c, 1);
  });
  round_cost a, b;  // single, packed
  for (int round = 0; round < 10 && (round == 0 || a.wall + b.wall < token_seconds); ++round) {
    const round_cost x = round_of(sc, single), y = round_of(sc, packed);
    a.computed += x.computed, a.cpu += x.cpu, a.wall += x.wall;
    b.computed += y.computed, b.cpu += y.cpu, b.wall += y.wall;
  }
  r.single_per_cpu_s = a.computed / std::max(a.cpu, 1e-6);
  r.packed_per_cpu_s = b.computed / std::max(b.cpu, 1e-6);
  r.tokens_wall_per_s = (a.computed + b.computed) / std::max(a.wall + b.wall, 1e-6);
}

}  // namespace

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

std::string duration_text(double s) {
  char b[32];
  if (!std::isfinite(s)) return "unknown";
  if (s < 60)
    std::snprintf(b, sizeof b, "%.1f s", s);
  else
    std::snprintf(b, sizeof b, "%dh%02dm%02ds", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60,
                  static_cast<int>(s) % 60);
  return b;
}

audit_workload audit_workload_of(const std::vector<tensor_item>& items, uint64_t file_bytes,
                                 const spectral_options& opt) {
  audit_workload w;
  w.file_bytes = file_bytes;
  for (const tensor_item& it : items) {
    w.tensor_bytes += it.view->nbytes;
    // the matrices spectral_compute takes (2-D weights, not norms, not excluded)
    if (!it.excluded.empty() || it.shape.size() != 2 || std::string(role_group(it.role)) == "norm") continue;
    const double a = static_cast<double>(it.shape[0]), b = static_cast<double>(it.shape[1]);
    w.spectral_flops += spectral_flops(std::max(a, b), std::min(a, b), opt);
    ++w.spectral_matrices;
  }
  return w;
}

audit_rates audit_rates_measure(scorer* sc, [[maybe_unused]] const bias_options& o, double token_seconds) {
  audit_rates r;  // per CPU second: what an idle core does, whatever the load now
  {               // SHA-256 over 8 MiB
    std::vector<uint8_t> buf(8u << 20, 0x5a);  // (bytes)
    const double t0 = process_cpu_seconds();
    (void)sha256_of(buf.data(), buf.size());
    r.hash_bytes_per_s = static_cast<double>(buf.size()) / std::max(process_cpu_seconds() - t0, 1e-6);
  }
  {  // the statistics pass over a 1024 x 1024 f32 matrix (4 MiB)
    const int64_t rows = 1024, cols = 1024;
    std::vector<float> row(static_cast<size_t>(cols));  // (cols)
    stats_accumulator acc(rows, cols);
    const double t0 = process_cpu_seconds();
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < cols; ++j)
        row[static_cast<size_t>(j)] = static_cast<float>((i * 31 + j) % 97) - 48;
      acc.add_row(i, row.data());
    }
    tensor_stats st;
    acc.finish(st);
    r.stats_bytes_per_s = 4.0 * rows * cols / std::max(process_cpu_seconds() - t0, 1e-6);
  }
  {  // an exact spectral solve of a 384 x 192 matrix, on one thread as the audit runs each matrix
    const int64_t rows = 384, cols = 192;
    std::vector<double> w(static_cast<size_t>(rows * cols));  // (rows, cols)
    for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(static_cast<double>(i) * 0.7318);
    spectral_options so;
    const int before = omp_get_max_threads();
    omp_set_num_threads(1);
    const double t0 = process_cpu_seconds();
    (void)spectral_of_matrix(w, rows, cols, so);
    const double s = process_cpu_seconds() - t0;
    omp_set_num_threads(before);
    r.flops_per_s = spectral_flops(rows, cols, so) / std::max(s, 1e-6);
  }
  if (sc) token_rates(*sc, token_seconds, r);
  return r;
}

audit_estimate audit_estimate_build(const audit_workload& w, const audit_rates& r, int threads) {
  audit_estimate e;
  const double nt = std::max(1, threads > 0 ? threads : omp_get_max_threads());
  const std::string x = " x " + std::to_string(static_cast<int>(nt)) + " thread" + (nt > 1 ? "s" : "");
  auto add = [&](const std::string& step, double s, const std::string& basis) {
    e.steps.push_back({step, s, basis});
    if (std::isfinite(s)) e.total_seconds += s;
  };
  add("load", w.load_seconds, "measured (headers and mapping)");
  add("scan", static_cast<double>(w.file_bytes) / r.stats_bytes_per_s,
      format_bytes(w.file_bytes) + " of files read once at " + rate_text(r.stats_bytes_per_s));
  const double hashed = static_cast<double>(w.file_bytes + w.tensor_bytes);
  add("hashes", hashed / (r.hash_bytes_per_s * nt),
      format_bytes(static_cast<uint64_t>(hashed)) + " (files and tensors) at " +
          rate_text(r.hash_bytes_per_s) + x);
  add("statistics", static_cast<double>(w.tensor_bytes) / (r.stats_bytes_per_s * nt),
      format_bytes(w.tensor_bytes) + " of tensors at " + rate_text(r.stats_bytes_per_s) + x);
  if (w.spectral) {
    const double par = std::min(nt, static_cast<double>(std::max<size_t>(1, w.spectral_matrices)));
    char b[96];
    std::snprintf(b, sizeof b, "%zu matrices, %.3g GFLOP at %.2f GFLOP/s x %d", w.spectral_matrices,
                  w.spectral_flops / 1e9, r.flops_per_s / 1e9, static_cast<int>(par));
    add("spectral", w.spectral_flops / (r.flops_per_s * par), b);
  } else {
    add("spectral", 0, "skipped (--no-spectral)");
  }
  for (const suite_work& sw : w.suites) {
    if (r.single_per_cpu_s <= 0 || r.packed_per_cpu_s <= 0) {
      add("bias " + sw.suite, NAN, "the model cannot run text here");
      continue;
    }
    const double single = static_cast<double>(sw.computed - sw.computed_packed);
    const double packed = static_cast<double>(sw.computed_packed);
    char b[256];
    std::snprintf(
        b, sizeof b,
        "%zu of %zu positions computed (%.0f packed) at %.1f one at a time, %.1f packed per CPU s%s "
        "(%.1f/s wall now)",
        sw.computed, sw.tokens, packed, r.single_per_cpu_s, r.packed_per_cpu_s, x.c_str(),
        r.tokens_wall_per_s);
    add("bias " + sw.suite, (single / r.single_per_cpu_s + packed / r.packed_per_cpu_s) / nt, b);
  }
  return e;
}

}  // namespace gb::probes
