// formats/datasets: the shapes (bounded file, lines, CSV rows) and every error code the dataset readers
// raise (not_found, limit, bad_value, bad_json for WEAT test files), each from bytes written here; malformed
// rows are skipped with their line numbers.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "formats/datasets.h"
#include "formats/error.h"
#include "tests/support/data.h"

using namespace gb;

namespace {

// The error a call throws (FAIL when it throws none).
template <class F>
error error_of(F&& f) {
  try {
    f();
  } catch (const failure& e) {
    return e.err();
  }
  FAIL("no error");
  return {};
}

const char* kStereoLine =
    "{\"type\": \"intrasentence\", \"target\": \"x\", \"bias_type\": \"race\", \"stereotype\": \"a\", "
    "\"anti-stereotype\": \"b\", \"unrelated\": \"c\"}";

}  // namespace

TEST_CASE("text_lines_each: numbers, offsets, CRLF kept, no empty line after the last newline") {
  std::vector<std::string> lines;
  std::vector<size_t> nums;
  std::vector<uint64_t> offs;
  text_lines_each("ab\r\n\ncd\nlast", [&](std::string_view l, size_t n, uint64_t o) {
    lines.emplace_back(l), nums.push_back(n), offs.push_back(o);
  });
  CHECK(lines == std::vector<std::string>{"ab\r", "", "cd", "last"});
  CHECK(nums == std::vector<size_t>{1, 2, 3, 4});
  CHECK(offs == std::vector<uint64_t>{0, 4, 5, 8});
  size_t calls = 0;
  text_lines_each("one\n", [&](std::string_view, size_t, uint64_t) { ++calls; });
  CHECK(calls == 1u);
  text_lines_each("", [&](std::string_view, size_t, uint64_t) { ++calls; });
  CHECK(calls == 1u);
}

TEST_CASE("csv_rows: quotes, doubled quotes, newlines in fields, CRLF, the line and offset of each row") {
  const std::vector<csv_row> rows = csv_rows("a,b\r\n\"x, \"\"y\"\"\",\"two\nlines\"\n\nz,\"open");
  REQUIRE(rows.size() == 3u);
  CHECK(rows[0].fields == std::vector<std::string>{"a", "b"});
  CHECK(rows[1].fields == std::vector<std::string>{"x, \"y\"", "two\nlines"});
  CHECK(rows[1].line == 2u);
  CHECK(rows[1].offset == 5u);
  CHECK(rows[1].ok);
  CHECK(rows[2].line == 5u);  // the quoted newline counted, the empty line 4 is no row
  CHECK(!rows[2].ok);         // unterminated quote
}

TEST_CASE("dataset readers: not_found names the file or folder and what to pass") {
  const std::string dir = test::temp_dir("datasets_not_found");
  error e = error_of([&] { crows_pairs_read(dir + "/missing.csv"); });
  CHECK(e.code == errc::not_found);
  CHECK(e.message.find("missing.csv") != std::string::npos);
  e = error_of([&] { winobias_read(dir); });
  CHECK(e.code == errc::not_found);
  CHECK(e.message.find("pass the folder") != std::string::npos);
  e = error_of([&] { bbq_read(dir); });  // a folder without .jsonl files
  CHECK(e.code == errc::not_found);
  e = error_of([&] { holistic_read(dir); });
  CHECK(e.code == errc::not_found);
  e = error_of([&] { stereoset_read(dir + "/dev.json"); });
  CHECK(e.code == errc::not_found);
}

TEST_CASE("dataset readers: a file over the size cap is a limit error before it is read") {
  const std::string dir = test::temp_dir("datasets_limit");
  const std::string big = dir + "/big.csv";
  test::write_file(big, "sent_more,sent_less\n");
  std::filesystem::resize_file(big, kDatasetMaxBytes + 1);  // sparse: no gigabyte written
  error e = error_of([&] { crows_pairs_read(big); });
  CHECK(e.code == errc::limit);
  CHECK(e.message.find("cap of a dataset file") != std::string::npos);
  e = error_of([&] { (void)dataset_text(big, "prompts file"); });
  CHECK(e.code == errc::limit);
  std::filesystem::remove(big);
}

TEST_CASE("dataset readers: a file that is not the dataset is bad_value, naming what it needs") {
  const std::string dir = test::temp_dir("datasets_bad_value");
  test::write_file(dir + "/empty.csv", "");
  error e = error_of([&] { crows_pairs_read(dir + "/empty.csv"); });
  CHECK(e.code == errc::bad_value);
  test::write_file(dir + "/other.csv", "a,b,c\n1,2,3\n");
  e = error_of([&] { crows_pairs_read(dir + "/other.csv"); });
  CHECK(e.code == errc::bad_value);
  CHECK(e.message.find("sent_more, sent_less") != std::string::npos);
  test::write_file(dir + "/ss.json", "[1, 2]\nnot json\n");
  e = error_of([&] { stereoset_read(dir + "/ss.json"); });
  CHECK(e.code == errc::bad_value);
  test::write_file(dir + "/dev.json", "{\"data\": {\"intersentence\": []}}");
  e = error_of([&] { stereoset_read(dir + "/dev.json"); });
  CHECK(e.code == errc::bad_value);
  CHECK(e.message.find("data.intrasentence") != std::string::npos);
  test::write_file(dir + "/b.jsonl", "{\"no\": 1}\n");
  e = error_of([&] { bbq_read(dir + "/b.jsonl"); });
  CHECK(e.code == errc::bad_value);
  test::write_file(dir + "/descriptors.json", "[]");
  test::write_file(dir + "/nouns.json", "{}");
  test::write_file(dir + "/sentence_templates.json", "{}");
  e = error_of([&] { holistic_read(dir); });
  CHECK(e.code == errc::bad_value);
  CHECK(e.message.find("HolisticBias") != std::string::npos);
}

