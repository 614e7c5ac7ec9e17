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
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/option_lists.h"
#include "cli/options.h"
#include "cli/run_options.h"
#include "formats/file_text.h"
#include "probes/generate.h"
#include "probes/session.h"
#include "viz/report_run.h"

namespace po = boost::program_options;

namespace {

int run_print(const std::string& text, bool as_json) {
  if (as_json)
    gb::cli::print_json_text(text);
  else
    std::printf("%s", text.c_str());
  return gb::cli::exit_ok;
}

// The prompt's ids (BOS first unless --no-bos); an empty prompt is BOS alone, or nothing without a BOS.
std::vector<int32_t> prompt_ids(const gb::engine::tokenizer& tok, const std::string& prompt, bool no_bos) {
  std::vector<int32_t> ids = tok.encode(prompt, !no_bos);
  if (ids.empty() && tok.bos_id() >= 0) ids.push_back(tok.bos_id());
  return ids;
}

// --perplexity FILE
int run_file_perplexity(gb::engine::runner& run, const gb::engine::tokenizer& tok,
                        const gb::cli::run_args& a) {
  auto text = gb::capture(a.ppl_file, [&] { return gb::file_text(a.ppl_file); });
  if (!text) return gb::cli::report_error(text.err());
  const int32_t bos = !a.no_bos && tok.default_add_bos() ? tok.bos_id() : -1;
  auto ppl = gb::probes::perplexity(run, tok.encode(text.value(), false), bos);
  if (!ppl) return gb::cli::report_error({ppl.err().code, 0, ppl.err().message, a.ppl_file});
  return run_print(gb::viz::run_perplexity(ppl.value(), a.model_path, a.ppl_file, a.as_json), a.as_json);
}

// The prompt's --logprobs, --top-k, or its greedy continuation.
int run_prompt_ids(gb::engine::runner& run, const gb::engine::tokenizer* tok, const gb::cli::run_args& a,
                   const gb::viz::run_prompt& p) {
  if (a.logprobs) {
    auto lp = run.token_logprobs(p.ids, 1);
    if (!lp) return gb::cli::report_error(lp.err());
    return run_print(gb::viz::run_logprobs(p, lp.value(), a.as_json), a.as_json);
  }
  if (a.top_k > 0) {
    auto lg = run.forward_last(p.ids);
    if (!lg) return gb::cli::report_error(lg.err());
    return run_print(gb::viz::run_top_k(p, lg.value(), a.top_k, a.as_json), a.as_json);
  }
  auto gen =
      gb::probes::greedy_continue(run, p.ids, a.n_tokens, tok ? tok->eos_id() : -1, tok ? tok->bos_id() : -1);
  if (!gen) return gb::cli::report_error(gen.err());
  std::vector<int32_t> all = p.ids;
  all.insert(all.end(), gen.value().begin(), gen.value().end());
  const std::string text = tok ? tok->decode(all) : "";
  return run_print(gb::viz::run_continuation(p, gen.value(), text, tok != nullptr, a.as_json), a.as_json);
}

int run_run(int argc, char** argv) {
  gb::cli::run_args a;
  po::variables_map vm = gb::cli::parse_command(argc, argv, gb::cli::run_options_desc(a));
  if (a.model_path.empty()) return gb::cli::missing_positional("MODEL");
  gb::engine::run_options opt;
  opt.threads = a.threads;
  gb::cli::engine_numerics_apply(a.gelu, a.numerics, opt);
  const bool by_ids = vm.count("ids") > 0;
  if (vm.count("prompt") && by_ids)
    return gb::cli::usage_error("run", "--prompt and --ids exclude each other; give one");
  auto s = gb::probes::session_open(a.model_path, a.tok_path, opt);
  if (!s) return gb::cli::report_error(s.err());
  gb::probes::session& S = s.value();
  if (!S.run) return gb::cli::report_error({gb::errc::unsupported, 0, S.run_error, a.model_path});
  const gb::engine::tokenizer* tok = S.tok ? &*S.tok : nullptr;
  if (!tok && (!a.ppl_file.empty() || !by_ids))
    return gb::cli::report_error({gb::errc::unsupported, 0,
                                  "no tokenizer in these files (give --tokenizer FILE or --ids)" +
                                      (S.run_error.empty() ? std::string() : ": " + S.run_error),
                                  a.model_path});
  if (!a.ppl_file.empty()) return run_file_perplexity(*S.run, *tok, a);
  gb::viz::run_prompt p{a.model_path, {}, [&](int32_t id) {
                          return tok ? tok->token_piece(id) : "<" + std::to_string(id) + ">";
                        }};
  if (by_ids && (!gb::cli::parse_ids(a.ids_text, p.ids) || p.ids.empty()))
    return gb::cli::fail_message(gb::cli::exit_usage,
                                 "--ids takes non-negative integers separated by commas or spaces");
  if (!by_ids) p.ids = prompt_ids(*tok, a.prompt, a.no_bos);
  if (p.ids.empty())
    return gb::cli::report_error(
        {gb::errc::bad_value, 0, "empty prompt and the vocabulary has no BOS", a.model_path});
  return run_prompt_ids(*S.run, tok, a, p);
}

}  // namespace

GB_COMMAND("run", "run the model: greedy text, top-k next tokens, log-probabilities, perplexity", run_run);
