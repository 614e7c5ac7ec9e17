// glassbox run: run the model's own files on the CPU: greedy continuation (default), the top-k next
// tokens, per-token log-probabilities of a text, or the perplexity of a file.
//
//   glassbox run stories260K.gguf --tokens 200                       # greedy from BOS, printed as text
//   glassbox run stories260K.bin --tokenizer tok512.bin --prompt "Once upon a time" --top-k 5
//   glassbox run model.gguf --prompt "The cat sat" --logprobs --json
//   glassbox run model.gguf --perplexity wiki.txt
//   glassbox run gpt2.gguf --ids 1,5,9 --top-k 5 --gelu ggml          # llama.cpp's GELU arithmetic (parity)
#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "probes/generate.h"
#include "probes/logit_lens.h"
#include "probes/session.h"

namespace po = boost::program_options;
using json = nlohmann::ordered_json;

namespace {

int run_run(int argc, char** argv) {
  po::options_description desc(
      "glassbox run MODEL [--tokenizer F] [--prompt TEXT | --ids LIST] [--tokens N] [--top-k K] "
      "[--logprobs]\n"
      "                   [--perplexity FILE] [--threads N] [--json]");
  std::string model_path, tok_path, prompt, ids_text, ppl_file;
  int n_tokens = 64, top_k = 0, threads = 0;
  std::string gelu = "exact", numerics = "exact";
  bool logprobs = false, as_json = false, no_bos = false;
  desc.add_options()("help,h", "show options")("model", po::value(&model_path), "model file or folder")(
      "tokenizer", po::value(&tok_path),
      "tokenizer file when the model carries none (tok512.bin, tokenizer.model)")(
      "prompt", po::value(&prompt), "prompt text (default: start from BOS)")(
      "ids", po::value(&ids_text), "prompt as token ids (\"1,403,407\"), no tokenizer needed")(
      "tokens", po::value(&n_tokens)->default_value(64), "tokens to generate greedily")(
      "top-k", po::value(&top_k)->default_value(0),
      "print the K most likely next tokens instead of generating")(
      "logprobs", po::bool_switch(&logprobs), "print log p(token | previous) for every prompt token")(
      "perplexity", po::value(&ppl_file), "perplexity of a text file (windows of the context length)")(
      "no-bos", po::bool_switch(&no_bos), "do not add BOS before the prompt")(
      "threads", po::value(&threads)->default_value(0), "threads (0 = all cores)")(
      "gelu", po::value(&gelu)->default_value("exact"),
      "exact | ggml (reproduce llama.cpp's arithmetic: f16-table GELU)")(
      "numerics", po::value(&numerics)->default_value("exact"),
      "exact | llama.cpp (block-quantized weights: 8-bit activations and integer dots, as llama.cpp's CPU "
      "backend)")("json", po::bool_switch(&as_json), "print one JSON document");
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc);
  if (model_path.empty()) return gb::cli::missing_positional("MODEL");
  gb::cli::check_choice("gelu", gelu, {"exact", "ggml"});
  gb::cli::check_choice("numerics", numerics, {"exact", "llama.cpp"});
  if (vm.count("prompt") && vm.count("ids"))
    return gb::cli::usage_error("run", "--prompt and --ids exclude each other; give one");
  gb::engine::run_options opt;
  opt.threads = threads;
  if (gelu == "ggml") opt.gelu = gb::engine::gelu_mode::ggml_f16_table;
  if (numerics == "llama.cpp") opt.numerics = gb::engine::numerics_mode::llamacpp;
  auto s = gb::probes::session_open(model_path, tok_path, opt);
  if (!s) return gb::cli::report_error(s.err());
  gb::probes::session& S = s.value();
  if (!S.run) return gb::cli::report_error({gb::errc::unsupported, 0, S.run_error, model_path});
  gb::engine::runner& run = *S.run;
  const gb::engine::tokenizer* tok = S.tok ? &*S.tok : nullptr;
  auto need_tok = [&]() -> int {
    return gb::cli::report_error({gb::errc::unsupported, 0,
                                  "no tokenizer in these files (give --tokenizer FILE or --ids)" +
                                      (S.run_error.empty() ? std::string() : ": " + S.run_error),
                                  model_path});
  };
  auto piece = [&](int32_t id) { return tok ? tok->token_piece(id) : "<" + std::to_string(id) + ">"; };

