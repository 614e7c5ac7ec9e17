// viz/text_table.cpp: the shared table renderer (see text_table.h).
#include "viz/text_table.h"

#include <algorithm>
#include <cstdio>

namespace gb::viz {
namespace {

// Terminal width of a cell: code points (continuation bytes do not count).
size_t width_of(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string md_cell(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '|')
      o += "\\|";
    else if (c == '\n' || c == '\r')
      o += ' ';
    else
      o += c;
  }
  return o;
}

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

}  // namespace

std::optional<table_format> table_format_parse(std::string_view name) {
  if (name == "table") return table_format::table;
  if (name == "md" || name == "markdown") return table_format::md;
  if (name == "csv") return table_format::csv;
  return std::nullopt;
}

std::string table_render(const text_table& t, table_format f) {
  size_t cols = t.header.size();
  for (const auto& r : t.rows) cols = std::max(cols, r.size());
  auto cell = [](const std::vector<std::string>& r, size_t i) -> const std::string& {
    static const std::string empty;
    return i < r.size() ? r[i] : empty;
  };
  auto numeric = [&](size_t i) { return i < t.numeric.size() && t.numeric[i]; };
  std::string out;
  if (f == table_format::csv) {
    auto line = [&](const std::vector<std::string>& r) {
      for (size_t i = 0; i < cols; ++i) out += (i ? "," : "") + csv_cell(cell(r, i));
      out += "\r\n";
    };
    line(t.header);
    for (const auto& r : t.rows) line(r);
    return out;
  }
  if (f == table_format::md) {
    auto line = [&](const std::vector<std::string>& r) {
      out += "|";
      for (size_t i = 0; i < cols; ++i) out += " " + md_cell(cell(r, i)) + " |";
      out += "\n";
    };
    line(t.header);
    out += "|";
    for (size_t i = 0; i < cols; ++i) out += numeric(i) ? " ---: |" : " --- |";
    out += "\n";
    for (const auto& r : t.rows) line(r);
    return out;
  }
  std::vector<size_t> w(cols, 0);
  for (size_t i = 0; i < cols; ++i) {
    w[i] = width_of(cell(t.header, i));
    for (const auto& r : t.rows) w[i] = std::max(w[i], width_of(cell(r, i)));
  }
  auto line = [&](const std::vector<std::string>& r) {
    std::string l;
    for (size_t i = 0; i < cols; ++i) {
      const std::string& c = cell(r, i);
      const std::string pad(w[i] - width_of(c), ' ');
      l += (i ? "  " : "") + (numeric(i) ? pad + c : c + (i + 1 < cols ? pad : ""));
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(t.header);
  std::vector<std::string> rule(cols);
  for (size_t i = 0; i < cols; ++i) rule[i] = std::string(w[i], '-');
  line(rule);
  for (const auto& r : t.rows) line(r);
  return out;
}

std::string text_quote(std::string_view s) {
  std::string o = "'";
  char buf[8];
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\\')
      o += "\\\\";
    else if (c == '\'')
      o += "\\'";
    else if (c == '\n')
      o += "\\n";
    else if (c == '\r')
      o += "\\r";
    else if (c == '\t')
      o += "\\t";
    else if (c < 0x20 || c == 0x7F) {
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      o += buf;
    } else if (c < 0x80) {
      o += static_cast<char>(c);
    } else {  // a whole, valid UTF-8 sequence is kept; any other byte is escaped
      const size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
      bool ok = n && i + n <= s.size();
      for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
      if (ok) {
        o.append(s.substr(i, n));
        i += n - 1;
      } else {
        std::snprintf(buf, sizeof buf, "\\x%02X", c);
        o += buf;
      }
    }
  }
  return o + "'";
}

}  // namespace gb::viz
