// Zip container reader: EOCD / ZIP64 records, central directory checked against local headers.
#include "formats/zip.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "formats/pickle.h"
#include "formats/reader.h"

namespace gb::zip {

namespace {

constexpr uint32_t k_sig_local = 0x04034b50, k_sig_central = 0x02014b50, k_sig_eocd = 0x06054b50,
                   k_sig_eocd64 = 0x06064b50, k_sig_locator64 = 0x07064b50, k_sig_descriptor = 0x08074b50;

void add(listing& z, severity s, const char* code, const std::string& where, const std::string& msg,
         uint64_t off) {
  if (z.findings.size() >= 2000) return;  // cap the report, not the checks
  z.findings.push_back({s, code, where, msg, off});
}

uint32_t crc_of(const uint8_t* p, uint64_t n) {
  uLong c = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    uInt chunk = static_cast<uInt>(std::min<uint64_t>(n, 1u << 30));
    c = crc32(c, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(c);
}

// Inflates raw deflate data. Stops past `cap` bytes of output (returns false with `why`).
bool inflate_raw(const uint8_t* src, uint64_t n, uint64_t cap, std::vector<uint8_t>& out, std::string& why) {
  z_stream s{};
  if (inflateInit2(&s, -15) != Z_OK) {
    why = "zlib init failed";
    return false;
  }
  out.clear();
  out.resize(static_cast<size_t>(std::min<uint64_t>(cap + 1, 1u << 20)));
  uint64_t in_left = n;
  const uint8_t* in = src;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (s.avail_in == 0 && in_left > 0) {
      uInt chunk = static_cast<uInt>(std::min<uint64_t>(in_left, 1u << 30));
      s.next_in = const_cast<Bytef*>(in);
      s.avail_in = chunk;
      in += chunk;
      in_left -= chunk;
    }
    if (s.total_out >= out.size()) {
      if (out.size() > cap) {
        inflateEnd(&s);
        why = "inflates past its declared size " + std::to_string(cap);
        return false;
      }
      out.resize(static_cast<size_t>(std::min<uint64_t>(cap + 1, out.size() * 2)));
    }
    s.next_out = out.data() + s.total_out;
    s.avail_out = static_cast<uInt>(std::min<uint64_t>(out.size() - s.total_out, 1u << 30));
    rc = inflate(&s, Z_NO_FLUSH);
    if (rc == Z_BUF_ERROR && s.avail_in == 0 && in_left == 0) {
      inflateEnd(&s);
      why = "deflate stream truncated";
      return false;
    }
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      inflateEnd(&s);
      why = std::string("deflate data corrupt (") + (s.msg ? s.msg : "zlib error") + ")";
      return false;
    }
  }
  out.resize(static_cast<size_t>(s.total_out));
  inflateEnd(&s);
  if (out.size() > cap) {
    why = "inflates past its declared size " + std::to_string(cap);
    return false;
  }
  return true;
}

// Reads the ZIP64 extended-information extra field for the members that were saturated.
void zip64_extra(reader& x, uint64_t extra_len, uint64_t& size, uint64_t& comp, uint64_t& local,
                 bool want_size, bool want_comp, bool want_local) {
  uint64_t end = x.pos() + extra_len;
  while (x.pos() + 4 <= end) {
    uint16_t id = x.u16("extra id");
    uint16_t len = x.u16("extra length");
    if (x.pos() + len > end) x.error(errc::bad_zip, "extra field runs past its block");
    uint64_t field_end = x.pos() + len;
    if (id == 0x0001) {
      if (want_size && x.pos() + 8 <= field_end) size = x.u64("zip64 size");
      if (want_comp && x.pos() + 8 <= field_end) comp = x.u64("zip64 compressed size");
      if (want_local && x.pos() + 8 <= field_end) local = x.u64("zip64 local offset");
    }
    x.seek(field_end, "extra field");
  }
  x.seek(end, "extra block");
}

// The compressed length of a raw deflate stream at src (at most n bytes), found by inflating it into a
// scratch buffer (at most `cap` bytes of output); 0 when it does not end within those bounds.
uint64_t deflate_length(const uint8_t* src, uint64_t n, uint64_t cap) {
  z_stream s{};
  if (inflateInit2(&s, -15) != Z_OK) return 0;
  std::vector<uint8_t> scratch(1 << 16);  // (output chunk) discarded
  s.next_in = const_cast<Bytef*>(src);
  s.avail_in = static_cast<uInt>(std::min<uint64_t>(n, 1u << 30));
  uint64_t out = 0, len = 0;
  for (;;) {
    s.next_out = scratch.data();
    s.avail_out = static_cast<uInt>(scratch.size());
    int rc = inflate(&s, Z_NO_FLUSH);
    out += scratch.size() - s.avail_out;
    if (rc == Z_STREAM_END) {
      len = s.total_in;
      break;
    }
    if ((rc != Z_OK && rc != Z_BUF_ERROR) || out > cap || (rc == Z_BUF_ERROR && s.avail_in == 0)) break;
  }
  inflateEnd(&s);
  return len;
}

// Parses the local header at `at` as an entry of its own (sizes from the header, or from the data
// descriptor after a deflate stream / a stored run that ends at a descriptor). False when it is no entry.
bool local_entry(listing& z, uint64_t at, uint64_t limit, entry& e) {
  const uint8_t* d = z.data;
  if (limit - at < 30) return false;
  e.flags = load_le<uint16_t>(d + at + 6);
  e.method = load_le<uint16_t>(d + at + 8);
  e.crc = load_le<uint32_t>(d + at + 14);
  e.comp_size = load_le<uint32_t>(d + at + 18);
  e.size = load_le<uint32_t>(d + at + 22);
  uint64_t nlen = load_le<uint16_t>(d + at + 26), xlen = load_le<uint16_t>(d + at + 28);
  if (limit - at - 30 < nlen + xlen) return false;
  e.name.assign(reinterpret_cast<const char*>(d + at + 30), static_cast<size_t>(nlen));
  e.local_offset = at;
  e.data_offset = at + 30 + nlen + xlen;
  e.local_only = true;
  bool descriptor = (e.flags & 0x8) && e.comp_size == 0;
  if (descriptor && e.method == 8) {
    e.comp_size = deflate_length(d + e.data_offset, limit - e.data_offset, z.opt.max_entry_size);
    if (e.comp_size == 0) return false;
  } else if (descriptor) {  // stored with sizes only in the descriptor: the first descriptor that fits
    uint64_t q = e.data_offset;
    for (; limit - q >= 16; ++q)
      if (load_le<uint32_t>(d + q) == k_sig_descriptor && load_le<uint32_t>(d + q + 8) == q - e.data_offset)
        break;
    if (limit - q < 16) return false;
    e.comp_size = q - e.data_offset;
  }
  if (e.comp_size > limit - e.data_offset) return false;
  e.end_offset = e.data_offset + e.comp_size;
  if (e.flags & 0x8) {  // the descriptor: crc and sizes
    uint64_t q = e.end_offset;
    if (limit - q >= 4 && load_le<uint32_t>(d + q) == k_sig_descriptor) q += 4;
    if (limit - q >= 12) {
      e.crc = load_le<uint32_t>(d + q);
      e.size = load_le<uint32_t>(d + q + 8);
      e.end_offset = q + 12;
    }
  }
  if (e.method == 0) e.size = e.comp_size;
  e.readable = (e.method == 0 || e.method == 8) && !(e.flags & 0x41) && e.size <= z.opt.max_entry_size;
  if (!e.readable)
    e.why_unreadable =
        "local-only entry: encrypted, too big or compression method " + std::to_string(e.method);
  return true;
}

// Walks the file from byte 0 to the central directory: spans of listed entries are skipped, every other
// local header becomes a local-only entry (a high zip.local_only), and bytes outside every entry are swept
// for pickle imports (what a polyglot hides there).
void walk_local_headers(listing& z) {
  std::vector<std::pair<uint64_t, uint64_t>> spans;  // listed entries: [local header, end)
  for (const auto& e : z.entries)
    if (e.end_offset) spans.emplace_back(e.local_offset, e.end_offset);
  std::sort(spans.begin(), spans.end());
  const uint64_t limit = std::min(z.cd_offset, z.size);
  std::vector<entry> found;
  auto hidden = [&](uint64_t from, uint64_t to) {  // bytes no entry covers
    if (to <= from) return;
    pickle::result r;
    pickle::sweep(z.data, from, to, 0, {}, r);
    for (auto& g : r.globals) g.level = pickle::classify(g.module, g.name, false, &g.reason);
    std::vector<finding> f;
    pickle::add_findings(r, "", f);
    for (auto& x : f)
      add(z, x.level, x.code.c_str(), "", "in bytes outside every entry: " + x.message, x.offset);
    bool reported = from < z.prefix || (!spans.empty() && from == z.prefix && to == spans.front().first);
    if (!reported)
      add(z, severity::medium, "zip.gap", "",
          std::to_string(to - from) + " bytes between entries that no entry covers (swept for imports)",
          from);
  };
  uint64_t p = 0;
  size_t si = 0;
  while (p < limit) {
    while (si < spans.size() && spans[si].second <= p) ++si;
    if (si < spans.size() && spans[si].first <= p) {
      p = spans[si].second;
      continue;
    }
    uint64_t next = si < spans.size() ? std::min(spans[si].first, limit) : limit;
    uint64_t q = p;
    while (q + 4 <= next && load_le<uint32_t>(z.data + q) != k_sig_local) ++q;
    if (q + 4 > next) {
      hidden(p, next);
      p = next;
      continue;
    }
    entry e;
    if (!local_entry(z, q, next, e)) {  // a signature that starts no entry: part of the hidden bytes
      hidden(p, q + 4);
      p = q + 4;
      continue;
    }
    hidden(p, q);
    add(z, severity::high, "zip.local_only", e.name,
        "local header at byte " + std::to_string(q) +
            " that the central directory does not list: readers that walk local headers (streaming unzip) "
            "load it, Python's zipfile and torch do not",
        q);
    p = e.end_offset;
    found.push_back(std::move(e));
  }
  for (auto& e : found) z.entries.push_back(std::move(e));
}

}  // namespace

