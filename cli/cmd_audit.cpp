// glassbox audit: everything, on one mapped model, as a report folder. With no MODEL, the built-in demo.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "inspect/hash.h"
#include "inspect/oms.h"
#include "inspect/scan.h"
#include "inspect/spectral.h"
#include "inspect/summary.h"
#include "inspect/synth_demo.h"
#include "inspect/tensor_values.h"
#include "probes/audit_probe.h"
#include "probes/bias.h"
#include "probes/bias_diff.h"
#include "probes/bias_localize.h"
#include "probes/bias_localize_ablate.h"
#include "probes/bias_sample.h"
#include "probes/lm_scorer.h"
#include "probes/session.h"
#include "probes/shard.h"
#include "viz/attestation.h"
#include "viz/graph.h"
#include "viz/hub_results.h"
#include "viz/manifest.h"
#include "viz/model_documentation.h"
#include "viz/oms_bundle.h"
#include "viz/report.h"

namespace po = boost::program_options;

namespace {

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f) gb::fail(gb::errc::io, 0, "cannot write " + path);
}

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

const std::vector<std::string> all_suites = {"templates", "crows-pairs", "stereoset",
                                             "winobias",  "bbq",         "holisticbias"};

// --suite values (repeatable, comma-separated) -> suites to run; unknown names are a usage error.
std::vector<std::string> audit_suites(const std::vector<std::string>& args) {
  std::vector<std::string> valid = all_suites, out;
  valid.insert(valid.end(), {"all", "none"});
  for (const auto& a : args) {
    std::stringstream ss(a);
    std::string t;
    while (std::getline(ss, t, ','))
      if (!t.empty()) {
        gb::cli::check_choice("suite", t, valid);
        if (t == "all")
          out.insert(out.end(), all_suites.begin(), all_suites.end());
        else if (t != "none" && std::find(out.begin(), out.end(), t) == out.end())
          out.push_back(t);
      }
  }
  return args.empty() ? all_suites : out;
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
  const std::vector<gb::finding> all = gb::viz::audit_findings(d);  // most severe first
  size_t hits = 0;
  const gb::finding* first = nullptr;
  for (const auto& f : all)
    if (f.level >= *fail_on) ++hits, first = first ? first : &f;
  if (!hits) return rc;
  if (!gb::cli::json_mode())
    gb::cli::fail_message(gb::cli::exit_findings,
                          std::to_string(hits) + " finding(s) at or above --fail-on " +
                              gb::severity_name(*fail_on) + ", first: [" + gb::severity_name(first->level) +
                              "] " + first->code + " " + first->where,
                          "See report.html for every finding", "findings");
  return gb::cli::exit_findings;
}

// The bias suites into d.bias (or d.missing, with why). `result` computes a suite, or takes it from merged
// shards; a suite that could not run is kept as a result with `error` (what a shard records).
void run_suites(
    gb::viz::audit_data& d, const std::vector<std::string>& suites, const std::string& data_root,
    const std::function<gb::probes::suite_result(const std::string&, const std::string&)>& result) {
  for (const auto& suite : suites) {
    const std::string path = gb::probes::bias_dataset_path(data_root, suite);
    gb::probes::suite_result r;
    r.suite = suite;
    if (suite != "templates" && (path.empty() || !gb::cli::path_exists(path)))
      r.error = path.empty() ? "dataset not available (pass --data-root)" : "dataset not found: " + path;
    else {
      try {
        r = result(suite, path);
      } catch (const gb::failure& f) {
        r.error = f.err().message;
      }
    }
    if (r.error.empty())
      d.bias.push_back(std::move(r));
    else
      d.missing.push_back({"bias suite " + suite, r.error});
  }
}

