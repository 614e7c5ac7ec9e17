// Tokenizer algorithms on small hand-built vocabularies (expected ids worked out by hand in the comments),
// the pre-tokenizer regex splitter, and one test per error the tokenizer reports.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "probes/engine/tokenizer.h"
#include "probes/engine/unicode.h"

using gb::vocab;
using gb::engine::split_regex;
using gb::engine::tokenizer;

namespace {

const std::string mark = "\xE2\x96\x81";  // U+2581

// SentencePiece vocabulary: 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, then the given pieces.
vocab spm_vocab(const std::vector<std::pair<std::string, float>>& pieces, bool bytes = true) {
  vocab v;
  v.model = "llama";
  v.tokens = {"<unk>", "<s>", "</s>"};
  v.token_types = {2, 3, 3};
  v.scores = {0, 0, 0};
  if (bytes) {
    static const char* hex = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) {
      v.tokens.push_back(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">");
      v.token_types.push_back(6);
      v.scores.push_back(0);
    }
  }
  for (const auto& [text, score] : pieces) {
    v.tokens.push_back(text);
    v.token_types.push_back(1);
    v.scores.push_back(score);
  }
  v.bos_id = 1;
  v.eos_id = 2;
  v.unk_id = 0;
  return v;
}

int32_t id_of(const tokenizer& t, const std::string& piece) {
  auto id = t.find(piece);
  REQUIRE(id.has_value());
  return *id;
}

std::vector<size_t> split(const char* pattern, const std::string& text) {
  auto re = split_regex::compile(pattern);
  REQUIRE(re.ok());
  const std::vector<uint32_t> cps = gb::engine::utf8_to_cpts(text);
  return re.value().split(cps, {cps.size()});
}

}  // namespace

TEST_CASE("spm: merges the highest-scoring pair first, not the first-listed one") {
  // "ab" -> "▁ab" -> symbols ▁ a b; candidate pairs "▁a" and "ab"; "▁ab" is not a piece.
  {
    auto t = tokenizer::create(spm_vocab({{mark, -1}, {"a", -2}, {"b", -2}, {mark + "a", -4}, {"ab", -1}}));
    REQUIRE(t.ok());
    // "ab" scores -1 > -4: a+b merge first, then nothing joins ▁ and ab.
    CHECK(t.value().encode("ab", false) ==
          std::vector<int32_t>{id_of(t.value(), mark), id_of(t.value(), "ab")});
  }
  {
    auto t = tokenizer::create(spm_vocab({{mark, -1}, {"a", -2}, {"b", -2}, {mark + "a", -1}, {"ab", -4}}));
    REQUIRE(t.ok());
    CHECK(t.value().encode("ab", false) ==
          std::vector<int32_t>{id_of(t.value(), mark + "a"), id_of(t.value(), "b")});
  }
}

TEST_CASE("spm: equal scores merge the leftmost pair; no dummy prefix when the vocab says so") {
  vocab v = spm_vocab({{"a", -1}, {"aa", -2}});
  v.add_space_prefix = false;
  auto t = tokenizer::create(v);
  REQUIRE(t.ok());
  // "aaa": pairs (0,1) and (1,2) both "aa"; the left one wins -> aa a
  CHECK(t.value().encode("aaa", false) ==
        std::vector<int32_t>{id_of(t.value(), "aa"), id_of(t.value(), "a")});
}

TEST_CASE("spm: byte fallback, unknown, BOS/EOS, decode") {
  vocab v = spm_vocab({{mark, -1}, {"a", -2}, {mark + "a", -1}});
  v.add_eos = true;
  auto t = tokenizer::create(v);
  REQUIRE(t.ok());
  const tokenizer& tk = t.value();
  // "aé": ▁a then é = C3 A9 -> <0xC3> <0xA9> (ids 3 + byte)
  const std::vector<int32_t> ids = tk.encode("a\xC3\xA9", true);
  CHECK(ids == std::vector<int32_t>{1, id_of(tk, mark + "a"), 3 + 0xC3, 3 + 0xA9, 2});
  CHECK(tk.decode(ids) == "a\xC3\xA9");  // BOS/EOS dropped, dummy-prefix space removed
  CHECK(tk.decode(ids, true) == "<s>a\xC3\xA9</s>");
  CHECK(tk.token_piece(3 + 0x41) == "A");
  CHECK(tk.default_add_bos());

  auto nb = tokenizer::create(spm_vocab({{mark, -1}, {"a", -2}}, /*bytes=*/false));
  REQUIRE(nb.ok());
  // no byte pieces: each byte of "é" becomes <unk>
  CHECK(nb.value().encode("\xC3\xA9", false) == std::vector<int32_t>{id_of(nb.value(), mark), 0, 0});
}

