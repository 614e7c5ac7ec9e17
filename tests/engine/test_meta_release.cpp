// Meta's original release layout (params.json + consolidated.NN.pth + tokenizer) and its model-parallel
// shards, built in code from a synthetic model: the same canonical root digest as the unsplit model and
// its GGUF / HF forms, the same logits (==), every hyperparameter with its source, and one clear error for
// every malformed shard set.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "formats/archive.h"
#include "formats/torch_writer.h"
#include "formats/writers.h"
#include "inspect/delta.h"
#include "inspect/hash.h"
#include "inspect/meta_export.h"
#include "inspect/model.h"
#include "inspect/stats.h"
#include "inspect/synth.h"
#include "probes/engine/engine.h"
#include "tests/support/data.h"

using namespace gb;
namespace fs = std::filesystem;

namespace {

struct loaded {
  std::shared_ptr<const archive> ar;
  std::unique_ptr<model> m;
};

loaded load(const std::string& path) {
  auto a = archive_open(path);
  REQUIRE_MESSAGE(a.ok(), (a.ok() ? "" : a.err().to_string()));
  loaded L;
  L.ar = std::make_shared<const archive>(std::move(a.value()));
  auto m = model_build(L.ar);
  REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.err().to_string()));
  L.m = std::make_unique<model>(std::move(m.value()));
  return L;
}

std::string root_of(const std::string& path) {
  auto in = integrity_open(path);
  REQUIRE_MESSAGE(in.ok(), (in.ok() ? "" : in.err().to_string()));
  REQUIRE(in.value().note.empty());
  hash_options o;
  o.files = false;
  o.stats = false;
  o.threads = 1;
  return hash_model(in.value().items, in.value().ar->files, o).root_hex;
}

std::vector<float> logits_of(const model& m) {
  auto r = engine::runner::create(m);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  auto lg = r.value()->forward({1, 17, 300, 42, 5, 511, 260});
  REQUIRE(lg.ok());
  // then one token at a time from the cache (one-row matmuls): appended after the prompt's rows
  std::vector<float> out = lg.value();
  for (int32_t t : {7, 400}) {
    auto step = r.value()->forward({t});
    REQUIRE(step.ok());
    out.insert(out.end(), step.value().begin(), step.value().end());
  }
  return out;
}

// Statistics of every tensor (canonical names), as a comparable list.
std::vector<std::string> stats_of(const std::string& path) {
  auto in = integrity_open(path);
  REQUIRE_MESSAGE(in.ok(), (in.ok() ? "" : in.err().to_string()));
  stats_options o;
  o.threads = 1;
  std::vector<std::string> out;
  for (const tensor_stats& t : stats_compute(in.value().items, o).tensors) {
    char b[256];  // exact (hex float) values
    std::snprintf(b, sizeof b, " %llu %a %a %a %a %a %lld %lld", static_cast<unsigned long long>(t.count),
                  t.mean, t.std, t.min, t.max, t.kurtosis, static_cast<long long>(t.outlier_rows),
                  static_cast<long long>(t.outlier_cols));
    out.push_back(t.name + b);
  }
  std::sort(out.begin(), out.end());  // by canonical name: archive orders differ
  return out;
}

synth_spec spec_of(synth_format f, const std::string& path) {
  synth_spec s;
  s.arch = "llama";
  s.n_layer = 2;
  s.n_embd = 64;
  s.n_head = 8;
  s.n_head_kv = 4;
  s.n_ff = 176;  // Meta's rule: int(2 * 4 * 64 / 3) = 170, rounded up to multiple_of 16
  s.n_vocab = 512;
  s.format = f;
  s.path = path;
  return s;
}

// spec_of's dimensions, as a loader read them back.
void check_spec_dims(const hparams& hp) {
  CHECK(hp.n_embd == 64);
  CHECK(hp.n_layer == 2);
  CHECK(hp.n_head == 8);
  CHECK(hp.n_head_kv == 4);
  CHECK(hp.n_ff == 176);
  CHECK(hp.n_vocab == 512);
}

// Where the loader read each hyperparameter: key -> the source it names.
void check_sources(const hparams& hp, std::initializer_list<std::pair<const char*, const char*>> want) {
  for (const auto& [key, source] : want) {
    CAPTURE(key);
    CHECK(hp.sources.at(key) == source);
  }
}

