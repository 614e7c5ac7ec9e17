// SentencePiece tokenizer.model: real Llama-2 and stories260K models, compared with the llama2.c
// tokenizer files made from them, and bad bytes.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "formats/archive.h"
#include "formats/tokenizer_files.h"
#include "tests/support/data.h"

using namespace gb;

namespace {

// Same pieces and scores, except ids 1 and 2 ("<s>"/"</s>" vs llama2.c's "\n<s>\n"/"\n</s>\n").
void compare_with_llama2c(const vocab& spm, const vocab& l2c) {
  REQUIRE(spm.size() == l2c.size());
  size_t same = 0;
  for (size_t i = 0; i < spm.size(); ++i) {
    if (i == 1 || i == 2) continue;
    CHECK_MESSAGE(spm.tokens[i] == l2c.tokens[i], "id " << i);
    CHECK_MESSAGE(spm.scores[i] == l2c.scores[i], "id " << i);
    CHECK_MESSAGE(spm.token_types[i] == l2c.token_types[i], "id " << i);
    same += spm.tokens[i] == l2c.tokens[i];
  }
  CHECK(same == spm.size() - 2);
}

}  // namespace

TEST_CASE("sentencepiece: Llama-2 tokenizer.model equals tokenizer.bin") {
  GB_DATA(model, "tokenizers/llama2/tokenizer.model");
  GB_DATA(bin, "tokenizers/llama2/tokenizer.bin");
  auto r = archive_open(model);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  const archive& a = r.value();
  CHECK(a.format == file_format::sentencepiece);
  REQUIRE(a.tokenizer);
  const vocab& v = *a.tokenizer;
  CHECK(v.size() == 32000u);
  CHECK(v.model == "llama");
  CHECK(v.byte_fallback);
  CHECK(v.add_space_prefix);
  CHECK(v.unk_id == 0);
  CHECK(v.bos_id == 1);
  CHECK(v.eos_id == 2);
  CHECK(v.tokens[1] == "<s>");
  CHECK(v.token_types[0] == 2);
  CHECK(v.token_types[1] == 3);
  CHECK(v.token_types[3] == 6);
  CHECK(v.tokens[3] == "<0x00>");
  auto rb = archive_open(bin);
  REQUIRE_MESSAGE(rb.ok(), (rb.ok() ? "" : rb.err().to_string()));
  REQUIRE(rb.value().tokenizer);
  compare_with_llama2c(v, *rb.value().tokenizer);
}

TEST_CASE("sentencepiece: stories260K tokenizer.model equals tok512.bin") {
  GB_DATA(model, "models/stories260K/hf/tokenizer.model");
  GB_DATA(bin, "models/stories260K/tok512.bin");
  auto r = archive_open(model);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().to_string()));
  REQUIRE(r.value().tokenizer);
  CHECK(r.value().tokenizer->size() == 512u);
  CHECK(r.value().meta("sentencepiece.piece_count")->as_int() == 512);
  auto rb = archive_open(bin);
  REQUIRE(rb.ok());
  compare_with_llama2c(*r.value().tokenizer, *rb.value().tokenizer);
}

TEST_CASE("sentencepiece: bytes that are not a ModelProto") {
  std::string dir = test::temp_dir("spm_bad");
  const uint8_t bad[] = {0x0a, 0xff, 0xff, 0xff, 0x0f, 0x0a};  // pieces: length far past the end
  test::write_file(dir + "/tokenizer.model", bad, sizeof bad);
  auto r = archive_open(dir + "/tokenizer.model");
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::bad_protobuf);
}

TEST_CASE("sentencepiece: a model without pieces, and one with out-of-range special ids") {
  const uint8_t none[] = {0x12, 0x02, 0x18, 0x02};  // trainer_spec { model_type: BPE }
  auto r = capture("x", [&] { return vocab_from_sentencepiece(none, sizeof none); });
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::bad_value);

  // pieces { piece: "a" score: 0 } ; trainer_spec { model_type: 1, bos_id: 7 }
  const uint8_t one[] = {0x0a, 0x03, 0x0a, 0x01, 'a', 0x12, 0x05, 0x18, 0x01, 0xc8, 0x02, 0x07};
  std::vector<finding> fs;
  vocab v = vocab_from_sentencepiece(one, sizeof one, &fs);
  CHECK(v.model == "unigram");
  CHECK(v.size() == 1u);
  CHECK(v.bos_id == -1);
  bool flagged = false;
  for (const auto& f : fs) flagged |= f.code == "sentencepiece.bad_special_id";
  CHECK(flagged);
}
