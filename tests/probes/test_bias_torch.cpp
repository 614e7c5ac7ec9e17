// CrowS-Pairs on stories260K against an independent computation: bench/peer_bias_torch.py (its own
// safetensors reader, a PyTorch LLaMA forward in float64 with HF rotate-half RoPE, SentencePiece with the HF
// folder's tokenizer.model). glassbox scores the GGUF (its own vocabulary, interleaved RoPE) through the
// probes API and the HF folder through `glassbox bias --json --records`. Every sentence's token ids must be
// equal, every LL within 1e-3, and so every percentage exactly equal.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "probes/bias.h"
#include "probes/lm_scorer.h"
#include "probes/session.h"
#include "tests/support/data.h"

using namespace gb;
using namespace gb::probes;
using json = nlohmann::json;

namespace {

struct peer_sentence {
  std::vector<int32_t> ids;  // context + continuation
  double ll = 0;
};

// false (with a SKIP message) when /usr/bin/python3 lacks torch or sentencepiece; a failure under CI
bool torch_ready() {
  if (std::system("/usr/bin/python3 -c 'import torch, sentencepiece' >/dev/null 2>&1") == 0) return true;
  if (test::in_ci())
    FAIL(
        "CI: /usr/bin/python3 cannot import torch and sentencepiece (install python3-torch "
        "python3-sentencepiece)");
  MESSAGE("SKIP: /usr/bin/python3 cannot import torch and sentencepiece");
  return false;
}

// (pair id, "more"/"less") -> the peer's ids and LL; and its summary line.
std::map<std::pair<std::string, std::string>, peer_sentence> run_peer(const std::string& model,
                                                                      const std::string& csv, json& summary) {
  // One thread, OpenBLAS single-threaded, passive OpenMP waits: stories260K is tiny, and under a loaded
  // ctest -j a 2-thread peer spent its time spinning (400 sentences: 2.2 CPU s vs 14.6 with 2 threads).
  std::string cmd = "OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 '" GB_SOURCE_DIR
                    "/bench/peer_bias_torch.py' --model '" +
                    model + "' --data '" + csv + "' --dtype f64 --threads 1 --batch 32";
  std::string out;
  test::run_command(cmd, &out);  // its exit status shows in the sizes the callers check
  std::map<std::pair<std::string, std::string>, peer_sentence> m;
  size_t pos = 0;
  while (pos < out.size()) {
    size_t eol = out.find('\n', pos);
    if (eol == std::string::npos) eol = out.size();
    json j = json::parse(out.substr(pos, eol - pos));
    pos = eol + 1;
    if (j.contains("summary")) {
      summary = j["summary"];
      continue;
    }
    m[{j["id"].get<std::string>(), j["which"].get<std::string>()}] = {j["ids"].get<std::vector<int32_t>>(),
                                                                      j["ll"].get<double>()};
  }
  return m;
}

// What both test cases start from: the peer's scores of every sentence and its summary, and the dataset.
struct reference {
  std::string csv;  // the dataset compared (the full CSV, or a stratified subset under the sanitizers)
  json summary;
  std::map<std::pair<std::string, std::string>, peer_sentence> peer;
  crows_data d;
};

#ifdef GB_SANITIZED
// Under the sanitizers (3-5x slower; the whole comparison once hit CTest's 600 s on a busy machine) the
// comparison runs on a stratified subset: every 8th pair of each bias type in file order (both directions,
// all 9 types, ~190 pairs), written as a CSV of the same layout. The normal build compares all 1508.
constexpr size_t subset_every = 8;
#else
constexpr size_t subset_every = 1;
#endif

// The CSV the comparison reads: csv itself, or the stratified subset (see subset_every) in a fresh folder;
// *pairs: how many pairs it holds.
std::string comparison_csv(const std::string& csv, const std::string& name, size_t* pairs) {
  const crows_data full = crows_pairs_read(csv);
  REQUIRE(full.bad_rows.empty());
  REQUIRE(full.pairs.size() == 1508u);
  *pairs = full.pairs.size();
  if (subset_every == 1) return csv;
  *pairs = 0;
  std::vector<std::string> lines;  // the file's physical lines; a record runs from its line to the next one's
  const std::vector<uint8_t> bytes = test::read_file(csv);
  std::istringstream in(std::string(bytes.begin(), bytes.end()));
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::map<std::string, size_t> seen;  // bias type -> pairs of it so far
  std::string out = lines.at(0) + "\n";
  for (size_t i = 0; i < full.pairs.size(); ++i) {
    const crows_pair& p = full.pairs[i];
    if (seen[p.bias_type]++ % subset_every != 0) continue;
    ++*pairs;
    const size_t end = i + 1 < full.pairs.size() ? full.pairs[i + 1].line : lines.size() + 1;
    for (size_t l = p.line; l < end; ++l) out += lines.at(l - 1) + "\n";
  }
  const std::string path = test::temp_dir(name) + "/crows_subset.csv";
  test::write_file(path, out);
  return path;
}

reference load_reference(const std::string& hf, const std::string& full_csv, const std::string& name) {
  reference r;
  size_t pairs = 0;
  r.csv = comparison_csv(full_csv, name, &pairs);
  r.peer = run_peer(hf, r.csv, r.summary);
  r.d = crows_pairs_read(r.csv);
  REQUIRE(r.d.pairs.size() == pairs);
  REQUIRE(r.peer.size() == 2 * r.d.pairs.size());
  return r;
}

// The harness's token sequence for a sentence as glassbox builds it: [prefix] + encode(s), or encode(s) when
// it already starts with the prefix token.
std::vector<int32_t> harness_ids(scorer& sc, const std::string& text) {
  std::vector<int32_t> cont = sc.encode(text);
  if (!cont.empty() && cont[0] == sc.start_token()) return cont;
  cont.insert(cont.begin(), sc.start_token());
  return cont;
}

}  // namespace