// The synthetic model as GGUF and as a HF folder (same weights in canonical layout).
struct source_models {
  std::string gguf, hf;
};
const source_models& sources() {
  static source_models s = [] {
    source_models out;
    const std::string dir = test::temp_dir("meta_release_src");
    out.gguf = dir + "/m.gguf";
    out.hf = dir + "/hf";
    REQUIRE(synth_write(spec_of(synth_format::gguf, out.gguf)).ok());
    REQUIRE(synth_write(spec_of(synth_format::hf, out.hf)).ok());
    return out;
  }();
  return s;
}

std::string export_meta(const std::string& from, const std::string& name, int shards, bool vocab_m1 = false) {
  loaded L = load(from);
  meta_export_options o;
  o.dir = test::temp_dir(name);
  o.shards = shards;
  o.vocab_from_tokenizer = vocab_m1;
  auto r = meta_export(*L.m, o);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  return o.dir;
}

std::string open_error(const std::string& path) {
  auto a = archive_open(path);
  REQUIRE_FALSE(a.ok());
  return a.err().message;
}

}  // namespace

TEST_CASE("Meta folder, unsplit and 2- and 8-way model-parallel: same root digest, same logits, sources") {
  const source_models& src = sources();
  const std::string root = root_of(src.gguf);
  CHECK(root_of(src.hf) == root);  // the HF form (rotate-half q/k) is the same canonical weights
  loaded ref = load(src.gguf);
  const std::vector<float> want = logits_of(*ref.m);
  for (int shards : {1, 2, 8}) {
    CAPTURE(shards);
    const std::string dir = export_meta(src.hf, "meta_" + std::to_string(shards), shards);
    for (int s = 0; s < shards; ++s) CHECK(fs::exists(dir + "/consolidated.0" + std::to_string(s) + ".pth"));
    CHECK(root_of(dir) == root);
    loaded L = load(dir);
    CHECK(L.ar->format == file_format::pytorch_zip);
    CHECK(L.ar->tensors.size() == 3 + 9 * 2);
    const tensor_view* wq = L.ar->tensor("layers.0.attention.wq.weight");
    REQUIRE(wq);
    CHECK(wq->shape == std::vector<int64_t>{64, 64});
    const tensor_view* emb = L.ar->tensor("tok_embeddings.weight");
    REQUIRE(emb);
    CHECK(emb->shape == std::vector<int64_t>{512, 64});
    // split tensors are views over the shards' maps (no buffer holds a merged copy)
    CHECK(L.ar->buffers.empty());
    CHECK(emb->split() == (shards > 1));
    CHECK((shards == 1 ? emb->file_index != k_no_file : emb->data == nullptr));
    if (shards > 1) {
      CHECK(emb->split_dim == 1);  // ParallelEmbedding: the embedding dimension
      CHECK(emb->pieces.size() == static_cast<size_t>(shards));
      CHECK(wq->split_dim == 0);
      CHECK_FALSE(L.ar->tensor("norm.weight")->split());  // replicated: a view into shard 00
    }
    const hparams& hp = L.m->hp;
    CHECK(L.m->family == arch_family::llama);
    CHECK(hp.rope == rope_kind::interleaved);  // Meta's rows are interleaved, as GGUF's
    check_spec_dims(hp);
    check_sources(hp, {{"n_embd", "params.dim"},
                       {"n_layer", "params.n_layers"},
                       {"n_head", "params.n_heads"},
                       {"n_head_kv", "params.n_kv_heads"},
                       {"n_vocab", "params.vocab_size"},
                       {"norm_eps", "params.norm_eps"},
                       {"rope_theta", "params.rope_theta"}});
    CHECK(hp.sources.at("n_ff").rfind("Meta FFN rule (params.multiple_of", 0) == 0);
    CHECK(hp.inferred.empty());
    for (const finding& f : L.m->findings) CHECK_MESSAGE(f.code != "model.shape_mismatch", f.message);
    CHECK(logits_of(*L.m) == want);
    CHECK(stats_of(dir) == stats_of(src.gguf));
  }
}

