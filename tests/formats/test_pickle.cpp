// The non-executing pickle reader: crafted streams built byte by byte, and the picklescan samples.
#include <doctest/doctest.h>

#include <string>

#include "formats/pickle.h"
#include "tests/support/data.h"

namespace pk = gb::pickle;
using namespace std::string_literals;

namespace {

pk::result run(const std::string& bytes, bool stacked = false) {
  pk::read_options o;
  o.stacked = stacked;
  return pk::read(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), o);
}

const pk::global_ref* find_global(const pk::result& r, const std::string& q) {
  for (const auto& g : r.globals)
    if (g.qualified() == q) return &g;
  return nullptr;
}

bool has_finding(const pk::result& r, const std::string& code) {
  for (const auto& f : r.findings)
    if (f.code == code) return true;
  return false;
}

}  // namespace

TEST_CASE("STACK_GLOBAL operands resolved through the memo, invoked by REDUCE -> dangerous") {
  // proto 4; "os" MEMOIZE; "system" MEMOIZE; BINGET 0; BINGET 1; STACK_GLOBAL; "ls"; TUPLE1; REDUCE; STOP
  auto r = run("\x80\x04\x8c\x02os\x94\x8c\x06system\x94h\x00h\x01\x93\x8c\x02ls\x85R."s);
  CHECK(r.complete);
  CHECK(r.protocol == 4);
  const auto* g = find_global(r, "os.system");
  REQUIRE(g);
  CHECK(g->opcode == "STACK_GLOBAL");
  CHECK(g->invoked);
  CHECK(g->invoked_by == "REDUCE");
  CHECK(g->level == pk::safety::dangerous);
  CHECK(g->offset == 20);  // the STACK_GLOBAL byte
  REQUIRE(r.roots.size() == 1);
  const pk::value& root = r.at(r.roots[0]);
  CHECK(root.k == pk::kind::call);
  CHECK(r.at(root.args).k == pk::kind::tuple);
  CHECK(r.at(r.at(root.args).items.at(0)).s == "ls");
}

TEST_CASE("INST invokes its class") {
  auto r = run("(S'ls'\nios\nsystem\n."s);
  const auto* g = find_global(r, "os.system");
  REQUIRE(g);
  CHECK(g->opcode == "INST");
  CHECK(g->invoked);
  CHECK(g->level == pk::safety::dangerous);
}

TEST_CASE("OBJ invokes the class after MARK") {
  auto r = run("(cos\nsystem\nS'ls'\no."s);
  const auto* g = find_global(r, "os.system");
  REQUIRE(g);
  CHECK(g->invoked_by == "OBJ");
  CHECK(r.at(r.at(r.roots[0]).args).items.size() == 1);
}

TEST_CASE("NEWOBJ_EX of a module no list names is dangerous (the allowlist decides)") {
  auto r =
      run("\x80\x04\x8c\x0b"
          "evil_module\x8c\x05Thing\x93)}\x92."s);
  const auto* g = find_global(r, "evil_module.Thing");
  REQUIRE(g);
  CHECK(g->invoked_by == "NEWOBJ_EX");
  CHECK(g->level == pk::safety::dangerous);
  CHECK(g->reason.find("allowlist") != std::string::npos);
}

TEST_CASE("an unlisted module invoked by REDUCE is dangerous; merely imported it is suspicious") {
  auto invoked = run("cmymod\nfunc\n)R."s);
  REQUIRE(find_global(invoked, "mymod.func"));
  CHECK(find_global(invoked, "mymod.func")->level == pk::safety::dangerous);
  auto imported = run("cmymod\nfunc\n."s);
  REQUIRE(find_global(imported, "mymod.func"));
  CHECK(find_global(imported, "mymod.func")->level == pk::safety::suspicious);
  // a named list escalates an import that is never invoked
  auto eval_only = run("c__builtin__\neval\n."s);
  CHECK(find_global(eval_only, "__builtin__.eval")->level == pk::safety::dangerous);
}

TEST_CASE("state-dict globals are allowed, numpy reconstructors innocuous") {
  auto r =
      run("\x80\x02\x63\x63ollections\nOrderedDict\nq\x00)Rq\x01(X\x01\x00\x00\x00"
          "aK\x01u."s);
  CHECK(r.complete);
  REQUIRE(find_global(r, "collections.OrderedDict"));
  CHECK(find_global(r, "collections.OrderedDict")->level == pk::safety::allowed);
  const pk::value& root = r.at(r.roots[0]);
  CHECK(root.k == pk::kind::call);
  CHECK(root.items.size() == 2);  // SETITEMS landed on the OrderedDict
  std::vector<gb::finding> f;
  pk::add_findings(r, "x.pkl", f);
  CHECK(f.empty());
  CHECK(pk::classify("torch", "HalfStorage", true) == pk::safety::allowed);
  CHECK(pk::classify("torch._utils", "_rebuild_tensor_v2", true) == pk::safety::allowed);
  CHECK(pk::classify("numpy.core.multiarray", "_reconstruct", true) == pk::safety::innocuous);
  CHECK(pk::classify("torch", "load", true) == pk::safety::dangerous);
  CHECK(pk::classify("torch.nn.modules.linear", "Linear", false) == pk::safety::reconstructs);
  CHECK(pk::classify("profile", "Profile.runctx", false) == pk::safety::dangerous);
  CHECK(pk::classify("ossify", "x", false) == pk::safety::suspicious);  // prefix match stops at dots
}

