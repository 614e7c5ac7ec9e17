// The architecture table and model_build: archives built in memory (tensor views with shapes, no data),
// then the real stories260K files in every format.
#include <doctest/doctest.h>

#include <filesystem>
#include <memory>

#include "inspect/arch_table.h"
#include "inspect/model.h"
#include "inspect/summary.h"
#include "tests/support/data.h"
#include "tests/support/fixtures.h"

namespace {

using gb::arch_family;
using gb::role_kind;

gb::meta_value mstr(std::string s) {
  gb::meta_value v;
  v.k = gb::meta_value::kind::string;
  v.s = std::move(s);
  return v;
}
gb::meta_value mint(int64_t i) {
  gb::meta_value v;
  v.k = gb::meta_value::kind::integer;
  v.i = i;
  return v;
}
gb::meta_value mreal(double f) {
  gb::meta_value v;
  v.k = gb::meta_value::kind::floating;
  v.f = f;
  return v;
}
gb::meta_value mbool(bool b) {
  gb::meta_value v;
  v.k = gb::meta_value::kind::boolean;
  v.b = b;
  return v;
}

struct builder {
  std::shared_ptr<gb::archive> a = std::make_shared<gb::archive>();
  builder& meta(std::string k, gb::meta_value v) {
    a->metadata.emplace_back(std::move(k), std::move(v));
    return *this;
  }
  builder& t(std::string name, std::vector<int64_t> shape) {
    gb::tensor_view v;
    v.name = std::move(name);
    v.type = gb::dtype::f32;
    v.shape = std::move(shape);
    v.nbytes = v.element_count() * 4;
    a->tensors.push_back(std::move(v));
    return *this;
  }
  gb::model build() {
    auto r = gb::model_build(a);
    REQUIRE(r.ok());
    return std::move(r).value();
  }
};

bool has_finding(const gb::model& m, const std::string& code) {
  for (const auto& f : m.findings)
    if (f.code == code) return true;
  return false;
}

// A stories260K-shaped LLaMA (dim 64, 5 layers, 8 heads, 4 KV heads, FFN 172, vocab 512) in GGUF names.
builder llama_gguf(bool with_meta) {
  builder b;
  if (with_meta)
    b.meta("general.architecture", mstr("llama"))
        .meta("llama.embedding_length", mint(64))
        .meta("llama.block_count", mint(5))
        .meta("llama.attention.head_count", mint(8))
        .meta("llama.attention.head_count_kv", mint(4))
        .meta("llama.feed_forward_length", mint(172))
        .meta("llama.context_length", mint(512))
        .meta("llama.rope.freq_base", mreal(10000.0))
        .meta("llama.attention.layer_norm_rms_epsilon", mreal(1e-5));
  b.t("token_embd.weight", {512, 64});
  for (int l = 0; l < 5; ++l) {
    std::string p = "blk." + std::to_string(l) + ".";
    b.t(p + "attn_norm.weight", {64})
        .t(p + "attn_q.weight", {64, 64})
        .t(p + "attn_k.weight", {32, 64})
        .t(p + "attn_v.weight", {32, 64})
        .t(p + "attn_output.weight", {64, 64})
        .t(p + "ffn_norm.weight", {64})
        .t(p + "ffn_gate.weight", {172, 64})
        .t(p + "ffn_down.weight", {64, 172})
        .t(p + "ffn_up.weight", {172, 64});
  }
  b.t("output_norm.weight", {64});
  return b;
}

builder llama_hf() {
  builder b;
  b.meta("config.model_type", mstr("llama"))
      .meta("config.hidden_size", mint(64))
      .meta("config.num_hidden_layers", mint(5))
      .meta("config.num_attention_heads", mint(8))
      .meta("config.num_key_value_heads", mint(4))
      .meta("config.intermediate_size", mint(172))
      .meta("config.max_position_embeddings", mint(512))
      .meta("config.vocab_size", mint(512))
      .meta("config.tie_word_embeddings", mbool(true));
  b.t("model.embed_tokens.weight", {512, 64});
  for (int l = 0; l < 5; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    b.t(p + "input_layernorm.weight", {64})
        .t(p + "self_attn.q_proj.weight", {64, 64})
        .t(p + "self_attn.k_proj.weight", {32, 64})
        .t(p + "self_attn.v_proj.weight", {32, 64})
        .t(p + "self_attn.o_proj.weight", {64, 64})
        .t(p + "post_attention_layernorm.weight", {64})
        .t(p + "mlp.gate_proj.weight", {172, 64})
        .t(p + "mlp.up_proj.weight", {172, 64})
        .t(p + "mlp.down_proj.weight", {64, 172});
  }
  b.t("model.norm.weight", {64});
  return b;
}

void check_stories_shape(const gb::model& m) {
  CHECK(m.family == arch_family::llama);
  CHECK(m.hp.n_embd == 64);
  CHECK(m.hp.n_layer == 5);
  CHECK(m.hp.n_head == 8);
  CHECK(m.hp.n_head_kv == 4);
  CHECK(m.hp.n_ff == 172);
  CHECK(m.hp.n_vocab == 512);
  CHECK(m.hp.head_dim == 8);
  CHECK(m.hp.gated_mlp);
  CHECK(m.hp.norm == gb::norm_kind::rms);
  CHECK(m.unmapped.empty());
}

}  // namespace

