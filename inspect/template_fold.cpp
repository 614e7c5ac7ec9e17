// Jinja template analysis by constant folding (see template_fold.h). Nothing is rendered or evaluated
// beyond string arithmetic on literals.
#include "inspect/template_fold.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "formats/reader.h"

namespace gb {
namespace {

struct token {
  enum kind { ident, str, num, op, end } k = end;
  std::string s;      // identifier / decoded string / operator / number text
  size_t at = 0;      // offset in the template
  bool exact = true;  // str: every escape decoded (false for \N{...})
};

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(c | 0x20);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// A string literal body decoded as Jinja does (Python "unicode-escape").
std::string decode_literal(std::string_view b, bool* exact) {
  std::string out;
  for (size_t i = 0; i < b.size(); ++i) {
    if (b[i] != '\\' || i + 1 >= b.size()) {
      out += b[i];
      continue;
    }
    char c = b[++i];
    int width = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
    if (width) {
      uint32_t cp = 0;
      int k = 0;
      for (; k < width && i + 1 + static_cast<size_t>(k) < b.size(); ++k) {
        int h = hexval(b[i + 1 + static_cast<size_t>(k)]);
        if (h < 0) break;
        cp = cp * 16 + static_cast<uint32_t>(h);
      }
      if (k < width || cp > 0x10FFFF) {
        *exact = false;
        continue;
      }
      utf8_append(out, cp);
      i += static_cast<size_t>(width);
      continue;
    }
    if (c >= '0' && c <= '7') {
      uint32_t v = 0;
      size_t k = 0;
      while (k < 3 && i + k < b.size() && b[i + k] >= '0' && b[i + k] <= '7')
        v = v * 8 + static_cast<uint32_t>(b[i + k++] - '0');
      utf8_append(out, v);
      i += k - 1;
      continue;
    }
    if (const char e = python_simple_escape(c)) {
      out += e;
      continue;
    }
    switch (c) {
      case '\n':
        break;
      case 'N':
        *exact = false;
        break;  // \N{NAME}: a character we do not name
      default:
        out += '\\';
        out += c;
    }
  }
  return out;
}

// Splits the template into the tokens of its tags; each tag ends with an `end` token whose s is "}}" or "%}".
// `spans` (when given) receives each tag's [open, close) byte range: the template's code.
std::vector<token> lex(std::string_view t, std::vector<std::pair<size_t, size_t>>* spans = nullptr) {
  std::vector<token> out;
  size_t i = 0;
  static const char* const k_ops[] = {"**", "//", "==", "!=", "<=", ">=", "}}", "%}"};
  while (i < t.size()) {
    size_t open = t.find('{', i);
    if (open == std::string_view::npos || open + 1 >= t.size()) break;
    char kind = t[open + 1];
    if (kind == '#') {
      size_t close = t.find("#}", open + 2);
      i = close == std::string_view::npos ? t.size() : close + 2;
      continue;
    }
    if (kind != '{' && kind != '%') {
      i = open + 1;
      continue;
    }
    i = open + 2;
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
    const std::string closer = kind == '{' ? "}}" : "%}";
    size_t first = out.size();
    bool closed = false;
    while (i < t.size() && !closed) {
      char c = t[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
        continue;
      }
      token k;
      k.at = i;
      if ((c == '-' || c == '+') && t.compare(i + 1, 2, closer) == 0) {
        ++i;
        continue;
      }
      if (t.compare(i, 2, closer) == 0) {
        k.k = token::end;
        k.s = closer;
        out.push_back(k);
        i += 2;
        closed = true;
        break;
      }
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t s = i;
        while (i < t.size() && (std::isalnum(static_cast<unsigned char>(t[i])) || t[i] == '_')) ++i;
        k.k = token::ident;
        k.s = std::string(t.substr(s, i - s));
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        size_t s = i;
        while (i < t.size() && (std::isalnum(static_cast<unsigned char>(t[i])) || t[i] == '.' || t[i] == '_'))
          ++i;
        k.k = token::num;
        k.s = std::string(t.substr(s, i - s));
      } else if (c == '\'' || c == '"') {
        size_t s = ++i;
        while (i < t.size() && t[i] != c) i += t[i] == '\\' ? 2 : 1;
        size_t e = std::min(i, t.size());
        k.k = token::str;
        k.s = decode_literal(t.substr(s, e - s), &k.exact);
        i = e + 1;
      } else {
        k.k = token::op;
        k.s = std::string(1, c);
        for (const char* o : k_ops)
          if (t.compare(i, 2, o) == 0) k.s = o;
        i += k.s.size();
      }
      out.push_back(std::move(k));
    }
    if (!closed) out.push_back({token::end, closer, t.size(), true});
    if (spans) spans->emplace_back(open, i);
    // {% raw %}: everything up to {% endraw %} is text
    if (kind == '%' && out.size() > first && out[first].k == token::ident && out[first].s == "raw") {
      size_t e = t.find("endraw", i);
      i = e == std::string_view::npos                 ? t.size()
          : t.find("%}", e) == std::string_view::npos ? t.size()
                                                      : t.find("%}", e) + 2;
    }
  }
  return out;
}

struct val {
  bool known = false;  // a constant string (s) or a list of constants (items)
  bool list = false;
  std::string s;
  std::vector<std::string> items;
  std::string gadget;  // a gadget object this value is (or came from)
  static val str(std::string x) {
    val v;
    v.known = true;
    v.s = std::move(x);
    return v;
  }
};

const char* const k_gadgets[] = {"cycler",
                                 "joiner",
                                 "namespace",
                                 "lipsum",
                                 "self",
                                 "range",
                                 "config",
                                 "request",
                                 "g",
                                 "url_for",
                                 "get_flashed_messages",
                                 "__builtins__"};
// referenced at all (not only through an attribute) these never belong in a chat template
const char* const k_bare_gadgets[] = {"cycler", "joiner",  "lipsum",  "self",
                                      "config", "request", "url_for", "get_flashed_messages"};
// names that are not dunders but reach frames, functions' globals or the template environment
const char* const k_internal_names[] = {"mro",         "func_globals", "func_code",    "f_globals",
                                        "f_locals",    "f_builtins",   "f_back",       "gi_frame",
                                        "gi_code",     "cr_frame",     "tb_frame",     "im_func",
                                        "environment", "popen",        "import_module"};

class folder {
 public:
  folder(std::vector<token> toks, std::string_view text, const std::string& where, std::vector<finding>& out)
      : t_(std::move(toks)), text_(text), where_(where), out_(out) {}

