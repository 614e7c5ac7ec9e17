// glassbox patch: activation patching. Which components (residual per layer and position, attention and
// MLP outputs per layer, heads) carry the difference between a clean and a corrupted prompt?
//
//   glassbox patch stories260K.gguf --clean "Once upon a time" --corrupt "Once upon a day" -o out/
//                  --metric logit-diff:432,there     # tokens by id or text (exact piece, "▁"+text, one
//                  token)
#include <boost/program_options.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "probes/patching.h"
#include "probes/session.h"
#include "viz/report_patch.h"
#include "viz/report_trace.h"

namespace po = boost::program_options;

namespace {

struct patch_args {
  std::string model_path, tok_path, clean, corrupt, metric, out_dir, only;
  int threads = 0;
  bool as_json = false, no_bos = false;
};

po::options_description patch_option_table(patch_args& a) {
  po::options_description desc(
      "glassbox patch MODEL --clean TEXT --corrupt TEXT --metric logit-diff:TOKA,TOKB [--tokenizer F] [-o "
      "DIR] [--json]\n"
      "Restored = (patched - corrupt) / (clean - corrupt) of logit(TOKA) - logit(TOKB) at the last "
      "position.\n"
      "Tokens are given by id or text; both prompts must tokenize to the same length.");
  desc.add_options()("help,h", "show options")("model", po::value(&a.model_path), "model file or folder")(
      "tokenizer", po::value(&a.tok_path), "tokenizer file when the model carries none")(
      "clean", po::value(&a.clean), "clean prompt")(
      "corrupt", po::value(&a.corrupt), "corrupted prompt (same token count)")("metric", po::value(&a.metric),
                                                                               "logit-diff:TOKA,TOKB")(
      "components", po::value(&a.only)->default_value("resid,attn,mlp,heads"), "which components to patch")(
      "no-bos", po::bool_switch(&a.no_bos), "do not add BOS")(
      "threads", po::value(&a.threads)->default_value(0), "threads (0 = all cores)")(
      "json", po::bool_switch(&a.as_json), "print one JSON document")(
      "output,o", po::value(&a.out_dir), "folder for SVG charts, patch.txt and index.html");
  return desc;
}

// --components resid,attn,mlp,heads
gb::probes::patch_options patch_components(const std::string& only) {
  gb::probes::patch_options o;
  o.resid = only.find("resid") != std::string::npos;
  o.attn = only.find("attn") != std::string::npos;
  o.mlp = only.find("mlp") != std::string::npos;
  o.heads = only.find("head") != std::string::npos;
  return o;
}

// The prompts' ids and the metric's two tokens (TOKA, TOKB: the texts after "logit-diff:"); exit 2 when a
// token is not one token of the vocabulary or the prompts' lengths differ.
gb::viz::patch_prompts patch_prompts_make(const patch_args& a, const gb::probes::session& S,
                                          const std::string& ta, const std::string& tb) {
  const gb::engine::tokenizer& tok = *S.tok;
  gb::viz::patch_prompts p{{}, {}, {}, [&tok](int32_t id) { return tok.token_piece(id); }};
  const auto ia = gb::probes::patch_token(tok, ta, S.run->vocab_size());
  const auto ib = gb::probes::patch_token(tok, tb, S.run->vocab_size());
  if (!ia || !ib)
    throw gb::cli::exit_now{gb::cli::fail_message(
        gb::cli::exit_usage, "metric token '" + (!ia ? ta : tb) + "' is not one token of the vocabulary")};
  p.metric = {*ia, *ib};
  p.clean = tok.encode(a.clean, !a.no_bos);
  p.corrupt = tok.encode(a.corrupt, !a.no_bos);
  if (p.clean.size() != p.corrupt.size())
    throw gb::cli::exit_now{gb::cli::fail_message(
        gb::cli::exit_usage, "clean and corrupt prompts tokenize to " + std::to_string(p.clean.size()) +
                                 " and " + std::to_string(p.corrupt.size()) + " tokens; they must be equal")};
  return p;
}

int run_patch(int argc, char** argv) {
  patch_args args;
  po::options_description desc = patch_option_table(args);
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc);
  const std::string pre = "logit-diff:";
  const size_t comma = args.metric.find(',', pre.size());
  if (args.model_path.empty()) return gb::cli::missing_positional("MODEL");
  if (!vm.count("clean") || !vm.count("corrupt"))
    return gb::cli::missing_positional("--clean TEXT and --corrupt TEXT");
  if (args.metric.rfind(pre, 0) != 0 || comma == std::string::npos)
    return gb::cli::usage_error("patch", "--metric must be logit-diff:TOKA,TOKB");
  gb::cli::check_output_dir("output", args.out_dir);
  gb::engine::run_options ro;
  ro.threads = args.threads;
  auto s = gb::probes::session_open_runnable(args.model_path, args.tok_path, ro);
  if (!s) return gb::cli::report_error(s.err());
  const gb::viz::patch_prompts p = patch_prompts_make(
      args, s.value(), args.metric.substr(pre.size(), comma - pre.size()), args.metric.substr(comma + 1));
  auto r = gb::probes::patch_run(*s.value().run, p.clean, p.corrupt, p.metric, patch_components(args.only));
  if (!r) return gb::cli::report_error(r.err());
  const std::vector<std::string> labels = gb::viz::patch_labels(p);
  const std::string text = gb::viz::patch_text(r.value(), labels);
  if (!args.out_dir.empty())
    gb::viz::charts_folder_write(args.out_dir, "glassbox patch", gb::viz::patch_charts(r.value(), labels),
                                 "patch.txt", text);
  if (args.as_json)
    gb::cli::print_json_text(gb::viz::patch_json(r.value(), p, args.model_path));
  else
    std::printf("%s%s", gb::viz::patch_metric_line(p).c_str(), text.c_str());
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("patch",
           "activation patching: which layers, heads and positions restore a clean prompt's logit difference",
           run_patch);
