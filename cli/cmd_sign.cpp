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

int run_sign(int argc, char** argv) {
  sign_args args;
  po::options_description desc = sign_option_table(args);
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc);
  if (vm.count("help")) return gb::cli::print_help(desc);
  if (args.model.empty()) return gb::cli::usage_error("sign", "missing MODEL", &desc);
  if (args.key.empty()) return gb::cli::usage_error("sign", "missing --key KEY.pem", &desc);
  namespace fs = std::filesystem;
  if (args.out.empty()) {
    if (!fs::is_directory(args.model))
      return gb::cli::usage_error("sign", "a single-file MODEL needs -o model.sig", &desc);
    args.out = (fs::path(args.model) / "model.sig").string();
  }
  // The signature file is never part of what it signs (§6.2).
  std::error_code ec;
  fs::path rel = fs::weakly_canonical(args.out, ec).lexically_relative(fs::weakly_canonical(args.model, ec));
  if (!rel.empty() && *rel.begin() != ".." && rel != ".") args.ignore.push_back(rel.generic_string());
  gb::oms_options o;
  o.ignore_paths = args.ignore;
  o.allow_symlinks = args.allow_symlinks;
  o.threads = args.threads;
  std::string subject;
  size_t files = 0;
  gb::result<std::string> bundle = gb::capture(args.model, [&] {
    gb::oms_manifest m = gb::oms_hash(args.model, o);
    for (const std::string& w : m.warnings) std::fprintf(stderr, "glassbox sign: warning: %s\n", w.c_str());
    subject = m.root_hex;
    files = m.resources.size();
    if (!args.as_json)
      std::printf("%s  %s (OMS subject digest over %zu files)\n", m.root_hex.c_str(), m.subject_name.c_str(),
                  m.resources.size());
    return gb::viz::dsse_bundle_sign(gb::oms_statement_json(m), args.key, args.chain);
  });
  if (!bundle) return gb::cli::report_error(bundle.err());
  std::ofstream f(args.out, std::ios::binary | std::ios::trunc);
  f << bundle.value();
  if (!f) return gb::cli::report_error({gb::errc::io, 0, "cannot write the signature", args.out});
  if (args.as_json)
    gb::cli::print_json({{"model", args.model},
                         {"signature", args.out},
                         {"bundle", args.chain.empty() ? "key" : "certificate"},
                         {"subject_digest", subject},
                         {"files", files}});
  else
    std::printf("signed %s -> %s (%s bundle)\n", args.model.c_str(), args.out.c_str(),
                args.chain.empty() ? "key" : "certificate");
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND(
    "sign",
    "OpenSSF Model Signing: sign a model's files (Sigstore bundle, DSSE, in-toto) with a key or certificate",
    run_sign);