TEST_CASE("table: one spelling per family maps to the documented role and layer") {
  struct row {
    const char* name;
    role_kind role;
    int layer;
    bool bias;
  };
  const row rows[] = {
      // GGUF
      {"token_embd.weight", role_kind::tok_embd, -1, false},
      {"blk.12.attn_qkv.bias", role_kind::attn_qkv, 12, true},
      {"blk.0.attn_norm_2.weight", role_kind::attn_norm_2, 0, false},
      {"blk.3.post_attention_norm.weight", role_kind::post_attn_norm, 3, false},
      {"blk.3.post_ffw_norm.weight", role_kind::post_ffn_norm, 3, false},
      {"blk.1.attn_k_norm.weight", role_kind::attn_k_norm, 1, false},
      {"token_embd_norm.bias", role_kind::embd_norm, -1, true},
      {"position_embd.weight", role_kind::pos_embd, -1, false},
      {"rope_freqs.weight", role_kind::rope_freqs, -1, false},
      // HF LLaMA / Mistral / Qwen2 / Gemma
      {"model.layers.7.mlp.down_proj.weight", role_kind::mlp_down, 7, false},
      {"model.layers.2.self_attn.k_proj.bias", role_kind::attn_k, 2, true},
      {"lm_head.weight", role_kind::output, -1, false},
      {"model.norm.weight", role_kind::output_norm, -1, false},
      // GPT-2 (with and without the transformer. prefix)
      {"h.0.attn.c_attn.weight", role_kind::attn_qkv, 0, false},
      {"transformer.h.11.mlp.c_proj.bias", role_kind::mlp_down, 11, true},
      {"transformer.wpe.weight", role_kind::pos_embd, -1, false},
      {"ln_f.weight", role_kind::output_norm, -1, false},
      {"h.4.ln_2.weight", role_kind::ffn_norm, 4, false},
      // GPT-J
      {"transformer.h.5.attn.out_proj.weight", role_kind::attn_o, 5, false},
      {"transformer.h.5.mlp.fc_in.weight", role_kind::mlp_up, 5, false},
      // GPT-NeoX / Pythia
      {"gpt_neox.embed_in.weight", role_kind::tok_embd, -1, false},
      {"gpt_neox.layers.3.attention.query_key_value.weight", role_kind::attn_qkv, 3, false},
      {"gpt_neox.layers.3.mlp.dense_4h_to_h.bias", role_kind::mlp_down, 3, true},
      {"gpt_neox.final_layer_norm.weight", role_kind::output_norm, -1, false},
      {"embed_out.weight", role_kind::output, -1, false},
      // Falcon
      {"transformer.word_embeddings.weight", role_kind::tok_embd, -1, false},
      {"transformer.h.9.ln_attn.weight", role_kind::attn_norm, 9, false},
      {"transformer.h.9.ln_mlp.bias", role_kind::attn_norm_2, 9, true},
      {"transformer.h.9.self_attention.dense.weight", role_kind::attn_o, 9, false},
      // BLOOM
      {"word_embeddings_layernorm.weight", role_kind::embd_norm, -1, false},
      {"h.2.post_attention_layernorm.weight", role_kind::ffn_norm, 2, false},
      // MPT
      {"transformer.blocks.1.attn.Wqkv.weight", role_kind::attn_qkv, 1, false},
      {"transformer.blocks.1.ffn.up_proj.weight", role_kind::mlp_up, 1, false},
      {"transformer.norm_f.weight", role_kind::output_norm, -1, false},
      // Phi (both layouts)
      {"model.layers.0.self_attn.dense.weight", role_kind::attn_o, 0, false},
      {"model.final_layernorm.bias", role_kind::output_norm, -1, true},
      {"transformer.h.0.mixer.Wqkv.weight", role_kind::attn_qkv, 0, false},
      {"lm_head.linear.weight", role_kind::output, -1, false},
      // BERT (with LayerNorm gamma/beta of older checkpoints)
      {"bert.embeddings.token_type_embeddings.weight", role_kind::tok_type_embd, -1, false},
      {"bert.encoder.layer.10.attention.self.value.bias", role_kind::attn_v, 10, true},
      {"bert.encoder.layer.10.attention.output.LayerNorm.gamma", role_kind::attn_out_norm, 10, false},
      {"encoder.layer.0.output.LayerNorm.beta", role_kind::layer_out_norm, 0, true},
      {"encoder.layer.0.intermediate.dense.weight", role_kind::mlp_up, 0, false},
      // DistilBERT
      {"distilbert.transformer.layer.5.attention.q_lin.weight", role_kind::attn_q, 5, false},
      {"distilbert.transformer.layer.5.ffn.lin2.bias", role_kind::mlp_down, 5, true},
      {"distilbert.transformer.layer.0.sa_layer_norm.weight", role_kind::attn_out_norm, 0, false},
      // Meta LLaMA
      {"layers.4.feed_forward.w1.weight", role_kind::mlp_gate, 4, false},
      {"tok_embeddings.weight", role_kind::tok_embd, -1, false},
      // ONNX initializer of a torch export (no suffix beyond .weight)
      {"model.layers.0.self_attn.q_proj.weight", role_kind::attn_q, 0, false},
      // llama2.c loader's legacy rotary table
      {"rope_freqs.cis_real", role_kind::rope_freqs, -1, false},
  };
  for (const row& r : rows) {
    CAPTURE(r.name);
    auto m = gb::arch_match_name(r.name);
    REQUIRE(m.has_value());
    CHECK(m->role == r.role);
    CHECK(m->layer == r.layer);
    CHECK(m->bias == r.bias);
  }
  CHECK_FALSE(gb::arch_match_name("onnx::MatMul_123").has_value());
  CHECK_FALSE(gb::arch_match_name("blk.x.attn_q.weight").has_value());
  CHECK_FALSE(gb::arch_match_name("blk.1234567.attn_q.weight").has_value());  // layer index too long
  CHECK_FALSE(gb::arch_match_name("").has_value());
  CHECK(gb::arch_match_name("model.layers.3.self_attn.q_proj.weight")->canonical == "blk.3.attn.q.weight");
  CHECK(gb::arch_match_name("h.0.mlp.c_fc.bias")->canonical == "blk.0.mlp.up.bias");
  CHECK(gb::arch_match_name("rope_freqs.cis_imag")->canonical == "rope_freqs.cis_imag");
  CHECK(gb::canonical_name(role_kind::attn_o, 2) == "blk.2.attn.o.weight");
}

