// cli/option_values.cpp: the value parsers and checks every command shares: --fail-on, choices with a "did
// you mean", output files and folders checked before any work, token id lists (cli/options.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <sstream>

#include "cli/option_internal.h"

namespace gb::cli {

namespace detail {

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

[[noreturn]] void usage_throw(const std::string& why) {
  throw usage_failure(why);
}

}  // namespace detail

namespace {

// Levenshtein distance (small strings: option names, commands, enum values).
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string nearest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  size_t allowed = std::max<size_t>(2, word.size() / 3);
  return best_d <= allowed ? best : "";
}

gb::severity fail_on_parse(const std::string& text) {
  auto s = gb::severity_parse(text);
  if (!s)
    check_choice("fail-on", text,
                 {"info", "low", "medium", "high", "critical", "innocuous", "suspicious", "dangerous"});
  return s.value_or(gb::severity::critical);
}

void check_choice(const std::string& option, const std::string& value,
                  const std::vector<std::string>& valid) {
  if (std::find(valid.begin(), valid.end(), value) != valid.end()) return;
  std::string near = nearest(value, valid);
  detail::usage_throw("--" + option + ": unknown value '" + value + "'." +
                      (near.empty() ? "" : " Did you mean '" + near + "'?") +
                      " Valid: " + detail::join(valid));
}

void check_output_file(const std::string& option, const std::string& path) {
  if (path.empty() || path == "-") return;
  auto slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    fail(errc::not_found, 0,
         "--" + option + " " + path + ": folder " + dir + " does not exist. Create it first");
  if (::access(dir.c_str(), W_OK) != 0)
    fail(errc::io, 0,
         "--" + option + " " + path + ": cannot write in " + dir + " (" + std::strerror(errno) + ")");
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    fail(errc::is_directory, 0, "--" + option + " " + path + " is a folder. Give a file name");
}

void check_output_dir(const std::string& option, const std::string& dir) {
  if (dir.empty()) return;
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      fail(errc::io, 0, "--" + option + " " + dir + " is a file, not a folder. Give a folder");
  } else {
    std::string parent =
        dir.substr(0, dir.find_last_of('/') == std::string::npos ? 0 : dir.find_last_of('/'));
    if (parent.empty()) parent = dir[0] == '/' ? "/" : ".";
    if (::stat(parent.c_str(), &st) != 0)
      fail(errc::not_found, 0,
           "--" + option + " " + dir + ": folder " + parent + " does not exist. Create it first");
    if (::mkdir(dir.c_str(), 0755) != 0)
      fail(errc::io, 0,
           "--" + option + " " + dir + ": cannot create the folder (" + std::strerror(errno) + ")");
  }
  if (::access(dir.c_str(), W_OK) != 0)
    fail(errc::io, 0, "--" + option + " " + dir + ": cannot write here (" + std::strerror(errno) + ")");
}

bool parse_ids(const std::string& s, std::vector<int32_t>& out, int64_t min_value) {
  std::istringstream in(s);
  std::string tok;
  while (std::getline(in, tok, ',')) {
    std::istringstream words(tok);
    std::string w;
    while (words >> w) {
      size_t used = 0;
      long long v = 0;
      try {
        v = std::stoll(w, &used);
      } catch (const std::exception&) {
        return false;
      }
      if (used != w.size() || v < min_value || v > INT32_MAX) return false;
      out.push_back(static_cast<int32_t>(v));
    }
  }
  return true;
}

}  // namespace gb::cli