const entry* listing::find(std::string_view name) const {
  for (const auto& e : entries)
    if (e.name == name) return &e;
  return nullptr;
}

std::string name_problem(std::string_view n) {
  if (n.empty()) return "empty name";
  if (n[0] == '/') return "absolute path";
  if (n.find('\\') != std::string_view::npos) return "backslash in path";
  if (n.size() >= 2 && n[1] == ':') return "drive letter";
  if (n.find('\0') != std::string_view::npos) return "NUL in name";
  size_t start = 0;
  while (start <= n.size()) {
    size_t slash = n.find('/', start);
    std::string_view part =
        n.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part == "..") return "'..' component";
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return "";
}

bool has_eocd(const uint8_t* d, uint64_t n) {
  if (n < 22) return false;
  uint64_t lowest = n > 22 + 65535 ? n - 22 - 65535 : 0;
  for (uint64_t p = n - 22 + 1; p-- > lowest;)
    if (load_le<uint32_t>(d + p) == k_sig_eocd) return true;
  return false;
}

namespace {

// What the end records say: the central directory's entry count, size and offset, and where it ends.
struct dir_record {
  uint64_t count = 0;
  uint64_t cd_size = 0;
  uint64_t cd_off = 0;
  uint64_t end = 0;  // where the central directory ends: the EOCD, or the zip64 record before it
};

// The EOCD: scan back at most 64 KiB of comment + the 22-byte record; the last one whose comment fits.
uint64_t find_eocd(const uint8_t* d, uint64_t n, reader& r) {
  if (n < 22) r.error(errc::bad_zip, "too small for an end-of-central-directory record");
  uint64_t lowest = n > 22 + 65535 ? n - 22 - 65535 : 0;
  for (uint64_t p = n - 22 + 1; p-- > lowest;) {
    if (load_le<uint32_t>(d + p) != k_sig_eocd) continue;
    uint16_t comment = load_le<uint16_t>(d + p + 20);
    if (p + 22 + comment <= n) return p;
  }
  r.error_at(errc::bad_zip, 0, "no end-of-central-directory record in the last 64 KiB");
  return UINT64_MAX;
}

// The classic EOCD's fields; trailing bytes and a comment are findings, a spanned archive is refused.
dir_record read_eocd(listing& z, reader& r) {
  const uint64_t eocd = z.eocd_offset, n = z.size;
  r.seek(eocd + 4, "EOCD");
  uint16_t disk = r.u16("disk number");
  uint16_t cd_disk = r.u16("central directory disk");
  uint64_t count_disk = r.u16("entries on disk");
  dir_record dr;
  dr.count = r.u16("entry count");
  dr.cd_size = r.u32("central directory size");
  dr.cd_off = r.u32("central directory offset");
  dr.end = eocd;
  uint16_t comment = r.u16("comment length");
  if (eocd + 22 + comment != n)
    add(z, severity::medium, "zip.trailing_bytes", "",
        std::to_string(n - eocd - 22 - comment) + " bytes after the end-of-central-directory record",
        eocd + 22 + comment);
  if (comment > 0)
    add(z, severity::info, "zip.comment", "", "archive comment of " + std::to_string(comment) + " bytes",
        eocd + 22);
  if (disk != 0 || cd_disk != 0 || count_disk != dr.count)
    r.error_at(errc::unsupported, eocd, "zip: multi-disk (spanned) archives are not supported");
  return dr;
}

// The ZIP64 locator just before the EOCD: its record's counts replace the classic ones.
void read_zip64(listing& z, dir_record& dr) {
  const uint8_t* d = z.data;
  const uint64_t eocd = z.eocd_offset;
  if (eocd < 20 || load_le<uint32_t>(d + eocd - 20) != k_sig_locator64) return;
  reader l(d, z.size, "zip64");
  l.seek(eocd - 20 + 8, "zip64 locator");
  uint64_t rec = l.u64("zip64 EOCD offset");
  l.seek(rec, "zip64 EOCD record");
  if (l.u32("zip64 EOCD signature") != k_sig_eocd64) l.error(errc::bad_zip, "zip64 EOCD signature missing");
  l.skip(8 + 2 + 2 + 4 + 4, "zip64 EOCD fields");
  uint64_t c1 = l.u64("zip64 entries on disk");
  uint64_t c2 = l.u64("zip64 entry count");
  uint64_t s64 = l.u64("zip64 central directory size");
  uint64_t o64 = l.u64("zip64 central directory offset");
  if (c1 != c2) l.error(errc::unsupported, "zip: multi-disk (spanned) archives are not supported");
  if ((dr.count != 0xFFFF && dr.count != c2) || (dr.cd_size != 0xFFFFFFFF && dr.cd_size != s64) ||
      (dr.cd_off != 0xFFFFFFFF && dr.cd_off != o64))
    add(z, severity::high, "zip.header_mismatch", "", "ZIP64 record disagrees with the classic EOCD", rec);
  dr.count = c2;
  dr.cd_size = s64;
  dr.cd_off = o64;
  z.zip64 = true;
  dr.end = std::min(dr.end, rec);  // the central directory ends where the zip64 record starts
}

// Where the central directory really is: just before its end record. A difference is a prefix (polyglot)
// or a gap; an offset that points at no directory is refused. Sets z.prefix and z.cd_offset.
void locate_central_directory(listing& z, reader& r, const dir_record& dr) {
  const uint8_t* d = z.data;
  const uint64_t n = z.size, cd_off = dr.cd_off;
  if (dr.cd_size > dr.end)
    r.error_at(errc::bad_zip, z.eocd_offset, "zip: central directory larger than the file");
  uint64_t actual_cd = dr.end - dr.cd_size;
  if (actual_cd != cd_off) {
    if (actual_cd > cd_off && actual_cd + 4 <= n && load_le<uint32_t>(d + actual_cd) == k_sig_central) {
      z.prefix = actual_cd - cd_off;
      add(z, severity::high, "zip.prefix_bytes", "",
          std::to_string(z.prefix) + " bytes precede the zip (offsets are relative to byte " +
              std::to_string(z.prefix) + "): a polyglot or self-extractor",
          0);
    } else if (!(cd_off <= n && cd_off + 4 <= n && load_le<uint32_t>(d + cd_off) == k_sig_central) &&
               dr.count > 0) {
      r.error_at(errc::bad_zip, z.eocd_offset,
                 "zip: central directory offset " + std::to_string(cd_off) +
                     " does not point at a central directory");
    } else {
      add(z, severity::medium, "zip.gap", "", "bytes between the central directory and its end record",
          cd_off + dr.cd_size);
      actual_cd = cd_off;
    }
  }
  z.cd_offset = actual_cd;
}

// The central directory's entries into z.entries. Python's zipfile reads central entries by the
// directory's size, not the end record's count: so do we (an entry past the count is a member zipfile
// loads and a count-trusting scanner would miss).
void read_central_directory(listing& z, const dir_record& dr) {
  const uint8_t* d = z.data;
  const uint64_t count = dr.count, end = dr.end;
  reader c(d, z.size, "zip central directory");
  c.seek(z.cd_offset, "central directory");
  z.entries.reserve(static_cast<size_t>(std::min<uint64_t>(count, 100000)));
  auto more = [&](uint64_t k) {
    if (k < count) return true;
    uint64_t at = c.offset();
    return at < end && end - at >= 4 && load_le<uint32_t>(d + at) == k_sig_central && k < z.opt.max_entries;
  };
  for (uint64_t k = 0; more(k); ++k) {
    uint64_t at = c.offset();
    if (c.u32("central header signature") != k_sig_central)
      c.error_at(errc::bad_zip, at, "central directory entry " + std::to_string(k) + " has no signature");
    entry e;
    c.skip(4, "versions");
    e.flags = c.u16("flags");
    e.method = c.u16("method");
    c.skip(4, "time/date");
    e.crc = c.u32("crc");
    e.comp_size = c.u32("compressed size");
    e.size = c.u32("size");
    uint16_t nlen = c.u16("name length");
    uint16_t xlen = c.u16("extra length");
    uint16_t clen = c.u16("comment length");
    c.skip(2 + 2 + 4, "disk/attributes");
    uint64_t local = c.u32("local header offset");
    e.name = std::string(c.str(nlen, "entry name"));
    bool ws = e.size == 0xFFFFFFFF, wc = e.comp_size == 0xFFFFFFFF, wl = local == 0xFFFFFFFF;
    zip64_extra(c, xlen, e.size, e.comp_size, local, ws, wc, wl);
    c.skip(clen, "entry comment");
    e.local_offset = checked_add(local, z.prefix, "local header offset", at);
    z.entries.push_back(std::move(e));
  }
  if (z.entries.size() != count)
    add(z, severity::high, "zip.count_mismatch", "",
        "the end record counts " + std::to_string(count) + " entries, the central directory holds " +
            std::to_string(z.entries.size()) + " (all are scanned)",
        z.eocd_offset);
  if (c.offset() != end && !z.zip64)
    add(z, severity::medium, "zip.gap", "", "central directory size disagrees with its entries", c.offset());
}

// An entry's name and local header against its central record; sets e.data_offset. False (with
// e.why_unreadable) when the local header is missing or truncated.
bool check_local_header(listing& z, entry& e) {
  const uint8_t* d = z.data;
  const uint64_t n = z.size;
  std::string p = name_problem(e.name);
  if (!p.empty())
    add(z, severity::high, "zip.path_escape", e.name, "entry name escapes the extraction folder: " + p,
        e.local_offset);
  if (e.local_offset + 30 > n || load_le<uint32_t>(d + e.local_offset) != k_sig_local) {
    add(z, severity::high, "zip.bad_entry", e.name,
        "no local header at offset " + std::to_string(e.local_offset), e.local_offset);
    e.why_unreadable = "local header missing";
    return false;
  }
  reader l(d, n, "zip local header");
  l.seek(e.local_offset + 4, "local header");
  l.skip(2, "version");
  uint16_t lflags = l.u16("local flags");
  uint16_t lmethod = l.u16("local method");
  l.skip(4, "time/date");
  uint32_t lcrc = l.u32("local crc");
  uint64_t lcomp = l.u32("local compressed size");
  uint64_t lsize = l.u32("local size");
  uint16_t nlen = l.u16("local name length");
  uint16_t xlen = l.u16("local extra length");
  if (l.remaining() < static_cast<uint64_t>(nlen) + xlen) {
    add(z, severity::high, "zip.bad_entry", e.name, "local header runs past the end of the file",
        e.local_offset);
    e.why_unreadable = "local header truncated";
    return false;
  }
  std::string lname(l.str(nlen, "local name"));
  uint64_t xstart = l.pos();
  uint64_t dummy_local = 0;
  try {
    zip64_extra(l, xlen, lsize, lcomp, dummy_local, lsize == 0xFFFFFFFF, lcomp == 0xFFFFFFFF, false);
  } catch (const failure&) {
    l.seek(xstart + xlen, "local extra");
  }
  e.data_offset = l.offset();
  std::string diff;
  if (lname != e.name) diff += " name '" + lname + "' vs '" + e.name + "';";
  if (lmethod != e.method)
    diff += " method " + std::to_string(lmethod) + " vs " + std::to_string(e.method) + ";";
  if ((lflags & 0x1) != (e.flags & 0x1)) diff += " encryption flag;";
  bool descriptor = (e.flags & 0x8) != 0;
  if (!descriptor || lcomp != 0 || lsize != 0 || lcrc != 0) {
    if (lcrc != e.crc) diff += " crc;";
    if (lcomp != e.comp_size)
      diff += " compressed size " + std::to_string(lcomp) + " vs " + std::to_string(e.comp_size) + ";";
    if (lsize != e.size) diff += " size " + std::to_string(lsize) + " vs " + std::to_string(e.size) + ";";
  }
  if (!diff.empty())
    add(z, severity::high, "zip.header_mismatch", e.name,
        "central directory and local header disagree:" + diff.substr(0, diff.size() - 1), e.local_offset);
  return true;
}

// The data descriptor after an entry's data (flag bit 3) against the central record; moves e.end_offset
// past it.
void check_descriptor(listing& z, entry& e) {
  reader dd(z.data, z.size, "zip data descriptor");
  dd.seek(e.end_offset, "data descriptor");
  if (dd.remaining() >= 4 && load_le<uint32_t>(z.data + e.end_offset) == k_sig_descriptor)
    dd.skip(4, "descriptor signature");
  bool wide = z.zip64 && (e.size >= 0xFFFFFFFF || e.comp_size >= 0xFFFFFFFF);
  if (dd.remaining() >= (wide ? 20u : 12u)) {
    uint32_t dcrc = dd.u32("descriptor crc");
    uint64_t dcomp = wide ? dd.u64("descriptor compressed size") : dd.u32("descriptor compressed size");
    uint64_t dsize = wide ? dd.u64("descriptor size") : dd.u32("descriptor size");
    if (dcrc != e.crc || dcomp != e.comp_size || dsize != e.size)
      add(z, severity::high, "zip.descriptor_mismatch", e.name,
          "data descriptor disagrees with the central directory", e.end_offset);
    e.end_offset = dd.offset();
  } else {
    add(z, severity::medium, "zip.descriptor_mismatch", e.name, "data descriptor missing", e.end_offset);
  }
}

// Whether an entry can be read: flags, method, bomb size and ratio, encryption (or a decoy flag).
void check_readable(listing& z, entry& e) {
  const options& opt = z.opt;
  bool flag_enc = (e.flags & 0x1) || (e.flags & 0x40);
  if (e.flags & 0x60)
    add(
        z, severity::medium, "zip.unusual_flags", e.name,
        "flags 0x" +
            [&] {
              char b[8];
              std::snprintf(b, sizeof b, "%04x", e.flags);
              return std::string(b);
            }() +
            " (patched data / strong encryption bits) on an entry",
        e.local_offset);
  if (e.method != 0 && e.method != 8) {
    e.why_unreadable = "compression method " + std::to_string(e.method) + " not supported";
    add(z, severity::medium, "zip.unsupported_method", e.name, e.why_unreadable + "; entry not examined",
        e.local_offset);
    return;
  }
  if (e.method == 0 && e.comp_size != e.size && !flag_enc) {
    add(z, severity::high, "zip.header_mismatch", e.name, "stored entry with compressed size != size",
        e.local_offset);
  }
  if (e.size > opt.max_entry_size) {
    e.why_unreadable = "zip bomb: " + std::to_string(e.size) + " bytes from " + std::to_string(e.comp_size) +
                       " compressed; not inflated";
    add(z, severity::high, "zip.bomb", e.name, e.why_unreadable, e.local_offset);
    return;
  }
  e.readable = true;
  // A high ratio is not malice (np.savez_compressed of zeros): such a member is never inflated whole, but
  // member_stream reads it within the scan's byte budget, so what it holds is still examined.
  if (e.method == 8 && e.size > (1u << 20) && (e.comp_size == 0 || e.size / e.comp_size > opt.max_ratio)) {
    e.stream_only = true;
    add(z, severity::low, "zip.high_ratio", e.name,
        std::to_string(e.size) + " bytes from " + std::to_string(e.comp_size) +
            " compressed: not inflated whole; scanned as a stream within the inflate budget",
        e.local_offset);
  }
  if (flag_enc) {
    // torch's reader ignores the flag: if the bytes are plain (CRC matches), the flag is a decoy.
    content t = read(z, e);
    if (t.ok && t.crc_ok) {
      add(z, severity::high, "zip.encryption_flag_decoy", e.name,
          "encryption flag set but the data is plain (readers that ignore the flag will load it)",
          e.local_offset);
    } else {
      e.readable = false;
      e.encrypted = true;
      e.why_unreadable = "encrypted entry: cannot be read";
      add(z, severity::medium, "zip.encrypted", e.name, "encrypted entry: contents cannot be examined",
          e.local_offset);
    }
  }
}

// One central entry: its local header, its data's bounds and descriptor, whether it can be read.
void check_entry(listing& z, entry& e) {
  if (!check_local_header(z, e)) return;
  if (e.comp_size > z.size || e.data_offset > z.size - e.comp_size) {
    add(z, severity::high, "zip.bad_entry", e.name, "entry data runs past the end of the file",
        e.data_offset);
    e.why_unreadable = "data out of bounds";
    return;
  }
  e.end_offset = e.data_offset + e.comp_size;
  if (e.flags & 0x8) check_descriptor(z, e);
  check_readable(z, e);
}

// Entries that overlap each other or the central directory, and bytes before the first entry.
void check_overlaps(listing& z) {
  std::vector<const entry*> by_off;
  for (const auto& e : z.entries)
    if (e.end_offset) by_off.push_back(&e);
  std::sort(by_off.begin(), by_off.end(),
            [](const entry* a, const entry* b) { return a->local_offset < b->local_offset; });
  for (size_t k = 1; k < by_off.size(); ++k)
    if (by_off[k]->local_offset < by_off[k - 1]->end_offset)
      add(z, severity::high, "zip.overlap", by_off[k]->name,
          "entry overlaps '" + by_off[k - 1]->name +
              "' (shared bytes: quoted-overlap zip bomb or hidden data)",
          by_off[k]->local_offset);
  if (!by_off.empty() && by_off.back()->end_offset > z.cd_offset)
    add(z, severity::high, "zip.overlap", by_off.back()->name, "entry data overlaps the central directory",
        by_off.back()->local_offset);
  if (!by_off.empty() && by_off.front()->local_offset > z.prefix)
    add(z, severity::medium, "zip.gap", "",
        std::to_string(by_off.front()->local_offset - z.prefix) + " bytes before the first entry", z.prefix);
}

// Names two entries share (one finding per name).
void check_duplicate_names(listing& z) {
  std::vector<std::string> names;
  names.reserve(z.entries.size());
  for (const auto& e : z.entries) names.push_back(e.name);
  std::sort(names.begin(), names.end());
  for (size_t k = 1; k < names.size(); ++k)
    if (names[k] == names[k - 1] && (k == 1 || names[k] != names[k - 2]))
      add(z, severity::high, "zip.duplicate_name", names[k],
          "two entries share this name (readers disagree on which wins)", 0);
}

}  // namespace

