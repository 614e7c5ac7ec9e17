// probes/engine/unicode.cpp: code points, Unicode classes, the GPT-2 byte alphabet and the regex splitter.
#include "probes/engine/unicode.h"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

namespace gb::engine {

namespace {

constexpr uint32_t max_cpt = 0x110000;
constexpr uint32_t replacement = 0xFFFD;
constexpr uint8_t space_bit = 0x08;  // flag byte: bits 0-2 ucls, bit 3 White_Space

// One byte per code point (1.1 MB), built once from the range tables.
const std::vector<uint8_t>& flag_table() {
  static const std::vector<uint8_t> table = [] {
    std::vector<uint8_t> t(max_cpt, static_cast<uint8_t>(ucls::other));
    using namespace unicode_tables;
    for (size_t i = 0; i < categories_count; ++i) {
      const uint32_t end = i + 1 < categories_count ? categories[i + 1].first : max_cpt;
      for (uint32_t c = categories[i].first; c < end; ++c) t[c] = categories[i].cls;
    }
    for (size_t i = 0; i < whitespace_count; ++i)
      for (uint32_t c = whitespace[i].first; c <= whitespace[i].last; ++c) t[c] |= space_bit;
    return t;
  }();
  return table;
}

uint8_t flags_of(uint32_t cpt) {
  return cpt < max_cpt ? flag_table()[cpt] : static_cast<uint8_t>(ucls::other);
}

struct byte_alphabet {
  std::array<uint32_t, 256> to_cpt{};
  std::vector<int16_t> from_cpt;  // indexed by code point < 512; -1 when absent
  byte_alphabet() : from_cpt(512, -1) {
    // Printable Latin-1 bytes map to themselves; the rest, in order, to U+0100, U+0101, ...
    uint32_t n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool keep = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_cpt[b] = keep ? static_cast<uint32_t>(b) : 256 + n++;
      from_cpt[to_cpt[b]] = static_cast<int16_t>(b);
    }
  }
};
const byte_alphabet& alphabet() {
  static const byte_alphabet a;
  return a;
}

}  // namespace

const char* unicode_version() {
  return unicode_tables::version;
}

size_t utf8_len(char first_byte) {
  static constexpr uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return lookup[static_cast<uint8_t>(first_byte) >> 4];
}

uint32_t utf8_next(std::string_view s, size_t& offset) {
  const auto at = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t b0 = at(offset);
  const auto cont = [&](size_t k) { return offset + k < s.size() && (at(offset + k) & 0xC0) == 0x80; };
  uint32_t cpt = replacement;
  size_t len = 1;
  if (b0 < 0x80) {
    cpt = b0;
  } else if ((b0 & 0xE0) == 0xC0 && cont(1)) {
    cpt = ((b0 & 0x1Fu) << 6) | (at(offset + 1) & 0x3Fu);
    len = 2;
  } else if ((b0 & 0xF0) == 0xE0 && cont(1) && cont(2)) {
    cpt = ((b0 & 0x0Fu) << 12) | ((at(offset + 1) & 0x3Fu) << 6) | (at(offset + 2) & 0x3Fu);
    len = 3;
  } else if ((b0 & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
    cpt = ((b0 & 0x07u) << 18) | ((at(offset + 1) & 0x3Fu) << 12) | ((at(offset + 2) & 0x3Fu) << 6) |
          (at(offset + 3) & 0x3Fu);
    len = 4;
    if (cpt >= max_cpt) {  // F5..F7 leads: out of Unicode; llama.cpp would throw later, we replace
      cpt = replacement;
      len = 1;
    }
  }
  offset += len;
  return cpt;
}

std::vector<uint32_t> utf8_to_cpts(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t off = 0;
  while (off < s.size()) out.push_back(utf8_next(s, off));
  return out;
}

void utf8_append(std::string& out, uint32_t cpt) {
  if (cpt >= max_cpt) cpt = replacement;
  if (cpt < 0x80) {
    out.push_back(static_cast<char>(cpt));
  } else if (cpt < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cpt >> 6)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else if (cpt < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cpt >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cpt >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  }
}

std::string cpts_to_utf8(const uint32_t* cpts, size_t n) {
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) utf8_append(out, cpts[i]);
  return out;
}

