// tests/attack/test_attack_corpus.cpp: the attack corpus. One case per rule of
// ../shared/docs/HARDENING.md, built in memory (tests/attack/attack_bytes.h), each with the error code or
// finding code the rule demands; every prefix of a small valid file of each format (must fail cleanly or
// be flagged, never crash or hang); resource limits (peak heap per input measured by counting operator
// new, and wall time); and the inputs found by fuzzing: tests/attack/fuzz/<target>/* (fixed) and
// tests/attack/open/<target>/* (reported, fix pending), each listed with its expected outcome in EXPECTED.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "formats/archive.h"
#include "formats/embeddings.h"
#include "formats/pickle.h"
#include "formats/tokenizer_files.h"
#include "formats/writers.h"
#include "formats/zip.h"
#include "inspect/scan.h"
#include "tests/attack/attack_bytes.h"
#include "tests/support/data.h"

// ---- heap accounting: every operator new/delete of this executable goes through these counters ----
namespace {
std::atomic<int64_t> g_live{0}, g_peak{0};
void note_alloc(size_t n) {
  int64_t now = g_live.fetch_add(static_cast<int64_t>(n)) + static_cast<int64_t>(n);
  int64_t p = g_peak.load();
  while (now > p && !g_peak.compare_exchange_weak(p, now)) {
  }
}
void* counted_alloc(size_t n) {
  void* p = std::malloc(n + 16);  // 16-byte header keeps the size and the alignment of new
  if (!p) throw std::bad_alloc();
  *static_cast<size_t*>(p) = n;
  note_alloc(n);
  return static_cast<char*>(p) + 16;
}
void counted_free(void* p) noexcept {
  if (!p) return;
  void* base = static_cast<char*>(p) - 16;
  g_live.fetch_sub(static_cast<int64_t>(*static_cast<size_t*>(base)));
  std::free(base);
}
}  // namespace

void* operator new(size_t n) {
  return counted_alloc(n);
}
void* operator new[](size_t n) {
  return counted_alloc(n);
}
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept {
  counted_free(p);
}
void operator delete[](void* p) noexcept {
  counted_free(p);
}
void operator delete(void* p, size_t) noexcept {
  counted_free(p);
}
void operator delete[](void* p, size_t) noexcept {
  counted_free(p);
}