TEST_CASE(
    "Meta params.json: vocab_size -1 takes the tokenizer's size; the FFN rule with ffn_dim_multiplier") {
  const std::string dir = export_meta(sources().hf, "meta_vocab_m1", 1, true);
  loaded L = load(dir);
  REQUIRE(L.ar->tokenizer);
  CHECK(L.m->hp.n_vocab == 512);
  CHECK(L.m->hp.sources.at("n_vocab") == "tokenizer (params.json vocab_size -1)");
  for (const finding& f : L.m->findings) CHECK_MESSAGE(f.code != "model.bad_hparam", f.message);

  // LLaMA 2 70B: dim 8192, ffn_dim_multiplier 1.3, multiple_of 4096 -> 28672 (its w1 has 28672 rows)
  auto [mult, fm] = meta_ffn_params(64, 100);
  CHECK(mult == 1);
  CHECK(fm > 0);
  CHECK(static_cast<int64_t>(fm * 170) == 100);
  auto [m7, f7] = meta_ffn_params(4096, 11008);  // LLaMA 7B: multiple_of 256
  CHECK(m7 == 256);
  CHECK(f7 == 0);
}

TEST_CASE("Meta model-parallel shard sets that are not one model: one error naming the shard") {
  const std::string good = export_meta(sources().gguf, "meta_8_bad_src", 8);
  auto fresh = [&](const std::string& name) {
    const std::string d = test::temp_dir(name);
    for (const auto& e : fs::directory_iterator(good))
      fs::copy_file(e.path(), d + "/" + e.path().filename().string());
    return d;
  };
  SUBCASE("a gap in the numbering") {
    const std::string d = fresh("meta_gap");
    fs::remove(d + "/consolidated.03.pth");
    const std::string e = open_error(d);
    CHECK(e.find("consolidated.03.pth is missing") != std::string::npos);
    CHECK(e.find("numbered 00..07 without gaps") != std::string::npos);
  }
  SUBCASE("the last shard missing: slices do not add up to params.json's dim") {
    const std::string d = fresh("meta_last");
    fs::remove(d + "/consolidated.07.pth");
    const std::string e = open_error(d);
    CHECK(e.find("7 shard") != std::string::npos);
    CHECK(e.find("params.json") != std::string::npos);
  }
  SUBCASE("a shard number twice") {
    const std::string d = fresh("meta_twice");
    fs::copy_file(d + "/consolidated.02.pth", d + "/consolidated.2.pth");
    const std::string e = open_error(d);
    CHECK(e.find("shard 2 appears twice (consolidated.02.pth, consolidated.2.pth)") != std::string::npos);
  }
  SUBCASE("a duplicated shard") {
    const std::string d = fresh("meta_dup");
    fs::copy_file(d + "/consolidated.04.pth", d + "/consolidated.05.pth",
                  fs::copy_options::overwrite_existing);
    const std::string e = open_error(d);
    CHECK(e.find("consolidated.05.pth holds the same slice") != std::string::npos);
    CHECK(e.find("consolidated.04.pth") != std::string::npos);
  }
  SUBCASE("no shards at all") {
    const std::string d = test::temp_dir("meta_none");
    fs::copy_file(good + "/params.json", d + "/params.json");
    CHECK(open_error(d).find("no consolidated.NN.pth") != std::string::npos);
  }
  // Hand-made two-shard sets: one tensor wrong at a time.
  auto floats = [](std::vector<int64_t> shape, float base) {
    tensor_data t;
    t.shape = shape;
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    for (int64_t i = 0; i < n; ++i) {
      float f = base + static_cast<float>(i);
      const auto* p = reinterpret_cast<const uint8_t*>(&f);
      t.bytes.insert(t.bytes.end(), p, p + 4);
    }
    return t;
  };
  auto shard = [&](const std::string& d, int k, std::vector<tensor_data> ts) {
    pytorch_write(d + "/consolidated.0" + std::to_string(k) + ".pth", torch_state_dict(ts), ts);
  };
  auto named = [](tensor_data t, const std::string& n) {
    t.name = n;
    return t;
  };
  auto two = [&](const std::string& name, std::vector<tensor_data> s1) {
    const std::string d = test::temp_dir(name);
    test::write_file(d + "/params.json",
                     std::string("{\"dim\": 4, \"n_layers\": 1, \"n_heads\": 1, \"vocab_size\": 4}"));
    shard(d, 0,
          {named(floats({2, 4}, 0), "layers.0.attention.wq.weight"), named(floats({4}, 1), "norm.weight")});
    shard(d, 1, std::move(s1));
    return d;
  };
  SUBCASE("slices whose shapes do not add up") {
    const std::string d = two("meta_shape", {named(floats({2, 3}, 9), "layers.0.attention.wq.weight"),
                                             named(floats({4}, 1), "norm.weight")});
    const std::string e = open_error(d);
    CHECK(e.find("'layers.0.attention.wq.weight' in consolidated.01.pth has shape [2, 3]") !=
          std::string::npos);
  }
  SUBCASE("replicated tensors that differ") {
    const std::string d = two("meta_norm", {named(floats({2, 4}, 9), "layers.0.attention.wq.weight"),
                                            named(floats({4}, 2), "norm.weight")});
    const std::string e = open_error(d);
    CHECK(e.find("'norm.weight' in consolidated.01.pth differs from consolidated.00.pth") !=
          std::string::npos);
  }
  SUBCASE("a tensor missing from a shard") {
    const std::string d = two("meta_missing_t", {named(floats({2, 4}, 9), "layers.0.attention.wq.weight")});
    CHECK(open_error(d).find("'norm.weight' is in consolidated.00.pth but not in consolidated.01.pth") !=
          std::string::npos);
  }
  SUBCASE("a tensor only in a later shard") {
    const std::string d =
        two("meta_extra_t", {named(floats({2, 4}, 9), "layers.0.attention.wq.weight"),
                             named(floats({4}, 1), "norm.weight"), named(floats({4}, 1), "extra")});
    CHECK(open_error(d).find("'extra' is in consolidated.01.pth but not in consolidated.00.pth") !=
          std::string::npos);
  }
  SUBCASE("slices of different dtypes") {
    tensor_data h = named(floats({2, 2}, 9), "layers.0.attention.wq.weight");
    h.type = dtype::f16;
    h.shape = {2, 4};
    const std::string d = two("meta_dtype", {h, named(floats({4}, 1), "norm.weight")});
    CHECK(open_error(d).find("consolidated.01.pth is f16, consolidated.00.pth has f32") != std::string::npos);
  }
}