TEST_CASE("table: architecture names of every family") {
  CHECK(gb::arch_family_from_name("llama") == arch_family::llama);
  CHECK(gb::arch_family_from_name("mistral") == arch_family::llama);
  CHECK(gb::arch_family_from_name("LlamaForCausalLM") == arch_family::llama);
  CHECK(gb::arch_family_from_name("gpt_neox") == arch_family::gptneox);
  CHECK(gb::arch_family_from_name("GPTNeoXForCausalLM") == arch_family::gptneox);
  CHECK(gb::arch_family_from_name("RefinedWebModel") == arch_family::falcon);
  CHECK(gb::arch_family_from_name("bloom") == arch_family::bloom);
  CHECK(gb::arch_family_from_name("gptj") == arch_family::gptj);
  CHECK(gb::arch_family_from_name("phi2") == arch_family::phi);
  CHECK(gb::arch_family_from_name("qwen2") == arch_family::qwen2);
  CHECK(gb::arch_family_from_name("GPT2") == arch_family::gpt2);  // case-insensitive fallback
  CHECK(gb::arch_family_from_name("mamba") == arch_family::unknown);
}

TEST_CASE("model: GGUF llama with metadata") {
  gb::model m = llama_gguf(true).build();
  check_stories_shape(m);
  CHECK(m.hp.tied_embeddings);
  CHECK(m.architecture == "llama");
  CHECK(m.hp.n_ctx == 512);
  CHECK(m.hp.rope == gb::rope_kind::interleaved);
  CHECK(m.hp.n_rot == 8);
  CHECK(m.hp.inferred.count("n_embd") == 0);
  CHECK(m.hp.inferred.count("n_vocab") == 1);  // no vocab_size key: from token_embd rows
  CHECK(m.roles.size() == 47);
  const gb::role_entry* q = m.entry(role_kind::attn_q, 3);
  REQUIRE(q);
  CHECK(q->canonical == "blk.3.attn.q.weight");
  CHECK_FALSE(q->hf_permuted);
  REQUIRE(m.tensor("blk.4.mlp.down.weight"));
  CHECK(m.tensor("blk.4.mlp.down.weight")->name == "blk.4.ffn_down.weight");
  CHECK(m.tensor(role_kind::output) == nullptr);
  CHECK(m.findings.empty());
}

