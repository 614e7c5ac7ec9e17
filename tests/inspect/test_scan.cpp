// The scan engine over crafted files and the picklescan corpus (MANIFEST section 6).
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "formats/writers.h"
#include "formats/zip.h"
#include "inspect/scan.h"
#include "tests/support/data.h"

using namespace std::string_literals;

namespace {

// The level a scan gave global `q` in file `f` (info when not reported).
gb::severity global_level(const gb::scan_file& f, const std::string& q) {
  gb::severity s = gb::severity::info;
  bool found = false;
  for (const auto& x : f.findings)
    if (x.code.rfind("pickle.global.", 0) == 0 &&
        x.message.find(" global " + q + " (") != std::string::npos) {
      s = std::max(s, x.level);
      found = true;
    }
  return found ? s : gb::severity::info;
}

bool has(const gb::scan_file& f, const std::string& code) {
  for (const auto& x : f.findings)
    if (x.code == code) return true;
  return false;
}

std::string tmp_file(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::string p = dir + "/" + name;
  gb::test::write_file(p, bytes);
  return p;
}

}  // namespace

TEST_CASE("crafted files: renamed, polyglot, 7z, templates, scripts, unknown") {
  std::string dir = gb::test::temp_dir("scan_crafted");
  auto png = gb::scan_one(tmp_file(dir, "model.pt", "\x89PNG\r\n\x1a\n0000"s));
  CHECK(png.status == gb::scan_status::full);
  CHECK(has(png, "file.not_a_checkpoint"));
  CHECK(png.worst() < gb::severity::critical);

  auto sz = gb::scan_one(tmp_file(dir, "a.7z", "7z\xBC\xAF\x27\x1C\x00\x04rest"s));
  CHECK(sz.status == gb::scan_status::none);
  CHECK(sz.reason.find("7z") != std::string::npos);

  auto tail = gb::scan_one(tmp_file(dir, "t.pkl", "\x80\x02N.trailing junk"s));
  CHECK(has(tail, "pickle.trailing_bytes"));

  // a zip appended to a pickle: torch.load would open the zip
  std::vector<uint8_t> z;
  gb::zip::writer w([&](const uint8_t* p, size_t n) { z.insert(z.end(), p, p + n); });
  std::string evil = "cos\nsystem\n(S'id'\ntR.";
  w.add("x/data.pkl", reinterpret_cast<const uint8_t*>(evil.data()), evil.size());
  w.finish();
  std::string poly = "\x80\x02N."s + std::string(z.begin(), z.end());
  auto pg = gb::scan_one(tmp_file(dir, "poly.pkl", poly));
  CHECK(has(pg, "file.polyglot"));
  CHECK(global_level(pg, "os.system") == gb::severity::critical);

  auto tc = gb::scan_one(tmp_file(
      dir, "tokenizer_config.json",
      R"({"chat_template": "{{ ''.__class__.__mro__[1].__subclasses__() }}", "auto_map": {"AutoTokenizer": "tok.Tok"}})"));
  CHECK(tc.status == gb::scan_status::full);
  CHECK(has(tc, "template.injection"));
  CHECK(has(tc, "template.present"));
  CHECK(has(tc, "config.remote_code"));
  auto clean = gb::scan_one(tmp_file(
      dir, "tokenizer_config.json",
      R"({"chat_template": "{% for m in messages %}{{ m['role'] + ': ' + m['content'] }}{% endfor %}"})"));
  CHECK_FALSE(has(clean, "template.injection"));
  std::vector<gb::finding> tf;
  gb::scan_template_text("{{ cycler.__init__.__globals__.os.popen('id').read() }}", "t", tf);
  CHECK(tf.size() >= 3);
  CHECK(tf[0].offset != UINT64_MAX);

  auto py = gb::scan_one(tmp_file(dir, "modeling_x.py", "import os\n"));
  CHECK(has(py, "file.python_source"));
  auto sh = gb::scan_one(tmp_file(dir, "run.bin", "#!/bin/sh\nrm -rf /\n"));
  CHECK(has(sh, "file.executable"));
  auto unk = gb::scan_one(tmp_file(dir, "blob.dat", "\x01\x02\x03\x00\xff"s));
  CHECK(unk.status == gb::scan_status::none);
  auto txt = gb::scan_one(tmp_file(dir, "README.md", "# model card\n"));
  CHECK(txt.status == gb::scan_status::full);
  auto broken = gb::scan_one(tmp_file(dir, "b.pkl", "\x80\x02\x63os\nsystem\n(X\xff\xff\xff\x00"s));
  CHECK(broken.status == gb::scan_status::partial);
  CHECK(global_level(broken, "os.system") == gb::severity::critical);

  // a 7z inside a zip is listed as not examined
  std::vector<uint8_t> z7;
  gb::zip::writer w7([&](const uint8_t* p, size_t n) { z7.insert(z7.end(), p, p + n); });
  std::string sevenz = "7z\xBC\xAF\x27\x1C\x00\x04"s;
  w7.add("inner.7z", reinterpret_cast<const uint8_t*>(sevenz.data()), sevenz.size());
  w7.finish();
  auto nested = gb::scan_one(tmp_file(dir, "outer.zip", std::string(z7.begin(), z7.end())));
  CHECK(has(nested, "zip.member_not_scanned"));
  CHECK(nested.status == gb::scan_status::partial);
  std::filesystem::create_symlink("/etc/hostname", dir + "/link.txt");

  auto rep = gb::scan_paths({dir, dir + "/missing.bin"});
  for (const auto& f : rep.files)
    if (f.path == dir + "/link.txt") CHECK(has(f, "file.symlink_escape"));  // leaves the folder: never opened
  CHECK(rep.files.size() == 13);
  CHECK(rep.count(gb::scan_status::none) == 4);  // a.7z, blob.dat, missing.bin, link.txt
  CHECK(rep.worst() == gb::severity::critical);
}