// ---- training checkpoints ------------------------------------------------------------------------

namespace {

// The stored tensors of an opened model as writer input (names transformed by `rename`).
template <class F>
std::vector<tensor_data> tensors_of(const archive& a, F&& rename) {
  std::vector<tensor_data> out;
  for (const tensor_view& t : a.tensors) {
    REQUIRE(t.available());
    REQUIRE(t.contiguous());
    out.push_back({rename(t.name), t.type, t.shape, std::vector<uint8_t>(t.data, t.data + t.nbytes)});
  }
  return out;
}

// torch.optim.Adam's state for the first `n` parameters: exp_avg and exp_avg_sq shaped like them.
torch_node adam_state(std::vector<tensor_data>& ts, size_t n) {
  std::vector<torch_entry> state;
  const size_t count = ts.size();
  for (size_t i = 0; i < n && i < count; ++i) {
    tensor_data m = ts[i], v = ts[i];
    m.name = "exp_avg", v.name = "exp_avg_sq";
    ts.push_back(std::move(m));
    ts.push_back(std::move(v));
    state.emplace_back(std::to_string(i),
                       torch_node::dict({{"step", torch_node::floating(100)},
                                         {"exp_avg", torch_node::tensor(ts.size() - 2)},
                                         {"exp_avg_sq", torch_node::tensor(ts.size() - 1)}}));
  }
  return torch_node::dict({{"state", torch_node::dict(std::move(state))},
                           {"param_groups", torch_node::dict({{"lr", torch_node::floating(3e-4)}})}});
}

std::string meta_value_text(const archive& a, const char* key) {
  const meta_value* v = a.meta(key);
  return v ? v->to_display() : std::string("(absent)");
}

}  // namespace