TEST_CASE("model: HF llama folder gives the same canonical names, neox rope and permuted q/k") {
  gb::model hf = llama_hf().build();
  gb::model gg = llama_gguf(true).build();
  check_stories_shape(hf);
  CHECK(hf.hp.tied_embeddings);
  CHECK(hf.hp.rope == gb::rope_kind::neox);
  REQUIRE(hf.roles.size() == gg.roles.size());
  for (size_t i = 0; i < hf.roles.size(); ++i) CHECK(hf.find(gg.roles[i].canonical) != nullptr);
  CHECK(hf.entry(role_kind::attn_q, 0)->hf_permuted);
  CHECK(hf.entry(role_kind::attn_k, 4)->hf_permuted);
  CHECK_FALSE(hf.entry(role_kind::attn_v, 0)->hf_permuted);
  CHECK(hf.findings.empty());
}

TEST_CASE("model: hyperparameters inferred from shapes when metadata is absent") {
  builder b = llama_gguf(false);
  b.meta("general.architecture", mstr("llama")).meta("llama.attention.head_count", mint(8));
  gb::model m = b.build();
  check_stories_shape(m);
  for (const char* f : {"n_embd", "n_layer", "n_ff", "n_vocab", "n_head_kv"}) {
    CAPTURE(f);
    CHECK(m.hp.inferred.count(f) == 1);
  }
  CHECK(m.hp.inferred.count("n_head") == 0);
}