namespace {

using gb::errc;
using gb::attack::bytes;
namespace fs = std::filesystem;
using namespace std::string_literals;

// Heap growth (peak minus the live bytes at the start) and wall time of f().
struct cost {
  int64_t peak_bytes = 0;
  double seconds = 0;
};
template <class F>
cost measure(F&& f) {
  const int64_t base = g_live.load();
  g_peak.store(base);
  auto t0 = std::chrono::steady_clock::now();
  f();
  cost c;
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  c.peak_bytes = g_peak.load() - base;
  return c;
}

std::string dir() {
  static const std::string d = gb::test::temp_dir("attack");
  return d;
}
std::string put(const std::string& name, const bytes& b) {
  const std::string p = dir() + "/" + name;
  fs::create_directories(fs::path(p).parent_path());
  gb::test::write_file(p, b.data(), b.size());
  return p;
}
std::string put(const std::string& name, const std::string& s) {
  return put(name, bytes(s.begin(), s.end()));
}

bool has_finding(const std::vector<gb::finding>& fs, const std::string& code) {
  for (const auto& f : fs)
    if (f.code == code) return true;
  return false;
}
std::string codes(const std::vector<gb::finding>& fs) {
  std::string s;
  for (const auto& f : fs) s += f.code + " ";
  return s;
}

// Opens `name` holding `b` and expects the error `code`.
void expect_error(const std::string& name, const bytes& b, errc code) {
  auto r = gb::archive_open(put(name, b));
  INFO(name);
  REQUIRE_MESSAGE(!r.ok(), "opened cleanly, expected " << gb::errc_name(code) << "; findings: "
                                                       << (r.ok() ? codes(r.value().findings) : ""));
  CHECK_MESSAGE(r.err().code == code, r.err().to_string());
}
// Opens `name` holding `b` and expects it to open with finding `code`.
void expect_finding(const std::string& name, const bytes& b, const std::string& code) {
  auto r = gb::archive_open(put(name, b));
  INFO(name);
  REQUIRE_MESSAGE(r.ok(), r.err().to_string());
  CHECK_MESSAGE(has_finding(r.value().findings, code), "findings: " << codes(r.value().findings));
}

// ---- small valid files of each format (the truncation and polyglot cases start from these) ----
std::vector<uint8_t> f32s(size_t n) {
  std::vector<uint8_t> b(n * 4);
  for (size_t i = 0; i < n; ++i) {
    float f = 0.25f * static_cast<float>(i);
    std::memcpy(&b[i * 4], &f, 4);
  }
  return b;
}
bytes slurp(const std::string& p) {
  return gb::test::read_file(p);
}

bytes valid_gguf() {
  const std::string p = dir() + "/valid.gguf";
  gb::gguf_write(p,
                 {{"general.architecture", gb::meta_str("llama")},
                  {"tokenizer.ggml.model", gb::meta_str("llama")},
                  {"tokenizer.ggml.tokens", gb::meta_str_array({"<unk>", "a", "b"})}},
                 {{"token_embd.weight", gb::dtype::f32, {3, 4}, f32s(12)},
                  {"output_norm.weight", gb::dtype::f32, {4}, f32s(4)}});
  return slurp(p);
}
bytes valid_safetensors() {
  const std::string p = dir() + "/valid.safetensors";
  gb::safetensors_write(p, {{"a", gb::dtype::f32, {2, 2}, f32s(4)}, {"b", gb::dtype::f32, {3}, f32s(3)}},
                        {{"format", "pt"}});
  return slurp(p);
}
std::string state_dict_pickle() {  // {'w': tensor(FloatStorage '0', (2,))}
  return "\x80\x02}(" + gb::attack::binunicode("w") + "ctorch._utils\n_rebuild_tensor_v2\n((" +
         gb::attack::binunicode("storage") + "ctorch\nFloatStorage\n" + gb::attack::binunicode("0") +
         gb::attack::binunicode("cpu") +
         "K\x02tQK\x00K\x02\x85K\x01\x85\x89"
         "ccollections\nOrderedDict\n)RtRu."s;
}
bytes torch_zip(const std::string& extra_name = "", const bytes& extra = {}) {
  bytes out;
  gb::zip::writer w([&](const uint8_t* p, size_t n) { out.insert(out.end(), p, p + n); });
  const std::string pkl = state_dict_pickle();
  w.add("archive/data.pkl", reinterpret_cast<const uint8_t*>(pkl.data()), pkl.size());
  bytes st = f32s(2);
  w.add("archive/data/0", st.data(), st.size(), false, 64);
  w.add("archive/version", reinterpret_cast<const uint8_t*>("3\n"), 2);
  if (!extra_name.empty()) w.add(extra_name, extra.data(), extra.size(), true);
  w.finish();
  return out;
}
bytes valid_npy() {
  std::string h = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  while ((10 + h.size() + 1) % 64) h += ' ';
  h += '\n';
  bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<uint8_t>(h.size()), 0};
  gb::attack::app(b, h);
  gb::attack::app(b, f32s(4));
  return b;
}
bytes valid_llama2c() {  // legacy header, dim 4, hidden 8, 1 layer, 2 heads, vocab 4, seq 2
  bytes b;
  for (uint32_t v : {4u, 8u, 1u, 2u, 2u, 4u, 2u}) gb::attack::le(b, v, 4);
  const size_t n = 4 * 4 + 4 + 4 * 16 + 4 + 3 * 32 + 4 + 2 * 2;
  gb::attack::app(b, f32s(n));
  return b;
}
bytes valid_llama2c_tokenizer() {
  bytes b;
  gb::attack::le(b, 5, 4);  // max_token_length
  for (const char* p : {"<unk>", "ab", "c"}) {
    gb::attack::app(b, f32s(1));
    gb::attack::le(b, std::strlen(p), 4);
    gb::attack::app(b, std::string_view(p));
  }
  return b;
}
bytes valid_onnx() {
  bytes w;
  gb::attack::pb_int(w, 1, 2);
  gb::attack::pb_int(w, 2, 1);
  gb::attack::pb_str(w, 8, "W");
  gb::attack::pb_len(w, 9, f32s(2));
  bytes node;
  gb::attack::pb_str(node, 1, "W");
  gb::attack::pb_str(node, 2, "y");
  gb::attack::pb_str(node, 4, "Identity");
  bytes g;
  gb::attack::pb_len(g, 1, node);
  gb::attack::pb_str(g, 2, "g");
  gb::attack::pb_len(g, 5, w);
  bytes m;
  gb::attack::pb_int(m, 1, 8);
  gb::attack::pb_len(m, 7, g);
  bytes op;
  gb::attack::pb_int(op, 2, 17);
  gb::attack::pb_len(m, 8, op);
  return m;
}
std::string valid_tokenizer_json() {
  return R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}, "added_tokens": []})";
}