TEST_CASE("training checkpoint beside config.json: nested state dict, wrappers stripped, optimizer counted") {
  const source_models& src = sources();
  loaded hf = load(src.hf);
  std::vector<tensor_data> ts =
      tensors_of(*hf.ar, [](const std::string& n) { return "module._orig_mod." + n; });
  const size_t n = ts.size();
  std::vector<torch_entry> sd, ema;
  for (size_t i = 0; i < n; ++i)
    sd.emplace_back(ts[i].name, torch_node::tensor(i)), ema.emplace_back(ts[i].name, torch_node::tensor(i));
  torch_node optim = adam_state(ts, 2);
  torch_node root = torch_node::dict({{"epoch", torch_node::integer(3)},
                                      {"step", torch_node::integer(1234)},
                                      {"model_state_dict", torch_node::dict(sd)},
                                      {"ema", torch_node::dict(ema)},
                                      {"optimizer_state_dict", optim}});
  const std::string dir = test::temp_dir("train_ckpt");
  pytorch_write(dir + "/checkpoint.pt", root, ts);
  fs::copy_file(src.hf + "/config.json", dir + "/config.json");
  fs::copy_file(src.hf + "/tokenizer.json", dir + "/tokenizer.json");

  loaded L = load(dir);
  CHECK(L.ar->tensors.size() == n);
  CHECK(meta_value_text(*L.ar, "checkpoint.state_dict") == "model_state_dict");
  CHECK(meta_value_text(*L.ar, "checkpoint.other_state_dicts") == "ema (" + std::to_string(n) + " tensors)");
  CHECK(meta_value_text(*L.ar, "checkpoint.prefix_stripped") == "module._orig_mod.");
  CHECK(meta_value_text(*L.ar, "checkpoint.step") == "1234");
  CHECK(meta_value_text(*L.ar, "checkpoint.epoch") == "3");
  CHECK(meta_value_text(*L.ar, "checkpoint.optimizer_tensors") == "4");
  uint64_t opt_bytes = 2 * (ts[0].bytes.size() + ts[1].bytes.size());
  CHECK(meta_value_text(*L.ar, "checkpoint.optimizer_bytes") == std::to_string(opt_bytes));
  bool said = false;
  for (const finding& f : L.ar->findings)
    if (f.code == "checkpoint.optimizer_state")
      said = f.message.rfind("optimizer state: 4 tensors, ", 0) == 0 &&
             f.message.find(" MB; not part of the model") != std::string::npos;
  CHECK(said);
  CHECK(L.m->hp.sources.at("n_head") == "config.num_attention_heads");
  CHECK(root_of(dir) == root_of(src.gguf));
  CHECK(logits_of(*L.m) == logits_of(*hf.m));

  // The file alone: names map to roles, and n_head is not guessed (no stated source).
  loaded bare = load(dir + "/checkpoint.pt");
  CHECK(bare.m->entry(role_kind::attn_q, 1));
  CHECK(bare.m->unmapped.empty());
  CHECK(bare.m->hp.n_head == 0);
  CHECK(bare.m->hp.n_layer == 2);
  CHECK(bare.m->hp.sources.at("n_layer") == "tensor shapes");
}

