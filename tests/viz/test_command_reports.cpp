// tests/viz/test_command_reports.cpp: the decisions that moved out of the commands into the library
// (#19: a cmd_*.cpp only parses, calls and prints): the output format of `graph -o`, verify's verdict, the
// lineage --fail-on scale, which tensors a diff highlights, the audit's --suite selection, and the text and
// JSON of a stats report and a spectral report. The commands' whole outputs are checked byte for byte by
// tests/cli.
#include <doctest/doctest.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "inspect/diff.h"
#include "inspect/hash_verdict.h"
#include "probes/audit_run.h"
#include "viz/report_graph.h"
#include "viz/report_spectral.h"
#include "viz/report_stats.h"
#include "viz/text.h"

using namespace gb;

TEST_CASE("graph -o: the format from --format or the extension, nothing for an unknown one") {
  CHECK(viz::graph_format_of("out/g.SVG", "") == "svg");
  CHECK(viz::graph_format_of("g.gv", "") == "dot");
  CHECK(viz::graph_format_of("-", "") == "dot");
  CHECK(viz::graph_format_of("g.svg", "htm") == "html");
  CHECK(viz::graph_format_of("dir.v2/graph", "") == "");  // a dot in a folder name is no extension
  CHECK(viz::graph_format_of("g.xyz", "") == "");
}

TEST_CASE("verify: changed weights fail at high, the same weights in other files are info") {
  verify_report ok;
  ok.root_equal = true;
  CHECK(verify_verdict_of(ok).text == "OK");
  CHECK_FALSE(verify_verdict_of(ok).changed);
  verify_report container = ok;
  container.changed = {"file model.gguf"}, container.file_changes = 1;
  const verify_verdict c = verify_verdict_of(container);
  CHECK(c.same_weights);
  CHECK(c.level == severity::info);
  CHECK(c.text == "same weights, different container");
  verify_report weights = container;
  weights.changed.push_back("tensor blk.0.attn_q.weight");
  CHECK(verify_verdict_of(weights).level == severity::high);
  CHECK(verify_verdict_of(weights).text == "FAILED");
}

TEST_CASE("diff: the lineage scale and the tensors a graph diff highlights") {
  CHECK(lineage_level(lineage::same_weights) == severity::info);
  CHECK(lineage_level(lineage::reencoded) == severity::low);
  CHECK(lineage_level(lineage::derived) == severity::high);
  CHECK(lineage_level(lineage::unrelated) == severity::critical);
  diff_report d;
  auto add = [&](const char* name, tensor_delta status) {
    d.tensors.push_back(tensor_diff{});
    d.tensors.back().name = name;
    d.tensors.back().status = status;
  };
  add("a", tensor_delta::identical), add("b", tensor_delta::added), add("c", tensor_delta::removed);
  add("d", tensor_delta::equal);
  CHECK(diff_changed_tensors(d).empty());
  add("e", tensor_delta::close);  // present in both, values moved
  CHECK(diff_changed_tensors(d) == std::set<std::string>{"e"});
}

TEST_CASE("audit --suite: all, none, repeats, and every suite when none is given") {
  const auto& all = probes::audit_suite_names();
  CHECK(probes::audit_suites_select({}, false) == all);
  CHECK(probes::audit_suites_select({}, true).empty());  // --suite "" names nothing
  CHECK(probes::audit_suites_select({"none"}, true).empty());
  CHECK(probes::audit_suites_select({"bbq", "winobias", "bbq"}, true) ==
        std::vector<std::string>{"bbq", "winobias"});
  CHECK(probes::audit_suites_select({"all"}, true) == all);
}

TEST_CASE("stats report: JSON numbers null when not finite, findings in text and JSON") {
  stats_report r;
  r.anomaly_rule = "rule";
  tensor_stats t;
  t.name = "w", t.dtype_name = "f32", t.shape = {2, 3}, t.count = 6, t.readable = true;
  t.mean = 0.5, t.kurtosis = std::numeric_limits<double>::quiet_NaN();
  r.tensors.push_back(t);
  r.findings.push_back({severity::high, "tensor.nan", "w", "holds NaN"});
  const auto j = nlohmann::json::parse(viz::stats_json(r, "m.gguf", ""));
  CHECK(j["model"] == "m.gguf");
  CHECK_FALSE(j.contains("note"));
  CHECK(j["tensors"][0]["mean"] == 0.5);
  CHECK(j["tensors"][0]["kurtosis"].is_null());
  CHECK(j["findings"][0]["code"] == "tensor.nan");
  CHECK_FALSE(j["findings"][0].contains("offset"));
  const std::string text = viz::stats_text(r, "a note");
  CHECK(text.rfind("note: a note\n", 0) == 0);
  CHECK(text.find(viz::finding_line(r.findings[0])) != std::string::npos);
  CHECK(viz::finding_line(r.findings[0]) == "  [high] tensor.nan w: holds NaN\n");
}

TEST_CASE("spectral report: a skipped matrix has no metrics, NaN is null in JSON, the summary reads alike") {
  spectral_report r;
  spectral_metrics skipped;
  skipped.name = "blk.0.ffn_gate.weight", skipped.N = 64, skipped.M = 4, skipped.skipped = true;
  skipped.method = "skipped: M < 10";
  spectral_metrics fit;
  fit.name = "blk.0.attn_q.weight", fit.N = 64, fit.M = 64, fit.method = "randomised top-k=32";
  fit.alpha = 3.5, fit.matrix_rank = std::numeric_limits<double>::quiet_NaN();
  r.matrices = {skipped, fit};
  r.summary.matrices = 2, r.summary.skipped = 1, r.summary.alpha_mean = 3.5, r.summary.over_trained = 0;
  const std::string text = viz::spectral_text(r);
  CHECK(text.rfind("WeightWatcher (METRICS.md)", 0) == 0);
  CHECK(text.find("blk.0.ffn_gate.weight") != std::string::npos);
  CHECK(text.find("skipped: M < 10") != std::string::npos);
  CHECK(text.find("   3.500 ") != std::string::npos);
  CHECK(text.find("  randomised\n") != std::string::npos);  // the method's first word
  CHECK(text.find("summary: 2 matrices (1 skipped): alpha mean 3.500") != std::string::npos);
  const auto j = nlohmann::json::parse(viz::spectral_json(r, "m.gguf"));
  CHECK(j["model"] == "m.gguf");
  REQUIRE(j["matrices"].size() == 2);
  CHECK_FALSE(j["matrices"][0].contains("alpha"));
  CHECK(j["matrices"][1]["alpha"] == 3.5);
  CHECK(j["matrices"][1]["matrix_rank"].is_null());
  CHECK(j["summary"]["skipped"] == 1);
  CHECK(j["summary"]["alpha_mean"] == 3.5);
}