ucls cpt_class(uint32_t cpt) {
  return static_cast<ucls>(flags_of(cpt) & 0x07);
}
bool cpt_is_space(uint32_t cpt) {
  return (flags_of(cpt) & space_bit) != 0;
}

uint32_t cpt_tolower(uint32_t cpt) {
  using namespace unicode_tables;
  const mapping* end = lowercase + lowercase_count;
  const mapping* it =
      std::lower_bound(lowercase, end, cpt, [](const mapping& m, uint32_t v) { return m.from < v; });
  return it != end && it->from == cpt ? it->to : cpt;
}

uint32_t cpt_nfd_base(uint32_t cpt) {
  using namespace unicode_tables;
  const nfd_range* end = nfd + nfd_count;
  const nfd_range* it =
      std::upper_bound(nfd, end, cpt, [](uint32_t v, const nfd_range& r) { return v < r.first; });
  if (it == nfd) return cpt;
  --it;
  return cpt <= it->last ? it->target : cpt;
}

uint32_t byte_to_cpt(uint8_t b) {
  return alphabet().to_cpt[b];
}
int cpt_to_byte(uint32_t cpt) {
  return cpt < 512 ? alphabet().from_cpt[cpt] : -1;
}

// ---------------------------------------------------------------------------------------------------
// Regex: parse to a tree, compile to a small backtracking program (explicit stack, no recursion except
// into lookaheads), run leftmost-first like ECMAScript.

namespace {

enum special_bits : uint8_t {
  sp_space = 1,
  sp_nspace = 2,
  sp_digit = 4,
  sp_ndigit = 8,
  sp_word = 16,
  sp_nword = 32
};

struct char_class {
  bool negated = false;
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  uint8_t cats = 0;   // bit per ucls (+ bit 7: symbol without '~')
  uint8_t ncats = 0;  // \P{..}
  uint8_t specials = 0;

  static bool is_word(uint32_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }
  static bool in_cats(uint8_t mask, uint32_t c) {
    const ucls k = cpt_class(c);
    if (k == ucls::symbol && c == '~') return false;  // llama.cpp's collapsed \p{S} lacks '~'
    return (mask >> static_cast<int>(k)) & 1;
  }
  bool test(uint32_t c) const {
    bool hit = false;
    for (const auto& r : ranges) {
      if (c >= r.first && c <= r.second) {
        hit = true;
        break;
      }
    }
    if (!hit && cats) hit = in_cats(cats, c);
    if (!hit && ncats) hit = !in_cats(ncats, c);
    if (!hit && specials) {
      const bool sp = c < 0x80 ? (c == ' ' || (c >= 0x09 && c <= 0x0D)) : false;  // text is pre-mapped
      const bool dg = c >= '0' && c <= '9';
      const bool wd = is_word(c);
      hit = ((specials & sp_space) && sp) || ((specials & sp_nspace) && !sp) ||
            ((specials & sp_digit) && dg) || ((specials & sp_ndigit) && !dg) ||
            ((specials & sp_word) && wd) || ((specials & sp_nword) && !wd);
    }
    return hit != negated;
  }
};

struct node {
  enum kind_t : uint8_t { seq, alt, cls, any, repeat, look, bol, eol, wordb, nwordb } kind = seq;
  std::vector<node> kids;
  int cls_index = -1;
  int min = 0, max = -1;  // repeat; max -1 = unbounded
  bool greedy = true;
  bool negative = false;  // look
};

class parser {
 public:
  parser(std::vector<uint32_t> p, std::vector<char_class>& classes) : p_(std::move(p)), classes_(classes) {}

  node parse() {
    node n = parse_alt();
    if (i_ != p_.size()) bad("unbalanced ')'");
    return n;
  }

 private:
  [[noreturn]] void bad(const std::string& what) {
    fail(errc::unsupported, i_, "regex: " + what + " at code point " + std::to_string(i_));
  }
  bool more() const { return i_ < p_.size(); }
  uint32_t peek() const { return p_[i_]; }

