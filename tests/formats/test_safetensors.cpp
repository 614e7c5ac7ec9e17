// safetensors loader and writer: round trips, one test per error code with the bytes built in memory,
// sharded sets through model.safetensors.index.json, and the real HF stories260K file.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "formats/archive.h"
#include "formats/loaders.h"
#include "formats/writers.h"
#include "tests/support/data.h"

using namespace gb;

namespace {

// 8-byte little-endian header size, the header text, then the byte buffer.
std::vector<uint8_t> st_bytes(const std::string& header, size_t buffer_len,
                              uint64_t size_field = UINT64_MAX) {
  uint64_t n = size_field == UINT64_MAX ? header.size() : size_field;
  std::vector<uint8_t> b(8 + header.size() + buffer_len);
  std::memcpy(b.data(), &n, 8);
  std::memcpy(b.data() + 8, header.data(), header.size());
  for (size_t i = 0; i < buffer_len; ++i) b[8 + header.size() + i] = static_cast<uint8_t>(i);
  return b;
}

struct dir_fixture {
  std::string dir;
  explicit dir_fixture(const std::string& name) : dir(test::temp_dir(name)) {}
  result<archive> open(const std::vector<uint8_t>& b, const std::string& name = "m.safetensors") const {
    std::string p = dir + "/" + name;
    test::write_file(p, b.data(), b.size());
    return archive_open(p);
  }
};

void expect_error(const result<archive>& r, errc code, uint64_t offset, const char* needle) {
  REQUIRE_MESSAGE(!r, "expected an error");
  CHECK_MESSAGE(r.err().code == code, r.err().to_string());
  CHECK_MESSAGE(r.err().offset == offset, r.err().to_string());
  CHECK_MESSAGE(r.err().message.find(needle) != std::string::npos, r.err().to_string());
}

const std::string kA = R"("a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]})";
const std::string kB = R"("b":{"dtype":"F16","shape":[4],"data_offsets":[16,24]})";

bool has_finding(const archive& a, const std::string& code) {
  for (const auto& f : a.findings)
    if (f.code == code) return true;
  return false;
}

}  // namespace

TEST_CASE("safetensors: hand-built file with spaces padding parses") {
  dir_fixture f("st_ok");
  const std::string header = "{" + kA + "," + kB + R"(,"__metadata__":{"format":"pt"}})" + "    ";
  auto r = f.open(st_bytes(header, 24));
  REQUIRE_MESSAGE(r, r.err().to_string());
  const archive& a = r.value();
  CHECK(a.format == file_format::safetensors);
  CHECK(a.format_version == "1");
  REQUIRE(a.tensors.size() == 2);
  const size_t hdr = 8 + header.size();
  CHECK(a.tensors[0].name == "a");
  CHECK(a.tensors[0].type == dtype::f32);
  CHECK(a.tensors[0].shape == std::vector<int64_t>{2, 2});
  CHECK(a.tensors[0].file_offset == hdr);
  CHECK(a.tensors[1].file_offset == hdr + 16);
  CHECK(a.tensors[1].nbytes == 8);
  CHECK(a.tensors[1].data[0] == 16);  // buffer byte i holds i
  REQUIRE(a.meta("format"));
  CHECK(a.meta("format")->s == "pt");
  REQUIRE(a.files.size() == 1);
  CHECK(a.files[0].role == "weights");
}

