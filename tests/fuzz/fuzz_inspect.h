// tests/fuzz/fuzz_inspect.h: what `glassbox inspect` does with an archive a fuzz target's loader accepted:
// the model (architecture table, hyperparameters), then its summary. Either may fail on hostile bytes;
// neither may crash, hang or read out of bounds.
//
//   auto [a, ok] = gb::fuzz::load_scratch("model.bin", data, size, gb::loaders::load_llama2c);
//   if (ok) gb::fuzz::inspect_archive(a);
#pragma once

#include <memory>

#include "formats/archive.h"
#include "inspect/model.h"
#include "inspect/summary.h"

namespace gb::fuzz {

inline void inspect_archive(const std::shared_ptr<const gb::archive>& a) {
  gb::result<gb::model> m = gb::model_build(a);
  if (m) (void)gb::summary_build(m.value());
}

}  // namespace gb::fuzz
