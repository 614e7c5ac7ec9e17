// probes/audit_run.cpp: the computation of `glassbox audit` (see probes/audit_run.h).
#include "probes/audit_run.h"

#include <algorithm>
#include <map>

#include "formats/file_text.h"
#include "inspect/parallel.h"
#include "inspect/synth_demo.h"
#include "inspect/tensor_values.h"
#include "probes/bias_sample.h"
#include "probes/lm_scorer.h"

namespace gb::probes {

namespace {

void say(const audit_options& o, const std::string& what) {
  if (o.step) o.step(what);
}

bias_options bias_options_of(const audit_options& o) {
  bias_options bo;
  bo.limit = o.limit;
  bo.seed = o.seed;
  bo.resamples = o.resamples;
  bo.progress = o.progress;
  return bo;
}

using suite_fn = std::function<suite_result(const std::string& suite, const std::string& path)>;

// The bias suites into d.bias (or d.missing, with why). `result` computes a suite, or takes it from merged
// shards; a suite that could not run is kept as a result with `error` (what a shard records).
void run_suites(audit_data& d, const std::vector<std::string>& suites, const std::string& data_root,
                const suite_fn& result) {
  for (const auto& suite : suites) {
    const std::string path = bias_dataset_path(data_root, suite);
    suite_result r;
    r.suite = suite;
    if (suite != "templates" && (path.empty() || !path_exists(path)))
      r.error = path.empty() ? "dataset not available (pass --data-root)" : "dataset not found: " + path;
    else {
      try {
        r = result(suite, path);
      } catch (const failure& f) {
        r.error = f.err().message;
      }
    }
    if (r.error.empty())
      d.bias.push_back(std::move(r));
    else
      d.missing.push_back({"bias suite " + suite, r.error});
  }
}

// The "Bias drift" section: every suite that ran, scored again on the baseline, paired item by item.
void add_bias_drift(audit_data& d, session& s, const audit_options& o) {
  d.baseline_path = o.baseline;
  auto b = session_open(o.baseline, o.baseline_tok);
  std::optional<error> bad = b ? session_unusable(b.value(), o.baseline) : std::optional<error>(b.err());
  if (bad) {
    d.missing.push_back({"bias drift", bad->message});
    return;
  }
  engine_scorer sb(b.value()), sd(s);
  sentence_cache cb(sb), cd(sd);
  bias_options bo;
  bo.limit = o.limit;
  bo.seed = o.seed;
  bo.resamples = o.resamples;
  diff_options dopt;
  dopt.seed = o.seed;
  dopt.resamples = o.resamples;
  for (const auto& r : d.bias) {
    if (!r.error.empty()) continue;
    const std::string path = bias_dataset_path(o.data_root, r.suite);
    try {
      std::map<std::string, std::string> texts;
      suite_result rb = suite_run_named(cb, r.suite, path, bo, &texts, o.datasets.get());
      suite_change c = bias_diff(rb, r, dopt, texts);
      c.dataset_digest = bias_dataset_digest(r.suite, path);
      c.tokenizers_differ = !bias_tokenizers_agree(sb, sd, texts);
      d.bias_drift.push_back(std::move(c));
    } catch (const failure& f) {
      d.missing.push_back({"bias drift " + r.suite, f.err().message});
    }
  }
}

// The "Bias localization" section: direct logit attribution of the suite's minimal pairs.
void add_localization(audit_data& d, session& s, const audit_options& o) {
  auto w = dla_weights::create(*s.m);
  if (!w) {
    d.missing.push_back({"bias localization", w.err().message});
    return;
  }
  try {
    engine_scorer sc(s);
    const auto pairs =
        localize_pairs_read(sc, o.localize, bias_dataset_path(o.data_root, o.localize), o.limit);
    localize_options lo;
    lo.seed = o.seed;
    lo.resamples = o.resamples;
    auto r = localize_pairs(*s.run, w.value(), pairs, lo);
    if (!r) {
      d.missing.push_back({"bias localization", r.err().message});
      return;
    }
    ablate_options ao;  // the confirmation: top 3 against 10 random sets of 3
    ao.seed = o.seed;
    ao.resamples = o.resamples;
    auto a = ablate_confirm(*s.run, r.value(), ao);
    if (a)
      d.localize_ablation = std::move(a.value());
    else
      d.missing.push_back({"bias localization ablation", a.err().message});
    d.localize_suite = o.localize;
    d.localize = std::move(r.value());
  } catch (const failure& f) {
    d.missing.push_back({"bias localization", f.err().message});
  }
}

// Hashes, statistics and the files' identity (OMS v1.0 subject digest, reusing the file digests).
void add_hashes(audit_data& d, const session& s, const std::vector<tensor_item>& items,
                const std::string& scan_root) {
  try {
    d.hashes = hash_model(items, s.ar->files, {});
    d.have_hashes = true;
  } catch (const failure& f) {
    d.missing.push_back({"hashes and statistics", f.err().message});
  }
  std::map<std::string, std::string> known;
  for (const file_hash& f : d.hashes.files)
    if (!f.sha256_hex.empty()) known[oms_known_key(f.path)] = f.sha256_hex;
  d.files_identity = oms_identity_of(scan_root, known);
  if (!d.files_identity.error.empty())
    d.missing.push_back({"files identity (OMS digest)", d.files_identity.error});
}

}  // namespace

void audit_require_runnable(const session& s, const std::string& command) {
  if (!s.run || !s.tok)
    fail(errc::unsupported, 0,
         command + ": the model cannot run text here (" +
             (s.run ? std::string("no tokenizer") : s.run_error) + ")");
}

const std::vector<std::string>& audit_suite_names() {
  static const std::vector<std::string> names = {"templates", "crows-pairs", "stereoset",
                                                 "winobias",  "bbq",         "holisticbias"};
  return names;
}

std::string audit_start(audit_data& d, std::string& model_path, const std::string& out_dir, uint64_t seed) {
  d.tool_version = GB_VERSION, d.seed = seed;
  const std::string scan_root = model_path.empty() ? out_dir + "/demo-model" : model_path;
  if (model_path.empty()) {
    const demo_model demo = synth_demo(scan_root);
    d.demo = true, d.demo_planted = demo.planted, model_path = demo.path;
  }
  d.model_path = model_path;
  return scan_root;
}

std::vector<std::string> audit_suites_select(const std::vector<std::string>& names, bool given) {
  const std::vector<std::string>& all = audit_suite_names();
  if (!given) return all;
  std::vector<std::string> out;
  for (const auto& t : names)
    if (t == "all")
      out.insert(out.end(), all.begin(), all.end());
    else if (t != "none" && std::find(out.begin(), out.end(), t) == out.end())
      out.push_back(t);
  return out;
}

void audit_inspect(audit_data& d, const session& s, const std::string& scan_root, const audit_options& o) {
  d.summary = summary_build(*s.m);
  d.hp = s.m->hp;
  d.family = arch_family_name(s.m->family);
  d.tokenizer_source = s.tokenizer_source;
  d.model_findings = s.ar->findings;
  d.model_findings.insert(d.model_findings.end(), s.m->findings.begin(), s.m->findings.end());

  say(o, "scanning files (nothing is executed)");
  d.scan = scan_paths({scan_root});

  say(o, "hashing and statistics");
  std::vector<tensor_item> items = tensor_items(*s.m);
  add_hashes(d, s, items, scan_root);

  say(o, "spectral metrics and architecture graph");
  if (!o.spectral) {
    d.missing.push_back({"spectral metrics", "skipped with --no-spectral"});
    return;
  }
  try {
    spectral_options so;
    so.threads = o.threads;
    d.spectral = spectral_compute(items, so);
    d.have_spectral = true;
  } catch (const failure& f) {
    d.missing.push_back({"spectral metrics", f.err().message});
  }
}

namespace {
// "suite: why" of each requested bias suite that could not run (d.missing), appended to not_run.
void suites_not_run(const audit_data& d, const audit_options& o, std::vector<std::string>& not_run) {
  if (!o.suites_requested) return;  // the default, every suite with a dataset: the others are skipped
  for (const auto& m : d.missing)
    if (m.what.rfind("bias suite ", 0) == 0) not_run.push_back(m.what.substr(11) + ": " + m.why);
}
}  // namespace

std::vector<std::string> audit_probe(audit_data& d, session& s, const audit_options& o) {
  say(o, "running standard prompts");
  if (s.run && s.tok) {
    d.ran_model = true;
    for (const auto& p : standard_prompts()) d.prompts.push_back(probe_prompt(s, p));
  } else {
    d.run_error = s.run ? "no tokenizer" : s.run_error;
    d.missing.push_back({"forward pass (internals, bias)", d.run_error});
  }

  say(o, "bias suites");
  std::vector<std::string> not_run;  // requested suites that could not run
  if (!d.ran_model && o.suites_requested)
    for (const auto& suite : o.suites) not_run.push_back(suite + ": " + d.run_error);
  if (d.ran_model && !o.suites.empty()) {
    engine_scorer scorer(s, threads_resolve(o.threads));
    sentence_cache cache(scorer, o.tokens);  // the texts the estimate tokenized are not tokenized again
    const bias_options bo = bias_options_of(o);
    run_suites(d, o.suites, o.data_root, [&](const std::string& suite, const std::string& path) {
      if (!o.use_merged) return suite_run_named(cache, suite, path, bo, nullptr, o.datasets.get());
      for (const auto& r : o.merged)
        if (r.suite == suite) return r;
      fail(errc::not_found, 0, "no result in the shards' parts (see their logs)");
    });
    suites_not_run(d, o, not_run);
  }
  if (!o.localize.empty() && d.ran_model) add_localization(d, s, o);
  if (!o.baseline.empty() && !d.bias.empty()) add_bias_drift(d, s, o);
  if (o.datasets) o.datasets->sets.clear();  // read once, used: not held through the report
  d.missing.push_back(
      {"training data, intended use, energy", "not recoverable from weights (provider statements)"});
  d.missing.push_back({"capability benchmarks", "not part of a weights audit"});
  d.missing.push_back({"adversarial testing (red teaming)", "needs a deployed system and human testers"});
  return not_run;
}

part_header audit_part_header(const session& s, const std::string& model_path, const std::string& tok_path,
                              const shard_spec& shard, const audit_options& o) {
  std::map<std::string, std::string> datasets;
  std::string suites_text;  // as the parts compare it
  for (const auto& suite : o.suites) {
    suites_text += (suites_text.empty() ? "" : ",") + suite;
    const std::string path = bias_dataset_path(o.data_root, suite);
    datasets[suite] = dataset_digest(suite, path);
  }
  return part_header_of(s, model_path, tok_path, shard, datasets,
                        {{"command", "audit"},
                         {"suites", suites_text},
                         {"limit", std::to_string(o.limit)},
                         {"seed", std::to_string(o.seed)},
                         {"resamples", std::to_string(o.resamples)}});
}

std::string audit_shard(session& s, const part_header& run, const shard_spec& shard, const audit_options& o,
                        const std::string& out_dir, std::vector<std::string>& not_run) {
  bias_options bo = bias_options_of(o);
  bo.shard_index = shard.index;
  bo.shard_count = shard.count;
  engine_scorer scorer(s);
  sentence_cache cache(scorer);
  audit_data d;
  run_suites(d, o.suites, o.data_root, [&](const std::string& suite, const std::string& path) {
    return suite_run_named(cache, suite, path, bo);
  });
  suites_not_run(d, o, not_run);
  return part_save(out_dir, run, d.bias);
}

audit_estimate audit_estimate_of(session& s, double load_seconds, const audit_options& o,
                                 double token_seconds, audit_data& planned) {
  spectral_options so;
  audit_workload w = audit_workload_of(tensor_items(*s.m), summary_build(*s.m).file_bytes, so);
  w.load_seconds = load_seconds;
  w.spectral = o.spectral;
  if (!s.run || !s.tok) return audit_estimate_build(w, audit_rates_measure(nullptr, {}, 0), o.threads);
  // the planning pass: every suite's own code on a count-only scorer, as the run will score it
  engine_scorer counter(s, threads_resolve(o.threads));
  counter.set_count_only(true);
  sentence_cache cache(counter, o.tokens);  // its token ids are kept for the run (audit_probe)
  bias_options bo = bias_options_of(o);
  bo.progress = false;
  bo.resamples = 0;
  run_suites(planned, o.suites, o.data_root, [&](const std::string& suite, const std::string& path) {
    const size_t packed0 = counter.tokens_packed();
    suite_result r = suite_run_named(cache, suite, path, bo, nullptr, o.datasets.get());
    w.suites.push_back({suite, r.tokens, r.tokens_computed, counter.tokens_packed() - packed0});
    return r;
  });
  engine_scorer scorer(s, threads_resolve(o.threads));
  const audit_rates rates = audit_rates_measure(&scorer, bias_options_of(o), token_seconds);
  return audit_estimate_build(w, rates, o.threads);
}

std::vector<suite_result> audit_parts_merge(const part_header& run, const std::vector<std::string>& paths) {
  std::vector<part> parts;
  for (const auto& p : part_paths(paths)) parts.push_back(part_read(p));
  merged m = shard_merge(parts);
  part_check_same({"this audit", run, {}}, {parts[0].path, m.header, {}});
  return std::move(m.results);
}

audit_estimate audit_plan(session& s, double load_seconds, const audit_options& o, audit_data& planned) {
  audit_require_runnable(s, "audit --plan");
  return audit_estimate_of(s, load_seconds, o, 2.0, planned);
}

}  // namespace gb::probes