// The end records, the central directory, each entry against its local header, local headers no entry
// lists, then overlaps and duplicate names.
listing open(const uint8_t* d, uint64_t n, const options& opt) {
  listing z;
  z.data = d;
  z.size = n;
  z.opt = opt;
  reader r(d, n, "zip");
  z.eocd_offset = find_eocd(d, n, r);
  dir_record dr = read_eocd(z, r);
  read_zip64(z, dr);
  if (dr.count > opt.max_entries)
    r.error_at(
        errc::limit, z.eocd_offset,
        "zip: " + std::to_string(dr.count) + " entries exceed the cap of " + std::to_string(opt.max_entries));
  locate_central_directory(z, r, dr);
  read_central_directory(z, dr);
  for (entry& e : z.entries) check_entry(z, e);
  walk_local_headers(z);
  check_overlaps(z);
  check_duplicate_names(z);
  return z;
}

content read(const listing& z, const entry& e) {
  content c;
  if (!e.readable) {
    c.why = e.why_unreadable.empty() ? "entry not readable" : e.why_unreadable;
    return c;
  }
  if (e.stream_only) {
    c.why = "inflates " + std::to_string(e.size) + " bytes from " + std::to_string(e.comp_size) +
            " (zip bomb ratio): read only as a bounded stream";
    return c;
  }
  const uint8_t* src = z.data + e.data_offset;
  if (e.method == 0) {
    c.data = src;
    c.size = e.comp_size;
  } else {
    if (!inflate_raw(src, e.comp_size, e.size, c.owned, c.why)) return c;
    if (c.owned.size() != e.size) {
      c.why = "inflated to " + std::to_string(c.owned.size()) + " bytes, declared " + std::to_string(e.size);
      // still usable: the bytes are what a reader would see
    }
    c.data = c.owned.data();
    c.size = c.owned.size();
  }
  c.crc_ok = crc_of(c.data, c.size) == e.crc;
  c.ok = true;
  return c;
}