  void run() {
    while (p_ < t_.size()) {
      size_t tag_start = p_;
      statement();
      while (p_ < t_.size() && t_[p_].k != token::end) ++p_;  // what the grammar did not take
      if (p_ < t_.size()) ++p_;
      if (p_ == tag_start) ++p_;
    }
  }

 private:
  std::vector<token> t_;
  std::string_view text_;
  const std::string& where_;
  std::vector<finding>& out_;
  size_t p_ = 0;
  int depth_ = 0;
  std::map<std::string, val> env_;
  size_t reported_ = 0;

  const token& cur() const {
    static const token k_end;
    return p_ < t_.size() ? t_[p_] : k_end;
  }
  bool is_op(const char* o) const { return cur().k == token::op && cur().s == o; }
  bool is_word(const char* w) const { return cur().k == token::ident && cur().s == w; }

  void flag(size_t at, const std::string& why) {
    if (++reported_ > 50) return;
    size_t from = at > 20 ? at - 20 : 0;
    std::string ctx(text_.substr(from, std::min<size_t>(60, text_.size() - from)));
    for (char& c : ctx)
      if (c == '\n' || c == '\r') c = ' ';
    out_.push_back(
        {severity::high, "template.injection", where_, "template " + why + ": ..." + ctx + "...", at});
  }

  void check_name(const std::string& name, const val& base, size_t at, const char* how) {
    bool bad = name.find("__") != std::string::npos;
    for (const char* n : k_internal_names) bad = bad || name == n;
    if (bad)
      flag(at, std::string("accesses '") + name.substr(0, 80) + "' " + how + " (reaches Python internals)");
    else if (!base.gadget.empty())
      flag(at, "accesses '" + name.substr(0, 80) + "' of the gadget object '" + base.gadget + "'");
  }

