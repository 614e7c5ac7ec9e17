// Packed metadata arrays (formats/archive.h meta_array), the shared JSON depth check
// (formats/json_meta.h) and archive_load_as (formats/open.cpp).
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "formats/archive.h"
#include "formats/json_meta.h"
#include "formats/writers.h"
#include "tests/support/data.h"

using namespace gb;

namespace {

std::string le_bytes(const void* p, size_t n) {
  return std::string(static_cast<const char*>(p), n);
}

template <class F>
errc error_code_of(F&& f, uint64_t* offset = nullptr) {
  try {
    f();
  } catch (const failure& e) {
    if (offset) *offset = e.err().offset;
    return e.err().code;
  }
  FAIL("expected a failure");
  return errc::bad_value;
}

}  // namespace

TEST_CASE("packed string array: elements, views, references stay valid") {
  const std::vector<std::string> words = {"alpha", "", "\xe2\x96\x81gamma", "delta delta"};
  std::string blob;
  std::vector<uint64_t> ends;
  for (const auto& w : words) blob += w, ends.push_back(blob.size());
  meta_array a = meta_array::packed_strings(8, blob, ends);
  REQUIRE(a.packed());
  REQUIRE(a.size() == words.size());
  for (size_t i = 0; i < words.size(); ++i) {
    CHECK(a.str(i) == words[i]);
    CHECK(a[i].k == meta_value::kind::string);
    CHECK(a[i].s == words[i]);
    CHECK(a[i].gguf_type == 8);
    CHECK(a.get(i).s == words[i]);
    CHECK(!a.number(i));
  }
  // references handed out by [] survive later accesses of other elements
  const meta_value& first = a.front();
  for (size_t i = 0; i < words.size(); ++i) (void)a[i];
  CHECK(&first == &a[0]);
  CHECK(first.s == "alpha");
  CHECK(a.back().s == "delta delta");
  // iteration, and out-of-range access is a null value, not a crash
  size_t n = 0;
  for (const meta_value& e : a) CHECK(e.s == words[n++]);
  CHECK(n == words.size());
  CHECK(a[99].k == meta_value::kind::null);
  CHECK(a.str(99).empty());
  // copies share the packed data and read the same
  meta_array b = a;
  CHECK(b.packed());
  CHECK(b.str(2) == words[2]);
  // building on a packed array unpacks it first, keeping the elements
  b.push_back(meta_value{});
  CHECK(!b.packed());
  CHECK(b.size() == words.size() + 1);
  CHECK(b[3].s == "delta delta");
  CHECK(a.size() == words.size());  // the original is unchanged
}

TEST_CASE("packed number arrays decode every width and kind like the scalar GGUF reader") {
  const int8_t i8[] = {-128, 0, 127};
  meta_array a =
      meta_array::packed_numbers(static_cast<uint8_t>(meta_value::kind::integer), 1, 1, le_bytes(i8, 3));
  CHECK(a[0].i == -128);
  CHECK(a[2].i == 127);
  CHECK(a.integer(0) == -128);
  const uint16_t u16[] = {65535, 7};
  a = meta_array::packed_numbers(static_cast<uint8_t>(meta_value::kind::uinteger), 2, 2, le_bytes(u16, 4));
  CHECK(a[0].u == 65535u);
  CHECK(a.number(1) == 7.0);
  const int64_t i64[] = {-(int64_t{1} << 40), 5};
  a = meta_array::packed_numbers(static_cast<uint8_t>(meta_value::kind::integer), 11, 8, le_bytes(i64, 16));
  CHECK(a[0].i == -(int64_t{1} << 40));
  const float f32[] = {0.5f, -2.25f};
  a = meta_array::packed_numbers(static_cast<uint8_t>(meta_value::kind::floating), 6, 4, le_bytes(f32, 8));
  CHECK(a[1].f == -2.25);
  CHECK(a.number(0) == 0.5);
  CHECK(!a.integer(0));  // 0.5 is not integral, as meta_value::as_int says
  CHECK(a.str(0).empty());
  const double f64[] = {0.1};
  a = meta_array::packed_numbers(static_cast<uint8_t>(meta_value::kind::floating), 12, 8, le_bytes(f64, 8));
  CHECK(a[0].f == 0.1);
  const uint8_t bools[] = {0, 1, 2};
  a = meta_array::packed_numbers(static_cast<uint8_t>(meta_value::kind::boolean), 7, 1, le_bytes(bools, 3));
  CHECK(!a[0].b);
  CHECK(a[1].b);
  CHECK(a[2].b);
}

