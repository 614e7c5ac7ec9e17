// The zip reader: archives written in memory, then corrupted byte by byte.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "formats/zip.h"
#include "tests/support/data.h"

namespace zp = gb::zip;

namespace {

struct file_entry {
  std::string name, data;
  bool deflate = false;
};

std::vector<uint8_t> build(const std::vector<file_entry>& es, uint32_t align = 0) {
  std::vector<uint8_t> out;
  zp::writer w([&](const uint8_t* p, size_t n) { out.insert(out.end(), p, p + n); });
  for (const auto& e : es)
    w.add(e.name, reinterpret_cast<const uint8_t*>(e.data.data()), e.data.size(), e.deflate, align);
  w.finish();
  return out;
}

bool has(const zp::listing& z, const std::string& code, const std::string& where = "") {
  for (const auto& f : z.findings)
    if (f.code == code && (where.empty() || f.where == where)) return true;
  return false;
}

// Offset of the first occurrence of `needle` at or after `from`.
size_t find(const std::vector<uint8_t>& b, const std::string& needle, size_t from = 0) {
  auto it = std::search(b.begin() + static_cast<std::ptrdiff_t>(from), b.end(), needle.begin(), needle.end());
  REQUIRE(it != b.end());
  return static_cast<size_t>(it - b.begin());
}

}  // namespace

TEST_CASE("stored and deflated entries round-trip with no findings") {
  std::string big(100000, 'x');
  auto z = build({{"a/data.pkl", "hello", false}, {"a/big.txt", big, true}}, 64);
  auto l = zp::open(z.data(), z.size());
  CHECK(l.findings.empty());
  REQUIRE(l.entries.size() == 2);
  CHECK(l.entries[0].data_offset % 64 == 0);
  auto c0 = zp::read(l, l.entries[0]);
  REQUIRE(c0.ok);
  CHECK(std::string(reinterpret_cast<const char*>(c0.data), c0.size) == "hello");
  CHECK(c0.data == z.data() + l.entries[0].data_offset);  // stored: a view, no copy
  auto c1 = zp::read(l, l.entries[1]);
  REQUIRE(c1.ok);
  CHECK(c1.crc_ok);
  CHECK(c1.size == big.size());
  CHECK(l.entries[1].comp_size < 1000);
  CHECK(l.find("a/big.txt") == &l.entries[1]);
}

TEST_CASE("entry names escaping the folder are findings") {
  auto z = build({{"../evil", "x"}, {"/abs/path", "y"}, {"dir\\win", "z"}, {"ok/name", "w"}});
  auto l = zp::open(z.data(), z.size());
  CHECK(has(l, "zip.path_escape", "../evil"));
  CHECK(has(l, "zip.path_escape", "/abs/path"));
  CHECK(has(l, "zip.path_escape", "dir\\win"));
  CHECK_FALSE(has(l, "zip.path_escape", "ok/name"));
  CHECK(zp::name_problem("a/../../b") == "'..' component");
  CHECK(zp::name_problem("a/..b/c").empty());
}

TEST_CASE("local header disagreeing with the central directory -> zip.header_mismatch") {
  auto z = build({{"data.pkl", "payload"}});
  size_t local_name = find(z, "data.pkl");  // first occurrence: the local header
  z[local_name + 4] = 'X';                  // "dataXpkl" in the local header only
  auto l = zp::open(z.data(), z.size());
  CHECK(has(l, "zip.header_mismatch", "data.pkl"));
  z[local_name + 4] = '.';
  z[8] = 8;  // local method: deflate, central says stored
  auto l2 = zp::open(z.data(), z.size());
  CHECK(has(l2, "zip.header_mismatch"));
}

TEST_CASE("a ratio past the cap is a finding; the entry is read only as a bounded stream, never whole") {
  std::string zeros(8u << 20, '\0');
  auto z = build({{"bomb.bin", zeros, true}});
  auto l = zp::open(z.data(), z.size());
  CHECK(has(l, "zip.high_ratio", "bomb.bin"));
  CHECK_FALSE(has(l, "zip.bomb"));
  CHECK(l.entries[0].stream_only);
  CHECK_FALSE(zp::read(l, l.entries[0]).ok);
  std::vector<uint8_t> buf(1u << 20);
  zp::member_stream whole(l, l.entries[0], 64u << 20);  // within the budget: every byte, CRC checked
  uint64_t got = 0;
  for (uint64_t n; (n = whole.read(buf.data(), buf.size())) > 0;) got += n;
  CHECK(got == zeros.size());
  CHECK(whole.crc_ok());
  zp::member_stream capped(l, l.entries[0], 1u << 20);  // past the budget: stops there, says so
  got = 0;
  for (uint64_t n; (n = capped.read(buf.data(), buf.size())) > 0;) got += n;
  CHECK(got == (1u << 20));
  CHECK(capped.status() == zp::member_stream::state::over_budget);
  // a larger cap lets the same entry through whole
  zp::options loose;
  loose.max_ratio = 1u << 20;
  auto l2 = zp::open(z.data(), z.size(), loose);
  CHECK_FALSE(has(l2, "zip.high_ratio"));
  CHECK(zp::read(l2, l2.entries[0]).size == zeros.size());
}

