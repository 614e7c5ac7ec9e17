// formats/safetensors_stream.cpp: safetensors appended tensor by tensor (see formats/safetensors_stream.h).
#include "formats/safetensors_stream.h"

#include <filesystem>

#include "formats/tensor.h"

namespace gb {

result<std::unique_ptr<safetensors_stream>> safetensors_stream::open(
    const std::string& path, std::vector<std::pair<std::string, std::string>> metadata) {
  const std::string tmp = path + ".data.tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w+b");
  if (!f) return error{errc::io, 0, "cannot create " + tmp, path};
  return std::unique_ptr<safetensors_stream>(new safetensors_stream(path, f, std::move(metadata)));
}

safetensors_stream::safetensors_stream(std::string path, std::FILE* tmp,
                                       std::vector<std::pair<std::string, std::string>> md)
    : path_(std::move(path)), tmp_path_(path_ + ".data.tmp"), tmp_(tmp), metadata_(std::move(md)) {}

safetensors_stream::~safetensors_stream() {
  if (tmp_) std::fclose(tmp_);
  std::error_code ec;
  std::filesystem::remove(tmp_path_, ec);
}

void safetensors_stream::put(std::string_view name, dtype type, const std::vector<int64_t>& shape,
                             const void* data) {
  if (!tmp_) fail(errc::bad_value, 0, "export: writer already finished");
  if (!seen_.insert(std::string(name)).second)
    fail(errc::bad_value, 0, "export: tensor '" + std::string(name) + "' written twice");
  const uint64_t n = dtype_row_bytes(type, shape_element_count(shape, 0));
  if (n && std::fwrite(data, 1, static_cast<size_t>(n), tmp_) != n)
    fail(errc::io, 0, "cannot write " + tmp_path_);
  entries_.push_back({std::string(name), type, shape, offset_, offset_ + n});
  offset_ += n;
}

result<uint64_t> safetensors_stream::finish() {
  if (!tmp_) return error{errc::bad_value, 0, "export: writer already finished", path_};
  const std::string head = safetensors_header(entries_, metadata_);
  if (std::fflush(tmp_) != 0) return error{errc::io, 0, "cannot write " + tmp_path_, tmp_path_};
  std::FILE* out = std::fopen(path_.c_str(), "wb");
  if (!out) return error{errc::io, 0, "cannot create " + path_, path_};
  bool ok = std::fwrite(head.data(), 1, head.size(), out) == head.size();
  std::rewind(tmp_);
  std::vector<char> buf(1 << 20);  // (1 MiB) copy buffer
  for (size_t got; ok && (got = std::fread(buf.data(), 1, buf.size(), tmp_)) > 0;)
    ok = std::fwrite(buf.data(), 1, got, out) == got;
  ok = ok && !std::ferror(tmp_);
  ok = std::fclose(out) == 0 && ok;
  std::fclose(tmp_);
  tmp_ = nullptr;
  std::error_code ec;
  std::filesystem::remove(tmp_path_, ec);
  if (!ok) return error{errc::io, 0, "cannot write " + path_, path_};
  return head.size() + offset_;
}

}  // namespace gb