  void statement() {
    if (cur().k == token::end) return;
    if (is_word("set") && p_ + 2 < t_.size() && t_[p_ + 1].k == token::ident && t_[p_ + 2].k == token::op &&
        t_[p_ + 2].s == "=") {
      std::string name = t_[p_ + 1].s;
      p_ += 3;
      env_[name] = expr();
      return;
    }
    // any other tag: its expressions, whatever keywords separate them (for x in xs, if c, macro m(a) ...)
    while (cur().k != token::end && p_ < t_.size()) {
      size_t before = p_;
      expr();
      if (p_ == before) ++p_;
    }
  }

  val expr() {
    if (++depth_ > 200) {
      --depth_;
      flag(cur().at, "nests expressions deeper than 200 levels (not analysed)");
      while (cur().k != token::end && p_ < t_.size()) ++p_;
      return {};
    }
    val v = binary(0);
    if (is_word("if")) {  // a if c else b
      ++p_;
      binary(0);
      if (is_word("else")) {
        ++p_;
        val e = expr();
        v = v.known && e.known && v.s == e.s ? v : val{};
      } else {
        v = val{};
      }
    }
    --depth_;
    return v;
  }

  // Binary operators by precedence; only ~ and + of constants fold.
  val binary(int level) {
    static const std::vector<std::vector<const char*>> k_levels = {
        {"or"}, {"and"},    {"==", "!=", "<", ">", "<=", ">=", "in", "is"},
        {"~"},  {"+", "-"}, {"*", "/", "//", "%"},
        {"**"}};
    if (level >= static_cast<int>(k_levels.size())) return unary();
    val left = binary(level + 1);
    for (;;) {
      const char* hit = nullptr;
      for (const char* o : k_levels[static_cast<size_t>(level)])
        if ((cur().k == token::op || cur().k == token::ident) && cur().s == o) hit = o;
      if (level == 2 && is_word("not")) hit = "not";
      if (!hit) return left;
      ++p_;
      if (std::string(hit) == "not" && is_word("in")) ++p_;
      if (std::string(hit) == "is") {  // a test: `is [not] name[(args)]`
        if (is_word("not")) ++p_;
        if (cur().k == token::ident) ++p_;
        if (is_op("(")) args(val{}, "");
        left = val{};
        continue;
      }
      val right = binary(level + 1);
      std::string o(hit);
      if ((o == "~" || o == "+") && left.known && right.known && !left.list && !right.list)
        left = val::str(left.s + right.s);
      else if (o == "~" && left.known && right.known)
        left = val::str(left.s + right.s);
      else
        left = val{};
    }
  }

  val unary() {
    if (is_word("not") || is_op("-") || is_op("+")) {
      ++p_;
      unary();
      return {};
    }
    return postfix(primary());
  }

  val primary() {
    const token& k = cur();
    if (k.k == token::str) {
      std::string s;
      bool exact = true;
      while (cur().k == token::str) {  // adjacent literals concatenate
        s += cur().s;
        exact = exact && cur().exact;
        ++p_;
      }
      return exact ? val::str(s) : val{};
    }
    if (k.k == token::num) {
      ++p_;
      val v = val::str(k.s);
      v.known = false;  // numbers matter only as slice bounds (read from s)
      return v;
    }
    if (k.k == token::ident) {
      ++p_;
      for (const char* g : k_bare_gadgets)
        if (k.s == g) flag(k.at, "references the gadget object '" + k.s + "'");
      auto it = env_.find(k.s);
      if (it != env_.end()) return it->second;
      val v;
      for (const char* g : k_gadgets)
        if (k.s == g) v.gadget = k.s;
      return v;
    }
    if (is_op("(") || is_op("[") || is_op("{")) {
      std::string close = cur().s == "(" ? ")" : cur().s == "[" ? "]" : "}";
      ++p_;
      val v;
      v.list = close != "}";
      v.known = true;
      size_t n = 0;
      while (cur().k != token::end && !is_op(close.c_str())) {
        size_t before = p_;
        val e = expr();
        ++n;
        if (e.known && !e.list)
          v.items.push_back(e.s);
        else
          v.known = false;
        if (is_op(",") || is_op(":")) ++p_;
        if (p_ == before) ++p_;
      }
      if (is_op(close.c_str())) ++p_;
      if (close == ")" && n == 1 && v.known && v.items.size() == 1) return val::str(v.items[0]);  // (x)
      if (close == "}") return {};
      return v;
    }
    ++p_;
    return {};
  }

