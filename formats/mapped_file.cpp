#include "formats/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "formats/error.h"

namespace gb {

std::shared_ptr<const mapped_file> mapped_file::open(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) fail(errc::not_found, 0, "no such file: " + path);
    fail(errc::io, 0, "cannot stat " + path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) fail(errc::is_directory, 0, path + " is a directory, not a file");
  if (!S_ISREG(st.st_mode)) fail(errc::io, 0, path + " is not a regular file");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(errc::io, 0, "cannot open " + path + ": " + std::strerror(errno));
  // the descriptor's own identity and size: the path may have been replaced since the stat above
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    fail(errc::io, 0, "cannot stat " + path + ": " + std::strerror(e));
  }
  std::shared_ptr<mapped_file> m(new mapped_file());
  m->path_ = path;
  m->size_ = static_cast<uint64_t>(st.st_size);
  m->dev_ = static_cast<uint64_t>(st.st_dev);
  m->ino_ = static_cast<uint64_t>(st.st_ino);
  if (m->size_ > 0) {
    void* p = ::mmap(nullptr, m->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      fail(errc::io, 0, "cannot map " + path + ": " + std::strerror(e));
    }
    m->data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return m;
}

bool mapped_file::same_file(int fd) const {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_dev) == dev_ &&
         static_cast<uint64_t>(st.st_ino) == ino_ && static_cast<uint64_t>(st.st_size) == size_;
}

mapped_file::~mapped_file() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

void mapped_file::advise_sequential() const {
  if (data_) ::madvise(const_cast<uint8_t*>(data_), size_, MADV_SEQUENTIAL);
}

void mapped_file::advise_hugepage() const {
#if defined(MADV_HUGEPAGE)
  if (data_) ::madvise(const_cast<uint8_t*>(data_), size_, MADV_HUGEPAGE);
#endif
}

void mapped_file::advise_dontneed(uint64_t offset, uint64_t length) const {
  if (!data_ || offset >= size_) return;
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  uint64_t begin = offset / page * page;
  uint64_t end = offset + length > size_ ? size_ : offset + length;
  end = end / page * page;
  if (end > begin) ::madvise(const_cast<uint8_t*>(data_) + begin, end - begin, MADV_DONTNEED);
}

void mapped_file::advise_populate(uint64_t offset, uint64_t length) const {
#if defined(MADV_POPULATE_READ)
  if (!data_ || offset >= size_) return;
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t begin = offset / page * page;
  const uint64_t end = offset + length > size_ ? size_ : offset + length;
  if (end > begin) ::madvise(const_cast<uint8_t*>(data_) + begin, end - begin, MADV_POPULATE_READ);
#else
  (void)offset, (void)length;
#endif
}

}  // namespace gb