TEST_CASE("model: GPT-2 HF layout: Conv1D transposed, learned positions, mask buffers not parameters") {
  builder b;
  b.meta("config.model_type", mstr("gpt2")).meta("config.n_head", mint(4));
  b.t("transformer.wte.weight", {100, 32}).t("transformer.wpe.weight", {64, 32});
  for (int l = 0; l < 2; ++l) {
    std::string p = "transformer.h." + std::to_string(l) + ".";
    b.t(p + "ln_1.weight", {32}).t(p + "ln_1.bias", {32});
    b.t(p + "attn.bias", {1, 1, 64, 64});
    b.t(p + "attn.c_attn.weight", {32, 96}).t(p + "attn.c_attn.bias", {96});
    b.t(p + "attn.c_proj.weight", {32, 32}).t(p + "attn.c_proj.bias", {32});
    b.t(p + "ln_2.weight", {32}).t(p + "ln_2.bias", {32});
    b.t(p + "mlp.c_fc.weight", {32, 128}).t(p + "mlp.c_fc.bias", {128});
    b.t(p + "mlp.c_proj.weight", {128, 32}).t(p + "mlp.c_proj.bias", {32});
  }
  b.t("transformer.ln_f.weight", {32}).t("transformer.ln_f.bias", {32});
  gb::model m = b.build();
  CHECK(m.family == arch_family::gpt2);
  CHECK(m.hp.n_embd == 32);
  CHECK(m.hp.n_ff == 128);
  CHECK(m.hp.n_ctx == 64);
  CHECK(m.hp.n_head_kv == 4);
  CHECK(m.hp.pos == gb::pos_kind::learned);
  CHECK(m.hp.rope == gb::rope_kind::none);
  CHECK(m.hp.norm == gb::norm_kind::layer);
  CHECK_FALSE(m.hp.gated_mlp);
  CHECK_FALSE(m.hp.parallel_block);
  CHECK(m.hp.tied_embeddings);
  CHECK(m.entry(role_kind::attn_qkv, 1)->transposed);
  CHECK(m.entry(role_kind::mlp_down, 0)->transposed);
  CHECK_FALSE(m.entry(role_kind::attn_qkv, 1, true)->transposed);
  REQUIRE(m.find("blk.0.buffer.bias"));
  CHECK(m.find("blk.0.buffer.bias")->role == role_kind::buffer);
  CHECK(m.unmapped.empty());
  CHECK(m.findings.empty());
  // the causal mask buffers are not parameters
  gb::model_summary s = gb::summary_build(m);
  CHECK(s.non_parameter_elements == 2u * 64 * 64);
  uint64_t expect = 100 * 32 + 64 * 32 + 2 * 32;
  expect += 2 * (4 * 32 + 32 * 96 + 96 + 32 * 32 + 32 + 32 * 128 + 128 + 128 * 32 + 32);
  CHECK(s.parameter_count == expect);
}

TEST_CASE("model: parallel-block families without an MLP norm (GPT-J) and fused qkv KV heads (Falcon)") {
  builder j;
  j.meta("config.model_type", mstr("gptj")).meta("config.n_head", mint(4)).meta("config.rotary_dim", mint(4));
  j.t("transformer.wte.weight", {50, 16});
  j.t("transformer.h.0.ln_1.weight", {16});
  for (const char* n : {"q_proj", "k_proj", "v_proj", "out_proj"})
    j.t(std::string("transformer.h.0.attn.") + n + ".weight", {16, 16});
  j.t("transformer.h.0.mlp.fc_in.weight", {64, 16}).t("transformer.h.0.mlp.fc_out.weight", {16, 64});
  j.t("transformer.ln_f.weight", {16}).t("lm_head.weight", {50, 16});
  gb::model gm = j.build();
  CHECK(gm.family == arch_family::gptj);
  CHECK(gm.hp.parallel_block);
  CHECK(gm.hp.n_rot == 4);
  CHECK(gm.hp.rope == gb::rope_kind::interleaved);
  CHECK_FALSE(gm.hp.tied_embeddings);
  CHECK_FALSE(gm.entry(role_kind::attn_q, 0)->hf_permuted);

  builder f;  // Falcon-7B style: multi-query, fused qkv = (H + 2) * head_dim rows
  f.meta("config.model_type", mstr("falcon"))
      .meta("config.num_attention_heads", mint(4))
      .meta("config.multi_query", mbool(true));
  f.t("transformer.word_embeddings.weight", {50, 16});
  f.t("transformer.h.0.input_layernorm.weight", {16});
  f.t("transformer.h.0.self_attention.query_key_value.weight", {24, 16});
  f.t("transformer.h.0.self_attention.dense.weight", {16, 16});
  f.t("transformer.h.0.mlp.dense_h_to_4h.weight", {64, 16})
      .t("transformer.h.0.mlp.dense_4h_to_h.weight", {16, 64});
  f.t("transformer.ln_f.weight", {16});
  gb::model fm = f.build();
  CHECK(fm.family == arch_family::falcon);
  CHECK(fm.hp.n_head_kv == 1);
  CHECK(fm.hp.parallel_block);
  CHECK(fm.hp.rope == gb::rope_kind::neox);
  CHECK(fm.findings.empty());
}

