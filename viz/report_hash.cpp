// viz/report_hash.cpp: hash and verify as text and JSON (see viz/report_hash.h).
#include "viz/report_hash.h"

#include "viz/json_util.h"
#include "viz/text.h"

namespace gb::viz {

namespace {

using ojson = nlohmann::ordered_json;

}  // namespace

std::string hash_manifest(const hash_report& h, const oms_identity& id, const std::string& command_line) {
  ojson mj = ojson::parse(manifest_json(h, command_line));
  mj["oms_subject"] = {
      {"digest", id.root_hex},
      {"files", id.files},
      {"error", id.error},
      {"definition", "OpenSSF Model Signing v1.0 subject digest of the model's files (inspect/oms.h)"}};
  return mj.dump(2) + "\n";
}

std::string hash_text(const hash_report& h, const oms_identity& id, const std::string& note) {
  std::string out;
  if (!note.empty()) out += strf("note: %s\n", note.c_str());
  for (const file_hash& f : h.files)
    out += strf("%s  %s (%llu bytes, %s)\n", f.sha256_hex.empty() ? "-" : f.sha256_hex.c_str(),
                f.path.c_str(), static_cast<unsigned long long>(f.size), f.role.c_str());
  out += "\ncanonical tensor digests (gb-tensor-v1):\n";
  for (const tensor_hash& t : h.tensors)
    out += strf("%s  %-34s %-6s %s%s\n", t.digest_hex.c_str(), t.name.c_str(), t.dtype_name.c_str(),
                shape_string(t.shape).c_str(),
                t.excluded.empty() ? "" : ("  (not counted: " + t.excluded + ")").c_str());
  out += strf("\nroot %s over %zu tensors (the weights, in any container)\n", h.root_hex.c_str(), h.counted);
  if (id.error.empty())
    out += strf("oms  %s over %zu files (the files: OpenSSF Model Signing v1.0 subject digest)\n",
                id.root_hex.c_str(), id.files);
  else
    out += strf("oms  not computed: %s\n", id.error.c_str());
  if (!h.stats.findings.empty()) {
    out += "\nfindings from the same pass:\n";
    for (const finding& f : h.stats.findings) out += finding_line(f);
  }
  return out;
}

std::string verify_text(const verify_report& v, const verify_verdict& verdict, const std::string& manifest) {
  std::string out;
  for (const std::string& c : v.changed)
    out += strf("%s %s\n", verdict.same_weights ? "DIFFERENT" : "CHANGED", c.c_str());
  out += strf("%s: %zu tensors and %zu files checked against %s; %zu change(s)%s\n", verdict.text.c_str(),
              v.tensors_checked, v.files_checked, manifest.c_str(), v.changed.size(),
              verdict.same_weights ? " (all in the files around the weights; the root digest is equal)" : "");
  return out;
}

std::string verify_json(const verify_report& v, const verify_verdict& verdict, const verify_sides& s,
                        bool ok) {
  const ojson j{{"manifest", s.manifest},
                {"model", s.model},
                {"ok", ok},
                {"verdict", verdict.text},
                {"level", verdict.changed ? severity_name(verdict.level) : "none"},
                {"root_equal", v.root_equal},
                {"root", s.root_hex},
                {"tensors_checked", v.tensors_checked},
                {"files_checked", v.files_checked},
                {"changed", v.changed}};
  return json_text(j);
}

}  // namespace gb::viz
