// Core of formats/: the bounds-checked reader, checked arithmetic, dtype table, archive_open errors.
#include <doctest/doctest.h>

#include <cstring>

#include "formats/archive.h"
#include "formats/dtype.h"
#include "formats/reader.h"
#include "tests/support/data.h"

using namespace gb;

TEST_CASE("reader reads little-endian fields and reports truncation with the offset") {
  const uint8_t bytes[] = {1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0xff};
  reader r(bytes, sizeof bytes, "TEST", 100);
  CHECK(r.u32("a") == 1u);
  CHECK(r.u64("b") == 2u);
  CHECK(r.offset() == 112u);
  try {
    r.u32("c");
    FAIL("expected truncation");
  } catch (const failure& f) {
    CHECK(f.err().code == errc::truncated);
    CHECK(f.err().offset == 112u);
    CHECK(f.err().message.find("TEST") != std::string::npos);
    CHECK(f.err().message.find("c") != std::string::npos);
  }
  CHECK_THROWS_AS(r.seek(14, "x"), failure);
}

TEST_CASE("checked arithmetic fails on overflow") {
  CHECK(checked_mul(1u << 20, 1u << 20, "x") == (uint64_t{1} << 40));
  try {
    checked_mul(UINT64_MAX / 2, 3, "tensor bytes", 77);
    FAIL("expected overflow");
  } catch (const failure& f) {
    CHECK(f.err().code == errc::overflow);
    CHECK(f.err().offset == 77u);
  }
  CHECK_THROWS_AS(checked_add(UINT64_MAX, 1, "x"), failure);
}

TEST_CASE("dtype table: ggml ids, block geometry, names") {
  CHECK(dtype_from_ggml(0) == dtype::f32);
  CHECK(dtype_from_ggml(8) == dtype::q8_0);
  CHECK(dtype_from_ggml(12) == dtype::q4_k);
  CHECK(dtype_from_ggml(30) == dtype::bf16);
  CHECK(!dtype_from_ggml(4).has_value());  // removed Q4_2
  CHECK(!dtype_from_ggml(1000).has_value());
  CHECK(dtype_info(dtype::q6_k).type_size == 210u);
  CHECK(dtype_info(dtype::q6_k).block_size == 256u);
  CHECK(dtype_row_bytes(dtype::q8_0, 64) == 68u);
  CHECK_THROWS_AS(dtype_row_bytes(dtype::q4_0, 33), failure);
  CHECK(dtype_from_safetensors("BF16") == dtype::bf16);
  CHECK(dtype_from_name("Q4_K") == dtype::q4_k);
  CHECK(dtype_from_torch_storage("HalfStorage") == dtype::f16);
  CHECK(dtype_from_onnx(1) == dtype::f32);
}

TEST_CASE("utf8 validation") {
  CHECK(utf8_valid("hello \xe2\x96\x81 world"));
  CHECK(!utf8_valid("\xc0\xaf"));      // overlong
  CHECK(!utf8_valid("\xed\xa0\x80"));  // surrogate
  CHECK(!utf8_valid("\xe2\x96"));      // truncated
}

TEST_CASE("archive_open: path errors are one-line errors with codes") {
  auto r = archive_open("/nonexistent/glassbox/model.gguf");
  REQUIRE(!r);
  CHECK(r.err().code == errc::not_found);
  std::string dir = test::temp_dir("core_empty");
  std::string empty = dir + "/empty.gguf";
  test::write_file(empty, std::string());
  auto e = archive_open(empty);
  REQUIRE(!e);
  CHECK(e.err().code == errc::empty_file);
  CHECK(e.err().to_string().find("empty") != std::string::npos);
  std::string junk = dir + "/junk.bin";
  test::write_file(junk, std::string("\x01\x02\x03 this is not a model", 24));
  auto j = archive_open(junk);
  REQUIRE(!j);
  CHECK(j.err().code == errc::bad_magic);
}

TEST_CASE(
    "archive_open: a JSON number that overflows (1e999) is a bad_json error, not an escaping exception") {
  std::string dir = test::temp_dir("core_json_overflow");
  test::write_file(dir + "/tokenizer.json",
                   std::string("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 1e999}}}"));
  auto r = archive_open(dir + "/tokenizer.json");
  REQUIRE(!r);
  CHECK(r.err().code == errc::bad_json);
}