  node parse_alt() {
    node first = parse_seq();
    if (!more() || peek() != '|') return first;
    node a;
    a.kind = node::alt;
    a.kids.push_back(std::move(first));
    while (more() && peek() == '|') {
      ++i_;
      a.kids.push_back(parse_seq());
    }
    return a;
  }

  node parse_seq() {
    node s;
    s.kind = node::seq;
    while (more() && peek() != '|' && peek() != ')') s.kids.push_back(parse_repeat());
    return s;
  }

  int parse_int() {
    if (!more() || peek() < '0' || peek() > '9') bad("number expected");
    int v = 0;
    while (more() && peek() >= '0' && peek() <= '9') {
      v = v * 10 + static_cast<int>(peek() - '0');
      if (v > 4096) bad("repeat count too large");
      ++i_;
    }
    return v;
  }

  node parse_repeat() {
    node atom = parse_atom();
    while (more()) {
      int lo = 0, hi = -1;
      const uint32_t c = peek();
      if (c == '*') {
        lo = 0;
        hi = -1;
        ++i_;
      } else if (c == '+') {
        lo = 1;
        hi = -1;
        ++i_;
      } else if (c == '?') {
        lo = 0;
        hi = 1;
        ++i_;
      } else if (c == '{') {
        ++i_;
        lo = parse_int();
        hi = lo;
        if (more() && peek() == ',') {
          ++i_;
          hi = more() && peek() == '}' ? -1 : parse_int();
        }
        if (!more() || peek() != '}') bad("'}' expected");
        ++i_;
        if (hi != -1 && hi < lo) bad("bad repeat range");
      } else {
        break;
      }
      if (atom.kind == node::bol || atom.kind == node::eol || atom.kind == node::look)
        bad("quantified assertion");
      node r;
      r.kind = node::repeat;
      r.min = lo;
      r.max = hi;
      if (more() && peek() == '?') {
        r.greedy = false;
        ++i_;
      } else if (more() && peek() == '+')
        bad("possessive quantifier");
      r.kids.push_back(std::move(atom));
      atom = std::move(r);
    }
    return atom;
  }

  node class_node(char_class c) {
    classes_.push_back(std::move(c));
    node n;
    n.kind = node::cls;
    n.cls_index = static_cast<int>(classes_.size()) - 1;
    return n;
  }

  static uint8_t cat_bit(ucls k) { return static_cast<uint8_t>(1u << static_cast<int>(k)); }

  // After "\p" or "\P": reads "{Name}" and returns the category mask.
  uint8_t parse_property() {
    if (!more() || peek() != '{') bad("'{' expected after \\p");
    ++i_;
    std::string name;
    while (more() && peek() != '}') {
      if (peek() >= 0x80 || name.size() > 16) bad("bad property name");
      name.push_back(static_cast<char>(peek()));
      ++i_;
    }
    if (!more()) bad("'}' expected");
    ++i_;
    if (name == "L" || name == "Lu" || name == "Ll" || name == "Lt" || name == "Lm" || name == "Lo")
      return cat_bit(ucls::letter);
    if (name == "N") return cat_bit(ucls::number);
    if (name == "P") return cat_bit(ucls::punctuation);
    if (name == "S") return cat_bit(ucls::symbol);
    if (name == "M") return cat_bit(ucls::mark);
    if (name == "Z") return cat_bit(ucls::separator);
    if (name == "C") return cat_bit(ucls::other);
    bad("unsupported property \\p{" + name + "}");
  }