namespace {
thread_local inflate_budget t_budget;
}

inflate_budget inflate_budget_for_thread() {
  return {t_budget.member, t_budget.total, 0};
}

inflate_budget_scope::inflate_budget_scope(uint64_t member, uint64_t total) : saved_(t_budget) {
  t_budget.member = member;
  t_budget.total = total;
}

inflate_budget_scope::~inflate_budget_scope() {
  t_budget = saved_;
}

struct member_stream::impl {
  z_stream zs{};
};

member_stream::member_stream(const listing& z, const entry& e, uint64_t budget)
    : z_(z), e_(e), cap_(std::min(e.size, budget)), budget_(budget) {
  crc_ = static_cast<uint32_t>(crc32(0L, Z_NULL, 0));
  if (!e.readable) {
    state_ = state::corrupt;
    why_ = e.why_unreadable.empty() ? "entry not readable" : e.why_unreadable;
    return;
  }
  if (e.method == 8) {
    z_stream_ = new impl;
    if (inflateInit2(&z_stream_->zs, -15) != Z_OK) {
      state_ = state::corrupt;
      why_ = "zlib init failed";
    }
  }
}

member_stream::~member_stream() {
  if (z_stream_) inflateEnd(&z_stream_->zs);
  delete z_stream_;
}

bool member_stream::crc_ok() const {
  return state_ == state::done && !longer_ && produced_ == e_.size && crc_ == e_.crc;
}

