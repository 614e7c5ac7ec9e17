// tests/fuzz/fuzz_scan.cpp: libFuzzer target for `glassbox scan` of one file with no extension, so every
// decision is made by content: pickles of any protocol, legacy torch tar checkpoints, zip/npy containers,
// the raw sweep after a stop, and the per-file verdict.
#include "inspect/scan.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = gb::fuzz::write_scratch("model", data, size);
  gb::scan_options o;
  o.inflate_member = 64ull << 20;  // compressed members stream; keep each run inside libFuzzer's time budget
  o.inflate_total = 256ull << 20;
  gb::scan_file f = gb::scan_one(path, o);
  (void)f.verdict();
  return 0;
}
