// formats/zip.h: a zip container reader for hostile archives (PyTorch checkpoints, .npz, plain zips).
//
// The central directory is trusted only after it is checked against each local header (name, method,
// sizes, CRC), the data descriptor, and the file bounds. Entries are never extracted to disk: stored
// entries are views into the mapped bytes, deflated ones are inflated into memory under a size cap (past it:
// zip.bomb, not inflated) and a ratio cap (past it: zip.high_ratio, a stream_only entry that member_stream
// reads within the scan's byte budget but read() never inflates whole). Deviations become findings:
//   zip.header_mismatch  zip.path_escape  zip.overlap  zip.duplicate_name  zip.encrypted  zip.high_ratio
//   zip.encryption_flag_decoy  zip.unusual_flags  zip.bomb  zip.unsupported_method  zip.crc_mismatch
//   zip.descriptor_mismatch  zip.prefix_bytes  zip.gap  zip.count_mismatch  zip.bad_entry  zip.comment
//   zip.local_only (the file is walked from byte 0: every local header the central directory does not list
//   becomes an entry too, as streaming readers see it; bytes outside every entry are swept for pickle
//   imports)
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
  bool readable = false;       // read() or member_stream can return its bytes
  bool stream_only = false;    // highly compressed (zip.high_ratio): member_stream only, never inflated whole
  bool local_only = false;     // a local header the central directory does not list (zip.local_only)
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
  std::vector<entry> entries;     // central directory order, then local-only entries in file order
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

// How much a scan may inflate: per member and per archive. A member that would need more is NOT VERIFIED.
struct inflate_budget {
  uint64_t member = 2ull << 30;  // inflated bytes read from one member
  uint64_t total = 8ull << 30;   // inflated bytes read from all members of one archive
  uint64_t used = 0;
};

// The budget loaders give compressed members on this thread: `glassbox scan` sets it for the file it scans
// (scan_options::inflate_member / inflate_total) through inflate_budget_scope, and restores it after.
inflate_budget inflate_budget_for_thread();
class inflate_budget_scope {
 public:
  explicit inflate_budget_scope(uint64_t member, uint64_t total);
  ~inflate_budget_scope();
  inflate_budget_scope(const inflate_budget_scope&) = delete;
  inflate_budget_scope& operator=(const inflate_budget_scope&) = delete;

 private:
  inflate_budget saved_;
};

// An entry's bytes as a stream (stored: from the mapped file; deflated: inflated chunk by chunk, zlib's
// 32 KiB window plus what the caller asks for): never more than `budget` bytes, never past the declared
// size (Python's zipfile stops there too). Memory does not grow with the entry.
//
//   gb::zip::member_stream s(z, e, 1ull << 30);
//   uint8_t buf[65536];
//   while (uint64_t n = s.read(buf, sizeof buf)) consume(buf, n);
//   if (s.status() == gb::zip::member_stream::state::over_budget) ...  // not verified past the budget
class member_stream {
 public:
  enum class state : uint8_t { reading, done, over_budget, corrupt };
  member_stream(const listing& z, const entry& e, uint64_t budget);
  ~member_stream();
  member_stream(const member_stream&) = delete;
  member_stream& operator=(const member_stream&) = delete;
  uint64_t read(uint8_t* out, uint64_t n);  // 0 at the end, or once it stopped (status says why)
  state status() const { return state_; }
  const std::string& why() const { return why_; }  // over_budget / corrupt: what happened
  uint64_t produced() const { return produced_; }
  bool crc_ok() const;                     // done: the bytes' CRC-32 is the entry's
  bool longer() const { return longer_; }  // done: inflates past the declared size (the rest not read)
  bool shorter() const { return state_ == state::done && produced_ < e_.size; }

 private:
  struct impl;
  const listing& z_;
  const entry& e_;
  uint64_t cap_ = 0;  // min(declared size, budget)
  uint64_t budget_ = 0;
  uint64_t produced_ = 0;
  uint64_t in_used_ = 0;  // compressed bytes consumed (stored: bytes copied)
  uint32_t crc_ = 0;
  bool longer_ = false;
  state state_ = state::reading;
  std::string why_;
  impl* z_stream_ = nullptr;  // zlib state (deflated entries)
};

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
