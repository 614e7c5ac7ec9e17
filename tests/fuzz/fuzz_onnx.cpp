// tests/fuzz/fuzz_onnx.cpp: libFuzzer target for ONNX models (gb::loaders::load_onnx).
#include "formats/loaders.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)gb::fuzz::load_scratch("model.onnx", data, size, gb::loaders::load_onnx);
  return 0;
}
