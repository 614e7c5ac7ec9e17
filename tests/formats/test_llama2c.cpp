// llama2.c checkpoints (v0 legacy, v1, v2) and llama2.c tokenizer files: real files and bad bytes.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "formats/archive.h"
#include "formats/loaders.h"
#include "formats/reader.h"
#include "tests/support/data.h"

using namespace gb;

namespace {

struct bytes_builder {
  std::vector<uint8_t> b;
  void i32(int32_t v) { put(&v, 4); }
  void u32(uint32_t v) { put(&v, 4); }
  void f32(float v) { put(&v, 4); }
  void u8(uint8_t v) { b.push_back(v); }
  void put(const void* p, size_t n) {
    const size_t at = b.size();
    b.resize(at + n);
    std::memcpy(b.data() + at, p, n);
  }
  void pad_to(size_t n) { b.resize(n, 0); }
};

struct dims {
  int32_t dim = 8, hidden = 12, layers = 2, heads = 2, kv_heads = 1, vocab = 10, seq = 4;
};

// Element count of the v0 weights as run.c lays them out (written out independently of the loader).
uint64_t v0_floats(const dims& d, bool with_cls) {
  uint64_t hs = static_cast<uint64_t>(d.dim / d.heads), kv = hs * static_cast<uint64_t>(d.kv_heads);
  uint64_t D = static_cast<uint64_t>(d.dim), H = static_cast<uint64_t>(d.hidden),
           L = static_cast<uint64_t>(d.layers);
  uint64_t V = static_cast<uint64_t>(d.vocab), S = static_cast<uint64_t>(d.seq);
  uint64_t n =
      V * D + L * D + L * D * D + 2 * L * kv * D + L * D * D + L * D + 3 * L * D * H + D + 2 * S * (hs / 2);
  return with_cls ? n + V * D : n;
}

std::vector<uint8_t> legacy_file(const dims& d, bool shared, int64_t extra_floats = 0) {
  bytes_builder w;
  w.i32(d.dim), w.i32(d.hidden), w.i32(d.layers), w.i32(d.heads), w.i32(d.kv_heads);
  w.i32(shared ? d.vocab : -d.vocab), w.i32(d.seq);
  uint64_t n = v0_floats(d, !shared) + static_cast<uint64_t>(extra_floats);
  for (uint64_t i = 0; i < n; ++i) w.f32(static_cast<float>(i));
  return w.b;
}

std::string write_temp(const std::string& dir, const std::string& name, const std::vector<uint8_t>& b) {
  std::string p = test::temp_dir(dir) + "/" + name;
  test::write_file(p, b.data(), b.size());
  return p;
}

float f32_at(const tensor_view& t, size_t i) {
  float v;
  std::memcpy(&v, t.data + 4 * i, 4);
  return v;
}

}  // namespace

TEST_CASE("llama2c: stories260K.bin legacy checkpoint") {
  GB_DATA(path, "models/stories260K/stories260K.bin");
  auto r = archive_open(path);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  const archive& a = r.value();
  CHECK(a.format == file_format::llama2c);
  CHECK(a.format_version == "v0");
  CHECK(a.meta("llama.embedding_length")->as_int() == 64);
  CHECK(a.meta("llama.feed_forward_length")->as_int() == 172);
  CHECK(a.meta("llama.block_count")->as_int() == 5);
  CHECK(a.meta("llama.attention.head_count")->as_int() == 8);
  CHECK(a.meta("llama.attention.head_count_kv")->as_int() == 4);
  CHECK(a.meta("llama.vocab_size")->as_int() == 512);
  CHECK(a.meta("llama.context_length")->as_int() == 512);
  CHECK(a.meta("llama2c.shared_classifier")->as_bool() == true);
  CHECK(a.meta("general.architecture")->as_string() == "llama");
  CHECK(a.tensor("output.weight") == nullptr);
  // 1 embedding + 5 x 9 per layer + final norm + 2 freq blocks
  CHECK(a.tensors.size() == 49u);
  const tensor_view* k = a.tensor("blk.4.attn_k.weight");
  REQUIRE(k != nullptr);
  CHECK(k->shape == std::vector<int64_t>{32, 64});
  // Independent read: the first weight sits right after the 28-byte header.
  std::vector<uint8_t> raw = test::read_file(path);
  float first;
  std::memcpy(&first, raw.data() + 28, 4);
  CHECK(f32_at(*a.tensor("token_embd.weight"), 0) == first);
  CHECK(a.tensor("rope_freqs.cis_imag")->file_offset + a.tensor("rope_freqs.cis_imag")->nbytes == raw.size());
  // The documented stories260K.bin + tok512.bin convention attaches the tokenizer.
  REQUIRE(a.tokenizer != nullptr);
  CHECK(a.tokenizer->size() == 512u);
}

