// HF tokenizer.json, GPT-2 encoder.json + vocab.bpe, tokenizer_config.json -> vocab.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "formats/archive.h"
#include "formats/tokenizer_files.h"
#include "tests/support/data.h"

using namespace gb;

namespace {

errc code_of(const std::string& text) {
  auto r = capture("t", [&] { return vocab_from_tokenizer_json(text); });
  REQUIRE(!r.ok());
  return r.err().code;
}

std::string bpe_json(const std::string& pre_tokenizer) {
  return R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "<|end|>": 3}, "merges": ["a b"]},
             "added_tokens": [{"id": 3, "content": "<|end|>", "special": true}],
             "pre_tokenizer": )" +
         pre_tokenizer + "}";
}

}  // namespace

TEST_CASE("tokenizer.json: stories260K equals its tokenizer.model") {
  GB_DATA(tj, "models/stories260K/hf/tokenizer.json");
  GB_DATA(tm, "models/stories260K/hf/tokenizer.model");
  GB_DATA(tc, "models/stories260K/hf/tokenizer_config.json");
  vocab v = vocab_from_tokenizer_json(test::read_text(tj));
  CHECK(v.model == "llama");
  CHECK(v.byte_fallback);
  CHECK(v.add_space_prefix);
  CHECK(v.size() == 512u);
  CHECK(v.merges.size() == 165u);
  CHECK(v.merges[0] == "\xe2\x96\x81 t");
  CHECK(v.bos_id == 1);
  CHECK(v.add_bos);
  CHECK(v.unk_id == 0);
  CHECK(v.token_types[1] == 3);
  CHECK(v.token_types[3] == 6);
  std::vector<uint8_t> mb = test::read_file(tm);
  vocab s = vocab_from_sentencepiece(mb.data(), mb.size());
  REQUIRE(s.size() == v.size());
  for (size_t i = 0; i < s.size(); ++i) CHECK_MESSAGE(s.tokens[i] == v.tokens[i], "id " << i);
  vocab_apply_tokenizer_config(v, test::read_text(tc));
  CHECK(v.eos_id == 2);
  CHECK(v.add_bos);
  CHECK(!v.add_eos);
}

TEST_CASE("GPT-2 encoder.json + vocab.bpe") {
  GB_DATA(enc, "tokenizers/gpt2/encoder.json");
  GB_DATA(bpe, "tokenizers/gpt2/vocab.bpe");
  vocab v = vocab_from_gpt2_files(test::read_text(enc), test::read_text(bpe));
  CHECK(v.model == "gpt2");
  CHECK(v.pre == "gpt-2");
  CHECK(v.size() == 50257u);
  CHECK(v.merges.size() == 50000u);
  CHECK(v.merges[0] == "\xc4\xa0 t");  // "Ġ t"
  CHECK(v.eos_id == 50256);
  CHECK(v.tokens[50256] == "<|endoftext|>");
  CHECK(v.token_types[50256] == 3);
}

TEST_CASE("tokenizer.json: pre-tokenizer guesses") {
  vocab bl = vocab_from_tokenizer_json(bpe_json(R"({"type": "ByteLevel", "add_prefix_space": false})"));
  CHECK(bl.model == "gpt2");
  CHECK(bl.pre == "gpt-2");
  CHECK(bl.token_types[3] == 3);
  CHECK(bl.merges == std::vector<std::string>{"a b"});
  const std::string llama3 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+)";
  const std::string qwen2 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+)";
  auto split = [](const std::string& re) {
    return R"({"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": ")" + re +
           R"("}, "behavior": "Isolated"}, {"type": "ByteLevel"}]})";
  };
  CHECK(vocab_from_tokenizer_json(bpe_json(split(llama3))).pre == "llama-bpe");
  CHECK(vocab_from_tokenizer_json(bpe_json(split(qwen2))).pre == "qwen2");
  // merges as [a, b] pairs (tokenizers >= 0.20)
  vocab pairs = vocab_from_tokenizer_json(
      R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]}, "pre_tokenizer": null})");
  CHECK(pairs.merges == std::vector<std::string>{"a b"});
}

TEST_CASE("tokenizer.json: WordPiece and Unigram") {
  vocab wp = vocab_from_tokenizer_json(
      R"({"model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
          "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "hello": 5, "##s": 6}}})");
  CHECK(wp.model == "bert");
  CHECK(wp.unk_id == 1);
  CHECK(wp.cls_id == 2);
  CHECK(wp.sep_id == 3);
  CHECK(wp.mask_id == 4);
  CHECK(wp.token_types[1] == 2);
  vocab ug = vocab_from_tokenizer_json(
      R"({"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0], ["\u2581a", -1.5], ["b", -2.5]]},
          "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581"}})");
  CHECK(ug.model == "unigram");
  REQUIRE(ug.scores.size() == 3u);
  CHECK(ug.scores[2] == -2.5f);
  CHECK(ug.tokens[1] ==
        "\xe2\x96\x81"
        "a");
  CHECK(ug.add_space_prefix);
}

TEST_CASE("tokenizer.json: malformed input") {
  auto r = capture("t", [] {
    return vocab_from_tokenizer_json("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0,}}}");
  });
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::bad_json);
  CHECK(r.err().offset > 30u);  // the stray comma, not byte 0
  CHECK(code_of("[1, 2]") == errc::bad_json);
  CHECK(code_of(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [1]}})") == errc::bad_json);
  CHECK(code_of(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 0}}})") == errc::duplicate);
  CHECK(code_of(R"({"model": {"type": "BPE", "vocab": {"a": 99999999}}})") == errc::limit);
  CHECK(code_of(std::string(100, '[') + std::string(100, ']')) == errc::limit);
  CHECK(code_of("{\"model\": \"\xff\"}") == errc::bad_utf8);
  auto g =
      capture("t", [] { return vocab_from_gpt2_files(R"({"a": 0, "b": 1})", "#version: 0.2\na b c\n"); });
  REQUIRE(!g.ok());
  CHECK(g.err().code == errc::bad_value);
  CHECK(g.err().offset == 14u);
}

TEST_CASE("tokenizer_config.json: special tokens as strings or objects") {
  vocab v = vocab_from_tokenizer_json(bpe_json("null"));
  std::vector<finding> fs;
  vocab_apply_tokenizer_config(
      v,
      R"({"bos_token": {"content": "a"}, "eos_token": "<|end|>", "pad_token": "zzz", "add_bos_token": true})",
      &fs);
  CHECK(v.bos_id == 0);
  CHECK(v.eos_id == 3);
  CHECK(v.pad_id == -1);
  CHECK(v.add_bos);
  REQUIRE(fs.size() == 1u);
  CHECK(fs[0].code == "tokenizer_config.unknown_token");
}
