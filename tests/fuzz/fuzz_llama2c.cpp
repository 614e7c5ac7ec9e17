// tests/fuzz/fuzz_llama2c.cpp: libFuzzer target for llama2.c checkpoints (legacy and v1/v2 headers) (gb::loaders::load_llama2c), then the model and summary.
#include <memory>

#include "formats/loaders.h"
#include "tests/fuzz/fuzz_common.h"
#include "inspect/model.h"
#include "inspect/summary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;  // archive_open rejects empty files before any loader runs
  const std::string path = gb::fuzz::write_scratch("model.bin", data, size);
  auto a = std::make_shared<gb::archive>();
  bool ok = gb::fuzz::run([&] { gb::loaders::load_llama2c(*a, gb::mapped_file::open(path), {}); });
  if (ok) {  // what glassbox inspect does next with the archive
    gb::result<gb::model> m = gb::model_build(a);
    if (m) (void)gb::summary_build(m.value());
  }
  return 0;
}
