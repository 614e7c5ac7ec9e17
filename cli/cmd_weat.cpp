// glassbox weat: WEAT / SEAT effect sizes and permutation p-values on word-embedding files.
#include <algorithm>
#include <boost/program_options.hpp>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "formats/archive.h"
#include "formats/embeddings.h"
#include "formats/file_text.h"
#include "formats/json_meta.h"
#include "probes/bias.h"
#include "probes/embedding_probe.h"
#include "probes/session.h"
#include "probes/weat.h"

namespace po = boost::program_options;
using nlohmann::json;

namespace {

std::string stem(const std::string& path) {
  auto s = path.find_last_of('/');
  std::string b = s == std::string::npos ? path : path.substr(s + 1);
  auto d = b.find('.');
  return d == std::string::npos ? b : b.substr(0, d);
}

// A tests file is either a SEAT/sent-bias test (targ1/targ2/attr1/attr2) or WEFE's WEAT.json word sets,
// from which the ten standard Caliskan et al. tests are composed.
std::vector<gb::probes::weat_sets> load_tests(const std::string& path) {
  std::string text = gb::file_text(path, "test file");
  gb::json_check_depth(text, 0, path.c_str());
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) gb::fail(gb::errc::bad_json, 0, path + ": not a JSON object");
  if (j.contains("targ1")) return {gb::probes::weat_sets_parse_seat(text, stem(path))};
  if (j.contains("flowers")) return gb::probes::weat_standard_tests(text);
  gb::fail(gb::errc::bad_json, 0,
           path + ": neither a SEAT test (targ1, targ2, attr1, attr2) nor WEAT.json word sets");
}

// Exit 1 (with the hint that would fix it) when a requested test could not be computed or --only named a
// test that does not exist; under --json the document already carries each test's error.
int failed_tests(const std::vector<gb::probes::weat_result>& results, const std::vector<std::string>& only,
                 bool lower, bool is_model, bool quiet) {
  size_t failed = 0;
  for (const auto& r : results) failed += !r.error.empty();
  std::vector<std::string> absent;
  for (const auto& n : only)
    if (std::none_of(results.begin(), results.end(), [&](const auto& r) { return r.name == n; }))
      absent.push_back(n);
  if (failed == 0 && absent.empty()) return gb::cli::exit_ok;
  if (quiet) return gb::cli::exit_findings;
  if (!absent.empty()) {
    std::string names;
    for (const auto& n : absent) names += (names.empty() ? "" : ", ") + n;
    return gb::cli::fail_message(gb::cli::exit_findings, "--only names tests not in the files: " + names,
                                 "Check the names against the test list above");
  }
  std::string hint = !lower && !is_model
                         ? "Uncased embeddings (GloVe) need --lowercase; else check the word lists"
                         : "Check that the word lists' words are in the vocabulary";
  return gb::cli::fail_message(
      gb::cli::exit_findings,
      std::to_string(failed) + " of " + std::to_string(results.size()) + " tests could not be computed",
      hint);
}

