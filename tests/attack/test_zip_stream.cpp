// Compressed zip members are inflated as streams and scanned (issue 16 §3): a deflated malicious pickle is
// DANGEROUS in a torch.save-style zip and in a plain .npz-style zip, a deflated benign checkpoint is CLEAN,
// a member past the inflate budget (per member or per archive) is NOT VERIFIED, and a bomb ends by its byte
// budget as NOT VERIFIED. Bytes are built here; budgets are parameters of the library call.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "formats/reader.h"
#include "formats/torch_writer.h"
#include "formats/zip.h"
#include "inspect/scan.h"
#include "tests/attack/attack_bytes.h"
#include "tests/support/data.h"

using namespace std::string_literals;
namespace at = gb::attack;

namespace {

// protocol 2: os.system('id') called by REDUCE
const std::string k_evil = "\x80\x02\x63os\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."s;

// a benign protocol 2 list of n small ints (n * 2 + 7 bytes)
std::string int_list(size_t n) {
  std::string p = "\x80\x02]q\x00("s;
  for (size_t k = 0; k < n; ++k) p += "K\x01"s;
  return p + "e.";
}

struct member {
  std::string name, bytes;
  bool deflate = true;
};

std::string zip_of(const std::vector<member>& ms) {
  std::string out;
  gb::zip::writer w([&](const uint8_t* p, size_t n) { out.append(reinterpret_cast<const char*>(p), n); });
  for (const auto& m : ms)
    w.add(m.name, reinterpret_cast<const uint8_t*>(m.bytes.data()), m.bytes.size(), m.deflate);
  w.finish();
  return out;
}

// torch.save's layout around a data.pkl
std::string torch_zip(const std::string& pkl) {
  return zip_of({{"archive/data.pkl", pkl}, {"archive/byteorder", "little"}, {"archive/version", "3\n"}});
}

// An .npy of one object (its data is the pickle `p`)
std::string npy_object(const std::string& p) {
  std::string h = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }";
  while ((10 + h.size() + 1) % 64) h += ' ';
  h += '\n';
  std::string b = "\x93NUMPY\x01\x00"s;
  b += static_cast<char>(h.size() & 0xff);
  b += static_cast<char>(h.size() >> 8);
  return b + h + p;
}

gb::scan_file scan_bytes(const std::string& name, const std::string& bytes, const gb::scan_options& o = {}) {
  std::string d = gb::test::temp_dir("zipstream");
  gb::test::write_file(d + "/" + name, bytes);
  return gb::scan_one(d + "/" + name, o);
}

std::string verdict(const gb::scan_file& f) {
  return gb::scan_verdict_name(f.verdict());
}

bool has(const gb::scan_file& f, const std::string& code) {
  for (const auto& x : f.findings)
    if (x.code == code) return true;
  return false;
}

std::string codes(const gb::scan_file& f) {
  std::string s;
  for (const auto& x : f.findings) s += x.code + ": " + x.message + "\n";
  return s;
}

int exit_code(const std::string& name, const std::string& bytes) {
  std::string d = gb::test::temp_dir("zipstream_cli");
  gb::test::write_file(d + "/" + name, bytes);
  std::string out;
  return gb::test::run_glassbox("scan " + d + "/" + name, &out);
}

}  // namespace

TEST_CASE("a deflated malicious pickle is DANGEROUS: torch.save layout, .npz layout, a .pkl member") {
  struct shape {
    const char* what;
    std::string name, bytes;
  } shapes[] = {
      {"torch data.pkl", "model.pt", torch_zip(k_evil)},
      {"npz object array", "arrays.npz", zip_of({{"x.npy", npy_object(k_evil)}})},
      {"npz, evil after a benign array", "two.npz",
       zip_of({{"a.npy", npy_object(int_list(1000))}, {"b.npy", npy_object(k_evil)}})},
      {"plain zip .pkl member", "bundle.zip", zip_of({{"inner/config.pkl", k_evil}})},
      {"unnamed member that starts like a pickle", "bundle.zip", zip_of({{"blob", k_evil}})},
  };
  for (const auto& s : shapes) {
    INFO(s.what);
    gb::scan_file f = scan_bytes(s.name, s.bytes);
    CHECK_MESSAGE(verdict(f) == "DANGEROUS", codes(f));
    CHECK(has(f, "pickle.global.dangerous"));
    CHECK(exit_code(s.name, s.bytes) == 1);
  }
}

