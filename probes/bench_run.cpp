// probes/bench_run.cpp: pp / tg throughput of the forward pass (see probes/bench_run.h).
#include "probes/bench_run.h"

#include <sys/resource.h>

#include <chrono>
#include <random>
#include <string_view>

#include "probes/statistics.h"

namespace gb::probes {

namespace {

// --hook idle: wants nothing (the price of asking); --hook capture: every residual (resid.pre/mid/post)
// and attention probabilities, copied out as a probe would.
struct bench_hook : engine::hook {
  bool capture = false;
  std::vector<float> sink;
  double checksum = 0;
  bool wants(std::string_view n) override {
    return capture &&
           (n.find("resid.") != std::string_view::npos || n.find("attn.probs") != std::string_view::npos);
  }
  bool observe(std::string_view, engine::activation_view a) override {
    const size_t n = static_cast<size_t>(a.size());
    sink.assign(a.data, a.data + n);
    checksum += static_cast<double>(sink[n / 2]);
    return true;
  }
};

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// One test: `reps` timed runs after a warm-up; batch: all n tokens in one forward, else one at a time.
result<bench_test> bench_one(engine::runner& run, const char* name, int n, bool batch, int reps,
                             engine::hook* h, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(run.vocab_size() - 1));
  bench_test t{std::string(name) + std::to_string(n), n, {}, 0, 0};
  for (int r = 0; r <= reps; ++r) {                     // r == 0 is the warm-up
    std::vector<int32_t> toks(static_cast<size_t>(n));  // (n) random token ids
    for (int32_t& id : toks) id = pick(rng);
    run.reset();
    const double t0 = now();
    if (batch) {
      if (auto lg = run.forward_last(toks, h); !lg) return lg.err();
    } else {
      for (int32_t id : toks)
        if (auto lg = run.forward_last({id}, h); !lg) return lg.err();
    }
    const double dt = now() - t0;
    if (r > 0) t.tokens_per_second.push_back(n / dt);
  }
  t.mean = mean(t.tokens_per_second);
  t.sd = t.tokens_per_second.size() > 1 ? stddev(t.tokens_per_second) : 0.0;
  return t;
}

}  // namespace

result<std::vector<bench_test>> bench_run(engine::runner& run, const bench_options& o) {
  bench_hook hk;
  hk.capture = o.hook == "capture";
  engine::hook* h = o.hook == "none" ? nullptr : &hk;
  std::mt19937 rng(1234);
  std::vector<bench_test> tests;
  struct test_spec {
    const char* name;
    int n;
    bool batch;  // pp: the n tokens in one forward; tg: one at a time
  };
  for (const test_spec& t : {test_spec{"pp", o.prompt_tokens, true}, test_spec{"tg", o.gen_tokens, false}}) {
    if (t.n == 0) continue;
    auto r = bench_one(run, t.name, t.n, t.batch, o.repetitions, h, rng);
    if (!r) return r.err();
    tests.push_back(std::move(r).value());
  }
  return tests;
}

double bench_peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

}  // namespace gb::probes
