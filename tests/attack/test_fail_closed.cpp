// glassbox scan fails closed (issue 16): one case per class of hand-built attack file, bytes built here,
// each asserting the per-file verdict and the exit code of `glassbox scan` (default --fail-on).
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/pickle.h"
#include "formats/zip.h"
#include "tests/attack/attack_bytes.h"
#include "tests/support/data.h"

using namespace std::string_literals;
namespace fs = std::filesystem;

namespace {

struct scanned {
  int code = -1;
  nlohmann::json report;
  std::string verdict(const std::string& name) const {
    for (const auto& f : report["files"])
      if (fs::path(f["path"].get<std::string>()).filename() == name) return f["verdict"].get<std::string>();
    return "<missing " + name + ">";
  }
  bool has(const std::string& code) const {
    for (const auto& f : report["files"])
      for (const auto& x : f["findings"])
        if (x["code"] == code) return true;
    return false;
  }
};

scanned scan(const std::string& path) {
  scanned s;
  std::string out;
  s.code = gb::test::run_glassbox("scan --json " + path, &out);
  s.report = nlohmann::json::parse(out, nullptr, false);
  REQUIRE_MESSAGE(!s.report.is_discarded(), out);
  return s;
}

// One file in a fresh folder, scanned.
scanned scan_bytes(const std::string& folder, const std::string& name, const std::string& bytes) {
  std::string d = gb::test::temp_dir("failclosed_" + folder);
  gb::test::write_file(d + "/" + name, bytes);
  return scan(d);
}

const std::string k_payload = "cos\nsystem\n(S'id'\ntR.";  // protocol 0: os.system('id')

std::string binunicode(const std::string& s) {
  std::string b = "X";
  for (int k = 0; k < 4; ++k) b += static_cast<char>((s.size() >> (8 * k)) & 0xff);
  return b + s;
}

}  // namespace

TEST_CASE("§1 literals CPython accepts are parsed: the payload after them is found") {
  // int() rules: hex, underscores, surrounding whitespace, strtol's octal, raw-unicode-escape backslash runs
  for (const std::string& lit : {"I0x1F\n"s, "I1_000\n"s, "I  42 \n"s, "I010\n"s, "L0b101L\n"s, "L 7_7 \n"s,
                                 "V\\\\uZZZZ\n"s, "S'\\x41\\a'\n"s}) {
    INFO(lit);
    auto s = scan_bytes("lit", "m.pkl", lit + "0" + k_payload);
    CHECK(s.verdict("m.pkl") == "DANGEROUS");
    CHECK(s.code == 1);
  }
  // GET/PUT keys by int(s, 10): whitespace and underscores
  auto s = scan_bytes("memo", "m.pkl", "cos\nsystem\np 1_0 \n0g10\n(S'id'\ntR.");
  CHECK(s.verdict("m.pkl") == "DANGEROUS");
  CHECK(s.code == 1);
  // the values themselves
  std::string p = "(I0x1F\nI1_000\nI010\nL0o17\nI -0b11 \nl.";
  auto r = gb::pickle::read(reinterpret_cast<const uint8_t*>(p.data()), p.size());
  REQUIRE(r.complete);
  const auto& list = r.at(r.roots.at(0));
  REQUIRE(list.items.size() == 5);
  CHECK(r.at(list.items[0]).i == 31);
  CHECK(r.at(list.items[1]).i == 1000);
  CHECK(r.at(list.items[2]).i == 8);
  CHECK(r.at(list.items[3]).i == 15);
  CHECK(r.at(list.items[4]).i == -3);
  // what CPython rejects is rejected: "08" (no octal 8; int() refuses leading zeros), "1__0", "_1"
  int64_t v = 0;
  bool big = false;
  CHECK_FALSE(gb::pickle::parse_py_int("08", 0, &v, &big));
  CHECK_FALSE(gb::pickle::parse_py_int("1__0", 0, &v, &big));
  CHECK_FALSE(gb::pickle::parse_py_int("_1", 10, &v, &big));
  CHECK_FALSE(gb::pickle::parse_py_int("0x10", 10, &v, &big));
  CHECK(gb::pickle::parse_py_int("0_0", 0, &v, &big));
  CHECK(gb::pickle::parse_py_int(std::string(30, '9'), 10, &v, &big));
  CHECK(big);
  CHECK_FALSE(gb::pickle::parse_py_int(std::string(4301, '9'), 10, &v, &big));  // int_max_str_digits
}

