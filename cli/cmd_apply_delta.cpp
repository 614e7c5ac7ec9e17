// glassbox apply-delta BASE DELTA -o OUT: reconstructs a model published as a weight delta (Vicuna v0 /
// v1.1 against LLaMA ...) and prints the canonical root digest of the result.
#include <boost/program_options.hpp>
#include <cstdio>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "inspect/delta.h"

namespace po = boost::program_options;

namespace {

int run_apply_delta(int argc, char** argv) {
  const char* usage = "glassbox apply-delta BASE DELTA -o OUT (a folder, or a .safetensors file)";
  po::options_description desc(usage);
  std::string base, delta, out;
  bool as_json = false;
  desc.add_options()("help,h", "show options")("output,o", po::value(&out),
                                               "where to write the reconstructed model")(
      "json", po::bool_switch(&as_json), "print one JSON document (files written, tensors, root digest)");
  po::options_description hidden;
  hidden.add_options()("base", po::value(&base))("delta", po::value(&delta));
  po::options_description every(usage);
  every.add(desc).add(hidden);
  po::variables_map vm = gb::cli::parse_command(argc, argv, every, {{"base", 1}, {"delta", 1}});
  if (vm.count("help")) return gb::cli::print_help(desc);
  if (base.empty() || delta.empty()) return gb::cli::usage_error("apply-delta", "need BASE and DELTA", &desc);
  if (out.empty()) return gb::cli::usage_error("apply-delta", "missing -o OUT", &desc);
  gb::result<gb::integrity_input> b = gb::integrity_open(base);
  if (!b) return gb::cli::report_error(b.err());
  gb::result<gb::integrity_input> d = gb::integrity_open(delta);
  if (!d) return gb::cli::report_error(d.err());
  gb::result<gb::delta_apply_report> r = gb::delta_apply(b.value(), d.value(), out);
  if (!r) return gb::cli::report_error(r.err());
  if (as_json) {
    gb::cli::print_json(
        {{"files", r.value().files}, {"tensors", r.value().tensors}, {"root", r.value().root_hex}});
    return gb::cli::exit_ok;
  }
  for (const std::string& f : r.value().files) std::printf("wrote %s\n", f.c_str());
  std::printf("tensors %zu\nroot %s  (gb-root-v1 canonical digest: compare with the published one)\n",
              r.value().tensors, r.value().root_hex.c_str());
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("apply-delta",
           "rebuild a model published as a weight delta (BASE + DELTA) and print its root digest",
           run_apply_delta);
