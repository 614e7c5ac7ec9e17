// tests/fuzz/fuzz_sentencepiece.cpp: libFuzzer target for SentencePiece tokenizer.model files
// (gb::vocab_from_sentencepiece), then the tokenizer glassbox builds from the vocabulary, encoding and
// decoding a fixed text.
#include "formats/tokenizer_files.h"
#include "probes/engine/tokenizer.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gb::vocab v;
  std::vector<gb::finding> f;
  if (!gb::fuzz::run([&] { v = gb::vocab_from_sentencepiece(data, size, &f); })) return 0;
  gb::result<gb::engine::tokenizer> t = gb::engine::tokenizer::create(v);
  if (!t) return 0;
  std::vector<int32_t> ids = t.value().encode("Hello world <s> \xe2\x96\x81 caf\xc3\xa9 123", true, true);
  (void)t.value().decode(ids, true);
  return 0;
}
