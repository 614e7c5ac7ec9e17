// glassbox audit: everything, on one mapped model, as a report folder. With no MODEL, the built-in demo.
// The computation is probes/audit_run.h, the report folder viz/audit_folder.h: this file parses and prints.
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <sstream>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "formats/file_text.h"
#include "inspect/synth_demo.h"
#include "probes/audit_run.h"
#include "probes/audit_verdict.h"
#include "probes/bias_localize.h"
#include "viz/audit_folder.h"
#include "viz/report.h"

namespace po = boost::program_options;

namespace {

struct progress {
  bool on = ::isatty(2);
  int step = 0, total = 8;
  void say(const std::string& what) {
    ++step;
    if (on) std::fprintf(stderr, "\r\033[K[%d/%d] %s", step, total, what.c_str());
    if (on && step == total) std::fprintf(stderr, "\n");
  }
  void done() {
    if (on) std::fprintf(stderr, "\r\033[K");
  }
};

std::string now_utc() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// --suite values (repeatable, comma-separated) -> suites to run; unknown names are a usage error.
std::vector<std::string> audit_suites(const std::vector<std::string>& args) {
  const std::vector<std::string>& all = gb::probes::audit_suite_names();
  std::vector<std::string> valid = all, out;
  valid.insert(valid.end(), {"all", "none"});
  for (const auto& a : args) {
    std::stringstream ss(a);
    for (std::string t; std::getline(ss, t, ',');)
      if (!t.empty()) {
        gb::cli::check_choice("suite", t, valid);
        if (t == "all")
          out.insert(out.end(), all.begin(), all.end());
        else if (t != "none" && std::find(out.begin(), out.end(), t) == out.end())
          out.push_back(t);
      }
  }
  return args.empty() ? all : out;
}

// Exit 1 when a requested suite could not run or a finding reached --fail-on (one line each on stderr).
int audit_exit(const gb::viz::audit_data& d, const std::vector<std::string>& not_run,
               std::optional<gb::severity> fail_on) {
  int rc = gb::cli::exit_ok;
  for (const auto& n : not_run) {
    if (!gb::cli::json_mode())
      gb::cli::fail_message(gb::cli::exit_findings, "bias suite " + n,
                            "Pass --data-root DIR (laid out like shared/data/bias) or leave the suite out",
                            "not_run");
    rc = gb::cli::exit_findings;
  }
  if (!fail_on) return rc;
  const std::vector<gb::finding> all = gb::probes::audit_findings(d);  // most severe first
  const auto first = std::find_if(all.begin(), all.end(), [&](const auto& f) { return f.level >= *fail_on; });
  if (first == all.end()) return rc;
  const auto hits = std::count_if(all.begin(), all.end(), [&](const auto& f) { return f.level >= *fail_on; });
  if (!gb::cli::json_mode())
    gb::cli::fail_message(gb::cli::exit_findings,
                          std::to_string(hits) + " finding(s) at or above --fail-on " +
                              gb::severity_name(*fail_on) + ", first: [" + gb::severity_name(first->level) +
                              "] " + first->code + " " + first->where,
                          "See report.html for every finding", "findings");
  return gb::cli::exit_findings;
}

// --shard or --bias-parts (the audit split over ranks): a shard's part is written and 0 returned; parts are
// merged into o.merged (-1: go on).
int audit_parts(gb::probes::session& s, const std::string& model_path, const std::string& tok_path,
                gb::probes::audit_options& o, const std::string& shard_arg, size_t shards,
                const std::vector<std::string>& bias_parts, const std::string& out_dir) {
  gb::probes::shard_spec shard;
  if (!shard_arg.empty()) shard = gb::probes::shard_parse(shard_arg, shards, gb::probes::process_env);
  const gb::probes::part_header run = gb::probes::audit_part_header(s, model_path, tok_path, shard, o);
  if (!shard_arg.empty()) {
    gb::probes::audit_require_runnable(s, "audit --shard");
    std::fprintf(stderr, "glassbox audit: bias suites, shard %zu of %zu (%s)\n", shard.index, shard.count,
                 shard.source.c_str());
    const std::string path = gb::probes::audit_shard(s, run, shard, o, out_dir);
    std::printf(
        "wrote %s: bias shard %zu of %zu (then: glassbox audit MODEL --bias-parts PARTS... with the same "
        "options)\n",
        path.c_str(), shard.index, shard.count);
    return gb::cli::exit_ok;
  }
  o.merged = gb::probes::audit_parts_merge(run, bias_parts);
  o.use_merged = true;
  return -1;
}

int run_audit(int argc, char** argv) {
  po::options_description desc(
      "glassbox audit [MODEL] [-o DIR] [options]  (no MODEL: the built-in demo model)");
  gb::probes::audit_options o;
  std::string model_path, out_dir = "glassbox-report", tok_path, key, fail_on_text, shard_arg;
  std::vector<std::string> suites_arg, bias_parts;
  bool as_json = false, no_spectral = false, plan = false;
  size_t shards = 0;
  desc.add_options()("help,h", "show options")("model", po::value(&model_path), "model file or folder")(
      "output,o", po::value(&out_dir)->default_value("glassbox-report"), "report folder")(
      "tokenizer", po::value(&tok_path), "tokenizer file when the model has none")(
      "suite", po::value(&suites_arg)->composing(),
      "bias suite (repeatable or comma-separated; 'none' to skip; default: all with a dataset)")(
      "data-root", po::value(&o.data_root),
      "bias datasets folder laid out like shared/data/bias (default $GLASSBOX_DATA/bias)")(
      "limit", po::value(&o.limit)->default_value(0),
      "quick pass: N items per bias suite, sampled from every category (no bias verdict)")(
      "seed", po::value(&o.seed)->default_value(1), "seed for bootstrap intervals and the --limit sample")(
      "resamples", po::value(&o.resamples)->default_value(1000), "bootstrap resamples")(
      "no-spectral", po::bool_switch(&no_spectral), "skip spectral metrics (large models)")(
      "baseline", po::value(&o.baseline),
      "bias drift against this model (the one evaluated before): a \"Bias drift\" section")(
      "baseline-tokenizer", po::value(&o.baseline_tok), "tokenizer file of the baseline when it has none")(
      "localize", po::value(&o.localize),
      "bias localization of this suite's pairs (crows-pairs, winobias, templates)")(
      "sign", po::value(&key),
      "sign manifest.json (manifest.sig) and attest the results (attestation.sig, in-toto/DSSE) with this "
      "PEM private key")("fail-on", po::value(&fail_on_text),
                         "exit 1 when a finding (model, scan, statistics) reaches this level")(
      "threads", po::value(&o.threads)->default_value(0), "threads (0 = all cores)")(
      "json", po::bool_switch(&as_json), "print report.json to stdout too")(
      "shard", po::value(&shard_arg),
      "only the bias suites' shard I/N (or auto: Slurm, MPI, Kubernetes), as a partial result in -o DIR")(
      "shards", po::value(&shards)->default_value(0),
      "N for --shard auto under a Kubernetes Indexed Job; for --plan: ranks (default 32)")(
      "plan", po::bool_switch(&plan),
      "print each bias suite's tokens and the estimated time (here and on --shards ranks), then stop")(
      "bias-parts", po::value(&bias_parts)->multitoken(),
      "take the bias suites from these --shard parts (all of them) instead of scoring");
  gb::cli::parse_command(argc, argv, desc);
  std::optional<gb::severity> fail_on;
  if (!fail_on_text.empty()) fail_on = gb::cli::fail_on_parse(fail_on_text);
  // explicitly requested suites must run; the default runs every suite whose dataset is present
  o.suites_requested = !suites_arg.empty();
  o.suites = audit_suites(suites_arg);
  o.spectral = !no_spectral;
  if (o.data_root.empty())
    if (const char* d = std::getenv("GLASSBOX_DATA"); d && *d) o.data_root = std::string(d) + "/bias";
  if (!key.empty() && !gb::path_exists(key))
    gb::fail(gb::errc::not_found, 0, "--sign " + key + ": no such key file. Check the path");
  gb::cli::check_output_dir("output", out_dir);  // before any work, not at step 4
  progress prog;
  gb::probes::audit_data d;
  d.tool_version = GB_VERSION;
  d.seed = o.seed;
  std::string scan_root = model_path;
  if (model_path.empty()) {
    prog.say("writing the demo model");
    gb::demo_model demo = gb::synth_demo(out_dir + "/demo-model");
    d.demo = true;
    d.demo_planted = demo.planted;
    model_path = demo.path;
    scan_root = out_dir + "/demo-model";
  } else {
    prog.total = 7;
  }
  d.model_path = model_path;

  prog.say("reading the model");
  gb::engine::run_options ro;
  ro.threads = o.threads;
  const auto load_t0 = std::chrono::steady_clock::now();
  auto sess = gb::probes::session_open(model_path, tok_path, ro);
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_t0).count();
  if (!sess) return gb::cli::report_error(sess.err());
  gb::probes::session& s = sess.value();
  o.progress = prog.on;
  try {
    gb::probes::audit_data planned;
    if (plan) {
      const gb::probes::audit_estimate e = gb::probes::audit_plan(s, load_s, o, planned);
      std::printf("%s", gb::viz::audit_plan_text(e, planned, shards ? shards : 32).c_str());
      return gb::cli::exit_ok;
    }
    if (!shard_arg.empty() || !bias_parts.empty()) {
      const int rc = audit_parts(s, model_path, tok_path, o, shard_arg, shards, bias_parts, out_dir);
      if (rc >= 0) return rc;
    } else if (!as_json) {  // the whole run's estimate, before the work
      const gb::probes::audit_estimate e = gb::probes::audit_estimate_of(s, load_s, o, 0.3, planned);
      std::fprintf(stderr, "%s", gb::viz::audit_estimate_text(e).c_str());
    }
  } catch (const gb::failure& f) {
    return gb::cli::report_error(f.err());
  }
  o.step = [&](const std::string& what) { prog.say(what); };
  if (!o.localize.empty()) gb::probes::localize_heap_policy();  // a process-wide allocator choice
  gb::probes::audit_inspect(d, s, scan_root, o);
  gb::viz::audit_graph(d, *s.ar, *s.m, out_dir);
  const std::vector<std::string> not_run = gb::probes::audit_probe(d, s, o);

  prog.say("writing the report");
  gb::viz::audit_folder folder{out_dir, key, tok_path, gb::cli::command_line(), now_utc(), o.data_root, {}};
  for (const auto& f : s.ar->files) folder.model_files.push_back(f.path);
  d.audit_date = folder.time.substr(0, 10);
  d.item_limit = o.limit;
  if (!key.empty()) d.signature = "signed: manifest.sig (check with glassbox verify-report --key)";
  d.compliance = gb::probes::compliance_map(d);
  d.verdicts = gb::probes::audit_verdicts(d);
  const std::string json_text = gb::viz::audit_folder_write(d, folder);
  prog.done();
  if (as_json)
    gb::cli::print_json_text(json_text);
  else
    std::printf("%s", gb::viz::audit_summary_text(d, folder).c_str());
  return audit_exit(d, not_run, fail_on);
}

}  // namespace

GB_COMMAND("audit",
           "everything, as a report folder (HTML, JSON, model card, signed manifest); no MODEL = demo",
           run_audit);
