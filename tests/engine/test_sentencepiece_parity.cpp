// Our SentencePiece BPE against the reference library (Debian's libsentencepiece) on the same
// tokenizer.model files, over a few hundred generated strings: words, digits, whitespace runs,
// punctuation, several scripts, emoji and ZWJ sequences. No BOS on either side.
//
// This file builds twice: as the doctest executable, and with GB_SPM_REFERENCE_MAIN as the small
// reference program that alone links libsentencepiece (its embedded protobuf-lite cannot share a process
// with libprotobuf). The reference reads NUL-separated strings and prints "ids<TAB>hex(decoded)" lines.
#ifdef GB_SPM_REFERENCE_MAIN

#include <sentencepiece_processor.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: engine_spm_reference MODEL STRINGS_FILE\n");
    return 2;
  }
  sentencepiece::SentencePieceProcessor sp;
  if (!sp.Load(argv[1]).ok()) return 3;
  std::ifstream in(argv[2], std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = 0;
  while (pos < all.size()) {
    size_t end = all.find('\0', pos);
    if (end == std::string::npos) end = all.size();
    std::vector<int> ids;
    std::string back;
    if (!sp.Encode(all.substr(pos, end - pos), &ids).ok() || !sp.Decode(ids, &back).ok()) return 4;
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
    line += '\t';
    static const char* hex = "0123456789abcdef";
    for (const char c : back) {
      line += hex[static_cast<unsigned char>(c) >> 4];
      line += hex[static_cast<unsigned char>(c) & 15];
    }
    std::printf("%s\n", line.c_str());
    pos = end + 1;
  }
  return 0;
}

#else

#include <doctest/doctest.h>

#include <cstdio>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "formats/archive.h"
#include "probes/engine/tokenizer.h"
#include "tests/support/data.h"

#ifdef GB_SPM_REFERENCE

namespace {

std::vector<std::string> generated_strings(size_t count) {
  const std::vector<std::string> pool = {"Hello",
                                         "world",
                                         "the",
                                         "The",
                                         "quick",
                                         "brown",
                                         "fox",
                                         "jumps",
                                         "over",
                                         "lazy",
                                         "dog",
                                         "Once",
                                         "upon",
                                         "a",
                                         "time",
                                         "Lily",
                                         "Tom",
                                         "park",
                                         "isn't",
                                         "they're",
                                         "I'll",
                                         "don't",
                                         "3",
                                         "33",
                                         "333",
                                         "2024",
                                         "3.14",
                                         "1,000,000",
                                         "0x1F",
                                         "-42",
                                         "+7",
                                         "(",
                                         ")",
                                         "[",
                                         "]",
                                         "{",
                                         "}",
                                         ",",
                                         ".",
                                         "...",
                                         "!",
                                         "?",
                                         "!!!",
                                         ";",
                                         ":",
                                         "\"",
                                         "'",
                                         "`",
                                         "~",
                                         "@",
                                         "#",
                                         "$",
                                         "%",
                                         "^",
                                         "&",
                                         "*",
                                         "_",
                                         "=",
                                         "<",
                                         ">",
                                         "/",
                                         "\\",
                                         "|",
                                         "—",
                                         "–",
                                         "…",
                                         "«",
                                         "»",
                                         "нещо",
                                         "на",
                                         "Български",
                                         "Привет",
                                         "мир",
                                         "日本語",
                                         "我想在",
                                         "工作",
                                         "天～",
                                         "한국어",
                                         "កាន់តែពិសេស",
                                         "Cửa",
                                         "Việt",
                                         "Äpfel",
                                         "naïve",
                                         "café",
                                         "façade",
                                         "Ωμέγα",
                                         "ἈΘΗΝΑ",
                                         "עברית",
                                         "العربية",
                                         "हिन्दी",
                                         "ไทย",
                                         "😀",
                                         "😁",
                                         "🦙",
                                         "🚀",
                                         "✅",
                                         "😶‍🌫️",
                                         "👩‍👩‍👧",
                                         "🇫🇷",
                                         "½",
                                         "µ",
                                         "Ⅻ",
                                         "①",
                                         "ﬁ",
                                         "ｆｕｌｌ"};
  const std::vector<std::string> seps = {" ",  " ",  " ",    "",     "  ",   "   ",
                                         "\t", "\n", "\n\n", " \n ", "\r\n", "\t\t "};
  std::mt19937 rng(20240611);
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) {
    std::string s;
    if (rng() % 5 == 0) s += seps[rng() % seps.size()];  // leading whitespace
    const size_t n = 1 + rng() % 12;
    for (size_t k = 0; k < n; ++k) {
      if (k) s += seps[rng() % seps.size()];
      s += pool[rng() % pool.size()];
    }
    if (rng() % 6 == 0) s += seps[rng() % seps.size()];  // trailing whitespace
    out.push_back(s);
  }
  out.push_back("");
  out.push_back(" ");
  out.push_back("\n");
  out.push_back("    Hello\n    Hello");
  return out;
}

