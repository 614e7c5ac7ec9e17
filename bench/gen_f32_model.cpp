// bench/gen_f32_model.cpp: writes a llama-shaped f32 GGUF of a chosen size for the hash/diff benchmarks
// (deterministic N(0, 0.02) weights; --perturb-layer L adds 10% noise to layer L, a simulated fine-tune).
//
//   bench_gen_f32_model out.gguf [--layers 8] [--dim 1024] [--ff 2816] [--vocab 8000] [--seed 1]
//   [--perturb-layer 3]
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench/gen_options.h"
#include "formats/writers.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: %s OUT.gguf [--layers N] [--dim D] [--ff F] [--vocab V] [--seed S] [--perturb-layer L]\n",
        argv[0]);
    return 2;
  }
  std::string out = argv[1];
  long layers = 8, dim = 1024, ff = 2816, vocab = 8000, seed = 1, perturb = -1;
  if (!gen_options_parse(argc, argv, 2,
                         {{"--layers", &layers},
                          {"--dim", &dim},
                          {"--ff", &ff},
                          {"--vocab", &vocab},
                          {"--seed", &seed},
                          {"--perturb-layer", &perturb}}))
    return 2;
  std::mt19937_64 rng(static_cast<uint64_t>(seed));
  std::mt19937_64 noise_rng(999);
  std::normal_distribution<float> nd(0.0f, 0.02f), nn(0.0f, 0.002f);
  std::vector<gb::tensor_data> ts;
  auto mat = [&](const std::string& name, long rows, long cols, bool perturbed) {
    std::vector<float> v(static_cast<size_t>(rows * cols));
    for (float& x : v) x = nd(rng);
    if (perturbed)
      for (float& x : v) x += nn(noise_rng);
    gb::tensor_data t{name, gb::dtype::f32, {rows, cols}, std::vector<uint8_t>(v.size() * 4)};
    std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
    ts.push_back(std::move(t));
  };
  auto ones = [&](const std::string& name, long n) {
    std::vector<float> v(static_cast<size_t>(n), 1.0f);
    gb::tensor_data t{name, gb::dtype::f32, {n}, std::vector<uint8_t>(v.size() * 4)};
    std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
    ts.push_back(std::move(t));
  };
  mat("token_embd.weight", vocab, dim, false);
  for (long l = 0; l < layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    const bool pt = l == perturb;
    ones(p + "attn_norm.weight", dim);
    mat(p + "attn_q.weight", dim, dim, pt);
    mat(p + "attn_k.weight", dim, dim, pt);
    mat(p + "attn_v.weight", dim, dim, pt);
    mat(p + "attn_output.weight", dim, dim, pt);
    ones(p + "ffn_norm.weight", dim);
    mat(p + "ffn_gate.weight", ff, dim, pt);
    mat(p + "ffn_up.weight", ff, dim, pt);
    mat(p + "ffn_down.weight", dim, ff, pt);
  }
  ones("output_norm.weight", dim);
  mat("output.weight", vocab, dim, false);
  std::vector<std::pair<std::string, gb::meta_value>> meta = {
      {"general.architecture", gb::meta_str("llama")},
      {"general.name", gb::meta_str("bench-f32")},
      {"llama.context_length", gb::meta_u32(2048)},
      {"llama.embedding_length", gb::meta_u32(static_cast<uint32_t>(dim))},
      {"llama.block_count", gb::meta_u32(static_cast<uint32_t>(layers))},
      {"llama.feed_forward_length", gb::meta_u32(static_cast<uint32_t>(ff))},
      {"llama.attention.head_count", gb::meta_u32(static_cast<uint32_t>(dim / 64))},
      {"llama.attention.head_count_kv", gb::meta_u32(static_cast<uint32_t>(dim / 64))},
      {"llama.attention.layer_norm_rms_epsilon", gb::meta_f32(1e-5f)},
  };
  try {
    gb::gguf_write(out, meta, ts);
  } catch (const gb::failure& f) {
    std::fprintf(stderr, "%s\n", f.err().to_string().c_str());
    return 3;
  }
  return 0;
}
