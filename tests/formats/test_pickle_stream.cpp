// pickle::read_stream (a zip member inflated on the fly) against pickle::read of the same bytes: the same
// verdicts fed in any chunking, and operands longer than the stream window read through in bounded memory.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "formats/pickle.h"
#include "formats/zip.h"

namespace pk = gb::pickle;
using namespace std::string_literals;

namespace {

// A source that hands out `parts` (each a pattern repeated `count` times) at most `chunk` bytes per call.
struct generated {
  std::vector<std::pair<std::string, uint64_t>> parts;
  uint64_t chunk = 1 << 16;
  size_t part = 0;
  uint64_t done = 0;  // bytes of the current part already given
  uint64_t total = 0;
  uint64_t operator()(uint8_t* out, uint64_t n) {
    uint64_t given = 0;
    n = std::min(n, chunk);
    while (given < n && part < parts.size()) {
      const auto& [pat, count] = parts[part];
      uint64_t size = pat.size() * count;
      if (done == size) {
        ++part;
        done = 0;
        continue;
      }
      uint64_t k = std::min(n - given, size - done);
      if (pat.size() == 1)
        std::memset(out + given, pat[0], k);
      else
        for (uint64_t i = 0; i < k; ++i) out[given + i] = static_cast<uint8_t>(pat[(done + i) % pat.size()]);
      given += k;
      done += k;
    }
    total += given;
    return given;
  }
};

pk::result streamed(const std::string& bytes, uint64_t chunk, bool stacked) {
  generated g{{{bytes, 1}}, chunk};
  pk::read_options o;
  o.stacked = stacked;
  o.size_hint = bytes.size();
  return pk::read_stream([&](uint8_t* out, uint64_t n) { return g(out, n); }, o);
}

std::string summary(const pk::result& r) {
  std::string s = std::string(r.complete ? "complete" : "NOT VERIFIED") + " end=" + std::to_string(r.end) +
                  " roots=" + std::to_string(r.roots.size()) + " proto=" + std::to_string(r.protocol) +
                  " swept_from=" + std::to_string(r.swept_from) + " ops=" + std::to_string(r.ops) + "\n";
  for (const auto& g : r.globals)
    s += g.qualified() + " " + pk::safety_name(g.level) + (g.invoked ? " invoked" : "") +
         (g.swept ? " swept" : "") + " @" + std::to_string(g.offset) + "\n";
  for (const auto& f : r.findings) s += f.code + " @" + std::to_string(f.offset) + "\n";
  return s;
}

std::string binunicode8(const std::string& s) {
  std::string b = "\x8d";
  for (int k = 0; k < 8; ++k) b += static_cast<char>((s.size() >> (8 * k)) & 0xff);
  return b + s;
}

}  // namespace

TEST_CASE("read_stream gives what read gives, whatever the chunking") {
  const std::string corpus[] = {
      "cos\nsystem\n(S'id'\ntR.",                                                   // protocol 0 call
      "\x80\x04\x8c\x02os\x94\x8c\x06system\x94h\x00h\x01\x93\x8c\x02ls\x85R.",     // STACK_GLOBAL via memo
      "\x80\x02}q\x00X\x01\x00\x00\x00aK\x01s.\x80\x02]q\x00.",                     // stacked pickles
      "\x80\x02}q\x00.garbage cbuiltins\nexec\n",                                   // trailing bytes, swept
      "\x80\x02}q\x00.PK\x03\x04 hidden",                                           // a zip behind the pickle
      "\x80\x02(\x8c\x05hello\xff",                                                 // unknown opcode: sweep
      "\x80\x02(X\x02\x00\x00\x00\xc3(.",                                           // BINUNICODE not UTF-8
      "\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x8c\x06system\x93.",  // FRAME
      "\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00N.",                             // FRAME past the end
      "I0x1F\nI01\n(Vabc\\u0041\nS'x\\x41'\nL12L\ntp0\n.",                          // protocol 0 literals
      "\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01K\x00\x85q\x02c_codecs\n"
      "encode\nq\x03X\x01\x00\x00\x00bq\x04X\x06\x00\x00\x00latin1q\x05\x86q\x06Rq\x07\x87q\x08Rq\x09.",
      "\x80\x02(\x8c\x02os\x8c\x06system\x93",  // truncated: stream ends before STOP
  };
  for (const std::string& p : corpus) {
    for (bool stacked : {false, true}) {
      pk::read_options o;
      o.stacked = stacked;
      std::string want = summary(pk::read(reinterpret_cast<const uint8_t*>(p.data()), p.size(), o));
      for (uint64_t chunk : {1ull, 3ull, 4096ull}) {
        INFO(p, " stacked=", stacked, " chunk=", chunk);
        CHECK(summary(streamed(p, chunk, stacked)) == want);
      }
    }
  }
}

