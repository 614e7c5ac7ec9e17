// JSON nesting cap for bias datasets and WEAT tests: text nesting deeper than 64 levels is rejected before
// nlohmann builds a DOM (8 MB of '[' would cost ~420 MB of heap): a whole document is errc::limit at the
// offending byte, a JSON-lines row is skipped with its line number.
#include <doctest/doctest.h>

#include <string>

#include "formats/error.h"
#include "probes/bias.h"
#include "probes/weat.h"
#include "tests/support/data.h"

using namespace gb;
using namespace gb::probes;

namespace {

std::string nested(size_t levels) {  // levels '[' then as many ']'
  return std::string(levels, '[') + std::string(levels, ']');
}

}  // namespace

TEST_CASE(
    "bias datasets: a too-deep document is a limit error at its offset; a too-deep JSON line is a skipped "
    "row") {
  const std::string dir = test::temp_dir("bias_json_depth");
  // a StereoSet dev.json-shaped document (one line) nested 100000 levels deep
  test::write_file(dir + "/dev.json", "{\"data\": " + std::string(100000, '[') + "}");
  try {
    stereoset_read(dir + "/dev.json");
    FAIL("no error");
  } catch (const failure& f) {
    CHECK(f.err().code == errc::limit);
    CHECK(f.err().offset ==
          9u + 63u);  // '{' is level 1, the 63rd '[' is level 64, the next one is past the cap
    CHECK(f.err().message.find("nesting deeper than 64") != std::string::npos);
  }
  // JSON lines: the deep line is skipped with its line number, the good one is read
  test::write_file(
      dir + "/ss.jsonl",
      "{\"type\": \"intrasentence\", \"target\": \"x\", \"bias_type\": \"race\", \"stereotype\": \"a\", "
      "\"anti-stereotype\": \"b\", \"unrelated\": \"c\"}\n" +
          std::string(8 << 20, '[') + "\n");
  stereoset_data s = stereoset_read(dir + "/ss.jsonl");
  CHECK(s.intrasentence.size() == 1u);
  REQUIRE(s.bad_rows.size() == 1u);
  CHECK(s.bad_rows[0].where == "line 2");
  CHECK(s.bad_rows[0].reason.find("nesting deeper than 64") != std::string::npos);
  // HolisticBias folder: a deep descriptors.json is a limit error
  test::write_file(dir + "/descriptors.json", "{\"axis\": " + nested(200) + "}");
  test::write_file(dir + "/nouns.json", "{}");
  test::write_file(dir + "/sentence_templates.json", "{}");
  try {
    holistic_read(dir);
    FAIL("no error");
  } catch (const failure& f) {
    CHECK(f.err().code == errc::limit);
    CHECK(f.err().offset == 9u + 63u);
  }
}

TEST_CASE("WEAT tests: a too-deep SEAT test or WEAT.json is a limit error at its offset") {
  for (int which = 0; which < 2; ++which) {
    const std::string text = "{\"targ1\": " + std::string(1 << 20, '{');
    try {
      if (which == 0)
        weat_sets_parse_seat(text, "deep");
      else
        weat_standard_tests(text);
      FAIL("no error");
    } catch (const failure& f) {
      CHECK(f.err().code == errc::limit);
      CHECK(f.err().offset == 10u + 63u);
      CHECK(f.err().message.find("nesting deeper than 64") != std::string::npos);
    }
  }
  // the CLI names the file and exits 3 (bad input)
  const std::string dir = test::temp_dir("weat_json_depth");
  test::write_file(dir + "/deep.jsonl", std::string(1 << 20, '['));
  test::write_file(dir + "/emb.txt", "he 1 0\nshe 0 1\n");
  std::string out;
  CHECK(test::run_glassbox("weat '" + dir + "/emb.txt' --tests '" + dir + "/deep.jsonl'", &out, true) == 3);
  CHECK(out.find("nesting deeper than 64") != std::string::npos);
}
