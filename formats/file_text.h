// formats/file_text.h: a whole small file (keys, certificates, manifests, word lists, reports) as a string,
// read or written; a file that cannot be read is one errc::not_found failure naming what it was for, one that
// cannot be written an errc::io failure.
//
//   std::string pem = gb::file_text(path, "private key");   // "cannot read private key PATH"
//   gb::file_write_text(dir + "/report.json", text);         // "cannot write PATH"
//   if (gb::path_exists(key)) ...
#pragma once

#include <string>

namespace gb {

std::string file_text(const std::string& path, const std::string& what = "");
// Replaces the file's contents with `text`.
void file_write_text(const std::string& path, const std::string& text);
// A file or folder of that name exists (stat succeeds).
bool path_exists(const std::string& path);

}  // namespace gb