TEST_CASE("meta_array error bad_value: inconsistent packed input") {
  CHECK(error_code_of([] {
          meta_array::packed_numbers(static_cast<uint8_t>(meta_value::kind::floating), 6, 2,
                                     std::string(4, '\0'));
        }) == errc::bad_value);
  CHECK(error_code_of([] {
          meta_array::packed_numbers(static_cast<uint8_t>(meta_value::kind::integer), 5, 4,
                                     std::string(6, '\0'));
        }) == errc::bad_value);
  CHECK(error_code_of([] {
          meta_array::packed_numbers(static_cast<uint8_t>(meta_value::kind::string), 8, 1,
                                     std::string(1, 'a'));
        }) == errc::bad_value);
  CHECK(error_code_of([] { meta_array::packed_strings(8, "abc", {2, 1}); }) == errc::bad_value);
  CHECK(error_code_of([] { meta_array::packed_strings(8, "abc", {4}); }) == errc::bad_value);
}

TEST_CASE("packed elements materialised from several threads are built once") {
  std::vector<std::string> words;
  for (int i = 0; i < 2000; ++i) words.push_back("w" + std::to_string(i));
  meta_value v = meta_str_array(words);
  REQUIRE(v.arr.packed());
  std::vector<const meta_value*> seen_a(words.size()), seen_b(words.size());
  std::thread ta([&] {
    for (size_t i = 0; i < words.size(); ++i) seen_a[i] = &v.arr[i];
  });
  std::thread tb([&] {
    for (size_t i = words.size(); i-- > 0;) seen_b[i] = &v.arr[i];
  });
  ta.join();
  tb.join();
  for (size_t i = 0; i < words.size(); ++i) {
    CHECK(seen_a[i] == seen_b[i]);
    CHECK(seen_a[i]->s == words[i]);
  }
}

TEST_CASE("GGUF arrays load packed and re-write byte for byte") {
  const std::string dir = test::temp_dir("meta_array_gguf");
  std::vector<std::string> toks;
  std::vector<float> scores;
  std::vector<int32_t> types;
  for (int i = 0; i < 300; ++i) {
    toks.push_back(i % 7 == 0 ? std::string() : "tok" + std::to_string(i));
    scores.push_back(-0.25f * static_cast<float>(i));
    types.push_back(i % 6);
  }
  std::vector<std::pair<std::string, meta_value>> md = {{"tokenizer.ggml.model", meta_str("gpt2")},
                                                        {"tokenizer.ggml.tokens", meta_str_array(toks)},
                                                        {"tokenizer.ggml.scores", meta_f32_array(scores)},
                                                        {"tokenizer.ggml.token_type", meta_i32_array(types)}};
  gguf_write(dir + "/a.gguf", md, {});
  auto r = archive_open(dir + "/a.gguf");
  REQUIRE(r);
  const archive& a = r.value();
  const meta_value* t = a.meta("tokenizer.ggml.tokens");
  REQUIRE(t);
  CHECK(t->arr.packed());
  CHECK(t->gguf_elem_type == 8);
  REQUIRE(t->arr.size() == toks.size());
  for (size_t i = 0; i < toks.size(); ++i) CHECK(t->arr.str(i) == toks[i]);
  const meta_value* s = a.meta("tokenizer.ggml.scores");
  REQUIRE(s);
  CHECK(s->arr.packed());
  CHECK(s->arr[299].f == static_cast<double>(scores[299]));
  REQUIRE(a.tokenizer);
  CHECK(a.tokenizer->tokens == toks);
  CHECK(a.tokenizer->scores == scores);
  CHECK(a.tokenizer->token_types == types);
  // writing the loaded metadata back gives the same bytes
  gguf_write(dir + "/b.gguf", a.metadata, {});
  CHECK(test::read_file(dir + "/a.gguf") == test::read_file(dir + "/b.gguf"));
}

