// glassbox bench: forward-pass throughput like llama-bench: prompt processing (pp: one batch of N
// tokens from an empty cache) and generation (tg: N tokens one at a time), repeated, mean and spread.
//
//   glassbox bench model.gguf --prompt-tokens 512 --gen-tokens 128 --threads 2 --repetitions 3 --json
#include <sys/resource.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "probes/session.h"
#include "viz/result_tables.h"

namespace po = boost::program_options;
using json = nlohmann::ordered_json;

namespace {

struct stats {
  double mean = 0, sd = 0;
};
stats summarise(const std::vector<double>& v) {
  stats s;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(s.sd / static_cast<double>(v.size() - 1)) : 0.0;
  return s;
}

// --hook idle: wants nothing (the price of asking); --hook capture: every residual (resid.pre/mid/post)
// and attention probabilities, copied out as a probe would.
struct bench_hook : gb::engine::hook {
  bool capture = false;
  std::vector<float> sink;
  double checksum = 0;
  bool wants(std::string_view n) override {
    return capture &&
           (n.find("resid.") != std::string_view::npos || n.find("attn.probs") != std::string_view::npos);
  }
  bool observe(std::string_view, gb::engine::activation_view a) override {
    const size_t n = static_cast<size_t>(a.size());
    sink.assign(a.data, a.data + n);
    checksum += static_cast<double>(sink[n / 2]);
    return true;
  }
};

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int run_bench(int argc, char** argv) {
  po::options_description desc("glassbox bench MODEL [-p 512] [-n 128] [-t N] [--json]");
  std::string model_path, hook_mode = "none", gelu = "exact", numerics = "exact";
  int pp = 512, tg = 128, threads = 0, reps = 3;
  bool as_json = false;
  std::string table_format;
  desc.add_options()("help,h", "show options")("model", po::value(&model_path), "model file or folder")(
      "prompt-tokens,p", po::value(&pp)->default_value(512), "prompt processing batch (0 = skip)")(
      "tokens,n", po::value(&tg)->default_value(128), "tokens generated one at a time (0 = skip)")(
      "threads,t", po::value(&threads)->default_value(0), "threads (0 = all cores)")(
      "gelu", po::value(&gelu)->default_value("exact"),
      "exact | ggml (reproduce llama.cpp's arithmetic: f16-table GELU)")(
      "numerics", po::value(&numerics)->default_value("exact"),
      "exact | llama.cpp (block-quantized weights: 8-bit activations and integer dots, as llama.cpp's CPU "
      "backend)")("repetitions,r", po::value(&reps)->default_value(3),
                  "timed runs of each test (after one warm-up)")(
      "hook", po::value(&hook_mode)->default_value("none"),
      "none | idle (a hook that wants nothing) | capture (residuals + attention probs)")(
      "json", po::bool_switch(&as_json), "print one JSON document")(
      "format", po::value(&table_format), "print one table to paste elsewhere: table, md (Markdown) or csv");
  gb::cli::parse_command(argc, argv, desc);
  if (model_path.empty()) return gb::cli::missing_positional("MODEL");
  gb::cli::check_choice("hook", hook_mode, {"none", "idle", "capture"});
  gb::cli::check_choice("gelu", gelu, {"exact", "ggml"});
  gb::cli::check_choice("numerics", numerics, {"exact", "llama.cpp"});
  const auto format = gb::viz::table_format_parse(table_format);
  if (!table_format.empty() && !format)
    return gb::cli::usage_error("bench", std::string("--format must be ") + gb::viz::k_table_formats);
  const bool plain = !as_json && !format;
  std::vector<gb::viz::bench_result> rows;
  gb::engine::run_options opt;
  opt.threads = threads;
  if (gelu == "ggml") opt.gelu = gb::engine::gelu_mode::ggml_f16_table;
  if (numerics == "llama.cpp") opt.numerics = gb::engine::numerics_mode::llamacpp;
  opt.max_context = std::max(pp, tg) + 1;
  const double t_load = now();
  auto s = gb::probes::session_open(model_path, "", opt);
  if (!s) return gb::cli::report_error(s.err());
  if (!s.value().run)
    return gb::cli::report_error({gb::errc::unsupported, 0, s.value().run_error, model_path});
  gb::engine::runner& run = *s.value().run;
  const double load_s = now() - t_load;
  if (run.context_length() < std::max(pp, tg))
    return gb::cli::report_error(
        {gb::errc::limit, 0,
         "the model's context (" + std::to_string(run.context_length()) + ") is shorter than the test",
         model_path});
  bench_hook hk;
  hk.capture = hook_mode == "capture";
  gb::engine::hook* h = hook_mode == "none" ? nullptr : &hk;
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(run.vocab_size() - 1));
  json j;
  j["model"] = model_path;
  j["threads"] = threads;
  j["hook"] = hook_mode;
  j["repetitions"] = reps;
  j["load_seconds"] = load_s;
  json tests = json::array();
  auto bench = [&](const char* name, int n, bool batch) -> int {
    if (n == 0) return 0;
    std::vector<double> tps;
    for (int r = 0; r <= reps; ++r) {  // r == 0 is the warm-up
      std::vector<int32_t> toks(static_cast<size_t>(n));
      for (int32_t& t : toks) t = pick(rng);
      run.reset();
      const double t0 = now();
      if (batch) {
        auto lg = run.forward_last(toks, h);
        if (!lg) return gb::cli::report_error(lg.err());
      } else {
        for (int32_t t : toks) {
          auto lg = run.forward_last({t}, h);
          if (!lg) return gb::cli::report_error(lg.err());
        }
      }
      const double dt = now() - t0;
      if (r > 0) tps.push_back(n / dt);
    }
    stats st = summarise(tps);
    const std::string label = std::string(name) + std::to_string(n);
    tests.push_back(
        {{"test", label}, {"tokens", n}, {"tokens_per_second", st.mean}, {"stddev", st.sd}, {"runs", tps}});
    rows.push_back({model_path, hook_mode, label, threads, static_cast<int>(tps.size()), st.mean, st.sd});
    if (plain) std::printf("%-8s %10.2f ± %.2f tokens/s\n", label.c_str(), st.mean, st.sd);
    return 0;
  };
  if (plain)
    std::printf("%s (threads %d, %d runs each, hook %s)\n", model_path.c_str(), threads, reps,
                hook_mode.c_str());
  if (int rc = bench("pp", pp, true)) return rc;
  if (int rc = bench("tg", tg, false)) return rc;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double rss_mib = static_cast<double>(ru.ru_maxrss) / 1024.0;
  j["tests"] = tests;
  j["weight_bytes"] = s.value().ar->tensor_bytes();
  j["peak_rss_mib"] = rss_mib;
  if (as_json)
    gb::cli::print_json(j);
  else if (format)
    std::printf("%s", gb::viz::table_render(gb::viz::bench_table(rows), *format).c_str());
  else
    std::printf("peak RSS %.1f MiB (weights %.1f MiB)\n", rss_mib,
                static_cast<double>(s.value().ar->tensor_bytes()) / 1048576.0);
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("bench", "forward-pass speed: prompt processing and generation tokens/s (like llama-bench)",
           run_bench);
