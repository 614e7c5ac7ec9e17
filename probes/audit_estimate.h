// probes/audit_estimate.h: the up-front time estimate of a whole audit, step by step (load, scan, hashes,
// statistics, spectral metrics, each bias suite) and in total, from the work each step has (bytes, matrix
// shapes, tokens) and this machine's rates, measured in well under a second before the audit starts:
// SHA-256 and a statistics pass over a buffer, an exact spectral solve of a 192 x 96 matrix, and forward-pass
// tokens per second on the built-in templates. The steps' own costs are modelled, not timed, so the
// estimate is a guide (the loaded machine, the page cache and the disk move it), and says its basis.
//
//   gb::probes::audit_workload w = gb::probes::audit_workload_of(items, files_bytes, spectral_opt);
//   w.suite_tokens = {{"crows-pairs", 71234}};                         // from a planning pass
//   (bias_options::plan) gb::probes::audit_rates r = gb::probes::audit_rates_measure(&cache, 0.5);   //
//   cache: nullptr = no model run gb::probes::audit_estimate e = gb::probes::audit_estimate_build(w, r,
//   threads); for (auto& s : e.steps) std::printf("%s %.1f s (%s)\n", s.step.c_str(), s.seconds,
//   s.basis.c_str());
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "inspect/spectral.h"
#include "inspect/tensor_values.h"
#include "probes/bias.h"

namespace gb::probes {

// What the audit will do.
struct audit_workload {
  double load_seconds = 0;    // measured: the model is opened before the estimate
  uint64_t file_bytes = 0;    // every file of the model (scan, file digests)
  uint64_t tensor_bytes = 0;  // tensor data (tensor digests, statistics)
  bool spectral = true;
  double spectral_flops = 0;  // modelled floating-point operations of every matrix's spectral solve
  size_t spectral_matrices = 0;
  std::vector<std::pair<std::string, size_t>> suite_tokens;  // tokens each bias suite scores
};
// The model's part of the workload (bytes, spectral flops under `opt`).
audit_workload audit_workload_of(const std::vector<tensor_item>& items, uint64_t file_bytes,
                                 const spectral_options& opt);

// Single-core rates measured here (tokens_per_s: with the scorer the audit uses; 0 = the model cannot run).
struct audit_rates {
  double hash_bytes_per_s = 0, stats_bytes_per_s = 0, flops_per_s = 0, tokens_per_s = 0;
};
// A few milliseconds of SHA-256, statistics and an exact spectral solve, plus about `token_seconds` of
// scoring the built-in templates with `s` (nullptr: no tokens rate), each round through a fresh sentence
// cache so that no round is a cache hit.
audit_rates audit_rates_measure(scorer* s, const bias_options& o, double token_seconds);

struct audit_step {
  std::string step;
  double seconds = 0;
  std::string basis;  // what the number comes from ("1.2 GB at 850 MB/s x 2 threads")
};
struct audit_estimate {
  std::vector<audit_step> steps;  // load, scan, hashes, statistics, spectral, bias <suite>...
  double total_seconds = 0;
  double tokens_per_s = 0;  // the measured scoring rate (0: the model cannot run text)
};
audit_estimate audit_estimate_build(const audit_workload& w, const audit_rates& r, int threads);

// "2h03m04s", "12.3 s"
std::string duration_text(double seconds);

}  // namespace gb::probes
