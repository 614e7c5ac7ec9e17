// tests/fuzz/fuzz_llama2c.cpp: libFuzzer target for llama2.c checkpoints (legacy and v1/v2 headers)
// (gb::loaders::load_llama2c), then the model and summary.
#include "formats/loaders.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_inspect.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [a, ok] = gb::fuzz::load_scratch("model.bin", data, size, gb::loaders::load_llama2c);
  if (ok) gb::fuzz::inspect_archive(a);  // what glassbox inspect does next with the archive
  return 0;
}
