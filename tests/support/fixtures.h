// tests/support/fixtures.h: models several suites open or write alike. Header-only: an inline function
// compiles only in the tests that call it.
//
//   gb::model m = gb::test::model_open(path);                            // REQUIREs that it opens
//   const std::string p = gb::test::synth_planted(dir, "strong", 4.0);  // a model biased towards "he"
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "formats/archive.h"
#include "inspect/model.h"
#include "tests/support/data.h"

namespace gb::test {

// The model in the files at path; the test fails (REQUIRE) with the reason when they do not open.
inline gb::model model_open(const std::string& path) {
  auto r = gb::archive_open(path);
  if (!r) FAIL(r.err().to_string());
  auto ar = std::make_shared<gb::archive>(std::move(r).value());
  auto m = gb::model_build(ar);
  REQUIRE(m.ok());
  return std::move(m).value();
}

// `glassbox synth` of a 2-layer 64-wide LLaMA (vocab 512, seed 36) whose weights favour the token "he" by
// scale (0: none): dir/name.gguf, the fixture of the planted-bias tests.
inline std::string synth_planted(const std::string& dir, const std::string& name, double scale) {
  const std::string model = dir + "/" + name + ".gguf";
  std::string wrote;
  REQUIRE(run_glassbox("synth --arch llama --layers 2 --dim 64 --heads 4 --vocab 512 --ctx 256 --seed 36 "
                       "--bias-token he --bias-scale " +
                           std::to_string(scale) + " -o " + quoted(model),
                       &wrote) == 0);
  return model;
}

}  // namespace gb::test
