// tests/fuzz/fuzz_safetensors.cpp: libFuzzer target for safetensors files (gb::loaders::load_safetensors),
// then the model and summary built from them.
#include "formats/loaders.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_inspect.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [a, ok] = gb::fuzz::load_scratch("model.safetensors", data, size, gb::loaders::load_safetensors);
  if (ok) gb::fuzz::inspect_archive(a);  // what glassbox inspect does next with the archive
  return 0;
}