// =====================================================================================================
TEST_CASE("safetensors: every header and offset rule") {
  using gb::attack::safetensors;
  // header size over the 100,000,000-byte cap (file is tiny: rejected before anything is allocated)
  expect_error("st/huge_header.safetensors", safetensors("{}", 0, 100'000'001), errc::limit);
  // header size past the end of the file
  expect_error("st/header_past_eof.safetensors", safetensors("{}", 0, 5000), errc::truncated);
  // overlapping tensors
  expect_error(
      "st/overlap.safetensors",
      safetensors(
          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
          12),
      errc::overlap);
  // a hole between tensors (room for a hidden payload)
  expect_error(
      "st/hole.safetensors",
      safetensors(
          R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
          12),
      errc::hole);
  // bytes after the last tensor (polyglot tail)
  expect_error("st/tail.safetensors",
               safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4 + 22), errc::hole);
  // an offset outside the file
  expect_error("st/out_of_file.safetensors",
               safetensors(R"({"a":{"dtype":"F32","shape":[1024],"data_offsets":[0,4096]}})", 4),
               errc::out_of_bounds);
  // end < begin
  expect_error("st/reversed.safetensors",
               safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8), errc::bad_value);
  // element count x dtype size != end - begin
  expect_error("st/size_mismatch.safetensors",
               safetensors(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), errc::mismatch);
  // a shape whose element count overflows 64 bits
  expect_error(
      "st/shape_overflow.safetensors",
      safetensors(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}})", 4),
      errc::overflow);
  // duplicate keys (two readers of one file would see different models)
  expect_error(
      "st/duplicate.safetensors",
      safetensors(
          R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
          4),
      errc::duplicate);
  // __metadata__ must map strings to strings
  expect_error(
      "st/metadata_value.safetensors",
      safetensors(R"({"__metadata__":{"format":1},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4),
      errc::bad_json);
  // invalid UTF-8 in the header
  expect_error("st/utf8.safetensors",
               safetensors("{\"\xff\xfe\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
               errc::bad_utf8);
  // unknown dtype
  expect_error("st/dtype.safetensors",
               safetensors(R"({"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})", 4), errc::bad_value);
  // deep nesting in the header
  expect_error("st/deep.safetensors",
               safetensors("{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}", 0),
               errc::limit);
}

TEST_CASE("safetensors: shard index names and coverage") {
  const std::string d = dir() + "/shards";
  fs::create_directories(d);
  const std::string ok_shard = d + "/model-00001-of-00001.safetensors";
  gb::safetensors_write(ok_shard, {{"a", gb::dtype::f32, {1}, f32s(1)}});
  auto index = [&](const std::string& body) {
    gb::test::write_file(d + "/model.safetensors.index.json", body);
    return gb::archive_open(d + "/model.safetensors.index.json");
  };
  auto r = index(R"({"weight_map": {"a": "../model-00001-of-00001.safetensors"}})");
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::path_escape);
  r = index(R"({"weight_map": {"a": "/etc/passwd"}})");
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::path_escape);
  r = index(
      R"({"weight_map": {"a": "model-00001-of-00001.safetensors", "b": "model-00001-of-00001.safetensors"}})");
  REQUIRE(!r.ok());  // b is in the map but not in the shard
  CHECK(r.err().code == errc::mismatch);
  gb::safetensors_write(d + "/model-00002-of-00002.safetensors",
                        {{"c", gb::dtype::f32, {1}, f32s(1)}, {"d", gb::dtype::f32, {1}, f32s(1)}});
  r = index(R"({"weight_map": {"c": "model-00002-of-00002.safetensors"}})");
  REQUIRE(!r.ok());  // d is in the shard but missing from the map
  CHECK(r.err().code == errc::mismatch);
}

// The shards an index names are checked against what the folder holds (HARDENING: sharded sets).
TEST_CASE("safetensors: shard index against the shards present") {
  const std::string d = dir() + "/shards_present";
  fs::create_directories(d);
  gb::safetensors_write(d + "/model-00001-of-00003.safetensors", {{"a", gb::dtype::f32, {1}, f32s(1)}});
  gb::safetensors_write(d + "/model-00002-of-00003.safetensors", {{"b", gb::dtype::f32, {2}, f32s(2)}});
  auto index = [&](const std::string& body) {
    gb::test::write_file(d + "/model.safetensors.index.json", body);
    return gb::archive_open(d + "/model.safetensors.index.json");
  };
  auto find = [](const gb::archive& a, const std::string& code) -> const gb::finding* {
    for (const auto& f : a.findings)
      if (f.code == code) return &f;
    return nullptr;
  };
  // an empty weight_map maps nothing: an error, not an empty model
  auto r = index(R"({"metadata": {}, "weight_map": {}})");
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::mismatch);
  CHECK(r.err().offset == 17u);  // the "weight_map" key
  // a partial map: shard 2 is present but unnamed, so its tensor 'b' is invisible to the map's readers
  r = index(R"({"weight_map": {"a": "model-00001-of-00003.safetensors"}})");
  REQUIRE_MESSAGE(r.ok(), r.err().to_string());
  CHECK(r.value().tensors.size() == 1u);  // the model is what the map names
  const gb::finding* f = find(r.value(), "safetensors.shard_unlisted");
  REQUIRE_MESSAGE(f, "findings: " << codes(r.value().findings));
  CHECK(f->level == gb::severity::medium);
  CHECK(f->message.find("model-00002-of-00003.safetensors") != std::string::npos);
  CHECK(f->message.find("1 tensor(s), e.g. 'b'") != std::string::npos);
  // the map names 1 (or 2) of the 3 shards its names announce
  f = find(r.value(), "safetensors.shard_count");
  REQUIRE(f);
  CHECK(f->message.find("1 shard(s) of the 3") != std::string::npos);
  gb::safetensors_write(d + "/model-00003-of-00003.safetensors", {{"c", gb::dtype::f32, {1}, f32s(1)}});
  r = index(
      R"({"weight_map": {"a": "model-00001-of-00003.safetensors", "b": "model-00002-of-00003.safetensors",
                               "c": "model-00003-of-00003.safetensors"}})");
  REQUIRE(r.ok());
  CHECK(!find(r.value(), "safetensors.shard_unlisted"));
  CHECK(!find(r.value(), "safetensors.shard_count"));
  CHECK(r.value().tensors.size() == 3u);
  // a file outside the set's naming (a consolidated copy, an adapter) is reported at low severity, and a
  // broken header in it is named rather than fatal
  gb::test::write_file(d + "/extra.safetensors", std::string("\x05\0\0\0\0\0\0\0[1,2]", 13));
  r = index(
      R"({"weight_map": {"a": "model-00001-of-00003.safetensors", "b": "model-00002-of-00003.safetensors",
                               "c": "model-00003-of-00003.safetensors"}})");
  REQUIRE(r.ok());
  f = find(r.value(), "safetensors.shard_unlisted");
  REQUIRE(f);
  CHECK(f->level == gb::severity::low);
  CHECK(f->message.find("header does not parse") != std::string::npos);
  // a map entry naming a shard that is not there stays an error
  fs::remove(d + "/extra.safetensors");
  fs::remove(d + "/model-00003-of-00003.safetensors");
  r = index(
      R"({"weight_map": {"a": "model-00001-of-00003.safetensors", "c": "model-00003-of-00003.safetensors"}})");
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::not_found);
}

