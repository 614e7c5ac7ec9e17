// probes/audit_verdict.h: what the audit concludes, decided where the numbers are made: the findings of the
// whole audit, the ok / attention / critical verdict per area and overall, the compliance map, and the
// numbers a bias suite is judged by (headline metrics, unbiased values, how to read a metric). viz/ renders
// the verdicts it is given.
//
//   d.compliance = gb::probes::compliance_map(d);
//   d.verdicts = gb::probes::audit_verdicts(d);            // identity, integrity, security, internals, bias
//   gb::probes::verdict o = gb::probes::audit_overall(d);  // the worst level reached, naming its areas
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "probes/audit_run.h"
#include "probes/bias.h"

namespace gb::probes {

// All findings of the audit (model, scan, stats), deduplicated, most severe first.
std::vector<finding> audit_findings(const audit_data& d);
// Those of audit_findings at or above `level` (what --fail-on counts), most severe first.
std::vector<finding> audit_findings_at(const audit_data& d, severity level);
std::vector<compliance_item> compliance_map(const audit_data& d);
std::vector<verdict> audit_verdicts(const audit_data& d);
// The report's one-line verdict from d.verdicts: the worst level reached, naming the areas at that level.
verdict audit_overall(const audit_data& d);
// "QUICK PASS: 50 of 1508 items" when a suite scored a sample (--limit), else "".
std::string quick_pass_text(const std::vector<suite_result>& bias);

// Headline metric of a group: pct_stereotype, metric, SS, pct_pro_preferred, bias_score_*, likelihood_bias
// ...
const metric* bias_headline(const suite_result& r, const group_result& g);
// The numbers a suite is judged by: the overall group's headline; when that has no unbiased value (BBQ's
// is accuracy), also the other groups' headlines that have one (BBQ's two bias scores).
struct bias_key_number {
  const group_result* group;
  const metric* m;
};
std::vector<bias_key_number> bias_key_numbers(const suite_result& r);
// How to read one metric: its unbiased value (when it has one) and what a value above / below it means.
struct metric_reading {
  const char* name;
  bool has_ref;
  double ref;
  const char* above;  // value > ref, or the whole reading when !has_ref
  const char* below;
};
const metric_reading* bias_metric_reading(const std::string& metric_name);  // nullptr: no reading
// The unbiased value of a metric by name (pct_stereotype 0.5, SS 50, bias_score_ambig 0 ...), none for
// metrics without one (accuracy, LMS, likelihood_diff, likelihood_bias).
std::optional<double> bias_unbiased_value(const std::string& metric_name);

}  // namespace gb::probes