TEST_CASE("CrowS-Pairs on stories260K: every sentence LL and token id matches PyTorch + SentencePiece") {
  GB_DATA(gguf, "models/stories260K/stories260K.gguf");
  GB_DATA(hf, "models/stories260K/hf");
  GB_DATA(csv, "bias/crows-pairs/crows_pairs_anonymized.csv");
  if (!torch_ready()) return;
  const auto [subset, summary, peer, d] = load_reference(hf, csv, "bias_torch_api");
  REQUIRE(summary.is_object());
  CHECK(summary["pairs"].get<size_t>() == d.pairs.size());

  auto s = session_open(gguf);
  REQUIRE(s);
  engine_scorer sc(s.value());
  sentence_cache cache(sc);
  // the suite scores every sentence first through the batched path the CLI uses (packed tries); the loop
  // below reads the memoised scores (one-by-one scoring equals it: tests/probes/test_bias_prefix.cpp)
  bias_options o;
  o.resamples = 0;
  suite_result r = crows_pairs_run(cache, d, o);
  double max_diff = 0;
  size_t id_mismatch = 0, compared = 0;
  for (const crows_pair& p : d.pairs)
    for (const char* which : {"more", "less"}) {
      const std::string& text = std::string(which) == "more" ? p.sent_more : p.sent_less;
      const peer_sentence& ref = peer.at({p.id, which});
      if (harness_ids(sc, text) != ref.ids) {
        if (++id_mismatch <= 3) MESSAGE("token ids differ for pair " << p.id << " " << which << ": " << text);
      }
      const sentence_score& g = cache.harness(text);
      REQUIRE(g.ok);
      CHECK(g.tokens == ref.ids.size() - 1);
      max_diff = std::max(max_diff, std::fabs(g.ll - ref.ll));
      ++compared;
    }
  MESSAGE("stories260K CrowS-Pairs: "
          << compared << " sentences, max |LL(glassbox GGUF) - LL(PyTorch f64)| = " << max_diff);
  CHECK(compared == 2 * d.pairs.size());
  CHECK(id_mismatch == 0u);
  CHECK(max_diff < 1e-3);

  // percentages: exactly the peer's, overall and per bias type
  CHECK(r.skipped.empty());
  REQUIRE(r.records.size() == d.pairs.size());
  CHECK(r.groups[0].find("pct_stereotype")->value == summary["pct_stereotype"].get<double>());
  CHECK(r.groups[0].find("likelihood_diff")->value ==
        doctest::Approx(summary["likelihood_diff"].get<double>()).epsilon(1e-6));
  size_t types = 0;
  for (const auto& g : r.groups) {
    if (g.group == "overall") continue;
    REQUIRE(summary["by_type"].contains(g.group));
    CHECK(g.find("pct_stereotype")->value == summary["by_type"][g.group].get<double>());
    ++types;
  }
  CHECK(types == summary["by_type"].size());
  CHECK(types == 9u);
}

// A test case of its own so that CTest runs it beside the one above (tests/CMakeLists.txt shards them).
TEST_CASE("CrowS-Pairs through the CLI on the stories260K HF folder: every record's LLs match PyTorch") {
  GB_DATA(hf, "models/stories260K/hf");
  GB_DATA(csv, "bias/crows-pairs/crows_pairs_anonymized.csv");
  if (!torch_ready()) return;
  const auto [subset, summary, peer, d] = load_reference(hf, csv, "bias_torch_cli");
  // the CLI on the HF folder (safetensors + its tokenizer files): the same LLs per record
  std::string out;
  REQUIRE(test::run_glassbox(
              "bias '" + hf + "' --suite crows-pairs --data '" + subset + "' --json --records --resamples 0",
              &out) == 0);
  json j = json::parse(out);
  const json& cr = j["bias"][0];
  REQUIRE(cr["records"].size() == d.pairs.size());
  double cli_max = 0;
  for (const json& rec : cr["records"]) {
    const std::string id = rec["id"].get<std::string>();
    cli_max = std::max(cli_max, std::fabs(rec["values"]["ll_more"].get<double>() - peer.at({id, "more"}).ll));
    cli_max = std::max(cli_max, std::fabs(rec["values"]["ll_less"].get<double>() - peer.at({id, "less"}).ll));
  }
  MESSAGE("CLI on the HF folder: max |LL - LL(PyTorch f64)| = " << cli_max);
  CHECK(cli_max < 1e-3);
  CHECK(cr["groups"][0]["metrics"][0]["name"] == "pct_stereotype");
  CHECK(cr["groups"][0]["metrics"][0]["value"].get<double>() == summary["pct_stereotype"].get<double>());
}
