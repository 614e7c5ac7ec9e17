// inspect/scan.h: "is it safe to open?" One scan engine for `glassbox scan`, `inspect` and `audit`.
//
// Every file under the given paths is examined without executing anything: model formats through the
// loaders (structural findings from safetensors/GGUF/ONNX/zip, pickle imports from the non-executing
// pickle reader), stand-alone pickles, numpy, zip containers and their members, chat templates (GGUF
// `tokenizer.chat_template`, `tokenizer_config.json`, `*.jinja`; audited as text, never rendered), renamed
// and polyglot files. Files are recognised by their bytes, never by their name alone (a protocol 0/1
// pickle is text with no magic: any file that is a pickle is scanned as one). Each file says how much of it
// was examined: fully, partly (and why), or not at all (and why), and gets one verdict: DANGEROUS,
// NOT VERIFIED (something in it was not understood to its end: a HIGH `scan.not_verified` finding, which
// fails `glassbox scan` whatever --fail-on says), SUSPICIOUS or CLEAN. A skipped file is never clean.
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

// The per-file answer, worst first: dangerous (a critical finding), not_verified (partly or not scanned,
// or a *.not_verified finding), suspicious (a high finding), clean.
enum class scan_verdict : uint8_t { clean, suspicious, not_verified, dangerous };
const char* scan_verdict_name(scan_verdict v);  // "CLEAN", "SUSPICIOUS", "NOT VERIFIED", "DANGEROUS"

struct scan_file {
  std::string path;
  file_format format = file_format::unknown;
  std::string kind;  // what the bytes are: "pickle (protocol 4)", "png image", "text" ...
  scan_status status = scan_status::full;
  std::string reason;             // why partial / none (empty when full)
  std::vector<finding> findings;  // `where` names the file (and zip member / tensor / key)
  uint64_t size = 0;
  std::vector<std::string> covers;  // other files this one reads as part of itself (ONNX external data)
  severity worst() const;           // info when there are no findings
  scan_verdict verdict() const;
};

struct scan_options {
  bool recurse = true;  // descend into folders
  uint64_t max_files = 1'000'000;
  // Compressed zip members are inflated as streams (bounded memory) and scanned: at most this many inflated
  // bytes per member and per archive. A member past the budget is NOT VERIFIED (HIGH zip.not_verified).
  uint64_t inflate_member = 2ull << 30;
  uint64_t inflate_total = 8ull << 30;
  int threads = 0;  // files scanned in parallel (0 = all cores); the report is the same for any count
};

struct scan_report {
  std::vector<scan_file> files;  // sorted by path
  severity worst() const;
  size_t count(severity s) const;     // findings at exactly this level
  size_t count(scan_status s) const;  // files with this status
};

// Scans files and folders. Paths that do not exist become files with status none.
scan_report scan_paths(const std::vector<std::string>& paths, const scan_options& opt = {});

// One file.
scan_file scan_one(const std::string& path, const scan_options& opt = {});

// Template-injection constructs in a chat template (text only). Appends findings code
// "template.injection" (with the construct and its offset inside the template).
void scan_template_text(std::string_view text, const std::string& where, std::vector<finding>& out);

// True for finding codes that mean part of a file could not be examined (encrypted member, broken pickle...).
bool finding_limits_coverage(const finding& f);

// True for the HIGH "not verified" findings (codes ending in ".not_verified"): they fail a scan at any
// --fail-on.
bool finding_not_verified(const finding& f);

// True when a finding of the report reaches `fail_on` or is "not verified" (what fails `glassbox scan`).
bool scan_fails(const scan_report& r, severity fail_on);

}  // namespace gb
