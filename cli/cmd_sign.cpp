// glassbox sign: an OpenSSF Model Signing (OMS v1.0) signature of a model's files: a Sigstore bundle (v0.3
// JSON) with a DSSE envelope over an in-toto statement listing every file's SHA-256, signed with an ECDSA
// key, as a bare key or with its X.509 certificate chain. Verify with `glassbox verify-signature` or
// `model_signing verify`.
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "inspect/oms.h"
#include "viz/oms_bundle.h"
#include "viz/report_signature.h"

namespace po = boost::program_options;

namespace {

struct sign_args {
  std::string model, key, chain, out;
  std::vector<std::string> ignore;
  bool allow_symlinks = false, as_json = false;
  int threads = 0;
};

po::options_description sign_option_table(sign_args& a) {
  po::options_description desc(
      "glassbox sign MODEL --key KEY.pem -o model.sig [--certificate-chain CHAIN.pem] [--ignore-path P]...");
  desc.add_options()("help,h", "show options")("model", po::value(&a.model), "model file or folder")(
      "key", po::value(&a.key), "PEM private key (ECDSA P-256, P-384 or P-521)")(
      "certificate-chain", po::value(&a.chain),
      "PEM: the key's certificate, then intermediates (a certificate bundle)")(
      "output,o", po::value(&a.out), "the signature bundle to write (default MODEL/model.sig for a folder)")(
      "ignore-path", po::value(&a.ignore)->composing(),
      "leave this path (relative to MODEL) out; repeatable")(
      "allow-symlinks", po::bool_switch(&a.allow_symlinks),
      "follow symbolic links (default: a symlink is an error)")(
      "threads", po::value(&a.threads)->default_value(0), "threads (0 = all cores)")(
      "json", po::bool_switch(&a.as_json), "print one JSON document (bundle path, subject digest, files)");
  return desc;
}

// -o defaults to MODEL/model.sig for a folder; the signature file is never part of what it signs (§6.2).
void sign_output_settle(sign_args& a, const po::options_description& desc) {
  namespace fs = std::filesystem;
  if (a.out.empty()) {
    if (!fs::is_directory(a.model))
      throw gb::cli::exit_now{gb::cli::usage_error("sign", "a single-file MODEL needs -o model.sig", &desc)};
    a.out = (fs::path(a.model) / "model.sig").string();
  }
  std::error_code ec;
  fs::path rel = fs::weakly_canonical(a.out, ec).lexically_relative(fs::weakly_canonical(a.model, ec));
  if (!rel.empty() && *rel.begin() != ".." && rel != ".") a.ignore.push_back(rel.generic_string());
}

// What was signed: the subject digest and the file count.
struct sign_subject {
  std::string digest;
  size_t files = 0;
};

// Hashes the model (the subject line printed as it is known) and signs its statement: the bundle's text.
gb::result<std::string> sign_bundle(const sign_args& a, sign_subject& subject) {
  gb::oms_options o;
  o.ignore_paths = a.ignore;
  o.allow_symlinks = a.allow_symlinks;
  o.threads = a.threads;
  return gb::capture(a.model, [&] {
    gb::oms_manifest m = gb::oms_hash(a.model, o);
    for (const std::string& w : m.warnings) std::fprintf(stderr, "glassbox sign: warning: %s\n", w.c_str());
    subject = {m.root_hex, m.resources.size()};
    if (!a.as_json) std::fputs(gb::viz::sign_subject_line(m).c_str(), stdout);
    return gb::viz::dsse_bundle_sign(gb::oms_statement_json(m), a.key, a.chain);
  });
}

int run_sign(int argc, char** argv) {
  sign_args args;
  po::options_description desc = sign_option_table(args);
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc);
  if (vm.count("help")) return gb::cli::print_help(desc);
  if (args.model.empty()) return gb::cli::usage_error("sign", "missing MODEL", &desc);
  if (args.key.empty()) return gb::cli::usage_error("sign", "missing --key KEY.pem", &desc);
  sign_output_settle(args, desc);
  sign_subject subject;
  gb::result<std::string> bundle = sign_bundle(args, subject);
  if (!bundle) return gb::cli::report_error(bundle.err());
  std::ofstream f(args.out, std::ios::binary | std::ios::trunc);
  f << bundle.value();
  if (!f) return gb::cli::report_error({gb::errc::io, 0, "cannot write the signature", args.out});
  const bool certificate = !args.chain.empty();
  if (args.as_json)
    gb::cli::print_json_text(
        gb::viz::sign_json(args.model, args.out, certificate, subject.digest, subject.files));
  else
    std::fputs(gb::viz::sign_text(args.model, args.out, certificate).c_str(), stdout);
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND(
    "sign",
    "OpenSSF Model Signing: sign a model's files (Sigstore bundle, DSSE, in-toto) with a key or certificate",
    run_sign);
