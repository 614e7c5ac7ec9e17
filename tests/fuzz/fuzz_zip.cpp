// tests/fuzz/fuzz_zip.cpp: libFuzzer target for the zip reader (gb::zip::open and gb::zip::read of every
// entry, in memory) and the PyTorch zip checkpoint loader on the same bytes (gb::loaders::load_pytorch_zip).
#include "formats/loaders.h"
#include "formats/zip.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gb::zip::options zo;
  zo.max_entry_size = 64ull << 20;  // keep inflation inside libFuzzer's default 2 GB RSS limit
  (void)gb::fuzz::run([&] {
    gb::zip::listing z = gb::zip::open(data, size, zo);
    for (const gb::zip::entry& e : z.entries) (void)gb::zip::read(z, e);
  });
  if (size == 0) return 0;
  const std::string path = gb::fuzz::write_scratch("model.pt", data, size);
  gb::archive a;
  (void)gb::fuzz::run([&] { gb::loaders::load_pytorch_zip(a, gb::mapped_file::open(path), {}); });
  return 0;
}
