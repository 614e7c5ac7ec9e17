// GGUF loader and writer: round trips through gguf_write, one test per error code with the bad bytes
// built in memory, and every real .gguf under ../shared/data.
#include <doctest/doctest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "formats/archive.h"
#include "formats/loaders.h"
#include "formats/writers.h"
#include "tests/support/data.h"

using namespace gb;

namespace {

// The reference file of the bad-bytes tests: 1 key, 2 f32 tensors. Its layout, worked out by hand from the
// GGUF v3 spec (u64 counts and string lengths):
//   0 magic, 4 version, 8 n_tensors, 16 n_kv
//   24 key len, 32 "general.architecture"(20), 52 type, 56 str len, 64 "llama"(5)
//   69 tensor a: 69 name len, 77 "a", 78 n_dims, 82 ne0=4, 90 ne1=2, 98 type, 102 offset(0)
//   110 tensor b: 110 name len, 118 "b", 119 n_dims, 123 ne0=8, 131 type, 135 offset(32)
//   143 header end -> data at 160; a = 32 bytes [160,192), b = 32 bytes [192,224); file 224 bytes
constexpr size_t kNTensors = 8, kNKv = 16, kValType = 52, kAName = 69, kANdims = 78, kANe0 = 82, kANe1 = 90,
                 kAType = 98, kBName = 110, kBNdims = 119, kBNe0 = 123, kBType = 131, kBOffset = 135,
                 kHeaderEnd = 143, kDataStart = 160, kFileSize = 224;

struct fixture {
  std::string dir = test::temp_dir("gguf_bad");
  std::vector<uint8_t> good;
  fixture() {
    std::vector<std::pair<std::string, meta_value>> md = {{"general.architecture", meta_str("llama")}};
    std::vector<tensor_data> ts = {{"a", dtype::f32, {2, 4}, test::f32_bytes({1, 2, 3, 4, 5, 6, 7, 8})},
                                   {"b", dtype::f32, {8}, test::f32_bytes({8, 7, 6, 5, 4, 3, 2, 1})}};
    gguf_write(dir + "/good.gguf", md, ts);
    good = test::read_file(dir + "/good.gguf");
  }
  result<archive> open(const std::vector<uint8_t>& bytes, const std::string& name = "bad.gguf") const {
    std::string p = dir + "/" + name;
    test::write_file(p, bytes.data(), bytes.size());
    return archive_open(p);
  }
};

template <class T>
void poke(std::vector<uint8_t>& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}

void expect_error(const result<archive>& r, errc code, uint64_t offset, const char* needle) {
  REQUIRE_MESSAGE(!r, "expected an error");
  CHECK_MESSAGE(r.err().code == code, r.err().to_string());
  CHECK_MESSAGE(r.err().offset == offset, r.err().to_string());
  CHECK_MESSAGE(r.err().message.find(needle) != std::string::npos, r.err().to_string());
}

bool has_finding(const archive& a, const std::string& code) {
  for (const auto& f : a.findings)
    if (f.code == code) return true;
  return false;
}

}  // namespace

TEST_CASE("gguf: the fixture layout matches the hand-computed offsets") {
  fixture f;
  REQUIRE(f.good.size() == kFileSize);
  CHECK(std::memcmp(f.good.data(), "GGUF", 4) == 0);
  CHECK(f.good[kAName + 8] == 'a');
  CHECK(f.good[kBName + 8] == 'b');
  uint64_t boff;
  std::memcpy(&boff, f.good.data() + kBOffset, 8);
  CHECK(boff == 32u);
  auto r = f.open(f.good, "good2.gguf");
  REQUIRE_MESSAGE(r, r.err().to_string());
  const archive& a = r.value();
  CHECK(a.format == file_format::gguf);
  CHECK(a.format_version == "3");
  REQUIRE(a.tensors.size() == 2);
  CHECK(a.tensors[0].shape == std::vector<int64_t>{2, 4});
  CHECK(a.tensors[0].file_offset == kDataStart);
  CHECK(a.tensors[1].file_offset == kDataStart + 32);
  float x;
  std::memcpy(&x, a.tensors[1].data, 4);
  CHECK(x == 8.0f);
  CHECK(a.findings.empty());
}

