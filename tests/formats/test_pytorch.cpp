// PyTorch zip / legacy checkpoints, stand-alone pickles and numpy files through archive_open.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "formats/archive.h"
#include "formats/zip.h"
#include "tests/support/data.h"

using namespace std::string_literals;

namespace {

// Pickle pieces written by hand (protocol 2 spellings, as torch.save emits them).
std::string uni(const std::string& s) {
  uint32_t n = static_cast<uint32_t>(s.size());
  return "X"s + std::string(reinterpret_cast<const char*>(&n), 4) + s;
}
std::string int_tuple(const std::vector<int>& v) {
  std::string s = "(";
  for (int x : v) s += "J"s + std::string(reinterpret_cast<const char*>(&x), 4);
  return s + "t";
}
std::string tensor_pkl(const std::string& key, const std::string& storage, int offset,
                       const std::vector<int>& shape, const std::vector<int>& stride, int numel) {
  return "ctorch._utils\n_rebuild_tensor_v2\n(("s + uni("storage") + "ctorch\n" + storage + "\n" + uni(key) +
         uni("cpu") + int_tuple({numel}).substr(1, 5) + "tQ" + int_tuple({offset}).substr(1, 5) +
         int_tuple(shape) + int_tuple(stride) + "\x89}tR"s;
}
std::string state_dict(const std::vector<std::pair<std::string, std::string>>& items) {
  std::string s = "\x80\x02\x63\x63ollections\nOrderedDict\n)R("s;
  for (const auto& [k, v] : items) s += uni(k) + v;
  return s + "u.";
}

std::string write_zip(const std::string& name,
                      const std::vector<std::pair<std::string, std::string>>& entries,
                      bool deflate_storages = false) {
  std::vector<uint8_t> out;
  gb::zip::writer w([&](const uint8_t* p, size_t n) { out.insert(out.end(), p, p + n); });
  for (const auto& [n, d] : entries)
    w.add(n, reinterpret_cast<const uint8_t*>(d.data()), d.size(),
          deflate_storages && n.find("/data/") != std::string::npos, 64);
  w.finish();
  std::string path = gb::test::temp_dir("pytorch") + "/" + name;
  gb::test::write_file(path, out.data(), out.size());
  return path;
}

std::string floats(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    float f = static_cast<float>(i);
    s.append(reinterpret_cast<const char*>(&f), 4);
  }
  return s;
}

bool has(const gb::archive& a, const std::string& code) {
  for (const auto& f : a.findings)
    if (f.code == code) return true;
  return false;
}

}  // namespace

TEST_CASE("zip checkpoint: tensors are views into stored storages, strides kept, bounds checked") {
  std::string pkl = state_dict({{"w", tensor_pkl("0", "FloatStorage", 0, {2, 3}, {3, 1}, 6)},
                                {"wt", tensor_pkl("0", "FloatStorage", 0, {3, 2}, {1, 3}, 6)},
                                {"h", tensor_pkl("1", "HalfStorage", 2, {2}, {1}, 4)},
                                {"oob", tensor_pkl("1", "HalfStorage", 3, {4}, {1}, 4)}});
  std::string path = write_zip("ok.pt", {{"m/data.pkl", pkl},
                                         {"m/data/0", floats(6)},
                                         {"m/data/1", std::string(8, 'h')},
                                         {"m/data/9", "hidden payload"},
                                         {"m/version", "3\n"},
                                         {"m/byteorder", "little"}});
  auto r = gb::archive_open(path);
  REQUIRE(r);
  const gb::archive& a = r.value();
  CHECK(a.format == gb::file_format::pytorch_zip);
  CHECK(a.format_version == "3");
  REQUIRE(a.tensors.size() == 4);
  const gb::tensor_view* w = a.tensor("w");
  REQUIRE(w);
  CHECK(w->type == gb::dtype::f32);
  CHECK(w->shape == std::vector<int64_t>{2, 3});
  CHECK(w->contiguous());
  REQUIRE(w->available());
  float f5;
  std::memcpy(&f5, w->data + 5 * 4, 4);
  CHECK(f5 == 5.0f);
  const gb::tensor_view* wt = a.tensor("wt");
  CHECK(wt->strides == std::vector<int64_t>{1, 3});
  CHECK(wt->data == w->data);
  const gb::tensor_view* h = a.tensor("h");
  CHECK(h->type == gb::dtype::f16);
  REQUIRE(h->available());
  CHECK(h->data[0] == 'h');
  CHECK(h->nbytes == 4);
  CHECK_FALSE(a.tensor("oob")->available());
  CHECK(has(a, "pytorch.out_of_bounds"));
  CHECK(has(a, "pytorch.unreferenced_storage"));
  for (const auto& f : a.findings) CHECK(f.level < gb::severity::critical);
}

