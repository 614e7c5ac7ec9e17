// huge_map / huge_buffer / huge_vector (probes/engine/huge_buffer.h, kernels.h): whole 2 MiB pages,
// 2 MiB-aligned; a huge_vector below huge_min on aligned_allocator's 64-byte lines, from it on its own
// mapping; contents kept when it grows across that bound; resize() does not write the elements it adds.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <numeric>
#include <utility>

#include "probes/engine/kernels.h"

using namespace gb;

namespace {

constexpr size_t huge_page = size_t{2} << 20;

uintptr_t address(const void* p) {
  return reinterpret_cast<uintptr_t>(p);
}

}  // namespace

TEST_CASE("huge_map: whole 2 MiB pages, 2 MiB-aligned, writable") {
  CHECK(engine::huge_size(1) == huge_page);
  CHECK(engine::huge_size(huge_page) == huge_page);
  CHECK(engine::huge_size(huge_page + 1) == 2 * huge_page);
  const size_t n = 3 * huge_page + 5;
  uint8_t* p = engine::huge_map(n);
  REQUIRE(p != nullptr);
  CHECK(address(p) % huge_page == 0);
  p[0] = 1, p[engine::huge_size(n) - 1] = 2;  // the whole rounded size is mapped
  CHECK(p[0] + p[engine::huge_size(n) - 1] == 3);
  engine::huge_unmap(p, n);
  CHECK_THROWS_AS(engine::huge_map(SIZE_MAX - huge_page), std::bad_alloc);
}

TEST_CASE("huge_buffer: kept while big enough, else a new one") {
  engine::huge_buffer b;
  CHECK(b.data() == nullptr);
  float* f = b.reserve_as<float>(1000);
  CHECK(address(f) % huge_page == 0);
  CHECK(b.size() == huge_page);
  CHECK(b.reserve_as<float>(huge_page / sizeof(float)) == f);
  b.reserve(huge_page + 1);
  CHECK(b.size() == 2 * huge_page);
  engine::huge_buffer moved(std::move(b));
  CHECK(b.data() == nullptr);
  CHECK(moved.size() == 2 * huge_page);
}

TEST_CASE("huge_vector: 64-byte lines below huge_min, 2 MiB pages from it, contents kept as it grows") {
  using alloc = engine::huge_allocator<float>;
  constexpr size_t mib = size_t{1} << 20;
  const size_t small = mib / sizeof(float) / 4, big = mib / sizeof(float) * 3;
  // sanitized builds: huge_min is SIZE_MAX, every buffer on 64-byte lines
  const size_t big_align = alloc::huge_min <= big * sizeof(float) ? huge_page : 64;
  MESSAGE("huge_min " << alloc::huge_min);
  engine::huge_vector<float> v(small);
  CHECK(address(v.data()) % 64 == 0);
  std::iota(v.begin(), v.end(), 0.0f);
  v.resize(big);  // onto a mapping of its own: the first `small` elements moved
  CHECK(address(v.data()) % big_align == 0);
  size_t bad = 0;
  for (size_t i = 0; i < small; ++i) bad += v[i] != static_cast<float>(i);
  CHECK(bad == 0);
  std::iota(v.begin(), v.end(), 1.0f);
  v.resize(3 * big);  // a bigger mapping
  CHECK(address(v.data()) % big_align == 0);
  for (size_t i = 0; i < big; ++i) bad += v[i] != static_cast<float>(i + 1);
  CHECK(bad == 0);
  engine::huge_vector<uint8_t> bytes(mib + 1);
  CHECK(address(bytes.data()) % big_align == 0);
}

TEST_CASE("huge_vector: resize writes nothing (no zero fill: pages stay untouched until used)") {
  engine::huge_vector<float> v(1 << 20);
  std::fill(v.begin(), v.end(), 7.0f);
  v.resize(1 << 10);
  v.resize(1 << 20);  // within the capacity: an aligned_vector would write zeros here
  size_t sevens = 0;
  for (float f : v) sevens += f == 7.0f;
  CHECK(sevens == v.size());
}
