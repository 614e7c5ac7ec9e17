// probes/engine/tokenizer.cpp: SentencePiece BPE, byte-level BPE and WordPiece, after llama.cpp's
// src/llama-vocab.cpp (algorithms re-implemented; same tie-breaks, fallbacks and special-token rules).
#include "probes/engine/tokenizer.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "probes/engine/unicode.h"

namespace gb::engine {

namespace {

// Token attributes (llama.cpp's llama_token_attr, as a bit set).
enum attr : uint8_t {
  attr_normal = 1,
  attr_unknown = 2,
  attr_control = 4,
  attr_user = 8,
  attr_unused = 16,
  attr_byte = 32,
  attr_lstrip = 64,
  attr_rstrip = 128  // a special token also swallows the whitespace before / after it
};

constexpr const char* k_space_mark = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

// Pieces llama.cpp treats as control tokens whatever their stored type (end-of-turn, end-of-generation
// and fill-in-the-middle markers it detects by text; llama_vocab::impl::load, node-llama-cpp 3.22's build).
constexpr const char* k_forced_control[] = {"<|eot_id|>",
                                            "<|im_end|>",
                                            "<|end|>",
                                            "<end_of_turn>",
                                            "<|endoftext|>",
                                            "<|end_of_text|>",
                                            "<EOT>",
                                            "_<EOT>",
                                            "[EOT]",
                                            "[EOS]",
                                            "<|eom_id|>",
                                            "<|return|>",
                                            "<|call|>",
                                            "<|calls|>",
                                            "<|flush|>",
                                            "</s>",
                                            "<eos>",
                                            "<turn|>",
                                            "<|tool_response>",
                                            "[e~[",
                                            "<end_of_utterance>",
                                            "<｜end▁of▁sentence｜>",
                                            "<|fim_prefix|>",
                                            "<fim-prefix>",
                                            "<fim_prefix>",
                                            "<｜fim▁begin｜>",
                                            "<PRE>",
                                            "▁<PRE>",
                                            "<|fim_suffix|>",
                                            "<fim-suffix>",
                                            "<fim_suffix>",
                                            "<｜fim▁hole｜>",
                                            "<SUF>",
                                            "▁<SUF>",
                                            "<|fim_middle|>",
                                            "<fim-middle>",
                                            "<fim_middle>",
                                            "<｜fim▁end｜>",
                                            "<MID>",
                                            "▁<MID>",
                                            "<|fim_pad|>",
                                            "<fim-pad>",
                                            "<fim_pad>",
                                            "<PAD>",
                                            "<|fim_repo|>",
                                            "<|repo_name|>",
                                            "<fim-repo>",
                                            "<REPO>",
                                            "<reponame>",
                                            "<|file_sep|>"};

// Pre-tokenizer regexes of llama.cpp's llm_tokenizer_bpe, by tokenizer.ggml.pre name.
constexpr const char* re_gpt2 =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
constexpr const char* re_llama3 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* re_qwen2 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* re_bloom = " ?[^(\\s|.,!?…。，、।۔،)]+";
constexpr const char* re_deepseek3 =
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
    "?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* re_gpt4o =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'"
    "[mM]|"
    "'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'["
    "rR]["
    "eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|"
    "\\s+";

struct pre_spec {
  std::vector<std::string> names;
  std::vector<std::string> regexes;
  bool ignore_merges = false;
};

const std::vector<pre_spec>& pre_specs() {
  // The regex literals hold wide characters, whose columns clang-format 14 counts differently on each pass
  // (the table would never be clean): left as written.
  // clang-format off
  static const std::vector<pre_spec> specs = {
      {{"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
        "jina-v5-nano"},
       {re_llama3},
       true},
      {{"dbrx", "smaug-bpe", "glm4", "chatglm-bpe"}, {re_llama3}, false},
      {{"deepseek-llm"},
       {"[\r\n]",
        "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-"
        "ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\\u1F7Dᾀ-ᾴᾶ-ᾼ\\u1FBE"
        "ῂ-ῄῆ-ῌῐ-\\u1FD3ῖ-\\u1FDBῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\\u2126ℨ\\u212A-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-"
        "ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-"
        "𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
        "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+$", "[一-龥ࠀ-一가-퟿]+", "\\p{N}+"},
       false},
      {{"deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4"},
       {"\\p{N}{1,3}", "[一-龥぀-ゟ゠-ヿ]+", re_deepseek3},
       false},
      {{"deepseek-coder"},
       {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"},
       false},
      {{"falcon"}, {"[\\p{P}\\$\\+<=>\\^~\\|`]+", re_gpt2, "[0-9][0-9][0-9]"}, false},
      {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2"},
       {"\\p{N}", re_gpt2},
       false},
      {{"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
        "modern-bert", "mpt", "olmo", "jais", "trillion", "granite-docling", "jina-v1-en", "jina-v2-code",
        "roberta-bpe", "exaone4"},
       {re_gpt2},
       false},
      {{"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open",
        "grok-2"},
       {re_qwen2},
       false},
      {{"qwen35"},
       {"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{"
        "N}| "
        "?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
       false},
      {{"poro-chat", "bloom", "gpt3-finnish"}, {re_bloom}, false},
      {{"viking"}, {re_bloom, "\\p{N}"}, false},
      {{"tekken"},
       {"[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{"
        "L}])(["
        "^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| "
        "?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
       true},
      {{"chameleon"},
       {"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )", "\\p{N}",
        "[\\p{P}!-/:-@\\[-`{-~]", re_gpt2},
       false},
      {{"gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"}, {re_gpt4o}, false},
      {{"superbpe"}, {"\\p{N}+", "(?=(\\d{3})+(?!\\d))"}, false},
      {{"bailingmoe", "bailingmoe2", "llada-moe"},
       {"'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
        "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"},
       false},
      {{"seed-coder"},
       {"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| "
        "?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
       false},
      {{"ufakzeka"},
       {"[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
       false},
      {{"minicpm5"},
       {"\\p{N}{1,3}",
        "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| "
        "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
       true},
      {{"default"}, {"[\\p{P}\\$\\+<=>\\^~\\|]+", re_gpt2, "\\p{N}+", "[0-9][0-9][0-9]"}, false},
  };
  // clang-format on
  return specs;
}

// Pre-tokenizer names that ask llama.cpp to add BOS by default (besides an explicit add_bos_token).
bool pre_adds_bos(const std::string& pre) {
  static const char* names[] = {"llama3",   "llama-v3", "llama-bpe",    "falcon3", "falcon-h1", "pixtral",
                                "midm-2.0", "lfm2",     "jina-v5-nano", "tekken",  "chameleon"};
  return std::find(std::begin(names), std::end(names), pre) != std::end(names);
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty() || from == to) return;
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  size_t pos = 0;
  for (;;) {
    const size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "<0xAB>" -> 0xAB, else -1.
int byte_piece_value(std::string_view t) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return -1;
  const int hi = hex_digit(t[3]), lo = hex_digit(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

bool is_chinese_char(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) ||
         (c >= 0x2B920 && c <= 0x2CEAF) ||  // sic: HF's bert uses 0x2B920, not 0x2B820
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

}  // namespace

const char* tokenizer_kind_name(tokenizer_kind k) {
  switch (k) {
    case tokenizer_kind::spm:
      return "spm";
    case tokenizer_kind::bpe:
      return "bpe";
    case tokenizer_kind::wpm:
      return "wpm";
  }
  return "?";
}

namespace {
struct text_hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
}  // namespace

// Pieces already encoded during one encode() call (text repeats; words are cheap to look up again).
using word_cache = std::unordered_map<std::string, std::vector<int32_t>, text_hash, std::equal_to<>>;

struct tokenizer::impl {
  tokenizer_kind kind = tokenizer_kind::spm;
  std::string pre;
  std::vector<std::string> tokens;  // (V) stored pieces
  std::vector<float> scores;        // (V)
  std::vector<uint8_t> attrs;       // (V) attr bits
  std::vector<std::string> pieces;  // (V) decoded text of each token (special tokens as stored)
  std::unordered_map<std::string_view, int32_t> by_text;  // piece -> first id (views into `tokens`)
  std::vector<int32_t> special;                           // control/user/unknown ids, longest text first
  int32_t bos = -1, eos = -1, unk = -1, sep = -1;
  bool add_eos = false, add_bos_default = false;
  bool add_space_prefix = true;
  std::string space_escape = k_space_mark;  // what a space becomes for SPM (" " for llama2.c files)
  int32_t byte_tokens[256] = {};            // SPM byte fallback ids (-1: none)
  // bpe
  std::unordered_map<std::string, int32_t> ranks;  // "left right" -> merge rank
  std::vector<split_regex> regexes;
  bool ignore_merges = false;
  // wpm
  std::unordered_map<std::string, int32_t> wpm_lookup;  // when the vocab uses HF "##" continuations
  bool wpm_hf = false;
  size_t max_token_len = 0;

  int32_t lookup(std::string_view s) const {
    const auto it = by_text.find(s);
    return it == by_text.end() ? -1 : it->second;
  }
  int32_t wpm_find(const std::string& s) const {
    if (!wpm_hf) return lookup(s);
    const auto it = wpm_lookup.find(s);
    return it == wpm_lookup.end() ? -1 : it->second;
  }

  struct fragment {
    int32_t token;  // >= 0: a special token; -1: raw text [off, off + len)
    size_t off, len;
  };
  std::vector<fragment> partition(std::string_view text, bool parse_special) const;
  void spm_encode(std::string_view text, std::vector<int32_t>& out, word_cache& cache) const;
  std::unordered_set<uint64_t> spm_pairs;  // unit_pair of every two adjacent characters inside a piece
  static uint64_t unit_pair(std::string_view a, std::string_view b) {
    uint64_t k = 0;
    for (const char c : a) k = (k << 8) | static_cast<uint8_t>(c);
    k = (k << 3) | a.size();  // characters are 1-4 bytes: 35 bits each side
    uint64_t m = 0;
    for (const char c : b) m = (m << 8) | static_cast<uint8_t>(c);
    m = (m << 3) | b.size();
    return (k << 35) ^ m;
  }
  void bpe_encode(std::string_view text, std::vector<int32_t>& out, word_cache& cache) const;
  struct merge_scratch {  // buffers reused across the words of one encode() call
    struct symbol {
      int64_t prev, next;
      size_t off, n;
      int32_t id;  // piece id of the symbol's text, -1 when it is no piece
    };
    struct bigram {
      double priority;  // piece score, or minus the merge rank: higher merges first
      int64_t left, right;
      size_t size;
      int32_t merged;  // id of the merged text (-1: no piece)
    };
    std::vector<symbol> sym;
    std::vector<bigram> heap;
    std::string key;
  };
  void merge_word(std::string_view word, std::vector<int32_t>& out, merge_scratch& w) const;
  // Merges between two pieces by ids: open addressing, power-of-two size, key = left << 32 | right.
  struct pair_entry {
    static constexpr uint64_t empty = ~0ull;
    uint64_t key = empty;
    int32_t rank = 0, merged = -1;
  };
  std::vector<pair_entry> pair_table;
  const pair_entry* pair_find(int32_t a, int32_t b) const;
  int32_t byte_ids[256] = {};  // byte-level BPE: id of each byte's alphabet character (-1: none)
  bool spm_by_rank = false;    // HF tokenizer.json BPE with byte fallback: merges, no scores
  void wpm_encode(std::string_view text, std::vector<int32_t>& out) const;
  std::string render(int32_t id) const;
  // create()'s steps, in this order
  void load_pieces(const vocab& v);
  void set_special_ids(const vocab& v);
  void merge_tables(const vocab& v);
  void spm_setup(const vocab& v);
  void bpe_setup(const vocab& v);
  void wpm_setup();
  void special_tokens(const vocab& v);
};

// Cuts special tokens out of the text, longest first; user-defined ones always, control/unknown ones
// only when parse_special (llama.cpp's tokenizer_st_partition).
std::vector<tokenizer::impl::fragment> tokenizer::impl::partition(std::string_view text,
                                                                  bool parse_special) const {
  std::vector<fragment> frags;
  if (text.empty()) return frags;
  frags.push_back({-1, 0, text.size()});
  for (const int32_t id : special) {
    if (!parse_special && (attrs[id] & (attr_control | attr_unknown))) continue;
    const std::string& t = tokens[id];
    std::vector<fragment> next;
    next.reserve(frags.size());
    bool changed = false;
    for (const fragment& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      size_t off = f.off;
      const size_t end = f.off + f.len;
      const auto space = [&](size_t i) { return std::isspace(static_cast<unsigned char>(text[i])) != 0; };
      for (;;) {
        const size_t hit = text.substr(0, end).find(t, off);
        if (hit == std::string_view::npos) break;
        size_t left = hit;  // lstrip: the whitespace before the token goes with it
        if (attrs[id] & attr_lstrip)
          while (left > off && space(left - 1)) --left;
        if (left > off) next.push_back({-1, off, left - off});
        next.push_back({id, 0, 0});
        off = hit + t.size();
        if (attrs[id] & attr_rstrip)
          while (off < end && space(off)) ++off;
        changed = true;
      }
      if (off < end) next.push_back({-1, off, end - off});
    }
    if (changed) frags = std::move(next);
  }
  return frags;
}

// SentencePiece text (spaces already escaped), cut into independent stretches for merge_word: no piece
// can span a boundary between two characters that are adjacent in no piece, so merging each stretch alone
// gives the same result as merging the whole text (llama.cpp merges it whole), with small queues.
void tokenizer::impl::spm_encode(std::string_view text, std::vector<int32_t>& out, word_cache& cache) const {
  merge_scratch scratch;
  const auto stretch = [&](std::string_view s) {
    const auto hit = cache.find(s);
    if (hit != cache.end()) {
      out.insert(out.end(), hit->second.begin(), hit->second.end());
      return;
    }
    const size_t before = out.size();
    merge_word(s, out, scratch);
    if (cache.size() < (1u << 16) && s.size() <= 64)
      cache.emplace(std::string(s),
                    std::vector<int32_t>(out.begin() + static_cast<std::ptrdiff_t>(before), out.end()));
  };
  size_t start = 0, prev_unit = 0, prev_len = 0;
  for (size_t off = 0; off < text.size();) {
    const size_t n = std::min(utf8_len(text[off]), text.size() - off);
    if (off > 0 && !spm_pairs.count(unit_pair(text.substr(prev_unit, prev_len), text.substr(off, n)))) {
      stretch(text.substr(start, off - start));
      start = off;
    }
    prev_unit = off;
    prev_len = n;
    off += n;
  }
  if (start < text.size()) stretch(text.substr(start));
}

// Pairwise merging of one word, the shape llama.cpp's SPM and BPE sessions share: start from UTF-8
// characters and repeatedly merge the best adjacent pair (ties: leftmost) until none applies.
//   SentencePiece (llm_tokenizer_spm_session): a pair may merge when its concatenation is a piece; best =
//     highest piece score. Leftover symbols fall back to <0xXX> byte pieces, else <unk>.
//   BPE (llm_tokenizer_bpe_session; also HF BPE with byte fallback): a pair may merge when "left right" is
//     a merge; best = lowest rank. Byte-level words (GPT-2 alphabet) fall back to one-byte pieces.
// Symbols carry the id of their text, so most BPE pairs are looked up by ids in `pair_table`; a symbol
// whose text is no piece (a merge outside the vocabulary) falls back to the "left right" text map.
void tokenizer::impl::merge_word(std::string_view word, std::vector<int32_t>& out, merge_scratch& w) const {
  if (ignore_merges) {
    const int32_t id = lookup(word);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  auto& sym = w.sym;  // (S)
  sym.clear();
  for (size_t off = 0; off < word.size();) {
    const size_t n = std::min(utf8_len(word[off]), word.size() - off);
    int32_t id = -1;
    if (kind == tokenizer_kind::bpe) {  // one alphabet character per byte: table, no hashing
      size_t o = off;
      const int b = cpt_to_byte(utf8_next(word, o));
      id = b >= 0 && o == off + n ? byte_ids[b] : lookup(word.substr(off, n));
    } else {
      id = lookup(word.substr(off, n));
    }
    const auto idx = static_cast<int64_t>(sym.size());
    sym.push_back({idx - 1, off + n == word.size() ? -1 : idx + 1, off, n, id});
    off += n;
  }
  auto& heap = w.heap;
  heap.clear();
  const auto worse = [](const merge_scratch::bigram& l, const merge_scratch::bigram& r) {
    return l.priority < r.priority || (l.priority == r.priority && l.left > r.left);
  };
  const bool by_score = kind == tokenizer_kind::spm && !spm_by_rank;
  const auto try_add = [&](int64_t l, int64_t r) {
    if (l < 0 || r < 0) return;
    double priority = 0;
    int32_t merged = -1;
    if (by_score) {
      merged = lookup(word.substr(sym[l].off, sym[l].n + sym[r].n));
      if (merged < 0) return;
      priority = scores[merged];
    } else if (sym[l].id >= 0 && sym[r].id >= 0) {
      const pair_entry* e = pair_find(sym[l].id, sym[r].id);
      if (!e) return;
      priority = -static_cast<double>(e->rank);
      merged = e->merged;
    } else {
      w.key.assign(word.substr(sym[l].off, sym[l].n));
      w.key.push_back(' ');
      w.key.append(word.substr(sym[r].off, sym[r].n));
      const auto it = ranks.find(w.key);
      if (it == ranks.end()) return;
      priority = -static_cast<double>(it->second);
      merged = lookup(word.substr(sym[l].off, sym[l].n + sym[r].n));
    }
    heap.push_back({priority, l, r, sym[l].n + sym[r].n, merged});
    std::push_heap(heap.begin(), heap.end(), worse);
  };
  for (int64_t i = 1; i < static_cast<int64_t>(sym.size()); ++i) try_add(i - 1, i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), worse);
    const merge_scratch::bigram b = heap.back();
    heap.pop_back();
    auto& l = sym[b.left];
    auto& r = sym[b.right];
    // Stale when either side changed; symbols only grow, and a merged-away one has n == 0.
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size || l.next != b.right) continue;
    l.n += r.n;
    l.id = b.merged;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
  for (int64_t i = sym.empty() ? -1 : 0; i != -1; i = sym[i].next) {
    if (sym[i].id >= 0) {
      out.push_back(sym[i].id);
      continue;
    }
    const std::string_view s = word.substr(sym[i].off, sym[i].n);
    if (kind == tokenizer_kind::spm) {
      for (const char c : s) {
        const int32_t b = byte_tokens[static_cast<uint8_t>(c)];
        out.push_back(b >= 0 ? b : unk);
      }
      continue;
    }
    for (const char c : s) {  // llama.cpp: each byte as a one-byte piece, dropped when absent
      const int32_t b = lookup(std::string_view(&c, 1));
      if (b >= 0) out.push_back(b);
    }
  }
}

const tokenizer::impl::pair_entry* tokenizer::impl::pair_find(int32_t a, int32_t b) const {
  if (pair_table.empty()) return nullptr;
  const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  const size_t mask = pair_table.size() - 1;
  for (size_t i = (key * 0x9E3779B97F4A7C15ull) >> 20 & mask;; i = (i + 1) & mask) {
    const pair_entry& e = pair_table[i];
    if (e.key == key) return &e;
    if (e.key == pair_entry::empty) return nullptr;
  }
}

void tokenizer::impl::bpe_encode(std::string_view text, std::vector<int32_t>& out, word_cache& cache) const {
  merge_scratch scratch;
  const std::vector<uint32_t> cps = utf8_to_cpts(text);  // (N)
  std::vector<size_t> pieces = {cps.size()};             // lengths in code points
  for (const split_regex& re : regexes) pieces = re.split(cps, pieces);
  std::string raw, word;
  size_t at = 0;
  for (const size_t len : pieces) {
    raw.clear();
    for (size_t i = at; i < at + len; ++i) utf8_append(raw, cps[i]);
    at += len;
    if (raw.empty()) continue;
    word.clear();
    for (const char c : raw) utf8_append(word, byte_to_cpt(static_cast<uint8_t>(c)));
    const auto hit = cache.find(word);
    if (hit != cache.end()) {
      out.insert(out.end(), hit->second.begin(), hit->second.end());
      continue;
    }
    const size_t before = out.size();
    merge_word(word, out, scratch);
    if (cache.size() < (1u << 16) && word.size() <= 64)
      cache.emplace(word, std::vector<int32_t>(out.begin() + static_cast<std::ptrdiff_t>(before), out.end()));
  }
}

// BERT: NFD base letters, drop accents and controls, lowercase, split on whitespace, punctuation, ASCII
// symbols and CJK; then greedy longest-match-first WordPiece per word (llama.cpp's llm_tokenizer_wpm).
void tokenizer::impl::wpm_encode(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<std::string> words(1);
  for (uint32_t c : utf8_to_cpts(text)) {
    c = cpt_nfd_base(c);
    if (cpt_is_space(c)) {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    const ucls k = cpt_class(c);
    if (c == 0 || c == 0xFFFD || k == ucls::other || k == ucls::mark) continue;
    std::string s;
    utf8_append(s, cpt_tolower(c));
    if (k == ucls::punctuation || (c < 0x7F && k == ucls::symbol) || is_chinese_char(c)) {
      if (!words.back().empty()) words.emplace_back();
      words.back() = s;
      words.emplace_back();
    } else {
      words.back() += s;
    }
  }
  for (const std::string& w : words) {
    if (w.empty()) continue;
    const std::string word = k_space_mark + w;
    const size_t n = word.size(), first = out.size();
    for (size_t i = 0; i < n; ++i) {
      bool match = false;
      for (size_t j = std::min(n, i + max_token_len + 1); j > i; --j) {
        const int32_t id = wpm_find(word.substr(i, j - i));
        if (id >= 0) {
          out.push_back(id);
          match = true;
          i = j - 1;
          break;
        }
      }
      if (!match) {
        out.resize(first);
        break;
      }
    }
    if (out.size() == first) out.push_back(unk);
  }
}

std::string tokenizer::impl::render(int32_t id) const {
  const std::string& t = tokens[id];
  const uint8_t a = attrs[id];
  if (a & (attr_control | attr_unknown | attr_user)) return t;
  if (a & attr_byte) {
    const int b = byte_piece_value(t);
    return b < 0 ? t : std::string(1, static_cast<char>(b));
  }
  if (!(a & attr_normal)) return "";  // unused / undefined pieces print nothing (llama.cpp)
  std::string s = t;
  switch (kind) {
    case tokenizer_kind::spm:
      replace_all(s, space_escape, " ");
      break;
    case tokenizer_kind::wpm:
      if (wpm_hf)
        s = t.rfind("##", 0) == 0 ? t.substr(2) : " " + t;
      else
        replace_all(s, k_space_mark, " ");
      break;
    case tokenizer_kind::bpe: {
      s.clear();
      size_t off = 0;
      while (off < t.size()) {
        const size_t start = off;
        const int b = cpt_to_byte(utf8_next(t, off));
        if (b >= 0)
          s.push_back(static_cast<char>(b));
        else
          s.append(t, start, off - start);  // outside the byte alphabet: kept as written
      }
      break;
    }
  }
  return s;
}

// Pieces (empty ones named as llama.cpp does), scores, attributes from the token types, the text lookup,
// and the control / user-defined tokens llama.cpp forces by spelling.
void tokenizer::impl::load_pieces(const vocab& v) {
  const size_t n = v.tokens.size();
  tokens = v.tokens;
  for (size_t i = 0; i < n; ++i) {
    if (tokens[i].empty()) tokens[i] = "[EMPTY_" + std::to_string(i) + "]";  // as llama.cpp
  }
  scores = v.scores.empty() ? std::vector<float>(n, 0.0f) : v.scores;
  attrs.assign(n, attr_normal);
  if (!v.token_types.empty()) {
    // GGUF token types 1..6 (normal, unknown, control, user-defined, unused, byte); others are undefined
    constexpr uint8_t k_type_attr[] = {
        0, attr_normal, attr_unknown, attr_control, attr_user, attr_unused, attr_byte,
    };
    for (size_t i = 0; i < n; ++i) {
      const int32_t type = v.token_types[i];
      attrs[i] = type >= 1 && type <= 6 ? k_type_attr[type] : 0;
    }
  }
  by_text.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    by_text.emplace(tokens[i], static_cast<int32_t>(i));  // first id wins on duplicates
    max_token_len = std::max(max_token_len, tokens[i].size());
  }
  for (const char* name : k_forced_control) {
    const int32_t id = lookup(name);
    if (id >= 0) attrs[id] |= attr_control;
  }
  // llama.cpp's exceptions to that list, in its order: gpt-oss's channel markers are user-defined (always
  // cut out of text); o200k_harmony / solar-open's "<|end|>" is not end-of-generation but user-defined;
  // with Gemma 4's / PaddleOCR's "<|tool_response>", "</s>" is a normal token.
  for (const char* name : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"})
    if (const int32_t id = lookup(name); id >= 0) attrs[id] = attr_user;
  {
    const auto has = [&](const char* name) { return lookup(name) >= 0; };
    const bool call = has("<|call|>") || has("<|calls|>");
    if (has("<|end|>") && ((has("<|return|>") && call) || (call && has("<|flush|>"))))
      attrs[lookup("<|end|>")] = attr_user;
    if (has("<|tool_response>") && has("</s>")) attrs[lookup("</s>")] = attr_normal;
  }
}

// Special ids: the file's, else llama.cpp's defaults per model (dropped when out of range); BOS/EOS
// defaults.
void tokenizer::impl::set_special_ids(const vocab& v) {
  const size_t n = tokens.size();
  const auto pick = [n](int32_t given, int32_t fallback) {
    const int32_t id = given >= 0 ? given : fallback;
    return id >= 0 && static_cast<size_t>(id) < n ? id : -1;
  };
  const auto check = [n](int32_t id, const char* what) {
    if (id >= 0 && static_cast<size_t>(id) >= n)
      fail(errc::bad_value, 0,
           std::string("tokenizer: ") + what + " id " + std::to_string(id) + " >= " + std::to_string(n) +
               " tokens");
  };
  check(v.bos_id, "BOS");
  check(v.eos_id, "EOS");
  check(v.unk_id, "UNK");
  check(v.sep_id, "SEP");
  check(v.cls_id, "CLS");
  switch (kind) {
    case tokenizer_kind::spm:
      bos = pick(v.bos_id, 1);
      eos = pick(v.eos_id, 2);
      unk = pick(v.unk_id, 0);
      add_bos_default = true;
      break;
    case tokenizer_kind::bpe:
      bos = pick(v.bos_id, 11);
      eos = pick(v.eos_id, 11);
      unk = pick(v.unk_id, -1);
      break;
    case tokenizer_kind::wpm:
      bos = pick(v.cls_id >= 0 ? v.cls_id : v.bos_id, 101);
      sep = pick(v.sep_id, 102);
      eos = sep;
      unk = pick(v.unk_id, 100);
      add_bos_default = true;
      break;
  }
  add_eos = v.add_eos;
  if (v.add_bos) add_bos_default = true;
}

// Merge ranks and the pair table (BPE, and SPM vocabularies without scores), and the byte alphabet ids.
void tokenizer::impl::merge_tables(const vocab& v) {
  if (kind == tokenizer_kind::bpe || (kind == tokenizer_kind::spm && v.scores.empty())) {
    ranks.reserve(v.merges.size() * 2);
    for (size_t i = 0; i < v.merges.size(); ++i) {
      const std::string& m = v.merges[i];
      if (m.size() < 2 || m.find(' ', 1) == std::string::npos) continue;
      ranks.emplace(m, static_cast<int32_t>(std::min<size_t>(i, INT32_MAX)));
    }
    spm_by_rank = kind == tokenizer_kind::spm && !ranks.empty();
    size_t cap = 16;
    while (cap < ranks.size() * 2) cap *= 2;
    pair_table.assign(cap, impl::pair_entry{});
    for (size_t i = 0; i < v.merges.size(); ++i) {
      const std::string& m = v.merges[i];
      const size_t sp = m.size() < 2 ? std::string::npos : m.find(' ', 1);
      if (sp == std::string::npos) continue;
      const int32_t a = lookup(std::string_view(m).substr(0, sp));
      const int32_t b = lookup(std::string_view(m).substr(sp + 1));
      if (a < 0 || b < 0 || ranks.at(m) != static_cast<int32_t>(std::min<size_t>(i, INT32_MAX))) continue;
      const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
      const size_t mask = cap - 1;
      size_t at = (key * 0x9E3779B97F4A7C15ull) >> 20 & mask;
      while (pair_table[at].key != impl::pair_entry::empty && pair_table[at].key != key) at = (at + 1) & mask;
      if (pair_table[at].key == key) continue;  // the first rank of a pair wins
      pair_table[at] = {key, ranks.at(m), lookup(m.substr(0, sp) + m.substr(sp + 1))};
    }
  }
  for (int b = 0; b < 256; ++b) {
    std::string c;
    utf8_append(c, byte_to_cpt(static_cast<uint8_t>(b)));
    byte_ids[b] = lookup(c);
  }
}

// SPM: the space escape, attributes a typeless vocabulary lacks, stretch boundaries, byte fallback ids.
void tokenizer::impl::spm_setup(const vocab& v) {
  if (kind != tokenizer_kind::spm) return;
  const size_t n = tokens.size();
  add_space_prefix = v.add_space_prefix;
  // llama2.c tokenizer files store spaces as ' ' rather than U+2581.
  size_t marks = 0, spaces = 0;
  for (const std::string& t : tokens) {
    marks += t.find(k_space_mark) != std::string::npos;
    spaces += t.find(' ') != std::string::npos;
  }
  if (marks == 0 && spaces > 0) space_escape = " ";
  // Vocabularies without token types: byte pieces and the special ids still need their roles.
  if (v.token_types.empty()) {
    for (size_t i = 0; i < n; ++i) {
      if (byte_piece_value(tokens[i]) >= 0) attrs[i] = attr_byte;
    }
    if (unk >= 0) attrs[unk] = attr_unknown;
    if (bos >= 0) attrs[bos] = attr_control;
    if (eos >= 0) attrs[eos] = attr_control;
  }
  // Stretch boundaries: character pairs found inside no piece (and, merging by rank, inside no merge).
  const auto add_pairs = [&](std::string_view t) {
    for (size_t prev = 0, off = 0; off < t.size();) {
      const size_t len = std::min(utf8_len(t[off]), t.size() - off);
      if (off > 0) spm_pairs.insert(impl::unit_pair(t.substr(prev, off - prev), t.substr(off, len)));
      prev = off;
      off += len;
    }
  };
  for (const std::string& t : tokens) add_pairs(t);
  for (const auto& [m, rank] : ranks) {
    std::string joined = m;
    joined.erase(joined.find(' ', 1), 1);
    add_pairs(joined);
  }
  for (int b = 0; b < 256; ++b) {
    static const char* hex = "0123456789ABCDEF";
    const char name[7] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>', 0};
    int32_t id = lookup(name);
    if (id < 0) {
      const char one = static_cast<char>(b);
      id = lookup(std::string_view(&one, 1));
    }
    byte_tokens[b] = id;
  }
}

// BPE: the pre-tokenizer's regexes by name (an unknown name is refused).
void tokenizer::impl::bpe_setup(const vocab& v) {
  if (kind != tokenizer_kind::bpe) {
    pre = "default";
    return;
  }
  pre = v.pre.empty() ? "default" : v.pre;
  const pre_spec* spec = nullptr;
  for (const pre_spec& s : pre_specs()) {
    if (std::find(s.names.begin(), s.names.end(), pre) != s.names.end()) spec = &s;
  }
  if (!spec) fail(errc::unsupported, 0, "tokenizer: BPE pre-tokenizer '" + pre + "' is not supported");
  for (const std::string& re : spec->regexes) {
    auto r = split_regex::compile(re);
    if (!r) throw failure(r.err());
    regexes.push_back(std::move(r).value());
  }
  ignore_merges = spec->ignore_merges;
  if (pre_adds_bos(pre)) add_bos_default = true;
}

// WPM: HF vocabularies ("##" continuations) get their own lookup.
void tokenizer::impl::wpm_setup() {
  if (kind != tokenizer_kind::wpm) return;
  const size_t n = tokens.size();
  // GGUF BERT vocabularies mark word starts with U+2581 and drop "##"; HF ones use "##" continuations.
  size_t marks = 0, hashes = 0;
  for (const std::string& t : tokens) {
    marks += t.rfind(k_space_mark, 0) == 0;
    hashes += t.size() > 2 && t.rfind("##", 0) == 0;
  }
  if (marks == 0 && hashes > 0) {
    wpm_hf = true;
    for (size_t i = 0; i < n; ++i) {
      const std::string& t = tokens[i];
      const std::string key = t.size() > 2 && t.rfind("##", 0) == 0 ? t.substr(2) : k_space_mark + t;
      wpm_lookup.emplace(key, static_cast<int32_t>(i));
      max_token_len = std::max(max_token_len, key.size());
    }
  }
}

// The special tokens (longest first) and the attributes llama.cpp sets by tokenizer, architecture or
// model name (not stored in files).
void tokenizer::impl::special_tokens(const vocab& v) {
  const size_t n = tokens.size();
  for (size_t i = 0; i < n; ++i) {
    if (attrs[i] & (attr_control | attr_user | attr_unknown)) special.push_back(static_cast<int32_t>(i));
  }
  std::stable_sort(special.begin(), special.end(),
                   [&](int32_t a, int32_t b) { return tokens[a].size() > tokens[b].size(); });
  // Strip attributes llama.cpp sets by tokenizer, architecture or model name (not stored in files).
  {
    std::string name = v.model_name;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto contains = [](const std::string& s, std::initializer_list<const char*> subs) {
      return std::any_of(subs.begin(), subs.end(),
                         [&](const char* x) { return s.find(x) != std::string::npos; });
    };
    const auto set = [&](const char* token, uint8_t a, bool on) {
      if (const int32_t id = lookup(token); id >= 0)
        attrs[id] = static_cast<uint8_t>(on ? attrs[id] | a : attrs[id] & ~a);
    };
    if (contains(v.pre, {"jina-v2-de", "jina-v2-es", "jina-v2-code"}) ||
        contains(v.arch, {"nomic-bert-moe", "jina-bert-v3"})) {
      set("<mask>", attr_lstrip, true);
    } else if (contains(name, {"phi-3", "phi3"})) {
      for (const int32_t id : special) attrs[id] |= attr_rstrip;
      set("</s>", attr_rstrip, true);
      for (const char* t : {"<unk>", "<s>", "<|endoftext|>"}) set(t, attr_rstrip, false);
    } else if (contains(name, {"modern-bert"})) {
      set("[MASK]", attr_lstrip, true);
    }
  }
}

result<tokenizer> tokenizer::create(const vocab& v) {
  return capture("tokenizer", [&]() -> tokenizer {
    auto p = std::make_shared<impl>();
    const size_t n = v.tokens.size();
    if (n == 0) fail(errc::bad_value, 0, "tokenizer: empty vocabulary");
    if (n > static_cast<size_t>(INT32_MAX)) fail(errc::bad_value, 0, "tokenizer: more pieces than int32 ids");
    if (!v.scores.empty() && v.scores.size() != n)
      fail(errc::bad_value, 0,
           "tokenizer: " + std::to_string(v.scores.size()) + " scores for " + std::to_string(n) + " tokens");
    if (!v.token_types.empty() && v.token_types.size() != n)
      fail(errc::bad_value, 0,
           "tokenizer: " + std::to_string(v.token_types.size()) + " token types for " + std::to_string(n) +
               " tokens");
    if (v.model == "llama")
      p->kind = tokenizer_kind::spm;
    else if (v.model == "gpt2")
      p->kind = tokenizer_kind::bpe;
    else if (v.model == "bert")
      p->kind = tokenizer_kind::wpm;
    else
      fail(errc::unsupported, 0, "tokenizer: model '" + v.model + "' is not supported (llama, gpt2, bert)");

    p->load_pieces(v);
    p->set_special_ids(v);
    p->merge_tables(v);
    p->spm_setup(v);
    p->bpe_setup(v);
    p->wpm_setup();
    p->special_tokens(v);
    p->pieces.resize(n);
    for (size_t i = 0; i < n; ++i) p->pieces[i] = p->render(static_cast<int32_t>(i));
    tokenizer t;
    t.p_ = std::move(p);
    return t;
  });
}

std::vector<int32_t> tokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  const impl& p = *p_;
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  const std::vector<impl::fragment> frags = p.partition(text, parse_special);
  switch (p.kind) {
    case tokenizer_kind::spm: {
      if (add_bos && p.bos >= 0) out.push_back(p.bos);
      bool prev_special = true;  // the dummy prefix goes before the first text and after special tokens
      std::string buf;
      word_cache cache;
      for (const impl::fragment& f : frags) {
        if (f.token >= 0) {
          out.push_back(f.token);
          prev_special = true;
          continue;
        }
        buf.clear();
        if (p.add_space_prefix && prev_special) buf.push_back(' ');
        buf.append(text.substr(f.off, f.len));
        replace_all(buf, " ", p.space_escape);
        p.spm_encode(buf, out, cache);
        prev_special = false;
      }
      if (add_bos && p.add_eos && p.eos >= 0) out.push_back(p.eos);
      break;
    }
    case tokenizer_kind::bpe: {
      if (add_bos && p.bos >= 0) out.push_back(p.bos);
      word_cache cache;
      for (const impl::fragment& f : frags) {
        if (f.token >= 0)
          out.push_back(f.token);
        else
          p.bpe_encode(text.substr(f.off, f.len), out, cache);
      }
      if (add_bos && p.add_eos && p.eos >= 0) out.push_back(p.eos);
      break;
    }
    case tokenizer_kind::wpm: {
      if (add_bos && p.bos >= 0) out.push_back(p.bos);
      for (const impl::fragment& f : frags) {
        if (f.token >= 0)
          out.push_back(f.token);
        else
          p.wpm_encode(text.substr(f.off, f.len), out);
      }
      if (add_bos && p.sep >= 0) out.push_back(p.sep);
      break;
    }
  }
  return out;
}

std::string tokenizer::decode(const std::vector<int32_t>& ids, bool render_special) const {
  const impl& p = *p_;
  std::string out;
  bool first_text = true;
  const bool strip_first =
      (p.kind == tokenizer_kind::spm && p.add_space_prefix) || p.kind == tokenizer_kind::wpm;
  for (const int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= p.tokens.size()) continue;
    const uint8_t a = p.attrs[id];
    if ((a & (attr_control | attr_unknown)) && !render_special) continue;
    const std::string& s = p.pieces[id];
    if (first_text && !s.empty() && !(a & (attr_control | attr_unknown | attr_user))) {
      first_text = false;
      if (strip_first && s[0] == ' ') {
        out.append(s, 1, std::string::npos);
        continue;
      }
    }
    out += s;
  }
  return out;
}

std::string tokenizer::token_piece(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= p_->tokens.size()) return "";
  return p_->pieces[id];
}

const std::string& tokenizer::token_text(int32_t id) const {
  static const std::string none;
  if (id < 0 || static_cast<size_t>(id) >= p_->tokens.size()) return none;
  return p_->tokens[id];
}

std::optional<int32_t> tokenizer::find(std::string_view piece) const {
  const int32_t id = p_->lookup(piece);
  if (id < 0) return std::nullopt;
  return id;
}

tokenizer_kind tokenizer::kind() const {
  return p_->kind;
}
const std::string& tokenizer::pre() const {
  return p_->pre;
}
int32_t tokenizer::size() const {
  return static_cast<int32_t>(p_->tokens.size());
}
int32_t tokenizer::bos_id() const {
  return p_->bos;
}
int32_t tokenizer::eos_id() const {
  return p_->eos;
}
int32_t tokenizer::unk_id() const {
  return p_->unk;
}
bool tokenizer::default_add_bos() const {
  return p_->add_bos_default;
}
bool tokenizer::is_control(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < p_->tokens.size() && (p_->attrs[id] & attr_control);
}

}  // namespace gb::engine