TEST_CASE("spm: control tokens only with parse_special, user-defined tokens always") {
  vocab v = spm_vocab({{mark, -1}, {"a", -2}, {mark + "a", -1}});
  v.tokens.push_back("<x>");
  v.token_types.push_back(4);  // user-defined
  v.scores.push_back(0);
  auto t = tokenizer::create(v);
  REQUIRE(t.ok());
  const tokenizer& tk = t.value();
  const int32_t x = id_of(tk, "<x>");
  // "a<s>": without parse_special "<s>" is text: ▁a < s > as bytes
  CHECK(tk.encode("a<s>", false) == std::vector<int32_t>{id_of(tk, mark + "a"), 3 + '<', 3 + 's', 3 + '>'});
  // with it, <s> is id 1 and the text after a special token gets the dummy prefix again
  CHECK(tk.encode("a<s>a", false, true) ==
        std::vector<int32_t>{id_of(tk, mark + "a"), 1, id_of(tk, mark + "a")});
  CHECK(tk.encode("a<x>", false) == std::vector<int32_t>{id_of(tk, mark + "a"), x});
}

TEST_CASE("spm: llama2.c vocabularies store spaces as ' '") {
  vocab v = spm_vocab({{" ", -1}, {"a", -2}, {" a", -1}});
  auto t = tokenizer::create(v);
  REQUIRE(t.ok());
  CHECK(t.value().encode("a a", false) ==
        std::vector<int32_t>{id_of(t.value(), " a"), id_of(t.value(), " a")});
  CHECK(t.value().decode(t.value().encode("a a", true)) == "a a");
}

TEST_CASE("bpe: byte-level merges by rank after the GPT-2 pre-tokenizer") {
  vocab v;
  v.model = "gpt2";
  v.pre = "gpt-2";
  for (int b = 0; b < 256; ++b) {  // token b = the byte alphabet character of byte b
    std::string s;
    gb::engine::utf8_append(s, gb::engine::byte_to_cpt(static_cast<uint8_t>(b)));
    v.tokens.push_back(s);
  }
  v.tokens.insert(v.tokens.end(), {"he", "ll", "hell", "\xC4\xA0w"});  // 256..259 ("Ġw": space is U+0120)
  v.merges = {"h e", "l l", "he ll", "\xC4\xA0 w"};
  auto t = tokenizer::create(v);
  REQUIRE(t.ok());
  const tokenizer& tk = t.value();
  // "hello" -> he, ll (ranks 0, 1) -> hell (rank 2), o; " world" -> Ġw (rank 3), o, r, l, d
  const std::vector<int32_t> ids = tk.encode("hello world", false);
  CHECK(ids == std::vector<int32_t>{258, 'o', 259, 'o', 'r', 'l', 'd'});
  CHECK(tk.decode(ids) == "hello world");
  CHECK(tk.token_piece(259) == " w");
  CHECK_FALSE(tk.default_add_bos());
  // without a BOS id in the file, llama.cpp's BPE default is 11
  CHECK(tk.bos_id() == 11);
}

TEST_CASE("wpm: BERT normalisation and longest-match-first, GGUF and HF spellings") {
  const std::vector<std::string> gguf = {"[PAD]",     "[UNK]", "[CLS]", "[SEP]",    mark + "hello",
                                         mark + "un", "aff",   "able",  mark + "!", mark + "e"};
  const std::vector<std::string> hf = {"[PAD]", "[UNK]", "[CLS]",  "[SEP]", "hello",
                                       "un",    "##aff", "##able", "!",     "e"};
  for (const auto* tokens : {&gguf, &hf}) {
    vocab v;
    v.model = "bert";
    v.tokens = *tokens;
    v.token_types = {3, 3, 3, 3, 1, 1, 1, 1, 1, 1};
    v.unk_id = 1;
    v.cls_id = 2;
    v.sep_id = 3;
    auto t = tokenizer::create(v);
    REQUIRE(t.ok());
    // words: hello | unaffable -> un aff able | ! | ete (accents stripped; "e" then no "te": whole word
    // becomes [UNK]) | xyz -> [UNK]
    CHECK(t.value().encode("Hello UNAFFABLE! \xC3\x89t\xC3\xA9 xyz", true) ==
          std::vector<int32_t>{2, 4, 5, 6, 7, 8, 1, 1, 3});
    CHECK(t.value().decode({4, 5, 6, 7}) == "hello unaffable");
  }
}