TEST_CASE("llama2c: stories260K.bin tensors equal the GGUF's bytes") {
  GB_DATA(bin, "models/stories260K/stories260K.bin");
  GB_DATA(gguf, "models/stories260K/stories260K.gguf");
  auto rb = archive_open(bin);
  auto rg = archive_open(gguf);
  REQUIRE(rb.ok());
  if (!rg.ok() && rg.err().code == errc::unsupported) {
    MESSAGE("SKIP: GGUF loader not built yet: " << rg.err().to_string());
    return;
  }
  REQUIRE_MESSAGE(rg.ok(), (rg.ok() ? "" : rg.err().to_string()));
  size_t compared = 0;
  for (const tensor_view& g : rg.value().tensors) {
    const tensor_view* t = rb.value().tensor(g.name);
    if (!t) continue;
    CHECK_MESSAGE(t->shape == g.shape, g.name);
    REQUIRE(t->nbytes == g.nbytes);
    CHECK_MESSAGE(std::memcmp(t->data, g.data, g.nbytes) == 0, g.name);
    ++compared;
  }
  CHECK(compared >= 47u);  // every weight except the freq/rope extras
}

TEST_CASE("llama2c: tok512.bin tokenizer") {
  GB_DATA(path, "models/stories260K/tok512.bin");
  auto r = archive_open(path);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  const archive& a = r.value();
  CHECK(a.format == file_format::llama2c_tokenizer);
  REQUIRE(a.tokenizer);
  const vocab& v = *a.tokenizer;
  CHECK(v.size() == 512u);
  CHECK(v.tokens[3] == "<0x00>");
  CHECK(v.token_types[3] == 6);
  CHECK(v.token_types[0] == 2);
  CHECK(v.token_types[1] == 3);
  CHECK(v.bos_id == 1);
  CHECK(v.eos_id == 2);
  CHECK(v.tokens[259] == "\xe2\x96\x81t");  // " t" in the file, SentencePiece spelling here
  CHECK(v.scores[260] == -1.0f);
}

TEST_CASE("llama2c: synthetic legacy files, shared and separate classifier") {
  dims d;
  auto r = archive_open(write_temp("l2c_ok", "m.bin", legacy_file(d, true)));
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  const archive& a = r.value();
  CHECK(a.tensor("blk.1.attn_v.weight")->shape == std::vector<int64_t>{4, 8});
  CHECK(a.tensor("blk.1.ffn_down.weight")->shape == std::vector<int64_t>{8, 12});
  CHECK(a.tensor("rope_freqs.cis_real")->shape == std::vector<int64_t>{4, 2});
  // run.c order: embedding (80 floats), then attn_norm for both layers: layer 1's norm starts at 88.
  CHECK(f32_at(*a.tensor("blk.1.attn_norm.weight"), 0) == 88.0f);

  auto r2 = archive_open(write_temp("l2c_cls", "m.bin", legacy_file(d, false)));
  REQUIRE(r2.ok());
  const tensor_view* out = r2.value().tensor("output.weight");
  REQUIRE(out != nullptr);
  CHECK(f32_at(*out, 0) == static_cast<float>(v0_floats(d, false)));
  CHECK(r2.value().meta("llama2c.shared_classifier")->as_bool() == false);
}

TEST_CASE("llama2c: truncated checkpoint names the tensor whose bytes are missing") {
  dims d;
  std::vector<uint8_t> b = legacy_file(d, true);
  b.resize(b.size() - 4);
  auto r = archive_open(write_temp("l2c_trunc", "m.bin", b));
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::truncated);
  CHECK(r.err().message.find("rope_freqs.cis_imag") != std::string::npos);
}

TEST_CASE("llama2c: extra bytes after the weights are a size mismatch") {
  dims d;
  auto r = archive_open(write_temp("l2c_extra", "m.bin", legacy_file(d, true, 3)));
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::mismatch);
}

