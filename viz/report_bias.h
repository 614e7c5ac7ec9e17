// viz/report_bias.h: bias suite results as JSON evidence, text tables and SVG charts.
//
//   std::string j = gb::viz::bias_json(results, /*records=*/true);     // one JSON document (text)
//   std::string t = gb::viz::bias_text(results);                       // aligned table for a terminal
//   std::string svg = gb::viz::bias_chart_svg(results[0]);             // main metric by group, with CIs
#pragma once

#include <string>
#include <vector>

#include "probes/bias.h"

namespace gb::viz {

// cost: each suite's "cost": {"tokens", "tokens_computed"} (what the run computed; depends on sharding).
std::string bias_json(const std::vector<probes::suite_result>& results, bool records, int indent = 2, bool cost = false);
std::string bias_text(const std::vector<probes::suite_result>& results);
// The suite's headline metric per group as bars with 95% intervals and the unbiased reference line.
std::string bias_chart_svg(const probes::suite_result& r);
// Headline metric of a group: pct_stereotype, metric, SS, pct_pro_preferred, bias_score_*, likelihood_bias ...
const probes::metric* bias_headline(const probes::suite_result& r, const probes::group_result& g);
// Unbiased value of the headline metric (0.5, 50, 0) for a suite.
double bias_reference(const probes::suite_result& r);

}  // namespace gb::viz