TEST_CASE("a deflated benign torch checkpoint is CLEAN") {
  std::vector<gb::tensor_data> ts(2);
  ts[0] = {"layer.weight", gb::dtype::f32, {4, 8}, std::vector<uint8_t>(128)};
  ts[1] = {"layer.bias", gb::dtype::f32, {8}, std::vector<uint8_t>(32)};
  for (size_t k = 0; k < 128; ++k) ts[0].bytes[k] = static_cast<uint8_t>(k * 37 + 11);
  std::string d = gb::test::temp_dir("zipstream_benign");
  gb::pytorch_write(d + "/stored.pt", gb::torch_state_dict(ts), ts);
  std::vector<uint8_t> stored = gb::test::read_file(d + "/stored.pt");
  gb::zip::listing z = gb::zip::open(stored.data(), stored.size());
  std::vector<member> ms;
  bool pkl = false;
  for (const auto& e : z.entries) {
    gb::zip::content c = gb::zip::read(z, e);
    REQUIRE(c.ok);
    ms.push_back({e.name, std::string(reinterpret_cast<const char*>(c.data), c.size)});
    pkl = pkl || e.name.ends_with("data.pkl");
  }
  REQUIRE(pkl);
  std::string deflated = zip_of(ms);
  gb::scan_file f = scan_bytes("model.pt", deflated);
  CHECK_MESSAGE(verdict(f) == "CLEAN", codes(f));
  CHECK(f.status == gb::scan_status::full);
  CHECK(exit_code("model.pt", deflated) == 0);
}