TEST_CASE("gguf: round trip of every metadata type, several dtypes, alignment and versions") {
  std::string dir = test::temp_dir("gguf_rt");
  auto typed = [](meta_value v, int t) {
    v.gguf_type = t;
    return v;
  };
  meta_value u8v, i8v, u16v, i16v, u64v, i64v, f64v;
  u8v.k = meta_value::kind::uinteger, u8v.u = 200;
  i8v.k = meta_value::kind::integer, i8v.i = -100;
  u16v.k = meta_value::kind::uinteger, u16v.u = 60000;
  i16v.k = meta_value::kind::integer, i16v.i = -30000;
  u64v.k = meta_value::kind::uinteger, u64v.u = 1ull << 40;
  i64v.k = meta_value::kind::integer, i64v.i = -(1ll << 40);
  f64v.k = meta_value::kind::floating, f64v.f = 0.1;
  meta_value nested;  // array of arrays of int32
  nested.k = meta_value::kind::array;
  nested.gguf_elem_type = 9;
  nested.arr = {meta_i32_array({1, 2}), meta_i32_array({3})};
  meta_value empty = meta_str_array({});
  std::vector<std::pair<std::string, meta_value>> md = {{"t.u8", typed(u8v, 0)},
                                                        {"t.i8", typed(i8v, 1)},
                                                        {"t.u16", typed(u16v, 2)},
                                                        {"t.i16", typed(i16v, 3)},
                                                        {"t.u32", meta_u32(4000000000u)},
                                                        {"t.i32", meta_i32(-7)},
                                                        {"t.f32", meta_f32(0.5f)},
                                                        {"t.bool", meta_bool(true)},
                                                        {"t.str", meta_str("h\xc3\xa9llo")},
                                                        {"t.u64", typed(u64v, 10)},
                                                        {"t.i64", typed(i64v, 11)},
                                                        {"t.f64", typed(f64v, 12)},
                                                        {"t.arr_s", meta_str_array({"x", "", "yz"})},
                                                        {"t.arr_f", meta_f32_array({1.5f, -2})},
                                                        {"t.nested", nested},
                                                        {"t.empty", empty}};
  std::vector<uint8_t> f16(2 * 2 * 32, 0x11), q80(34, 0x22), q4k(144, 0x33), bf(2 * 3, 0x44);
  std::vector<tensor_data> ts = {{"w.f16", dtype::f16, {2, 32}, f16},
                                 {"w.q8_0", dtype::q8_0, {32}, q80},
                                 {"w.q4_k", dtype::q4_k, {1, 256}, q4k},
                                 {"w.bf16", dtype::bf16, {3}, bf}};
  for (uint32_t version : {1u, 2u, 3u}) {
    for (uint32_t align : {32u, 64u}) {
      CAPTURE(version);
      CAPTURE(align);
      std::string p = dir + "/rt" + std::to_string(version) + "_" + std::to_string(align) + ".gguf";
      gguf_write(p, md, ts, align, version);
      auto r = archive_open(p);
      REQUIRE_MESSAGE(r, r.err().to_string());
      const archive& a = r.value();
      CHECK(a.format_version == std::to_string(version));
      CHECK(a.findings.empty());
      CHECK(a.meta("t.u8")->u == 200u);
      CHECK(a.meta("t.u8")->gguf_type == 0);
      CHECK(a.meta("t.i8")->i == -100);
      CHECK(a.meta("t.u16")->u == 60000u);
      CHECK(a.meta("t.i16")->i == -30000);
      CHECK(a.meta("t.u32")->u == 4000000000u);
      CHECK(a.meta("t.i32")->i == -7);
      CHECK(a.meta("t.f32")->f == 0.5);
      CHECK(a.meta("t.bool")->b == true);
      CHECK(a.meta("t.str")->s == "h\xc3\xa9llo");
      CHECK(a.meta("t.u64")->u == (1ull << 40));
      CHECK(a.meta("t.i64")->i == -(1ll << 40));
      CHECK(a.meta("t.f64")->f == 0.1);
      REQUIRE(a.meta("t.arr_s")->arr.size() == 3);
      CHECK(a.meta("t.arr_s")->arr[2].s == "yz");
      CHECK(a.meta("t.arr_f")->arr[1].f == -2.0);
      REQUIRE(a.meta("t.nested")->arr.size() == 2);
      CHECK(a.meta("t.nested")->arr[0].arr[1].i == 2);
      CHECK(a.meta("t.nested")->arr[1].arr[0].i == 3);
      CHECK(a.meta("t.empty")->arr.empty());
      CHECK(a.meta("t.empty")->gguf_elem_type == 8);
      if (align != 32) CHECK(a.meta("general.alignment")->u == align);
      REQUIRE(a.tensors.size() == 4);
      for (size_t i = 0; i < ts.size(); ++i) {
        CHECK(a.tensors[i].name == ts[i].name);
        CHECK(a.tensors[i].type == ts[i].type);
        CHECK(a.tensors[i].shape == ts[i].shape);
        CHECK(a.tensors[i].nbytes == ts[i].bytes.size());
        CHECK(a.tensors[i].file_offset % align == 0);
        CHECK(std::memcmp(a.tensors[i].data, ts[i].bytes.data(), ts[i].bytes.size()) == 0);
      }
      // deterministic: writing again gives the same bytes
      gguf_write(p + ".2", md, ts, align, version);
      CHECK(test::read_file(p) == test::read_file(p + ".2"));
    }
  }
}

