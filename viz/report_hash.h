// viz/report_hash.h: `glassbox hash` and `glassbox verify` rendered: the manifest (inspect/hash.h's JSON
// with the files' OMS subject digest), the digest listing as text, and the verify verdict as text or JSON.
// Renders only.
//
//   std::string manifest = gb::viz::hash_manifest(report, identity, command_line);  // written by -o
//   std::fputs(gb::viz::hash_text(report, identity, note).c_str(), stdout);
#pragma once

#include <string>

#include "inspect/hash_verdict.h"

namespace gb::viz {

// The manifest document (indent 2, ending in a newline) with "oms_subject" added.
std::string hash_manifest(const hash_report& h, const oms_identity& id, const std::string& command_line);
// note: what integrity_open said about the files ("" for none).
std::string hash_text(const hash_report& h, const oms_identity& id, const std::string& note);

// What was checked against what.
struct verify_sides {
  std::string manifest, model, root_hex;
};
std::string verify_text(const verify_report& v, const verify_verdict& verdict, const std::string& manifest);
std::string verify_json(const verify_report& v, const verify_verdict& verdict, const verify_sides& s,
                        bool ok);

}  // namespace gb::viz
