#include "probes/npy.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <xtensor/xadapt.hpp>
#include <xtensor/xnpy.hpp>

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

// One tensor as NAME.npy through xtensor; returns the bytes written.
uint64_t npy_write(const std::string& path, const engine::activation_view& a) {
  std::vector<size_t> shape;  // (the view's axes), negative extents as 0
  for (int64_t d : a.shape) shape.push_back(d < 0 ? 0 : static_cast<size_t>(d));
  const size_t n = static_cast<size_t>(a.size());
  try {
    // xtensor writes format 1.0, '<f4', C order, the header padded to a multiple of 64 bytes
    xt::dump_npy(path, xt::adapt(a.data, n, xt::no_ownership(), shape));
  } catch (const std::runtime_error&) {
    fail(errc::io, 0, "cannot create " + path);
  }
  // xtensor does not check its writes: a short file (a full disk) is told by its size
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec), data = uint64_t{n} * sizeof(float);
  if (ec || size < data + 64 || (size - data) % 64 != 0) fail(errc::io, 0, "cannot write " + path);
  return size;
}

class npy_folder : public activation_writer {
 public:
  explicit npy_folder(std::string dir) : dir_(std::move(dir)) {}
  void put(std::string_view name, const engine::activation_view& a) override {
    if (!seen_.insert(std::string(name)).second)
      fail(errc::bad_value, 0, "export: tensor '" + std::string(name) + "' written twice");
    const std::string path = (fs::path(dir_) / (file_stem(name) + ".npy")).string();
    bytes_ += npy_write(path, a);
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
