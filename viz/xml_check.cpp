// viz/xml_check.cpp: strict XML well-formedness checker (see xml_check.h). A hand-written scanner:
// one pass over the bytes, a stack of open element names.
#include "viz/xml_check.h"

#include <cstdint>
#include <set>

namespace gb::viz {
namespace {

struct scanner {
  std::string_view s;
  size_t i = 0;
  xml_report rep;

  bool fail(std::string msg) {
    if (rep.error.empty()) {
      rep.error = std::move(msg);
      rep.offset = i;
    }
    return false;
  }
  bool starts(std::string_view p) const { return s.substr(i, p.size()) == p; }
  bool eof() const { return i >= s.size(); }

  static bool name_start(unsigned char c) {
    return c == ':' || c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80;
  }
  static bool name_char(unsigned char c) {
    return name_start(c) || c == '-' || c == '.' || (c >= '0' && c <= '9');
  }
  static bool space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

  void skip_space() {
    while (!eof() && space(static_cast<unsigned char>(s[i]))) ++i;
  }
  bool name(std::string& out) {
    size_t b = i;
    if (eof() || !name_start(static_cast<unsigned char>(s[i]))) return fail("expected a name");
    while (!eof() && name_char(static_cast<unsigned char>(s[i]))) ++i;
    out.assign(s.substr(b, i - b));
    return true;
  }
  // Validates one UTF-8 sequence at i (XML Char production); advances.
  bool utf8_char(uint32_t& cp) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return fail("control byte not allowed in XML");
      cp = c;
      ++i;
      return true;
    }
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (n == 0 || c > 0xF4 || i + n > s.size()) return fail("invalid UTF-8");
    cp = c & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return fail("invalid UTF-8");
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
      return fail("invalid UTF-8 code point");
    i += n;
    return true;
  }
  static void append_utf8(std::string& o, uint32_t cp) {
    if (cp < 0x80)
      o += static_cast<char>(cp);
    else if (cp < 0x800) {
      o += static_cast<char>(0xC0 | (cp >> 6));
      o += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      o += static_cast<char>(0xE0 | (cp >> 12));
      o += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      o += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      o += static_cast<char>(0xF0 | (cp >> 18));
      o += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      o += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      o += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  // At '&': decodes one reference into out.
  bool reference(std::string& out) {
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12)
      return fail("bare '&' (unterminated entity reference)");
    std::string_view ref = s.substr(i + 1, semi - i - 1);
    if (ref == "amp")
      out += '&';
    else if (ref == "lt")
      out += '<';
    else if (ref == "gt")
      out += '>';
    else if (ref == "quot")
      out += '"';
    else if (ref == "apos")
      out += '\'';
    else if (ref.size() >= 2 && ref[0] == '#') {
      bool hex = ref[1] == 'x';
      std::string_view digits = ref.substr(hex ? 2 : 1);
      if (digits.empty()) return fail("empty character reference");
      uint32_t cp = 0;
      for (char d : digits) {
        int v = (d >= '0' && d <= '9')          ? d - '0'
                : (hex && d >= 'a' && d <= 'f') ? d - 'a' + 10
                : (hex && d >= 'A' && d <= 'F') ? d - 'A' + 10
                                                : -1;
        if (v < 0) return fail("bad character reference");
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
        if (cp > 0x10FFFF) return fail("character reference out of range");
      }
      bool allowed = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                     (cp >= 0xE000 && cp <= 0xFFFD) || cp >= 0x10000;
      if (!allowed) return fail("character reference to a code point XML does not allow");
      append_utf8(out, cp);
    } else {
      return fail("undefined entity '&" + std::string(ref) + ";'");
    }
    i = semi + 1;
    return true;
  }
  bool skip_until(std::string_view end, const char* what) {
    size_t e = s.find(end, i);
    if (e == std::string_view::npos) return fail(std::string("unterminated ") + what);
    while (i < e) {
      uint32_t cp;
      if (!utf8_char(cp)) return false;
    }
    i = e + end.size();
    return true;
  }
  bool misc(bool& doctype_seen, bool root_seen) {  // comment, PI or DOCTYPE at i
    if (starts("<!--")) {
      i += 4;
      size_t e = s.find("--", i);
      if (e == std::string_view::npos) return fail("unterminated comment");
      if (e + 2 >= s.size() || s[e + 2] != '>') {
        i = e;
        return fail("'--' inside a comment");
      }
      return skip_until("-->", "comment");
    }
    if (starts("<?")) {
      i += 2;
      std::string target;
      if (!name(target)) return false;
      return skip_until("?>", "processing instruction");
    }
    if (starts("<!DOCTYPE")) {
      if (doctype_seen || root_seen) return fail("DOCTYPE not allowed here");
      doctype_seen = true;
      i += 9;
      int depth = 0;
      char quote = 0;
      while (!eof()) {
        char c = s[i];
        if (quote) {
          if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'')
          quote = c;
        else if (c == '[')
          ++depth;
        else if (c == ']')
          --depth;
        else if (c == '>' && depth == 0) {
          ++i;
          return true;
        }
        ++i;
      }
      return fail("unterminated DOCTYPE");
    }
    return fail("unexpected markup");
  }

  bool run() {
    std::vector<std::string> stack;
    bool doctype = false, root_done = false;
    std::string text;
    if (starts("\xEF\xBB\xBF")) i += 3;
    while (!eof()) {
      char c = s[i];
      if (c == '<') {
        if (!stack.empty()) {
          size_t b = text.find_first_not_of(" \t\r\n");
          if (b != std::string::npos)
            rep.texts.push_back(text.substr(b, text.find_last_not_of(" \t\r\n") - b + 1));
        }
        text.clear();
        if (starts("<![CDATA[")) {
          if (stack.empty()) return fail("CDATA outside the root element");
          i += 9;
          size_t e = s.find("]]>", i);
          if (e == std::string_view::npos) return fail("unterminated CDATA");
          text.assign(s.substr(i, e - i));
          if (!skip_until("]]>", "CDATA")) return false;
          continue;
        }
        if (starts("<!") || starts("<?")) {
          if (starts("<?xml") && (i + 5 < s.size() && space(static_cast<unsigned char>(s[i + 5]))) && i > 3)
            return fail("XML declaration not at the start");
          if (!misc(doctype, root_done || !stack.empty())) return false;
          continue;
        }
        if (starts("</")) {
          i += 2;
          std::string n;
          if (!name(n)) return false;
          skip_space();
          if (eof() || s[i] != '>') return fail("expected '>' after end tag name");
          ++i;
          if (stack.empty() || stack.back() != n)
            return fail("end tag </" + n + "> does not match " +
                        (stack.empty() ? std::string("anything") : "<" + stack.back() + ">"));
          stack.pop_back();
          if (stack.empty()) root_done = true;
          continue;
        }
        ++i;
        std::string n;
        if (!name(n)) return false;
        if (root_done) return fail("content after the root element");
        if (stack.empty() && rep.root.empty()) rep.root = n;
        ++rep.elements;
        std::set<std::string> attrs;
        for (;;) {
          size_t before = i;
          skip_space();
          if (eof()) return fail("unterminated start tag <" + n + ">");
          if (s[i] == '/') {
            if (i + 1 >= s.size() || s[i + 1] != '>') return fail("expected '/>'");
            i += 2;
            if (stack.empty()) root_done = true;
            break;
          }
          if (s[i] == '>') {
            ++i;
            stack.push_back(n);
            break;
          }
          if (i == before) return fail("expected whitespace before an attribute");
          std::string an;
          if (!name(an)) return false;
          if (!attrs.insert(an).second) return fail("duplicate attribute '" + an + "' on <" + n + ">");
          skip_space();
          if (eof() || s[i] != '=') return fail("expected '=' after attribute '" + an + "'");
          ++i;
          skip_space();
          if (eof() || (s[i] != '"' && s[i] != '\'')) return fail("attribute value not quoted");
          char q = s[i++];
          std::string val;
          while (!eof() && s[i] != q) {
            if (s[i] == '<') return fail("'<' in an attribute value");
            if (s[i] == '&') {
              if (!reference(val)) return false;
              continue;
            }
            uint32_t cp;
            if (!utf8_char(cp)) return false;
          }
          if (eof()) return fail("unterminated attribute value");
          ++i;
        }
        continue;
      }
      if (stack.empty()) {
        if (!space(static_cast<unsigned char>(c))) return fail("text outside the root element");
        ++i;
        continue;
      }
      if (c == '&') {
        if (!reference(text)) return false;
        continue;
      }
      if (starts("]]>")) return fail("']]>' in text");
      size_t b = i;
      uint32_t cp;
      if (!utf8_char(cp)) return false;
      text.append(s.substr(b, i - b));
    }
    if (!stack.empty()) return fail("unclosed element <" + stack.back() + ">");
    if (rep.root.empty()) return fail("no root element");
    return true;
  }
};

}  // namespace

xml_report xml_check(std::string_view doc) {
  scanner sc{doc, 0, {}};
  sc.rep.ok = sc.run();
  return std::move(sc.rep);
}

}  // namespace gb::viz
