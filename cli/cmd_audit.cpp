// glassbox audit: everything, on one mapped model, as a report folder. With no MODEL, the built-in demo.
// The computation is probes/audit_run.h, the report folder viz/audit_folder.h: this file parses and prints.
#include <chrono>
#include <cstdio>

#include "cli/audit_options.h"
#include "cli/bias_options.h"
#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "cli/progress.h"
#include "probes/audit_run.h"
#include "probes/audit_verdict.h"
#include "probes/bias_localize.h"
#include "viz/audit_folder.h"
#include "viz/report.h"
#include "viz/text.h"

namespace {

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
  const std::string hit = fail_on ? gb::viz::audit_fail_on_text(d, *fail_on) : "";
  if (hit.empty()) return rc;
  if (!gb::cli::json_mode())
    gb::cli::fail_message(gb::cli::exit_findings, hit, "See report.html for every finding", "findings");
  return gb::cli::exit_findings;
}

// --plan, --shard / --bias-parts, or else the whole run's estimate on stderr; -1: go on, else the exit code.
int audit_before(gb::probes::session& s, gb::cli::audit_args& a, double load_s) {
  gb::probes::audit_data planned;
  if (a.plan) {
    const gb::probes::audit_estimate e = gb::probes::audit_plan(s, load_s, a.o, planned);
    std::printf("%s", gb::viz::audit_plan_text(e, planned, a.shards ? a.shards : 32).c_str());
    return gb::cli::exit_ok;
  }
  if (a.shard.empty() && a.bias_parts.empty()) {
    if (!a.as_json)  // the whole run's estimate, before the work
      std::fprintf(
          stderr, "%s",
          gb::viz::audit_estimate_text(gb::probes::audit_estimate_of(s, load_s, a.o, 0.3, planned)).c_str());
    return -1;
  }
  gb::probes::shard_spec shard;  // the audit split over ranks: a shard's part, or the parts merged
  if (!a.shard.empty()) shard = gb::cli::shard_option(a.shard, a.shards);
  const gb::probes::part_header run = gb::probes::audit_part_header(s, a.model_path, a.tok_path, shard, a.o);
  if (a.shard.empty()) {
    a.o.merged = gb::probes::audit_parts_merge(run, a.bias_parts), a.o.use_merged = true;
    return -1;
  }
  gb::probes::audit_require_runnable(s, "audit --shard");
  std::fprintf(stderr, "glassbox audit: bias suites, shard %zu of %zu (%s)\n", shard.index, shard.count,
               shard.source.c_str());
  std::vector<std::string> not_run;
  const std::string path = gb::probes::audit_shard(s, run, shard, a.o, a.out_dir, not_run);
  std::printf(
      "wrote %s: bias shard %zu of %zu (then: glassbox audit MODEL --bias-parts PARTS... with the same "
      "options)\n",
      path.c_str(), shard.index, shard.count);
  return audit_exit({}, not_run, std::nullopt);  // as the whole audit: exit 1 when a suite could not run
}

// Conclusions, the report folder and the summary (or report.json under --json).
void audit_report(gb::probes::audit_data& d, const gb::probes::session& s, const gb::cli::audit_args& a,
                  gb::cli::progress& prog) {
  gb::viz::audit_folder f{a.out_dir,          a.key,         a.tok_path, gb::cli::command_line(),
                          gb::viz::utc_now(), a.o.data_root, {}};
  for (const auto& file : s.ar->files) f.model_files.push_back(file.path);
  d.audit_date = f.time.substr(0, 10), d.item_limit = a.o.limit;
  if (!a.key.empty()) d.signature = "signed: manifest.sig (check with glassbox verify-report --key)";
  d.compliance = gb::probes::compliance_map(d);
  d.verdicts = gb::probes::audit_verdicts(d);
  const std::string json_text = gb::viz::audit_folder_write(d, f);
  prog.done();
  if (a.as_json)
    gb::cli::print_json_text(json_text);
  else
    std::printf("%s", gb::viz::audit_summary_text(d, f).c_str());
}

int run_audit(int argc, char** argv) {
  gb::cli::audit_args a;
  gb::cli::parse_command(argc, argv, gb::cli::audit_options_desc(a));
  std::optional<gb::severity> fail_on;
  if (!a.fail_on.empty()) fail_on = gb::cli::fail_on_parse(a.fail_on);
  gb::cli::audit_setup(a);
  gb::cli::progress prog;
  gb::probes::audit_data d;
  if (a.model_path.empty()) prog.say("writing the demo model");  // else one step fewer
  prog.total = a.model_path.empty() ? 8 : 7;
  const std::string scan_root = gb::probes::audit_start(d, a.model_path, a.out_dir, a.o.seed);
  prog.say("reading the model");
  gb::engine::run_options ro;
  ro.threads = a.o.threads;
  const auto load_t0 = std::chrono::steady_clock::now();
  auto sess = gb::probes::session_open(a.model_path, a.tok_path, ro);
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_t0).count();
  if (!sess) return gb::cli::report_error(sess.err());
  gb::probes::session& s = sess.value();
  a.o.progress = prog.on;
  if (const int rc = audit_before(s, a, load_s); rc >= 0) return rc;
  a.o.step = [&](const std::string& what) { prog.say(what); };
  if (!a.o.localize.empty()) gb::probes::localize_heap_policy();  // a process-wide allocator choice
  gb::probes::audit_inspect(d, s, scan_root, a.o);
  gb::viz::audit_graph(d, *s.ar, *s.m, a.out_dir);
  const std::vector<std::string> not_run = gb::probes::audit_probe(d, s, a.o);
  prog.say("writing the report");
  audit_report(d, s, a, prog);
  return audit_exit(d, not_run, fail_on);
}

}  // namespace

GB_COMMAND("audit",
           "everything, as a report folder (HTML, JSON, model card, signed manifest); no MODEL = demo",
           run_audit);
