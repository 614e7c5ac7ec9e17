// glassbox hash / verify: file SHA-256, canonical tensor digests (gb-tensor-v1), root digest, manifest.
#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "inspect/hash.h"
#include "inspect/oms.h"

namespace po = boost::program_options;

namespace {

struct hash_args {
  std::string model, manifest, out;
  bool as_json = false, no_files = false, no_stats = false;
  int threads = 0;
  std::string fail_on = "high";
};

// Parses options shared by hash and verify; returns -1 to continue, else an exit code.
int parse(int argc, char** argv, bool verify, hash_args& a) {
  po::options_description desc(verify ? "glassbox verify MANIFEST MODEL [--json]"
                                      : "glassbox hash MODEL [--json] [-o manifest.json]");
  desc.add_options()("help,h", "show options")("json", po::bool_switch(&a.as_json),
                                               "print one JSON document")(
      "threads", po::value(&a.threads)->default_value(0), "threads (0 = all cores)")(
      "no-file-hash", po::bool_switch(&a.no_files), "skip the whole-file SHA-256");
  if (!verify)
    desc.add_options()("output,o", po::value(&a.out), "write the manifest (JSON) here")(
        "no-stats", po::bool_switch(&a.no_stats), "digests only");
  if (!verify)
    desc.add_options()("model", po::value(&a.model), "model file or folder");
  else
    desc.add_options()("manifest", po::value(&a.manifest), "manifest.json")("model", po::value(&a.model),
                                                                            "model");
  if (verify)
    desc.add_options()(
        "fail-on", po::value(&a.fail_on)->default_value("high"),
        "exit 1 when the check reaches this level: a changed tensor is high, the same weights in "
        "a different container info");
  gb::cli::positional_list pos;
  if (verify) pos.push_back({"manifest", 1});
  pos.push_back({"model", 1});
  gb::cli::parse_command(argc, argv, desc, pos);
  if (verify && a.manifest.empty()) return gb::cli::missing_positional("MANIFEST and MODEL");
  if (a.model.empty()) return gb::cli::missing_positional("MODEL");
  if (!a.out.empty()) gb::cli::check_output_file("output", a.out);
  return -1;
}

gb::result<gb::hash_report> compute(const hash_args& a, std::string* note) {
  gb::result<gb::integrity_input> in = gb::integrity_open(a.model);
  if (!in) return in.err();
  *note = in.value().note;
  gb::hash_options o;
  o.files = !a.no_files;
  o.stats = !a.no_stats;
  o.threads = a.threads;
  return gb::capture(a.model, [&] {
    gb::hash_report h = gb::hash_model(in.value().items, in.value().ar->files, o);
    h.model_path = a.model;
    h.format = gb::file_format_name(in.value().ar->format);
    h.format_version = in.value().ar->format_version;
    return h;
  });
}

int run_hash(int argc, char** argv) {
  hash_args a;
  if (int rc = parse(argc, argv, false, a); rc >= 0) return rc;
  std::string note;
  gb::result<gb::hash_report> hr = compute(a, &note);
  if (!hr) return gb::cli::report_error(hr.err());
  const gb::hash_report& h = hr.value();
  // The files' identity (OMS v1.0 subject digest) from the file digests just computed (nothing read twice).
  std::map<std::string, std::string> known;
  for (const gb::file_hash& f : h.files)
    if (!f.sha256_hex.empty()) known[gb::oms_known_key(f.path)] = f.sha256_hex;
  // --no-file-hash: no file is read whole a second time for the OMS digest either.
  gb::oms_identity id;
  if (a.no_files)
    id.error = "skipped (--no-file-hash: the OMS subject digest is made of the files' SHA-256)";
  else
    id = gb::oms_identity_of(a.model, known, a.threads);
  nlohmann::ordered_json mj = nlohmann::ordered_json::parse(gb::manifest_json(h, gb::cli::command_line()));
  mj["oms_subject"] = {
      {"digest", id.root_hex},
      {"files", id.files},
      {"error", id.error},
      {"definition", "OpenSSF Model Signing v1.0 subject digest of the model's files (inspect/oms.h)"}};
  const std::string manifest = mj.dump(2) + "\n";
  if (!a.out.empty()) {
    std::ofstream f(a.out, std::ios::binary | std::ios::trunc);
    f << manifest;
    f.close();
    if (!f)
      return gb::cli::report_error(
          {gb::errc::io, 0, "cannot write " + a.out + " (" + std::strerror(errno) + ")", ""});
  }
  if (a.as_json) {
    gb::cli::print_json_text(manifest);
    return gb::cli::exit_ok;
  }
  if (!note.empty()) std::printf("note: %s\n", note.c_str());
  for (const gb::file_hash& f : h.files)
    std::printf("%s  %s (%llu bytes, %s)\n", f.sha256_hex.empty() ? "-" : f.sha256_hex.c_str(),
                f.path.c_str(), static_cast<unsigned long long>(f.size), f.role.c_str());
  std::printf("\ncanonical tensor digests (gb-tensor-v1):\n");
  for (const gb::tensor_hash& t : h.tensors)
    std::printf("%s  %-34s %-6s %s%s\n", t.digest_hex.c_str(), t.name.c_str(), t.dtype_name.c_str(),
                gb::shape_string(t.shape).c_str(),
                t.excluded.empty() ? "" : ("  (not counted: " + t.excluded + ")").c_str());
  std::printf("\nroot %s over %zu tensors (the weights, in any container)\n", h.root_hex.c_str(), h.counted);
  if (id.error.empty())
    std::printf("oms  %s over %zu files (the files: OpenSSF Model Signing v1.0 subject digest)\n",
                id.root_hex.c_str(), id.files);
  else
    std::printf("oms  not computed: %s\n", id.error.c_str());
  if (!h.stats.findings.empty()) {
    std::printf("\nfindings from the same pass:\n");
    for (const gb::finding& f : h.stats.findings)
      std::printf("  [%s] %s %s: %s\n", gb::severity_name(f.level), f.code.c_str(), f.where.c_str(),
                  f.message.c_str());
  }
  if (!a.out.empty()) std::printf("manifest written to %s\n", a.out.c_str());
  return gb::cli::exit_ok;
}

int run_verify(int argc, char** argv) {
  hash_args a;
  if (int rc = parse(argc, argv, true, a); rc >= 0) return rc;
  std::ifstream f(a.manifest, std::ios::binary);
  if (!f) return gb::cli::report_error({gb::errc::not_found, 0, "cannot read manifest", a.manifest});
  std::stringstream ss;
  ss << f.rdbuf();
  a.no_stats = true;
  std::string note;
  gb::result<gb::hash_report> hr = compute(a, &note);
  if (!hr) return gb::cli::report_error(hr.err());
  const gb::severity fail_on = gb::cli::fail_on_parse(a.fail_on);
  gb::result<gb::verify_report> vr =
      gb::capture(a.manifest, [&] { return gb::manifest_verify(ss.str(), hr.value()); });
  if (!vr) return gb::cli::report_error(vr.err());
  const gb::verify_report& v = vr.value();
  // the same canonical tensors in other files (GGUF vs an HF folder) are the same weights: info, not a
  // failure
  const bool same_weights = v.root_equal && v.changed.size() == v.file_changes;
  const gb::severity level = v.changed.empty() ? gb::severity::info
                             : same_weights    ? gb::severity::info
                                               : gb::severity::high;
  const bool fail = !v.changed.empty() && level >= fail_on;
  const std::string verdict = v.changed.empty() ? "OK"
                              : same_weights    ? "same weights, different container"
                                                : "FAILED";
  if (a.as_json) {
    nlohmann::ordered_json j{{"manifest", a.manifest},
                             {"model", a.model},
                             {"ok", !fail},
                             {"verdict", verdict},
                             {"level", v.changed.empty() ? "none" : gb::severity_name(level)},
                             {"root_equal", v.root_equal},
                             {"root", hr.value().root_hex},
                             {"tensors_checked", v.tensors_checked},
                             {"files_checked", v.files_checked},
                             {"changed", v.changed}};
    gb::cli::print_json(j);
  } else {
    for (const std::string& c : v.changed)
      std::printf("%s %s\n", same_weights ? "DIFFERENT" : "CHANGED", c.c_str());
    std::printf("%s: %zu tensors and %zu files checked against %s; %zu change(s)%s\n", verdict.c_str(),
                v.tensors_checked, v.files_checked, a.manifest.c_str(), v.changed.size(),
                same_weights ? " (all in the files around the weights; the root digest is equal)" : "");
  }
  return fail ? gb::cli::exit_findings : gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("hash", "SHA-256 of files, canonical tensor digests and a root digest; writes a manifest",
           run_hash);
GB_COMMAND("verify", "check a model against a hash manifest; names every changed tensor and file",
           run_verify);
