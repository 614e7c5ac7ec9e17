// tests/support/engine_fixture.h: a model loaded from files and a runner on it, as the engine tests start;
// each step REQUIREs that it worked (with the library's reason when it did not).
//
//   auto L = gb::test::model_load(path);                    // L->m: the model (L->ar: its archive)
//   const auto run = gb::test::runner_make(L->m);           // std::unique_ptr<gb::engine::runner>
//   auto logits = run->forward({1, 403, 407});
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>

#include "formats/archive.h"
#include "inspect/model.h"
#include "probes/engine/engine.h"

namespace gb::test {

struct loaded {
  std::shared_ptr<const archive> ar;
  model m;
};

inline std::unique_ptr<loaded> model_load(const std::string& path) {
  auto a = archive_open(path);
  REQUIRE_MESSAGE(a.ok(), (a.ok() ? "" : a.err().to_string()));
  auto ar = std::make_shared<const archive>(std::move(a.value()));
  auto m = model_build(ar);
  REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.err().to_string()));
  return std::make_unique<loaded>(loaded{ar, std::move(m.value())});
}

inline std::unique_ptr<engine::runner> runner_make(const model& m, const engine::run_options& opt = {}) {
  auto r = engine::runner::create(m, opt);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  return std::move(r).value();
}

}  // namespace gb::test
