// tests/fuzz/fuzz_template.cpp: libFuzzer target for the chat-template analysis (gb::scan_template_text: the
// Jinja tokenizer, the bounded expression parser and the constant folder of inspect/template_fold).
#include "inspect/scan.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<gb::finding> f;
  gb::scan_template_text(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.jinja", f);
  return 0;
}
