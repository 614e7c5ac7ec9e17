// probes/audit_estimate.h: the up-front time estimate of a whole audit, step by step (load, scan, hashes,
// statistics, spectral metrics, each bias suite) and in total, from the work each step has (bytes, matrix
// shapes, tokens) and this machine's rates, measured before the audit starts: SHA-256 and a statistics pass
// over a buffer, an exact spectral solve of a 384 x 192 matrix, and the model's own scoring rates on the
// built-in templates. Each bias suite's work is counted exactly by a planning pass (the suite's own code on
// a count-only scorer: the positions it computes, one sequence at a time or in packed passes); the scoring
// rates are computed positions per CPU second of the process on each of those two paths, after a warm-up
// round (the first touch of the weights), times the threads. The steps' own costs are modelled, not timed,
// so the estimate is a guide (the loaded machine, the page cache and the disk move it), and says its basis.
//
//   gb::probes::audit_workload w = gb::probes::audit_workload_of(items, files_bytes, spectral_opt);
//   w.suites = {{"crows-pairs", 6606, 5209, 5209}};  // a planning pass (audit_estimate_of)
//   gb::probes::audit_rates r = gb::probes::audit_rates_measure(&scorer, bias_opt, 2.0);  // or nullptr
//   gb::probes::audit_estimate e = gb::probes::audit_estimate_build(w, r, threads);
//   for (auto& s : e.steps) std::printf("%s %.1f s (%s)\n", s.step.c_str(), s.seconds, s.basis.c_str());
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "inspect/spectral.h"
#include "inspect/tensor_values.h"
#include "probes/bias.h"

namespace gb::probes {

// The positions a bias suite scores (suite_result::tokens) and computes (tokens_computed), of which
// `computed_packed` in packed passes (engine_scorer::logprobs_many) and the rest one sequence at a time.
struct suite_work {
  std::string suite;
  size_t tokens = 0, computed = 0, computed_packed = 0;
};

// What the audit will do.
struct audit_workload {
  double load_seconds = 0;    // measured: the model is opened before the estimate
  uint64_t file_bytes = 0;    // every file of the model (scan, file digests)
  uint64_t tensor_bytes = 0;  // tensor data (tensor digests, statistics)
  bool spectral = true;
  double spectral_flops = 0;  // modelled floating-point operations of every matrix's spectral solve
  size_t spectral_matrices = 0;
  std::vector<suite_work> suites;  // each bias suite's positions (a planning pass)
};
// The model's part of the workload (bytes, spectral flops under `opt`).
audit_workload audit_workload_of(const std::vector<tensor_item>& items, uint64_t file_bytes,
                                 const spectral_options& opt);

// Rates measured here: hashing, statistics and spectral flops on one core; the model's computed positions
// per CPU second of the process, one sequence at a time (`single`) and in packed passes (`packed`); 0 = the
// model cannot run. tokens_wall_per_s: positions per wall second during the calibration (the load now).
struct audit_rates {
  double hash_bytes_per_s = 0, stats_bytes_per_s = 0, flops_per_s = 0;
  double single_per_cpu_s = 0, packed_per_cpu_s = 0, tokens_wall_per_s = 0;
};
// A few CPU milliseconds of SHA-256, statistics and an exact spectral solve; with a scorer `s` (nullptr:
// no token rates), one warm-up round of the built-in templates (untimed: it pages the weights in), then
// rounds of the templates' continuations scored one sequence at a time (sentence_cache::continuation) and
// their sentences in one packed batch, each through a fresh sentence cache, until about `token_seconds` of
// wall time. Every rate is per CPU second of the process. `o` is not read (the rounds fix their own options).
audit_rates audit_rates_measure(scorer* s, const bias_options& o, double token_seconds);

// CPU seconds of this process so far (every thread).
double process_cpu_seconds();

struct audit_step {
  std::string step;
  double seconds = 0;
  std::string basis;  // what the number comes from ("1.2 GB at 850 MB/s x 2 threads")
};
struct audit_estimate {
  std::vector<audit_step> steps;  // load, scan, hashes, statistics, spectral, bias <suite>...
  double total_seconds = 0;
};
audit_estimate audit_estimate_build(const audit_workload& w, const audit_rates& r, int threads);

// "2h03m04s", "12.3 s"
std::string duration_text(double seconds);

}  // namespace gb::probes