TEST_CASE("compressed storages are reported and not mapped; pickle findings still come out") {
  std::string pkl = "\x80\x02\x63os\nsystem\nX\x02\x00\x00\x00ls\x85R0"s +
                    state_dict({{"w", tensor_pkl("0", "FloatStorage", 0, {4}, {1}, 4)}}).substr(2);
  std::string path = write_zip("c.pt", {{"a/data.pkl", pkl}, {"a/data/0", floats(4)}}, true);
  auto r = gb::archive_open(path);
  REQUIRE(r);
  CHECK(has(r.value(), "pytorch.compressed_storage"));
  CHECK_FALSE(has(r.value(), "pytorch.unreferenced_storage"));
  REQUIRE(r.value().tensor("w"));
  CHECK_FALSE(r.value().tensor("w")->available());
  CHECK(has(r.value(), "pickle.global.dangerous"));
}

TEST_CASE("a zip without data.pkl is a plain zip whose pickles are scanned") {
  std::string path =
      write_zip("plain.zip", {{"model/config.pkl", "cbuiltins\neval\n(S'1'\ntR."s}, {"readme.txt", "hi"}});
  auto r = gb::archive_open(path);
  REQUIRE(r);
  CHECK(r.value().format == gb::file_format::zip);
  bool eval = false;
  for (const auto& f : r.value().findings)
    eval = eval ||
           (f.code == "pickle.global.dangerous" && f.message.find("builtins.eval") != std::string::npos &&
            f.where.find("model/config.pkl") != std::string::npos);
  CHECK(eval);
}

TEST_CASE("npy: header literal parsed without eval; object arrays are pickles") {
  std::string dir = gb::test::temp_dir("npy");
  std::string hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  hdr += std::string(128 - 10 - hdr.size() - 1, ' ') + "\n";
  std::string npy =
      "\x93NUMPY\x01\x00"s + std::string(1, static_cast<char>(hdr.size())) + "\x00"s + hdr + floats(6);
  gb::test::write_file(dir + "/a.npy", npy);
  auto r = gb::archive_open(dir + "/a.npy");
  REQUIRE(r);
  REQUIRE(r.value().tensors.size() == 1);
  CHECK(r.value().tensors[0].name == "a");
  CHECK(r.value().tensors[0].shape == std::vector<int64_t>{2, 3});
  CHECK(r.value().tensors[0].file_offset == 128);
  std::string ohdr = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }\n";
  std::string obj = "\x93NUMPY\x01\x00"s + std::string(1, static_cast<char>(ohdr.size())) + "\x00"s + ohdr +
                    "\x80\x02\x63posix\nsystem\nX\x02\x00\x00\x00id\x85R."s;
  gb::test::write_file(dir + "/o.npy", obj);
  auto o = gb::archive_open(dir + "/o.npy");
  REQUIRE(o);
  CHECK(has(o.value(), "numpy.object_array"));
  CHECK(has(o.value(), "pickle.global.dangerous"));
  // errors: bad header value, truncated data, structured dtype
  std::string bad = "\x93NUMPY\x01\x00\x10\x00{'descr': 12}  \n"s;
  gb::test::write_file(dir + "/bad.npy", bad);
  auto b = gb::archive_open(dir + "/bad.npy");
  REQUIRE_FALSE(b);
  CHECK(b.err().code == gb::errc::bad_value);
  gb::test::write_file(dir + "/short.npy", npy.substr(0, npy.size() - 4));
  auto s = gb::archive_open(dir + "/short.npy");
  REQUIRE_FALSE(s);
  CHECK(s.err().code == gb::errc::truncated);
  std::string shdr = "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n";
  gb::test::write_file(dir + "/st.npy", "\x93NUMPY\x01\x00"s +
                                            std::string(1, static_cast<char>(shdr.size())) + "\x00"s + shdr);
  auto st = gb::archive_open(dir + "/st.npy");  // structured, no object field: raw bytes, not mapped
  REQUIRE(st);
  auto has = [](const gb::archive& a, const char* code) {
    for (const auto& f : a.findings)
      if (f.code == code) return true;
    return false;
  };
  CHECK(has(st.value(), "numpy.unsupported_dtype"));
  CHECK_FALSE(has(st.value(), "numpy.object_array"));
  // an object field inside a structured dtype: np.load(allow_pickle=True) unpickles the data
  std::string sohdr =
      "{'descr': [('a', '<f4'), ('b', [('c', '|O')])], 'fortran_order': False, 'shape': (1,), }\n";
  gb::test::write_file(dir + "/so.npy", "\x93NUMPY\x01\x00"s +
                                            std::string(1, static_cast<char>(sohdr.size())) + "\x00"s +
                                            sohdr + "cos\nsystem\n(S'id'\ntR.");
  auto so = gb::archive_open(dir + "/so.npy");
  REQUIRE(so);
  CHECK(has(so.value(), "numpy.object_array"));
  CHECK(has(so.value(), "pickle.global.dangerous"));
}

