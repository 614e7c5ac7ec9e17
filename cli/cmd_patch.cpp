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
  gb::probes::patch_options po_;
  po_.resid = args.only.find("resid") != std::string::npos;
  po_.attn = args.only.find("attn") != std::string::npos;
  po_.mlp = args.only.find("mlp") != std::string::npos;
  po_.heads = args.only.find("head") != std::string::npos;
  gb::engine::run_options ro;
  ro.threads = args.threads;
  auto s = gb::probes::session_open_runnable(args.model_path, args.tok_path, ro);
  if (!s) return gb::cli::report_error(s.err());
  gb::probes::session& S = s.value();
  const gb::engine::tokenizer& tok = *S.tok;
  const std::string ta = args.metric.substr(pre.size(), comma - pre.size()),
                    tb = args.metric.substr(comma + 1);
  gb::viz::patch_prompts p{{}, {}, {}, [&](int32_t id) { return tok.token_piece(id); }};
  const auto a = gb::probes::patch_token(tok, ta, S.run->vocab_size());
  const auto b = gb::probes::patch_token(tok, tb, S.run->vocab_size());
  if (!a || !b)
    return gb::cli::fail_message(gb::cli::exit_usage,
                                 "metric token '" + (!a ? ta : tb) + "' is not one token of the vocabulary");
  p.metric = {*a, *b};
  p.clean = tok.encode(args.clean, !args.no_bos);
  p.corrupt = tok.encode(args.corrupt, !args.no_bos);
  if (p.clean.size() != p.corrupt.size())
    return gb::cli::fail_message(
        gb::cli::exit_usage, "clean and corrupt prompts tokenize to " + std::to_string(p.clean.size()) +
                                 " and " + std::to_string(p.corrupt.size()) + " tokens; they must be equal");
  auto r = gb::probes::patch_run(*S.run, p.clean, p.corrupt, p.metric, po_);
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