TEST_CASE("an operand longer than the stream window is read through: what follows it is interpreted") {
  // PROTO 4, BINBYTES8 of 3 MiB (window: 1 MiB), then os.system('id') called: DANGEROUS, complete
  const uint64_t big = 3ull << 20;
  std::string head = "\x80\x04\x8e"s;
  for (int k = 0; k < 8; ++k) head += static_cast<char>((big >> (8 * k)) & 0xff);
  generated g{{{head, 1}, {"A", big}, {"0cos\nsystem\n(S'id'\ntR.", 1}}, 1 << 20};
  pk::read_options o;
  o.stacked = true;
  o.lim.max_window = 1 << 20;
  pk::result r = pk::read_stream([&](uint8_t* out, uint64_t n) { return g(out, n); }, o);
  CHECK_MESSAGE(r.complete, r.not_verified);
  CHECK(r.end == g.total);
  bool called = false;
  for (const auto& g2 : r.globals)
    called = called ||
             (g2.qualified() == "os.system" && g2.invoked && !g2.swept && g2.level == pk::safety::dangerous);
  CHECK(called);
  REQUIRE(r.roots.size() == 1);
  CHECK(r.at(r.at(r.roots[0]).args).k == pk::kind::tuple);
  // a line longer than the window ends the interpretation: NOT VERIFIED, and the rest is swept
  generated l{{{"c"s, 1}, {"x", 3 << 20}, {"\nsystem\ncos\nsystem\n(S'id'\ntR.", 1}}, 1 << 20};
  pk::result lr = pk::read_stream([&](uint8_t* out, uint64_t n) { return l(out, n); }, o);
  CHECK(!lr.complete);
  bool swept = false;
  for (const auto& g2 : lr.globals) swept = swept || (g2.qualified() == "os.system" && g2.swept);
  CHECK(swept);
}

TEST_CASE("a streamed BINUNICODE8 longer than the window is checked as UTF-8 across chunk boundaries") {
  const uint64_t chars = 3ull << 19;  // 3 MiB of two-byte characters (window: 1 MiB), cut at odd offsets
  for (bool broken : {false, true}) {
    std::string head = "\x80\x04"s + binunicode8("").substr(0, 1);
    uint64_t n = 2 * chars + (broken ? 1 : 0);
    for (int k = 0; k < 8; ++k) head += static_cast<char>((n >> (8 * k)) & 0xff);
    generated g{{{head, 1}, {"\xc3\xa9", chars}, {broken ? "\xc3" : "", 1}, {"\x85.", 1}}, 65537};
    pk::read_options o;
    o.lim.max_window = 1 << 20;
    pk::result r = pk::read_stream([&](uint8_t* out, uint64_t k) { return g(out, k); }, o);
    INFO("broken=", broken);
    CHECK(r.complete == !broken);  // an incomplete last character is invalid UTF-8: CPython raises
    CHECK(r.roots.size() == 1);
  }
}

namespace {

// protocol 4: n empty tuples, each memoized then popped (dense: two bytes of stream make a value and a
// memo entry), then `tail` after a MARK inside a list, then APPENDS and STOP
std::string dense(size_t n, const std::string& tail) {
  std::string p = "\x80\x04]\x94"s;
  for (size_t k = 0; k < n; ++k)
    p += ")\x94"
         "0"s;
  return p + "(" + tail + "e.";
}

pk::result read_small(const std::string& p) {
  pk::read_options o;
  o.lim.max_memory = 256 << 10;  // 256 KiB of analysis state: the streams below need ~3 MB
  return pk::read(reinterpret_cast<const uint8_t*>(p.data()), p.size(), o);
}

const pk::global_ref* global(const pk::result& r, const std::string& q) {
  for (const auto& g : r.globals)
    if (g.qualified() == q) return &g;
  return nullptr;
}

bool has_code(const pk::result& r, const std::string& code) {
  for (const auto& f : r.findings)
    if (f.code == code) return true;
  return false;
}

}  // namespace

