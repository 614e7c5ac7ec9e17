// viz/report_bias_diff.h: bias drift (probes/bias_diff.h) as JSON evidence, a terminal table, an SVG chart
// of per-group differences with their paired intervals, and the report's "Bias drift" HTML section.
//
//   std::vector<gb::probes::suite_change> c = {gb::probes::bias_diff(base, derived, {})};
//   std::string j = gb::viz::bias_diff_json(c);            // {"bias_drift": [...]}
//   std::printf("%s", gb::viz::bias_diff_text(c).c_str());
//   std::string svg = gb::viz::bias_diff_chart_svg(c[0]);  // headline metric difference per group
//   std::string html = gb::viz::bias_diff_html(c);         // <h2 id="bias-drift"> ... (chart + significant
//   table)
#pragma once

#include <string>
#include <vector>

#include "probes/bias_diff.h"

namespace gb::viz {

std::string bias_diff_json(const std::vector<probes::suite_change>& changes, int indent = 2);
std::string bias_diff_text(const std::vector<probes::suite_change>& changes);
std::string bias_diff_chart_svg(const probes::suite_change& c);
std::string bias_diff_html(const std::vector<probes::suite_change>& changes, const std::string& baseline);

}  // namespace gb::viz
