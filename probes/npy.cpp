#include "probes/npy.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

namespace gb::probes {

namespace {

namespace fs = std::filesystem;

uint64_t elements(const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d < 0 ? 0 : d);
  return n;
}

void write_all(std::FILE* f, const void* p, size_t n, const std::string& path) {
  if (n && std::fwrite(p, 1, n, f) != n) fail(errc::io, 0, "cannot write " + path);
}

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
  void put(std::string_view name, const float* data, const std::vector<int64_t>& shape) override {
    if (!seen_.insert(std::string(name)).second)
      fail(errc::bad_value, 0, "export: tensor '" + std::string(name) + "' written twice");
    const std::string path = (fs::path(dir_) / (file_stem(name) + ".npy")).string();
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) fail(errc::io, 0, "cannot create " + path);
    const std::string h = npy_header(shape);
    const size_t n = static_cast<size_t>(elements(shape)) * sizeof(float);
    bool ok =
        std::fwrite(h.data(), 1, h.size(), f) == h.size() && (n == 0 || std::fwrite(data, 1, n, f) == n);
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

class safetensors_stream : public activation_writer {
 public:
  safetensors_stream(std::string path, std::FILE* tmp, std::string tmp_path)
      : path_(std::move(path)), tmp_(tmp), tmp_path_(std::move(tmp_path)) {}
  ~safetensors_stream() override {
    if (tmp_) std::fclose(tmp_);
    std::error_code ec;
    fs::remove(tmp_path_, ec);
  }
  void put(std::string_view name, const float* data, const std::vector<int64_t>& shape) override {
    if (!tmp_) fail(errc::bad_value, 0, "export: writer already finished");
    if (!seen_.insert(std::string(name)).second)
      fail(errc::bad_value, 0, "export: tensor '" + std::string(name) + "' written twice");
    const uint64_t n = elements(shape) * sizeof(float);
    write_all(tmp_, data, static_cast<size_t>(n), tmp_path_);
    entries_.push_back({std::string(name), shape, offset_, offset_ + n});
    offset_ += n;
  }
  result<uint64_t> finish() override {
    if (!tmp_) return error{errc::bad_value, 0, "export: writer already finished", path_};
    nlohmann::ordered_json h = nlohmann::ordered_json::object();
    h["__metadata__"] = {{"format", "pt"}, {"producer", "glassbox trace"}};
    for (const entry& e : entries_)
      h[e.name] = {{"dtype", "F32"}, {"shape", e.shape}, {"data_offsets", {e.begin, e.end}}};
    std::string text = h.dump();
    while ((text.size() + 8) % 8 != 0) text.push_back(' ');  // data starts 8-byte aligned
    if (std::fflush(tmp_) != 0) return error{errc::io, 0, "cannot write " + tmp_path_, tmp_path_};
    std::FILE* out = std::fopen(path_.c_str(), "wb");
    if (!out) return error{errc::io, 0, "cannot create " + path_, path_};
    bool ok = true;
    uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
    ok = ok && std::fwrite(len, 1, 8, out) == 8 &&
         std::fwrite(text.data(), 1, text.size(), out) == text.size();
    std::rewind(tmp_);
    std::vector<char> buf(1 << 20);
    for (size_t got; ok && (got = std::fread(buf.data(), 1, buf.size(), tmp_)) > 0;)
      ok = std::fwrite(buf.data(), 1, got, out) == got;
    ok = ok && !std::ferror(tmp_);
    ok = std::fclose(out) == 0 && ok;
    std::fclose(tmp_);
    tmp_ = nullptr;
    std::error_code ec;
    fs::remove(tmp_path_, ec);
    if (!ok) return error{errc::io, 0, "cannot write " + path_, path_};
    return 8 + text.size() + offset_;
  }
  std::vector<std::string> files() const override { return {path_}; }

 private:
  struct entry {
    std::string name;
    std::vector<int64_t> shape;
    uint64_t begin, end;
  };
  std::string path_;
  std::FILE* tmp_;
  std::string tmp_path_;
  std::set<std::string> seen_;
  std::vector<entry> entries_;
  uint64_t offset_ = 0;
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
    const std::string tmp = path + ".data.tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "w+b");
    if (!f) return error{errc::io, 0, "cannot create " + tmp, path};
    return std::unique_ptr<activation_writer>(new safetensors_stream(path, f, tmp));
  }
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec || !fs::is_directory(path)) return error{errc::io, 0, "cannot create folder " + path, path};
  return std::unique_ptr<activation_writer>(new npy_folder(path));
}

}  // namespace gb::probes
