// cli/bias_options.cpp: the option table of `glassbox bias` (see cli/bias_options.h).
#include "cli/bias_options.h"

#include <cstdlib>

#include "cli/command.h"
#include "cli/option_internal.h"
#include "cli/options.h"
#include "formats/file_text.h"
#include "probes/bias_sample.h"

namespace gb::cli {

namespace po = boost::program_options;

po::options_description bias_options_desc(bias_args& a) {
  po::options_description desc(
      "glassbox bias MODEL [--suite NAME ...] [--data PATH | --data-root DIR] [options]\n"
      "suites: crows-pairs, stereoset, winobias, bbq, holisticbias, templates, all");
  desc.add_options()("help,h", "show options")("model", po::value(&a.model_path), "model file or folder")(
      "tokenizer", po::value(&a.tok_path),
      "tokenizer file when the model has none (tok512.bin, tokenizer.model)")(
      "suite", po::value(&a.suites)->composing(),
      "suite to run (repeatable or comma-separated; default: all)")("data", po::value(&a.r.data),
                                                                    "dataset file or folder (one suite)")(
      "data-root", po::value(&a.r.data_root),
      "folder laid out like shared/data/bias (default: $GLASSBOX_DATA/bias)")(
      "variant", po::value(&a.variant), "crows-pairs: harness (default) or bias-bench")(
      "limit", po::value(&a.o.limit)->default_value(0),
      "quick pass: score N items per suite, sampled from every category (0 = all)")(
      "seed", po::value(&a.o.seed)->default_value(1), "seed for the bootstrap and the --limit sample")(
      "resamples", po::value(&a.o.resamples)->default_value(1000), "bootstrap resamples")(
      "threads", po::value(&a.r.threads)->default_value(0), "threads (0 = all cores)")(
      "no-prefix-reuse", po::bool_switch(&a.no_reuse),
      "run every sentence from position 0 (for timing the KV-cache reuse)")(
      "records", po::bool_switch(&a.records), "include per-item records in --json")(
      "json", po::bool_switch(&a.as_json), "print one JSON document")(
      "format", po::value(&a.table_format),
      "print one table to paste elsewhere: table, md (Markdown) or csv")(
      "shard", po::value(&a.shard),
      "score shard I/N of every suite's items (or auto: from Slurm, MPI, Kubernetes) "
      "into a partial result in -o DIR, for `glassbox merge`")(
      "shards", po::value(&a.shards), "N for --shard auto under a Kubernetes Indexed Job")(
      "output,o", po::value(&a.out_dir),
      "write bias.json (with records) and one SVG chart per suite to this folder");
  return desc;
}

void bias_data_root_default(std::string& root) {
  if (root.empty())
    if (const char* d = std::getenv("GLASSBOX_DATA"); d && *d) root = std::string(d) + "/bias";
}

std::string bias_dataset_find(const std::string& cmd, const std::string& suite, const std::string& data,
                              const std::string& root, const std::string& prefix) {
  const std::string path = !data.empty() ? data : probes::bias_dataset_path(root, suite);
  if (suite != "templates" && (path.empty() || !path_exists(path)))
    throw exit_now{usage_error(cmd, prefix + (path.empty() ? "no dataset: pass --data or --data-root"
                                                           : "dataset not found: " + path))};
  return path;
}

int suites_exit(const std::vector<probes::suite_result>& results) {
  int rc = exit_ok;
  for (const auto& r : results)
    if (!r.error.empty()) {
      if (!json_mode())
        fail_message(exit_findings, "suite " + r.suite + " did not run: " + r.error,
                     "Pass --data FILE (one suite) or --data-root DIR, or leave the suite out", "not_run");
      rc = exit_findings;
    }
  return rc;
}

probes::shard_spec shard_option(const std::string& arg, size_t shards) {
  try {
    return probes::shard_parse(arg, shards, probes::process_env);
  } catch (const failure& f) {
    detail::usage_throw(f.err().message);
  }
}

}  // namespace gb::cli
