// tests/fuzz/fuzz_safetensors.cpp: libFuzzer target for safetensors files (gb::loaders::load_safetensors),
// then the model and summary built from them.
#include "formats/loaders.h"
#include "inspect/model.h"
#include "inspect/summary.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [a, ok] = gb::fuzz::load_scratch("model.safetensors", data, size, gb::loaders::load_safetensors);
  if (ok) {  // what glassbox inspect does next with the archive
    gb::result<gb::model> m = gb::model_build(a);
    if (m) (void)gb::summary_build(m.value());
  }
  return 0;
}
