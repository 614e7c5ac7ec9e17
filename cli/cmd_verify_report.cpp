// glassbox verify-report: check a report folder against its manifest (and signatures).
#include <boost/program_options.hpp>
#include <cstdio>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "viz/attestation.h"
#include "viz/manifest.h"

namespace po = boost::program_options;

namespace {

int run_verify_report(int argc, char** argv) {
  po::options_description desc("glassbox verify-report DIR [--key PUB.pem] [--json]");
  std::string dir, pub;
  bool as_json = false;
  desc.add_options()("help,h", "show options")("dir", po::value(&dir), "report folder")(
      "key", po::value(&pub), "PEM public key to check manifest.sig")("json", po::bool_switch(&as_json),
                                                                      "print one JSON document (errors too)");
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc, {{"dir", 1}});
  (void)vm;
  if (dir.empty()) return gb::cli::missing_positional("DIR");
  gb::viz::report_check c;
  try {
    c = gb::viz::report_verify(dir, pub);
    gb::viz::attestation_check(dir, pub, c);
  } catch (const gb::failure& f) {
    return gb::cli::report_error(f.err());
  }
  if (as_json) {  // schema "glassbox-verify-report/1": verdict, counts, every problem and note
    gb::cli::json j{{"dir", dir},
                    {"verdict", c.ok() ? "OK" : "FAILED"},
                    {"ok", c.ok()},
                    {"files_checked", c.files_checked},
                    {"signature_checked", !pub.empty()},
                    {"problems", c.problems},
                    {"notes", c.notes}};
    gb::cli::print_json(j);
    return c.ok() ? gb::cli::exit_ok : gb::cli::exit_findings;
  }
  for (const auto& p : c.problems) std::printf("CHANGED  %s\n", p.c_str());
  for (const auto& n : c.notes) std::printf("note     %s\n", n.c_str());
  std::printf("%s: %zu files checked, %zu problems\n", c.ok() ? "OK" : "FAILED", c.files_checked,
              c.problems.size());
  return c.ok() ? gb::cli::exit_ok : gb::cli::exit_findings;
}

}  // namespace

GB_COMMAND("verify-report", "check a report folder against its manifest (and signature)", run_verify_report);