uint64_t member_stream::read(uint8_t* out, uint64_t n) {
  if (state_ != state::reading) return 0;
  n = std::min<uint64_t>(n, 1u << 30);  // zlib counts in 32 bits
  if (produced_ == cap_) {              // the declared size (or the budget) is reached: is there more?
    if (cap_ < e_.size) {
      state_ = state::over_budget;
      why_ = "inflates to " + std::to_string(e_.size) + " bytes (declared), past the scan budget of " +
             std::to_string(budget_) + " bytes per member";
      return 0;
    }
    state_ = state::done;
    if (e_.method == 8) {  // one more byte out of the deflate stream means it is longer than declared
      uint8_t extra = 0;
      z_stream& zs = z_stream_->zs;
      zs.next_out = &extra;
      zs.avail_out = 1;
      int rc = inflate(&zs, Z_NO_FLUSH);
      longer_ = zs.avail_out == 0 && (rc == Z_OK || rc == Z_STREAM_END);
    }
    return 0;
  }
  n = std::min(n, cap_ - produced_);
  uint64_t got = 0;
  if (e_.method == 0) {
    std::memcpy(out, z_.data + e_.data_offset + produced_, static_cast<size_t>(n));
    got = n;
  } else {
    z_stream& zs = z_stream_->zs;
    while (got < n) {
      if (zs.avail_in == 0 && in_used_ < e_.comp_size) {
        uInt chunk = static_cast<uInt>(std::min<uint64_t>(e_.comp_size - in_used_, 1u << 20));
        zs.next_in = const_cast<Bytef*>(z_.data + e_.data_offset + in_used_);
        zs.avail_in = chunk;
        in_used_ += chunk;
      }
      zs.next_out = out + got;
      zs.avail_out = static_cast<uInt>(std::min<uint64_t>(n - got, 1u << 30));
      uInt before = zs.avail_out;
      int rc = inflate(&zs, Z_NO_FLUSH);
      got += before - zs.avail_out;
      if (rc == Z_STREAM_END) {
        state_ = state::done;
        break;
      }
      if (rc == Z_BUF_ERROR && zs.avail_in == 0 && in_used_ >= e_.comp_size) {
        state_ = state::corrupt;
        why_ = "deflate stream truncated";
        break;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        state_ = state::corrupt;
        why_ = std::string("deflate data corrupt (") + (zs.msg ? zs.msg : "zlib error") + ")";
        break;
      }
    }
  }
  crc_ = static_cast<uint32_t>(crc32(crc_, out, static_cast<uInt>(got)));
  produced_ += got;
  return got;
}

