// formats/file_text.h: a whole small file (keys, certificates, manifests, word lists, reports) as a string,
// read or written; a file that cannot be read is one errc::not_found failure naming what it was for, one that
// cannot be written an errc::io failure. And the two path questions folder walkers ask.
//
//   std::string pem = gb::file_text(path, "private key");   // "cannot read private key PATH: <reason>"
//   gb::file_write_text(dir + "/report.json", text);         // "cannot write PATH: <reason>"
//   if (gb::path_exists(key)) ...
//   if (!gb::path_within(root, fs::canonical(link))) ...      // a link that leaves the folder
#pragma once

#include <filesystem>
#include <string>

namespace gb {

std::string file_text(const std::string& path, const std::string& what = "");
// Replaces the file's contents with `text`.
void file_write_text(const std::string& path, const std::string& text);
// A file or folder of that name exists (stat succeeds).
bool path_exists(const std::string& path);
// true when p (both lexically normal, e.g. canonical) is root or below it
bool path_within(const std::filesystem::path& root, const std::filesystem::path& p);

}  // namespace gb