TEST_CASE("json_depth_exceeded: offsets, strings and escapes") {
  CHECK(!json_depth_exceeded("[[[]]]", 3));
  CHECK(json_depth_exceeded("[[[[]]]]", 3) == 3u);
  CHECK(json_depth_exceeded(R"({"a":{"b":[1]}})", 2) == 10u);
  // brackets inside strings (and after escaped quotes) do not count
  CHECK(!json_depth_exceeded(R"(["[[[[", "\"[[[["])", 1));
  CHECK(json_depth_exceeded(R"(["\\", [[]]])", 2) == 8u);  // the escaped backslash does not escape the quote
  // closing brackets bring the depth back down
  CHECK(!json_depth_exceeded("[[]][[]][[]]", 2));
  CHECK(!json_depth_exceeded(std::string(64, '[') + std::string(64, ']')));
  CHECK(json_depth_exceeded(std::string(65, '[')) == 64u);
}

TEST_CASE("json error limit: nesting deeper than the cap names its byte offset") {
  const std::string deep = "{\"k\":" + std::string(100, '[') + std::string(100, ']') + "}";
  uint64_t off = 0;
  CHECK(error_code_of([&] { json_check_depth(deep, 1000, "test"); }, &off) == errc::limit);
  CHECK(off == 1000u + 5 + 63);  // "{\"k\":" is 5 bytes; the '{' is level 1, so the 64th '[' is level 65
  CHECK(error_code_of([&] { meta_from_json_text(deep, 8, "test"); }, &off) == errc::limit);
  CHECK(off == 8u + 5 + 63);
  // 8 MB of '[' fails fast, before any parser builds anything
  const std::string huge(8u << 20, '[');
  CHECK(error_code_of([&] { meta_from_json_text(huge, 0, "test"); }, &off) == errc::limit);
  CHECK(off == 64u);
}

TEST_CASE("archive_load_as runs the loader archive_open picks, and fails on formats without one") {
  const std::string dir = test::temp_dir("load_as");
  gguf_write(dir + "/m.gguf", {{"general.architecture", meta_str("llama")}}, {});
  auto opened = archive_open(dir + "/m.gguf");
  REQUIRE(opened);
  archive a;
  archive_load_as(a, mapped_file::open(dir + "/m.gguf"), file_format::gguf, {});
  CHECK(a.format == file_format::gguf);
  CHECK(a.format_version == opened.value().format_version);
  REQUIRE(a.meta("general.architecture"));
  CHECK(a.meta("general.architecture")->s == "llama");
  CHECK(a.files.size() == 1u);
  archive b;
  CHECK(error_code_of([&] {
          archive_load_as(b, mapped_file::open(dir + "/m.gguf"), file_format::sevenzip, {});
        }) == errc::unsupported);
  CHECK(error_code_of([&] {
          archive_load_as(b, mapped_file::open(dir + "/m.gguf"), file_format::unknown, {});
        }) == errc::bad_magic);
  // a loader that fails keeps what it read before the failure in the archive
  std::vector<uint8_t> bytes = test::read_file(dir + "/m.gguf");
  bytes.resize(30);  // 6 bytes after the 24-byte header: the key count cannot fit
  test::write_file(dir + "/cut.gguf", bytes.data(), bytes.size());
  archive c;
  CHECK(error_code_of([&] {
          archive_load_as(c, mapped_file::open(dir + "/cut.gguf"), file_format::gguf, {});
        }) == errc::limit);
  CHECK(c.format == file_format::gguf);
  CHECK(c.files.size() == 1u);
}
