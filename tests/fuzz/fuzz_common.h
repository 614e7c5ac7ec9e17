// tests/fuzz/fuzz_common.h: helpers shared by the libFuzzer targets (tests/fuzz/fuzz_<format>.cpp).
//
// File-based loaders read through gb::mapped_file, so a target writes the fuzz input to one reused file
// in a per-process scratch folder (/dev/shm when it exists, else $TMPDIR or /tmp) and opens that path.
// Multi-file targets (HF folder, bias datasets, tokenizer + config) cut the input into parts at a marker.
//
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
//     auto [a, ok] = gb::fuzz::load_scratch("model.gguf", data, size, gb::loaders::load_gguf);
//     return 0;
//   }
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/archive.h"
#include "formats/error.h"

namespace gb::fuzz {

// The part separator of multi-file targets (also used by the seed generator).
inline constexpr std::string_view k_part_marker = "\n--8<--\n";

// A per-process scratch folder, created on first use and removed at exit.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    const char* base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : nullptr;
    if (!base) base = std::getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    std::string d = std::string(base) + "/gb-fuzz-" + std::to_string(::getpid());
    std::filesystem::create_directories(d);
    static const std::string keep = d;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(keep, ec);
    });
    return d;
  }();
  return dir;
}

// Writes bytes to scratch_dir()/name (created or truncated) and returns the path.
inline std::string write_scratch(const std::string& name, const void* data, size_t size) {
  std::string path = scratch_dir() + "/" + name;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::perror(path.c_str());
    std::abort();  // the harness itself is broken, not the code under test
  }
  const auto* p = static_cast<const uint8_t*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n <= 0) {
      std::perror(path.c_str());
      std::abort();
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  ::close(fd);
  return path;
}

inline std::string write_scratch(const std::string& name, std::string_view text) {
  return write_scratch(name, text.data(), text.size());
}

// Removes scratch_dir()/name if present (so a part missing from the input is missing from the folder).
inline void remove_scratch(const std::string& name) {
  ::unlink((scratch_dir() + "/" + name).c_str());
}

// Cuts the input into at most `max_parts` parts at k_part_marker (the last part keeps any further markers).
inline std::vector<std::string_view> split_parts(const uint8_t* data, size_t size, size_t max_parts) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    size_t at = all.find(k_part_marker);
    if (at == std::string_view::npos) break;
    parts.push_back(all.substr(0, at));
    all.remove_prefix(at + k_part_marker.size());
  }
  parts.push_back(all);
  return parts;
}

// Runs f(); a gb::failure or std::bad_alloc is a clean rejection of the input (returns false). Anything
// else escaping is a bug and propagates (libFuzzer reports the uncaught exception as a crash).
template <class F>
bool run(F&& f) {
  try {
    f();
    return true;
  } catch (const gb::failure&) {
    return false;
  } catch (const std::bad_alloc&) {
    return false;
  }
}

// Writes the input to scratch_dir()/name and runs a file loader on it, as archive_open would after
// sniffing (which rejects empty files before any loader runs: empty inputs are not loaded). Returns the
// archive (for what glassbox does next with it) and whether the loader accepted the bytes.
template <class Loader>
std::pair<std::shared_ptr<gb::archive>, bool> load_scratch(const std::string& name, const uint8_t* data,
                                                           size_t size, Loader&& loader) {
  auto a = std::make_shared<gb::archive>();
  if (size == 0) return {a, false};
  const std::string path = write_scratch(name, data, size);
  const bool ok = run([&] { loader(*a, gb::mapped_file::open(path), gb::open_options{}); });
  return {a, ok};
}

}  // namespace gb::fuzz