// ---------------------------------------------------------------------------------------------------
// Writer.

namespace {
void le16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}
void le32(std::vector<uint8_t>& b, uint32_t v) {
  le16(b, static_cast<uint16_t>(v));
  le16(b, static_cast<uint16_t>(v >> 16));
}
uint32_t narrow32(uint64_t v, const char* what) {
  if (v >= 0xFFFFFFFFull)
    fail(errc::limit, 0, std::string("zip writer: ") + what + " needs ZIP64 (not supported)");
  return static_cast<uint32_t>(v);
}
}  // namespace

void writer::put(const void* p, size_t n) {
  sink_(static_cast<const uint8_t*>(p), n);
  pos_ += n;
}

void writer::local_header(std::string_view name, uint16_t method, uint32_t align) {
  std::vector<uint8_t> h;
  le32(h, k_sig_local);
  le16(h, 20);
  le16(h, 0x0808);  // data descriptor + UTF-8 names
  le16(h, method);
  le32(h, 0);  // time/date
  le32(h, 0);  // crc (in the descriptor)
  le32(h, 0);  // sizes (in the descriptor)
  le32(h, 0);
  le16(h, static_cast<uint16_t>(name.size()));
  uint64_t data_at = pos_ + 30 + name.size();
  uint16_t pad = 0;
  if (align > 1) {
    uint64_t with_extra = data_at + 4;
    pad = static_cast<uint16_t>((align - with_extra % align) % align);
  }
  le16(h, align > 1 ? static_cast<uint16_t>(4 + pad) : 0);
  h.insert(h.end(), name.begin(), name.end());
  if (align > 1) {
    le16(h, 0x4246);  // "FB": padding, as torch writes it
    le16(h, pad);
    h.insert(h.end(), pad, 'Z');
  }
  put(h.data(), h.size());
}

