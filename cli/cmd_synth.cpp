// glassbox synth --arch A --layers N --dim D --heads H [--kv-heads K] --ff F --vocab V --ctx C --dtype T
//                --seed S --format gguf|hf [--shard-mb M] [--threads N] -o PATH [--plant ...]
//                [--perturb-layers 2,3] [--bias-token W]
// The writing is inspect/synth.h, the rendering viz/report_synth.h.
#include <boost/program_options.hpp>
#include <cstdio>
#include <sstream>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "cli/synth_options.h"
#include "inspect/synth.h"
#include "viz/report_synth.h"

namespace po = boost::program_options;

namespace {

// Ends the command with a usage error (exit 2).
[[noreturn]] void synth_usage(const std::string& msg) {
  throw gb::cli::exit_now{gb::cli::usage_error("synth", msg)};
}

// --plant KIND:TENSOR or dup:SRC=DST
gb::synth_plant synth_plant_parse(const std::string& p) {
  auto colon = p.find(':');
  if (colon == std::string::npos) synth_usage("--plant KIND:TENSOR, got '" + p + "'");
  gb::synth_plant pl{p.substr(0, colon), p.substr(colon + 1), ""};
  if (pl.kind == "dup") {
    auto eq = pl.tensor.find('=');
    if (eq == std::string::npos) synth_usage("--plant dup:SRC=DST, got '" + p + "'");
    pl.dst = pl.tensor.substr(eq + 1);
    pl.tensor = pl.tensor.substr(0, eq);
  }
  return pl;
}

// --perturb-layers 2,3
std::vector<int> synth_layers_parse(const std::string& text) {
  std::vector<int> layers;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t used = 0;
    int l = 0;
    try {
      l = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = std::string::npos;
    }
    if (used != item.size()) synth_usage("--perturb-layers: '" + item + "' is not a layer number");
    layers.push_back(l);
  }
  return layers;
}

// The option texts turned into the spec, in the order they are checked.
void synth_spec_finish(gb::cli::synth_args& a) {
  gb::synth_spec& s = a.s;
  if (s.path.empty()) synth_usage("-o PATH is required");
  auto dt = gb::dtype_from_name(a.dtype_s);
  if (!dt) synth_usage("unknown --dtype '" + a.dtype_s + "'");
  s.type = *dt;
  if (a.format_s != "gguf" && a.format_s != "hf") synth_usage("--format must be gguf or hf");
  s.format = a.format_s == "gguf" ? gb::synth_format::gguf : gb::synth_format::hf;
  for (const std::string& p : a.plants) s.plants.push_back(synth_plant_parse(p));
  if (!a.perturb_s.empty()) s.perturb_layers = synth_layers_parse(a.perturb_s);
  if (a.shard_mb > (uint64_t{1} << 40)) synth_usage("--shard-mb must be at most 2^40");
  s.shard_bytes = a.shard_mb * 1000000;
}

int run_synth(int argc, char** argv) {
  gb::cli::synth_args args;
  po::options_description desc = gb::cli::synth_option_table(args);
  gb::cli::parse_command(argc, argv, desc, {});
  synth_spec_finish(args);
  gb::result<gb::synth_report> r = gb::synth_write(args.s);
  if (!r) {
    // a bad spec is a usage error; a failed write is an input/output error
    if (r.err().code == gb::errc::bad_value) synth_usage(r.err().message);
    return gb::cli::report_error(r.err());
  }
  if (args.as_json)
    gb::cli::print_json_text(gb::viz::synth_json(r.value()));
  else
    std::fputs(gb::viz::synth_text(args.s.path, r.value()).c_str(), stdout);
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("synth",
           "write a random model of any supported architecture (GGUF or HF folder), deterministically",
           run_synth);
