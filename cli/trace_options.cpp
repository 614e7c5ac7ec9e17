// cli/trace_options.cpp: the option table of `glassbox trace` (see cli/trace_options.h).
#include "cli/trace_options.h"

#include "cli/option_lists.h"

namespace gb::cli {

namespace po = boost::program_options;

po::options_description trace_options_desc(trace_args& a) {
  po::options_description desc(
      "glassbox trace MODEL --prompt TEXT | --prompts FILE [--tokenizer F] [--hooks NAMES|PATTERNS]\n"
      "                     [--export FILE.safetensors|DIR] [--json] [-o DIR]\n"
      "Definitions: mlp sparsity = fraction of mlp.pre values (after the activation) with |x| < "
      "--sparsity-eps;\n"
      "outlier = resid.post coordinate more than --outlier-sigma standard deviations from its row mean;\n"
      "sink = mean attention to the first token; prev = mean p[t][t-1]; diag = mean p[t][t]; entropy in "
      "nats");
  options_add(
      desc,
      {{"help,h", nullptr, "show options"},
       {"model", po::value(&a.model_path), "model file or folder"},
       {"tokenizer", po::value(&a.tok_path), "tokenizer file when the model carries none"},
       {"prompt", po::value(&a.prompt), "prompt text"},
       {"prompts", po::value(&a.prompts_file), "file of prompts, one per line (aggregates)"},
       {"hooks", po::value(&a.hooks)->multitoken(),
        "hook names or globs (comma separated) to summarise/export, e.g. 'blk.*.resid.post'"},
       {"export", po::value(&a.export_path),
        "write the selected hooks to FILE.safetensors or to a folder of .npy files"},
       {"top-k", po::value(&a.o.lens_top_k)->default_value(5), "logit-lens tokens per layer and position"},
       {"top-neurons", po::value(&a.top_neurons)->default_value(5), "top MLP neurons per layer and position"},
       {"lens-positions", po::value(&a.o.lens_positions)->default_value(0),
        "logit lens at the last N positions (0 = all that fit in 32 MB)"},
       {"sparsity-eps", po::value(&a.o.sparsity_eps)->default_value(1e-2),
        "|x| below this counts as inactive"},
       {"outlier-sigma", po::value(&a.o.outlier_sigma)->default_value(6.0),
        "outlier threshold in standard deviations"},
       {"limit", po::value(&a.max_prompts)->default_value(0), "stop after N prompts of --prompts (0 = all)"},
       {"max-tokens", po::value(&a.in.max_tokens)->default_value(0),
        "keep only the first N tokens of a prompt (0 = the context length)"},
       {"no-bos", po::bool_switch(&a.no_bos), "do not add BOS"},
       {"threads", po::value(&a.threads)->default_value(0), "threads (0 = all cores)"},
       {"json", po::bool_switch(&a.as_json), "print one JSON document"},
       {"output,o", po::value(&a.out_dir), "folder for SVG charts, trace.txt and index.html"}});
  return desc;
}

}  // namespace gb::cli
