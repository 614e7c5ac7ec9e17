// viz/report_bias.h: bias suite results as JSON evidence, text tables and SVG charts.
//
//   std::string j = gb::viz::bias_json(results, /*records=*/true);     // one JSON document (text)
//   std::string t = gb::viz::bias_text(results);                       // aligned table for a terminal
//   std::string svg = gb::viz::bias_chart_svg(results[0]);             // main metric by group, with CIs
//   for (auto& c : gb::viz::bias_charts_svg(r)) ...;                   // one chart per kind of number (BBQ:
//   2) gb::viz::bias_reading(r, m);  // "prefers the less stereotypical sentence; 0.5 is unbiased"
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "probes/audit_verdict.h"
#include "probes/bias.h"

namespace gb::viz {

// cost: each suite's "cost": {"tokens", "tokens_computed"} (what the run computed; depends on sharding).
std::string bias_json(const std::vector<probes::suite_result>& results, bool records, int indent = 2,
                      bool cost = false);
std::string bias_text(const std::vector<probes::suite_result>& results);
// "QUICK PASS: SUITE scored N of M items (stratified sample, seed S); not a verdict" for each suite that
// scored a --limit sample (S: the seed the suite recorded).
std::string bias_quick_pass_text(const std::vector<probes::suite_result>& results);
// DIR/bias.json (with records) and the charts of every suite that ran (bias_chart_files). Throws on a write.
void bias_folder_write(const std::string& dir, const std::vector<probes::suite_result>& results);
// The suite's headline bias metric per group as bars with 95% intervals and the unbiased reference line
// (BBQ: the bias scores; its accuracy is in bias_charts_svg).
std::string bias_chart_svg(const probes::suite_result& r);
// One chart per kind of number, each on its own axis: the bias metric, and for BBQ also accuracy (a
// different scale, with no unbiased reference). Bias chart first.
std::vector<std::string> bias_charts_svg(const probes::suite_result& r);
// The same charts as files for `bias -o DIR`: "bias-<suite>.svg" (the bias chart), then
// "bias-<suite>-<kind>.svg" for each other kind (BBQ: "bias-bbq-accuracy.svg").
struct bias_chart_file {
  std::string name, svg;
};
std::vector<bias_chart_file> bias_chart_files(const probes::suite_result& r);
// A plain reading of one metric value, without the number: which way it leans and what is unbiased
// ("prefers the less stereotypical sentence; 0.5 is unbiased"). When the 95% interval includes the
// unbiased value the reading says the lean is within noise. "" for metrics it has no reading for.
std::string bias_reading(const probes::suite_result& r, const probes::metric& m);
// The numbers a suite is judged by, the unbiased values and the headline: probes/audit_verdict.h.
using probes::bias_headline;
using probes::bias_key_number;
using probes::bias_key_numbers;
using probes::bias_unbiased_value;
// A metric's note for display: without "stderr nan" (a standard error of one item is undefined).
std::string bias_note(const probes::metric& m);

}  // namespace gb::viz