TEST_CASE("gguf: tokenizer metadata becomes a vocab") {
  std::string dir = test::temp_dir("gguf_tok");
  std::vector<std::pair<std::string, meta_value>> md = {
      {"tokenizer.ggml.model", meta_str("gpt2")},
      {"tokenizer.ggml.pre", meta_str("qwen2")},
      {"tokenizer.ggml.tokens", meta_str_array({"a", "b", "ab", "<eos>"})},
      {"tokenizer.ggml.token_type", meta_i32_array({1, 1, 1, 3})},
      {"tokenizer.ggml.merges", meta_str_array({"a b"})},
      {"tokenizer.ggml.eos_token_id", meta_u32(3)},
      {"tokenizer.ggml.bos_token_id", meta_u32(99)},  // out of range -> finding
      {"tokenizer.ggml.add_bos_token", meta_bool(true)},
      {"tokenizer.chat_template", meta_str("{% for m in messages %}{{ m.content }}{% endfor %}")}};
  gguf_write(dir + "/t.gguf", md, {});
  auto r = archive_open(dir + "/t.gguf");
  REQUIRE_MESSAGE(r, r.err().to_string());
  const archive& a = r.value();
  REQUIRE(a.tokenizer);
  CHECK(a.tokenizer->model == "gpt2");
  CHECK(a.tokenizer->pre == "qwen2");
  CHECK(a.tokenizer->tokens == std::vector<std::string>{"a", "b", "ab", "<eos>"});
  CHECK(a.tokenizer->token_types == std::vector<int32_t>{1, 1, 1, 3});
  CHECK(a.tokenizer->merges == std::vector<std::string>{"a b"});
  CHECK(a.tokenizer->eos_id == 3);
  CHECK(a.tokenizer->bos_id == -1);
  CHECK(a.tokenizer->add_bos);
  CHECK(!a.tokenizer->add_space_prefix);
  CHECK(has_finding(a, "gguf.token_id_out_of_range"));
  CHECK(a.meta("tokenizer.chat_template")->s.find("{% for") == 0);  // kept as text
  open_options no_tok;
  no_tok.load_tokenizer = false;
  auto r2 = archive_open(dir + "/t.gguf", no_tok);
  REQUIRE(r2);
  CHECK(!r2.value().tokenizer);
}

