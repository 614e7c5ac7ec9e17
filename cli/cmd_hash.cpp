// glassbox hash / verify: file SHA-256, canonical tensor digests (gb-tensor-v1), root digest, manifest.
// The computation is inspect/hash.h and inspect/hash_verdict.h, the rendering viz/report_hash.h.
#include <boost/program_options.hpp>
#include <cstdio>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "formats/file_text.h"
#include "inspect/hash_verdict.h"
#include "viz/report_hash.h"

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
        "no-stats", po::bool_switch(&a.no_stats), "digests only")("model", po::value(&a.model),
                                                                  "model file or folder");
  else
    desc.add_options()("manifest", po::value(&a.manifest), "manifest.json")("model", po::value(&a.model),
                                                                            "model")(
        "fail-on", po::value(&a.fail_on)->default_value("high"),
        "exit 1 when the check reaches this level: a changed tensor is high, the same weights in "
        "a different container info");
  gb::cli::parse_command(argc, argv, desc,
                         verify ? gb::cli::positional_list{{"manifest", 1}, {"model", 1}}
                                : gb::cli::positional_list{{"model", 1}});
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
  const gb::oms_identity id = gb::hash_oms_identity(a.model, h, !a.no_files, a.threads);
  const std::string manifest = gb::viz::hash_manifest(h, id, gb::cli::command_line());
  if (!a.out.empty()) {
    gb::result<bool> wrote = gb::capture(a.out, [&] { return gb::file_write_text(a.out, manifest), true; });
    if (!wrote) return gb::cli::report_error(wrote.err());  // exit 3
  }
  if (a.as_json) {
    gb::cli::print_json_text(manifest);
    return gb::cli::exit_ok;
  }
  std::printf("%s", gb::viz::hash_text(h, id, note).c_str());
  if (!a.out.empty()) std::printf("manifest written to %s\n", a.out.c_str());
  return gb::cli::exit_ok;
}

int run_verify(int argc, char** argv) {
  hash_args a;
  if (int rc = parse(argc, argv, true, a); rc >= 0) return rc;
  gb::result<std::string> manifest =
      gb::capture(a.manifest, [&] { return gb::file_text(a.manifest, "manifest"); });
  if (!manifest) return gb::cli::report_error(manifest.err());
  a.no_stats = true;
  std::string note;
  gb::result<gb::hash_report> hr = compute(a, &note);
  if (!hr) return gb::cli::report_error(hr.err());
  const gb::severity fail_on = gb::cli::fail_on_parse(a.fail_on);
  gb::result<gb::verify_report> vr =
      gb::capture(a.manifest, [&] { return gb::manifest_verify(manifest.value(), hr.value()); });
  if (!vr) return gb::cli::report_error(vr.err());
  const gb::verify_verdict verdict = gb::verify_verdict_of(vr.value());
  const bool fail = verdict.changed && verdict.level >= fail_on;
  if (a.as_json)
    gb::cli::print_json_text(
        gb::viz::verify_json(vr.value(), verdict, {a.manifest, a.model, hr.value().root_hex}, !fail));
  else
    std::printf("%s", gb::viz::verify_text(vr.value(), verdict, a.manifest).c_str());
  return fail ? gb::cli::exit_findings : gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("hash", "SHA-256 of files, canonical tensor digests and a root digest; writes a manifest",
           run_hash);
GB_COMMAND("verify", "check a model against a hash manifest; names every changed tensor and file",
           run_verify);
