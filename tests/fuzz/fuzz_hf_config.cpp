// tests/fuzz/fuzz_hf_config.cpp: libFuzzer target for Hugging Face folder metadata: config.json,
// generation_config.json and tokenizer_config.json in one folder (gb::loaders::load_hf_folder), the JSON
// reader itself (gb::meta_from_json_text), and the model built when the folder opens. Input: the three
// files separated by k_part_marker (missing parts are missing files). A fixed two-tensor model.safetensors
// sits beside them so the folder opens and the model is built from the fuzzed hyperparameters.
#include <memory>

#include "formats/json_meta.h"
#include "formats/loaders.h"
#include "formats/writers.h"
#include "inspect/model.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string_view> parts = gb::fuzz::split_parts(data, size, 3);
  (void)gb::fuzz::run([&] { (void)gb::meta_from_json_text(parts[0], 0, "config"); });
  static const bool weights = [] {
    std::vector<uint8_t> f32(8 * 8 * 4, 0);
    gb::safetensors_write(gb::fuzz::scratch_dir() + "/model.safetensors",
                          {{"model.embed_tokens.weight", gb::dtype::f32, {8, 8}, f32},
                           {"model.layers.0.self_attn.q_proj.weight", gb::dtype::f32, {8, 8}, f32}});
    return true;
  }();
  (void)weights;
  static const char* names[] = {"config.json", "generation_config.json", "tokenizer_config.json"};
  for (size_t i = 0; i < 3; ++i) {
    if (i < parts.size())
      gb::fuzz::write_scratch(names[i], parts[i]);
    else
      gb::fuzz::remove_scratch(names[i]);
  }
  auto a = std::make_shared<gb::archive>();
  if (gb::fuzz::run([&] { gb::loaders::load_hf_folder(*a, gb::fuzz::scratch_dir(), {}); }))
    (void)gb::model_build(a);
  return 0;
}
