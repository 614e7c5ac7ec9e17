// viz/report_signature.cpp: `glassbox sign` and `glassbox verify-signature` as text or JSON
// (viz/report_signature.h).
#include "viz/report_signature.h"

#include <nlohmann/json.hpp>

#include "viz/json_util.h"
#include "viz/text.h"

namespace gb::viz {

namespace {

void signature_lines(std::string& out, const char* tag, const std::vector<std::string>& v) {
  for (const std::string& s : v) out += strf("%s %s\n", tag, s.c_str());
}

const char* bundle_kind(bool certificate) {
  return certificate ? "certificate" : "key";
}

}  // namespace

const char* verify_signature_verdict(const oms_verification& v) {
  return v.verified() ? "VERIFIED" : v.problems.empty() ? "NOT VERIFIED (incomplete offline)" : "FAILED";
}

std::string verify_signature_text(const oms_verification& v, const std::string& model,
                                  const std::string& sig) {
  std::string out;
  signature_lines(out, "checked:", v.checked);
  signature_lines(out, "NOT checked:", v.not_checked);
  signature_lines(out, "FAILED:", v.problems);
  out += strf("%s: %s signature %s for %s (%s bundle)\n", verify_signature_verdict(v), sig.c_str(),
              v.verified() ? "holds" : "does not establish authenticity", model.c_str(), v.method.c_str());
  return out;
}

std::string verify_signature_json(const oms_verification& v, const std::string& model,
                                  const std::string& sig) {
  const nlohmann::ordered_json j{{"model", model},
                                 {"signature", sig},
                                 {"method", v.method},
                                 {"verified", v.verified()},
                                 {"verdict", verify_signature_verdict(v)},
                                 {"subject", v.signed_manifest.root_hex},
                                 {"files_checked", v.files.files_checked},
                                 {"checked", v.checked},
                                 {"not_checked", v.not_checked},
                                 {"problems", v.problems}};
  return json_text(j, 2);
}

std::string sign_subject_line(const oms_manifest& m) {
  return strf("%s  %s (OMS subject digest over %zu files)\n", m.root_hex.c_str(), m.subject_name.c_str(),
              m.resources.size());
}

std::string sign_text(const std::string& model, const std::string& sig, bool certificate) {
  return strf("signed %s -> %s (%s bundle)\n", model.c_str(), sig.c_str(), bundle_kind(certificate));
}

std::string sign_json(const std::string& model, const std::string& sig, bool certificate,
                      const std::string& subject, size_t files) {
  const nlohmann::ordered_json j{{"model", model},
                                 {"signature", sig},
                                 {"bundle", bundle_kind(certificate)},
                                 {"subject_digest", subject},
                                 {"files", files}};
  return json_text(j);
}

}  // namespace gb::viz