TEST_CASE("§1 no count limits: deep MARKs, many stacked pickles, big memo keys") {
  auto marks = scan_bytes("marks", "m.pkl", std::string(50'000, '(') + k_payload);
  CHECK(marks.verdict("m.pkl") == "DANGEROUS");
  CHECK(marks.code == 1);
  std::string stacked;
  for (int i = 0; i < 20'000; ++i) stacked += "N.";
  auto st = scan_bytes("stacked", "m.pkl", stacked + k_payload);
  CHECK(st.verdict("m.pkl") == "DANGEROUS");
  CHECK(st.code == 1);
  auto memo = scan_bytes("bigmemo", "m.pkl",
                         "\x80\x02"
                         "cos\nsystem\nr\xff\xff\xff\xff"
                         "0j\xff\xff\xff\xff(S'id'\ntR."s);
  CHECK(memo.verdict("m.pkl") == "DANGEROUS");
  CHECK(memo.code == 1);
}

TEST_CASE("§1 a stream not understood to its end is NOT VERIFIED (high), and what follows is swept") {
  // an opcode CPython does not have, then nothing dangerous: NOT VERIFIED fails the default --fail-on
  auto bad = scan_bytes("badop", "m.pkl",
                        "\x80\x02N\xff"
                        "abc"s);
  CHECK(bad.verdict("m.pkl") == "NOT VERIFIED");
  CHECK(bad.has("pickle.not_verified"));
  CHECK(bad.code == 1);
  // the same stop with a GLOBAL behind it: the sweep reports it
  auto swept = scan_bytes("sweep", "m.pkl", "\x80\x02\xff" + k_payload);
  CHECK(swept.verdict("m.pkl") == "DANGEROUS");
  CHECK(swept.code == 1);
  // STACK_GLOBAL operands behind the stop
  auto sg = scan_bytes("sweep_sg", "m.pkl", "\x80\x04\xff\x8c\x02os\x94\x8c\x06system\x94\x93."s);
  CHECK(sg.verdict("m.pkl") == "DANGEROUS");
  // truncated benign pickle: not "ok"
  auto cut = scan_bytes("cut", "m.pkl",
                        "\x80\x02}q\x00(X\x01\x00\x00\x00"
                        "aK\x01"s);
  CHECK(cut.verdict("m.pkl") == "NOT VERIFIED");
  CHECK(cut.code == 1);
  // the memory bound: past it the interpretation stops, the rest is swept, the result is not verified
  std::string big = std::string(200'000, ']') + "cmymod\nrun\n.";
  gb::pickle::read_options o;
  o.lim.max_memory = 1 << 20;
  auto r = gb::pickle::read(reinterpret_cast<const uint8_t*>(big.data()), big.size(), o);
  CHECK_FALSE(r.complete);
  CHECK(r.swept_from != UINT64_MAX);
  bool found = false;
  for (const auto& g : r.globals) found = found || (g.qualified() == "mymod.run" && g.swept);
  CHECK(found);
  std::vector<gb::finding> f;
  gb::pickle::add_findings(r, "big.pkl", f);
  bool nv = false;
  for (const auto& x : f) nv = nv || (x.code == "pickle.not_verified" && x.level == gb::severity::high);
  CHECK(nv);
}

TEST_CASE("§2 BUILD state holding a callable, and STACK_GLOBAL names computed at load time, are dangerous") {
  // OrderedDict instance; BUILD {'__setstate__': mymod.run}; BUILD 'id' -> mymod.run('id')
  std::string p =
      "\x80\x02"
      "ccollections\nOrderedDict\n)\x81}" +
      binunicode("__setstate__") + "cmymod\nrun\nsb" + binunicode("id") + "b.";
  auto s = scan_bytes("build", "m.pkl", p);
  CHECK(s.verdict("m.pkl") == "DANGEROUS");
  CHECK(s.code == 1);
  // the module name is _codecs.encode('bf', 'rot13') == 'os', computed at load time; never called here
  std::string q =
      "\x80\x04"
      "c_codecs\nencode\n" +
      binunicode("bf") + binunicode("rot13") + "\x86R" + binunicode("system") +
      "\x93"
      "0N.";
  auto c = scan_bytes("computed", "m.pkl", q);
  CHECK(c.verdict("m.pkl") == "DANGEROUS");
  CHECK(c.code == 1);
  auto r = gb::pickle::read(reinterpret_cast<const uint8_t*>(q.data()), q.size());
  for (const auto& g : r.globals) CHECK(g.reason.find("Python raises") == std::string::npos);
  // CPython does raise for an int operand: then (and only then) "never imported"
  std::string t = "\x80\x04J*\x00\x00\x00\x8c\x02os\x93."s;
  auto ri = gb::pickle::read(reinterpret_cast<const uint8_t*>(t.data()), t.size());
  REQUIRE(ri.globals.size() == 1);
  CHECK(ri.globals[0].reason.find("Python raises") != std::string::npos);
}

TEST_CASE("§3 a pickle is found by its bytes under any name") {
  for (const char* name :
       {"notes.txt", "config.json", "model", "weights.npy", "model.sav", "x.tar", "run.py"}) {
    INFO(name);
    auto s = scan_bytes(std::string("name_") + (name[0] == 'n' ? "n" : name), name, k_payload);
    CHECK(s.verdict(name) == "DANGEROUS");
    CHECK(s.code == 1);
  }
}

TEST_CASE("§5 folders: special files, escaping links, missing shards, remote code, ONNX external data") {
  std::string d = gb::test::temp_dir("failclosed_folder");
  REQUIRE(::mkfifo((d + "/pipe").c_str(), 0600) == 0);
  auto fifo = scan(d);
  CHECK(fifo.verdict("pipe") == "NOT VERIFIED");
  CHECK(fifo.has("file.special"));
  CHECK(fifo.code != 0);
  std::string e = gb::test::temp_dir("failclosed_link");
  fs::create_symlink("/etc/hostname", e + "/weights.bin");
  auto link = scan(e);
  CHECK(link.verdict("weights.bin") == "NOT VERIFIED");
  CHECK(link.has("file.symlink_escape"));
  CHECK(link.code != 0);
  std::string em = gb::test::temp_dir("failclosed_empty");
  CHECK(scan(em).code == 3);  // an empty folder is not "0 files, ok"
  std::string ix = gb::test::temp_dir("failclosed_index");
  gb::test::write_file(
      ix + "/model.safetensors.index.json",
      R"({"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "../../x.safetensors"},
                           "auto_map": {"AutoModel": "modeling_evil.EvilModel"}})");
  gb::test::write_file(ix + "/modeling_evil.py", "import os\n");
  auto idx = scan(ix);
  CHECK(idx.has("index.missing_shard"));
  CHECK(idx.has("index.path_traversal"));
  CHECK(idx.verdict("model.safetensors.index.json") == "DANGEROUS");
  bool named = false;
  for (const auto& f : idx.report["files"])
    for (const auto& x : f["findings"])
      named =
          named || (x["code"] == "config.remote_code" &&
                    x["message"].get<std::string>().find("modeling_evil.py (present)") != std::string::npos);
  CHECK(named);
  CHECK(idx.code == 1);
  // a valid ONNX model and its external data: both covered, exit 0
  std::string ox = gb::test::temp_dir("failclosed_onnx");
  gb::attack::bytes m = gb::attack::onnx_external("model.onnx_data", 4);
  gb::test::write_file(ox + "/model.onnx", m.data(), m.size());
  gb::test::write_file(ox + "/model.onnx_data", std::string(16, '\0'));
  auto ok = scan(ox);
  CHECK(ok.verdict("model.onnx_data") == "CLEAN");
  CHECK(ok.verdict("model.onnx") == "CLEAN");
  CHECK(ok.code == 0);
  // external data outside the folder: path traversal, dangerous
  std::string ot = gb::test::temp_dir("failclosed_onnx_escape");
  gb::attack::bytes esc = gb::attack::onnx_external("../../../../etc/hostname", 4);
  gb::test::write_file(ot + "/model.onnx", esc.data(), esc.size());
  auto tr = scan(ot);
  CHECK(tr.verdict("model.onnx") == "DANGEROUS");
  CHECK(tr.has("file.path_traversal"));
  CHECK(tr.code == 1);
}

TEST_CASE("§6 what the weights_only unpickler accepts is clean; torch.save(module) is medium") {
  std::string ok =
      "\x80\x02("
      "ccollections\nCounter\n)R"
      "ccollections\nOrderedDict\n)R"
      "cbuiltins\nrange\nK\x00K\x0a\x86R"s +
      "cdatetime\ntimedelta\nK\x01\x85R"s + "cdecimal\nDecimal\n" + binunicode("1.5") + "\x85R" +
      "cnumpy.core.numeric\n_frombuffer\n(C\x04\x00\x00\x00\x00"
      "cnumpy\ndtype\n"s +
      binunicode("f4") + "\x85R)" + binunicode("C") + "tR" + "ctorch\nSize\n]\x85R" + "ctorch\nfloat16\n" +
      "l.";
  auto s = scan_bytes("benign", "m.pkl", ok);
  CHECK(s.verdict("m.pkl") == "CLEAN");
  CHECK(s.code == 0);
  // torch.save(nn.Linear): NEWOBJ of a torch.nn class, BUILD with its __dict__ (parameters in an OrderedDict)
  std::string mod =
      "\x80\x02"
      "ctorch.nn.modules.linear\nLinear\n)\x81}(" +
      binunicode("training") + "\x88" + binunicode("_parameters") + "ccollections\nOrderedDict\n)R" +
      binunicode("activation") + "ctorch.nn.functional\nrelu\nub.";
  auto m = scan_bytes("module", "m.pt", mod);
  CHECK(m.verdict("m.pt") == "CLEAN");
  CHECK(m.has("pickle.global.reconstructs"));
  CHECK(m.code == 0);
  // ... but a callable outside the allowlist in the same place stays dangerous
  std::string evil =
      "\x80\x02"
      "ctorch.nn.modules.linear\nLinear\n)\x81}(" +
      binunicode("activation") + "cmymod\nrun\nub.";
  auto ev = scan_bytes("module_evil", "m.pt", evil);
  CHECK(ev.verdict("m.pt") == "DANGEROUS");
  CHECK(ev.code == 1);
}

TEST_CASE("§6 a torch.save(module) zip checkpoint: medium, no unreferenced storage, exit 0") {
  auto od = "ccollections\nOrderedDict\n)R"s;
  std::string tensor = "ctorch._utils\n_rebuild_tensor_v2\n((" + binunicode("storage") +
                       "ctorch\nFloatStorage\n" + binunicode("0") + binunicode("cpu") +
                       "K\x04tQK\x00K\x04\x85K\x01\x85\x89"s + od + "tR";
  std::string param = "ctorch._utils\n_rebuild_parameter\n(" + tensor + "\x88" + od + "tR";
  std::string pkl =
      "\x80\x02"
      "ctorch.nn.modules.linear\nLinear\n)\x81}(" +
      binunicode("training") + "\x88" + binunicode("_parameters") + od + "(" + binunicode("weight") + param +
      "u" + "ub.";
  std::vector<uint8_t> z;
  gb::zip::writer w([&](const uint8_t* p, size_t n) { z.insert(z.end(), p, p + n); });
  w.add("archive/data.pkl", reinterpret_cast<const uint8_t*>(pkl.data()), pkl.size());
  std::vector<uint8_t> storage(16, 0);
  w.add("archive/data/0", storage.data(), storage.size(), false, 64);
  w.add("archive/version", reinterpret_cast<const uint8_t*>("3\n"), 2);
  w.finish();
  std::string d = gb::test::temp_dir("failclosed_module_zip");
  gb::test::write_file(d + "/model.pt", z.data(), z.size());
  auto s = scan(d);
  CHECK(s.verdict("model.pt") == "CLEAN");
  CHECK(s.has("pickle.global.reconstructs"));
  CHECK_FALSE(s.has("pytorch.unreferenced_storage"));
  CHECK(s.code == 0);
}

namespace {

// A ustar archive of (name, bytes) members, as Python's tarfile writes it.
std::string tar(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out;
  for (const auto& [name, data] : members) {
    std::string h(512, '\0');
    auto field = [&](size_t at, const std::string& v) {
      h.replace(at, v.size(), v);
    };  // same length: no shift
    field(0, name);
    field(100, "0000644");
    field(108, "0000000");
    field(116, "0000000");
    char size[13];
    std::snprintf(size, sizeof size, "%011llo", static_cast<unsigned long long>(data.size()));
    field(124, size);
    field(136, "00000000000");
    h[156] = '0';
    field(257, std::string("ustar\0", 6));
    field(263, "00");
    field(148, "        ");
    unsigned sum = 0;
    for (char c : h) sum += static_cast<unsigned char>(c);
    char ck[8];
    std::snprintf(ck, sizeof ck, "%06o", sum);
    field(148, std::string(ck, 6) + '\0');
    out += h + data + std::string((512 - data.size() % 512) % 512, '\0');
  }
  return out + std::string(1024, '\0');
}

}  // namespace

TEST_CASE("§3 legacy tar checkpoints: every member's pickles are read, the storage layout followed") {
  std::string sys = "\x80\x02}" + binunicode("little_endian") + "\x88s.";
  std::string storages = "\x80\x02K\x01.\x80\x02(" + binunicode("0") + binunicode("cpu") +
                         "ctorch\nFloatStorage\nt."s + std::string("\x02\x00\x00\x00\x00\x00\x00\x00", 8) +
                         std::string(8, '\0') + "\x80\x02]."s;
  std::string tensors = "\x80\x02K\x00."s;
  std::string state =
      "\x80\x02"
      "ccollections\nOrderedDict\n)R."s;
  auto ok =
      scan_bytes("tar_ok", "model.pt",
                 tar({{"sys_info", sys}, {"pickle", state}, {"storages", storages}, {"tensors", tensors}}));
  CHECK(ok.verdict("model.pt") == "CLEAN");
  CHECK(ok.code == 0);
  auto evil = scan_bytes("tar_evil", "model.tar", tar({{"sys_info", sys}, {"pickle", k_payload}}));
  CHECK(evil.verdict("model.tar") == "DANGEROUS");
  CHECK(evil.code == 1);
  // a payload hidden in the storages member after its pickles (the layout does not hold): swept, dangerous
  auto hidden = scan_bytes("tar_hidden", "ckpt", tar({{"storages", "\x80\x02K\x01." + k_payload}}));
  CHECK(hidden.verdict("ckpt") == "DANGEROUS");
  CHECK(hidden.code == 1);
}

TEST_CASE("§3 zip: the end record's entry count is not trusted (zipfile reads the directory by its size)") {
  std::vector<uint8_t> z;
  gb::zip::writer w([&](const uint8_t* p, size_t n) { z.insert(z.end(), p, p + n); });
  w.add("a.txt", reinterpret_cast<const uint8_t*>("hello\n"), 6);
  w.add("evil.pkl", reinterpret_cast<const uint8_t*>(k_payload.data()), k_payload.size());
  w.finish();
  REQUIRE(z.size() > 22);
  const size_t eocd = z.size() - 22;  // no comment
  REQUIRE(z[eocd] == 'P');
  z[eocd + 8] = 1;   // entries on this disk
  z[eocd + 10] = 1;  // total entries: the second one is "hidden"
  std::string d = gb::test::temp_dir("failclosed_zip_count");
  gb::test::write_file(d + "/model.zip", z.data(), z.size());
  auto s = scan(d);
  CHECK(s.has("zip.count_mismatch"));
  CHECK(s.verdict("model.zip") == "DANGEROUS");
  CHECK(s.code == 1);
}