TEST_CASE("encrypted entries cannot be read; a decoy encryption flag is reported and read") {
  auto z = build({{"secret.txt", "plain text here"}});
  // set bit 0 in local and central flags (offset 6 of the local header, 8 of the central)
  size_t central = find(z, "PK\x01\x02");
  z[6] |= 1;
  z[central + 8] |= 1;
  auto decoy = zp::open(z.data(), z.size());
  CHECK(has(decoy, "zip.encryption_flag_decoy"));
  CHECK(decoy.entries[0].readable);
  // now scramble the data: the CRC no longer matches, so it is treated as really encrypted
  size_t data = find(z, "plain");
  z[data] ^= 0x55;
  auto enc = zp::open(z.data(), z.size());
  CHECK(has(enc, "zip.encrypted"));
  CHECK(enc.entries[0].encrypted);
  CHECK_FALSE(enc.entries[0].readable);
}

TEST_CASE("overlapping entries -> zip.overlap") {
  auto z = build({{"a", "aaaa"}, {"b", "bbbb"}});
  // point entry b's central record at entry a's local header
  size_t c1 = find(z, "PK\x01\x02");
  size_t c2 = find(z, "PK\x01\x02", c1 + 4);
  std::memcpy(&z[c2 + 42], &z[c1 + 42], 4);
  auto l = zp::open(z.data(), z.size());
  CHECK(has(l, "zip.overlap"));
}

TEST_CASE("duplicate names, CRC mismatch, prefix bytes") {
  auto z = build({{"x", "1"}, {"x", "2"}});
  auto l = zp::open(z.data(), z.size());
  CHECK(has(l, "zip.duplicate_name", "x"));
  auto y = build({{"y", "abc"}});
  y[find(y, "abc")] = 'X';
  auto ly = zp::open(y.data(), y.size());
  CHECK_FALSE(zp::read(ly, ly.entries[0]).crc_ok);
  std::vector<uint8_t> pre = {'#', '!', '/', 'b', 'i', 'n', '/', 's', 'h', '\n'};
  pre.insert(pre.end(), y.begin(), y.end());
  auto lp = zp::open(pre.data(), pre.size());
  CHECK(has(lp, "zip.prefix_bytes"));
  CHECK(lp.prefix == 10);
  CHECK(lp.entries[0].local_offset == 10);
}

TEST_CASE("unparseable containers throw bad_zip; too many entries throw limit") {
  std::vector<uint8_t> junk(100, 'x');
  try {
    zp::open(junk.data(), junk.size());
    FAIL("expected failure");
  } catch (const gb::failure& f) {
    CHECK(f.err().code == gb::errc::bad_zip);
  }
  CHECK_FALSE(zp::has_eocd(junk.data(), junk.size()));
  auto z = build({{"a", "1"}, {"b", "2"}, {"c", "3"}});
  CHECK(zp::has_eocd(z.data(), z.size()));
  zp::options tight;
  tight.max_entries = 2;
  try {
    zp::open(z.data(), z.size(), tight);
    FAIL("expected failure");
  } catch (const gb::failure& f) {
    CHECK(f.err().code == gb::errc::limit);
  }
  // central directory offset pointing nowhere
  auto bad = z;
  size_t eocd = find(bad, "PK\x05\x06");
  bad[eocd + 16] ^= 0x40;
  bad[eocd + 12] ^= 0x01;
  CHECK_THROWS_AS(zp::open(bad.data(), bad.size()), gb::failure);
}

TEST_CASE("torch-written zip with ZIP64 records and data descriptors (picklescan sample)") {
  GB_DATA(path, "pickle-security/picklescan/data/new_pytorch_model.bin");
  auto bytes = gb::test::read_file(path);
  auto l = zp::open(bytes.data(), bytes.size());
  CHECK(l.zip64);
  CHECK(l.findings.empty());
  REQUIRE(l.find("archive/data.pkl"));
  REQUIRE(l.find("archive/data/0"));
  CHECK(l.find("archive/data/0")->size == 48);
  auto c = zp::read(l, *l.find("archive/data.pkl"));
  CHECK(c.ok);
  CHECK(c.crc_ok);
  CHECK(c.data[0] == 0x80);
}

TEST_CASE("password-protected sample is reported encrypted") {
  GB_DATA(path, "pickle-security/picklescan/data/benign_password_protected.zip");
  auto bytes = gb::test::read_file(path);
  auto l = zp::open(bytes.data(), bytes.size());
  REQUIRE(l.entries.size() == 1);
  CHECK(l.entries[0].encrypted);
  CHECK(has(l, "zip.encrypted"));
}
