// cli/run_options.cpp: the option table of `glassbox run` (see cli/run_options.h).
#include "cli/run_options.h"

#include "cli/option_lists.h"

namespace gb::cli {

namespace po = boost::program_options;

po::options_description run_options_desc(run_args& a) {
  po::options_description desc(
      "glassbox run MODEL [--tokenizer F] [--prompt TEXT | --ids LIST] [--tokens N] [--top-k K] "
      "[--logprobs]\n"
      "                   [--perplexity FILE] [--threads N] [--json]");
  desc.add_options()("help,h", "show options")("model", po::value(&a.model_path), "model file or folder")(
      "tokenizer", po::value(&a.tok_path),
      "tokenizer file when the model carries none (tok512.bin, tokenizer.model)")(
      "prompt", po::value(&a.prompt), "prompt text (default: start from BOS)")(
      "ids", po::value(&a.ids_text), "prompt as token ids (\"1,403,407\"), no tokenizer needed")(
      "tokens", po::value(&a.n_tokens)->default_value(64), "tokens to generate greedily")(
      "top-k", po::value(&a.top_k)->default_value(0),
      "print the K most likely next tokens instead of generating")(
      "logprobs", po::bool_switch(&a.logprobs), "print log p(token | previous) for every prompt token")(
      "perplexity", po::value(&a.ppl_file), "perplexity of a text file (windows of the context length)")(
      "no-bos", po::bool_switch(&a.no_bos), "do not add BOS before the prompt")(
      "threads", po::value(&a.threads)->default_value(0), "threads (0 = all cores)");
  engine_numerics_options(desc, a.gelu, a.numerics);
  desc.add_options()("json", po::bool_switch(&a.as_json), "print one JSON document");
  return desc;
}

}  // namespace gb::cli