TEST_CASE("gguf error bad_magic: loader called on bytes without GGUF magic") {
  fixture f;
  auto b = f.good;
  b[0] = 'X';
  test::write_file(f.dir + "/m.gguf", b.data(), b.size());
  archive a;
  try {
    loaders::load_gguf(a, mapped_file::open(f.dir + "/m.gguf"), {});
    FAIL("expected bad_magic");
  } catch (const failure& e) {
    CHECK(e.err().code == errc::bad_magic);
    CHECK(e.err().offset == 0u);
  }
}

TEST_CASE("gguf error unsupported: version 4 and big-endian files") {
  fixture f;
  auto b = f.good;
  poke<uint32_t>(b, 4, 4);
  expect_error(f.open(b), errc::unsupported, 4, "version 4");
  poke<uint32_t>(b, 4, 0x03000000u);  // what a big-endian v3 file reads as
  expect_error(f.open(b), errc::unsupported, 4, "big-endian GGUF not supported");
}

TEST_CASE("gguf error truncated: cut at every section boundary and everywhere else") {
  fixture f;
  // boundaries: inside version, counts, key, value, tensor infos, header end, data
  for (size_t cut : {size_t{6}, size_t{12}, size_t{20}, size_t{40}, size_t{60}, size_t{kAName + 4},
                     size_t{kANe1}, size_t{kBOffset + 4}}) {
    CAPTURE(cut);
    std::vector<uint8_t> b(f.good.begin(), f.good.begin() + static_cast<long>(cut));
    auto r = f.open(b);
    REQUIRE(!r);
    // before the counts: plain truncation; after them the counts no longer fit the bytes left, which the
    // count cap reports (limit) before any allocation, or a field read runs out (truncated)
    if (cut < 24)
      CHECK(r.err().code == errc::truncated);
    else
      CHECK((r.err().code == errc::truncated || r.err().code == errc::limit));
    CHECK(r.err().message.find("GGUF") != std::string::npos);
  }
  std::vector<uint8_t> b(f.good.begin(), f.good.begin() + kHeaderEnd + 4);
  expect_error(f.open(b), errc::truncated, kHeaderEnd, "data section");
  // every other cut fails cleanly too (truncated, or out_of_bounds inside the data section)
  for (size_t cut = 4; cut < f.good.size(); ++cut) {
    std::vector<uint8_t> c(f.good.begin(), f.good.begin() + static_cast<long>(cut));
    auto r = f.open(c);
    REQUIRE(!r);
    CHECK((r.err().code == errc::truncated || r.err().code == errc::out_of_bounds ||
           r.err().code == errc::limit));
  }
}

