// glassbox bias: bias suites on the model's own files, scored as their reference implementations do.

#include <algorithm>
#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "formats/file_text.h"
#include "probes/bias.h"
#include "probes/bias_sample.h"
#include "probes/lm_scorer.h"
#include "probes/session.h"
#include "probes/shard.h"
#include "viz/report_bias.h"
#include "viz/result_tables.h"

namespace po = boost::program_options;

namespace {

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) gb::fail(gb::errc::io, 0, "cannot write " + path + " (" + std::strerror(errno) + ")");
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string t;
  while (std::getline(ss, t, ','))
    if (!t.empty()) out.push_back(t);
  return out;
}

const std::vector<std::string> known_suites = {"crows-pairs",  "stereoset", "winobias", "bbq",
                                               "holisticbias", "templates", "all"};

int run_bias(int argc, char** argv) {
  po::options_description desc(
      "glassbox bias MODEL [--suite NAME ...] [--data PATH | --data-root DIR] [options]\n"
      "suites: crows-pairs, stereoset, winobias, bbq, holisticbias, templates, all");
  std::string model_path, tok_path, data, data_root, variant, out_dir, shard_arg;
  std::vector<std::string> suites_arg;
  size_t shards = 0;
  gb::probes::bias_options o;
  int threads = 0;
  bool as_json = false, records = false, no_reuse = false;
  std::string table_format;
  desc.add_options()("help,h", "show options")("model", po::value(&model_path), "model file or folder")(
      "tokenizer", po::value(&tok_path),
      "tokenizer file when the model has none (tok512.bin, tokenizer.model)")(
      "suite", po::value(&suites_arg)->composing(),
      "suite to run (repeatable or comma-separated; default: all)")("data", po::value(&data),
                                                                    "dataset file or folder (one suite)")(
      "data-root", po::value(&data_root),
      "folder laid out like shared/data/bias (default: $GLASSBOX_DATA/bias)")(
      "variant", po::value(&variant), "crows-pairs: harness (default) or bias-bench")(
      "limit", po::value(&o.limit)->default_value(0),
      "quick pass: score N items per suite, sampled from every category (0 = all)")(
      "seed", po::value(&o.seed)->default_value(1), "seed for the bootstrap and the --limit sample")(
      "resamples", po::value(&o.resamples)->default_value(1000), "bootstrap resamples")(
      "threads", po::value(&threads)->default_value(0), "threads (0 = all cores)")(
      "no-prefix-reuse", po::bool_switch(&no_reuse),
      "run every sentence from position 0 (for timing the KV-cache reuse)")(
      "records", po::bool_switch(&records), "include per-item records in --json")(
      "json", po::bool_switch(&as_json), "print one JSON document")(
      "format", po::value(&table_format), "print one table to paste elsewhere: table, md (Markdown) or csv")(
      "shard", po::value(&shard_arg),
      "score shard I/N of every suite's items (or auto: from Slurm, MPI, Kubernetes) "
      "into a partial result in -o DIR, for `glassbox merge`")(
      "shards", po::value(&shards)->default_value(0), "N for --shard auto under a Kubernetes Indexed Job")(
      "output,o", po::value(&out_dir),
      "write bias.json (with records) and one SVG chart per suite to this folder");
  gb::cli::parse_command(argc, argv, desc);
  if (model_path.empty()) return gb::cli::missing_positional("MODEL");
  if (!variant.empty()) gb::cli::check_choice("variant", variant, {"harness", "bias-bench"});
  const auto format = gb::viz::table_format_parse(table_format);
  if (!table_format.empty() && !format)
    return gb::cli::usage_error("bias", std::string("--format must be ") + gb::viz::k_table_formats);
  if (data_root.empty())
    if (const char* d = std::getenv("GLASSBOX_DATA"); d && *d) data_root = std::string(d) + "/bias";
  std::vector<std::string> suites;
  for (const auto& a : suites_arg)
    for (const auto& n : split(a)) {
      gb::cli::check_choice("suite", n, known_suites);
      suites.push_back(n);
    }
  if (suites.empty() || std::find(suites.begin(), suites.end(), "all") != suites.end())
    suites = {"crows-pairs", "stereoset", "winobias", "bbq", "holisticbias", "templates"};
  if (!data.empty() && suites.size() != 1)
    return gb::cli::usage_error("bias", "--data names one dataset; give exactly one --suite");
  gb::cli::check_output_dir("output", out_dir);
  o.variant = variant;
  o.progress = !as_json;
  gb::probes::shard_spec shard;
  if (!shard_arg.empty()) {
    try {
      shard = gb::probes::shard_parse(shard_arg, shards, gb::probes::process_env);
    } catch (const gb::failure& f) {
      return gb::cli::report_error(f.err());
    }
    if (out_dir.empty()) {
      std::fprintf(stderr, "glassbox bias: --shard writes a partial result: give -o DIR\n");
      return gb::cli::exit_usage;
    }
    std::fprintf(stderr, "glassbox bias: shard %zu of %zu (%s)\n", shard.index, shard.count,
                 shard.source.c_str());
    o.shard_index = shard.index;
    o.shard_count = shard.count;
  }
  gb::engine::run_options ro;
  ro.threads = threads;
  auto s = gb::probes::session_open(model_path, tok_path, ro);
  if (!s) return gb::cli::report_error(s.err());
  // sentences are packed into prefix tries and scored by up to `threads` runners (see probes/lm_scorer.h)
  const int workers =
      threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  gb::probes::engine_scorer scorer(s.value(), workers);
  scorer.set_prefix_reuse(!no_reuse);
  gb::probes::sentence_cache cache(scorer);
  std::vector<gb::probes::suite_result> results;
  gb::probes::part_header part;  // datasets' digests when sharded
  for (const auto& suite : suites) {
    std::string path = !data.empty() ? data : gb::probes::bias_dataset_path(data_root, suite);
    gb::probes::bias_options so = o;
    if (suite != "crows-pairs") so.variant.clear();
    try {
      if (!shard_arg.empty()) part.datasets[suite] = gb::probes::dataset_digest(suite, path);
      if (suite != "templates" && (path.empty() || !gb::path_exists(path))) {
        gb::probes::suite_result r;
        r.suite = suite;
        r.error = path.empty() ? "no dataset: pass --data or --data-root" : "dataset not found: " + path;
        results.push_back(r);
        continue;
      }
      results.push_back(gb::probes::suite_run_named(cache, suite, path, so));
    } catch (gb::failure& f) {
      if (f.err().where.empty()) f.err().where = path;
      return gb::cli::report_error(f.err());
    }
  }
  if (!shard_arg.empty()) {
    std::string suites_text;  // as the parts compare it
    for (const auto& n : suites) suites_text += (suites_text.empty() ? "" : ",") + n;
    try {
      const std::string path = gb::probes::part_save(
          out_dir,
          gb::probes::part_header_of(s.value(), model_path, tok_path, shard, part.datasets,
                                     {{"suites", suites_text},
                                      {"variant", variant},
                                      {"limit", std::to_string(o.limit)},
                                      {"seed", std::to_string(o.seed)},
                                      {"resamples", std::to_string(o.resamples)},
                                      {"prefix_reuse", no_reuse ? "off" : "on"}}),
          results);
      std::printf(
          "wrote %s: shard %zu of %zu, a partial result (merge the %zu parts with `glassbox merge`)\n",
          path.c_str(), shard.index, shard.count, shard.count);
    } catch (const gb::failure& f) {
      return gb::cli::report_error(f.err());
    }
    return gb::cli::exit_ok;
  }
  if (!out_dir.empty()) {
    write_file(out_dir + "/bias.json", gb::viz::bias_json(results, true, 2, true) + "\n");
    for (const auto& r : results)  // BBQ: accuracy and bias scores on separate charts, as in the report
      if (r.error.empty())
        for (const auto& c : gb::viz::bias_chart_files(r)) write_file(out_dir + "/" + c.name, c.svg);
  }
  if (as_json)
    gb::cli::print_json_text(gb::viz::bias_json(results, records, 2, true));
  else if (format)
    std::printf("%s", gb::viz::table_render(gb::viz::bias_table(results), *format).c_str());
  else {
    std::printf("model: %s (tokenizer: %s)\n\n", model_path.c_str(), s.value().tokenizer_source.c_str());
    std::printf("%s", gb::viz::bias_text(results).c_str());
    for (const auto& r : results)  // a quick pass says so, and is not a measurement of the whole suite
      if (r.error.empty() && r.items_total > r.items)
        std::printf("QUICK PASS: %s scored %zu of %zu items (stratified sample, seed %llu); not a verdict\n",
                    r.suite.c_str(), r.items, r.items_total, static_cast<unsigned long long>(o.seed));
  }
  // a requested suite that could not run is not a success
  int rc = gb::cli::exit_ok;
  for (const auto& r : results)
    if (!r.error.empty()) {
      if (!gb::cli::json_mode())  // under --json the document carries each suite's error
        gb::cli::fail_message(gb::cli::exit_findings, "suite " + r.suite + " did not run: " + r.error,
                              "Pass --data FILE (one suite) or --data-root DIR, or leave the suite out",
                              "not_run");
      rc = gb::cli::exit_findings;
    }
  return rc;
}

}  // namespace

GB_COMMAND("bias",
           "bias suites (CrowS-Pairs, StereoSet, WinoBias, BBQ, HolisticBias, templates) with intervals",
           run_bias);