void writer::descriptor(record& r) {
  std::vector<uint8_t> d;
  le32(d, k_sig_descriptor);
  le32(d, r.crc);
  le32(d, narrow32(r.comp, "entry size"));
  le32(d, narrow32(r.size, "entry size"));
  put(d.data(), d.size());
  records_.push_back(r);
}

void writer::add(std::string_view name, const uint8_t* data, uint64_t n, bool deflate, uint32_t align) {
  record r{std::string(name), static_cast<uint16_t>(deflate ? 8 : 0), crc_of(data, n), 0, n, pos_};
  local_header(name, r.method, align);
  if (!deflate) {
    put(data, static_cast<size_t>(n));
    r.comp = n;
  } else {
    uLongf bound = compressBound(static_cast<uLong>(n));
    std::vector<uint8_t> out(bound);
    z_stream s{};
    deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    s.next_in = const_cast<Bytef*>(data);
    s.avail_in = static_cast<uInt>(n);
    s.next_out = out.data();
    s.avail_out = static_cast<uInt>(out.size());
    ::deflate(&s, Z_FINISH);
    r.comp = s.total_out;
    deflateEnd(&s);
    put(out.data(), static_cast<size_t>(r.comp));
  }
  descriptor(r);
}

void writer::add_stream(std::string_view name, uint64_t n, const std::function<void(uint8_t*, size_t)>& fill,
                        uint32_t align) {
  record r{std::string(name), 0, 0, n, n, pos_};
  local_header(name, 0, align);
  std::vector<uint8_t> buf(1 << 20);
  uLong c = crc32(0L, Z_NULL, 0);
  for (uint64_t left = n; left > 0;) {
    size_t k = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
    fill(buf.data(), k);
    c = crc32(c, buf.data(), static_cast<uInt>(k));
    put(buf.data(), k);
    left -= k;
  }
  r.crc = static_cast<uint32_t>(c);
  descriptor(r);
}

