// formats/vocab_specials.h: the special tokens of a gb::vocab (bos, eos, unk, pad, sep, cls, mask) with the
// names GGUF and tokenizer_config.json give them: one list for every reader.
//
//   for (const gb::vocab_special& sp : gb::k_vocab_specials) std::printf("%s %d", sp.hf, v.*sp.id);
#pragma once

#include <cstdint>

#include "formats/vocab.h"

namespace gb {

struct vocab_special {
  const char* gguf;
  const char* hf;
  int32_t vocab::*id;
};
inline constexpr vocab_special k_vocab_specials[] = {
    {"bos", "bos", &vocab::bos_id},       {"eos", "eos", &vocab::eos_id},
    {"unknown", "unk", &vocab::unk_id},   {"padding", "pad", &vocab::pad_id},
    {"seperator", "sep", &vocab::sep_id},  // llama.cpp's spelling
    {"cls", "cls", &vocab::cls_id},       {"mask", "mask", &vocab::mask_id}};

}  // namespace gb