TEST_CASE("dataset readers: malformed rows are skipped with their line numbers") {
  const std::string dir = test::temp_dir("datasets_rows");
  test::write_file(dir + "/ss.jsonl", std::string(kStereoLine) + "\n[1]\n{\"type\": \"other\"}\n" +
                                          "{\"type\": \"intersentence\"}\n");
  const stereoset_data s = stereoset_read(dir + "/ss.jsonl");
  CHECK(s.intrasentence.size() == 1u);
  CHECK(s.intersentence == 1u);
  REQUIRE(s.bad_rows.size() == 2u);
  CHECK(s.bad_rows[0].where == "line 2");
  CHECK(s.bad_rows[0].reason == "not a JSON object");
  CHECK(s.bad_rows[1].where == "line 3");
  // WinoBias: numbered lines, brackets dropped; an unnumbered line and unequal lengths are skipped rows
  test::write_file(dir + "/pro_stereotyped_type1.txt.dev", "1 The [nurse] said\nno number\n3 x\n");
  test::write_file(dir + "/anti_stereotyped_type1.txt.dev", "1 The [doctor] said\n2 y\n");
  const winobias_data w = winobias_read(dir);
  REQUIRE(w.pairs.size() == 1u);
  CHECK(w.pairs[0].pro == "The nurse said");
  CHECK(w.pairs[0].anti == "The doctor said");
  REQUIRE(w.bad_rows.size() == 2u);
  CHECK(w.bad_rows[0].where == "type1.dev line 2");
  CHECK(w.bad_rows[1].reason == "pro and anti files have different lengths");
  // BBQ: a row without a stereotyped-group answer is skipped, naming its file and line
  std::filesystem::create_directories(dir + "/bbq");
  test::write_file(dir + "/bbq/a.jsonl",
                   "{\"ans0\": \"x\", \"context\": \"c\", \"question\": \"q\", \"label\": 1, "
                   "\"question_polarity\": \"neg\", \"context_condition\": \"ambig\", \"answer_info\": "
                   "{\"ans0\": [\"x\", \"unknown\"], \"ans1\": [\"y\", \"old\"]}, \"additional_metadata\": "
                   "{\"stereotyped_groups\": [\"Old\"]}}\n\n"
                   "{\"ans0\": \"x\", \"context\": \"c\", \"question\": \"q\", \"label\": 1}\n");
  const bbq_data b = bbq_read(dir + "/bbq");
  REQUIRE(b.items.size() == 1u);
  CHECK(b.items[0].target == 1);
  CHECK(b.items[0].unknown == 0);
  REQUIRE(b.bad_rows.size() == 1u);
  CHECK(b.bad_rows[0].where == "a.jsonl line 3");
}

TEST_CASE("WEAT test files: a SEAT test by its stem, WEAT.json's ten tests; not_found, limit, bad_json") {
  const std::string dir = test::temp_dir("datasets_weat");
  const std::string set = "{\"category\": \"C\", \"examples\": [\"a\", \"b\"]}";
  test::write_file(dir + "/sent-x.jsonl", "{\"targ1\": " + set + ", \"targ2\": " + set +
                                              ", \"attr1\": " + set + ", \"attr2\": " + set + "}");
  const std::vector<weat_sets> one = weat_tests_read(dir + "/sent-x.jsonl");
  REQUIRE(one.size() == 1u);
  CHECK(one[0].name == "sent-x");
  CHECK(one[0].attr2.words == std::vector<std::string>{"a", "b"});
  error e = error_of([&] { weat_tests_read(dir + "/none.jsonl"); });
  CHECK(e.code == errc::not_found);
  test::write_file(dir + "/deep.json", "{\"targ1\": " + std::string(100, '[') + "}");
  e = error_of([&] { weat_tests_read(dir + "/deep.json"); });
  CHECK(e.code == errc::limit);
  test::write_file(dir + "/other.json", "{\"words\": []}");
  e = error_of([&] { weat_tests_read(dir + "/other.json"); });
  CHECK(e.code == errc::bad_json);
  CHECK(e.message.find("neither a SEAT test") != std::string::npos);
  test::write_file(dir + "/WEAT.json", "{\"flowers\": [\"rose\"]}");  // a needed set missing
  e = error_of([&] { weat_tests_read(dir + "/WEAT.json"); });
  CHECK(e.code == errc::bad_json);
}