TEST_CASE("scan: deep JSON is capped before parsing (no heap blow-up)") {
  // 8 MB of '[' used to cost ~420 MB of heap in the JSON DOM parser
  const std::string p = put("scan/deep.json", std::string(8u << 20, '['));
  gb::scan_file sf;
  const cost c = measure([&] { sf = gb::scan_one(p); });
  CHECK(has_finding(sf.findings, "json.too_deep"));
  CHECK(sf.status == gb::scan_status::partial);
  CHECK(c.peak_bytes < (1 << 20));
  for (const auto& f : sf.findings)
    if (f.code == "json.too_deep") CHECK(f.offset == 64u);
  // within the cap it parses and is examined
  const std::string ok = put("scan/ok.json", std::string(60, '[') + std::string(60, ']'));
  sf = gb::scan_one(ok);
  CHECK(!has_finding(sf.findings, "json.too_deep"));
  CHECK(sf.status == gb::scan_status::full);
}

TEST_CASE("GGUF: counts, strings, arrays, dims, types, alignment and offsets") {
  using gb::attack::gguf;
  {  // 2^60 tensors claimed in a 64-byte file
    gguf g;
    g.n_tensors_override = uint64_t{1} << 60;
    expect_error("gguf/tensors_2e60.gguf", g.file(), errc::limit);
  }
  {  // 2^60 metadata keys
    gguf g;
    g.n_kv_override = uint64_t{1} << 60;
    expect_error("gguf/kv_2e60.gguf", g.file(), errc::limit);
  }
  {  // a string length of 2^62
    gguf g;
    bytes v;
    gb::attack::le(v, uint64_t{1} << 62, 8);
    g.kv_raw("general.name", 8, v);
    expect_error("gguf/string_len.gguf", g.file(), errc::limit);
  }
  {  // an array of 2^61 uint32
    gguf g;
    bytes v;
    gb::attack::le(v, 4, 4);
    gb::attack::le(v, uint64_t{1} << 61, 8);
    g.kv_raw("a", 9, v);
    expect_error("gguf/array_len.gguf", g.file(), errc::limit);
  }
  {  // an array element type that does not exist
    gguf g;
    bytes v;
    gb::attack::le(v, 77, 4);
    gb::attack::le(v, 1, 8);
    g.kv_raw("a", 9, v);
    expect_error("gguf/array_type.gguf", g.file(), errc::bad_value);
  }
  {  // arrays nested 1000 deep
    gguf g;
    bytes v;
    for (int i = 0; i < 1000; ++i) {
      gb::attack::le(v, 9, 4);
      gb::attack::le(v, 1, 8);
    }
    g.kv_raw("a", 9, v);
    expect_error("gguf/nested_arrays.gguf", g.file(), errc::limit);
  }
  {  // unknown value type
    gguf g;
    g.kv_raw("a", 13, bytes(8, 0));
    expect_error("gguf/value_type.gguf", g.file(), errc::bad_value);
  }
  {  // duplicate key
    gguf g;
    g.kv_u32("a", 1);
    g.kv_u32("a", 2);
    expect_error("gguf/dup_key.gguf", g.file(), errc::duplicate);
  }
  {  // n_dims 5
    gguf g;
    g.tensor("t", {1, 1, 1, 1, 1}, 0, 0);
    expect_error("gguf/ndims5.gguf", g.file(32), errc::bad_value);
  }
  {  // a zero dimension
    gguf g;
    g.tensor("t", {4, 0}, 0, 0);
    expect_error("gguf/dim0.gguf", g.file(32), errc::bad_value);
  }
  {  // dimensions whose product overflows int64
    gguf g;
    g.tensor("t", {uint64_t{1} << 32, uint64_t{1} << 32, 4}, 0, 0);
    expect_error("gguf/dims_overflow.gguf", g.file(32), errc::overflow);
  }
  {  // an unknown ggml type
    gguf g;
    g.tensor("t", {4}, 99, 0);
    expect_error("gguf/type.gguf", g.file(32), errc::bad_value);
  }
  {  // q8_0 with a first dimension that is not a multiple of its block size (32)
    gguf g;
    g.tensor("t", {33}, 8, 0);
    expect_error("gguf/block.gguf", g.file(64), errc::bad_value);
  }
  {  // general.alignment not a power of two
    gguf g;
    g.kv_u32("general.alignment", 48);
    g.tensor("t", {4}, 0, 0);
    expect_error("gguf/alignment.gguf", g.file(16), errc::bad_value);
  }
  {  // a tensor offset that is not aligned
    gguf g;
    g.tensor("t", {4}, 0, 4);
    expect_error("gguf/unaligned.gguf", g.file(32), errc::bad_value);
  }
  {  // a tensor outside the file
    gguf g;
    g.tensor("t", {4}, 0, uint64_t{1} << 40);
    expect_error("gguf/out_of_file.gguf", g.file(32), errc::out_of_bounds);
  }
  {  // two tensors over the same bytes
    gguf g;
    g.tensor("a", {8}, 0, 0);
    g.tensor("b", {8}, 0, 0);
    expect_error("gguf/overlap.gguf", g.file(32), errc::overlap);
  }
  {  // duplicate tensor name
    gguf g;
    g.tensor("a", {8}, 0, 0);
    g.tensor("a", {8}, 0, 32);
    expect_error("gguf/dup_tensor.gguf", g.file(64), errc::duplicate);
  }
  {  // version 4 and a byte-swapped (big-endian) version
    gguf g4(4);
    expect_error("gguf/v4.gguf", g4.file(), errc::unsupported);
    bytes be = gguf(3).file();
    be[4] = 0, be[7] = 3;
    expect_error("gguf/big_endian.gguf", be, errc::unsupported);
  }
  {  // a gap between tensors and trailing bytes are findings
    gguf g;
    g.tensor("a", {8}, 0, 0);
    g.tensor("b", {8}, 0, 64);
    expect_finding("gguf/gap.gguf", g.file(96), "gguf.gap");
    gguf t;
    t.tensor("a", {8}, 0, 0);
    expect_finding("gguf/trailing.gguf", t.file(32 + 100), "gguf.trailing_bytes");
  }
}

