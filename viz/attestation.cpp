// viz/attestation.cpp: the audit's in-toto statement (eval results) and its check.
#include "viz/attestation.h"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "formats/error.h"
#include "inspect/oms.h"
#include "inspect/sha256.h"
#include "viz/json_util.h"
#include "viz/oms_bundle.h"
#include "viz/report_bias.h"

namespace gb::viz {
namespace {

using ojson = nlohmann::ordered_json;

// One result per metric of every group; the headline metric of the overall group carries the comparator
// (the 95% interval must contain the unbiased value), except for suites without one (HolisticBias).
ojson suite_results(const probes::suite_result& r, const attestation_info& info) {
  ojson dataset = {{"path", ""}, {"digest", ""}};
  for (const attestation_dataset& ds : info.datasets)
    if (ds.suite == r.suite) dataset = {{"path", ds.path}, {"digest", ds.digest}};
  ojson out = ojson::array();
  for (size_t gi = 0; gi < r.groups.size(); ++gi) {
    const probes::group_result& g = r.groups[gi];
    const probes::metric* head = bias_headline(r, g);
    for (const probes::metric& m : g.metrics) {
      ojson x = {{"suite", r.suite}, {"variant", r.variant},         {"group", g.group},
                 {"metric", m.name}, {"value", num<ojson>(m.value)}, {"sampleSize", g.n}};
      if (m.has_ci)
        x["interval"] = {{"lower", num<ojson>(m.ci.lo)},
                         {"upper", num<ojson>(m.ci.hi)},
                         {"level", m.ci.level},
                         {"resamples", m.ci.resamples},
                         {"seed", m.ci.seed}};
      const std::optional<double> unbiased = bias_unbiased_value(m.name);
      const bool judged = gi == 0 && &m == head && m.has_ci && unbiased && r.suite != "holisticbias";
      if (judged) {
        const double ref = *unbiased;
        x["comparator"] = "interval_contains";
        x["threshold"] = ref;
        x["passed"] = m.ci.lo <= ref && ref <= m.ci.hi;
      } else {
        x["comparator"] = nullptr;  // reported, not judged
      }
      x["dataset"] = dataset;
      x["seed"] = r.seed;
      out.push_back(x);
    }
  }
  return out;
}

}  // namespace

std::string attestation_statement(const audit_data& d, const attestation_info& info) {
  ojson subjects = ojson::array();
  if (!d.files_identity.root_hex.empty())
    subjects.push_back(
        {{"name", d.files_identity.name},
         {"digest", {{"sha256", d.files_identity.root_hex}}},
         {"annotations", {{"digest", "OpenSSF Model Signing v1.0 subject digest of the model files"}}}});
  subjects.push_back({{"name", "report.json"}, {"digest", {{"sha256", info.report_json_sha256}}}});
  ojson results = ojson::array();
  for (const probes::suite_result& r : d.bias)
    for (ojson& x : suite_results(r, info)) results.push_back(std::move(x));
  ojson seeds = ojson::object();
  for (const auto& [k, v] : info.seeds) seeds[k] = v;
  ojson pred = {{"tool", {{"name", "glassbox"}, {"version", info.tool_version}, {"build", info.build}}},
                {"command", info.command},
                {"time", info.time},
                {"seeds", seeds},
                {"model",
                 {{"path", d.model_path},
                  {"oms_subject_digest", d.files_identity.root_hex},
                  {"weights_root_digest", d.have_hashes ? d.hashes.root_hex : ""}}},
                {"results", results}};
  ojson j = {{"_type", intoto_statement_type},
             {"subject", subjects},
             {"predicateType", attestation_predicate_type},
             {"predicate", pred}};
  return j.dump(2) + "\n";
}

void attestation_check(const std::string& dir, const std::string& pub, report_check& c) {
  const std::string path = dir + "/attestation.sig";
  if (!std::filesystem::exists(path)) {
    c.notes.push_back("no attestation.sig (audit --sign writes one)");
    return;
  }
  dsse_bundle b;
  try {
    b = dsse_bundle_load(path);
  } catch (const failure& f) {
    c.problems.push_back("attestation.sig: " + f.err().message);
    return;
  }
  if (pub.empty())
    c.notes.push_back("attestation.sig present, signature not checked (pass --key PUB.pem)");
  else {
    dsse_check s = dsse_signature_check(b, pub, "");
    for (const std::string& p : s.problems) c.problems.push_back("attestation.sig: " + p);
    if (s.problems.empty()) c.notes.push_back("attestation.sig: DSSE signature valid for " + pub);
  }
  ojson st = ojson::parse(b.payload, nullptr, false);
  if (st.is_discarded() || !st.is_object() || st.value("predicateType", "") != attestation_predicate_type ||
      !st.contains("subject") || !st["subject"].is_array()) {
    c.problems.push_back("attestation.sig: the statement is not a glassbox eval-results statement");
    return;
  }
  std::string want;
  for (const ojson& s : st["subject"])
    if (s.is_object() && s.value("name", "") == "report.json" && s.contains("digest") &&
        s["digest"].is_object())
      want = s["digest"].value("sha256", "");
  const std::string now = digest_hex(file_sha256(dir + "/report.json"));
  ++c.files_checked;
  if (want != now)
    c.problems.push_back("report.json changed since it was attested (sha256 " + now.substr(0, 16) +
                         "..., attested " + want.substr(0, std::min<size_t>(16, want.size())) + "...)");
  else
    c.notes.push_back("attestation.sig: report.json matches the attested digest");
}

}  // namespace gb::viz