TEST_CASE("model: BLOOM has ALiBi and an embedding norm; BERT is an encoder") {
  builder b;
  b.meta("general.architecture", mstr("bloom")).meta("bloom.attention.head_count", mint(2));
  b.t("token_embd.weight", {40, 8}).t("token_embd_norm.weight", {8}).t("blk.0.attn_qkv.weight", {24, 8});
  b.t("output_norm.weight", {8});
  gb::model m = b.build();
  CHECK(m.family == arch_family::bloom);
  CHECK(m.hp.pos == gb::pos_kind::alibi);
  CHECK(m.hp.embd_norm);
  CHECK(m.hp.n_head_kv == 2);

  builder e;
  e.meta("config.model_type", mstr("bert")).meta("config.num_attention_heads", mint(2));
  e.t("bert.embeddings.word_embeddings.weight", {30, 8})
      .t("bert.embeddings.position_embeddings.weight", {16, 8});
  e.t("bert.encoder.layer.0.attention.self.query.weight", {8, 8});
  e.t("bert.pooler.dense.weight", {8, 8});
  gb::model bm = e.build();
  CHECK(bm.family == arch_family::bert);
  CHECK_FALSE(bm.hp.causal);
  CHECK(bm.hp.n_ctx == 16);
  CHECK(bm.unmapped.size() == 1);
  CHECK(has_finding(bm, "model.unmapped_tensor"));
}

TEST_CASE("model: Gemma2 post_attention_layernorm is a post-attention norm") {
  builder b;
  b.meta("config.model_type", mstr("gemma2"));
  b.t("model.layers.0.post_attention_layernorm.weight", {8})
      .t("model.layers.0.pre_feedforward_layernorm.weight", {8});
  gb::model m = b.build();
  CHECK(m.family == arch_family::gemma);
  CHECK(m.entry(role_kind::post_attn_norm, 0) != nullptr);
  CHECK(m.entry(role_kind::ffn_norm, 0) != nullptr);
  CHECK(m.entry(role_kind::ffn_norm, 0)->canonical == "blk.0.ffn_norm.weight");
}

TEST_CASE("model: unknown architecture is a finding, never a failure") {
  builder b;
  b.meta("general.architecture", mstr("mamba"))
      .t("token_embd.weight", {10, 4})
      .t("blk.0.ssm_conv1d.weight", {4, 4});
  gb::model m = b.build();
  CHECK(m.family == arch_family::unknown);
  CHECK(m.architecture == "mamba");
  CHECK(has_finding(m, "model.unknown_architecture"));
  CHECK(has_finding(m, "model.unmapped_tensor"));
  CHECK(m.roles.size() == 1);
}

TEST_CASE("model: architecture guessed from names when no metadata says it") {
  builder b = llama_hf();
  b.a->metadata.clear();
  gb::model m = b.build();
  CHECK(m.family == arch_family::llama);
  CHECK(has_finding(m, "model.architecture_guessed"));
}