TEST_CASE("GGUF: chat templates are audited as text, never rendered") {
  gb::attack::gguf g;
  g.kv_str("tokenizer.chat_template",
           "{{ ''.__class__.__mro__[1].__subclasses__()[40]('/etc/passwd').read() }}{% for m in messages "
           "%}{{ m }}{% endfor %}");
  const std::string p = put("gguf/ssti.gguf", g.file());
  gb::scan_file sf = gb::scan_one(p);
  CHECK_MESSAGE(has_finding(sf.findings, "template.injection"), codes(sf.findings));
}

TEST_CASE("polyglots and renamed files") {
  {  // a GGUF with a zip appended
    bytes b = valid_gguf();
    gb::attack::app(b, torch_zip());
    auto r = gb::archive_open(put("poly/gguf_zip.gguf", b));
    REQUIRE(r.ok());
    CHECK_MESSAGE(has_finding(r.value().findings, "gguf.trailing_bytes"), codes(r.value().findings));
  }
  {  // a zip behind a pickle: torch.load would open it as a zip, the pickle reader sees a pickle
    std::string pkl = "\x80\x02}q\x00."s;
    bytes b(pkl.begin(), pkl.end());
    gb::attack::app(b, torch_zip());
    gb::scan_file sf = gb::scan_one(put("poly/pickle_zip.pkl", b));
    CHECK_MESSAGE(has_finding(sf.findings, "file.polyglot"), codes(sf.findings));
  }
  {  // PNG bytes named .pt: never opened as a checkpoint, never reported clean
    bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    png.resize(64, 0);
    auto r = gb::archive_open(put("poly/image.pt", png));
    REQUIRE(!r.ok());
    CHECK(r.err().code == errc::bad_magic);
  }
  {  // a safetensors file named .gguf: opens by its bytes, with the mismatch as a finding
    expect_finding("poly/renamed.gguf", valid_safetensors(), "file.extension_mismatch");
  }
}

TEST_CASE("pickle: dangerous globals, hostile lengths, deep nesting") {
  {  // os.system via REDUCE
    std::string p =
        "\x80\x02"
        "cos\nsystem\n" +
        gb::attack::binunicode("id") + "\x85R."s;
    auto r = gb::archive_open(put("pkl/os_system.pkl", bytes(p.begin(), p.end())));
    REQUIRE(r.ok());
    CHECK_MESSAGE(has_finding(r.value().findings, "pickle.global.dangerous"), codes(r.value().findings));
  }
  {  // STACK_GLOBAL with module and name from the memo
    std::string p =
        "\x80\x04\x8c\x08"
        "builtins\x94\x8c\x04"
        "eval\x94h\x00h\x01\x93\x8c\x03"
        "1+1\x85R."s;
    auto r = gb::pickle::read(reinterpret_cast<const uint8_t*>(p.data()), p.size());
    REQUIRE(r.globals.size() == 1);
    CHECK(r.globals[0].qualified() == "builtins.eval");
    CHECK(r.globals[0].level == gb::pickle::safety::dangerous);
  }
  {  // LONG4 claiming 2^31 - 1 bytes in a 20-byte file: malformed, nothing that size allocated
    std::string p =
        "\x80\x02\x8b\xff\xff\xff\x7f"
        "abc."s;
    cost c = measure([&] {
      auto r = gb::pickle::read(reinterpret_cast<const uint8_t*>(p.data()), p.size());
      CHECK(!r.complete);
      CHECK(has_finding(r.findings, "pickle.malformed"));
    });
    CHECK(c.peak_bytes < (1 << 20));
  }
  {  // BINUNICODE8 claiming 2^62 bytes
    std::string p =
        "\x80\x04\x8d\x00\x00\x00\x00\x00\x00\x00\x40"
        "x."s;
    auto r = gb::pickle::read(reinterpret_cast<const uint8_t*>(p.data()), p.size());
    CHECK(!r.complete);
  }
  {  // 1,000,000 nested MARKs: no depth cap (CPython has none): read to the end, no recursion, memory bounded
    std::string p = "\x80\x02" + std::string(1'000'000, '(') + "cos\nsystem\n.";
    cost c = measure([&] {
      auto r = gb::pickle::read(reinterpret_cast<const uint8_t*>(p.data()), p.size());
      CHECK(r.complete);
      CHECK(r.ops == 1'000'003);
      REQUIRE(r.globals.size() == 1);
      CHECK(r.globals[0].level == gb::pickle::safety::dangerous);
    });
    CHECK(c.peak_bytes <= 64 * static_cast<int64_t>(p.size()) + (16 << 20));
  }
  {  // 200,000 APPENDs of empty lists
    std::string p = "\x80\x02]q\x00"s;
    for (int i = 0; i < 200000; ++i) p += "]a";
    p += ".";
    auto r = gb::pickle::read(reinterpret_cast<const uint8_t*>(p.data()), p.size());
    CHECK(r.complete);
    CHECK(!gb::pickle::display(r, r.roots.at(0)).empty());
  }
}