TEST_CASE("BUILD on an imported module patches it -> dangerous even for an allowlisted name") {
  auto r = run("ctorch._utils\n_rebuild_tensor\n}b."s);
  const auto* g = find_global(r, "torch._utils._rebuild_tensor");
  REQUIRE(g);
  CHECK(g->mutated);
  CHECK(g->level == pk::safety::dangerous);
}

TEST_CASE("deep MARK nesting has no cap (CPython has none): the stream is read to its end") {
  auto r = run(std::string(20000, '(') + "cos\nsystem\n.");
  CHECK(r.complete);
  REQUIRE(find_global(r, "os.system"));
  CHECK(find_global(r, "os.system")->level == pk::safety::dangerous);
}

TEST_CASE("deeply nested lists and self-referencing lists are built without recursion") {
  std::string deep = std::string(50000, ']') + std::string(49999, 'a') + ".";
  auto r = run(deep);
  CHECK(r.complete);
  uint32_t v = r.roots.at(0);
  int depth = 0;
  while (!r.at(v).items.empty() && depth < 100000) {
    v = r.at(v).items[0];
    ++depth;
  }
  CHECK(depth == 49999);
  auto cyc = run("]\x94h\x00\x61."s);  // EMPTY_LIST MEMOIZE BINGET 0 APPEND: the list contains itself
  CHECK(cyc.complete);
  CHECK(cyc.at(cyc.roots[0]).items.at(0) == cyc.roots[0]);
}

TEST_CASE("truncated stream: imports before the cut are still reported") {
  auto r = run("cos\nsystem\n(S'ls'\ntR"s);  // no STOP
  CHECK_FALSE(r.complete);
  CHECK(has_finding(r, "pickle.malformed"));
  REQUIRE(find_global(r, "os.system"));
  CHECK(find_global(r, "os.system")->level == pk::safety::dangerous);
  auto cut =
      run("\x80\x02X\xff\xff\x00\x00"
          "ab."s);  // BINUNICODE length past the end
  CHECK_FALSE(cut.complete);
  CHECK(cut.findings.at(0).offset == 2);
}

TEST_CASE("unknown opcode and bad memo key are malformed findings") {
  auto bad = run("\x80\x02\xff."s);
  CHECK(has_finding(bad, "pickle.malformed"));
  auto memo = run("\x80\x04h\x07\x8c\x02os\x93."s);  // BINGET of a key never stored, used as module
  CHECK(has_finding(memo, "pickle.malformed"));
  const auto* g = find_global(memo, "unknown.os");
  REQUIRE(g);
  CHECK(g->level == pk::safety::dangerous);
  auto typ = run("\x80\x04J*\x00\x00\x00\x8c\x02os\x93."s);  // STACK_GLOBAL(42, "os")
  REQUIRE(find_global(typ, "42.os"));
  CHECK(find_global(typ, "42.os")->level == pk::safety::suspicious);
}

TEST_CASE("stacked pickles are all read; bytes after the last STOP are a finding") {
  std::string two = "\x80\x02N.\x80\x02\x63\x62uiltins\neval\n."s;
  CHECK(run(two, true).roots.size() == 2);
  CHECK(find_global(run(two, true), "builtins.eval"));
  CHECK_FALSE(find_global(run(two, false), "builtins.eval"));
  auto tail = run("N.PK\x03\x04zzzz"s, true);
  CHECK(tail.roots.size() == 1);
  REQUIRE(has_finding(tail, "pickle.trailing_bytes"));
  CHECK(tail.findings.back().level == gb::severity::high);
  CHECK(tail.findings.back().offset == 2);
}