// audit --shard: only this shard of the bias suites, written as a partial result for --bias-parts.
int audit_shard(gb::probes::session& s, const gb::probes::part_header& run,
                const gb::probes::shard_spec& shard, const std::vector<std::string>& suites,
                const std::string& data_root, gb::probes::bias_options o, const std::string& out_dir) {
  if (!s.run || !s.tok)
    gb::fail(gb::errc::unsupported, 0,
             "audit --shard: the model cannot run text here (" +
                 (s.run ? std::string("no tokenizer") : s.run_error) + ")");
  std::fprintf(stderr, "glassbox audit: bias suites, shard %zu of %zu (%s)\n", shard.index, shard.count,
               shard.source.c_str());
  o.shard_index = shard.index;
  o.shard_count = shard.count;
  gb::probes::engine_scorer scorer(s);
  gb::probes::sentence_cache cache(scorer);
  gb::viz::audit_data d;
  run_suites(d, suites, data_root, [&](const std::string& suite, const std::string& path) {
    return gb::probes::suite_run_named(cache, suite, path, o);
  });
  const std::string path = gb::probes::part_save(out_dir, run, d.bias);
  std::printf(
      "wrote %s: bias shard %zu of %zu (then: glassbox audit MODEL --bias-parts PARTS... with the same "
      "options)\n",
      path.c_str(), shard.index, shard.count);
  return gb::cli::exit_ok;
}