TEST_CASE("picklescan corpus: expected dangerous globals, benign files never dangerous") {
  GB_DATA(root, "pickle-security/picklescan");
  // MANIFEST section 6: file -> {global, expected level (critical = Dangerous, high = Suspicious)}
  const gb::severity D = gb::severity::critical, S = gb::severity::high;
  const std::map<std::string, std::vector<std::pair<std::string, gb::severity>>> expected = {
      {"data/malicious0.pkl",
       {{"__builtin__.compile", D},
        {"__builtin__.globals", S},
        {"__builtin__.dict", S},
        {"__builtin__.apply", D},
        {"__builtin__.getattr", D},
        {"__builtin__.eval", D}}},
      {"data/malicious1.zip", {{"builtins.eval", D}}},
      {"data/malicious10.pkl", {{"__builtin__.exec", D}}},
      {"data/malicious14.pkl", {{"runpy._run_code", D}}},
      {"data/malicious1_0x1.zip", {{"builtins.eval", D}}},
      {"data/malicious1_0x20.zip", {{"builtins.eval", D}}},
      {"data/malicious1_0x40.zip", {{"builtins.eval", D}}},
      {"data/malicious1_central_directory.zip", {{"builtins.eval", D}}},
      {"data/malicious1_v0.pkl", {{"__builtin__.eval", D}}},
      {"data/malicious1_v3.pkl", {{"builtins.eval", D}}},
      {"data/malicious1_v4.pkl", {{"builtins.eval", D}}},
      {"data/malicious1_wrong_ext.zip", {{"builtins.eval", D}}},
      {"data/malicious2_v0.pkl", {{"posix.system", D}}},
      {"data/malicious2_v3.pkl", {{"posix.system", D}}},
      {"data/malicious2_v4.pkl", {{"posix.system", D}}},
      {"data/malicious3.pkl", {{"httplib.HTTPSConnection", D}}},
      {"data/malicious4.pickle", {{"requests.api.get", D}}},
      {"data/malicious5.pickle", {{"aiohttp.client.ClientSession", D}}},
      {"data/malicious6.pkl", {{"requests.api.get", D}}},
      {"data/malicious7.pkl", {{"socket.create_connection", D}}},
      {"data/malicious8.pkl", {{"subprocess.run", D}}},
      {"data/malicious9.pkl", {{"sys.exit", D}}},
      {"data/pytorch_magic_bypass.pt", {{"__builtin__.eval", D}, {"posix.system", D}}},
      {"data2/GHSA-4675-36f9-wf6r.pkl", {{"ctypes.CDLL", D}}},
      {"data2/GHSA-4r9r-ch6f-vxmx.pkl", {{"torch.utils.bottleneck.__main__.run_cprofile", D}}},
      {"data2/GHSA-6vqj-c2q5-j97w.pkl", {{"profile.Profile.runctx", D}}},
      {"data2/GHSA-7wx9-6375-f5wh.pkl", {{"profile.run", D}}},
      {"data2/GHSA-8r4j-24qv-fmq9.pkl", {{"idlelib.calltip.Calltip.fetch_tip", D}}},
      {"data2/GHSA-9xph-j2h6-g47v.pkl", {{"idlelib.calltip.get_entity", D}}},
      {"data2/GHSA-f54q-57x4-jg88.pkl", {{"lib2to3.pgen2.grammar.Grammar.loads", D}}},
      {"data2/GHSA-g344-hcph-8vgg.pkl", {{"trace.Trace.runctx", D}}},
      {"data2/GHSA-g38g-8gr9-h9xp-osx-support.pkl", {{"_osx_support._read_output", D}}},
      {"data2/GHSA-g38g-8gr9-h9xp-uuid.pkl", {{"uuid._get_command_stdout", D}}},
      {"data2/GHSA-jgw4-cr84-mqxg.bin", {{"asyncio.unix_events._UnixSubprocessTransport._start", D}}},
      {"data2/GHSA-m869-42cg-3xwr.pkl", {{"idlelib.run.Executive.runcode", D}}},
      {"data2/GHSA-r8g5-cgf2-4m4m.pkl", {{"numpy.f2py.crackfortran.getlincoef", D}}},
      {"data2/GHSA-vv6j-3g6g-2pvj.pkl", {{"torch.utils._config_module.ConfigModule.load_config", D}}},
      {"data2/GHSA-xp4f-hrf8-rxw7.pkl", {{"ensurepip._run_pip", D}}},
      {"data2/cloudpickle_codeinjection.pkl",
       {{"cloudpickle.cloudpickle._function_setstate", D},
        {"cloudpickle.cloudpickle._builtin_type", D},
        {"cloudpickle.cloudpickle._make_function", D},
        {"cloudpickle.cloudpickle._make_cell", D},
        {"cloudpickle.cloudpickle._make_empty_cell", D},
        {"cloudpickle.cloudpickle.subimport", D}}},
      {"data2/dns_exfiltration.npy", {{"ssl.get_server_certificate", D}}},
      {"data2/io_FileIO.pkl", {{"_io.FileIO", D}}},
      {"data2/keyerror-exploit.pkl", {{"os.system", D}, {"unknown.os", D}}},
      {"data2/logging_FileHandler.pkl", {{"logging.FileHandler", D}}},
      {"data2/malicious1_crc.zip", {{"builtins.eval", D}}},
      {"data2/malicious21.pkl", {{"timeit.timeit", D}}},
      {"data2/malicious22.pkl", {{"numpy.testing._private.utils.runstring", D}}},
      {"data2/malicious23.pkl", {{"os.system", D}}},
      {"data2/type-confusion-exploit.pkl", {{"42.os", S}, {"os.system", D}}},
      {"data2/types_CodeType.pkl", {{"types.CodeType", D}}},
      {"data2/urllib_request_urlopen.pkl", {{"urllib.request.urlopen", D}}},
  };
  const std::set<std::string> benign = {"data/bad_pytorch.pt",
                                        "data/benign0_v0.pkl",
                                        "data/benign0_v3.pkl",
                                        "data/benign0_v4.pkl",
                                        "data/benign_password_protected.zip",
                                        "data/not_a_pickle.bin",
                                        "data/pytorch_model.bin",
                                        "data/new_pytorch_model.bin",
                                        "data2/int_array.npy",
                                        "data2/int_arrays.npz",
                                        "data2/int_arrays_compressed.npz",
                                        "data2/object_array.npy",
                                        "data2/object_arrays.npz",
                                        "data2/object_arrays_compressed.npz"};

  gb::scan_report rep = gb::scan_paths({root});
  REQUIRE(rep.files.size() >= 70);
  std::map<std::string, const gb::scan_file*> by_rel;
  for (const auto& f : rep.files) by_rel[f.path.substr(root.size() + 1)] = &f;
  size_t checked = 0;
  for (const auto& [rel, globals] : expected) {
    INFO(rel);
    REQUIRE(by_rel.count(rel));
    const gb::scan_file& f = *by_rel[rel];
    for (const auto& [q, level] : globals) {
      INFO(q);
      CHECK(global_level(f, q) >= level);
      ++checked;
    }
  }
  MESSAGE("expected globals checked: " << checked);
  for (const auto& [rel, f] : by_rel) {
    INFO(rel);
    if (rel == "data/malicious1.7z") {
      CHECK(f->status == gb::scan_status::none);
      continue;
    }
    if (benign.count(rel)) {
      CHECK(f->worst() < gb::severity::critical);
    } else {
      CHECK(f->worst() == gb::severity::critical);  // every other sample is malicious by construction
    }
  }
  CHECK(by_rel["data/benign_password_protected.zip"]->status != gb::scan_status::full);
  CHECK(has(*by_rel["data/bad_pytorch.pt"], "file.not_a_checkpoint"));
  CHECK(has(*by_rel["data/malicious1_central_directory.zip"], "zip.header_mismatch"));
  CHECK(has(*by_rel["data/malicious1_0x1.zip"], "zip.encryption_flag_decoy"));
  // numpy reconstructors are innocuous, never dangerous
  CHECK(global_level(*by_rel["data2/object_arrays.npz"], "numpy.core.multiarray._reconstruct") ==
        gb::severity::info);
}

TEST_CASE("GGUF chat templates (default and named) are audited as text") {
  std::string dir = gb::test::temp_dir("scan_gguf");
  gb::tensor_data t;
  t.name = "w";
  t.shape = {2};
  t.bytes.assign(8, 0);
  gb::gguf_write(
      dir + "/m.gguf",
      {{"general.architecture", gb::meta_str("llama")},
       {"tokenizer.chat_template", gb::meta_str("{% for m in messages %}{{ m.content }}{% endfor %}")},
       {"tokenizer.chat_template.tool_use",
        gb::meta_str("{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('id') }}")}},
      {t});
  auto f = gb::scan_one(dir + "/m.gguf");
  CHECK(f.status == gb::scan_status::full);
  CHECK(f.format == gb::file_format::gguf);
  size_t present = 0, injections = 0;
  for (const auto& x : f.findings) {
    present += x.code == "template.present";
    if (x.code == "template.injection") {
      ++injections;
      CHECK(x.where.find("tokenizer.chat_template.tool_use") != std::string::npos);
    }
  }
  CHECK(present == 2);
  CHECK(injections >= 3);  // __init__, __globals__, os., popen
}
