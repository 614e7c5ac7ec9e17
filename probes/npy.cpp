#include "probes/npy.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <set>

#include "formats/safetensors_stream.h"

namespace gb::probes {

namespace {

namespace fs = std::filesystem;

// File name for a hook name: letters, digits, '.', '_' and '-' kept; others become '_'.
std::string file_stem(std::string_view name) {
  std::string s(name);
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  return s.empty() ? "_" : s;
}

class npy_folder : public activation_writer {
 public:
  explicit npy_folder(std::string dir) : dir_(std::move(dir)) {}
  void put(std::string_view name, const engine::activation_view& a) override {
    if (!seen_.insert(std::string(name)).second)
      fail(errc::bad_value, 0, "export: tensor '" + std::string(name) + "' written twice");
    const std::string path = (fs::path(dir_) / (file_stem(name) + ".npy")).string();
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) fail(errc::io, 0, "cannot create " + path);
    const std::string h = npy_header({a.shape.begin(), a.shape.end()});
    const size_t n = static_cast<size_t>(a.size()) * sizeof(float);
    bool ok =
        std::fwrite(h.data(), 1, h.size(), f) == h.size() && (n == 0 || std::fwrite(a.data, 1, n, f) == n);
    ok = std::fclose(f) == 0 && ok;
    if (!ok) fail(errc::io, 0, "cannot write " + path);
    bytes_ += h.size() + n;
    files_.push_back(path);
  }
  result<uint64_t> finish() override { return bytes_; }
  std::vector<std::string> files() const override { return files_; }

 private:
  std::string dir_;
  std::set<std::string> seen_;
  std::vector<std::string> files_;
  uint64_t bytes_ = 0;
};

// One safetensors file (formats/safetensors_stream: tensors appended as they arrive, the header at finish).
class safetensors_export : public activation_writer {
 public:
  explicit safetensors_export(std::unique_ptr<safetensors_stream> s) : s_(std::move(s)) {}
  void put(std::string_view name, const engine::activation_view& a) override {
    s_->put(name, dtype::f32, {a.shape.begin(), a.shape.end()}, a.data);
  }
  result<uint64_t> finish() override { return s_->finish(); }
  std::vector<std::string> files() const override { return {s_->path()}; }

 private:
  std::unique_ptr<safetensors_stream> s_;
};

}  // namespace

std::string npy_header(const std::vector<int64_t>& shape) {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i)
    dims += std::to_string(shape[i]) + (i + 1 < shape.size() ? ", " : "");
  if (shape.size() == 1) dims += ",";
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // magic(6) + version(2) + header_len(2) + dict + padding + '\n' is a multiple of 64.
  size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict.push_back('\n');
  std::string h("\x93NUMPY\x01\x00", 8);
  h.push_back(static_cast<char>(dict.size() & 0xff));
  h.push_back(static_cast<char>((dict.size() >> 8) & 0xff));
  return h + dict;
}

result<std::unique_ptr<activation_writer>> activation_writer::open(const std::string& path) {
  const std::string ext = ".safetensors";
  if (path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0) {
    auto s = safetensors_stream::open(path, {{"format", "pt"}, {"producer", "glassbox trace"}});
    if (!s) return s.err();
    return std::unique_ptr<activation_writer>(new safetensors_export(std::move(s).value()));
  }
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec || !fs::is_directory(path)) return error{errc::io, 0, "cannot create folder " + path, path};
  return std::unique_ptr<activation_writer>(new npy_folder(path));
}

}  // namespace gb::probes