TEST_CASE("zip: escapes, bombs, header mismatches, encryption") {
  {  // an entry named ../evil
    bytes z = torch_zip("../../evil.sh", bytes(16, 'x'));
    gb::zip::listing l = gb::zip::open(z.data(), z.size());
    CHECK_MESSAGE(has_finding(l.findings, "zip.path_escape"), codes(l.findings));
  }
  {  // a zip bomb: 64 MiB of zeros deflated to ~64 KiB (ratio ~1000)
    bytes zeros(64u << 20, 0);
    bytes z = torch_zip("archive/bomb", zeros);
    zeros = bytes();
    gb::zip::listing l = gb::zip::open(z.data(), z.size());
    CHECK_MESSAGE(has_finding(l.findings, "zip.high_ratio"), codes(l.findings));
    const gb::zip::entry* e = l.find("archive/bomb");
    REQUIRE(e);
    cost c = measure([&] { CHECK(!gb::zip::read(l, *e).ok); });
    CHECK(c.peak_bytes < (8 << 20));  // refused, not inflated
  }
  {  // a declared uncompressed size of 2^40 for 16 stored bytes: central directory vs local header
    bytes z = torch_zip();
    // patch the central directory's uncompressed size of the first entry (offset 24 in the record)
    size_t cd = 0;
    for (size_t i = z.size() - 22; i-- > 0;)
      if (z[i] == 'P' && z[i + 1] == 'K' && z[i + 2] == 1 && z[i + 3] == 2) cd = i;
    REQUIRE(cd > 0);
    z[cd + 24] = 0xff, z[cd + 25] = 0xff, z[cd + 26] = 0xff, z[cd + 27] = 0x7f;
    gb::zip::listing l = gb::zip::open(z.data(), z.size());
    CHECK_MESSAGE((has_finding(l.findings, "zip.header_mismatch") ||
                   has_finding(l.findings, "zip.descriptor_mismatch")),
                  codes(l.findings));
  }
  {  // the encryption flag set on an entry
    bytes z = torch_zip();
    for (size_t i = 0; i + 4 < z.size(); ++i)
      if (z[i] == 'P' && z[i + 1] == 'K' && z[i + 2] == 1 && z[i + 3] == 2) z[i + 8] |= 1;
    for (size_t i = 0; i + 4 < z.size(); ++i)
      if (z[i] == 'P' && z[i + 1] == 'K' && z[i + 2] == 3 && z[i + 3] == 4) z[i + 6] |= 1;
    gb::zip::listing l = gb::zip::open(z.data(), z.size());
    CHECK_MESSAGE(
        (has_finding(l.findings, "zip.encrypted") || has_finding(l.findings, "zip.encryption_flag_decoy")),
        codes(l.findings));
  }
  {  // an end-of-central-directory record claiming 65535 entries at an offset past the file
    bytes z = {'P',  'K',  5, 6, 0, 0,    0,    0,    0xff, 0xff, 0xff,
               0xff, 0x10, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0,    0};
    bool failed = false;
    try {
      (void)gb::zip::open(z.data(), z.size());
    } catch (const gb::failure& f) {
      failed = true;
      CHECK((f.err().code == errc::bad_zip || f.err().code == errc::out_of_bounds ||
             f.err().code == errc::limit));
    }
    CHECK(failed);
  }
}

TEST_CASE("ONNX: external data confined to the model folder") {
  const std::string d = dir() + "/onnx";
  fs::create_directories(d + "/m");
  gb::test::write_file(d + "/secret.bin", f32s(4).data(), 16);
  gb::test::write_file(d + "/m/w.bin", f32s(4).data(), 16);
  auto open = [&](const bytes& model) {
    gb::test::write_file(d + "/m/model.onnx", model.data(), model.size());
    return gb::archive_open(d + "/m/model.onnx");
  };
  auto r = open(gb::attack::onnx_external("../secret.bin", 4));
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::path_escape);
  r = open(gb::attack::onnx_external(d + "/secret.bin", 4));
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::path_escape);
  fs::remove(d + "/m/link.bin");
  fs::create_symlink(d + "/secret.bin", d + "/m/link.bin");
  r = open(gb::attack::onnx_external("link.bin", 4));
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::path_escape);
  r = open(gb::attack::onnx_external("w.bin", 4, 8, 16));  // offset + length past the 16-byte file
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::out_of_bounds);
  r = open(gb::attack::onnx_external("w.bin", 4, 0, 16));  // the same, inside: opens
  CHECK_MESSAGE(r.ok(), r.err().to_string());
  {  // subgraphs nested past the recursion limit
    bytes g;
    gb::attack::pb_str(g, 2, "leaf");
    for (int i = 0; i < 200; ++i) {
      bytes attr;
      gb::attack::pb_str(attr, 1, "then_branch");
      gb::attack::pb_len(attr, 6, g);
      bytes node;
      gb::attack::pb_str(node, 4, "If");
      gb::attack::pb_len(node, 5, attr);
      bytes outer;
      gb::attack::pb_len(outer, 1, node);
      g = outer;
    }
    bytes m;
    gb::attack::pb_int(m, 1, 8);
    gb::attack::pb_len(m, 7, g);
    r = open(m);
    REQUIRE(!r.ok());
    CHECK((r.err().code == errc::bad_protobuf || r.err().code == errc::limit));
  }
}