TEST_CASE(
    "legacy checkpoint with a malformed pickle fails with bad_pickle but keeps nothing executable hidden") {
  std::string dir = gb::test::temp_dir("legacy");
  std::string magic = "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19."s;
  gb::test::write_file(dir + "/x.pt", magic + "\x80\x02M\xe9\x03.\x80\x02}q\x00(X"s);
  auto r = gb::archive_open(dir + "/x.pt");
  REQUIRE_FALSE(r);
  CHECK(r.err().code == gb::errc::bad_pickle);
}

TEST_CASE("picklescan legacy pytorch_model.bin lists its tensors") {
  GB_DATA(path, "pickle-security/picklescan/data/pytorch_model.bin");
  auto r = gb::archive_open(path);
  REQUIRE(r);
  const gb::archive& a = r.value();
  CHECK(a.format == gb::file_format::pytorch_legacy);
  REQUIRE(a.tensors.size() > 0);
  uint64_t total = 0;
  for (const auto& t : a.tensors) {
    INFO(t.name);
    CHECK(t.available());
    CHECK(t.type == gb::dtype::f32);
    CHECK(t.file_offset + t.nbytes <= a.files[0].size());
    if (t.contiguous()) CHECK(t.nbytes == t.element_count() * 4);
    total += t.nbytes;
  }
  MESSAGE("legacy tensors: " << a.tensors.size() << ", first " << a.tensors[0].name << " "
                             << gb::shape_string(a.tensors[0].shape) << ", bytes " << total);
  CHECK(total > 200000);  // the storages fill most of the 244,862-byte file
  for (const auto& f : a.findings) CHECK(f.level < gb::severity::high);
}

TEST_CASE("picklescan zip new_pytorch_model.bin lists its tensor") {
  GB_DATA(path, "pickle-security/picklescan/data/new_pytorch_model.bin");
  auto r = gb::archive_open(path);
  REQUIRE(r);
  const gb::archive& a = r.value();
  CHECK(a.format == gb::file_format::pytorch_zip);
  REQUIRE(a.tensors.size() == 1);
  CHECK(a.tensors[0].type == gb::dtype::f32);
  CHECK(a.tensors[0].shape == std::vector<int64_t>{3, 4});
  REQUIRE(a.tensors[0].available());
  float v[12];
  std::memcpy(v, a.tensors[0].data, sizeof v);
  CHECK(v[0] == 1.0f);  // storage bytes 00 00 80 3f
  CHECK(a.findings.empty());
}

TEST_CASE("picklescan npz samples") {
  GB_DATA(ints, "pickle-security/picklescan/data2/int_arrays.npz");
  auto r = gb::archive_open(ints);
  REQUIRE(r);
  CHECK(r.value().tensors.size() >= 1);
  for (const auto& f : r.value().findings) CHECK(f.level < gb::severity::high);
  GB_DATA(objs, "pickle-security/picklescan/data2/object_arrays.npz");
  auto o = gb::archive_open(objs);
  REQUIRE(o);
  CHECK(has(o.value(), "numpy.object_array"));
  for (const auto& f : o.value().findings) CHECK(f.level < gb::severity::high);
}
