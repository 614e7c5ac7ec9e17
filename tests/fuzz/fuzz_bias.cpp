// tests/fuzz/fuzz_bias.cpp: libFuzzer target for the bias dataset readers of probes/bias.h, which read
// from paths: the first byte picks the reader, the rest is written to the file(s) it reads.
//   0 CrowS-Pairs CSV   1 StereoSet dev.json / JSON lines   2 BBQ .jsonl   3 WinoBias text files
//   4 HolisticBias folder (descriptors.json, nouns.json, sentence_templates.json cut at k_part_marker)
#include "probes/bias.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int which = data[0] % 5;
  ++data;
  --size;
  using namespace gb::probes;
  switch (which) {
    case 0: {
      const std::string p = gb::fuzz::write_scratch("crows_pairs.csv", data, size);
      (void)gb::fuzz::run([&] { (void)crows_pairs_read(p); });
      break;
    }
    case 1: {
      const std::string p = gb::fuzz::write_scratch("stereoset.json", data, size);
      (void)gb::fuzz::run([&] { (void)stereoset_read(p); });
      break;
    }
    case 2: {
      const std::string p = gb::fuzz::write_scratch("bbq.jsonl", data, size);
      (void)gb::fuzz::run([&] { (void)bbq_read(p); });
      break;
    }
    case 3: {  // pro/anti type 1 dev from the two parts; the other six files absent
      std::vector<std::string_view> parts = gb::fuzz::split_parts(data, size, 2);
      gb::fuzz::write_scratch("pro_stereotyped_type1.txt.dev", parts[0]);
      gb::fuzz::write_scratch("anti_stereotyped_type1.txt.dev", parts.size() > 1 ? parts[1] : parts[0]);
      (void)gb::fuzz::run([&] { (void)winobias_read(gb::fuzz::scratch_dir()); });
      break;
    }
    default: {
      std::vector<std::string_view> parts = gb::fuzz::split_parts(data, size, 3);
      static const char* names[] = {"descriptors.json", "nouns.json", "sentence_templates.json"};
      for (size_t i = 0; i < 3; ++i) gb::fuzz::write_scratch(names[i], i < parts.size() ? parts[i] : "");
      (void)gb::fuzz::run([&] { (void)holistic_read(gb::fuzz::scratch_dir()); });
      break;
    }
  }
  return 0;
}