TEST_CASE("checkpoint with a pickled config object: hyperparameters from its BUILD state, read as data") {
  const source_models& src = sources();
  const std::string meta = export_meta(src.gguf, "meta_for_ckpt", 1);
  loaded mm = load(meta);
  std::vector<tensor_data> ts = tensors_of(*mm.ar, [](const std::string& n) { return n; });
  const size_t n = ts.size();
  torch_node optim = adam_state(ts, 3);
  std::vector<torch_entry> sd;
  for (size_t i = 0; i < n; ++i) sd.emplace_back(ts[i].name, torch_node::tensor(i));
  // llama2.c's train.py: {"model", "optimizer", "model_args", "iter_num", "best_val_loss", "config"}, with
  // ModelArgs (a dataclass) pickled as an object
  torch_node args = torch_node::object("model", "ModelArgs",
                                       {{"dim", torch_node::integer(64)},
                                        {"n_layers", torch_node::integer(2)},
                                        {"n_heads", torch_node::integer(8)},
                                        {"n_kv_heads", torch_node::integer(4)},
                                        {"vocab_size", torch_node::integer(512)},
                                        {"hidden_dim", torch_node::integer(176)},
                                        {"multiple_of", torch_node::integer(32)},
                                        {"norm_eps", torch_node::floating(1e-5)},
                                        {"max_seq_len", torch_node::integer(256)},
                                        {"dropout", torch_node::floating(0.0)}});
  torch_node root = torch_node::dict({{"model", torch_node::dict(sd)},
                                      {"optimizer", optim},
                                      {"model_args", args},
                                      {"iter_num", torch_node::integer(5000)},
                                      {"best_val_loss", torch_node::floating(1.25)}});
  const std::string path = test::temp_dir("ckpt_obj") + "/ckpt.pt";
  pytorch_write(path, root, ts);

  loaded L = load(path);
  CHECK(L.ar->tensors.size() == n);
  CHECK(meta_value_text(*L.ar, "checkpoint.config_source") ==
        "the state (pickle BUILD, read as data) of a pickled model.ModelArgs object under 'model_args'");
  CHECK(meta_value_text(*L.ar, "checkpoint.iter_num") == "5000");
  CHECK(meta_value_text(*L.ar, "checkpoint.best_val_loss") == "1.25");
  const hparams& hp = L.m->hp;
  CHECK(L.m->family == arch_family::llama);
  check_spec_dims(hp);
  CHECK(hp.n_ctx == 256);
  check_sources(hp, {{"n_embd", "checkpoint.config.dim"},
                     {"n_layer", "checkpoint.config.n_layers"},
                     {"n_head", "checkpoint.config.n_heads"},
                     {"n_head_kv", "checkpoint.config.n_kv_heads"},
                     {"n_ff", "checkpoint.config.hidden_dim"},
                     {"n_ctx", "checkpoint.config.max_seq_len"},
                     {"norm_eps", "checkpoint.config.norm_eps"}});
  CHECK(hp.inferred.empty());
  CHECK(root_of(path) == root_of(src.gguf));
  loaded ref = load(src.gguf);
  CHECK(logits_of(*L.m) == logits_of(*ref.m));
}

// ---- delta releases ------------------------------------------------------------------------------

