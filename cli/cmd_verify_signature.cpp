// glassbox verify-signature: checks an OpenSSF Model Signing (OMS v1.0) signature offline: the bundle and
// statement against the OMS schemas, the DSSE signature with a public key or a certificate chained to a
// trusted CA, and every file of the model against the signed digests (none missing, none extra).
// Exit 0 verified; 1 not verified (each cause named; sigstore bundles: what could not be checked offline);
// 2 usage; 3 unreadable bundle or trust file.
#include <boost/program_options.hpp>
#include <cstdio>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "formats/file_text.h"
#include "viz/oms_bundle.h"
#include "viz/report_signature.h"

namespace po = boost::program_options;

namespace {

struct verify_signature_args {
  std::string model, sig;
  gb::viz::oms_verify_options o;
  bool as_json = false;
};

po::options_description verify_signature_option_table(verify_signature_args& a) {
  po::options_description desc(
      "glassbox verify-signature MODEL --signature model.sig (--key PUB.pem | --certificate-chain CA.pem) "
      "[--ignore-path P]...");
  desc.add_options()("help,h", "show options")("model", po::value(&a.model), "model file or folder")(
      "signature", po::value(&a.sig), "the OMS bundle (default MODEL/model.sig)")(
      "key", po::value(&a.o.public_key), "PEM public key of the signer (key bundles)")(
      "certificate-chain", po::value(&a.o.ca_certificates),
      "PEM trusted CA certificate(s) (certificate bundles)")(
      "ignore-path", po::value(&a.o.ignore_paths)->composing(),
      "leave this path (relative to MODEL) out; repeatable")("json", po::bool_switch(&a.as_json),
                                                             "print one JSON document")(
      "threads", po::value(&a.o.threads)->default_value(0), "threads (0 = all cores)");
  return desc;
}

int run_verify_signature(int argc, char** argv) {
  verify_signature_args args;
  po::options_description desc = verify_signature_option_table(args);
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc);
  if (vm.count("help")) return gb::cli::print_help(desc);
  if (args.model.empty()) return gb::cli::usage_error("verify-signature", "missing MODEL", &desc);
  if (!args.o.public_key.empty() && !args.o.ca_certificates.empty())
    return gb::cli::usage_error("verify-signature", "give --key or --certificate-chain, not both", &desc);
  if (args.sig.empty()) args.sig = args.model + "/model.sig";
  args.o.signature_path = args.sig;
  gb::result<std::string> bundle =
      gb::capture(args.sig, [&] { return gb::file_text(args.sig, "the signature bundle"); });
  if (!bundle) return gb::cli::report_error(bundle.err());  // exit 3
  gb::result<gb::viz::oms_verification> r =
      gb::capture(args.sig, [&] { return gb::viz::oms_verify(args.model, bundle.value(), args.o); });
  if (!r) return gb::cli::report_error(r.err());
  const gb::viz::oms_verification& v = r.value();
  if (args.as_json)
    gb::cli::print_json_text(gb::viz::verify_signature_json(v, args.model, args.sig));
  else
    std::fputs(gb::viz::verify_signature_text(v, args.model, args.sig).c_str(), stdout);
  return v.verified() ? gb::cli::exit_ok : gb::cli::exit_findings;
}

}  // namespace

GB_COMMAND("verify-signature",
           "OpenSSF Model Signing: verify a model.sig offline (key or CA chain; every file)",
           run_verify_signature);
