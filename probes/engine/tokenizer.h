// probes/engine/tokenizer.h: text <-> token ids, exactly as llama.cpp's tokenizers do it.
//
// Built from a gb::vocab (GGUF tokenizer.ggml.*, tokenizer.json, tokenizer.model, llama2.c tokenizer,
// GPT-2 encoder.json + vocab.bpe). Three algorithms:
//   - spm  (vocab.model "llama"): SentencePiece BPE by piece score, dummy-prefix space, spaces as U+2581,
//          <0xXX> byte fallback;
//   - bpe  (vocab.model "gpt2"): byte-level BPE by merge rank after the pre-tokenizer regexes of vocab.pre;
//   - wpm  (vocab.model "bert"): BERT basic tokenizer (lowercase, strip accents, split punctuation and CJK)
//          then greedy longest-match WordPiece.
// Special tokens (control, user-defined) are cut out of the text first: user-defined ones always,
// control ones only with parse_special (llama.cpp's tokenizer_st_partition).
//
//   auto t = gb::engine::tokenizer::create(*archive.tokenizer);   // result<tokenizer>
//   if (!t) return report(t.err());
//   std::vector<int32_t> ids = t.value().encode("Once upon a time", /*add_bos=*/true);  // 1 403 407 261 378
//   std::string text = t.value().decode(ids);                      // "Once upon a time"
//
// A tokenizer is immutable and cheap to copy (shared state); encode/decode may run on many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/error.h"
#include "formats/vocab.h"

namespace gb::engine {

enum class tokenizer_kind : uint8_t { spm, bpe, wpm };
const char* tokenizer_kind_name(tokenizer_kind k);  // "spm", "bpe", "wpm"

class tokenizer {
 public:
  // Errors: errc::unsupported (model "unigram"/"none"/unknown, unknown BPE pre-tokenizer), errc::bad_value
  // (empty vocabulary, sizes of scores/types not matching the tokens, a special id out of range).
  // A piece stored twice keeps its first id. SentencePiece vocabularies without scores but with merges
  // (HF tokenizer.json BPE with byte fallback) merge by rank.
  static result<tokenizer> create(const vocab& v);

  // add_bos: add the model's special tokens around the text, as llama.cpp's add_special does: BOS (and
  // EOS when the vocab asks for it); for BERT [CLS] ... [SEP]. parse_special: also match control tokens
  // written in the text ("<s>", "<|endoftext|>").
  std::vector<int32_t> encode(std::string_view text, bool add_bos = true, bool parse_special = false) const;

  // Concatenated pieces. Control and unknown tokens are dropped unless render_special; SentencePiece's
  // dummy-prefix space is removed from the first text piece. Ids out of range are skipped.
  std::string decode(const std::vector<int32_t>& ids, bool render_special = false) const;
  // One token's text as decode shows it (special tokens shown; "" for ids out of range).
  std::string token_piece(int32_t id) const;
  // The stored piece ("▁Hello", "Ġworld"), or "" out of range.
  const std::string& token_text(int32_t id) const;
  std::optional<int32_t> find(std::string_view piece) const;  // exact stored piece

  tokenizer_kind kind() const;
  const std::string& pre() const;  // pre-tokenizer name in use ("default" when the vocab has none)
  int32_t size() const;
  int32_t bos_id() const;  // -1 when the model has none
  int32_t eos_id() const;
  int32_t unk_id() const;
  bool default_add_bos() const;  // whether llama.cpp adds BOS for this vocabulary by default
  bool is_control(int32_t id) const;

  struct impl;

 private:
  std::shared_ptr<const impl> p_;
};

}  // namespace gb::engine
