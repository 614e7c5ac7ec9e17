// tests/fuzz/fuzz_llama2c_tokenizer.cpp: libFuzzer target for llama2.c tokenizer.bin files
// (gb::loaders::load_llama2c_tokenizer).
#include "formats/loaders.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)gb::fuzz::load_scratch("tokenizer.bin", data, size, gb::loaders::load_llama2c_tokenizer);
  return 0;
}