  uint32_t parse_hex(int digits) {
    uint32_t v = 0;
    for (int k = 0; k < digits; ++k) {
      if (!more()) bad("hex digit expected");
      const uint32_t c = peek();
      ++i_;
      if (c >= '0' && c <= '9')
        v = v * 16 + (c - '0');
      else if (c >= 'a' && c <= 'f')
        v = v * 16 + (c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v = v * 16 + (c - 'A' + 10);
      else
        bad("hex digit expected");
    }
    return v;
  }

  // Reads an escape after '\'. Returns true and sets `lit` for a literal; otherwise fills `c` with a
  // class item (\s, \d, \p{..}). `kind` gets node::wordb/nwordb for \b \B outside classes.
  bool parse_escape(uint32_t& lit, char_class& c, bool in_class, node::kind_t* assertion) {
    if (!more()) bad("dangling '\\'");
    const uint32_t e = peek();
    ++i_;
    switch (e) {
      case 's':
        c.specials |= sp_space;
        return false;
      case 'S':
        c.specials |= sp_nspace;
        return false;
      case 'd':
        c.specials |= sp_digit;
        return false;
      case 'D':
        c.specials |= sp_ndigit;
        return false;
      case 'w':
        c.specials |= sp_word;
        return false;
      case 'W':
        c.specials |= sp_nword;
        return false;
      case 'p':
        c.cats |= parse_property();
        return false;
      case 'P':
        c.ncats |= parse_property();
        return false;
      case 'n':
        lit = '\n';
        return true;
      case 'r':
        lit = '\r';
        return true;
      case 't':
        lit = '\t';
        return true;
      case 'f':
        lit = '\f';
        return true;
      case 'v':
        lit = '\v';
        return true;
      case '0':
        lit = 0;
        return true;
      case 'x':
        lit = parse_hex(2);
        return true;
      case 'u':
        lit = parse_hex(4);
        return true;
      case 'b':
      case 'B':
        if (in_class) {
          if (e == 'b') {
            lit = '\b';
            return true;
          }
          bad("\\B in a class");
        }
        *assertion = e == 'b' ? node::wordb : node::nwordb;
        return false;
      default:
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) bad("unknown escape");
        lit = e;
        return true;
    }
  }

  node parse_class() {  // after '['
    char_class c;
    if (more() && peek() == '^') {
      c.negated = true;
      ++i_;
    }
    bool first = true;
    while (more() && (peek() != ']' || first)) {
      first = false;
      uint32_t lo = 0;
      bool is_lit = true;
      if (peek() == '\\') {
        ++i_;
        char_class item;
        node::kind_t dummy = node::seq;
        is_lit = parse_escape(lo, item, true, &dummy);
        if (!is_lit) {
          c.cats |= item.cats;
          c.ncats |= item.ncats;
          c.specials |= item.specials;
          continue;
        }
      } else {
        lo = peek();
        ++i_;
      }
      uint32_t hi = lo;
      if (more() && peek() == '-' && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
        ++i_;
        if (peek() == '\\') {
          ++i_;
          char_class item;
          node::kind_t dummy = node::seq;
          if (!parse_escape(hi, item, true, &dummy)) bad("class escape as range end");
        } else {
          hi = peek();
          ++i_;
        }
        if (hi < lo) bad("bad class range");
      }
      c.ranges.emplace_back(lo, hi);
    }
    if (!more()) bad("']' expected");
    ++i_;
    return class_node(std::move(c));
  }

  node parse_atom() {
    if (!more()) bad("atom expected");
    const uint32_t c = peek();
    ++i_;
    switch (c) {
      case '(': {
        node inner;
        if (more() && peek() == '?') {
          ++i_;
          if (!more()) bad("group kind expected");
          const uint32_t k = peek();
          ++i_;
          if (k == ':') {
            inner = parse_alt();
          } else if (k == '=' || k == '!') {
            node l;
            l.kind = node::look;
            l.negative = k == '!';
            l.kids.push_back(parse_alt());
            inner = std::move(l);
          } else {
            bad("unsupported group (?" + std::string(1, static_cast<char>(k < 0x80 ? k : '?')));
          }
        } else {
          inner = parse_alt();
        }
        if (!more() || peek() != ')') bad("')' expected");
        ++i_;
        return inner;
      }
      case '[':
        return parse_class();
      case '.': {
        node n;
        n.kind = node::any;
        return n;
      }
      case '^': {
        node n;
        n.kind = node::bol;
        return n;
      }
      case '$': {
        node n;
        n.kind = node::eol;
        return n;
      }
      case '\\': {
        uint32_t lit = 0;
        char_class item;
        node::kind_t assertion = node::seq;
        if (parse_escape(lit, item, false, &assertion)) {
          char_class one;
          one.ranges.emplace_back(lit, lit);
          return class_node(std::move(one));
        }
        if (assertion != node::seq) {
          node n;
          n.kind = assertion;
          return n;
        }
        return class_node(std::move(item));
      }
      case '*':
      case '+':
      case '?':
      case '{':
      case ')':
      case '|':
        bad("misplaced operator");
      default: {
        char_class one;
        one.ranges.emplace_back(c, c);
        return class_node(std::move(one));
      }
    }
  }

