// tests/fuzz/fuzz_numpy.cpp: libFuzzer target for numpy .npy arrays (gb::loaders::load_numpy).
#include "formats/loaders.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)gb::fuzz::load_scratch("model.npy", data, size, gb::loaders::load_numpy);
  return 0;
}
