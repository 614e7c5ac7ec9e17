// tests/fuzz/fuzz_safetensors.cpp: libFuzzer target for safetensors files (gb::loaders::load_safetensors), then the model and summary built from them.
#include <memory>

#include "formats/loaders.h"
#include "tests/fuzz/fuzz_common.h"
#include "inspect/model.h"
#include "inspect/summary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;  // archive_open rejects empty files before any loader runs
  const std::string path = gb::fuzz::write_scratch("model.safetensors", data, size);
  auto a = std::make_shared<gb::archive>();
  bool ok = gb::fuzz::run([&] { gb::loaders::load_safetensors(*a, gb::mapped_file::open(path), {}); });
  if (ok) {  // what glassbox inspect does next with the archive
    gb::result<gb::model> m = gb::model_build(a);
    if (m) (void)gb::summary_build(m.value());
  }
  return 0;
}
