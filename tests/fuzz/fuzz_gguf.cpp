// tests/fuzz/fuzz_gguf.cpp: libFuzzer target for GGUF files v1-v3 (gb::loaders::load_gguf), then the model,
// summary and chat-template audit.
#include "formats/loaders.h"
#include "inspect/scan.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_inspect.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [a, ok] = gb::fuzz::load_scratch("model.gguf", data, size, gb::loaders::load_gguf);
  if (ok) gb::fuzz::inspect_archive(a);  // what glassbox inspect does next with the archive
  if (const gb::meta_value* t = a->meta("tokenizer.chat_template");
      t && t->k == gb::meta_value::kind::string) {
    std::vector<gb::finding> f;
    gb::scan_template_text(t->s, "model.gguf", f);
  }
  return 0;
}