int run_weat(int argc, char** argv) {
  po::options_description desc(
      "glassbox weat EMBEDDINGS|MODEL --tests FILE [--tests FILE ...] [options]\n"
      "On a model: word tests use input embeddings (mean of the word's token embeddings); sentence tests\n"
      "(sent-*.jsonl) use SEAT encodings (final-norm hidden states mean-pooled, L2-normalised).");
  std::string mode = "auto", tok_path;
  std::string emb_path;
  std::vector<std::string> tests;
  std::vector<std::string> only;
  gb::probes::weat_options opt;
  bool as_json = false, lower = false;
  int threads = 0;
  desc.add_options()("help,h", "show options")("embeddings", po::value(&emb_path),
                                               "GloVe / word2vec text or binary file")(
      "tests", po::value(&tests)->multitoken(),
      "SEAT test files (weat1.jsonl ...) or WEAT.json (standard tests 1-10)")(
      "only", po::value(&only)->multitoken(), "run only these test names (e.g. weat9)")(
      "seed", po::value(&opt.seed)->default_value(1), "seed for Monte Carlo p-values and bootstrap")(
      "samples", po::value(&opt.samples)->default_value(100000),
      "Monte Carlo samples when exact enumeration is too large")(
      "resamples", po::value(&opt.bootstrap)->default_value(1000),
      "bootstrap resamples for the effect-size interval")(
      "lowercase", po::bool_switch(&lower),
      "look words up lower-cased when the exact word is absent (uncased embeddings)")(
      "mode", po::value(&mode)->default_value("auto"),
      "auto, embeddings (a vector file), input or seat (a model)")("tokenizer", po::value(&tok_path),
                                                                   "tokenizer file for a model without one")(
      "json", po::bool_switch(&as_json), "print one JSON document")(
      "threads", po::value(&threads)->default_value(0),
      "threads (0 = all cores): tests in parallel, the same result for any count");
  gb::cli::parse_command(argc, argv, desc, {{"embeddings", 1}});
  if (emb_path.empty()) return gb::cli::missing_positional("EMBEDDINGS|MODEL");
  if (tests.empty()) return gb::cli::missing_positional("--tests FILE");
  gb::cli::check_choice("mode", mode, {"auto", "embeddings", "input", "seat"});
  // A model (any format glassbox reads) or a vector file.
  bool is_model = mode == "input" || mode == "seat";
  if (mode == "auto") {
    auto probe = gb::archive_open(emb_path, {false, true});
    is_model = probe && !probe.value().tensors.empty();
  }
  gb::embedding_table table;
  std::optional<gb::probes::session> sess;
  gb::probes::vector_lookup model_input, model_seat;
  if (is_model) {
    auto s = gb::probes::session_open(emb_path, tok_path);
    if (!s) return gb::cli::report_error(s.err());
    sess.emplace(std::move(s).value());
    table.format = "model";
    table.dim = sess->m->hp.n_embd;
    try {
      model_input = gb::probes::input_embedding_lookup(*sess);
      if (sess->run) model_seat = gb::probes::sentence_encoding_lookup(*sess);
    } catch (gb::failure& f) {
      return gb::cli::report_error(f.err());
    }
  } else {
    auto emb = gb::embeddings_open(emb_path);
    if (!emb) return gb::cli::report_error(emb.err());
    table = std::move(emb).value();
  }
  auto lookup = [&](const gb::probes::weat_sets& test, const std::string& w) -> std::vector<float> {
    if (is_model) {
      bool seat = mode == "seat" || (mode != "input" && test.name.rfind("sent-", 0) == 0);
      if (seat && !model_seat) return {};
      return seat ? model_seat(w) : model_input(w);
    }
    const float* v = table.find(w);
    if (!v && lower) {
      std::string l = w;
      for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      v = table.find(l);
    }
    if (!v) return {};
    return std::vector<float>(v, v + table.dim);
  };
  std::vector<gb::probes::weat_sets> selected;
  for (const auto& t : tests) {
    std::vector<gb::probes::weat_sets> sets;
    try {
      sets = load_tests(t);
    } catch (gb::failure& f) {
      f.err().where = t;
      return gb::cli::report_error(f.err());
    }
    for (const auto& s : sets) {
      if (!only.empty() && std::find(only.begin(), only.end(), s.name) == only.end()) continue;
      selected.push_back(s);
    }
  }
  const std::vector<gb::probes::weat_result> results =
      gb::probes::weat_run_all(selected, lookup, opt, threads);
  if (as_json) {
    json out;
    out["embeddings"] = {
        {"path", emb_path}, {"format", table.format}, {"words", table.size()}, {"dim", table.dim}};
    out["definition"] =
        "sent-bias weat.py: effect size with sample std (ddof=1); one-sided permutation p-value";
    out["seed"] = opt.seed;
    json arr = json::array();
    for (const auto& r : results) {
      json j = {{"test", r.name},
                {"X", r.x_name},
                {"Y", r.y_name},
                {"A", r.a_name},
                {"B", r.b_name},
                {"n", {{"X", r.nx}, {"Y", r.ny}, {"A", r.na}, {"B", r.nb}}},
                {"missing_words", r.missing},
                {"effect_size", r.effect_size},
                {"p_value", r.p_value},
                {"statistic", r.statistic},
                {"p_method", r.exact ? "exact" : "monte-carlo"},
                {"partitions", r.partitions},
                {"equal_sizes", r.equal_sizes},
                {"effect_size_ci95", {r.effect_ci.lo, r.effect_ci.hi}},
                {"bootstrap_resamples", r.effect_ci.resamples}};
      if (!r.error.empty()) j["error"] = r.error;
      arr.push_back(j);
    }
    out["tests"] = arr;
    gb::cli::print_json(out);
    return failed_tests(results, only, lower, is_model, true);
  }
  if (is_model)
    std::printf(
        "model: %s (word tests: mean input embedding of the word's tokens; sentence tests: SEAT, "
        "mean-pooled final-norm states, L2-normalised; dim %lld)\n",
        emb_path.c_str(), static_cast<long long>(table.dim));
  else
    std::printf("embeddings: %s (%s, %zu words, dim %lld)\n", emb_path.c_str(), table.format.c_str(),
                table.size(), static_cast<long long>(table.dim));
  std::printf("%-12s %-28s %-28s %8s %18s %10s %s\n", "test", "targets X / Y", "attributes A / B", "d",
              "95% CI", "p", "n X/Y/A/B (missing)");
  for (const auto& r : results) {
    if (!r.error.empty()) {
      std::printf("%-12s error: %s\n", r.name.c_str(), r.error.c_str());
      continue;
    }
    std::string xy = r.x_name + " / " + r.y_name, ab = r.a_name + " / " + r.b_name;
    std::printf("%-12s %-28.28s %-28.28s %8.3f [%7.3f, %7.3f] %10.2e %zu/%zu/%zu/%zu (%zu)%s\n",
                r.name.c_str(), xy.c_str(), ab.c_str(), r.effect_size, r.effect_ci.lo, r.effect_ci.hi,
                r.p_value, r.nx, r.ny, r.na, r.nb, r.missing.size(), r.exact ? " exact" : "");
  }
  return failed_tests(results, only, lower, is_model, false);
}

}  // namespace

GB_COMMAND("weat", "WEAT/SEAT effect sizes and p-values on word embeddings", run_weat);
