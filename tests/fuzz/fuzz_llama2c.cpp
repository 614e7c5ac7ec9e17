// tests/fuzz/fuzz_llama2c.cpp: libFuzzer target for llama2.c checkpoints (legacy and v1/v2 headers)
// (gb::loaders::load_llama2c), then the model and summary.
#include "formats/loaders.h"
#include "inspect/model.h"
#include "inspect/summary.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [a, ok] = gb::fuzz::load_scratch("model.bin", data, size, gb::loaders::load_llama2c);
  if (ok) {  // what glassbox inspect does next with the archive
    gb::result<gb::model> m = gb::model_build(a);
    if (m) (void)gb::summary_build(m.value());
  }
  return 0;
}