TEST_CASE("a member past the inflate budget is NOT VERIFIED, never skipped; so is one past the archive's") {
  const std::string big = int_list(50'000);  // 100 KB, compresses to a few hundred bytes
  gb::scan_options small;
  small.inflate_member = 4096;
  for (const std::string& z : {torch_zip(big), zip_of({{"a.pkl", big}})}) {
    CHECK_MESSAGE(verdict(scan_bytes("m.pt", z)) == "CLEAN", codes(scan_bytes("m.pt", z)));  // the default
    gb::scan_file f = scan_bytes("m.pt", z, small);
    CHECK_MESSAGE(verdict(f) == "NOT VERIFIED", codes(f));
    CHECK(has(f, "zip.not_verified"));
  }
  // a payload stacked after the budget is not seen, and the file is not called clean
  gb::scan_file hidden = scan_bytes("m.pt", zip_of({{"a.pkl", big + k_evil}}), small);
  CHECK(verdict(hidden) != "CLEAN");
  CHECK(has(hidden, "zip.not_verified"));
  // per archive: two members within the member budget, together past the total
  gb::scan_options total;
  total.inflate_member = 1 << 20;
  total.inflate_total = 150'000;
  gb::scan_file two = scan_bytes("m.zip", zip_of({{"a.pkl", big}, {"b.pkl", big}}), total);
  CHECK_MESSAGE(verdict(two) == "NOT VERIFIED", codes(two));
  CHECK(has(two, "zip.not_verified"));
}

TEST_CASE("a high-ratio member is read within the budget; a bomb ends by its byte budget as NOT VERIFIED") {
  // honest sizes, huge ratio: 8 MiB of zeros in ~8 KB, as a pickle string before the payload (or not)
  std::string zeros(8u << 20, '\0');
  std::string pad = "\x80\x02T"s;  // BINSTRING: a 4-byte little-endian length, then the bytes
  for (int k = 0; k < 4; ++k) pad += static_cast<char>((zeros.size() >> (8 * k)) & 0xff);
  pad += zeros;
  const std::string evil = pad + "0" + k_evil.substr(2), benign = pad + ".";
  for (const std::string& z : {zip_of({{"x.pkl", evil}}), torch_zip(evil)}) {
    gb::scan_file f = scan_bytes("ratio.zip", z);  // inflated as a stream: the call after the padding is seen
    CHECK_MESSAGE(verdict(f) == "DANGEROUS", codes(f));
    CHECK(has(f, "zip.high_ratio"));
  }
  gb::scan_file ok = scan_bytes("ratio.zip", zip_of({{"x.pkl", benign}}));
  CHECK_MESSAGE(verdict(ok) == "CLEAN", codes(ok));  // compressible is not malicious
  gb::scan_options small;
  small.inflate_member = 1u << 20;
  gb::scan_file ratio = scan_bytes("bomb.zip", zip_of({{"x.pkl", evil}}), small);
  CHECK_MESSAGE(verdict(ratio) == "NOT VERIFIED", codes(ratio));
  CHECK(has(ratio, "zip.not_verified"));
  // declared small, inflates to 8 MiB: read up to the declared size only, then NOT VERIFIED
  std::string honest = zip_of({{"x.pkl", int_list(10) + zeros}});
  std::vector<uint8_t> hb(honest.begin(), honest.end());
  gb::zip::listing z = gb::zip::open(hb.data(), hb.size());
  REQUIRE(z.entries.size() == 1);
  const gb::zip::entry& e = z.entries[0];
  std::string comp(reinterpret_cast<const char*>(hb.data() + e.data_offset), e.comp_size);
  const uint64_t declared = 27;
  at::bytes b;  // local header (sizes inline), data, central directory, end record
  at::le(b, 0x04034b50, 4), at::le(b, 20, 2), at::le(b, 0, 2), at::le(b, 8, 2), at::le(b, 0, 4);
  at::le(b, e.crc, 4), at::le(b, comp.size(), 4), at::le(b, declared, 4), at::le(b, 5, 2), at::le(b, 0, 2);
  at::app(b, "x.pkl"), at::app(b, comp);
  uint64_t cd = b.size();
  at::le(b, 0x02014b50, 4), at::le(b, 20, 2), at::le(b, 20, 2), at::le(b, 0, 2), at::le(b, 8, 2);
  at::le(b, 0, 4), at::le(b, e.crc, 4), at::le(b, comp.size(), 4), at::le(b, declared, 4), at::le(b, 5, 2);
  at::le(b, 0, 2), at::le(b, 0, 2), at::le(b, 0, 2), at::le(b, 0, 2), at::le(b, 0, 4), at::le(b, 0, 4);
  at::app(b, "x.pkl");
  uint64_t cd_size = b.size() - cd;
  at::le(b, 0x06054b50, 4), at::le(b, 0, 4), at::le(b, 1, 2), at::le(b, 1, 2), at::le(b, cd_size, 4);
  at::le(b, cd, 4), at::le(b, 0, 2);
  gb::scan_file lying = scan_bytes("lying.zip", std::string(b.begin(), b.end()));
  CHECK_MESSAGE(verdict(lying) == "NOT VERIFIED", codes(lying));
  CHECK(has(lying, "zip.not_verified"));
}

namespace {

// `zip` with `blob` spliced in just before its central directory (the end record's offset moved past it)
std::string splice_before_cd(const std::string& zip, const std::string& blob) {
  std::vector<uint8_t> b(zip.begin(), zip.end());
  size_t eocd = b.size() - 22;
  uint32_t cd = gb::load_le<uint32_t>(b.data() + eocd + 16);
  std::string out = zip.substr(0, cd) + blob + zip.substr(cd);
  uint32_t moved = cd + static_cast<uint32_t>(blob.size());
  for (int k = 0; k < 4; ++k) out[out.size() - 22 + 16 + k] = static_cast<char>((moved >> (8 * k)) & 0xff);
  return out;
}

// The local header, data and descriptor of the only member of zip_of({m}): an entry to hide elsewhere
std::string local_entry_bytes(const member& m) {
  std::string z = zip_of({m});
  std::vector<uint8_t> b(z.begin(), z.end());
  gb::zip::listing l = gb::zip::open(b.data(), b.size());
  REQUIRE(l.entries.size() == 1);
  return z.substr(l.entries[0].local_offset, l.entries[0].end_offset - l.entries[0].local_offset);
}

}  // namespace

TEST_CASE("entries that exist only as local headers are walked and scanned; hidden bytes are swept") {
  // a stored and a deflated pickle that only a local-header walker (streaming unzip) sees
  for (bool deflate : {false, true}) {
    INFO("deflate=", deflate);
    std::string z = splice_before_cd(zip_of({{"readme.txt", "hello", false}}),
                                     local_entry_bytes({"evil.pkl", k_evil, deflate}));
    gb::scan_file f = scan_bytes("bundle.zip", z);
    CHECK_MESSAGE(verdict(f) == "DANGEROUS", codes(f));
    CHECK(has(f, "zip.local_only"));
    CHECK(exit_code("bundle.zip", z) == 1);
  }
  // a torch checkpoint whose central directory names a benign data.pkl; a second, local-only data.pkl
  std::string t = splice_before_cd(torch_zip(int_list(3)), local_entry_bytes({"archive/data.pkl", k_evil}));
  gb::scan_file tf = scan_bytes("model.pt", t);
  CHECK_MESSAGE(verdict(tf) == "DANGEROUS", codes(tf));
  CHECK(has(tf, "zip.local_only"));
  CHECK(has(tf, "zip.duplicate_name"));
  // a local-only entry with nothing in it that runs is still a disagreement: high, never clean
  std::string benign =
      splice_before_cd(zip_of({{"a.txt", "x", false}}), local_entry_bytes({"b.txt", "y", false}));
  gb::scan_file bf = scan_bytes("b.zip", benign);
  CHECK(has(bf, "zip.local_only"));
  CHECK(verdict(bf) != "CLEAN");
  // bytes outside every entry (no header at all) are swept for imports
  gb::scan_file hf = scan_bytes("h.zip", splice_before_cd(zip_of({{"a.txt", "x", false}}), k_evil));
  CHECK_MESSAGE(verdict(hf) == "DANGEROUS", codes(hf));
  CHECK(has(hf, "zip.gap"));
  // an ordinary zip (stored and deflated members, data descriptors) has no local-only entry and no gap
  gb::scan_file of = scan_bytes("o.zip", zip_of({{"a.txt", "x", false}, {"b.txt", std::string(5000, 'b')}}));
  CHECK_FALSE(has(of, "zip.local_only"));
  CHECK_FALSE(has(of, "zip.gap"));
}
