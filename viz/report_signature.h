// viz/report_signature.h: `glassbox sign` and `glassbox verify-signature` rendered: the subject line and
// the "signed" line, or --json; the verification's checked / NOT checked / FAILED lines and its verdict,
// or --json. Renders only (the signing and the checks are viz/oms_bundle.h, the hashing inspect/oms.h).
//
//   gb::viz::oms_verification v = gb::viz::oms_verify(model, bundle_text, o);
//   std::fputs(gb::viz::verify_signature_text(v, model, "model.sig").c_str(), stdout);
//   std::printf("%s\n", gb::viz::verify_signature_json(v, model, "model.sig").c_str());
#pragma once

#include <cstddef>
#include <string>

#include "inspect/oms.h"
#include "viz/oms_bundle.h"

namespace gb::viz {

// "VERIFIED", "NOT VERIFIED (incomplete offline)" or "FAILED"
const char* verify_signature_verdict(const oms_verification& v);
// checked: / NOT checked: / FAILED: lines, then "VERDICT: SIG signature holds|... for MODEL (METHOD bundle)"
std::string verify_signature_text(const oms_verification& v, const std::string& model,
                                  const std::string& sig);
// indented by 2, no schema key (the document as the command has always printed it)
std::string verify_signature_json(const oms_verification& v, const std::string& model,
                                  const std::string& sig);

// "HEX  NAME (OMS subject digest over N files)\n": what is about to be signed
std::string sign_subject_line(const oms_manifest& m);
// "signed MODEL -> SIG (key|certificate bundle)\n"
std::string sign_text(const std::string& model, const std::string& sig, bool certificate);
// compact, no schema key: model, signature, bundle kind, subject digest, file count
std::string sign_json(const std::string& model, const std::string& sig, bool certificate,
                      const std::string& subject, size_t files);

}  // namespace gb::viz