TEST_CASE("gguf error limit: oversized counts, string and array lengths, nesting depth") {
  fixture f;
  auto b = f.good;
  poke<uint64_t>(b, kNTensors, 1ull << 40);
  expect_error(f.open(b), errc::limit, kNTensors, "tensor count");
  b = f.good;
  poke<uint64_t>(b, kNKv, 1000);
  expect_error(f.open(b), errc::limit, kNKv, "metadata count");
  b = f.good;
  poke<uint64_t>(b, 24, 2ull << 20);  // key length 2 MiB
  expect_error(f.open(b), errc::limit, 24, "metadata key length");
  b = f.good;
  poke<uint64_t>(b, 56, 100ull << 20);  // string value 100 MiB
  expect_error(f.open(b), errc::limit, 56, "string value length");

  std::string dir = test::temp_dir("gguf_limit");
  auto nest = [](int levels) {  // an INT32 array wrapped in arrays: `levels` levels of arrays in all
    meta_value v = meta_i32_array({1});
    for (int i = 1; i < levels; ++i) {
      meta_value w;
      w.k = meta_value::kind::array;
      w.gguf_elem_type = 9;
      w.arr = {v};
      v = w;
    }
    return v;
  };
  meta_value deep = nest(5);
  // the writer refuses such nesting, so build depth 4 (allowed) and raise the innermost type by hand
  meta_value ok = nest(4);
  CHECK_THROWS_AS(gguf_write(dir + "/deep.gguf", {{"k", deep}}, {}), failure);
  gguf_write(dir + "/ok.gguf", {{"k", ok}}, {});
  auto r0 = archive_open(dir + "/ok.gguf");
  REQUIRE_MESSAGE(r0, "4 levels of arrays are allowed");
  CHECK(r0.value().meta("k")->arr[0].arr[0].arr[0].arr[0].i == 1);
  // header 24, key len 8 + "k" -> 33, type 4 -> 37, then per level: elem type 4 + count 8, so the
  // innermost element type sits at 37 + 3 * 12 = 73; making it ARRAY asks for a fifth level
  auto ob = test::read_file(dir + "/ok.gguf");
  poke<uint32_t>(ob, 73, 9);
  test::write_file(dir + "/deep5.gguf", ob.data(), ob.size());
  expect_error(archive_open(dir + "/deep5.gguf"), errc::limit, 73, "nested deeper");

  // array length that cannot fit the bytes left
  std::vector<std::pair<std::string, meta_value>> md = {{"k", meta_i32_array({1, 2})}};
  gguf_write(dir + "/arr.gguf", md, {});
  auto ab = test::read_file(dir + "/arr.gguf");
  poke<uint64_t>(ab, 41, 1ull << 50);  // 37 + elem type 4 = count at 41
  test::write_file(dir + "/arr2.gguf", ab.data(), ab.size());
  auto r2 = archive_open(dir + "/arr2.gguf");
  expect_error(r2, errc::limit, 41, "cannot fit");
}

TEST_CASE("gguf error bad_value: value types, n_dims, dims, tensor type, block size, alignment") {
  fixture f;
  auto b = f.good;
  poke<uint32_t>(b, kValType, 13);
  expect_error(f.open(b), errc::bad_value, kValType, "unknown value type 13");
  b = f.good;
  poke<uint32_t>(b, kANdims, 5);
  expect_error(f.open(b), errc::bad_value, kANdims, "n_dims 5");
  b = f.good;
  poke<uint64_t>(b, kBNe0, 0);
  expect_error(f.open(b), errc::bad_value, kBNe0, "must be > 0");
  b = f.good;
  poke<uint32_t>(b, kAType, 4);  // removed Q4_2
  expect_error(f.open(b), errc::bad_value, kAType, "unknown ggml type id 4");
  b = f.good;
  poke<uint32_t>(b, kBType, 8);  // q8_0 with ne0 = 8: not a multiple of 32
  expect_error(f.open(b), errc::bad_value, kBNdims + 4, "block size");
  b = f.good;
  poke<uint64_t>(b, kBOffset, 40);  // not a multiple of 32
  expect_error(f.open(b), errc::bad_value, kBOffset, "alignment");

  std::string dir = test::temp_dir("gguf_align");
  gguf_write(dir + "/a.gguf", {{"general.alignment", meta_u32(32)}}, {});
  auto ab = test::read_file(dir + "/a.gguf");
  // 24 + 8 + 17 ("general.alignment") = 49 type, 53 value
  poke<uint32_t>(ab, 53, 48);
  test::write_file(dir + "/b.gguf", ab.data(), ab.size());
  expect_error(archive_open(dir + "/b.gguf"), errc::bad_value, 49, "power of two");
  // unknown array element type
  gguf_write(dir + "/c.gguf", {{"k", meta_i32_array({1})}}, {});
  auto cb = test::read_file(dir + "/c.gguf");
  poke<uint32_t>(cb, 37, 77);
  test::write_file(dir + "/d.gguf", cb.data(), cb.size());
  expect_error(archive_open(dir + "/d.gguf"), errc::bad_value, 37, "array element type 77");
}

