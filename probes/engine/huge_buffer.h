// probes/engine/huge_buffer.h: the owner of the engine's large, long-lived buffers (the load-time repacked
// weights, repack.h; a scorer's logits rows, probes/lm_scorer.cpp): anonymous memory 2 MiB-aligned and
// advised onto transparent huge pages where the kernel gives them on request (THP "madvise"). Not zeroed
// by us and untouched until written: each page is first touched by its writer. On this VM a fresh 4 KiB
// page's first-touch fault costs ~11 us (2.8 s a GiB), a fresh 2 MiB page ~1.2 s a GiB (the kernel's
// clear_page_erms, slow on pages the host has reclaimed) and a reused one 0.06 s a GiB. The engine's small
// working buffers are aligned_vector (kernels.h: 64-byte lines, so results do not depend on where they
// land), those resized pass by pass huge_vector (kernels.h: on huge_map from 1 MiB on); this one is for
// sizes in MiB to GiB.
//
//   gb::engine::huge_buffer buf;                    // empty
//   buf.reserve_as<float>(T * V);                  // (T, V): kept while big enough, else a new one
//   float* logits = buf.data_as<float>();
//   gb::engine::huge_buffer w(bytes);               // bytes, or std::bad_alloc
//   uint8_t* p = gb::engine::huge_map(n);            // the mapping under both: huge_size(n) bytes
//   gb::engine::huge_unmap(p, n);
#pragma once

#include <cstddef>
#include <cstdint>

namespace gb::engine {

// n bytes rounded up to whole 2 MiB pages.
size_t huge_size(size_t n);
// huge_size(n) bytes of anonymous memory, 2 MiB-aligned, advised onto transparent huge pages, not touched;
// std::bad_alloc when it cannot be mapped (n > 0). huge_unmap takes the same n.
uint8_t* huge_map(size_t n);
void huge_unmap(void* p, size_t n);

class huge_buffer {
 public:
  huge_buffer() = default;
  explicit huge_buffer(size_t bytes) { reserve(bytes); }
  huge_buffer(huge_buffer&& o) noexcept;
  huge_buffer& operator=(huge_buffer&& o) noexcept;
  huge_buffer(const huge_buffer&) = delete;
  huge_buffer& operator=(const huge_buffer&) = delete;
  ~huge_buffer();

  // Room for n bytes: this buffer when it has them, else a new one (the contents dropped). Throws
  // std::bad_alloc when the memory cannot be mapped.
  uint8_t* reserve(size_t n);
  template <class T>
  T* reserve_as(size_t n) {
    return reinterpret_cast<T*>(reserve(n * sizeof(T)));
  }
  uint8_t* data() const { return data_; }
  template <class T>
  T* data_as() const {
    return reinterpret_cast<T*>(data_);
  }
  size_t size() const { return bytes_; }  // whole 2 MiB pages

 private:
  void release();
  uint8_t* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace gb::engine
