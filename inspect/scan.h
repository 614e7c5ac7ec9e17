// inspect/scan.h: "is it safe to open?" One scan engine for `glassbox scan`, `inspect` and `audit`.
//
// Every file under the given paths is examined without executing anything: model formats through the
// loaders (structural findings from safetensors/GGUF/ONNX/zip, pickle imports from the non-executing
// pickle reader), stand-alone pickles, numpy, zip containers and their members, chat templates (GGUF
// `tokenizer.chat_template`, `tokenizer_config.json`, `*.jinja`; audited as text, never rendered), renamed
// and polyglot files. Each file says how much of it was examined: fully, partly (and why), or not at all
// (and why): a file that was skipped is never reported clean.
//
//   gb::scan_report r = gb::scan_paths({"models/llama"}, {});
//   for (const gb::scan_file& f : r.files)
//     std::printf("%s %s %s\n", gb::scan_status_name(f.status), f.path.c_str(), f.reason.c_str());
//   if (r.worst() >= gb::severity::critical) ...   // a dangerous pickle global, say
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/archive.h"

namespace gb {

enum class scan_status : uint8_t { full, partial, none };
const char* scan_status_name(scan_status s);  // "fully scanned", "partly scanned", "not scanned"

struct scan_file {
  std::string path;
  file_format format = file_format::unknown;
  std::string kind;                   // what the bytes are: "pickle (protocol 4)", "png image", "text" ...
  scan_status status = scan_status::full;
  std::string reason;                 // why partial / none (empty when full)
  std::vector<finding> findings;      // `where` names the file (and zip member / tensor / key)
  uint64_t size = 0;
  severity worst() const;             // info when there are no findings
};

struct scan_options {
  bool recurse = true;                // descend into folders
  uint64_t max_files = 1'000'000;
};

struct scan_report {
  std::vector<scan_file> files;       // sorted by path
  severity worst() const;
  size_t count(severity s) const;     // findings at exactly this level
  size_t count(scan_status s) const;  // files with this status
};

// Scans files and folders. Paths that do not exist become files with status none.
scan_report scan_paths(const std::vector<std::string>& paths, const scan_options& opt = {});

// One file.
scan_file scan_one(const std::string& path);

// Template-injection constructs in a chat template (text only). Appends findings code
// "template.injection" (with the construct and its offset inside the template).
void scan_template_text(std::string_view text, const std::string& where, std::vector<finding>& out);

// True for finding codes that mean part of a file could not be examined (encrypted member, broken pickle...).
bool finding_limits_coverage(const finding& f);

}  // namespace gb