TEST_CASE(
    "model: findings for shapes inconsistent with hyperparameters, missing layers, duplicates, bad values") {
  builder b = llama_gguf(true);
  b.a->tensors[2].shape = {60, 64};                                // blk.0.attn_q rows != n_embd
  b.a->tensors.erase(b.a->tensors.begin() + 11);                   // blk.1.attn_q gone
  b.t("lm_head.weight", {512, 64}).t("output.weight", {512, 64});  // two spellings of one role
  b.meta("llama.vocab_size", mint(-7));
  gb::model m = b.build();
  CHECK(has_finding(m, "model.shape_mismatch"));
  CHECK(has_finding(m, "model.layer_missing_tensor"));
  CHECK(has_finding(m, "model.duplicate_role"));
  CHECK(has_finding(m, "model.bad_hparam"));
  CHECK(m.hp.n_vocab == 512);  // the bad key was ignored, rows used
  CHECK(m.unmapped.size() == 1);

  builder c = llama_gguf(true);
  c.a->metadata[2].second = mint(7);  // llama.block_count
  CHECK(has_finding(c.build(), "model.layer_count_mismatch"));
  builder r = llama_gguf(true);
  r.a->tensors[2].shape = {64};  // a matrix with rank 1
  CHECK(has_finding(r.build(), "model.shape_mismatch"));
}

TEST_CASE("model: absurd head counts and widths from a file are handled without overflow") {
  builder b = llama_gguf(true);
  b.a->metadata[3].second = mint((int64_t{1} << 31) - 1);  // llama.attention.head_count
  b.meta("llama.attention.key_length", mint((int64_t{1} << 31) - 1));
  b.a->metadata[4].second = mint((int64_t{1} << 31) - 1);  // head_count_kv
  gb::model m = b.build();
  CHECK(m.hp.n_head == (int64_t{1} << 31) - 1);
  CHECK(m.hp.n_rot <= m.hp.head_dim);
  builder c = llama_gguf(false);  // no head count, fused qkv with a huge key_length
  c.meta("general.architecture", mstr("llama"))
      .meta("llama.attention.key_length", mint((int64_t{1} << 31) - 1));
  c.t("blk.0.attn_qkv.weight", {96, 64});
  gb::model mc = c.build();
  CHECK(mc.hp.n_head == 0);
}

TEST_CASE("model: tokenizer larger than the embedding is a finding; a padded embedding is info") {
  builder b = llama_gguf(true);
  auto v = std::make_shared<gb::vocab>();
  v->tokens.resize(600, "x");
  v->source = "tokenizer.json";
  b.a->tokenizer = v;
  CHECK(has_finding(b.build(), "model.vocab_mismatch"));
  v->tokens.resize(500);
  gb::model m = b.build();
  CHECK_FALSE(has_finding(m, "model.vocab_mismatch"));
  CHECK(has_finding(m, "model.vocab_padded"));
}

TEST_CASE("model: vocabulary-only files (no tensors) and a null archive") {
  builder b;
  b.meta("general.architecture", mstr("llama")).meta("llama.context_length", mint(4096));
  gb::model m = b.build();
  CHECK(m.hp.n_ctx == 4096);
  CHECK(has_finding(m, "model.no_tensors"));
  auto r = gb::model_build(nullptr);
  CHECK_FALSE(r.ok());
  CHECK(r.err().code == gb::errc::bad_value);
}

