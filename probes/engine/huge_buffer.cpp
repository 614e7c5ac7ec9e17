#include "probes/engine/huge_buffer.h"

#include <sys/mman.h>

#include <new>
#include <utility>

namespace gb::engine {

namespace {
constexpr size_t huge_page = size_t{2} << 20;
}

huge_buffer::huge_buffer(huge_buffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}

huge_buffer& huge_buffer::operator=(huge_buffer&& o) noexcept {
  if (this != &o) {
    release();
    data_ = std::exchange(o.data_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

huge_buffer::~huge_buffer() {
  release();
}

void huge_buffer::release() {
  huge_unmap(data_, bytes_);
  data_ = nullptr;
  bytes_ = 0;
}

size_t huge_size(size_t n) {
  return (n + huge_page - 1) / huge_page * huge_page;
}

uint8_t* huge_map(size_t n) {
  if (n > SIZE_MAX - 2 * huge_page) throw std::bad_alloc();
  const size_t want = huge_size(n), mapped = want + huge_page;
  void* p = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  // the 2 MiB-aligned part kept, the rest (less than a huge page either side) unmapped
  const uintptr_t at = reinterpret_cast<uintptr_t>(p), a = (at + huge_page - 1) & ~(huge_page - 1);
  if (a > at) ::munmap(p, a - at);
  if (at + mapped > a + want) ::munmap(reinterpret_cast<void*>(a + want), at + mapped - (a + want));
#if defined(MADV_HUGEPAGE)
  ::madvise(reinterpret_cast<void*>(a), want, MADV_HUGEPAGE);  // advice only: 4 KiB pages where refused
#endif
  return reinterpret_cast<uint8_t*>(a);
}

void huge_unmap(void* p, size_t n) {
  if (p) ::munmap(p, huge_size(n));
}

uint8_t* huge_buffer::reserve(size_t n) {
  if (n <= bytes_ && data_) return data_;
  release();
  if (n == 0) return nullptr;
  data_ = huge_map(n);
  bytes_ = huge_size(n);
  return data_;
}

}  // namespace gb::engine
