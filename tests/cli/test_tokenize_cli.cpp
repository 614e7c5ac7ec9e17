// tests/cli/test_tokenize_cli.cpp: `glassbox tokenize --pieces`: one `id -> 'piece'` line per token, the same
// ids as the plain output, pieces quoted and escaped.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "tests/support/data.h"

using gb::test::run_glassbox;

TEST_CASE("tokenize --pieces: id -> 'piece', one token a line, same ids as the plain output") {
  GB_DATA(model, "models/stories260K/stories260K.gguf");
  std::string ids, pieces;
  REQUIRE(run_glassbox("tokenize '" + model + "' --text 'Once upon a time'", &ids) == 0);
  REQUIRE(run_glassbox("tokenize '" + model + "' --text 'Once upon a time' --pieces", &pieces) == 0);
  CHECK(ids == "1 403 407 261 378\n");
  CHECK(pieces == "1 -> '<s>'\n403 -> ' Once'\n407 -> ' upon'\n261 -> ' a'\n378 -> ' time'\n");
  std::string nl;
  REQUIRE(run_glassbox("tokenize '" + model + "' --text \"$(printf 'a\\nb')\" --no-bos --pieces", &nl) == 0);
  CHECK(nl.find("-> '\\n'\n") != std::string::npos);  // a newline token is shown escaped, on its own line
}