TEST_CASE("numpy, llama2.c, tokenizers, embeddings: hostile numbers") {
  {  // npy shape whose product overflows
    std::string h = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }";
    while ((10 + h.size() + 1) % 64) h += ' ';
    h += '\n';
    bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<uint8_t>(h.size()), 0};
    gb::attack::app(b, h);
    expect_error("np/overflow.npy", b, errc::overflow);
  }
  {  // llama2.c header with a dimension of 2^31 - 1
    bytes b;
    for (uint32_t v : {0x7fffffffu, 8u, 1u, 2u, 2u, 4u, 2u}) gb::attack::le(b, v, 4);
    b.resize(256, 0);
    bytes m;
    gb::attack::le(m, 0x616b3432, 4);
    gb::attack::le(m, 1, 4);
    gb::attack::app(m, bytes(b.begin(), b.begin() + 28));
    m.resize(512, 0);
    auto r = gb::archive_open(put("l2c/huge_dim.bin", m));
    REQUIRE(!r.ok());
    CHECK(r.err().code == errc::bad_value);
  }
  {  // tokenizer.json nested 100,000 deep
    std::string t = "{\"model\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
    bool failed = false;
    try {
      (void)gb::vocab_from_tokenizer_json(t);
    } catch (const gb::failure& f) {
      failed = true;
      CHECK(f.err().code == errc::limit);
    }
    CHECK(failed);
  }
  {  // embeddings: a GloVe row of 100,001 values (the cap is 100,000)
    std::string t = "x";
    for (int i = 0; i < 100001; ++i) t += " 1";
    t += "\n";
    auto r = gb::embeddings_parse(reinterpret_cast<const uint8_t*>(t.data()), t.size(), "e.txt");
    REQUIRE(!r.ok());
    CHECK_MESSAGE(r.err().code == errc::limit, r.err().to_string());
  }
  {  // word2vec text header claiming 200,000 dimensions: rejected before anything is allocated
    std::string t = "1 200000\nx 1\n";
    cost c = measure([&] {
      auto r = gb::embeddings_parse(reinterpret_cast<const uint8_t*>(t.data()), t.size(), "e.txt");
      CHECK(!r.ok());
    });
    CHECK(c.peak_bytes < (1 << 20));
  }
  {  // word2vec binary: a header claiming more words than the file holds
    std::string t = "1000000000 300\nx ";
    auto r = gb::embeddings_parse(reinterpret_cast<const uint8_t*>(t.data()), t.size(), "e.bin");
    REQUIRE(!r.ok());
  }
}