  // Call or filter arguments; applies `name` (a filter) to base when it folds.
  val args(const val& base, const std::string& name) {
    std::vector<val> pos;
    std::map<std::string, val> kw;
    if (is_op("(")) {
      ++p_;
      while (cur().k != token::end && !is_op(")")) {
        size_t before = p_;
        std::string key;
        if (cur().k == token::ident && p_ + 1 < t_.size() && t_[p_ + 1].k == token::op &&
            t_[p_ + 1].s == "=") {
          key = cur().s;
          p_ += 2;
        }
        val a = expr();
        if (key.empty())
          pos.push_back(a);
        else
          kw[key] = a;
        if (is_op(",")) ++p_;
        if (p_ == before) ++p_;
      }
      if (is_op(")")) ++p_;
    }
    return apply(base, name, pos, kw);
  }

  val apply(const val& base, const std::string& f, const std::vector<val>& pos,
            const std::map<std::string, val>& kw) {
    size_t at = p_ < t_.size() ? t_[p_ - 1].at : text_.size();
    if (f == "attr") {
      if (!pos.empty() && pos[0].known && !pos[0].list)
        check_name(pos[0].s, base, at, "through |attr()");
      else
        flag(at, "uses |attr() with a name computed at render time");
      return {};
    }
    // attribute names given to filters (map(attribute='x.y'), selectattr('x'), sort(attribute=...))
    static const char* const k_attr_filters[] = {"map",     "selectattr", "rejectattr", "sort",
                                                 "groupby", "sum",        "unique",     "min",
                                                 "max",     "dictsort",   "items"};
    for (const char* af : k_attr_filters)
      if (f == af) {
        std::vector<val> names = pos;
        for (const auto& [key, v] : kw) names.push_back(v);
        for (const val& v : names)
          if (v.known && !v.list) {
            size_t s = 0;
            std::string n = v.s;
            while (s <= n.size()) {
              size_t e = n.find('.', s);
              if (e == std::string::npos) e = n.size();
              check_name(n.substr(s, e - s), base, at, ("through |" + f + "()").c_str());
              s = e + 1;
            }
          }
      }
    if (!base.known) return {};
    if (f == "join") {
      std::string sep = !pos.empty() && pos[0].known ? pos[0].s : "";
      if (!base.list) return base;  // join of a string: its characters
      std::string r;
      for (size_t k = 0; k < base.items.size(); ++k) r += (k ? sep : "") + base.items[k];
      return val::str(r);
    }
    if (f == "reverse") {
      val r = base;
      if (base.list)
        std::reverse(r.items.begin(), r.items.end());
      else
        std::reverse(r.s.begin(), r.s.end());
      return r;
    }
    if (base.list) return f == "list" ? base : val{};
    if (f == "lower" || f == "upper") {
      std::string r = base.s;
      for (char& c : r)
        c = static_cast<char>(f == "lower" ? std::tolower(static_cast<unsigned char>(c))
                                           : std::toupper(static_cast<unsigned char>(c)));
      return val::str(r);
    }
    if (f == "string" || f == "trim" || f == "e" || f == "escape" || f == "safe") return base;
    if (f == "replace" && pos.size() >= 2 && pos[0].known && pos[1].known && !pos[0].s.empty()) {
      std::string r = base.s;
      for (size_t s = r.find(pos[0].s); s != std::string::npos; s = r.find(pos[0].s, s + pos[1].s.size()))
        r.replace(s, pos[0].s.size(), pos[1].s);
      return val::str(r);
    }
    if (f == "format") {  // printf-style: each %s/%r/%d takes the next argument
      std::string r;
      size_t k = 0;
      for (size_t i = 0; i < base.s.size(); ++i) {
        if (base.s[i] == '%' && i + 1 < base.s.size()) {
          char c = base.s[++i];
          if (c == '%') {
            r += '%';
            continue;
          }
          if (k >= pos.size() || !pos[k].known) return {};
          r += pos[k++].s;
          continue;
        }
        r += base.s[i];
      }
      return val::str(r);
    }
    return {};
  }