// The whole audit's estimate (probes/audit_estimate.h): the model's workload, each suite's tokens from a
// planning pass (tokenised, not scored; into *planned), and this machine's rates (token_seconds of scoring).
gb::probes::audit_estimate audit_estimate_of(gb::probes::session& s, double load_s,
                                             const std::vector<std::string>& suites,
                                             const std::string& data_root, gb::probes::bias_options o,
                                             bool spectral, int threads, double token_seconds,
                                             gb::viz::audit_data& planned) {
  gb::spectral_options so;
  gb::probes::audit_workload w =
      gb::probes::audit_workload_of(gb::tensor_items(*s.m), gb::summary_build(*s.m).file_bytes, so);
  w.load_seconds = load_s;
  w.spectral = spectral;
  std::optional<gb::probes::engine_scorer> scorer;
  std::optional<gb::probes::sentence_cache> cache;
  if (s.run && s.tok) {
    scorer.emplace(
        s, threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    cache.emplace(*scorer);
    o.plan = true;
    o.progress = false;
    run_suites(planned, suites, data_root, [&](const std::string& suite, const std::string& path) {
      return gb::probes::suite_run_named(*cache, suite, path, o);
    });
    o.plan = false;
  }
  for (const auto& r : planned.bias) w.suite_tokens.push_back({r.suite, r.tokens});
  const gb::probes::audit_rates rates =
      gb::probes::audit_rates_measure(scorer ? &*scorer : nullptr, o, token_seconds);
  return gb::probes::audit_estimate_build(w, rates, threads);
}

// audit --plan: the whole audit's estimate, then each suite's items and tokens (no scoring) and the time they
// take here (2 s of calibration on the templates suite) and on N ranks of this machine's speed.
int audit_plan(gb::probes::session& s, double load_s, const std::vector<std::string>& suites,
               const std::string& data_root, const gb::probes::bias_options& o, size_t ranks, bool spectral,
               int threads) {
  if (!s.run || !s.tok)
    gb::fail(gb::errc::unsupported, 0,
             "audit --plan: the model cannot run text here (" +
                 (s.run ? std::string("no tokenizer") : s.run_error) + ")");
  gb::viz::audit_data d;
  const gb::probes::audit_estimate e =
      audit_estimate_of(s, load_s, suites, data_root, o, spectral, threads, 2.0, d);
  std::printf("%s\n", gb::viz::audit_estimate_text(e).c_str());
  const double rate = std::max(e.tokens_per_s, 1e-6);  // tokens per second, measured here
  std::printf("%-14s %9s %12s %14s %14s\n", "suite", "items", "tokens", "here",
              (std::to_string(ranks) + " ranks").c_str());
  const auto hms = gb::probes::duration_text;
  size_t total = 0;
  for (const auto& r : d.bias) {
    total += r.tokens;
    std::printf("%-14s %9zu %12zu %14s %14s\n", r.suite.c_str(), r.items, r.tokens,
                hms(r.tokens / rate).c_str(), hms(r.tokens / rate / static_cast<double>(ranks)).c_str());
  }
  for (const auto& m : d.missing)
    std::printf("%-14s %s\n", m.what.substr(m.what.rfind(' ') + 1).c_str(), m.why.c_str());
  std::printf("%-14s %9s %12zu %14s %14s\n", "total", "", total, hms(total / rate).c_str(),
              hms(total / rate / static_cast<double>(ranks)).c_str());
  return gb::cli::exit_ok;
}

// The "Bias drift" section: every suite that ran, scored again on the baseline, paired item by item.
void add_bias_drift(gb::viz::audit_data& d, const std::string& baseline, const std::string& baseline_tok,
                    const std::string& data_root, gb::probes::session& s, size_t limit, uint64_t seed,
                    int resamples) {
  d.baseline_path = baseline;
  auto b = gb::probes::session_open(baseline, baseline_tok);
  std::optional<gb::error> bad =
      b ? gb::probes::session_unusable(b.value(), baseline) : std::optional<gb::error>(b.err());
  if (bad) {
    d.missing.push_back({"bias drift", bad->message});
    return;
  }
  gb::probes::engine_scorer sb(b.value()), sd(s);
  gb::probes::sentence_cache cb(sb), cd(sd);
  gb::probes::bias_options o;
  o.limit = limit;
  o.seed = seed;
  o.resamples = resamples;
  gb::probes::diff_options dopt;
  dopt.seed = seed;
  dopt.resamples = resamples;
  for (const auto& r : d.bias) {
    if (!r.error.empty()) continue;
    const std::string path = gb::probes::bias_dataset_path(data_root, r.suite);
    try {
      std::map<std::string, std::string> texts;
      gb::probes::suite_result rb = gb::probes::suite_run_named(cb, r.suite, path, o, &texts);
      gb::probes::suite_change c = gb::probes::bias_diff(rb, r, dopt, texts);
      c.dataset_digest = gb::probes::bias_dataset_digest(r.suite, path);
      c.tokenizers_differ = !gb::probes::bias_tokenizers_agree(sb, sd, texts);
      d.bias_drift.push_back(std::move(c));
    } catch (const gb::failure& f) {
      d.missing.push_back({"bias drift " + r.suite, f.err().message});
    }
  }
}

// The "Bias localization" section: direct logit attribution of the suite's minimal pairs.
void add_localization(gb::viz::audit_data& d, const std::string& suite, const std::string& data_root,
                      gb::probes::session& s, size_t limit, uint64_t seed, int resamples) {
  auto w = gb::probes::dla_weights::create(*s.m);
  if (!w) {
    d.missing.push_back({"bias localization", w.err().message});
    return;
  }
  try {
    gb::probes::engine_scorer sc(s);
    const auto pairs =
        gb::probes::localize_pairs_read(sc, suite, gb::probes::bias_dataset_path(data_root, suite), limit);
    gb::probes::localize_options o;
    o.seed = seed;
    o.resamples = resamples;
    auto r = gb::probes::localize_pairs(*s.run, w.value(), pairs, o);
    if (!r) {
      d.missing.push_back({"bias localization", r.err().message});
      return;
    }
    gb::probes::ablate_options ao;  // the confirmation: top 3 against 10 random sets of 3
    ao.seed = seed;
    ao.resamples = resamples;
    auto a = gb::probes::ablate_confirm(*s.run, r.value(), ao);
    if (a)
      d.localize_ablation = std::move(a.value());
    else
      d.missing.push_back({"bias localization ablation", a.err().message});
    d.localize_suite = suite;
    d.localize = std::move(r.value());
  } catch (const gb::failure& f) {
    d.missing.push_back({"bias localization", f.err().message});
  }
}

int run_audit(int argc, char** argv) {
  po::options_description desc(
      "glassbox audit [MODEL] [-o DIR] [options]  (no MODEL: the built-in demo model)");
  std::string model_path, out_dir = "glassbox-report", tok_path, key, data_root, fail_on_text, baseline,
                          baseline_tok, localize;
  std::vector<std::string> suites_arg;
  int threads = 0;
  size_t limit = 0;
  uint64_t seed = 1;
  int resamples = 1000;
  bool as_json = false, no_spectral = false, plan = false;
  std::string shard_arg;
  size_t shards = 0;
  std::vector<std::string> bias_parts;
  desc.add_options()("help,h", "show options")("model", po::value(&model_path), "model file or folder")(
      "output,o", po::value(&out_dir)->default_value("glassbox-report"), "report folder")(
      "tokenizer", po::value(&tok_path), "tokenizer file when the model has none")(
      "suite", po::value(&suites_arg)->composing(),
      "bias suite (repeatable or comma-separated; 'none' to skip; default: all with a dataset)")(
      "data-root", po::value(&data_root),
      "bias datasets folder laid out like shared/data/bias (default $GLASSBOX_DATA/bias)")(
      "limit", po::value(&limit)->default_value(0),
      "quick pass: N items per bias suite, sampled from every category (no bias verdict)")(
      "seed", po::value(&seed)->default_value(1), "seed for bootstrap intervals and the --limit sample")(
      "resamples", po::value(&resamples)->default_value(1000), "bootstrap resamples")(
      "no-spectral", po::bool_switch(&no_spectral), "skip spectral metrics (large models)")(
      "baseline", po::value(&baseline),
      "bias drift against this model (the one evaluated before): a \"Bias drift\" section")(
      "baseline-tokenizer", po::value(&baseline_tok), "tokenizer file of the baseline when it has none")(
      "localize", po::value(&localize),
      "bias localization of this suite's pairs (crows-pairs, winobias, templates)")(
      "sign", po::value(&key),
      "sign manifest.json (manifest.sig) and attest the results (attestation.sig, in-toto/DSSE) with this "
      "PEM private key")("fail-on", po::value(&fail_on_text),
                         "exit 1 when a finding (model, scan, statistics) reaches this level")(
      "threads", po::value(&threads)->default_value(0), "threads (0 = all cores)")(
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
  const bool suites_requested = !suites_arg.empty();
  std::vector<std::string> suites = audit_suites(suites_arg);
  if (data_root.empty())
    if (const char* d = std::getenv("GLASSBOX_DATA"); d && *d) data_root = std::string(d) + "/bias";
  if (!key.empty() && !gb::cli::path_exists(key))
    gb::fail(gb::errc::not_found, 0, "--sign " + key + ": no such key file. Check the path");
  gb::cli::check_output_dir("output", out_dir);  // before any work, not at step 4
  progress prog;
  gb::viz::audit_data d;
  d.tool_version = GB_VERSION;
  d.seed = seed;
  std::string scan_root;
  if (model_path.empty()) {
    prog.say("writing the demo model");
    d.demo = true;
    gb::demo_model demo = gb::synth_demo(out_dir + "/demo-model");
    d.demo_planted = demo.planted;
    model_path = demo.path;
    scan_root = out_dir + "/demo-model";
  } else {
    prog.total = 7;
    scan_root = model_path;
  }
  d.model_path = model_path;

  prog.say("reading the model");
  gb::engine::run_options ro;
  ro.threads = threads;
  const auto load_t0 = std::chrono::steady_clock::now();
  auto sess = gb::probes::session_open(model_path, tok_path, ro);
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_t0).count();
  if (!sess) return gb::cli::report_error(sess.err());
  gb::probes::session& s = sess.value();
  gb::probes::bias_options bo;
  bo.limit = limit;
  bo.seed = seed;
  bo.resamples = resamples;
  bo.progress = prog.on;
  if (plan) {
    try {
      return audit_plan(s, load_s, suites, data_root, bo, shards ? shards : 32, !no_spectral, threads);
    } catch (const gb::failure& f) {
      return gb::cli::report_error(f.err());
    }
  }
  // what a shard's part records and what --bias-parts must match
  gb::probes::part_header run;
  gb::probes::merged merged;
  if (!shard_arg.empty() || !bias_parts.empty()) {
    try {
      gb::probes::shard_spec shard;
      if (!shard_arg.empty()) shard = gb::probes::shard_parse(shard_arg, shards, gb::probes::process_env);
      std::map<std::string, std::string> datasets;
      std::string suites_text;  // as the parts compare it
      for (const auto& suite : suites) {
        suites_text += (suites_text.empty() ? "" : ",") + suite;
        const std::string path = gb::probes::bias_dataset_path(data_root, suite);
        datasets[suite] = suite == "templates"         ? "built-in"
                          : gb::cli::path_exists(path) ? gb::probes::path_digest(path)
                                                       : "";
      }
      run = gb::probes::part_header_of(s, model_path, tok_path, shard, datasets,
                                       {{"command", "audit"},
                                        {"suites", suites_text},
                                        {"limit", std::to_string(limit)},
                                        {"seed", std::to_string(seed)},
                                        {"resamples", std::to_string(resamples)}});
      if (!shard_arg.empty()) return audit_shard(s, run, shard, suites, data_root, bo, out_dir);
      std::vector<gb::probes::part> parts;
      for (const auto& p : bias_parts) parts.push_back(gb::probes::part_read(p));
      merged = gb::probes::shard_merge(parts);
      gb::probes::part_check_same({"this audit", run, {}}, {parts[0].path, merged.header, {}});
    } catch (const gb::failure& f) {
      return gb::cli::report_error(f.err());
    }
  }
  if (shard_arg.empty() && bias_parts.empty() && !as_json) {  // the whole run's estimate, before the work
    gb::viz::audit_data planned;
    std::fprintf(stderr, "%s",
                 gb::viz::audit_estimate_text(
                     audit_estimate_of(s, load_s, suites, data_root, bo, !no_spectral, threads, 0.3, planned))
                     .c_str());
  }
  d.summary = gb::summary_build(*s.m);
  d.hp = s.m->hp;
  d.family = gb::arch_family_name(s.m->family);
  d.tokenizer_source = s.tokenizer_source;
  d.model_findings = s.ar->findings;
  d.model_findings.insert(d.model_findings.end(), s.m->findings.begin(), s.m->findings.end());

  prog.say("scanning files (nothing is executed)");
  d.scan = gb::scan_paths({scan_root});

  prog.say("hashing and statistics");
  std::vector<gb::tensor_item> items = gb::tensor_items(*s.m);
  try {
    d.hashes = gb::hash_model(items, s.ar->files, {});
    d.have_hashes = true;
  } catch (const gb::failure& f) {
    d.missing.push_back({"hashes and statistics", f.err().message});
  }
  {  // The files' identity (OMS v1.0 subject digest), reusing the file digests just computed.
    std::map<std::string, std::string> known;
    for (const gb::file_hash& f : d.hashes.files)
      if (!f.sha256_hex.empty()) known[gb::oms_known_key(f.path)] = f.sha256_hex;
    d.files_identity = gb::oms_identity_of(scan_root, known);
    if (!d.files_identity.error.empty())
      d.missing.push_back({"files identity (OMS digest)", d.files_identity.error});
  }

  prog.say("spectral metrics and architecture graph");
  if (!no_spectral) {
    try {
      gb::spectral_options so;
      so.threads = threads;
      d.spectral = gb::spectral_compute(items, so);
      d.have_spectral = true;
    } catch (const gb::failure& f) {
      d.missing.push_back({"spectral metrics", f.err().message});
    }
  } else {
    d.missing.push_back({"spectral metrics", "skipped with --no-spectral"});
  }
  {
    gb::viz::graph g = s.ar->format == gb::file_format::onnx
                           ? gb::viz::graph_from_onnx(*s.ar, {false, s.m.get()})
                           : gb::viz::graph_from_model(*s.m, {});
    auto svg = gb::viz::graph_render(g, "svg");
    if (svg) {
      d.graph_svg = svg.value();
      write_text(out_dir + "/graph.svg", d.graph_svg);
    } else {
      d.missing.push_back({"architecture graph", svg.err().message});
    }
  }

  prog.say("running standard prompts");
  if (s.run && s.tok) {
    d.ran_model = true;
    for (const auto& p : gb::probes::standard_prompts()) d.prompts.push_back(gb::probes::probe_prompt(s, p));
  } else {
    d.run_error = s.run ? "no tokenizer" : s.run_error;
    d.missing.push_back({"forward pass (internals, bias)", d.run_error});
  }

  prog.say("bias suites");
  std::vector<std::string> not_run;  // requested suites that could not run: exit 1
  if (!d.ran_model && suites_requested)
    for (const auto& suite : suites) not_run.push_back(suite + ": " + d.run_error);
  std::vector<gb::viz::attestation_dataset> datasets;  // what each suite read, for the attestation
  if (d.ran_model && !suites.empty()) {
    gb::probes::engine_scorer scorer(
        s, threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    gb::probes::sentence_cache cache(scorer);
    run_suites(d, suites, data_root, [&](const std::string& suite, const std::string& path) {
      if (bias_parts.empty()) return gb::probes::suite_run_named(cache, suite, path, bo);
      for (const auto& r : merged.results)
        if (r.suite == suite) return r;
      gb::fail(gb::errc::not_found, 0, "no result in the shards' parts (see their logs)");
    });
    if (suites_requested)
      for (const auto& m : d.missing)
        if (m.what.rfind("bias suite ", 0) == 0) not_run.push_back(m.what.substr(11) + ": " + m.why);
    for (const auto& r : d.bias) {
      const std::string path = gb::probes::bias_dataset_path(data_root, r.suite);
      if (r.suite == "templates")
        datasets.push_back({r.suite, "built-in", "built-in"});
      else
        datasets.push_back({r.suite, path, gb::oms_identity_of(path).root_hex});
    }
  }
  if (!localize.empty() && d.ran_model) add_localization(d, localize, data_root, s, limit, seed, resamples);
  if (!baseline.empty() && !d.bias.empty())
    add_bias_drift(d, baseline, baseline_tok, data_root, s, limit, seed, resamples);
  d.missing.push_back(
      {"training data, intended use, energy", "not recoverable from weights (provider statements)"});
  d.missing.push_back({"capability benchmarks", "not part of a weights audit"});
  d.missing.push_back({"adversarial testing (red teaming)", "needs a deployed system and human testers"});

  prog.say("writing the report");
  const std::string audit_time = now_utc();
  d.audit_date = audit_time.substr(0, 10);
  d.item_limit = limit;
  if (!key.empty()) d.signature = "signed: manifest.sig (check with glassbox verify-report --key)";
  d.compliance = gb::viz::compliance_map(d);
  d.verdicts = gb::viz::audit_verdicts(d);
  const std::string json_text = gb::viz::report_json(d);
  write_text(out_dir + "/report.json", json_text);
  write_text(out_dir + "/report.html", gb::viz::report_html(d));
  write_text(out_dir + "/MODEL_CARD.md", gb::viz::model_card_md(d));
  write_text(out_dir + "/model-documentation.md", gb::viz::model_documentation_md(d));
  std::vector<std::string> hub_outputs;
  {  // Results for the Hugging Face Hub (suites with a public Hub dataset).
    std::vector<gb::viz::hub_eval_file> hub = gb::viz::hub_eval_results(d, now_utc().substr(0, 10), datasets);
    if (!hub.empty()) ::mkdir((out_dir + "/.eval_results").c_str(), 0755);
    for (const gb::viz::hub_eval_file& f : hub) {
      write_text(out_dir + "/.eval_results/" + f.name, f.yaml);
      hub_outputs.push_back(".eval_results/" + f.name);
    }
  }

  gb::viz::manifest_info info;
  info.tool_version = GB_VERSION;
  info.build = gb::viz::build_description();
  info.command = gb::cli::command_line();
  info.time = audit_time;
  info.machine = gb::viz::machine_description();
  info.seeds = {{"bias_bootstrap", seed}};
  if (limit)
    info.seeds.push_back(
        {"bias_quick_pass_sample (--limit " + std::to_string(limit) + " per suite, stratified)", seed});
  std::vector<gb::viz::manifest_file> inputs, outputs;
  for (const auto& f : s.ar->files)  // a file once, even when the archive maps it for two roles
    if (std::none_of(inputs.begin(), inputs.end(), [&](const auto& i) { return i.path == f.path; }))
      inputs.push_back(gb::viz::manifest_file_of(f.path, f.path));
  if (!tok_path.empty()) inputs.push_back(gb::viz::manifest_file_of(tok_path, tok_path));
  for (const char* o : {"report.json", "report.html", "MODEL_CARD.md", "model-documentation.md", "graph.svg"})
    if (gb::cli::path_exists(out_dir + "/" + o))
      outputs.push_back(gb::viz::manifest_file_of(out_dir + "/" + o, o));
  for (const std::string& o : hub_outputs) outputs.push_back(gb::viz::manifest_file_of(out_dir + "/" + o, o));
  const std::string manifest = gb::viz::manifest_build(info, inputs, outputs);
  write_text(out_dir + "/manifest.json", manifest);
  if (!key.empty()) {
    gb::viz::manifest_sign(manifest, key, out_dir + "/manifest.sig");
    gb::viz::attestation_info ai{info.tool_version,
                                 info.build,
                                 info.command,
                                 info.time,
                                 info.seeds,
                                 datasets,
                                 gb::digest_hex(gb::file_sha256(out_dir + "/report.json"))};
    write_text(out_dir + "/attestation.sig",
               gb::viz::dsse_bundle_sign(gb::viz::attestation_statement(d, ai), key, "", true));
  }
  prog.done();

  if (as_json)
    gb::cli::print_json_text(json_text);
  else {
    std::printf("glassbox audit of %s%s\n", model_path.c_str(), d.demo ? " (built-in demo model)" : "");
    if (const std::string q = gb::viz::quick_pass_text(d.bias); !q.empty())
      std::printf("%s (stratified sample, seed %llu): no bias verdict from a quick pass\n", q.c_str(),
                  static_cast<unsigned long long>(seed));
    for (const auto& v : d.verdicts)
      std::printf("  %-10s %-13s %s\n", v.area.c_str(), v.level.c_str(), v.text.c_str());
    std::printf("report: %s/report.html (also report.json, MODEL_CARD.md, manifest.json%s)\n",
                out_dir.c_str(), key.empty() ? "" : ", manifest.sig, attestation.sig");
  }
  return audit_exit(d, not_run, fail_on);
}

int run_verify_report(int argc, char** argv) {
  po::options_description desc("glassbox verify-report DIR [--key PUB.pem] [--json]");
  std::string dir, pub;
  bool as_json = false;
  desc.add_options()("help,h", "show options")("dir", po::value(&dir), "report folder")(
      "key", po::value(&pub), "PEM public key to check manifest.sig")("json", po::bool_switch(&as_json),
                                                                      "print one JSON document (errors too)");
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc, {{"dir", 1}});
  (void)vm;
  if (dir.empty()) return gb::cli::missing_positional("DIR");
  gb::viz::report_check c;
  try {
    c = gb::viz::report_verify(dir, pub);
    gb::viz::attestation_check(dir, pub, c);
  } catch (const gb::failure& f) {
    return gb::cli::report_error(f.err());
  }
  if (as_json) {  // schema "glassbox-verify-report/1": verdict, counts, every problem and note
    gb::cli::json j{{"dir", dir},
                    {"verdict", c.ok() ? "OK" : "FAILED"},
                    {"ok", c.ok()},
                    {"files_checked", c.files_checked},
                    {"signature_checked", !pub.empty()},
                    {"problems", c.problems},
                    {"notes", c.notes}};
    gb::cli::print_json(j);
    return c.ok() ? gb::cli::exit_ok : gb::cli::exit_findings;
  }
  for (const auto& p : c.problems) std::printf("CHANGED  %s\n", p.c_str());
  for (const auto& n : c.notes) std::printf("note     %s\n", n.c_str());
  std::printf("%s: %zu files checked, %zu problems\n", c.ok() ? "OK" : "FAILED", c.files_checked,
              c.problems.size());
  return c.ok() ? gb::cli::exit_ok : gb::cli::exit_findings;
}

}  // namespace

GB_COMMAND("audit",
           "everything, as a report folder (HTML, JSON, model card, signed manifest); no MODEL = demo",
           run_audit);
GB_COMMAND("verify-report", "check a report folder against its manifest (and signature)", run_verify_report);