  json j;
  j["model"] = model_path;
  // ---- perplexity ---------------------------------------------------------------------------------
  if (!ppl_file.empty()) {
    if (!tok) return need_tok();
    std::ifstream f(ppl_file, std::ios::binary);
    if (!f) return gb::cli::report_error({gb::errc::not_found, 0, "cannot read " + ppl_file, ppl_file});
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const int32_t bos = !no_bos && tok->default_add_bos() ? tok->bos_id() : -1;
    auto ppl = gb::probes::perplexity(run, tok->encode(text, false), bos);
    if (!ppl) return gb::cli::report_error({ppl.err().code, 0, ppl.err().message, ppl_file});
    const gb::probes::perplexity_result& P = ppl.value();
    if (as_json) {
      j["file"] = ppl_file, j["tokens_scored"] = P.tokens, j["mean_nll"] = P.mean_nll,
      j["perplexity"] = P.perplexity;
      gb::cli::print_json(j);
    } else {
      std::printf("perplexity %.4f over %zu tokens (mean NLL %.6f nats)\n", P.perplexity, P.tokens,
                  P.mean_nll);
    }
    return gb::cli::exit_ok;
  }

  // ---- the prompt -----------------------------------------------------------------------------------
  std::vector<int32_t> ids;
  if (vm.count("ids")) {
    if (!gb::cli::parse_ids(ids_text, ids) || ids.empty()) {
      std::fprintf(stderr, "glassbox run: --ids takes non-negative integers separated by commas or spaces\n");
      return gb::cli::exit_usage;
    }
  } else {
    if (!tok) return need_tok();
    ids = tok->encode(prompt, !no_bos);
    if (ids.empty() && tok->bos_id() < 0)
      return gb::cli::report_error(
          {gb::errc::bad_value, 0, "empty prompt and the vocabulary has no BOS", model_path});
    if (ids.empty()) ids.push_back(tok->bos_id());
  }
  j["prompt_ids"] = ids;

  if (logprobs) {
    auto lp = run.token_logprobs(ids, 1);
    if (!lp) return gb::cli::report_error(lp.err());
    json arr = json::array();
    double sum = 0;
    for (size_t i = 1; i < ids.size(); ++i) {
      const double v = lp.value()[i - 1];
      sum += v;
      arr.push_back({{"id", ids[i]}, {"piece", piece(ids[i])}, {"logprob", v}});
      if (!as_json) std::printf("%6d  %-20s %10.5f\n", ids[i], piece(ids[i]).c_str(), v);
    }
    if (as_json) {
      j["logprobs"] = arr, j["sum_logprob"] = sum;
      gb::cli::print_json(j);
    } else {
      std::printf("sum %.5f over %zu tokens\n", sum, ids.size() - 1);
    }
    return gb::cli::exit_ok;
  }

  if (top_k > 0) {
    auto lg = run.forward_last(ids);
    if (!lg) return gb::cli::report_error(lg.err());
    const std::vector<float>& v = lg.value();  // (V) logits of the last position
    json arr = json::array();
    for (const auto& [id, p] : gb::probes::top_k_probs(v.data(), static_cast<int64_t>(v.size()), top_k)) {
      arr.push_back({{"id", id}, {"piece", piece(id)}, {"prob", p}, {"logit", v[static_cast<size_t>(id)]}});
      if (!as_json) std::printf("%6d  %-20s %.6f\n", id, piece(id).c_str(), p);
    }
    if (as_json) {
      j["top_k"] = arr;
      gb::cli::print_json(j);
    }
    return gb::cli::exit_ok;
  }

  // ---- greedy continuation ------------------------------------------------------------------------------
  auto gen =
      gb::probes::greedy_continue(run, ids, n_tokens, tok ? tok->eos_id() : -1, tok ? tok->bos_id() : -1);
  if (!gen) return gb::cli::report_error(gen.err());
  const std::vector<int32_t>& out = gen.value();
  std::vector<int32_t> all = ids;
  all.insert(all.end(), out.begin(), out.end());
  const std::string text = tok ? tok->decode(all) : "";
  if (as_json) {
    j["generated_ids"] = out;
    if (tok) j["text"] = text;
    gb::cli::print_json(j);
  } else if (tok) {
    std::printf("%s\n", text.c_str());
  } else {
    for (size_t i = 0; i < out.size(); ++i) std::printf("%s%d", i ? " " : "", out[i]);
    std::printf("\n");
  }
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("run", "run the model: greedy text, top-k next tokens, log-probabilities, perplexity", run_run);