TEST_CASE("gguf error overflow: dimensions whose product does not fit") {
  fixture f;
  auto b = f.good;
  poke<uint64_t>(b, kANe0, 1ull << 40);
  poke<uint64_t>(b, kANe1, 1ull << 40);
  expect_error(f.open(b), errc::overflow, kAName, "element count");
}

TEST_CASE("gguf error duplicate: tensor names and metadata keys") {
  fixture f;
  auto b = f.good;
  b[kBName + 8] = 'a';
  expect_error(f.open(b), errc::duplicate, kBName, "duplicate tensor name 'a'");
  std::string dir = test::temp_dir("gguf_dup");
  gguf_write(dir + "/k.gguf", {{"k1", meta_u32(1)}, {"k2", meta_u32(2)}}, {});
  auto kb = test::read_file(dir + "/k.gguf");
  // second key at 24 + (8 + 2 + 4 + 4) = 42; its name byte at 51
  kb[51] = '1';
  test::write_file(dir + "/k2.gguf", kb.data(), kb.size());
  expect_error(archive_open(dir + "/k2.gguf"), errc::duplicate, 42, "duplicate metadata key 'k1'");
}

TEST_CASE("gguf error overlap and out_of_bounds: tensor data offsets") {
  fixture f;
  auto b = f.good;
  poke<uint64_t>(b, kBOffset, 0);
  expect_error(f.open(b), errc::overlap, kBOffset, "overlaps tensor");
  b = f.good;
  poke<uint64_t>(b, kBOffset, 64);  // [224, 256) past the 224-byte file
  expect_error(f.open(b), errc::out_of_bounds, kBOffset, "past the end");
  b = f.good;
  poke<uint64_t>(b, kBOffset, ~uint64_t{31});  // huge aligned offset: no wrap-around
  expect_error(f.open(b), errc::out_of_bounds, kBOffset, "past the end");
}

TEST_CASE("gguf findings: gaps between tensors and trailing bytes still parse") {
  fixture f;
  auto b = f.good;
  b.resize(b.size() + 64, 0);
  poke<uint64_t>(b, kBOffset, 64);  // a 32-byte gap after a
  auto r = f.open(b);
  REQUIRE_MESSAGE(r, r.err().to_string());
  CHECK(has_finding(r.value(), "gguf.gap"));
  CHECK(has_finding(r.value(), "gguf.trailing_bytes"));
  auto t = f.good;
  t.resize(t.size() + 100, 0);
  auto r2 = f.open(t);
  REQUIRE(r2);
  CHECK(!has_finding(r2.value(), "gguf.gap"));
  CHECK(has_finding(r2.value(), "gguf.trailing_bytes"));
}

TEST_CASE("gguf real files: stories260K v1 and v3 agree") {
  GB_DATA(v3, "models/stories260K/stories260K.gguf");
  GB_DATA(v1, "models/stories260K/tinyllamas-stories-260k-f32.ggufv1.gguf");
  auto a = archive_open(v3);
  auto b = archive_open(v1);
  REQUIRE_MESSAGE(a, a.err().to_string());
  REQUIRE_MESSAGE(b, b.err().to_string());
  CHECK(a.value().format_version == "3");
  CHECK(b.value().format_version == "1");
  CHECK(a.value().tensors.size() == 48);
  CHECK(b.value().tensors.size() == 48);
  CHECK(a.value().tensor_bytes() == b.value().tensor_bytes());
  for (const auto& t : a.value().tensors) {
    const tensor_view* o = b.value().tensor(t.name);
    REQUIRE_MESSAGE(o, t.name);
    CHECK(o->shape == t.shape);
    CHECK(std::memcmp(o->data, t.data, t.nbytes) == 0);
  }
  const tensor_view* emb = a.value().tensor("token_embd.weight");
  REQUIRE(emb);
  CHECK(emb->shape == std::vector<int64_t>{512, 64});
  REQUIRE(a.value().tokenizer);
  REQUIRE(b.value().tokenizer);
  CHECK(a.value().tokenizer->size() == 512);
  CHECK(b.value().tokenizer->size() == 512);
  CHECK(a.value().tokenizer->model == "llama");
  CHECK(a.value().meta("general.architecture")->s == "llama");
}