TEST_CASE(
    "delta release: diff recognises it, apply-delta rebuilds the model (same root digest, same logits)") {
  const source_models& src = sources();
  synth_spec ft_spec = spec_of(synth_format::hf, test::temp_dir("delta_ft") + "/hf");
  ft_spec.perturb_layers = {1};
  REQUIRE(synth_write(ft_spec).ok());
  loaded base = load(src.hf), ft = load(ft_spec.path);
  // The publisher's delta d = ft - base (f32), and the model anyone rebuilds from it: base + d.
  std::vector<tensor_data> delta, rebuilt;
  for (const tensor_view& t : ft.ar->tensors) {
    const tensor_view* b = base.ar->tensor(t.name);
    REQUIRE(b);
    REQUIRE(t.type == dtype::f32);
    REQUIRE(b->shape == t.shape);
    tensor_data d{t.name, dtype::f32, t.shape, {}}, r{t.name, dtype::f32, t.shape, {}};
    const size_t n = t.nbytes / 4;
    for (size_t i = 0; i < n; ++i) {
      float x, y;
      std::memcpy(&x, t.data + 4 * i, 4);
      std::memcpy(&y, b->data + 4 * i, 4);
      const float dv = x - y, rv = y + dv;
      const auto* pd = reinterpret_cast<const uint8_t*>(&dv);
      const auto* pr = reinterpret_cast<const uint8_t*>(&rv);
      d.bytes.insert(d.bytes.end(), pd, pd + 4);
      r.bytes.insert(r.bytes.end(), pr, pr + 4);
    }
    delta.push_back(std::move(d));
    rebuilt.push_back(std::move(r));
  }
  auto folder = [&](const std::string& name, const std::vector<tensor_data>& ts) {
    const std::string d = test::temp_dir(name);
    safetensors_write(d + "/model.safetensors", ts);
    fs::copy_file(src.hf + "/config.json", d + "/config.json");
    fs::copy_file(src.hf + "/tokenizer.json", d + "/tokenizer.json");
    return d;
  };
  const std::string delta_dir = folder("delta_release", delta),
                    expect_dir = folder("delta_expected", rebuilt);

  auto in_base = integrity_open(src.hf), in_delta = integrity_open(delta_dir),
       in_ft = integrity_open(ft_spec.path);
  REQUIRE(in_base.ok());
  REQUIRE(in_delta.ok());
  REQUIRE(in_ft.ok());
  diff_options o;
  o.threads = 1;
  auto dd = diff_models(in_base.value().items, in_delta.value().items, *in_base.value().ar,
                        *in_delta.value().ar, nullptr, nullptr, o);
  const std::optional<std::string> said = delta_detect(dd);
  REQUIRE(said);
  CHECK(said->find("B is a delta against A") != std::string::npos);
  CHECK(said->find("norm gains included") != std::string::npos);
  // a fine-tune and the model itself are not deltas
  CHECK_FALSE(delta_detect(diff_models(in_base.value().items, in_ft.value().items, *in_base.value().ar,
                                       *in_ft.value().ar, nullptr, nullptr, o)));
  CHECK_FALSE(delta_detect(diff_models(in_base.value().items, in_base.value().items, *in_base.value().ar,
                                       *in_base.value().ar, nullptr, nullptr, o)));

  const std::string out = test::temp_dir("delta_out") + "/rebuilt";
  auto r = delta_apply(in_base.value(), in_delta.value(), out);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  CHECK(r.value().tensors == delta.size());
  CHECK(fs::exists(out + "/model.safetensors"));
  CHECK_FALSE(fs::exists(out + "/model.safetensors.partial"));
  CHECK(r.value().root_hex == root_of(expect_dir));
  CHECK(r.value().root_hex != root_of(src.hf));
  loaded got = load(out), want = load(expect_dir);
  CHECK(logits_of(*got.m) == logits_of(*want.m));

  // a delta of another shape is refused, naming the tensor
  std::vector<tensor_data> bad = delta;
  for (tensor_data& t : bad)
    if (t.shape.size() == 2) {
      t.shape = {t.shape[0] * t.shape[1]};
      break;
    }
  auto in_bad = integrity_open(folder("delta_bad", bad));
  REQUIRE(in_bad.ok());
  const std::string bad_out = test::temp_dir("delta_bad_out") + "/x.safetensors";
  auto rb = delta_apply(in_base.value(), in_bad.value(), bad_out);
  REQUIRE_FALSE(rb.ok());
  CHECK(rb.err().message.find("tensor '") != std::string::npos);
  CHECK_FALSE(fs::exists(bad_out));  // nothing half-written
  CHECK_FALSE(fs::exists(bad_out + ".partial"));
}

// ---- the writer against the real reader ----------------------------------------------------------

TEST_CASE("PyTorch's own torch.load reads the torch.save zips the fixtures are built with") {
  std::vector<tensor_data> ts = {{"w", dtype::f32, {2, 3}, {}}, {"h", dtype::f16, {4}, {}}};
  for (int i = 0; i < 6; ++i) {
    float f = 0.5f * static_cast<float>(i) - 1.0f;
    const auto* p = reinterpret_cast<const uint8_t*>(&f);
    ts[0].bytes.insert(ts[0].bytes.end(), p, p + 4);
  }
  for (uint16_t h : {0x3c00, 0xc000, 0x0000, 0x3800})
    ts[1].bytes.push_back(static_cast<uint8_t>(h & 0xff)),
        ts[1].bytes.push_back(static_cast<uint8_t>(h >> 8));
  torch_node root = torch_node::dict({{"state_dict", torch_state_dict(ts)},
                                      {"step", torch_node::integer(1234567890123)},
                                      {"lr", torch_node::floating(0.25)},
                                      {"args", torch_node::object("argparse", "Namespace",
                                                                  {{"n_head", torch_node::integer(8)},
                                                                   {"name", torch_node::string("x")}})}});
  const std::string path = test::temp_dir("torch_peer") + "/c.pt";
  pytorch_write(path, root, ts);
  std::string out;
  const std::string py =
      "import torch; c = torch.load('" + path +
      "'); sd = c['state_dict']; "
      "print(sd['w'].tolist(), sd['h'].dtype, sd['h'].tolist(), c['step'], c['lr'], vars(c['args']))";
  // one interpreter start (importing torch takes seconds): a missing torch is a SKIP, or a failure under CI
  const int rc = test::run_command("/usr/bin/python3 -c \"" + py + "\" 2>&1", &out);
  if (rc != 0 && out.find("No module named") != std::string::npos) {
    if (test::in_ci()) FAIL("CI: /usr/bin/python3 cannot import torch (install python3-torch): " << out);
    MESSAGE("SKIP: /usr/bin/python3 cannot import torch");
    return;
  }
  REQUIRE_MESSAGE(rc == 0, out);
  CHECK(out ==
        "[[-1.0, -0.5, 0.0], [0.5, 1.0, 1.5]] torch.float16 [1.0, -2.0, 0.0, 0.5] 1234567890123 0.25 "
        "{'n_head': 8, 'name': 'x'}\n");
}

