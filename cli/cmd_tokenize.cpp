// glassbox tokenize: text -> token ids with the model's own tokenizer (llama.cpp-exact).
//
//   glassbox tokenize model.gguf --text "Once upon a time"          # 1 403 407 261 378
//   glassbox tokenize stories260K.bin --tokenizer tok512.bin --text "hi" --json
//   glassbox tokenize model.gguf --ids 1,403,407 --no-bos            # decode instead
#include <boost/program_options.hpp>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "probes/engine/tokenizer.h"
#include "probes/session.h"
#include "viz/report_tokenize.h"

namespace po = boost::program_options;

namespace {

struct tokenize_args {
  std::string model_path, tok_path, text, ids_text;
  bool no_bos = false, bos = false, special = false, as_json = false, show_pieces = false;
};

po::options_description tokenize_option_table(tokenize_args& a) {
  po::options_description desc("glassbox tokenize MODEL (--text STR | --ids LIST) [options]");
  desc.add_options()("help,h", "show options")("model", po::value(&a.model_path), "model file or folder")(
      "tokenizer", po::value(&a.tok_path),
      "take the tokenizer from this file instead (tok512.bin, tokenizer.model, ...)")(
      "text", po::value(&a.text), "text to tokenize")("ids", po::value(&a.ids_text),
                                                      "token ids to decode (\"1,403 407\")")(
      "no-bos", po::bool_switch(&a.no_bos), "do not add BOS/EOS (special tokens around the text)")(
      "bos", po::bool_switch(&a.bos), "add BOS even when the model does not by default")(
      "special", po::bool_switch(&a.special),
      "parse control tokens written in the text (\"<s>\", \"<|endoftext|>\")")(
      "pieces", po::bool_switch(&a.show_pieces),
      "one token a line: id -> 'piece' (the text it stands for, quoted and escaped)")(
      "json", po::bool_switch(&a.as_json), "print one JSON document (ids and pieces)");
  return desc;
}

// --ids as numbers, each inside the vocabulary (exit 2 when not numbers, 3 when outside).
std::vector<int32_t> tokenize_ids_parse(const std::string& text, const gb::engine::tokenizer& tk,
                                        const std::string& source) {
  std::vector<int32_t> ids;
  if (!gb::cli::parse_ids(text, ids, INT32_MIN)) {
    std::fprintf(stderr, "glassbox: --ids takes integers separated by commas or spaces\n");
    throw gb::cli::exit_now{gb::cli::exit_usage};
  }
  for (const int32_t id : ids)
    if (id < 0 || id >= tk.size())
      throw gb::cli::exit_now{gb::cli::report_error(
          {gb::errc::out_of_bounds, 0,
           "token id " + std::to_string(id) + " outside the vocabulary of " + std::to_string(tk.size()),
           source})};
  return ids;
}

int run_tokenize(int argc, char** argv) {
  tokenize_args args;
  po::options_description desc = tokenize_option_table(args);
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc);
  const bool decode = vm.count("ids") > 0;
  if (args.model_path.empty() && args.tok_path.empty()) return gb::cli::missing_positional("MODEL");
  if (decode == (vm.count("text") > 0))
    return gb::cli::usage_error("tokenize", "give exactly one of --text or --ids");
  const std::string source = args.tok_path.empty() ? args.model_path : args.tok_path;
  auto t = gb::probes::tokenizer_open(source);
  if (!t) return gb::cli::report_error(t.err());
  const gb::engine::tokenizer& tk = t.value();
  const std::vector<int32_t> ids =
      decode ? tokenize_ids_parse(args.ids_text, tk, source)
             : tk.encode(args.text, args.bos || (!args.no_bos && tk.default_add_bos()), args.special);
  if (args.as_json)
    gb::cli::print_json_text(gb::viz::tokenize_json(tk, ids, source, decode ? tk.decode(ids) : args.text));
  else
    std::fputs(gb::viz::tokenize_text(tk, ids,
                                      decode             ? gb::viz::tokenize_view::decoded
                                      : args.show_pieces ? gb::viz::tokenize_view::pieces
                                                         : gb::viz::tokenize_view::ids)
                   .c_str(),
               stdout);
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("tokenize", "text -> token ids (or --ids back to text) with the model's own tokenizer",
           run_tokenize);
