// formats/file_text.cpp: read a whole file into a string (see formats/file_text.h).
#include "formats/file_text.h"

#include <fstream>
#include <sstream>

#include "formats/error.h"

namespace gb {

std::string file_text(const std::string& path, const std::string& what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(errc::not_found, 0, "cannot read " + (what.empty() ? "" : what + " ") + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace gb