TEST_CASE("regex splitter: GPT-2, Llama-3, llama.cpp quirks, empty matches") {
  const char* gpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
  // Hello | , | ␠y | ' | all | ! | ␠ | ␠ok
  CHECK(split(gpt2, "Hello, y'all!  ok") == std::vector<size_t>{5, 1, 2, 1, 3, 1, 1, 3});
  const char* llama3 =
      "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
      "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  // I | 'VE | ␠ | 123 | 45 | \n\n | ␠x
  CHECK(split(llama3, "I'VE 12345\n\n x") == std::vector<size_t>{1, 3, 1, 3, 2, 2, 2});
  // \p{S} leaves out '~' as llama.cpp's collapsed regex does: a | + | ~b (unmatched gaps kept)
  CHECK(split("\\p{S}+", "a+~b") == std::vector<size_t>{1, 1, 2});
  // zero-width matches split: 1 | 234 | 567
  CHECK(split("(?=(\\d{3})+(?!\\d))", "1234567") == std::vector<size_t>{1, 3, 3});
  // non-ASCII letters and U+3000 (whitespace, seen as \v): é+ü | ␣ | 日
  CHECK(split("\\p{L}+|\\s", "\xC3\xA9\xC3\xBC\xE3\x80\x80\xE6\x97\xA5") == std::vector<size_t>{2, 1, 1});
}

TEST_CASE("regex splitter: patterns outside the dialect are errc::unsupported") {
  for (const char* bad : {"(?i:a)", "a++", "[z-a]", "\\p{Han}", "(a"}) {
    auto re = split_regex::compile(bad);
    REQUIRE_FALSE(re.ok());
    CHECK(re.err().code == gb::errc::unsupported);
  }
}

TEST_CASE("utf8: invalid bytes become U+FFFD one byte at a time") {
  const std::vector<uint32_t> cps = gb::engine::utf8_to_cpts(
      "a\xC3"
      "b\xE2\x82\xAC");
  CHECK(cps == std::vector<uint32_t>{'a', 0xFFFD, 'b', 0x20AC});
  CHECK(gb::engine::cpt_tolower(0x00C9) == 0x00E9);  // É -> é
  CHECK(gb::engine::cpt_nfd_base(0x00E9) == 'e');
  CHECK(gb::engine::cpt_is_space(0x3000));
  CHECK(gb::engine::cpt_class(0x4E00) == gb::engine::ucls::letter);
}

TEST_CASE("tokenizer errors: errc::bad_value") {
  vocab empty;
  empty.model = "llama";
  auto a = tokenizer::create(empty);
  REQUIRE_FALSE(a.ok());
  CHECK(a.err().code == gb::errc::bad_value);

  vocab v = spm_vocab({{"a", -1}});
  v.scores.pop_back();  // one score short
  auto b = tokenizer::create(v);
  REQUIRE_FALSE(b.ok());
  CHECK(b.err().code == gb::errc::bad_value);

  vocab w = spm_vocab({{"a", -1}});
  w.bos_id = static_cast<int32_t>(w.tokens.size());  // one past the end
  auto c = tokenizer::create(w);
  REQUIRE_FALSE(c.ok());
  CHECK(c.err().code == gb::errc::bad_value);
}

TEST_CASE("tokenizer errors: errc::unsupported") {
  vocab u = spm_vocab({{"a", -1}});
  u.model = "unigram";
  auto a = tokenizer::create(u);
  REQUIRE_FALSE(a.ok());
  CHECK(a.err().code == gb::errc::unsupported);

  vocab b;
  b.model = "gpt2";
  b.pre = "no-such-pre-tokenizer";
  b.tokens = {"a"};
  auto r = tokenizer::create(b);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == gb::errc::unsupported);
}
