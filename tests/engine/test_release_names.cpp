// Every tensor spelling the seed families were released with, in a file built in code: each release's full
// tensor list (names as in the published checkpoints, every tensor of the first two blocks, buffers
// included) with its config.json, written as a Hugging Face folder. Each must build a model whose every
// tensor has a role (or is a known non-parameter buffer), with the family, depth and width of the config,
// no shape finding, and a forward pass that runs to finite logits. Meta's own LLaMA names (params.json +
// consolidated.NN.pth) are built and run in test_meta_release.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "formats/archive.h"
#include "formats/writers.h"
#include "inspect/model.h"
#include "inspect/tensor_values.h"
#include "probes/engine/engine.h"
#include "tests/support/data.h"

using namespace gb;

namespace {

constexpr int64_t D = 8, F = 32, V = 16, C = 16;  // width, MLP, vocabulary, context (2 heads of 4)

struct spec {
  const char* name;
  arch_family family;
  std::string config;                                                 // config.json
  std::vector<std::pair<std::string, std::vector<int64_t>>> globals;  // name -> shape
  std::vector<std::pair<std::string, std::vector<int64_t>>> layer;    // "{N}" = block index
};

std::string replace_n(std::string s, int l) {
  const size_t at = s.find("{N}");
  return at == std::string::npos ? s : s.replace(at, 3, std::to_string(l));
}

// Small deterministic values; norm gains near 1 so the pass stays finite.
tensor_data tensor_of(const std::string& name, const std::vector<int64_t>& shape, uint32_t seed) {
  tensor_data t{name, dtype::f32, shape, {}};
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  const bool gain =
      shape.size() == 1 && name.find("norm") != std::string::npos && name.find(".bias") == std::string::npos;
  t.bytes.resize(n * 4);
  for (uint64_t i = 0; i < n; ++i) {
    const uint32_t h = (static_cast<uint32_t>(i) + seed) * 2654435761u;
    const float v = (gain ? 1.0f : 0.0f) + (static_cast<float>(h >> 8) / 16777216.0f - 0.5f) * 0.2f;
    std::memcpy(t.bytes.data() + 4 * i, &v, 4);
  }
  return t;
}

std::string write_release(const spec& s) {
  const std::string dir = test::temp_dir(std::string("release_") + s.name);
  std::vector<tensor_data> ts;
  uint32_t seed = 1;
  for (const auto& [n, shape] : s.globals) ts.push_back(tensor_of(n, shape, seed++));
  for (int l = 0; l < 2; ++l)
    for (const auto& [n, shape] : s.layer) ts.push_back(tensor_of(replace_n(n, l), shape, seed++));
  safetensors_write(dir + "/model.safetensors", ts, {{"format", "pt"}});
  test::write_file(dir + "/config.json", s.config);
  return dir;
}

using shape = std::vector<int64_t>;

std::vector<spec> releases() {
  const shape d{D}, dd{D, D}, fd{F, D}, df{D, F}, f{F}, vd{V, D}, qkv{3 * D, D}, q3{3 * D};
  // every Falcon release names its embedding, final norm and head alike
  const std::vector<std::pair<std::string, shape>> falcon_globals = {
      {"transformer.word_embeddings.weight", vd},
      {"transformer.ln_f.weight", d},
      {"transformer.ln_f.bias", d},
      {"lm_head.weight", vd}};
  return {
      {"bloom",  // bigscience/bloom-560m (BloomModel names, no prefix; lm_head tied)
       arch_family::bloom,
       R"({"architectures": ["BloomForCausalLM"], "model_type": "bloom", "hidden_size": 8, "n_head": 2,
           "n_layer": 2, "vocab_size": 16, "layer_norm_epsilon": 1e-5})",
       {{"word_embeddings.weight", vd},
        {"word_embeddings_layernorm.weight", d},
        {"word_embeddings_layernorm.bias", d},
        {"ln_f.weight", d},
        {"ln_f.bias", d}},
       {{"h.{N}.input_layernorm.weight", d},
        {"h.{N}.input_layernorm.bias", d},
        {"h.{N}.self_attention.query_key_value.weight", qkv},
        {"h.{N}.self_attention.query_key_value.bias", q3},
        {"h.{N}.self_attention.dense.weight", dd},
        {"h.{N}.self_attention.dense.bias", d},
        {"h.{N}.post_attention_layernorm.weight", d},
        {"h.{N}.post_attention_layernorm.bias", d},
        {"h.{N}.mlp.dense_h_to_4h.weight", fd},
        {"h.{N}.mlp.dense_h_to_4h.bias", f},
        {"h.{N}.mlp.dense_4h_to_h.weight", df},
        {"h.{N}.mlp.dense_4h_to_h.bias", d}}},
      {"gptj",  // EleutherAI/gpt-j-6b (GPTJForCausalLM, causal-mask buffers saved)
       arch_family::gptj,
       R"({"architectures": ["GPTJForCausalLM"], "model_type": "gptj", "n_embd": 8, "n_head": 2, "n_layer": 2,
           "n_positions": 16, "rotary_dim": 2, "vocab_size": 16, "activation_function": "gelu_new"})",
       {{"transformer.wte.weight", vd},
        {"transformer.ln_f.weight", d},
        {"transformer.ln_f.bias", d},
        {"lm_head.weight", vd},
        {"lm_head.bias", {V}}},
       {{"transformer.h.{N}.ln_1.weight", d},
        {"transformer.h.{N}.ln_1.bias", d},
        {"transformer.h.{N}.attn.bias", {1, 1, C, C}},
        {"transformer.h.{N}.attn.masked_bias", {}},
        {"transformer.h.{N}.attn.k_proj.weight", dd},
        {"transformer.h.{N}.attn.v_proj.weight", dd},
        {"transformer.h.{N}.attn.q_proj.weight", dd},
        {"transformer.h.{N}.attn.out_proj.weight", dd},
        {"transformer.h.{N}.mlp.fc_in.weight", fd},
        {"transformer.h.{N}.mlp.fc_in.bias", f},
        {"transformer.h.{N}.mlp.fc_out.weight", df},
        {"transformer.h.{N}.mlp.fc_out.bias", d}}},
      {"gptneox",  // EleutherAI/pythia (GPTNeoXForCausalLM, mask and rotary buffers saved)
       arch_family::gptneox,
       R"({"architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox", "hidden_size": 8,
           "num_attention_heads": 2, "num_hidden_layers": 2, "intermediate_size": 32, "vocab_size": 16,
           "rotary_pct": 0.5, "max_position_embeddings": 16, "use_parallel_residual": true})",
       {{"gpt_neox.embed_in.weight", vd},
        {"gpt_neox.final_layer_norm.weight", d},
        {"gpt_neox.final_layer_norm.bias", d},
        {"embed_out.weight", vd}},
       {{"gpt_neox.layers.{N}.input_layernorm.weight", d},
        {"gpt_neox.layers.{N}.input_layernorm.bias", d},
        {"gpt_neox.layers.{N}.post_attention_layernorm.weight", d},
        {"gpt_neox.layers.{N}.post_attention_layernorm.bias", d},
        {"gpt_neox.layers.{N}.attention.bias", {1, 1, C, C}},
        {"gpt_neox.layers.{N}.attention.masked_bias", {}},
        {"gpt_neox.layers.{N}.attention.rotary_emb.inv_freq", {1}},
        {"gpt_neox.layers.{N}.attention.query_key_value.weight", qkv},
        {"gpt_neox.layers.{N}.attention.query_key_value.bias", q3},
        {"gpt_neox.layers.{N}.attention.dense.weight", dd},
        {"gpt_neox.layers.{N}.attention.dense.bias", d},
        {"gpt_neox.layers.{N}.mlp.dense_h_to_4h.weight", fd},
        {"gpt_neox.layers.{N}.mlp.dense_h_to_4h.bias", f},
        {"gpt_neox.layers.{N}.mlp.dense_4h_to_h.weight", df},
        {"gpt_neox.layers.{N}.mlp.dense_4h_to_h.bias", d}}},
      {"falcon_rw_1b",  // tiiuae/falcon-rw-1b (RWForCausalLM: ALiBi, sequential block, biases)
       arch_family::falcon,
       R"({"architectures": ["RWForCausalLM"], "model_type": "RefinedWeb", "hidden_size": 8, "n_head": 2,
           "n_layer": 2, "vocab_size": 16, "alibi": true, "parallel_attn": false, "bias": true})",
       falcon_globals,
       {{"transformer.h.{N}.input_layernorm.weight", d},
        {"transformer.h.{N}.input_layernorm.bias", d},
        {"transformer.h.{N}.self_attention.query_key_value.weight", qkv},
        {"transformer.h.{N}.self_attention.query_key_value.bias", q3},
        {"transformer.h.{N}.self_attention.dense.weight", dd},
        {"transformer.h.{N}.self_attention.dense.bias", d},
        {"transformer.h.{N}.post_attention_layernorm.weight", d},
        {"transformer.h.{N}.post_attention_layernorm.bias", d},
        {"transformer.h.{N}.mlp.dense_h_to_4h.weight", fd},
        {"transformer.h.{N}.mlp.dense_h_to_4h.bias", f},
        {"transformer.h.{N}.mlp.dense_4h_to_h.weight", df},
        {"transformer.h.{N}.mlp.dense_4h_to_h.bias", d}}},
      {"falcon_7b_rw",  // tiiuae/falcon-7b as first released (RWForCausalLM: multi-query, parallel block)
       arch_family::falcon,
       R"({"architectures": ["RWForCausalLM"], "model_type": "RefinedWebModel", "hidden_size": 8,
           "n_head": 2, "n_layer": 2, "vocab_size": 16, "multi_query": true, "parallel_attn": true,
           "bias": false})",
       falcon_globals,
       {{"transformer.h.{N}.input_layernorm.weight", d},
        {"transformer.h.{N}.input_layernorm.bias", d},
        {"transformer.h.{N}.self_attention.query_key_value.weight", {D + 2 * 4, D}},
        {"transformer.h.{N}.self_attention.dense.weight", dd},
        {"transformer.h.{N}.mlp.dense_h_to_4h.weight", fd},
        {"transformer.h.{N}.mlp.dense_4h_to_h.weight", df}}},
      {"falcon_40b_new",  // tiiuae/falcon-40b in the HF names (FalconForCausalLM, new decoder:
                          // ln_attn/ln_mlp)
       arch_family::falcon,
       R"({"architectures": ["FalconForCausalLM"], "model_type": "falcon", "hidden_size": 8,
           "num_attention_heads": 2, "num_kv_heads": 1, "num_hidden_layers": 2, "vocab_size": 16,
           "new_decoder_architecture": true, "parallel_attn": true, "bias": false})",
       falcon_globals,
       {{"transformer.h.{N}.ln_attn.weight", d},
        {"transformer.h.{N}.ln_attn.bias", d},
        {"transformer.h.{N}.ln_mlp.weight", d},
        {"transformer.h.{N}.ln_mlp.bias", d},
        {"transformer.h.{N}.self_attention.query_key_value.weight", {D + 2 * 4, D}},
        {"transformer.h.{N}.self_attention.dense.weight", dd},
        {"transformer.h.{N}.mlp.dense_h_to_4h.weight", fd},
        {"transformer.h.{N}.mlp.dense_4h_to_h.weight", df}}},
      {"llama_hf",  // meta-llama/Llama-2-7b-hf (LlamaForCausalLM; older exports saved rotary inv_freq)
       arch_family::llama,
       R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 8,
           "num_attention_heads": 2, "num_hidden_layers": 2, "intermediate_size": 32, "vocab_size": 16,
           "max_position_embeddings": 16, "rms_norm_eps": 1e-5})",
       {{"model.embed_tokens.weight", vd}, {"model.norm.weight", d}, {"lm_head.weight", vd}},
       {{"model.layers.{N}.input_layernorm.weight", d},
        {"model.layers.{N}.self_attn.q_proj.weight", dd},
        {"model.layers.{N}.self_attn.k_proj.weight", dd},
        {"model.layers.{N}.self_attn.v_proj.weight", dd},
        {"model.layers.{N}.self_attn.o_proj.weight", dd},
        {"model.layers.{N}.self_attn.rotary_emb.inv_freq", {2}},
        {"model.layers.{N}.post_attention_layernorm.weight", d},
        {"model.layers.{N}.mlp.gate_proj.weight", fd},
        {"model.layers.{N}.mlp.up_proj.weight", fd},
        {"model.layers.{N}.mlp.down_proj.weight", df}}},
  };
}

}  // namespace

