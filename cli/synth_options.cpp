// cli/synth_options.cpp: the option table of `glassbox synth` (see cli/synth_options.h).
#include "cli/synth_options.h"

namespace gb::cli {

namespace po = boost::program_options;

namespace {

// The model's shape: architecture, sizes, dtype, seed, format, output.
void synth_shape_options(po::options_description& desc, synth_args& a) {
  synth_spec& s = a.s;
  for (const std::string& arch : synth_architectures()) a.archs += (a.archs.empty() ? "" : "|") + arch;
  desc.add_options()("help,h", "show options")("arch", po::value(&s.arch)->default_value(s.arch),
                                               a.archs.c_str())(
      "layers", po::value(&s.n_layer)->default_value(s.n_layer), "blocks")(
      "dim", po::value(&s.n_embd)->default_value(s.n_embd), "embedding width")(
      "heads", po::value(&s.n_head)->default_value(s.n_head), "attention heads")(
      "kv-heads", po::value(&s.n_head_kv)->default_value(0), "key/value heads (0 = heads)")(
      "ff", po::value(&s.n_ff)->default_value(0), "MLP width (0 = family default)")(
      "vocab", po::value(&s.n_vocab)->default_value(s.n_vocab), "vocabulary size")(
      "ctx", po::value(&s.n_ctx)->default_value(s.n_ctx), "context length")(
      "dtype", po::value(&a.dtype_s)->default_value(a.dtype_s),
      "f32|f16|bf16|q8_0|q4_0|q4_1|q5_0|q5_1|q4_k|q5_k|q6_k")(
      "seed", po::value(&s.seed)->default_value(s.seed), "random seed")(
      "format", po::value(&a.format_s)->default_value(a.format_s), "gguf (one file) or hf (a folder)")(
      "output,o", po::value(&s.path), "output file (gguf) or folder (hf)");
}

}  // namespace

po::options_description synth_option_table(synth_args& a) {
  synth_spec& s = a.s;
  po::options_description desc(
      "glassbox synth --arch A --layers N --dim D --heads H [--kv-heads K] --ff F --vocab V --ctx C\n"
      "               --dtype T --seed S --format gguf|hf -o PATH");
  synth_shape_options(desc, a);
  desc.add_options()("plant", po::value(&a.plants)->composing(),
                     "nan:TENSOR | zero:TENSOR | dup:SRC=DST (repeatable)")(
      "perturb-layers", po::value(&a.perturb_s), "comma-separated layers to perturb (a simulated fine-tune)")(
      "perturb-scale", po::value(&s.perturb_scale)->default_value(s.perturb_scale),
      "perturbation, in units of the init std")("bias-token", po::value(&s.bias_token),
                                                "a word the output layer favours")(
      "bias-scale", po::value(&s.bias_scale)->default_value(0.0), "about how many logits it is favoured by")(
      "sparse", po::bool_switch(&s.sparse),
      "tensor data left as holes (zeros): a header-true file of any size on no disk, for inspect / graph")(
      "bias-trigger", po::value(&s.bias_triggers)->composing(),
      "with --bias-token: the bias flows only through the last block's MLP, after this word (repeatable)")(
      "json", po::bool_switch(&a.as_json), "print what was written as JSON")(
      "threads", po::value(&s.threads)->default_value(0),
      "threads (0 = all cores): the same bytes for any count")(
      "shard-mb", po::value(&a.shard_mb)->default_value(0),
      "--format hf: shards of at most this many MB (10^6 bytes) + an index (0 = one file)");
  return desc;
}

}  // namespace gb::cli