void writer::finish(std::string_view comment) {
  if (records_.size() > 0xFFFF)
    fail(errc::limit, 0, "zip writer: more than 65535 entries needs ZIP64 (not supported)");
  uint64_t cd_start = pos_;
  for (const auto& r : records_) {
    std::vector<uint8_t> h;
    le32(h, k_sig_central);
    le16(h, 20);
    le16(h, 20);
    le16(h, 0x0808);
    le16(h, r.method);
    le32(h, 0);
    le32(h, r.crc);
    le32(h, narrow32(r.comp, "entry size"));
    le32(h, narrow32(r.size, "entry size"));
    le16(h, static_cast<uint16_t>(r.name.size()));
    le16(h, 0);
    le16(h, 0);
    le16(h, 0);
    le16(h, 0);
    le32(h, 0);
    le32(h, narrow32(r.offset, "entry offset"));
    h.insert(h.end(), r.name.begin(), r.name.end());
    put(h.data(), h.size());
  }
  std::vector<uint8_t> e;
  le32(e, k_sig_eocd);
  le16(e, 0);
  le16(e, 0);
  le16(e, static_cast<uint16_t>(records_.size()));
  le16(e, static_cast<uint16_t>(records_.size()));
  le32(e, narrow32(pos_ - cd_start, "central directory size"));
  le32(e, narrow32(cd_start, "central directory offset"));
  le16(e, static_cast<uint16_t>(comment.size()));
  e.insert(e.end(), comment.begin(), comment.end());
  put(e.data(), e.size());
}

}  // namespace gb::zip