TEST_CASE("safetensors: writer round trip, deterministic and 8-aligned") {
  std::string dir = test::temp_dir("st_rt");
  std::vector<uint8_t> f32(4 * 6), bf(2 * 3), i64(8 * 2), u8(5);
  for (size_t i = 0; i < f32.size(); ++i) f32[i] = static_cast<uint8_t>(i * 3);
  std::vector<tensor_data> ts = {{"w.\"quoted\"", dtype::f32, {2, 3}, f32},
                                 {"b", dtype::bf16, {3}, bf},
                                 {"ids", dtype::i64, {2}, i64},
                                 {"scalar_bytes", dtype::u8, {5}, u8},
                                 {"empty", dtype::f32, {0, 4}, {}}};
  safetensors_write(dir + "/a.safetensors", ts, {{"format", "pt"}, {"note", "line\nbreak"}});
  safetensors_write(dir + "/b.safetensors", ts, {{"format", "pt"}, {"note", "line\nbreak"}});
  auto bytes = test::read_file(dir + "/a.safetensors");
  CHECK(bytes == test::read_file(dir + "/b.safetensors"));
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);
  auto r = archive_open(dir + "/a.safetensors");
  REQUIRE_MESSAGE(r, r.err().to_string());
  const archive& a = r.value();
  REQUIRE(a.tensors.size() == ts.size());
  for (size_t i = 0; i < ts.size(); ++i) {
    CHECK(a.tensors[i].name == ts[i].name);
    CHECK(a.tensors[i].type == ts[i].type);
    CHECK(a.tensors[i].shape == ts[i].shape);
    CHECK(a.tensors[i].nbytes == ts[i].bytes.size());
    if (!ts[i].bytes.empty())
      CHECK(std::memcmp(a.tensors[i].data, ts[i].bytes.data(), ts[i].bytes.size()) == 0);
  }
  CHECK(a.meta("note")->s == "line\nbreak");
  CHECK_THROWS_AS(
      safetensors_write(dir + "/c.safetensors", {{"x", dtype::q8_0, {32}, std::vector<uint8_t>(34)}}),
      failure);  // no safetensors name for ggml block types
  CHECK_THROWS_AS(
      safetensors_write(dir + "/c.safetensors", {{"x", dtype::f32, {2}, std::vector<uint8_t>(4)}}),
      failure);  // bytes do not match the shape
}

TEST_CASE("writers error io: the output folder does not exist") {
  for (int gguf = 0; gguf < 2; ++gguf) {
    try {
      if (gguf)
        gguf_write("/nonexistent-glassbox-dir/m.gguf", {}, {});
      else
        safetensors_write("/nonexistent-glassbox-dir/m.safetensors", {});
      FAIL("expected io");
    } catch (const failure& e) {
      CHECK(e.err().code == errc::io);
      CHECK(e.err().message.find("/nonexistent-glassbox-dir/") != std::string::npos);
    }
  }
}

TEST_CASE("safetensors error truncated: shorter than the size field, header past EOF") {
  dir_fixture f("st_trunc");
  std::vector<uint8_t> tiny = {1, 0, 0};
  archive a;
  test::write_file(f.dir + "/t.safetensors", tiny.data(), tiny.size());
  try {
    loaders::load_safetensors(a, mapped_file::open(f.dir + "/t.safetensors"), {});
    FAIL("expected truncated");
  } catch (const failure& e) {
    CHECK(e.err().code == errc::truncated);
    CHECK(e.err().message.find("header size") != std::string::npos);
  }
  auto b = st_bytes("{" + kA + "}", 16);
  b.resize(30);  // the header claims more bytes than remain
  test::write_file(f.dir + "/u.safetensors", b.data(), b.size());
  archive a2;
  try {
    loaders::load_safetensors(a2, mapped_file::open(f.dir + "/u.safetensors"), {});
    FAIL("expected truncated");
  } catch (const failure& e) {
    CHECK(e.err().code == errc::truncated);
    CHECK(e.err().offset == 0u);
  }
}

TEST_CASE("safetensors error limit: header size cap and JSON nesting depth") {
  dir_fixture f("st_limit");
  auto b = st_bytes("{}", 0, 100'000'001);
  test::write_file(f.dir + "/l.safetensors", b.data(), b.size());
  archive a;
  try {
    loaders::load_safetensors(a, mapped_file::open(f.dir + "/l.safetensors"), {});
    FAIL("expected limit");
  } catch (const failure& e) {
    CHECK(e.err().code == errc::limit);
    CHECK(e.err().message.find("100,000,000") != std::string::npos);
  }
  std::string deep = "{\"__metadata__\":" + std::string(100, '[') + std::string(100, ']') + "}";
  auto r = f.open(st_bytes(deep, 0));
  REQUIRE(!r);
  CHECK(r.err().code == errc::limit);
  CHECK(r.err().message.find("nesting") != std::string::npos);
}

