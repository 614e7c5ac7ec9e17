// probes/engine/unicode.h: the Unicode the tokenizers need, and the pre-tokenizer regex splitter.
//
// Code points come from UTF-8 the way llama.cpp reads them (an invalid byte becomes U+FFFD and one byte
// is skipped), classes come from generated tables (unicode_data.cpp, tools/gen_unicode_tables.py), and
// the splitter runs the pre-tokenizer regexes of byte-level BPE vocabularies over code points.
//
//   using namespace gb::engine;
//   std::vector<uint32_t> cps = utf8_to_cpts("Hello wörld");          // (N)
//   cpt_class(cps[7]) == ucls::letter;  cpt_is_space(' ');  cpt_tolower('A') == 'a';
//   auto re = split_regex::compile("'s|'t| ?\\p{L}+| ?\\p{N}+|\\s+(?!\\S)");   // result<split_regex>
//   std::vector<size_t> pieces = {cps.size()};                         // lengths, in code points
//   pieces = re.value().split(cps, pieces);                           // matches and the gaps between
//
// Regex dialect (ECMAScript-like, leftmost-first backtracking): literals, `.`, classes `[...]` with ranges
// and negation, escapes \s \S \d \D \w \W \b \B \r \n \t \f \v \xHH \uHHHH and \p{L|N|P|S|M|Z|C} (\p{Lu}
// and the other letter subclasses mean \p{L}, as in llama.cpp), groups (...) (?:...), lookahead (?=...)
// (?!...), anchors ^ $ (at the ends of each piece), quantifiers * + ? {n} {n,} {n,m} and their lazy `?`
// forms. The llama.cpp compatibilities: \d and \w are ASCII; \p{S} does not match '~'; a non-ASCII
// whitespace code point is seen as U+000B by the matcher.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "formats/error.h"

namespace gb::engine {

// Major Unicode general category (unassigned code points count as `other`, like \p{C}).
enum class ucls : uint8_t { letter, number, punctuation, symbol, mark, separator, other };

const char* unicode_version();  // of the generated tables, e.g. "14.0.0"

size_t utf8_len(char first_byte);                        // 1..4 from the lead byte (1 for stray bytes)
uint32_t utf8_next(std::string_view s, size_t& offset);  // decodes one; invalid -> U+FFFD, offset + 1
std::vector<uint32_t> utf8_to_cpts(std::string_view s);
void utf8_append(std::string& out, uint32_t cpt);  // cpt > U+10FFFF -> U+FFFD
std::string cpts_to_utf8(const uint32_t* cpts, size_t n);

ucls cpt_class(uint32_t cpt);
bool cpt_is_space(uint32_t cpt);      // Unicode White_Space
uint32_t cpt_tolower(uint32_t cpt);   // first code point of the full lowercase mapping
uint32_t cpt_nfd_base(uint32_t cpt);  // first code point of the NFD decomposition

// GPT-2 byte-level BPE alphabet: each byte <-> one printable code point.
uint32_t byte_to_cpt(uint8_t b);
int cpt_to_byte(uint32_t cpt);  // -1 when the code point is not in the alphabet

// A compiled pre-tokenizer regex. Regexes are the built-in tables of the tokenizer, never file input;
// a pattern outside the dialect is an errc::unsupported error.
class split_regex {
 public:
  static result<split_regex> compile(std::string_view pattern);
  // Splits each piece of `pieces` (lengths in code points, summing to cps.size()) into the matches of the
  // regex and the unmatched gaps between them, like llama.cpp's unicode_regex_split over std::regex.
  std::vector<size_t> split(const std::vector<uint32_t>& cps, const std::vector<size_t>& pieces) const;
  const std::string& pattern() const;

  struct program;

 private:
  std::shared_ptr<const program> prog_;
};

// Generated tables (unicode_data.cpp).
namespace unicode_tables {
struct category_run {
  uint32_t first;
  uint8_t cls;
};
struct range {
  uint32_t first, last;
};
struct mapping {
  uint32_t from, to;
};
struct nfd_range {
  uint32_t first, last, target;
};
extern const char* const version;
extern const category_run categories[];
extern const size_t categories_count;
extern const range whitespace[];
extern const size_t whitespace_count;
extern const mapping lowercase[];
extern const size_t lowercase_count;
extern const nfd_range nfd[];
extern const size_t nfd_count;
}  // namespace unicode_tables

}  // namespace gb::engine
