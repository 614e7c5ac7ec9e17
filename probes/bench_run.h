// probes/bench_run.h: forward-pass throughput as llama-bench measures it: prompt processing (pp: one batch
// of N random tokens from an empty cache) and generation (tg: N tokens one at a time), each repeated after
// one warm-up, as tokens per second (mean and sample standard deviation over the runs).
//
//   gb::probes::bench_options o{512, 128, 3, "none"};
//   auto tests = gb::probes::bench_run(runner, o);          // result<std::vector<bench_test>>: pp512, tg128
//   for (const auto& t : tests.value()) printf("%s %.2f\n", t.label.c_str(), t.mean);
#pragma once

#include <string>
#include <vector>

#include "formats/error.h"
#include "probes/engine/engine.h"

namespace gb::probes {

struct bench_options {
  int prompt_tokens = 512, gen_tokens = 128;  // 0 skips the test
  int repetitions = 3;                        // timed runs of each test, after one warm-up
  std::string hook =
      "none";  // none | idle (a hook that wants nothing) | capture (residuals + attention probs)
};

struct bench_test {
  std::string label;  // "pp512", "tg128"
  int tokens = 0;
  std::vector<double> tokens_per_second;  // one per timed run
  double mean = 0, sd = 0;                // sd 0 for a single run
};

// The tests in order pp, tg (random tokens from a fixed seed); the first forward error stops the run.
result<std::vector<bench_test>> bench_run(engine::runner& run, const bench_options& o);
// Peak resident memory of this process so far, in MiB.
double bench_peak_rss_mib();

}  // namespace gb::probes
