// tests/fuzz/fuzz_tokenizer_json.cpp: libFuzzer target for Hugging Face tokenizer.json
// (gb::vocab_from_tokenizer_json) plus tokenizer_config.json applied to it, GPT-2's encoder.json +
// vocab.bpe (same two parts), and the tokenizer built from the vocabulary. Input: tokenizer.json, then
// optionally k_part_marker and the second file.
#include "formats/tokenizer_files.h"
#include "probes/engine/tokenizer.h"
#include "tests/fuzz/fuzz_common.h"

namespace {

void exercise(const gb::vocab& v) {
  gb::result<gb::engine::tokenizer> t = gb::engine::tokenizer::create(v);
  if (!t) return;
  std::vector<int32_t> ids = t.value().encode("Hello world! <|endoftext|> caf\xc3\xa9 42\n\t x", true, true);
  (void)t.value().decode(ids, true);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string_view> parts = gb::fuzz::split_parts(data, size, 2);
  std::vector<gb::finding> f;
  gb::vocab v;
  if (gb::fuzz::run([&] {
        v = gb::vocab_from_tokenizer_json(parts[0], &f);
        if (parts.size() > 1) gb::vocab_apply_tokenizer_config(v, parts[1], &f);
      }))
    exercise(v);
  if (parts.size() > 1) {
    gb::vocab g;
    if (gb::fuzz::run([&] { g = gb::vocab_from_gpt2_files(parts[0], parts[1], &f); })) exercise(g);
  }
  return 0;
}
