// glassbox trace: one instrumented forward pass (or many prompts aggregated) summarised for
// interpretability: residual norms, attention statistics and patterns, MLP sparsity and top neurons,
// outlier dimensions, the logit lens; selected hook tensors exported to safetensors or .npy.
//
//   glassbox trace stories260K.gguf --prompt "Once upon a time" -o out/   # tables + SVG charts
//   glassbox trace m.gguf --prompt "..." --hooks 'blk.*.resid.post' --export acts.safetensors
//   glassbox trace m.gguf --prompts lines.txt --json                       # aggregates, bounded memory
#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/option_lists.h"
#include "cli/options.h"
#include "cli/trace_options.h"
#include "probes/npy.h"
#include "probes/session.h"
#include "probes/trace.h"
#include "viz/report_trace.h"

namespace po = boost::program_options;

namespace {

// --prompt: one pass, every summary, charts and the export.
int trace_one(gb::probes::session& S, gb::cli::trace_args& a, const gb::probes::logit_lens* lp) {
  const gb::viz::token_text piece = [&](int32_t id) { return S.tok->token_piece(id); };
  std::vector<int32_t> ids = a.in.encode(*S.tok, a.prompt, S.run->context_length());
  if (ids.empty())
    return gb::cli::report_error(
        {gb::errc::bad_value, 0, "empty prompt and the vocabulary has no BOS", a.model_path});
  auto r = gb::probes::trace_run_export(*S.run, ids, a.o, lp, a.export_path);
  if (!r) return gb::cli::report_error(r.err());
  const std::string text = gb::viz::trace_text(r.value(), piece);
  if (!a.out_dir.empty())
    gb::viz::charts_folder_write(a.out_dir, "glassbox trace", gb::viz::trace_charts(r.value(), piece),
                                 "trace.txt", text);
  if (a.as_json) {
    gb::cli::print_json_text(gb::viz::trace_json(r.value(), piece, a.model_path, a.export_path));
    return gb::cli::exit_ok;
  }
  std::printf("%s", text.c_str());
  if (!a.export_path.empty())
    std::printf("exported %zu tensors to %s\n", r.value().exported.size(), a.export_path.c_str());
  for (const auto& h : r.value().selected)
    std::printf("hook %s mean %.6g std %.6g absmax %.6g\n", h.name.c_str(), h.mean, h.std, h.absmax);
  return gb::cli::exit_ok;
}

// --prompts: one pass, per-neuron/per-head running statistics; nothing per prompt is kept.
int trace_many(gb::probes::session& S, gb::cli::trace_args& a) {
  gb::probes::trace_aggregate agg(*S.m, a.o.sparsity_eps);
  a.o.keep_patterns_max_t = 0, a.o.top_neurons = 0, a.o.max_outliers_per_layer = 0;
  auto done = gb::probes::trace_prompts_file(*S.run, *S.tok, a.prompts_file, a.o, a.in, a.max_prompts, agg);
  if (!done) return gb::cli::report_error(done.err());
  const std::string text = gb::viz::aggregate_text(agg, a.top_neurons);
  if (!a.out_dir.empty())
    gb::viz::charts_folder_write(a.out_dir, "glassbox trace", gb::viz::aggregate_charts(agg), "trace.txt",
                                 text);
  if (a.as_json) {
    gb::cli::print_json_text(gb::viz::aggregate_json(agg, a.top_neurons, a.model_path, a.in.truncated));
    return gb::cli::exit_ok;
  }
  std::printf("%s", text.c_str());
  if (a.in.truncated)
    std::printf("%lld prompts truncated to the context length\n", static_cast<long long>(a.in.truncated));
  return gb::cli::exit_ok;
}

int run_trace(int argc, char** argv) {
  gb::cli::trace_args a;
  po::variables_map vm = gb::cli::parse_command(argc, argv, gb::cli::trace_options_desc(a));
  const bool one = vm.count("prompt") > 0, many = vm.count("prompts") > 0;
  if (a.model_path.empty()) return gb::cli::missing_positional("MODEL");
  if (one == many) return gb::cli::usage_error("trace", "give exactly one of --prompt or --prompts");
  if (many && vm.count("export"))
    return gb::cli::usage_error("trace", "--export needs --prompt (one prompt)");
  gb::cli::check_output_dir("output", a.out_dir);
  gb::engine::run_options ro;
  ro.threads = a.threads;
  auto s = gb::probes::session_open_runnable(a.model_path, a.tok_path, ro);
  if (!s) return gb::cli::report_error(s.err());
  a.o.top_neurons = a.top_neurons;
  a.in.add_bos = !a.no_bos;
  std::vector<std::string> patterns = gb::cli::split_list(a.hooks);
  if (patterns.empty() && vm.count("export")) patterns.push_back("blk.*.resid.post");
  if (!patterns.empty()) {
    auto sel = gb::probes::hook_select(*s.value().m, patterns);
    if (!sel) return gb::cli::fail_message(gb::cli::exit_usage, sel.err().message);
    a.o.export_hooks = sel.value();
  }
  auto lens = gb::probes::logit_lens::create(*s.value().m);
  if (!lens) std::fprintf(stderr, "glassbox trace: no logit lens: %s\n", lens.err().message.c_str());
  return one ? trace_one(s.value(), a, lens ? &lens.value() : nullptr) : trace_many(s.value(), a);
}

}  // namespace

GB_COMMAND(
    "trace",
    "activations of one forward pass: norms, attention heads, logit lens, export; aggregates over prompts",
    run_trace);
