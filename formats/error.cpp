#include "formats/error.h"

#include <algorithm>
#include <cctype>

namespace gb {

const char* errc_name(errc c) {
  switch (c) {
    case errc::io:
      return "io";
    case errc::not_found:
      return "not_found";
    case errc::is_directory:
      return "is_directory";
    case errc::empty_file:
      return "empty_file";
    case errc::bad_magic:
      return "bad_magic";
    case errc::truncated:
      return "truncated";
    case errc::out_of_bounds:
      return "out_of_bounds";
    case errc::overflow:
      return "overflow";
    case errc::limit:
      return "limit";
    case errc::bad_value:
      return "bad_value";
    case errc::bad_json:
      return "bad_json";
    case errc::bad_utf8:
      return "bad_utf8";
    case errc::duplicate:
      return "duplicate";
    case errc::overlap:
      return "overlap";
    case errc::hole:
      return "hole";
    case errc::unsupported:
      return "unsupported";
    case errc::bad_pickle:
      return "bad_pickle";
    case errc::bad_zip:
      return "bad_zip";
    case errc::bad_protobuf:
      return "bad_protobuf";
    case errc::path_escape:
      return "path_escape";
    case errc::mismatch:
      return "mismatch";
  }
  return "unknown";
}

std::string error::to_string() const {
  std::string s;
  if (!where.empty()) s += where + ": ";
  s += message;
  s += " [";
  s += errc_name(code);
  s += " at byte offset " + std::to_string(offset) + "]";
  return s;
}

void fail(errc code, uint64_t offset, std::string message) {
  throw failure(error{code, offset, std::move(message), {}});
}

const char* severity_name(severity s) {
  switch (s) {
    case severity::info:
      return "info";
    case severity::low:
      return "low";
    case severity::medium:
      return "medium";
    case severity::high:
      return "high";
    case severity::critical:
      return "critical";
  }
  return "info";
}

std::optional<severity> severity_parse(const std::string& in) {
  std::string s(in);
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (s == "info" || s == "innocuous") return severity::info;
  if (s == "low") return severity::low;
  if (s == "medium") return severity::medium;
  if (s == "high" || s == "suspicious") return severity::high;
  if (s == "critical" || s == "dangerous") return severity::critical;
  return std::nullopt;
}

}  // namespace gb