TEST_CASE("summary: counts by group and layer, memory at precisions, provenance") {
  builder b = llama_gguf(true);
  b.meta("general.license", mstr("mit")).meta("general.base_model.0.name", mstr("TinyLlama"));
  b.meta("general.source.url", mstr("https://example.org/m"));
  gb::model m = b.build();
  gb::model_summary s = gb::summary_build(m);
  const uint64_t per_layer = 64 + 64 * 64 + 2 * 32 * 64 + 64 * 64 + 64 + 3 * 172 * 64;
  CHECK(s.parameter_count == 512 * 64 + 5 * per_layer + 64);
  REQUIRE(s.by_layer.size() == 5);
  CHECK(s.by_layer[4] == per_layer);
  CHECK(s.by_group[0].group == "embedding");
  CHECK(s.by_group[0].params == 512 * 64);
  CHECK(s.by_group[2].params == 5 * 3 * 172 * 64);
  CHECK(s.by_group[3].params == 5 * 128 + 64);
  REQUIRE(s.memory.size() == 5);
  CHECK(s.memory[0].bytes == s.parameter_count * 4);
  CHECK(s.memory[1].bytes == s.parameter_count * 2);
  // q8_0: 34 bytes per 32 weights for matrices (172*64 is a multiple of 32), norms stay f32
  const uint64_t mat = 512 * 64 + 5 * (per_layer - 128), vec = 5 * 128 + 64;
  CHECK(s.memory[3].bytes == mat / 32 * 34 + vec * 4);
  CHECK(s.license == "mit");
  REQUIRE(s.base_models.size() == 1);
  CHECK(s.base_models[0] == "TinyLlama");
  REQUIRE(s.urls.size() == 1);
  CHECK(s.dtypes.size() == 1);
  CHECK(s.dtypes[0].tensors == 47);
  CHECK(gb::format_bytes(1500) == "1.50 kB");
  CHECK(gb::format_count(260000) == "260.00K");
  CHECK(gb::format_bytes(512) == "512 B");
  CHECK(gb::format_count(7) == "7");
  CHECK(gb::format_bytes(3000000000000000000ull) == "3000.00 PB");
}

TEST_CASE("summary: an output matrix equal to the embedding is counted once, a different one twice") {
  std::vector<float> emb(40 * 8), out(40 * 8);  // (V, D)
  for (size_t i = 0; i < emb.size(); ++i) emb[i] = out[i] = static_cast<float>(i) * 0.5f;
  builder b;
  b.meta("general.architecture", mstr("llama")).t("token_embd.weight", {40, 8}).t("output.weight", {40, 8});
  b.a->tensors[0].data = reinterpret_cast<const uint8_t*>(emb.data());
  b.a->tensors[1].data = reinterpret_cast<const uint8_t*>(out.data());
  gb::model m = b.build();
  gb::model_summary s = gb::summary_build(m);
  CHECK(s.tied_copy_elements == 320);
  CHECK(s.parameter_count == 320);
  out[319] = 1.0f;
  s = gb::summary_build(m);
  CHECK(s.tied_copy_elements == 0);
  CHECK(s.parameter_count == 640);
}

// ---- real files: stories260K in every format reports the same model

TEST_CASE("stories260K: GGUF v3, GGUF v1, llama2.c and HF folder agree") {
  GB_DATA_ALL(paths, gb::test::stories260k_formats());  // GGUF v3, GGUF v1, llama2.c, HF folder
  uint64_t params = 0;
  for (const std::string& p : paths) {
    CAPTURE(p);
    gb::model m = gb::test::model_open(p);
    check_stories_shape(m);
    CHECK(m.architecture == "llama");
    gb::model_summary s = gb::summary_build(m);
    // embedding, 5 x 9 block tensors, final norm; the GGUFs also store output.weight as a copy of the
    // embedding (counted once), llama2.c shares the classifier, the HF config ties the weights
    CHECK(s.parameter_count == 512 * 64 + 5 * (2 * 64 + 2 * 64 * 64 + 2 * 32 * 64 + 3 * 172 * 64) + 64);
    if (m.source->format == gb::file_format::gguf) CHECK(s.tied_copy_elements == 512 * 64);
    if (params == 0) params = s.parameter_count;
    CHECK(s.parameter_count == params);
    for (const auto& f : m.findings)
      CHECK_MESSAGE(f.level < gb::severity::medium, f.code << ": " << f.message);
  }
}

TEST_CASE("every tokenizer GGUF builds a model without error") {
  GB_DATA(dir, "tokenizers/llama.cpp-vocab");
  size_t n = 0;
  for (const auto& de : std::filesystem::directory_iterator(dir)) {
    if (de.path().extension() != ".gguf") continue;
    CAPTURE(de.path().string());
    gb::model m = gb::test::model_open(de.path().string());
    CHECK(m.hp.n_vocab > 0);
    CHECK(m.architecture != "unknown");
    ++n;
  }
  CHECK(n == 16);
}
