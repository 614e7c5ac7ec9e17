// probes/engine/const_dispatch.h: a runtime count handed to a kernel templated on it (tile rows, head-dim
// blocks), one line instead of a switch with a case per value.
//
//   if (!gb::engine::const_dispatch<5>(rows, [&](auto r) { tile_kernel<decltype(r)::value>(x, y); }))
//     tile_kernel<0>(x, y);                          // rows outside [1, 5]: the caller's fallback
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

namespace gb::engine {

// Calls f(std::integral_constant<int, v>{}) when 1 <= v <= N and returns true; false (f not called) else.
template <int N, class F>
inline bool const_dispatch(int64_t v, F&& f) {
  return [&]<int... I>(std::integer_sequence<int, I...>) {
    return ((v == I + 1 ? (f(std::integral_constant<int, I + 1>{}), true) : false) || ...);
  }
  (std::make_integer_sequence<int, N>{});
}

}  // namespace gb::engine
