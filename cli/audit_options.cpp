// cli/audit_options.cpp: the option table of `glassbox audit` (see cli/audit_options.h).
#include "cli/audit_options.h"

#include <cstdlib>

#include "cli/bias_options.h"
#include "cli/option_lists.h"
#include "cli/options.h"
#include "formats/file_text.h"

namespace gb::cli {

namespace po = boost::program_options;

po::options_description audit_options_desc(audit_args& a) {
  po::options_description desc(
      "glassbox audit [MODEL] [-o DIR] [options]  (no MODEL: the built-in demo model)");
  desc.add_options()("help,h", "show options")("model", po::value(&a.model_path), "model file or folder")(
      "output,o", po::value(&a.out_dir)->default_value("glassbox-report"), "report folder")(
      "tokenizer", po::value(&a.tok_path), "tokenizer file when the model has none")(
      "suite", po::value(&a.suites)->composing(),
      "bias suite (repeatable or comma-separated; 'none' to skip; default: all with a dataset)")(
      "data-root", po::value(&a.o.data_root),
      "bias datasets folder laid out like shared/data/bias (default $GLASSBOX_DATA/bias)")(
      "limit", po::value(&a.o.limit)->default_value(0),
      "quick pass: N items per bias suite, sampled from every category (no bias verdict)")(
      "seed", po::value(&a.o.seed)->default_value(1), "seed for bootstrap intervals and the --limit sample")(
      "resamples", po::value(&a.o.resamples)->default_value(1000), "bootstrap resamples")(
      "no-spectral", po::bool_switch(&a.no_spectral), "skip spectral metrics (large models)")(
      "baseline", po::value(&a.o.baseline),
      "bias drift against this model (the one evaluated before): a \"Bias drift\" section")(
      "baseline-tokenizer", po::value(&a.o.baseline_tok), "tokenizer file of the baseline when it has none")(
      "localize", po::value(&a.o.localize),
      "bias localization of this suite's pairs (crows-pairs, winobias, templates)")(
      "sign", po::value(&a.key),
      "sign manifest.json (manifest.sig) and attest the results (attestation.sig, in-toto/DSSE) with this "
      "PEM private key")("fail-on", po::value(&a.fail_on),
                         "exit 1 when a finding (model, scan, statistics) reaches this level")(
      "threads", po::value(&a.o.threads)->default_value(0), "threads (0 = all cores)")(
      "json", po::bool_switch(&a.as_json), "print report.json to stdout too")(
      "shard", po::value(&a.shard),
      "only the bias suites' shard I/N (or auto: Slurm, MPI, Kubernetes), as a partial result in -o DIR")(
      "shards", po::value(&a.shards),
      "N for --shard auto under a Kubernetes Indexed Job; for --plan: the ranks to estimate for (default "
      "32)")("plan", po::bool_switch(&a.plan),
             "print each bias suite's tokens and the estimated time (here and on --shards ranks), then stop")(
      "bias-parts", po::value(&a.bias_parts)->multitoken(),
      "take the bias suites from these --shard parts (all of them; a folder: its part files) instead of "
      "scoring");
  return desc;
}

// The options checked (before any work, not at step 4) and turned into audit_options.
void audit_setup(audit_args& a) {
  std::vector<std::string> valid = gb::probes::audit_suite_names();
  valid.insert(valid.end(), {"all", "none"});
  // explicitly requested suites must run; the default runs every suite whose dataset is present
  a.o.suites_requested = !a.suites.empty();
  a.o.suites = gb::probes::audit_suites_select(parse_choices("suite", a.suites, valid), !a.suites.empty());
  a.o.spectral = !a.no_spectral;
  bias_data_root_default(a.o.data_root);
  if (!a.key.empty() && !gb::path_exists(a.key))
    gb::fail(gb::errc::not_found, 0, "--sign " + a.key + ": no such key file. Check the path");
  check_output_dir("output", a.out_dir);
}

}  // namespace gb::cli