TEST_CASE("llama2c: v1 and v2 headers") {
  dims d;
  auto header = [&](int version, bool shared) {
    bytes_builder w;
    w.u32(0x616b3432), w.i32(version);
    w.i32(d.dim), w.i32(d.hidden), w.i32(d.layers), w.i32(d.heads), w.i32(d.kv_heads), w.i32(d.vocab),
        w.i32(d.seq);
    w.u8(shared ? 1 : 0);
    if (version == 2) w.i32(4);
    w.pad_to(256);
    return w;
  };
  const uint64_t D = 8, H = 12, L = 2, V = 10, kv = 4;
  const uint64_t norms = 2 * L * D + D;
  const uint64_t mats = V * D + L * (D * D + 2 * kv * D + D * D + 3 * D * H);
  {
    bytes_builder w = header(1, true);
    for (uint64_t i = 0; i < norms + mats; ++i) w.f32(static_cast<float>(i));
    auto r = archive_open(write_temp("l2c_v1", "m.bin", w.b));
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
    CHECK(r.value().format_version == "v1");
    CHECK(f32_at(*r.value().tensor("token_embd.weight"), 0) == static_cast<float>(norms));
    CHECK(f32_at(*r.value().tensor("blk.0.ffn_norm.weight"), 0) == static_cast<float>(L * D));
  }
  {
    bytes_builder w = header(2, true);
    for (uint64_t i = 0; i < norms; ++i) w.f32(1.0f);
    for (uint64_t i = 0; i < mats; ++i) w.u8(static_cast<uint8_t>(i));
    for (uint64_t i = 0; i < mats / 4; ++i) w.f32(0.5f);
    auto r = archive_open(write_temp("l2c_v2", "m.bin", w.b));
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
    const tensor_view* q = r.value().tensor("blk.1.attn_q.weight");
    REQUIRE(q != nullptr);
    CHECK(q->type == dtype::i8);
    const tensor_view* s = r.value().tensor("blk.1.attn_q.weight.scale");
    REQUIRE(s != nullptr);
    CHECK(s->shape == std::vector<int64_t>{16});
  }
  {
    bytes_builder w = header(7, true);
    auto r = archive_open(write_temp("l2c_v7", "m.bin", w.b));
    REQUIRE(!r.ok());
    CHECK(r.err().code == errc::unsupported);
  }
  {
    d.kv_heads = 3;  // not a divisor of n_heads = 2
    bytes_builder w = header(1, true);
    auto r = archive_open(write_temp("l2c_badkv", "m.bin", w.b));
    REQUIRE(!r.ok());
    CHECK(r.err().code == errc::bad_value);
  }
}

TEST_CASE("llama2c: a legacy header with impossible values is not recognised") {
  dims d;
  d.heads = 3;  // dim 8 is not a multiple of 3
  auto r = archive_open(write_temp("l2c_heads", "m.bin", legacy_file(dims{}, true)));
  REQUIRE(r.ok());
  std::vector<uint8_t> b = legacy_file(dims{}, true);
  std::memcpy(b.data() + 12, &d.heads, 4);
  auto r2 = archive_open(write_temp("l2c_heads", "m.bin", b));
  REQUIRE(!r2.ok());
  CHECK(r2.err().code == errc::bad_magic);
}

TEST_CASE("llama2c tokenizer: malformed records") {
  auto load = [](const std::vector<uint8_t>& b, const char* dir) {
    std::string p = write_temp(dir, "tok.bin", b);
    return capture(p, [&]() {
      archive a;
      loaders::load_llama2c_tokenizer(a, mapped_file::open(p), open_options{});
      return a;
    });
  };
  bytes_builder w;
  w.i32(5);  // longest piece: "<unk>"
  for (const char* s : {"<unk>", "<s>", "</s>", "ab"}) {
    w.f32(0.0f), w.i32(static_cast<int32_t>(std::strlen(s))), w.put(s, std::strlen(s));
  }
  CHECK(load(w.b, "tok_ok").ok());
  CHECK(loaders::llama2c_tokenizer_plausible(w.b.data(), w.b.size()));

  std::vector<uint8_t> cut = w.b;
  cut.pop_back();
  auto r = load(cut, "tok_cut");
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::truncated);
  CHECK(!loaders::llama2c_tokenizer_plausible(cut.data(), cut.size()));

  bytes_builder neg;
  neg.i32(4), neg.f32(0.0f), neg.i32(-5);
  auto r2 = load(neg.b, "tok_neg");
  REQUIRE(!r2.ok());
  CHECK(r2.err().code == errc::bad_value);

  bytes_builder many;  // one token more than the 4,194,304 cap, each an empty piece
  many.i32(1);
  many.b.resize(4 + 8 * ((1u << 22) + 1), 0);
  auto r3 = load(many.b, "tok_many");
  REQUIRE(!r3.ok());
  CHECK(r3.err().code == errc::limit);
}
