// formats/mapped_file.h: a read-only memory map of one file. Tensor views point into it.
//
//   auto m = gb::mapped_file::open("model.safetensors");   // throws gb::failure
//   const uint8_t* p = m->data(); uint64_t n = m->size();
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace gb {

class mapped_file {
 public:
  // Errors: not_found, is_directory, io. An empty file maps to size 0 (data() == nullptr): the caller
  // decides whether that is an error (loaders report empty_file).
  static std::shared_ptr<const mapped_file> open(const std::string& path);
  ~mapped_file();
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // True when the open file descriptor fd is the file this map was made from (same device and inode) and
  // still has the mapped size: reading it gives the mapped bytes.
  bool same_file(int fd) const;

  // Hint the kernel to read ahead (sequential) or drop pages after a streamed pass.
  void advise_sequential() const;
  void advise_dontneed(uint64_t offset, uint64_t length) const;
  // For a file read whole (the engine's weights): where the kernel caches files in large folios (Linux
  // 6.x, ext4/xfs), the pages read in through this map after it come as 2 MiB folios, mapped (now and by
  // later processes) with 2 MiB pages, one translation per 2 MiB on first touch instead of 512
  // (writers.cpp's out_file says what that saves). Not by default: a fault then reads ahead 4 MiB, too
  // much for a reader that samples a few pages of a large file.
  void advise_hugepage() const;
  // Maps the pages of [offset, offset + length) in one call (MADV_POPULATE_READ, Linux 5.14+; a no-op where
  // the kernel lacks it) instead of one page fault per 64 KiB on first touch.
  void advise_populate(uint64_t offset, uint64_t length) const;

 private:
  mapped_file() = default;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  std::string path_;
  uint64_t dev_ = 0, ino_ = 0;  // of the mapped file (fstat of the descriptor it was mapped from)
};

using mapped_file_ptr = std::shared_ptr<const mapped_file>;

}  // namespace gb