TEST_CASE("Lightning-style folder: checkpoint + hparams.yaml, hyperparameters from the YAML") {
  const source_models& src = sources();
  loaded hf = load(src.hf);
  std::vector<tensor_data> ts = tensors_of(*hf.ar, [](const std::string& n) { return "model." + n; });
  torch_node root =
      torch_node::dict({{"state_dict", torch_state_dict(ts)}, {"global_step", torch_node::integer(77)}});
  const std::string dir = test::temp_dir("lightning");
  pytorch_write(dir + "/epoch=0-step=77.ckpt", root, ts);
  test::write_file(
      dir + "/hparams.yaml",
      std::string("# saved by Lightning\nmodel_type: llama\nvocab_size: 512\nhidden_size: 64\n"
                  "intermediate_size: 176\nnum_hidden_layers: 2\nnum_attention_heads: 8\n"
                  "num_key_value_heads: 4\nmax_position_embeddings: 256\nrope_theta: 10000.0\n"
                  "rms_norm_eps: 1.0e-05\noptimizer:\n  lr: 0.0003\n  name: 'adamw'\ntags:\n- a\n"));
  loaded L = load(dir);
  CHECK(meta_value_text(*L.ar, "checkpoint.prefix_stripped") == "model.");
  CHECK(meta_value_text(*L.ar, "checkpoint.global_step") == "77");
  CHECK(meta_value_text(*L.ar, "hparams.optimizer.name") == "adamw");
  CHECK(meta_value_text(*L.ar, "hparams.optimizer.lr") == "0.0003");
  const hparams& hp = L.m->hp;
  check_sources(hp, {{"n_head", "hparams.num_attention_heads"},
                     {"n_head_kv", "hparams.num_key_value_heads"},
                     {"n_ff", "hparams.intermediate_size"},
                     {"norm_eps", "hparams.rms_norm_eps"}});
  CHECK(hp.n_ctx == 256);
  CHECK(root_of(dir) == root_of(src.gguf));
  CHECK(logits_of(*L.m) == logits_of(*hf.m));
}

TEST_CASE("LLaMA-1's Meta spelling: rope.freqs (replicated in every shard) is a rotary table, not a weight") {
  const std::string meta = export_meta(sources().gguf, "meta_rope_src", 1);
  loaded mm = load(meta);
  std::vector<tensor_data> ts = tensors_of(*mm.ar, [](const std::string& n) { return n; });
  tensor_data freqs{"rope.freqs", dtype::f32, {4}, {}};
  for (int i = 0; i < 4; ++i) {
    const float f = std::pow(10000.0f, -static_cast<float>(i) / 4.0f);
    const auto* p = reinterpret_cast<const uint8_t*>(&f);
    freqs.bytes.insert(freqs.bytes.end(), p, p + 4);
  }
  ts.push_back(freqs);
  const std::string dir = test::temp_dir("meta_rope");
  fs::copy_file(meta + "/params.json", dir + "/params.json");
  pytorch_write(dir + "/consolidated.00.pth", torch_state_dict(ts), ts);
  loaded L = load(dir);
  CHECK(L.m->unmapped.empty());
  const role_entry* e = L.m->entry(role_kind::rope_freqs);
  REQUIRE(e);
  CHECK(L.ar->tensors[e->tensor].name == "rope.freqs");
  CHECK(root_of(dir) == root_of(sources().gguf));
}
