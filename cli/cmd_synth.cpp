// glassbox synth --arch A --layers N --dim D --heads H [--kv-heads K] --ff F --vocab V --ctx C --dtype T
//                --seed S --format gguf|hf [--shard-mb M] [--threads N] -o PATH [--plant ...]
//                [--perturb-layers 2,3] [--bias-token W]
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "inspect/synth.h"

namespace po = boost::program_options;

namespace {

int usage_error(const std::string& msg) {
  return gb::cli::usage_error("synth", msg);
}

int run_synth(int argc, char** argv) {
  gb::synth_spec s;
  std::string dtype_s = "f32", format_s = "gguf", perturb_s;
  std::vector<std::string> plants;
  bool as_json = false;
  uint64_t shard_mb = 0;
  std::string archs;
  for (const std::string& a : gb::synth_architectures()) archs += (archs.empty() ? "" : "|") + a;
  po::options_description desc(
      "glassbox synth --arch A --layers N --dim D --heads H [--kv-heads K] --ff F --vocab V --ctx C\n"
      "               --dtype T --seed S --format gguf|hf -o PATH");
  desc.add_options()("help,h", "show options")("arch", po::value(&s.arch)->default_value(s.arch),
                                               archs.c_str())(
      "layers", po::value(&s.n_layer)->default_value(s.n_layer), "blocks")(
      "dim", po::value(&s.n_embd)->default_value(s.n_embd), "embedding width")(
      "heads", po::value(&s.n_head)->default_value(s.n_head), "attention heads")(
      "kv-heads", po::value(&s.n_head_kv)->default_value(0), "key/value heads (0 = heads)")(
      "ff", po::value(&s.n_ff)->default_value(0), "MLP width (0 = family default)")(
      "vocab", po::value(&s.n_vocab)->default_value(s.n_vocab), "vocabulary size")(
      "ctx", po::value(&s.n_ctx)->default_value(s.n_ctx), "context length")(
      "dtype", po::value(&dtype_s)->default_value(dtype_s),
      "f32|f16|bf16|q8_0|q4_0|q4_1|q5_0|q5_1|q4_k|q5_k|q6_k")(
      "seed", po::value(&s.seed)->default_value(s.seed), "random seed")(
      "format", po::value(&format_s)->default_value(format_s), "gguf (one file) or hf (a folder)")(
      "output,o", po::value(&s.path), "output file (gguf) or folder (hf)")(
      "plant", po::value(&plants)->composing(), "nan:TENSOR | zero:TENSOR | dup:SRC=DST (repeatable)")(
      "perturb-layers", po::value(&perturb_s), "comma-separated layers to perturb (a simulated fine-tune)")(
      "perturb-scale", po::value(&s.perturb_scale)->default_value(s.perturb_scale),
      "perturbation, in units of the init std")("bias-token", po::value(&s.bias_token),
                                                "a word the output layer favours")(
      "bias-scale", po::value(&s.bias_scale)->default_value(0.0), "about how many logits it is favoured by")(
      "sparse", po::bool_switch(&s.sparse),
      "tensor data left as holes (zeros): a header-true file of any size on no disk, for inspect / graph")(
      "bias-trigger", po::value(&s.bias_triggers)->composing(),
      "with --bias-token: the bias flows only through the last block's MLP, after this word (repeatable)")(
      "json", po::bool_switch(&as_json), "print what was written as JSON")(
      "threads", po::value(&s.threads)->default_value(0),
      "threads (0 = all cores): the same bytes for any count")(
      "shard-mb", po::value(&shard_mb)->default_value(0),
      "--format hf: shards of at most this many MB (10^6 bytes) + an index (0 = one file)");
  gb::cli::parse_command(argc, argv, desc, {});
  if (s.path.empty()) return usage_error("-o PATH is required");
  auto dt = gb::dtype_from_name(dtype_s);
  if (!dt) return usage_error("unknown --dtype '" + dtype_s + "'");
  s.type = *dt;
  if (format_s == "gguf")
    s.format = gb::synth_format::gguf;
  else if (format_s == "hf")
    s.format = gb::synth_format::hf;
  else
    return usage_error("--format must be gguf or hf");
  for (const std::string& p : plants) {
    auto colon = p.find(':');
    if (colon == std::string::npos) return usage_error("--plant KIND:TENSOR, got '" + p + "'");
    gb::synth_plant pl{p.substr(0, colon), p.substr(colon + 1), ""};
    if (pl.kind == "dup") {
      auto eq = pl.tensor.find('=');
      if (eq == std::string::npos) return usage_error("--plant dup:SRC=DST, got '" + p + "'");
      pl.dst = pl.tensor.substr(eq + 1);
      pl.tensor = pl.tensor.substr(0, eq);
    }
    s.plants.push_back(pl);
  }
  if (!perturb_s.empty()) {
    std::stringstream ss(perturb_s);
    std::string item;
    while (std::getline(ss, item, ',')) {
      try {
        size_t used = 0;
        int l = std::stoi(item, &used);
        if (used != item.size()) throw std::invalid_argument(item);
        s.perturb_layers.push_back(l);
      } catch (const std::exception&) {
        return usage_error("--perturb-layers: '" + item + "' is not a layer number");
      }
    }
  }
  if (shard_mb > (uint64_t{1} << 40)) return usage_error("--shard-mb must be at most 2^40");
  s.shard_bytes = shard_mb * 1000000;
  gb::result<gb::synth_report> r = gb::synth_write(s);
  if (!r) {
    // a bad spec is a usage error; a failed write is an input/output error
    if (r.err().code == gb::errc::bad_value) return usage_error(r.err().message);
    return gb::cli::report_error(r.err());
  }
  const gb::synth_report& rep = r.value();
  if (as_json) {
    gb::cli::json j{{"files", rep.files},
                    {"architecture", rep.architecture},
                    {"parameter_count", rep.parameter_count},
                    {"tensor_count", rep.tensor_count},
                    {"bytes", rep.bytes},
                    {"bias_token_id", rep.bias_token_id}};
    gb::cli::print_json(j);
  } else {
    std::printf("wrote %s: %s, %llu tensors, %llu parameters, %llu bytes\n", s.path.c_str(),
                rep.architecture.c_str(), static_cast<unsigned long long>(rep.tensor_count),
                static_cast<unsigned long long>(rep.parameter_count),
                static_cast<unsigned long long>(rep.bytes));
    if (rep.bias_token_id >= 0) std::printf("bias token id %d\n", rep.bias_token_id);
  }
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("synth",
           "write a random model of any supported architecture (GGUF or HF folder), deterministically",
           run_synth);