TEST_CASE("safetensors error bad_json: not '{', syntax, wrong shapes, non-string __metadata__") {
  dir_fixture f("st_json");
  // archive_open sniffs safetensors by the '{' itself, so call the loader directly
  auto nb = st_bytes("[" + kA + "]", 16);
  test::write_file(f.dir + "/n.safetensors", nb.data(), nb.size());
  archive na;
  try {
    loaders::load_safetensors(na, mapped_file::open(f.dir + "/n.safetensors"), {});
    FAIL("expected bad_json");
  } catch (const failure& e) {
    CHECK(e.err().code == errc::bad_json);
    CHECK(e.err().offset == 8u);
    CHECK(e.err().message.find("does not start with '{'") != std::string::npos);
  }
  // syntax error at header position 5 (the '}' after the colon)
  expect_error(f.open(st_bytes(R"({"a":})", 0)), errc::bad_json, 8 + 5, "invalid JSON");
  std::string h = R"({"__metadata__":{"format":"pt","n":3}})";
  expect_error(f.open(st_bytes(h, 0)), errc::bad_json, 8 + h.find("\"n\""), "not a string");
  std::string h2 = R"({"a":{"shape":[4],"data_offsets":[0,16]}})";
  expect_error(f.open(st_bytes(h2, 16)), errc::bad_json, 8 + 1, "dtype");
  std::string h3 = R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0]}})";
  expect_error(f.open(st_bytes(h3, 16)), errc::bad_json, 8 + 1, "data_offsets");
  std::string h4 = R"({"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})";
  expect_error(f.open(st_bytes(h4, 16)), errc::bad_json, 8 + 1, "non-negative");
}

TEST_CASE("safetensors error bad_utf8: invalid bytes in the header") {
  dir_fixture f("st_utf8");
  std::string h = "{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
  expect_error(f.open(st_bytes(h, 16)), errc::bad_utf8, 8 + 3, "UTF-8");
}

TEST_CASE("safetensors error duplicate: the same key twice") {
  dir_fixture f("st_dup");
  std::string h = "{" + kA + "," + R"("a":{"dtype":"F32","shape":[4],"data_offsets":[16,32]})" + "}";
  expect_error(f.open(st_bytes(h, 32)), errc::duplicate, 8 + 1 + kA.size() + 1, "duplicate JSON key 'a'");
}

TEST_CASE("safetensors error bad_value: unknown dtype, end before begin") {
  dir_fixture f("st_val");
  std::string h = R"({"a":{"dtype":"F33","shape":[4],"data_offsets":[0,16]}})";
  expect_error(f.open(st_bytes(h, 16)), errc::bad_value, 8 + 1, "unknown dtype 'F33'");
  std::string h2 = R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[16,0]}})";
  expect_error(f.open(st_bytes(h2, 16)), errc::bad_value, 8 + 1, "< begin");
}

TEST_CASE("safetensors error mismatch: shape x dtype differs from the offsets span") {
  dir_fixture f("st_mis");
  std::string h = R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})";
  expect_error(f.open(st_bytes(h, 16)), errc::mismatch, 8 + 1, "needs 12");
}

TEST_CASE("safetensors error overflow: shape product does not fit") {
  dir_fixture f("st_ovf");
  std::string h = R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,16]}})";
  auto r = f.open(st_bytes(h, 16));
  REQUIRE(!r);
  CHECK(r.err().code == errc::overflow);
  CHECK(r.err().offset == 8 + 1u);
}

TEST_CASE("safetensors error out_of_bounds, overlap, hole, trailing bytes") {
  dir_fixture f("st_layout");
  std::string h = "{" + kA + "," + kB + "}";
  const uint64_t base = 8 + h.size();
  // buffer shorter than b's end
  expect_error(f.open(st_bytes(h, 20)), errc::out_of_bounds, base + 16, "past the end");
  // overlap: b starts inside a
  std::string ho = "{" + kA + R"(,"b":{"dtype":"F16","shape":[4],"data_offsets":[8,16]}})";
  expect_error(f.open(st_bytes(ho, 16)), errc::overlap, 8 + ho.size() + 8, "overlaps tensor 'a'");
  // hole: b starts 8 bytes after a ends
  std::string hh = "{" + kA + R"(,"b":{"dtype":"F16","shape":[4],"data_offsets":[24,32]}})";
  expect_error(f.open(st_bytes(hh, 32)), errc::hole, 8 + hh.size() + 16, "hole of 8 bytes before tensor 'b'");
  // hole at the start
  std::string hs = R"({"b":{"dtype":"F16","shape":[4],"data_offsets":[8,16]}})";
  expect_error(f.open(st_bytes(hs, 16)), errc::hole, 8 + hs.size(), "hole");
  // trailing bytes after the last tensor
  expect_error(f.open(st_bytes(h, 30)), errc::hole, base + 24, "6 trailing bytes");
}

