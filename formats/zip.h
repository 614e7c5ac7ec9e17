// formats/zip.h: a zip container reader for hostile archives (PyTorch checkpoints, .npz, plain zips).
//
// The central directory is trusted only after it is checked against each local header (name, method,
// sizes, CRC), the data descriptor, and the file bounds. Entries are never extracted to disk: stored
// entries are views into the mapped bytes, deflated ones are inflated into memory under a size cap and a
// ratio cap (a zip bomb is a finding and is not inflated). Deviations become findings:
//   zip.header_mismatch  zip.path_escape  zip.overlap  zip.duplicate_name  zip.encrypted
//   zip.encryption_flag_decoy  zip.unusual_flags  zip.bomb  zip.unsupported_method  zip.crc_mismatch
//   zip.descriptor_mismatch  zip.prefix_bytes  zip.gap  zip.count_mismatch  zip.bad_entry  zip.comment
// What cannot be parsed at all (no end-of-central-directory record, a central directory outside the file,
// too many entries) throws gb::failure with errc::bad_zip / errc::limit.
//
//   gb::zip::listing z = gb::zip::open(map->data(), map->size());
//   for (const gb::zip::entry& e : z.entries) {
//     gb::zip::content c = gb::zip::read(z, e);        // c.ok, c.data, c.size (stored: no copy)
//     if (!c.ok) std::printf("%s: %s\n", e.name.c_str(), c.why.c_str());
//   }
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/error.h"

namespace gb::zip {

struct entry {
  std::string name;  // central directory name
  uint16_t flags = 0;
  uint16_t method = 0;  // 0 stored, 8 deflate
  uint32_t crc = 0;
  uint64_t comp_size = 0;      // bytes in the file
  uint64_t size = 0;           // declared uncompressed size
  uint64_t local_offset = 0;   // absolute offset of the local header
  uint64_t data_offset = 0;    // absolute offset of the (compressed) data
  uint64_t end_offset = 0;     // absolute end of the entry incl. data descriptor
  bool encrypted = false;      // flag bit 0 (or 6) and the bytes are not plain
  bool readable = false;       // read() can return its bytes
  std::string why_unreadable;  // when !readable
};

struct options {
  uint64_t max_entries = 1'000'000;
  uint64_t max_entry_size = 4ull << 30;  // declared uncompressed size we would inflate
  uint64_t max_ratio = 200;              // uncompressed / compressed, above 1 MiB uncompressed
};

struct listing {
  const uint8_t* data = nullptr;  // the whole file
  uint64_t size = 0;
  uint64_t prefix = 0;     // bytes before the zip proper (self-extractor / polyglot prefix)
  uint64_t cd_offset = 0;  // absolute offset of the central directory
  uint64_t eocd_offset = 0;
  bool zip64 = false;
  std::vector<entry> entries;     // central directory order
  std::vector<finding> findings;  // `where` holds the entry name (or "" for the container)
  options opt;

  const entry* find(std::string_view name) const;
};

// True when an end-of-central-directory record sits within the last 64 KiB + 22 bytes.
bool has_eocd(const uint8_t* data, uint64_t size);

listing open(const uint8_t* data, uint64_t size, const options& opt = {});

struct content {
  bool ok = false;
  const uint8_t* data = nullptr;  // stored: into the file; deflated: into `owned`
  uint64_t size = 0;
  std::vector<uint8_t> owned;
  std::string why;  // when !ok
  bool crc_ok = true;
};

// Returns the entry's bytes (checking the CRC). Never throws on input; adds nothing to the listing.
content read(const listing& z, const entry& e);

// A minimal writer for fixtures and benches: stored or deflated entries, written like torch.save does
// (data descriptors, optional 64-byte data alignment through an "FB" padding extra field), 32-bit
// offsets only (fails past 4 GiB). Bytes go to `sink` as they are produced.
//
//   std::vector<uint8_t> out;
//   gb::zip::writer w([&](const uint8_t* p, size_t n) { out.insert(out.end(), p, p + n); });
//   w.add("archive/data.pkl", pkl.data(), pkl.size());
//   w.add_stream("archive/data/0", 1 << 20, [](uint8_t* buf, size_t n) { std::memset(buf, 0, n); });
//   w.finish();
class writer {
 public:
  using sink = std::function<void(const uint8_t*, size_t)>;
  explicit writer(sink s) : sink_(std::move(s)) {}
  void add(std::string_view name, const uint8_t* data, uint64_t n, bool deflate = false, uint32_t align = 0);
  void add_stream(std::string_view name, uint64_t n, const std::function<void(uint8_t*, size_t)>& fill,
                  uint32_t align = 64);
  void finish(std::string_view comment = {});
  uint64_t written() const { return pos_; }

 private:
  struct record {
    std::string name;
    uint16_t method;
    uint32_t crc;
    uint64_t comp, size, offset;
  };
  void put(const void* p, size_t n);
  void local_header(std::string_view name, uint16_t method, uint32_t align);
  void descriptor(record& r);
  sink sink_;
  uint64_t pos_ = 0;
  std::vector<record> records_;
};

// Path escape check for an entry name: absolute, "..", backslash, drive letter. Empty when fine.
std::string name_problem(std::string_view name);

}  // namespace gb::zip
