// formats/vocab.h: a tokenizer's data as the model files carry it, in one neutral form. formats/ fills
// it from GGUF `tokenizer.ggml.*`, HF tokenizer.json, SentencePiece tokenizer.model, llama2.c tokenizer
// files and GPT-2 encoder.json + vocab.bpe; probes/engine/ turns it into a working tokenizer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gb {

struct vocab {
  // "llama" (SentencePiece BPE, byte fallback), "gpt2" (byte-level BPE), "bert" (WordPiece),
  // "unigram" (SentencePiece unigram), "none"
  std::string model = "none";
  std::string pre;                  // pre-tokenizer: "default", "llama-bpe", "qwen2", "falcon", "gpt-2" ...
  std::vector<std::string> tokens;  // piece text as stored (SentencePiece uses U+2581 for space)
  std::vector<float> scores;        // empty when absent
  // GGUF token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
  std::vector<int32_t> token_types;  // empty when absent
  std::vector<std::string> merges;   // "a b" BPE merges in rank order
  int32_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1, sep_id = -1, cls_id = -1, mask_id = -1;
  bool add_bos = false, add_eos = false;
  bool add_space_prefix = true;  // SentencePiece "add_dummy_prefix"
  bool byte_fallback = true;
  std::string source;  // where it came from: "gguf", "tokenizer.json", "tokenizer.model" ...
  // general.name and general.architecture when the file has them: llama.cpp sets some tokens' strip
  // attributes by model name (Phi-3: whitespace after special tokens is dropped)
  std::string model_name, arch;
  size_t size() const { return tokens.size(); }
};

}  // namespace gb