TEST_CASE("gguf real files: llama-2-tiny-random F16") {
  GB_DATA(p, "random-test-models/llama-2-tiny-random/llama-2-tiny-random.gguf");
  auto r = archive_open(p);
  REQUIRE_MESSAGE(r, r.err().to_string());
  CHECK(r.value().format_version == "3");
  bool any_f16 = false;
  for (const auto& t : r.value().tensors) any_f16 |= t.type == dtype::f16;
  CHECK(any_f16);
  REQUIRE(r.value().tokenizer);
  CHECK(r.value().tokenizer->size() == 32000);
}

TEST_CASE("gguf real files: every llama.cpp vocab GGUF with its vocabulary size") {
  const std::map<std::string, size_t> sizes = {
      {"llama-spm", 32000},      {"llama-bpe", 128256},    {"gpt-2", 50257},
      {"bert-bge", 30522},       {"phi-3", 32064},         {"qwen2", 151936},
      {"qwen35", 151936},        {"falcon", 65024},        {"mpt", 50432},
      {"gpt-neox", 50432},       {"starcoder", 49152},     {"refact", 49216},
      {"deepseek-coder", 32256}, {"deepseek-llm", 102400}, {"baichuan", 64000},
      {"aquila", 100008}};
  for (const auto& [name, n] : sizes) {
    CAPTURE(name);
    GB_DATA(p, "tokenizers/llama.cpp-vocab/ggml-vocab-" + name + ".gguf");
    auto r = archive_open(p);
    REQUIRE_MESSAGE(r, r.err().to_string());
    CHECK(r.value().format_version == (name == "aquila" ? "2" : "3"));
    CHECK(r.value().tensors.empty());
    REQUIRE(r.value().tokenizer);
    CHECK(r.value().tokenizer->size() == n);
    CHECK(r.value().findings.empty());
  }
}

TEST_CASE("gguf writer: every real GGUF re-writes byte for byte from what the loader read") {
  std::vector<std::string> files = {"models/stories260K/stories260K.gguf",
                                    "models/stories260K/tinyllamas-stories-260k-f32.ggufv1.gguf",
                                    "random-test-models/llama-2-tiny-random/llama-2-tiny-random.gguf",
                                    "tokenizers/llama.cpp-vocab/ggml-vocab-aquila.gguf",
                                    "tokenizers/llama.cpp-vocab/ggml-vocab-llama-bpe.gguf",
                                    "tokenizers/llama.cpp-vocab/ggml-vocab-bert-bge.gguf"};
  std::string dir = test::temp_dir("gguf_rewrite");
  for (const std::string& rel : files) {
    CAPTURE(rel);
    GB_DATA(p, rel);
    auto r = archive_open(p);
    REQUIRE_MESSAGE(r, r.err().to_string());
    const archive& a = r.value();
    std::vector<tensor_data> ts;
    for (const auto& t : a.tensors)
      ts.push_back({t.name, t.type, t.shape, std::vector<uint8_t>(t.data, t.data + t.nbytes)});
    const meta_value* al = a.meta("general.alignment");
    gguf_write(dir + "/out.gguf", a.metadata, ts, al ? static_cast<uint32_t>(*al->as_int()) : 32u,
               static_cast<uint32_t>(std::stoul(a.format_version)));
    CHECK(test::read_file(dir + "/out.gguf") == test::read_file(p));
  }
}