  std::vector<uint32_t> p_;
  std::vector<char_class>& classes_;
  size_t i_ = 0;
};

enum class op : uint8_t { cls, any, split, jmp, match, bol, eol, wordb, nwordb, look, nlook };
struct inst {
  op code;
  uint32_t a = 0, b = 0;  // cls: a = class; split: a preferred, b other; jmp: a; look: a = body, b = after
};

constexpr size_t max_program = 1u << 16;

class compiler {
 public:
  explicit compiler(std::vector<inst>& out) : out_(out) {}
  void emit(const node& n) {
    if (out_.size() > max_program) fail(errc::limit, 0, "regex: program too large");
    switch (n.kind) {
      case node::seq:
        for (const node& k : n.kids) emit(k);
        break;
      case node::alt: {
        std::vector<size_t> jumps;
        for (size_t i = 0; i < n.kids.size(); ++i) {
          if (i + 1 < n.kids.size()) {
            const size_t sp = push(op::split);
            out_[sp].a = static_cast<uint32_t>(out_.size());
            emit(n.kids[i]);
            jumps.push_back(push(op::jmp));
            out_[sp].b = static_cast<uint32_t>(out_.size());
          } else {
            emit(n.kids[i]);
          }
        }
        for (size_t j : jumps) out_[j].a = static_cast<uint32_t>(out_.size());
        break;
      }
      case node::cls:
        out_.push_back({op::cls, static_cast<uint32_t>(n.cls_index), 0});
        break;
      case node::any:
        push(op::any);
        break;
      case node::bol:
        push(op::bol);
        break;
      case node::eol:
        push(op::eol);
        break;
      case node::wordb:
        push(op::wordb);
        break;
      case node::nwordb:
        push(op::nwordb);
        break;
      case node::look: {
        const size_t at = push(n.negative ? op::nlook : op::look);
        out_[at].a = static_cast<uint32_t>(out_.size());
        emit(n.kids[0]);
        push(op::match);
        out_[at].b = static_cast<uint32_t>(out_.size());
        break;
      }
      case node::repeat: {
        const node& body = n.kids[0];
        for (int i = 0; i < n.min; ++i) emit(body);
        if (n.max < 0) {
          const size_t loop = push(op::split);
          const size_t body_at = out_.size();
          emit(body);
          out_.push_back({op::jmp, static_cast<uint32_t>(loop), 0});
          set_split(loop, body_at, out_.size(), n.greedy);
        } else {
          std::vector<size_t> splits;
          for (int i = n.min; i < n.max; ++i) {
            splits.push_back(push(op::split));
            out_[splits.back()].a = static_cast<uint32_t>(out_.size());
            emit(body);
          }
          for (size_t s : splits) set_split(s, out_[s].a, out_.size(), n.greedy);
        }
        break;
      }
    }
  }

 private:
  size_t push(op c) {
    out_.push_back({c, 0, 0});
    return out_.size() - 1;
  }
  void set_split(size_t at, size_t body, size_t after, bool greedy) {
    out_[at].a = static_cast<uint32_t>(greedy ? body : after);
    out_[at].b = static_cast<uint32_t>(greedy ? after : body);
  }
  std::vector<inst>& out_;
};

}  // namespace

struct split_regex::program {
  std::string pattern;
  std::vector<char_class> classes;
  std::vector<inst> code;

  struct thread {
    uint32_t pc;
    size_t pos;
  };