TEST_CASE("protocol 2-5 opcodes build the expected values") {
  std::string s =
      "\x80\x05\x95\x10\x00\x00\x00\x00\x00\x00\x00"s  // PROTO 5, FRAME
      "(G\x3f\xf8\x00\x00\x00\x00\x00\x00"s            // MARK, BINFLOAT 1.5
      "\x8a\x02\xff\x7f"s                              // LONG1 0x7fff
      "\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01"s  // LONG1 2^64 (big)
      "C\x03\x61\x62\x63"s                             // SHORT_BINBYTES b"abc"
      "\x96\x02\x00\x00\x00\x00\x00\x00\x00xy"s        // BYTEARRAY8
      "\x88\x89N"s                                     // True False None
      "\x8f(K\x01K\x02\x90"s                           // EMPTY_SET, ADDITEMS {1, 2}
      "(K\x03\x91"s                                    // FROZENSET {3}
      "K\x01K\x02K\x03\x87"s                           // TUPLE3
      "M\x00\x01J\xff\xff\xff\xff"s                    // BININT2 256, BININT -1
      "l."s;                                           // LIST
  auto r = run(s);
  CHECK(r.complete);
  CHECK(r.protocol == 5);
  const pk::value& list = r.at(r.roots.at(0));
  REQUIRE(list.k == pk::kind::list);
  REQUIRE(list.items.size() == 13);
  CHECK(r.at(list.items[0]).f == 1.5);
  CHECK(r.at(list.items[1]).i == 0x7fff);
  CHECK(r.at(list.items[2]).big);
  CHECK(r.at(list.items[3]).s == "abc");
  CHECK(r.at(list.items[4]).k == pk::kind::bytes);
  CHECK(r.at(list.items[5]).b);
  CHECK_FALSE(r.at(list.items[6]).b);
  CHECK(r.at(list.items[7]).k == pk::kind::none);
  CHECK(r.at(list.items[8]).items.size() == 2);
  CHECK(r.at(list.items[9]).items.size() == 1);
  CHECK(r.at(list.items[10]).items.size() == 3);
  CHECK(r.at(list.items[11]).i == 256);
  CHECK(r.at(list.items[12]).i == -1);
  auto neg = run("J\xff\xff\xff\xff."s);
  CHECK(neg.at(neg.roots[0]).i == -1);
}

TEST_CASE("protocol 0 text opcodes") {
  auto r = run("(I01\nI-7\nL12345678901234567890L\nF2.5\nS'a\\'b'\nVx\\u00e9\np0\ng0\nNd."s);
  CHECK(r.complete);
  const pk::value& d = r.at(r.roots.at(0));
  REQUIRE(d.k == pk::kind::dict);
  REQUIRE(d.items.size() == 8);
  CHECK(r.at(d.items[0]).k == pk::kind::boolean);
  CHECK(r.at(d.items[1]).i == -7);
  CHECK(r.at(d.items[2]).big);
  CHECK(r.at(d.items[3]).f == 2.5);
  CHECK(r.at(d.items[4]).s == "a'b");
  CHECK(r.at(d.items[5]).s == "x\xc3\xa9");
  CHECK(d.items[6] == d.items[5]);  // memo GET returns the same value
}

TEST_CASE("persistent ids and EXT codes") {
  auto r = run("\x80\x02(X\x07\x00\x00\x00storageK\x01tQ\x82\x05."s);
  REQUIRE(r.globals.size() == 1);
  CHECK(r.globals[0].opcode == "EXT1");
  CHECK(r.globals[0].level == pk::safety::suspicious);
  // the persid is the second-to-last value; the root is the EXT global
  bool saw_persid = false;
  for (const auto& v : r.values) saw_persid = saw_persid || v.k == pk::kind::persid;
  CHECK(saw_persid);
}

TEST_CASE("picklescan samples read directly") {
  GB_DATA(dir, "pickle-security/picklescan/data");
  auto read_path = [&](const std::string& name) {
    auto bytes = gb::test::read_file(dir + "/" + name);
    pk::read_options o;
    o.stacked = true;
    return pk::read(bytes.data(), bytes.size(), o);
  };
  auto m0 = read_path("malicious0.pkl");
  for (const char* q :
       {"__builtin__.eval", "__builtin__.compile", "__builtin__.getattr", "__builtin__.apply"}) {
    INFO(q);
    REQUIRE(find_global(m0, q));
    CHECK(find_global(m0, q)->level == pk::safety::dangerous);
  }
  auto bypass = read_path("pytorch_magic_bypass.pt");
  CHECK(bypass.roots.size() >= 5);
  REQUIRE(find_global(bypass, "posix.system"));
  CHECK(find_global(bypass, "posix.system")->invoked);
  auto benign = read_path("benign0_v3.pkl");
  CHECK(benign.complete);
  CHECK_FALSE(benign.has(pk::safety::suspicious));
  auto broken = read_path("broken_model.pkl");
  CHECK_FALSE(broken.complete);
  REQUIRE(find_global(broken, "builtins.exec"));
  CHECK(find_global(broken, "builtins.exec")->level == pk::safety::dangerous);
}
