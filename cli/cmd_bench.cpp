// glassbox bench: forward-pass throughput like llama-bench: prompt processing (pp: one batch of N
// tokens from an empty cache) and generation (tg: N tokens one at a time), repeated, mean and spread.
//
//   glassbox bench model.gguf --prompt-tokens 512 --gen-tokens 128 --threads 2 --repetitions 3 --json
//
// The measurement is probes/bench_run.h, the rendering viz/report_bench.h.
#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/option_lists.h"
#include "cli/options.h"
#include "probes/bench_run.h"
#include "probes/session.h"
#include "viz/report_bench.h"

namespace po = boost::program_options;

namespace {

struct bench_args {
  std::string model_path, gelu = "exact", numerics = "exact", table_format;
  gb::probes::bench_options o;
  int threads = 0;
  bool as_json = false;
};

po::options_description bench_option_table(bench_args& a) {
  po::options_description desc("glassbox bench MODEL [-p 512] [-n 128] [-t N] [--json]");
  desc.add_options()("help,h", "show options")("model", po::value(&a.model_path), "model file or folder")(
      "prompt-tokens,p", po::value(&a.o.prompt_tokens)->default_value(512),
      "prompt processing batch (0 = skip)")("tokens,n", po::value(&a.o.gen_tokens)->default_value(128),
                                            "tokens generated one at a time (0 = skip)")(
      "threads,t", po::value(&a.threads)->default_value(0), "threads (0 = all cores)");
  gb::cli::engine_numerics_options(desc, a.gelu, a.numerics);
  desc.add_options()("repetitions,r", po::value(&a.o.repetitions)->default_value(3),
                     "timed runs of each test (after one warm-up)")(
      "hook", po::value(&a.o.hook)->default_value("none"),
      "none | idle (a hook that wants nothing) | capture (residuals + attention probs)")(
      "json", po::bool_switch(&a.as_json), "print one JSON document")(
      "format", po::value(&a.table_format),
      "print one table to paste elsewhere: table, md (Markdown) or csv");
  return desc;
}

int run_bench(int argc, char** argv) {
  bench_args a;
  po::options_description desc = bench_option_table(a);
  gb::cli::parse_command(argc, argv, desc);
  if (a.model_path.empty()) return gb::cli::missing_positional("MODEL");
  gb::cli::check_choice("hook", a.o.hook, {"none", "idle", "capture"});
  const auto format = gb::cli::table_format_option(a.table_format);
  gb::engine::run_options opt;
  opt.threads = a.threads;
  gb::cli::engine_numerics_apply(a.gelu, a.numerics, opt);
  opt.max_context = std::max(a.o.prompt_tokens, a.o.gen_tokens) + 1;
  const auto t_load = std::chrono::steady_clock::now();
  auto s = gb::probes::session_open(a.model_path, "", opt);
  if (!s) return gb::cli::report_error(s.err());
  if (!s.value().run)
    return gb::cli::report_error({gb::errc::unsupported, 0, s.value().run_error, a.model_path});
  gb::engine::runner& run = *s.value().run;
  gb::viz::bench_report r{
      a.model_path, a.o.hook, a.threads, a.o.repetitions, 0, 0, s.value().ar->tensor_bytes(), {}};
  r.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
  if (run.context_length() < std::max(a.o.prompt_tokens, a.o.gen_tokens))
    return gb::cli::report_error(
        {gb::errc::limit, 0,
         "the model's context (" + std::to_string(run.context_length()) + ") is shorter than the test",
         a.model_path});
  auto tests = gb::probes::bench_run(run, a.o);
  if (!tests) return gb::cli::report_error(tests.err());
  r.tests = std::move(tests).value();
  r.peak_rss_mib = gb::probes::bench_peak_rss_mib();
  if (a.as_json)
    gb::cli::print_json_text(gb::viz::bench_json(r));
  else if (format)
    std::printf("%s", gb::viz::table_render(gb::viz::bench_table(gb::viz::bench_rows(r)), *format).c_str());
  else
    std::printf("%s", gb::viz::bench_text(r).c_str());
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("bench", "forward-pass speed: prompt processing and generation tokens/s (like llama-bench)",
           run_bench);
