// tests/fuzz/fuzz_numpy.cpp: libFuzzer target for numpy .npy arrays (gb::loaders::load_numpy).
#include <memory>

#include "formats/loaders.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;  // archive_open rejects empty files before any loader runs
  const std::string path = gb::fuzz::write_scratch("model.npy", data, size);
  auto a = std::make_shared<gb::archive>();
  bool ok = gb::fuzz::run([&] { gb::loaders::load_numpy(*a, gb::mapped_file::open(path), {}); });
  (void)ok;
  return 0;
}
