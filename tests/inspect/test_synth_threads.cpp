// glassbox synth on many threads: values made in chunks from the middle of each tensor's stream and
// quantised in chunks of rows give the bytes of one serial pass (the stream read from its start, one
// quantize_row over the tensor), whatever the thread count; HF folders sharded over a size hold the same
// tensors as one file.
#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "formats/archive.h"
#include "formats/file_text.h"
#include "formats/quant.h"
#include "inspect/model.h"
#include "inspect/synth.h"
#include "inspect/synth_random.h"
#include "tests/support/data.h"

namespace {

// 7B's shapes scaled down, with matrices of several 65536-element chunks (ffn 512 x 256: 2; tok_embd: 4).
gb::synth_spec spec_small(const std::string& path, gb::dtype type, int threads) {
  gb::synth_spec s;
  s.n_layer = 2;
  s.n_embd = 256;
  s.n_head = 4;
  s.n_ff = 512;
  s.n_vocab = 1024;
  s.seed = 7;
  s.type = type;
  s.threads = threads;
  s.path = path;
  return s;
}

gb::archive open_archive(const std::string& path) {
  auto r = gb::archive_open(path);
  if (!r) FAIL(r.err().to_string());
  return std::move(r).value();
}

std::vector<uint8_t> tensor_bytes(const gb::archive& a, const std::string& name) {
  const gb::tensor_view* t = a.tensor(name);
  REQUIRE(t != nullptr);
  return std::vector<uint8_t>(t->data, t->data + t->nbytes);
}

void write_ok(const gb::synth_spec& s) {
  auto r = gb::synth_write(s);
  if (!r) FAIL(r.err().to_string());
}

}  // namespace

TEST_CASE("normal_stream(seed, at) continues the stream started at 0") {
  const uint64_t seed = gb::synth_rng::stream_seed(7, "blk.0.attn_q.weight", 0);
  gb::synth_rng::normal_stream serial(seed);
  std::vector<double> xs;  // (elements) the first 70000 normals
  for (int i = 0; i < 70000; ++i) xs.push_back(serial.next());
  for (uint64_t at : {0u, 1u, 2u, 3u, 65535u, 65536u, 65537u, 69998u}) {
    CAPTURE(at);
    gb::synth_rng::normal_stream g(seed, at);
    CHECK(g.next() == xs[at]);
    CHECK(g.next() == xs[at + 1]);
  }
}

TEST_CASE("synth: the bytes of one serial pass on 1 and 3 threads") {
  const std::string dir = gb::test::temp_dir("synth_threads");
  // f32 values are the stream itself: 0.02 x normal, read from the stream's start.
  write_ok(spec_small(dir + "/f32.gguf", gb::dtype::f32, 3));
  const gb::archive f32 = open_archive(dir + "/f32.gguf");
  for (const char* name : {"token_embd.weight", "blk.1.ffn_up.weight"}) {
    CAPTURE(name);
    const gb::tensor_view* t = f32.tensor(name);
    REQUIRE(t != nullptr);
    const std::string canonical = std::string(name) == "token_embd.weight"
                                      ? gb::canonical_name(gb::role_kind::tok_embd, -1)
                                      : gb::canonical_name(gb::role_kind::mlp_up, 1);
    gb::synth_rng::normal_stream g(gb::synth_rng::stream_seed(7, canonical, 0));
    const auto* v = reinterpret_cast<const float*>(t->data);
    size_t bad = 0;
    for (uint64_t e = 0; e < t->element_count(); ++e) bad += v[e] != static_cast<float>(0.02 * g.next());
    CHECK(bad == 0);
  }
  // Quantised in chunks of rows: one quantize_row over the whole tensor's values.
  write_ok(spec_small(dir + "/q4k_3.gguf", gb::dtype::q4_k, 3));
  const gb::archive q4k = open_archive(dir + "/q4k_3.gguf");
  for (const char* name : {"token_embd.weight", "blk.0.attn_q.weight", "blk.1.ffn_down.weight"}) {
    CAPTURE(name);
    const gb::tensor_view* t = f32.tensor(name);
    REQUIRE(t != nullptr);
    const std::vector<uint8_t> want = gb::quantize_row(
        gb::dtype::q4_k, reinterpret_cast<const float*>(t->data), static_cast<int64_t>(t->element_count()));
    CHECK(tensor_bytes(q4k, name) == want);
  }
  // Whole files, every rule that sets values (perturbed layer, planted bias and trigger, plants): 1 thread
  // and 3 give the same bytes.
  for (gb::dtype type : {gb::dtype::q4_k, gb::dtype::q8_0, gb::dtype::f16}) {
    CAPTURE(gb::dtype_name(type));
    std::string files[2];
    for (int threads : {1, 3}) {
      gb::synth_spec s = spec_small(dir + "/t" + std::to_string(threads) + ".gguf", type, threads);
      s.perturb_layers = {1};
      s.bias_token = "doctor";
      s.bias_scale = 3;
      s.bias_triggers = {"nurse"};
      s.plants = {{"nan", "blk.0.attn_k.weight", ""}, {"dup", "blk.0.ffn_up.weight", "blk.1.ffn_up.weight"}};
      write_ok(s);
      files[threads == 1 ? 0 : 1] = gb::file_text(s.path);
    }
    CHECK(files[0].size() > 1000000);
    CHECK(files[0] == files[1]);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("synth --format hf --shard-mb: shards of bounded size and an index, the tensors of one file") {
  const std::string dir = gb::test::temp_dir("synth_shards");
  gb::synth_spec one = spec_small(dir + "/one", gb::dtype::bf16, 2);
  one.format = gb::synth_format::hf;
  write_ok(one);
  gb::synth_spec sharded = one;
  sharded.path = dir + "/sharded";
  sharded.shard_bytes = 1000000;  // 1 MB: tok_embd and lm_head (512 KB each) share none; layers split
  auto r = gb::synth_write(sharded);
  if (!r) FAIL(r.err().to_string());
  int shards = 0;
  for (const std::string& f : r.value().files) {
    if (f.find("/model-") == std::string::npos) continue;
    ++shards;
    CHECK(f.find("-of-0000") != std::string::npos);
    CHECK(std::filesystem::file_size(f) <= sharded.shard_bytes + 4096);  // + its JSON header
  }
  CHECK(shards >= 3);
  CHECK(std::filesystem::exists(sharded.path + "/model.safetensors.index.json"));
  CHECK(!std::filesystem::exists(sharded.path + "/model.safetensors"));
  const gb::archive a = open_archive(one.path), b = open_archive(sharded.path);
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (const gb::tensor_view& t : a.tensors) {
    CAPTURE(t.name);
    CHECK(tensor_bytes(b, t.name) == tensor_bytes(a, t.name));
  }
  std::filesystem::remove_all(dir);
}
