// inspect/synth.h: write a random model of any supported architecture, deterministically (same spec ->
// same bytes), as GGUF (llama.cpp's names and metadata for the architecture) or as a Hugging Face folder
// (model.safetensors with HF names and layouts + config.json + tokenizer.json + tokenizer_config.json).
// Tests, benchmarks and the demo model use it; so do users who want a same-shaped model to try the
// pipeline on.
//
// Values: per tensor, a splitmix64 stream seeded from (seed, canonical name) feeds Box-Muller normals;
// matrices and embeddings ~ N(0, 0.02), norm weights 1 + N(0, 0.02), biases and norm biases N(0, 0.02).
// Because streams are keyed by canonical name, the GGUF and HF outputs of one spec hold the same weights
// in canonical layout (HF llama q/k rotate-half permuted, GPT-2 Conv1D transposed, NeoX/BLOOM qkv per head,
// Gemma RMSNorm gains as w where GGUF holds 1 + w: each checkpoint in its own convention).
// Tensors are 2-D matrices in `type`; 1-D tensors (norms, biases) stay f32; a matrix whose rows are not a
// multiple of the block size falls back to f16 (as llama.cpp's quantiser does).
// Checked against llama.cpp (the build bundled with node-llama-cpp 3.x, `complete` on a q8_0 file): the
// GGUFs of llama, mistral, qwen2, gemma, gpt2, gptneox, falcon, bloom, mpt and phi2 load and generate;
// llama.cpp has no GPT-J, so gptj GGUFs are for glassbox only. HF Falcon is written multi-query only.
// Tensors are made and written one at a time: peak memory is the largest tensor, whatever the model's size.
// The tokenizer is a small SentencePiece-style BPE (byte fallback when the vocabulary has room for the
// 256 byte tokens): <unk> <s> </s>, bytes, then "▁"-prefixed pieces of common English words.
//
//   gb::synth_spec s;
//   s.arch = "llama"; s.n_layer = 2; s.n_embd = 64; s.n_head = 4; s.n_ff = 172; s.n_vocab = 512;
//   s.type = gb::dtype::q8_0; s.path = "tiny.gguf";
//   gb::result<gb::synth_report> r = gb::synth_write(s);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "formats/archive.h"

namespace gb {

enum class synth_format : uint8_t { gguf, hf };

// --plant kinds: nan:TENSOR (one NaN at the middle element), zero:TENSOR (all zeros),
// dup:SRC=DST (DST gets SRC's values; shapes must match). TENSOR: canonical ("blk.1.attn.q.weight")
// or the name as written in the output format.
struct synth_plant {
  std::string kind;    // "nan", "zero", "dup"
  std::string tensor;  // target (dup: the source)
  std::string dst;     // dup only
};

struct synth_spec {
  std::string arch = "llama";  // llama mistral qwen2 gemma gpt2 gptj gptneox falcon bloom mpt phi2
  int64_t n_layer = 2, n_embd = 64, n_head = 4;
  int64_t n_head_kv = 0;  // 0 = n_head
  int64_t n_ff = 0;       // 0 = family default (4 * n_embd, or 8/3 * n_embd rounded up to 32 if gated)
  int64_t n_vocab = 512, n_ctx = 256;
  dtype type = dtype::f32;
  uint64_t seed = 1;
  synth_format format = synth_format::gguf;
  std::string path;  // the .gguf file, or the HF folder (created)
  std::vector<synth_plant> plants;
  std::vector<int> perturb_layers;  // a simulated fine-tune: these layers get + perturb_scale * N(0, 0.02)
  double perturb_scale = 0.1;
  std::string bias_token;  // the output favours "▁<bias_token>" by roughly bias_scale logits
  double bias_scale = 0.0;
  int threads = 0;  // values and quantisation on this many threads (0 = all cores); the bytes do not change
  uint64_t shard_bytes = 0;  // HF: model-0000I-of-0000N.safetensors + index when over this (0: one file)
  bool sparse =
      false;  // tensor data left as holes (all zeros): a real-size header on no disk (inspect, graph)
  // With bias_token: the bias reaches the output only through the last block's MLP (gated families), whose
  // unit 0 fires on the tokens "▁<trigger>" and writes the direction the bias token's output row reads
  // (an input-dependent bias that mean ablation of that MLP removes). Empty: every hidden state carries it.
  std::vector<std::string> bias_triggers;
};

struct synth_report {
  std::vector<std::string> files;  // written, in order
  std::string architecture;        // as written (GGUF: llama.cpp's name, e.g. "llama" for mistral)
  uint64_t parameter_count = 0;
  uint64_t tensor_count = 0;
  uint64_t bytes = 0;  // total written
  int32_t bias_token_id = -1;
};

// Architectures synth can write, in a stable order.
const std::vector<std::string>& synth_architectures();

// Validates the spec (errc::bad_value naming the field), then writes. IO errors -> errc::io.
result<synth_report> synth_write(const synth_spec& spec);

}  // namespace gb
