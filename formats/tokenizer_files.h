// formats/tokenizer_files.h: tokenizer files -> gb::vocab (the neutral form in formats/vocab.h).
//
// Hugging Face tokenizer.json (BPE with or without byte fallback, WordPiece, Unigram), GPT-2's
// encoder.json + vocab.bpe, SentencePiece tokenizer.model, and the special-token settings of
// tokenizer_config.json. Every function throws gb::failure on input it cannot read (bad_json,
// bad_protobuf, limit, bad_value ...) with the byte offset when known, and appends deviations that still
// parse to `findings` when given. Wrap calls in gb::capture() for a result<vocab>.
//
//   std::string text = ...;                                  // contents of tokenizer.json
//   gb::vocab v = gb::vocab_from_tokenizer_json(text);       // v.model "llama" / "gpt2" / "bert" / "unigram"
//   gb::vocab_apply_tokenizer_config(v, config_text);        // bos/eos/add_bos from tokenizer_config.json
//   gb::vocab s = gb::vocab_from_sentencepiece(bytes, size); // tokenizer.model
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "formats/error.h"
#include "formats/vocab.h"

namespace gb {

// True for SentencePiece byte-fallback pieces "<0x00>" .. "<0xFF>" (token type 6).
bool vocab_is_byte_piece(std::string_view piece);

// SentencePiece ModelProto. model "llama" for BPE, "unigram" for unigram; token types as GGUF numbers them.
vocab vocab_from_sentencepiece(const uint8_t* data, uint64_t size, std::vector<finding>* findings = nullptr);

// HF tokenizers' tokenizer.json. `pre` is a best guess from the pre-tokenizer (see the .cpp table).
vocab vocab_from_tokenizer_json(std::string_view text, std::vector<finding>* findings = nullptr);

// GPT-2's original files: encoder.json (token -> id) and vocab.bpe (merges, first line a version header).
vocab vocab_from_gpt2_files(std::string_view encoder_json, std::string_view vocab_bpe,
                            std::vector<finding>* findings = nullptr);

// tokenizer_config.json: bos/eos/unk/pad tokens (string or {"content": ...}) resolved to ids,
// add_bos_token / add_eos_token. Unknown token strings become findings, not errors.
void vocab_apply_tokenizer_config(vocab& v, std::string_view config_json,
                                  std::vector<finding>* findings = nullptr);

}  // namespace gb