TEST_CASE("safetensors sharded: index, shards, roles, and every index error") {
  std::string dir = test::temp_dir("st_shard");
  std::vector<uint8_t> four(16, 1), eight(32, 2);
  auto write_set = [&](const std::string& index_json) {
    safetensors_write(dir + "/model-00001-of-00002.safetensors",
                      {{"x", dtype::f32, {4}, four}, {"y", dtype::f32, {8}, eight}});
    safetensors_write(dir + "/model-00002-of-00002.safetensors", {{"z", dtype::f32, {4}, four}});
    test::write_file(dir + "/model.safetensors.index.json", index_json);
    return archive_open(dir + "/model.safetensors.index.json");
  };
  const std::string s1 = "model-00001-of-00002.safetensors", s2 = "model-00002-of-00002.safetensors";
  auto r = write_set(R"({"metadata":{"total_size":64},"weight_map":{"x":")" + s1 + R"(","y":")" + s1 +
                     R"(","z":")" + s2 + R"("}})");
  REQUIRE_MESSAGE(r, r.err().to_string());
  const archive& a = r.value();
  CHECK(a.format == file_format::safetensors);
  REQUIRE(a.tensors.size() == 3);
  REQUIRE(a.files.size() == 3);
  CHECK(a.files[0].role == "weights");
  CHECK(a.files[1].role == "weights");
  CHECK(a.files[2].role == "index");
  CHECK(a.tensor("z")->file_index == 1u);
  CHECK(a.tensor_bytes() == 64u);
  CHECK(a.findings.empty());

  SUBCASE("total_size disagreeing is a finding") {
    auto r2 = write_set(R"({"metadata":{"total_size":999},"weight_map":{"x":")" + s1 + R"(","y":")" + s1 +
                        R"(","z":")" + s2 + R"("}})");
    REQUIRE(r2);
    CHECK(has_finding(r2.value(), "safetensors.total_size_mismatch"));
  }
  SUBCASE("not_found: a listed shard is missing") {
    std::string idx = R"({"weight_map":{"x":"missing.safetensors"}})";
    auto r2 = write_set(idx);
    REQUIRE(!r2);
    CHECK(r2.err().code == errc::not_found);
    CHECK(r2.err().offset == idx.find("\"missing"));
    CHECK(r2.err().message.find("missing.safetensors") != std::string::npos);
  }
  SUBCASE("path_escape: shard names leaving the folder") {
    for (std::string bad :
         {"../model-00001-of-00002.safetensors", "/etc/passwd", "sub/x.safetensors", ".."}) {
      auto r2 = write_set(R"({"weight_map":{"x":")" + bad + R"("}})");
      REQUIRE(!r2);
      CHECK(r2.err().code == errc::path_escape);
      CHECK(r2.err().offset == 15u);  // the key "x" after {"weight_map":{
    }
  }
  SUBCASE("mismatch: tensor of a shard missing from the map, map entry in the wrong shard") {
    auto r2 = write_set(R"({"weight_map":{"x":")" + s1 + R"(","z":")" + s2 + R"("}})");
    REQUIRE(!r2);
    CHECK(r2.err().code == errc::mismatch);
    CHECK(r2.err().message.find("'y'") != std::string::npos);
    std::string idx = R"({"weight_map":{"x":")" + s1 + R"(","y":")" + s1 + R"(","z":")" + s1 + R"("}})";
    auto r3 = write_set(idx);
    REQUIRE(!r3);
    CHECK(r3.err().code == errc::mismatch);
    CHECK(r3.err().offset == idx.find("\"z\""));
  }
  SUBCASE("duplicate: the same tensor in two shards") {
    safetensors_write(dir + "/model-00002-of-00002.safetensors", {{"x", dtype::f32, {4}, four}});
    test::write_file(dir + "/model.safetensors.index.json",
                     R"({"weight_map":{"x":")" + s1 + R"(","y":")" + s1 + R"(","z":")" + s2 + R"("}})");
    safetensors_write(dir + "/model-00001-of-00002.safetensors",
                      {{"x", dtype::f32, {4}, four}, {"y", dtype::f32, {8}, eight}});
    auto r2 = archive_open(dir + "/model.safetensors.index.json");
    REQUIRE(!r2);
    CHECK(r2.err().code == errc::duplicate);
    CHECK(r2.err().message.find("'x'") != std::string::npos);
  }
  SUBCASE("empty_file: an empty shard") {
    test::write_file(dir + "/empty.safetensors", std::string());
    test::write_file(dir + "/model.safetensors.index.json",
                     std::string(R"({"weight_map":{"x":"empty.safetensors"}})"));
    auto r2 = archive_open(dir + "/model.safetensors.index.json");
    REQUIRE(!r2);
    CHECK(r2.err().code == errc::empty_file);
    CHECK(r2.err().where.find("empty.safetensors") != std::string::npos);
  }
  SUBCASE("errors inside a shard name the shard") {
    test::write_file(dir + "/broken.safetensors", std::string("\x02\0\0\0\0\0\0\0[]", 10));
    test::write_file(dir + "/model.safetensors.index.json",
                     std::string(R"({"weight_map":{"x":"broken.safetensors"}})"));
    auto r2 = archive_open(dir + "/model.safetensors.index.json");
    REQUIRE(!r2);
    CHECK(r2.err().code == errc::bad_json);
    CHECK(r2.err().where.find("broken.safetensors") != std::string::npos);
  }
}