// Every prefix of a small valid file: an error or a finding, never a crash, hang or clean open. Prefixes
// that keep every tensor's bytes and drop only trailing alignment padding are valid files and may open
// clean; so may up to `allowed_clean` others (formats where a cut between records is a shorter valid file).
void every_prefix(const std::string& name, const bytes& full, size_t allowed_clean = 0) {
  const std::string p = dir() + "/prefix/" + name;
  fs::create_directories(fs::path(p).parent_path());
  uint64_t data_end = full.size();
  {
    gb::test::write_file(p, full.data(), full.size());
    auto r = gb::archive_open(p);
    INFO(name << " (full file)");
    REQUIRE_MESSAGE(r.ok(), r.err().to_string());
    if (!r.value().tensors.empty()) {
      data_end = 0;
      for (const auto& t : r.value().tensors) data_end = std::max(data_end, t.file_offset + t.nbytes);
    }
  }
  size_t clean = 0;
  std::string clean_at;
  auto t0 = std::chrono::steady_clock::now();
  for (size_t n = 1; n < full.size(); ++n) {
    gb::test::write_file(p, full.data(), n);
    auto r = gb::archive_open(p);
    if (r.ok() && r.value().findings.empty() && n < data_end) {
      ++clean;
      if (clean_at.size() < 80) clean_at += std::to_string(n) + " ";
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE(name << ": " << full.size() - 1 << " prefixes in " << s << " s; clean opens at: " << clean_at);
  CHECK(clean <= allowed_clean);
}

TEST_CASE("truncated files: every prefix of a valid file of each format") {
  every_prefix("t.gguf", valid_gguf());
  every_prefix("t.safetensors", valid_safetensors());
  every_prefix("t.pt", torch_zip());
  every_prefix("t.npy", valid_npy());
  every_prefix("stories.bin", valid_llama2c());
  every_prefix("tok.bin", valid_llama2c_tokenizer(), 2);  // ends at a token boundary: shorter vocabularies
  every_prefix("t.onnx", valid_onnx(), 2);                // protobuf: a message cut between fields is valid
  const std::string sd = state_dict_pickle();
  every_prefix("t.pkl", bytes(sd.begin(), sd.end()));
  const std::string tj = valid_tokenizer_json();
  fs::create_directories(dir() + "/tokjson");
  every_prefix("tokjson/tokenizer.json", bytes(tj.begin(), tj.end()));
}

TEST_CASE("resource limits: heap stays within a small multiple of the file size") {
  struct item {
    std::string name;
    bytes b;
  };
  std::vector<item> items;
  {
    gb::attack::gguf g;
    g.n_tensors_override = uint64_t{1} << 60;
    items.push_back({"res/tensors_2e60.gguf", g.file()});
  }
  {
    gb::attack::gguf g;
    bytes v;
    gb::attack::le(v, 8, 4);  // array of strings
    gb::attack::le(v, 1'000'000, 8);
    for (int i = 0; i < 1'000'000; ++i) gb::attack::le(v, 0, 8);  // a million empty strings (8 MB)
    g.kv_raw("tokenizer.ggml.tokens", 9, v);
    items.push_back({"res/million_strings.gguf", g.file()});
  }
  items.push_back(
      {"res/brackets.safetensors", gb::attack::safetensors("{\"a\":" + std::string(20'000'000, '['), 0)});
  {
    std::string p =
        "\x80\x02\x8b\xff\xff\xff\x7f"
        "abc."s;
    items.push_back({"res/long4.pkl", bytes(p.begin(), p.end())});
  }
  {
    std::string p = "\x80\x02" + std::string(4'000'000, ']') + ".";  // four million empty lists
    items.push_back({"res/lists.pkl", bytes(p.begin(), p.end())});
  }
  {
    std::string t = "{\"model\": {\"type\": \"BPE\", \"vocab\": " + std::string(4'000'000, '[') + "}}";
    fs::create_directories(dir() + "/res/tj");
    items.push_back({"res/tj/tokenizer.json", bytes(t.begin(), t.end())});
  }
  for (const item& it : items) {
    const std::string p = put(it.name, it.b);
    cost c = measure([&] { (void)gb::archive_open(p); });
    const double ratio = static_cast<double>(c.peak_bytes) / static_cast<double>(it.b.size());
    MESSAGE(it.name << ": " << it.b.size() << " bytes, peak heap " << c.peak_bytes << " (" << ratio << "x), "
                    << c.seconds << " s");
    CHECK(c.peak_bytes <= 64 * static_cast<int64_t>(it.b.size()) + (16 << 20));
  }
  {  // glassbox scan reads JSON files too (chat templates): 8 MB of '['
    const std::string p = put("res/deep.json", std::string(8'000'000, '['));
    cost c = measure([&] { (void)gb::scan_one(p); });
    MESSAGE("scan of 8 MB of '[': peak heap " << c.peak_bytes << ", " << c.seconds << " s");
    CHECK(c.peak_bytes <= 64 * 8'000'000 + (16 << 20));
  }
}

// Inputs found by fuzzing, each opened through gb::archive_open under the file name its fuzz target
// uses (so sniffing routes it to the same loader). `<root>/EXPECTED` lists "<target>/<file> <outcome>",
// the outcome an error code (errc_name), a finding code, or "ok".
void check_regressions(const std::string& which) {
  const fs::path root = fs::path(GB_SOURCE_DIR) / "tests" / "attack" / which;
  std::ifstream list(root / "EXPECTED");
  std::string line;
  int n = 0;
  while (std::getline(list, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string rel, want;
    ls >> rel >> want;
    INFO(rel << " expects " << want);
    const fs::path src = root / rel;
    REQUIRE(fs::exists(src));
    const std::string target = rel.substr(0, rel.find('/'));
    static const std::map<std::string, std::string> names = {{"gguf", "model.gguf"},
                                                             {"safetensors", "model.safetensors"},
                                                             {"onnx", "model.onnx"},
                                                             {"pickle", "model.pkl"},
                                                             {"zip", "model.pt"},
                                                             {"numpy", "model.npy"},
                                                             {"llama2c", "model.bin"},
                                                             {"llama2c_tokenizer", "tokenizer.bin"},
                                                             {"tokenizer_json", "tokenizer.json"},
                                                             {"sentencepiece", "tokenizer.model"},
                                                             {"hf_config", "config.json"}};
    auto it = names.find(target);
    REQUIRE(it != names.end());
    const std::string p =
        put("regress/" + which + std::to_string(n++) + "/" + it->second, slurp(src.string()));
    auto r = gb::archive_open(p);
    if (want == "ok") {
      CHECK_MESSAGE(r.ok(), r.err().to_string());
    } else if (!r.ok()) {
      CHECK_MESSAGE(want == gb::errc_name(r.err().code), r.err().to_string());
    } else {
      CHECK_MESSAGE(has_finding(r.value().findings, want), codes(r.value().findings));
    }
  }
  MESSAGE(n << " inputs from " << root.string());
}

// Fixed: tests/attack/fuzz/<target>/* (tools/fuzz.sh also replays these through the fuzz targets).
TEST_CASE("fuzzing regressions give their expected outcome") {
  check_regressions("fuzz");
}

// Reported to the owner of the file at fault and not fixed yet: tests/attack/open/<target>/* with the
// outcome the rule demands. may_fail keeps CI green meanwhile; the fix moves the line to fuzz/EXPECTED.
TEST_CASE("open fuzzing findings (reported, fix pending)" * doctest::may_fail()) {
  check_regressions("open");
}

}  // namespace
