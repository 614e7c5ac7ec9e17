// formats/file_text.cpp: a whole file to or from a string, and path checks (see formats/file_text.h).
#include "formats/file_text.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "formats/error.h"

namespace gb {

std::string file_text(const std::string& path, const std::string& what) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    fail(errc::not_found, 0,
         "cannot read " + (what.empty() ? "" : what + " ") + path + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void file_write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) fail(errc::io, 0, "cannot write " + path + ": " + std::strerror(errno));
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool path_within(const std::filesystem::path& root, const std::filesystem::path& p) {
  auto rel = p.lexically_relative(root);
  return !rel.empty() && *rel.begin() != "..";
}

}  // namespace gb
