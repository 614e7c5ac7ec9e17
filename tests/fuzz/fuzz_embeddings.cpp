// tests/fuzz/fuzz_embeddings.cpp: libFuzzer target for WEAT inputs: word-embedding files (GloVe text,
// word2vec text/binary through gb::embeddings_parse) and the SEAT / WEFE word-set JSON readers
// (gb::probes::weat_sets_parse_seat, gb::probes::weat_standard_tests) on the same bytes.
#include "formats/embeddings.h"
#include "probes/weat.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gb::result<gb::embedding_table> e = gb::embeddings_parse(data, size, "fuzz.txt");
  if (e) {
    const gb::embedding_table& t = e.value();
    if (!t.words.empty()) (void)t.find(t.words.front());
  }
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)gb::fuzz::run([&] { (void)gb::probes::weat_sets_parse_seat(text, "fuzz"); });
  (void)gb::fuzz::run([&] { (void)gb::probes::weat_standard_tests(text); });
  return 0;
}