  // Runs from (pc, pos) inside [lo, hi); true at the first `match` reached (leftmost-first order).
  bool run(const uint32_t* s, size_t lo, size_t hi, uint32_t pc0, size_t pos0, bool nonempty, size_t& end,
           std::vector<thread>& stack, uint64_t& budget) const {
    const size_t base = stack.size();
    stack.push_back({pc0, pos0});
    while (stack.size() > base) {
      thread t = stack.back();
      stack.pop_back();
      for (;;) {
        if (budget == 0) {
          stack.resize(base);
          return false;
        }
        --budget;
        const inst& in = code[t.pc];
        bool ok = true;
        switch (in.code) {
          case op::cls:
            ok = t.pos < hi && classes[in.a].test(s[t.pos]);
            if (ok) {
              ++t.pos;
              ++t.pc;
            }
            break;
          case op::any:
            ok = t.pos < hi && s[t.pos] != '\n' && s[t.pos] != '\r' && s[t.pos] != 0x2028 &&
                 s[t.pos] != 0x2029;
            if (ok) {
              ++t.pos;
              ++t.pc;
            }
            break;
          case op::split:
            stack.push_back({in.b, t.pos});
            t.pc = in.a;
            break;
          case op::jmp:
            t.pc = in.a;
            break;
          case op::match:
            if (nonempty && t.pos == pos0) {
              ok = false;
              break;
            }
            end = t.pos;
            stack.resize(base);
            return true;
          case op::bol:
            ok = t.pos == lo;
            if (ok) ++t.pc;
            break;
          case op::eol:
            ok = t.pos == hi;
            if (ok) ++t.pc;
            break;
          case op::wordb:
          case op::nwordb: {
            const bool before = t.pos > lo && char_class::is_word(s[t.pos - 1]);
            const bool after = t.pos < hi && char_class::is_word(s[t.pos]);
            ok = (before != after) == (in.code == op::wordb);
            if (ok) ++t.pc;
            break;
          }
          case op::look:
          case op::nlook: {
            size_t dummy = 0;
            const bool m = run(s, lo, hi, in.a, t.pos, false, dummy, stack, budget);  // above our threads
            ok = m == (in.code == op::look);
            if (ok) t.pc = in.b;
            break;
          }
        }
        if (!ok) break;
      }
    }
    return false;
  }
};

result<split_regex> split_regex::compile(std::string_view pattern) {
  return capture("regex", [&]() -> split_regex {
    auto prog = std::make_shared<program>();
    prog->pattern = std::string(pattern);
    parser p(utf8_to_cpts(pattern), prog->classes);
    const node tree = p.parse();
    compiler(prog->code).emit(tree);
    prog->code.push_back({op::match, 0, 0});
    split_regex r;
    r.prog_ = std::move(prog);
    return r;
  });
}

const std::string& split_regex::pattern() const {
  return prog_->pattern;
}

std::vector<size_t> split_regex::split(const std::vector<uint32_t>& cps,
                                       const std::vector<size_t>& pieces) const {
  // The matcher sees non-ASCII whitespace as U+000B (llama.cpp feeds std::regex that way).
  std::vector<uint32_t> s(cps);
  for (uint32_t& c : s) {
    if (c >= 0x80 && cpt_is_space(c)) c = 0x0B;
  }
  // Work budget against pathological backtracking (quadratic patterns such as \s+$ on long blank runs):
  // when spent, the rest of the text stays in unsplit pieces. Generous for any real text.
  uint64_t budget = 512ull * cps.size() + (1ull << 24);
  std::vector<size_t> out;
  out.reserve(pieces.size() * 2);
  std::vector<program::thread> stack;
  size_t lo = 0;
  for (const size_t len : pieces) {
    const size_t hi = lo + len;
    size_t last = lo;  // end of what was emitted
    size_t pos = lo;   // where the next search starts
    while (pos < hi && budget > 0) {
      size_t start = pos, end = 0;
      bool found = false;
      for (; start < hi && budget > 0; ++start) {
        if (prog_->run(s.data(), lo, hi, 0, start, false, end, stack, budget)) {
          found = true;
          break;
        }
      }
      if (!found) break;
      if (start > last) out.push_back(start - last);
      last = start;
      if (end == start) {  // empty match: a split point; then try a non-empty match at the same place
        size_t end2 = 0;
        if (prog_->run(s.data(), lo, hi, 0, start, true, end2, stack, budget)) {
          out.push_back(end2 - start);
          last = pos = end2;
        } else {
          pos = start + 1;
        }
        continue;
      }
      out.push_back(end - start);
      last = pos = end;
    }
    if (hi > last) out.push_back(hi - last);
    lo = hi;
  }
  return out;
}

}  // namespace gb::engine
