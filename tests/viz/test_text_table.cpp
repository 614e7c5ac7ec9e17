// tests/viz/test_text_table.cpp: the shared table renderer (table, Markdown, CSV) and token-piece quoting.
#include <doctest/doctest.h>

#include "viz/text_table.h"

using namespace gb::viz;

TEST_CASE("one table in three formats: aligned text, Markdown, CSV") {
  text_table t{{"group", "n", "value"},
               {{"gender", "262", "0.58"}, {"race|color", "5", "-1"}, {"a, \"b\"", "12"}},
               {false, true, true}};
  CHECK(table_render(t, table_format::table) ==
        "group         n  value\n"
        "----------  ---  -----\n"
        "gender      262   0.58\n"
        "race|color    5     -1\n"
        "a, \"b\"       12\n");
  CHECK(table_render(t, table_format::md) ==
        "| group | n | value |\n"
        "| --- | ---: | ---: |\n"
        "| gender | 262 | 0.58 |\n"
        "| race\\|color | 5 | -1 |\n"
        "| a, \"b\" | 12 |  |\n");
  CHECK(table_render(t, table_format::csv) ==
        "group,n,value\r\n"
        "gender,262,0.58\r\n"
        "race|color,5,-1\r\n"
        "\"a, \"\"b\"\"\",12,\r\n");
  // width counts code points, not bytes
  text_table u{{"piece", "id"}, {{"\xE2\x96\x81Once", "403"}, {"x", "1"}}, {false, true}};
  CHECK(table_render(u, table_format::table) ==
        "piece   id\n-----  ---\n\xE2\x96\x81Once  403\nx        1\n");
  CHECK(table_format_parse("md") == table_format::md);
  CHECK(table_format_parse("markdown") == table_format::md);
  CHECK(table_format_parse("csv") == table_format::csv);
  CHECK(table_format_parse("table") == table_format::table);
  CHECK(!table_format_parse("xlsx"));
}

TEST_CASE("text_quote shows a token piece exactly: spaces, escapes, control bytes, invalid UTF-8") {
  CHECK(text_quote(" Once") == "' Once'");
  CHECK(text_quote("\n") == "'\\n'");
  CHECK(text_quote("it's \\") == "'it\\'s \\\\'");
  CHECK(text_quote(std::string("\x01\x7F\t", 3)) == "'\\x01\\x7F\\t'");
  CHECK(text_quote("\xE2\x96\x81") == "'\xE2\x96\x81'");
  CHECK(text_quote("\xE2\x96") == "'\\xE2\\x96'");  // a cut sequence
  CHECK(text_quote("\xFF") == "'\\xFF'");
}