  // Slice [a:b:c] of a constant string (the bounds are integer literals, possibly negative).
  static bool slice(const std::string& s, const std::vector<std::string>& parts, std::string* out) {
    auto num = [&](const std::string& p, long long dflt, long long* v) {
      if (p.empty()) {
        *v = dflt;
        return true;
      }
      char* end = nullptr;
      *v = std::strtoll(p.c_str(), &end, 10);
      return end && *end == 0;
    };
    long long n = static_cast<long long>(s.size()), step = 1;
    if (parts.size() > 2 && !num(parts[2], 1, &step)) return false;
    if (step == 0) return false;
    long long a = 0, b = 0;
    if (!num(parts[0], step > 0 ? 0 : n - 1, &a) ||
        !num(parts.size() > 1 ? parts[1] : "", step > 0 ? n : -n - 1, &b))
      return false;
    auto clamp = [&](long long x, bool upper) {
      if (x < 0) x += n;
      if (step > 0) return std::clamp(x, 0LL, n);
      return std::clamp(x, -1LL, upper ? n - 1 : n - 1);
    };
    if (!(parts[0].empty())) a = clamp(a, false);
    if (parts.size() > 1 && !parts[1].empty())
      b = clamp(b, true);
    else if (step < 0)
      b = -1;
    out->clear();
    for (long long i = a; step > 0 ? i < b : i > b; i += step)
      if (i >= 0 && i < n) *out += s[static_cast<size_t>(i)];
    return true;
  }

  val subscript(const val& base) {
    size_t at = cur().at;
    ++p_;  // [
    std::vector<std::string> parts(1);
    bool is_slice = false, simple = true;
    val key;
    while (cur().k != token::end && !is_op("]")) {
      if (is_op(":")) {
        is_slice = true;
        parts.emplace_back();
        ++p_;
        continue;
      }
      if (is_op("-") && p_ + 1 < t_.size() && t_[p_ + 1].k == token::num) {
        parts.back() = "-" + t_[p_ + 1].s;
        p_ += 2;
        continue;
      }
      if (cur().k == token::num) {
        parts.back() = cur().s;
        ++p_;
        continue;
      }
      size_t before = p_;
      key = expr();
      simple = false;
      if (p_ == before) ++p_;
    }
    if (is_op("]")) ++p_;
    if (is_slice) {
      std::string r;
      if (base.known && !base.list && simple && slice(base.s, parts, &r)) return val::str(r);
      if (base.known && base.list && simple && parts.size() == 3 && parts[0].empty() && parts[1].empty() &&
          parts[2] == "-1") {
        val v = base;
        std::reverse(v.items.begin(), v.items.end());
        return v;
      }
      return {};
    }
    if (!simple && key.known && !key.list) check_name(key.s, base, at, "through a computed subscript");
    if (simple && base.known && base.list && !parts[0].empty()) {  // ['a','b'][1]
      long long i = std::strtoll(parts[0].c_str(), nullptr, 10);
      if (i < 0) i += static_cast<long long>(base.items.size());
      if (i >= 0 && i < static_cast<long long>(base.items.size()))
        return val::str(base.items[static_cast<size_t>(i)]);
    }
    val r;
    if (!base.gadget.empty()) r.gadget = base.gadget;
    return r;
  }

  val postfix(val v) {
    for (;;) {
      if (is_op(".") && p_ + 1 < t_.size() && t_[p_ + 1].k == token::ident) {
        check_name(t_[p_ + 1].s, v, t_[p_ + 1].at, "as an attribute");
        std::string g = v.gadget;
        p_ += 2;
        v = val{};
        v.gadget = g;
      } else if (is_op("[")) {
        v = subscript(v);
      } else if (is_op("(")) {
        val g = v;
        args(val{}, "");
        v = val{};
        if (g.gadget == "namespace" || g.gadget == "range")
          v.gadget.clear();  // ns = namespace(...) is ordinary
      } else if (is_op("|")) {
        ++p_;
        if (cur().k != token::ident) return {};
        std::string f = cur().s;
        ++p_;
        v = args(v, f);
      } else {
        return v;
      }
    }
  }
};

}  // namespace

void template_fold_scan(std::string_view text, const std::string& where, std::vector<finding>& out) {
  folder f(lex(text), text, where, out);
  f.run();
}

std::string template_code_text(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> spans;  // [open, close) of each {{ }} / {% %} tag
  lex(text, &spans);
  std::string code(text.size(), ' ');
  for (auto [from, to] : spans) {
    to = std::min(to, text.size());
    if (from < to) code.replace(from, to - from, text.substr(from, to - from));
  }
  return code;
}

}  // namespace gb
