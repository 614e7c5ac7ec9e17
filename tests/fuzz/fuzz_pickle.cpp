// tests/fuzz/fuzz_pickle.cpp: libFuzzer target for the non-executing pickle reader (gb::pickle::read with
// stacked pickles, findings, value display) and the file loaders built on it: a stand-alone pickle
// (gb::loaders::load_pickle) and a legacy torch.save checkpoint (gb::loaders::load_pytorch_legacy).
#include "formats/loaders.h"
#include "formats/pickle.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gb::pickle::read_options o;
  o.stacked = true;
  gb::pickle::result r = gb::pickle::read(data, size, o);
  std::vector<gb::finding> f;
  gb::pickle::add_findings(r, "fuzz.pkl", f);
  for (uint32_t root : r.roots) (void)gb::pickle::display(r, root);
  if (size == 0) return 0;
  const std::string path = gb::fuzz::write_scratch("model.pkl", data, size);
  {
    gb::archive a;
    (void)gb::fuzz::run([&] { gb::loaders::load_pickle(a, gb::mapped_file::open(path), {}); });
  }
  {
    gb::archive a;
    (void)gb::fuzz::run([&] { gb::loaders::load_pytorch_legacy(a, gb::mapped_file::open(path), {}); });
  }
  return 0;
}
