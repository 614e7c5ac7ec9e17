// formats/file_text.h: a whole small file (keys, certificates, manifests, word lists) as a string; a file
// that cannot be read is one errc::not_found failure naming what it was for.
//
//   std::string pem = gb::file_text(path, "private key");   // "cannot read private key PATH"
#pragma once

#include <string>

namespace gb {

std::string file_text(const std::string& path, const std::string& what = "");

}  // namespace gb