TEST_CASE("a pickle denser than the memory budget is read to its end, its imports and calls still followed") {
  // benign: after the budget, memo lookups of values no longer kept, an allowlisted call by STACK_GLOBAL
  // (operands interned), a dict of them
  const std::string od =
      "\x8c\x0b"
      "collections\x94\x8c\x0bOrderedDict\x94\x93\x94)R\x94"s;
  // LONG_BINGET of keys 19999 (stored past the budget: not kept) and 1
  const std::string benign_tail = "j\x1f\x4e\x00\x00j\x01\x00\x00\x00"s + od + "}\x94(h\x05h\x06u\x94"s;
  pk::result r = read_small(dense(20'000, benign_tail));
  CHECK_MESSAGE(r.complete, r.not_verified);
  CHECK(has_code(r, "pickle.lean"));
  CHECK(r.roots.size() == 1);
  const pk::global_ref* g = global(r, "collections.OrderedDict");
  REQUIRE(g);
  CHECK(g->invoked);
  CHECK(g->level == pk::safety::allowed);
  std::vector<gb::finding> f;
  pk::add_findings(r, "dense.pkl", f);
  for (const auto& x : f) CHECK_MESSAGE(x.level <= gb::severity::info, x.code, ": ", x.message);
  // the same with a call of os.system after the budget: interpreted (not just swept), dangerous, complete
  pk::result e = read_small(dense(20'000, "\x8c\x02os\x8c\x06system\x93\x8c\x02id\x85R"s));
  CHECK(e.complete);
  const pk::global_ref* sys = global(e, "os.system");
  REQUIRE(sys);
  CHECK(sys->invoked);
  CHECK_FALSE(sys->swept);
  CHECK(sys->level == pk::safety::dangerous);
  // a callable put into a dict that is no longer kept, then made an object's state: stored, dangerous
  pk::result s =
      read_small(dense(20'000, "cbuiltins\nobject\n)\x81}\x8c\x0c__setstate__cbuiltins\nexec\nsb"s));
  CHECK(s.complete);
  const pk::global_ref* ex = global(s, "builtins.exec");
  REQUIRE(ex);
  CHECK(ex->stored);
  CHECK(ex->level == pk::safety::dangerous);
  // a memo key never stored is still what CPython raises on: not verified
  pk::result m = read_small(dense(20'000, "j\xff\xff\xff\x00"s));
  CHECK_FALSE(m.complete);
}

TEST_CASE("zip::member_stream inflates in chunks, stops at its budget, and feeds read_stream") {
  std::string pkl = "\x80\x02]q\x00("s;
  for (int k = 0; k < 20'000; ++k) pkl += "K"s + static_cast<char>(k & 0x7f);
  pkl += "e.";
  std::vector<uint8_t> z;
  gb::zip::writer w([&](const uint8_t* p, size_t n) { z.insert(z.end(), p, p + n); });
  w.add("a.pkl", reinterpret_cast<const uint8_t*>(pkl.data()), pkl.size(), true);
  w.add("b.pkl", reinterpret_cast<const uint8_t*>(pkl.data()), pkl.size(), false);
  w.finish();
  gb::zip::listing l = gb::zip::open(z.data(), z.size());
  REQUIRE(l.entries.size() == 2);
  for (const auto& e : l.entries) {
    INFO(e.name);
    gb::zip::member_stream s(l, e, 1ull << 30);
    std::string got;
    uint8_t buf[777];
    while (uint64_t n = s.read(buf, sizeof buf)) got.append(reinterpret_cast<const char*>(buf), n);
    CHECK(got == pkl);
    CHECK(s.status() == gb::zip::member_stream::state::done);
    CHECK(s.crc_ok());
    gb::zip::member_stream small(l, e, 1000);  // budget below the member: over_budget after 1000 bytes
    while (small.read(buf, sizeof buf)) {
    }
    CHECK(small.produced() == 1000);
    CHECK(small.status() == gb::zip::member_stream::state::over_budget);
    gb::zip::member_stream again(l, e, 1ull << 30);
    pk::read_options o;
    o.stacked = true;
    pk::result r = pk::read_stream([&](uint8_t* out, uint64_t n) { return again.read(out, n); }, o);
    CHECK(r.complete);
    CHECK(r.end == pkl.size());
  }
}
