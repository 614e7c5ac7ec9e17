// glassbox patch: activation patching. Which components (residual per layer and position, attention and
// MLP outputs per layer, heads) carry the difference between a clean and a corrupted prompt?
//
//   glassbox patch stories260K.gguf --clean "Once upon a time" --corrupt "Once upon a day" -o out/
//                  --metric logit-diff:432,there     # tokens by id or text (exact piece, "▁"+text, one
//                  token)
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "probes/patching.h"
#include "probes/session.h"
#include "viz/report_trace.h"

namespace po = boost::program_options;
using json = nlohmann::ordered_json;

namespace {

// A token by id (all digits) or by text.
std::optional<int32_t> resolve_token(const gb::engine::tokenizer& tok, const std::string& s, int64_t V) {
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() < 10) {
    const long long id = std::stoll(s);
    if (id < V) return static_cast<int32_t>(id);
    return std::nullopt;
  }
  if (auto t = tok.find(s)) return t;
  if (auto t = tok.find("\xe2\x96\x81" + s)) return t;  // SentencePiece word-start form
  if (auto t = tok.find("\xc4\xa0" + s)) return t;      // GPT-2 byte-level space
  const std::vector<int32_t> ids = tok.encode(s, false);
  if (ids.size() == 1) return ids[0];
  return std::nullopt;
}

int run_patch(int argc, char** argv) {
  po::options_description desc(
      "glassbox patch MODEL --clean TEXT --corrupt TEXT --metric logit-diff:TOKA,TOKB [--tokenizer F] [-o "
      "DIR] [--json]\n"
      "Restored = (patched - corrupt) / (clean - corrupt) of logit(TOKA) - logit(TOKB) at the last "
      "position.\n"
      "Tokens are given by id or text; both prompts must tokenize to the same length.");
  std::string model_path, tok_path, clean, corrupt, metric, out_dir, only;
  int threads = 0;
  bool as_json = false, no_bos = false;
  desc.add_options()("help,h", "show options")("model", po::value(&model_path), "model file or folder")(
      "tokenizer", po::value(&tok_path), "tokenizer file when the model carries none")(
      "clean", po::value(&clean), "clean prompt")(
      "corrupt", po::value(&corrupt), "corrupted prompt (same token count)")("metric", po::value(&metric),
                                                                             "logit-diff:TOKA,TOKB")(
      "components", po::value(&only)->default_value("resid,attn,mlp,heads"), "which components to patch")(
      "no-bos", po::bool_switch(&no_bos), "do not add BOS")("threads", po::value(&threads)->default_value(0),
                                                            "threads (0 = all cores)")(
      "json", po::bool_switch(&as_json), "print one JSON document")(
      "output,o", po::value(&out_dir), "folder for SVG charts, patch.txt and index.html");
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc);
  const std::string pre = "logit-diff:";
  const size_t comma = metric.find(',', pre.size());
  if (model_path.empty()) return gb::cli::missing_positional("MODEL");
  if (!vm.count("clean") || !vm.count("corrupt"))
    return gb::cli::missing_positional("--clean TEXT and --corrupt TEXT");
  if (metric.rfind(pre, 0) != 0 || comma == std::string::npos)
    return gb::cli::usage_error("patch", "--metric must be logit-diff:TOKA,TOKB");
  gb::cli::check_output_dir("output", out_dir);
  gb::probes::patch_options po_;
  po_.resid = only.find("resid") != std::string::npos, po_.attn = only.find("attn") != std::string::npos;
  po_.mlp = only.find("mlp") != std::string::npos, po_.heads = only.find("head") != std::string::npos;
  gb::engine::run_options ro;
  ro.threads = threads;
  auto s = gb::probes::session_open_runnable(model_path, tok_path, ro);
  if (!s) return gb::cli::report_error(s.err());
  gb::probes::session& S = s.value();
  const gb::engine::tokenizer& tok = *S.tok;
  const std::string ta = metric.substr(pre.size(), comma - pre.size()), tb = metric.substr(comma + 1);
  const auto a = resolve_token(tok, ta, S.run->vocab_size()), b = resolve_token(tok, tb, S.run->vocab_size());
  if (!a || !b) {
    std::fprintf(stderr, "glassbox patch: metric token '%s' is not one token of the vocabulary\n",
                 (!a ? ta : tb).c_str());
    return gb::cli::exit_usage;
  }
  const std::vector<int32_t> ci = tok.encode(clean, !no_bos), xi = tok.encode(corrupt, !no_bos);
  if (ci.size() != xi.size()) {
    std::fprintf(
        stderr,
        "glassbox patch: clean and corrupt prompts tokenize to %zu and %zu tokens; they must be equal\n",
        ci.size(), xi.size());
    return gb::cli::exit_usage;
  }
  auto r = gb::probes::patch_run(*S.run, ci, xi, {*a, *b}, po_);
  if (!r) return gb::cli::report_error(r.err());
  const gb::probes::patch_result& P = r.value();
  std::vector<std::string> labels;
  for (size_t i = 0; i < ci.size(); ++i) {
    std::string l = std::to_string(i) + ":" + tok.token_piece(ci[i]);
    if (xi[i] != ci[i]) l += "/" + tok.token_piece(xi[i]);
    labels.push_back(l);
  }
  const std::string text = gb::viz::patch_text(P, labels);
  if (!out_dir.empty())
    gb::viz::charts_folder_write(out_dir, "glassbox patch", gb::viz::patch_charts(P, labels), "patch.txt",
                                 text);
  if (as_json) {
    json j;
    j["model"] = model_path;
    j["metric"] = {{"kind", "logit-diff"},
                   {"a", {{"id", *a}, {"piece", tok.token_piece(*a)}}},
                   {"b", {{"id", *b}, {"piece", tok.token_piece(*b)}}}};
    j["clean_ids"] = ci, j["corrupt_ids"] = xi;
    j["clean"] = P.clean, j["corrupt"] = P.corrupt;
    json comps = json::array();
    for (const auto& c : P.components) {
      json e = {{"kind", c.kind}, {"layer", c.layer}};
      if (c.head >= 0) e["head"] = c.head;
      if (c.position >= 0) e["position"] = c.position;
      e["metric"] = c.metric, e["restored"] = c.restored;
      comps.push_back(e);
    }
    j["components"] = comps;
    gb::cli::print_json(j);
  } else {
    std::printf("metric logit(%d '%s') - logit(%d '%s')\n%s", *a, tok.token_piece(*a).c_str(), *b,
                tok.token_piece(*b).c_str(), text.c_str());
  }
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("patch",
           "activation patching: which layers, heads and positions restore a clean prompt's logit difference",
           run_patch);
