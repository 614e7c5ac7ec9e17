// bench/gen_sharded_safetensors.cpp: writes a llama-shaped f32 Hugging Face folder split into safetensors
// shards with model.safetensors.index.json (the inspect benchmark's sharded case; `glassbox synth` writes
// one unsharded file). Weights are deterministic small integers' worth of bytes, not a trained model.
//
//   bench_gen_sharded_safetensors OUT_DIR [--layers 8] [--dim 1024] [--ff 2816] [--vocab 8000] [--shards 4]
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench/gen_options.h"
#include "formats/writers.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR [--layers N] [--dim D] [--ff F] [--vocab V] [--shards S]\n",
                 argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  long layers = 8, dim = 1024, ff = 2816, vocab = 8000, shards = 4;
  if (!gen_options_parse(argc, argv, 2,
                         {{"--layers", &layers},
                          {"--dim", &dim},
                          {"--ff", &ff},
                          {"--vocab", &vocab},
                          {"--shards", &shards}}))
    return 2;
  if (layers < 1 || dim < 1 || ff < 1 || vocab < 1 || shards < 1) return 2;
  std::filesystem::create_directories(out);

  struct spec {
    std::string name;
    std::vector<int64_t> shape;
  };
  std::vector<spec> all = {{"model.embed_tokens.weight", {vocab, dim}}};
  for (long l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const char* w : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj"})
      all.push_back({p + w + ".weight", {dim, dim}});
    all.push_back({p + "mlp.gate_proj.weight", {ff, dim}});
    all.push_back({p + "mlp.up_proj.weight", {ff, dim}});
    all.push_back({p + "mlp.down_proj.weight", {dim, ff}});
    all.push_back({p + "input_layernorm.weight", {dim}});
    all.push_back({p + "post_attention_layernorm.weight", {dim}});
  }
  all.push_back({"model.norm.weight", {dim}});
  all.push_back({"lm_head.weight", {vocab, dim}});

  const size_t per = (all.size() + static_cast<size_t>(shards) - 1) / static_cast<size_t>(shards);
  std::string map;
  uint64_t total = 0;
  for (long s = 0; s < shards; ++s) {
    char fname[96];
    std::snprintf(fname, sizeof fname, "model-%05ld-of-%05ld.safetensors", s + 1, shards);
    std::vector<gb::tensor_data> ts;
    for (size_t i = static_cast<size_t>(s) * per; i < all.size() && i < static_cast<size_t>(s + 1) * per;
         ++i) {
      uint64_t n = 1;
      for (int64_t d : all[i].shape) n *= static_cast<uint64_t>(d);
      std::vector<uint8_t> bytes(n * 4);
      for (size_t b = 0; b < bytes.size(); b += 4)
        bytes[b + 3] = static_cast<uint8_t>(0x3C + (b >> 2) % 3);  // ~0.01..1
      total += bytes.size();
      map += (map.empty() ? "" : ",\n    ") + std::string("\"") + all[i].name + "\": \"" + fname + "\"";
      ts.push_back({all[i].name, gb::dtype::f32, all[i].shape, std::move(bytes)});
    }
    gb::safetensors_write(out + "/" + fname, ts, {{"format", "pt"}});
  }
  std::ofstream(out + "/model.safetensors.index.json")
      << "{\n  \"metadata\": {\"total_size\": " << total << "},\n  \"weight_map\": {\n    " << map
      << "\n  }\n}\n";
  std::ofstream(out + "/config.json")
      << "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", "
      << "\"hidden_size\": " << dim << ", \"intermediate_size\": " << ff
      << ", \"num_hidden_layers\": " << layers << ", \"num_attention_heads\": 16, "
      << "\"num_key_value_heads\": 16, \"vocab_size\": " << vocab
      << ", \"max_position_embeddings\": 2048, \"rms_norm_eps\": 1e-05, "
      << "\"torch_dtype\": \"float32\"}\n";
  std::printf("%s: %ld shards, %zu tensors, %.0f MB\n", out.c_str(), shards, all.size(),
              static_cast<double>(total) / 1e6);
  return 0;
}