TEST_CASE("safetensors real file: stories260K HF export") {
  GB_DATA(p, "models/stories260K/hf/model.safetensors");
  auto r = archive_open(p);
  REQUIRE_MESSAGE(r, r.err().to_string());
  const archive& a = r.value();
  CHECK(a.tensors.size() == 47);  // 5 layers x 9 + embeddings + final norm; tied output
  const tensor_view* e = a.tensor("model.embed_tokens.weight");
  REQUIRE(e);
  CHECK(e->type == dtype::f32);
  CHECK(e->shape == std::vector<int64_t>{512, 64});
  CHECK(a.findings.empty());
  // every byte after the header is covered by exactly one tensor (the loader enforces it; check the sum)
  uint64_t n;
  std::memcpy(&n, a.files[0].map->data(), 8);
  CHECK(a.tensor_bytes() == a.files[0].size() - 8 - n);
}

TEST_CASE("safetensors_write_streamed: tensor by tensor, the same bytes as safetensors_write") {
  std::vector<tensor_data> ts = {{"a", dtype::f32, {2, 3}, std::vector<uint8_t>(24, 7)},
                                 {"b", dtype::f16, {5}, std::vector<uint8_t>(10, 9)},
                                 {"c", dtype::bf16, {}, {1, 2}}};
  const std::string dir = test::temp_dir("st_streamed");
  safetensors_write(dir + "/whole.safetensors", ts, {{"format", "pt"}});
  std::vector<tensor_data> heads = ts;
  for (tensor_data& t : heads) t.bytes.clear();
  std::vector<size_t> asked;
  safetensors_write_streamed(dir + "/streamed.safetensors", heads, {{"format", "pt"}},
                             [&](size_t i, std::vector<uint8_t>& b) {
                               asked.push_back(i);
                               b = ts[i].bytes;
                             });
  CHECK(asked == std::vector<size_t>{0, 1, 2});
  CHECK(test::read_file(dir + "/streamed.safetensors") == test::read_file(dir + "/whole.safetensors"));
  // bytes that do not fit the head: one error naming the tensor
  try {
    safetensors_write_streamed(dir + "/bad.safetensors", heads, {},
                               [&](size_t i, std::vector<uint8_t>& b) { b.assign(i == 1 ? 3 : 24, 0); });
    FAIL("no error");
  } catch (const failure& e) {
    CHECK(e.err().code == errc::mismatch);
    CHECK(e.err().message.find("tensor 'b'") != std::string::npos);
  }
}
