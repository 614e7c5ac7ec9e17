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
#include "cli/options.h"
#include "probes/npy.h"
#include "probes/session.h"
#include "probes/trace.h"
#include "viz/report_trace.h"

namespace po = boost::program_options;

namespace {

std::vector<std::string> split_list(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const std::string& s : in) {
    std::string cur;
    for (char c : s + ",") {
      if (c == ',' || c == ' ') {
        if (!cur.empty()) out.push_back(cur);
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
  }
  return out;
}

int run_trace(int argc, char** argv) {
  po::options_description desc(
      "glassbox trace MODEL --prompt TEXT | --prompts FILE [--tokenizer F] [--hooks NAMES|PATTERNS]\n"
      "                     [--export FILE.safetensors|DIR] [--json] [-o DIR]\n"
      "Definitions: mlp sparsity = fraction of mlp.pre values (after the activation) with |x| < "
      "--sparsity-eps;\n"
      "outlier = resid.post coordinate more than --outlier-sigma standard deviations from its row mean;\n"
      "sink = mean attention to the first token; prev = mean p[t][t-1]; diag = mean p[t][t]; entropy in "
      "nats");
  std::string model_path, tok_path, prompt, prompts_file, export_path, out_dir;
  std::vector<std::string> hooks_arg;
  int threads = 0, top_k = 5, top_neurons = 5;
  int64_t lens_positions = 0, max_prompts = 0, max_tokens = 0;
  double eps = 1e-2, sigma = 6.0;
  bool as_json = false, no_bos = false;
  desc.add_options()("help,h", "show options")("model", po::value(&model_path), "model file or folder")(
      "tokenizer", po::value(&tok_path), "tokenizer file when the model carries none")(
      "prompt", po::value(&prompt), "prompt text")("prompts", po::value(&prompts_file),
                                                   "file of prompts, one per line (aggregates)")(
      "hooks", po::value(&hooks_arg)->multitoken(),
      "hook names or globs (comma separated) to summarise/export, e.g. 'blk.*.resid.post'")(
      "export", po::value(&export_path),
      "write the selected hooks to FILE.safetensors or to a folder of .npy files")(
      "top-k", po::value(&top_k)->default_value(5), "logit-lens tokens per layer and position")(
      "top-neurons", po::value(&top_neurons)->default_value(5), "top MLP neurons per layer and position")(
      "lens-positions", po::value(&lens_positions)->default_value(0),
      "logit lens at the last N positions (0 = all that fit in 32 MB)")(
      "sparsity-eps", po::value(&eps)->default_value(1e-2), "|x| below this counts as inactive")(
      "outlier-sigma", po::value(&sigma)->default_value(6.0), "outlier threshold in standard deviations")(
      "limit", po::value(&max_prompts)->default_value(0), "stop after N prompts of --prompts (0 = all)")(
      "max-tokens", po::value(&max_tokens)->default_value(0),
      "keep only the first N tokens of a prompt (0 = the context length)")(
      "no-bos", po::bool_switch(&no_bos), "do not add BOS")("threads", po::value(&threads)->default_value(0),
                                                            "threads (0 = all cores)")(
      "json", po::bool_switch(&as_json), "print one JSON document")(
      "output,o", po::value(&out_dir), "folder for SVG charts, trace.txt and index.html");
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc);
  const bool one = vm.count("prompt") > 0, many = vm.count("prompts") > 0;
  if (model_path.empty()) return gb::cli::missing_positional("MODEL");
  if (one == many) return gb::cli::usage_error("trace", "give exactly one of --prompt or --prompts");
  if (many && vm.count("export"))
    return gb::cli::usage_error("trace", "--export needs --prompt (one prompt)");
  gb::cli::check_output_dir("output", out_dir);
  gb::engine::run_options ro;
  ro.threads = threads;
  auto s = gb::probes::session_open_runnable(model_path, tok_path, ro);
  if (!s) return gb::cli::report_error(s.err());
  gb::probes::session& S = s.value();
  const gb::model& m = *S.m;
  const gb::engine::tokenizer& tok = *S.tok;
  gb::viz::token_text piece = [&](int32_t id) { return tok.token_piece(id); };

  gb::probes::trace_options o;
  o.top_neurons = top_neurons, o.lens_top_k = top_k, o.lens_positions = lens_positions, o.sparsity_eps = eps,
  o.outlier_sigma = sigma;
  std::vector<std::string> patterns = split_list(hooks_arg);
  if (patterns.empty() && vm.count("export")) patterns.push_back("blk.*.resid.post");
  if (!patterns.empty()) {
    auto sel = gb::probes::hook_select(m, patterns);
    if (!sel) {
      std::fprintf(stderr, "glassbox trace: %s\n", sel.err().message.c_str());
      return gb::cli::exit_usage;
    }
    o.export_hooks = sel.value();
  }
  auto lens = gb::probes::logit_lens::create(m);
  if (!lens) std::fprintf(stderr, "glassbox trace: no logit lens: %s\n", lens.err().message.c_str());
  const gb::probes::logit_lens* lp = lens ? &lens.value() : nullptr;
  gb::probes::trace_input in{!no_bos, max_tokens};
  if (one) {
    std::vector<int32_t> ids = in.encode(tok, prompt, S.run->context_length());
    if (ids.empty())
      return gb::cli::report_error(
          {gb::errc::bad_value, 0, "empty prompt and the vocabulary has no BOS", model_path});
    std::unique_ptr<gb::probes::activation_writer> w;
    if (!export_path.empty()) {
      auto ow = gb::probes::activation_writer::open(export_path);
      if (!ow) return gb::cli::report_error(ow.err());
      w = std::move(ow).value();
    }
    auto r = gb::probes::trace_run(*S.run, ids, o, lp, w.get(), nullptr);
    if (!r) return gb::cli::report_error(r.err());
    if (w) {
      auto fin = w->finish();
      if (!fin) return gb::cli::report_error(fin.err());
    }
    const std::string text = gb::viz::trace_text(r.value(), piece);
    if (!out_dir.empty())
      gb::viz::charts_folder_write(out_dir, "glassbox trace", gb::viz::trace_charts(r.value(), piece),
                                   "trace.txt", text);
    if (as_json) {
      gb::cli::print_json_text(gb::viz::trace_json(r.value(), piece, model_path, w ? export_path : ""));
    } else {
      std::printf("%s", text.c_str());
      if (w) std::printf("exported %zu tensors to %s\n", r.value().exported.size(), export_path.c_str());
      for (const auto& h : r.value().selected)
        std::printf("hook %s mean %.6g std %.6g absmax %.6g\n", h.name.c_str(), h.mean, h.std, h.absmax);
    }
    return gb::cli::exit_ok;
  }

  // Many prompts: one pass, per-neuron/per-head running statistics; nothing per prompt is kept.
  gb::probes::trace_aggregate agg(m, eps);
  o.keep_patterns_max_t = 0;
  o.top_neurons = 0;
  o.max_outliers_per_layer = 0;
  auto done = gb::probes::trace_prompts_file(*S.run, tok, prompts_file, o, in, max_prompts, agg);
  if (!done) return gb::cli::report_error(done.err());
  const std::string text = gb::viz::aggregate_text(agg, top_neurons);
  if (!out_dir.empty())
    gb::viz::charts_folder_write(out_dir, "glassbox trace", gb::viz::aggregate_charts(agg), "trace.txt",
                                 text);
  if (as_json) {
    gb::cli::print_json_text(gb::viz::aggregate_json(agg, top_neurons, model_path, in.truncated));
  } else {
    std::printf("%s", text.c_str());
    if (in.truncated)
      std::printf("%lld prompts truncated to the context length\n", static_cast<long long>(in.truncated));
  }
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND(
    "trace",
    "activations of one forward pass: norms, attention heads, logit lens, export; aggregates over prompts",
    run_trace);