TEST_CASE("released tensor spellings: BLOOM, GPT-J, GPT-NeoX, Falcon (RW and HF names), LLaMA HF") {
  for (const spec& s : releases()) {
    const std::string release = s.name;
    CAPTURE(release);
    const std::string dir = write_release(s);
    auto a = archive_open(dir);
    REQUIRE_MESSAGE(a.ok(), (a.ok() ? "" : a.err().to_string()));
    auto ar = std::make_shared<const archive>(std::move(a.value()));
    auto m = model_build(ar);
    REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.err().to_string()));
    CHECK(m.value().family == s.family);
    CHECK(m.value().hp.n_layer == 2);
    CHECK(m.value().hp.n_embd == D);
    CHECK(m.value().hp.n_vocab == V);
    for (const finding& f : m.value().findings) CHECK_MESSAGE(f.code != "model.shape_mismatch", f.message);
    for (const tensor_item& it : tensor_items(m.value())) {
      CAPTURE(it.stored_name);
      CHECK(it.mapped);  // every released tensor has a role: a weight, or a known buffer
      const std::string& n = it.stored_name;
      const bool buffer =
          n.find(".attn.bias") != std::string::npos || n.find("masked_bias") != std::string::npos ||
          n.find("attention.bias") != std::string::npos || n.find("inv_freq") != std::string::npos;
      CHECK(it.excluded.empty() == !buffer);  // causal masks and rotary tables are not weights
    }
    auto r = engine::runner::create(m.value());
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
    auto lg = r.value()->forward({1, 5, 9, 3});
    REQUIRE_MESSAGE(lg.ok(), (lg.ok() ? "" : lg.err().to_string()));
    REQUIRE(lg.value().size() == static_cast<size_t>(4 * V));
    for (float x : lg.value()) REQUIRE(std::isfinite(x));
  }
}
