// viz/text.cpp: printf into a string, thousands separators, terminal-safe text (see viz/text.h).
#include "viz/text.h"

#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace gb::viz {

std::string strf(const char* fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  const int n = std::vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  std::string s(static_cast<size_t>(n > 0 ? n : 0), '\0');
  if (n > 0) std::vsnprintf(s.data(), s.size() + 1, fmt, ap2);
  va_end(ap2);
  return s;
}

std::string thousands(uint64_t n) {
  std::string s = std::to_string(n), r;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) r += ',';
    r += s[i];
  }
  return r;
}

std::string safe_text(const std::string& t) {
  std::string o = t;
  for (char& c : o)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return o;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tmv{};
  gmtime_r(&t, &tmv);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  return buf;
}

std::string finding_line(const finding& f) {
  return strf("  [%s] %s %s: %s\n", severity_name(f.level), f.code.c_str(), f.where.c_str(),
              f.message.c_str());
}

}  // namespace gb::viz