gb::engine::tokenizer open_tokenizer(const std::string& path) {
  auto a = gb::archive_open(path);
  REQUIRE_MESSAGE(a.ok(), (a.ok() ? "" : a.err().to_string()));
  REQUIRE_MESSAGE(a.value().tokenizer != nullptr, path << " carries no tokenizer");
  auto t = gb::engine::tokenizer::create(*a.value().tokenizer);
  REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.err().to_string()));
  return t.value();
}

struct reference_result {
  std::vector<int32_t> ids;
  std::string decoded;
};

std::vector<reference_result> run_reference(const std::string& model, const std::vector<std::string>& texts) {
  const std::string input = gb::test::temp_dir("spm_parity") + "/strings.bin";
  std::string all;
  for (const std::string& t : texts) all += t + std::string(1, '\0');
  gb::test::write_file(input, all);
  const std::string cmd = std::string("'") + GB_SPM_REFERENCE + "' '" + model + "' '" + input + "'";
  std::string out;
  REQUIRE(gb::test::run_command(cmd, &out) == 0);
  std::vector<reference_result> results;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    const size_t tab = line.find('\t');
    REQUIRE(tab != std::string::npos);
    reference_result r;
    std::istringstream ids(line.substr(0, tab));
    for (int32_t id; ids >> id;) r.ids.push_back(id);
    for (size_t i = tab + 1; i + 1 < line.size(); i += 2)
      r.decoded.push_back(static_cast<char>(std::stoi(line.substr(i, 2), nullptr, 16)));
    results.push_back(std::move(r));
  }
  REQUIRE(results.size() == texts.size());
  return results;
}

// `ours` is the tokenizer we build; `model` the tokenizer.model the reference library loads.
void check_parity(const std::string& model, const gb::engine::tokenizer& ours) {
  const std::vector<std::string> texts = generated_strings(400);
  const std::vector<reference_result> ref = run_reference(model, texts);
  size_t same = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    CAPTURE(texts[i]);
    const std::vector<int32_t> got = ours.encode(texts[i], /*add_bos=*/false);
    CHECK(ref[i].ids == got);
    same += ref[i].ids == got;
    CHECK(ours.decode(got) == ref[i].decoded);
  }
  MESSAGE(model << ": " << same << "/" << texts.size() << " strings tokenize identically");
}

}  // namespace

TEST_CASE(
    "Llama 2 tokenizer.model: ours (from the same file and from the llama-spm GGUF) == libsentencepiece") {
  GB_DATA(model, "tokenizers/llama2/tokenizer.model");
  GB_DATA(gguf, "tokenizers/llama.cpp-vocab/ggml-vocab-llama-spm.gguf");
  check_parity(model, open_tokenizer(model));
  check_parity(model, open_tokenizer(gguf));
}

TEST_CASE("stories260K tokenizer.model: ours (from the file and from the GGUF) == libsentencepiece") {
  GB_DATA(model, "models/stories260K/hf/tokenizer.model");
  GB_DATA(gguf, "models/stories260K/stories260K.gguf");
  check_parity(model, open_tokenizer(model));
  check_parity(model, open_tokenizer(gguf));
}

#else

TEST_CASE("libsentencepiece not found at configure time") {
  if (gb::test::in_ci()) FAIL("libsentencepiece-dev is required for the SentencePiece parity test");
  MESSAGE("SKIP: built without libsentencepiece");
}

#endif  // GB_SPM_REFERENCE

#endif  // GB_SPM_REFERENCE_MAIN
