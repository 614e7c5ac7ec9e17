// probes/engine/activation_view.h: one activation tensor as hooks, patching and export see it: row-major
// float32 data and its shape, neither owned (valid while the tensor it points into lives, for a hook: during
// the call). The one spelling of "a tensor of the pass" between the engine and the probes: hook::observe
// takes an activation_view, hook::modify a mutable_activation_view (same type over float; it converts to the
// read-only one), activation_writer::put an activation_view. N-d work on it (probes/*.cpp) adapts it with
// xt::adapt, no copy.
//
//   bool observe(std::string_view name, gb::engine::activation_view a) override {  // a: (T, D)
//     for (int64_t r = 0; r < a.rows(); ++r) use(a.row(r), a.cols());
//     writer->put(name, a);
//     return true;
//   }
//   bool modify(std::string_view, gb::engine::mutable_activation_view a) override {
//     std::fill(a.data, a.data + a.size(), 0.0f);  // zero-ablate the point
//     return true;
//   }
#pragma once

#include <cstdint>
#include <span>
#include <type_traits>

namespace gb::engine {

template <class T>  // T: const float (read) or float (write)
struct basic_activation_view {
  T* data = nullptr;
  std::span<const int64_t> shape;  // row-major; a negative extent counts as 0

  // A writable view reads as a read-only one.
  operator basic_activation_view<const T>() const requires(!std::is_const_v<T>) { return {data, shape}; }
  int64_t size() const {  // elements
    int64_t n = 1;
    for (int64_t d : shape) n *= d < 0 ? 0 : d;
    return n;
  }
  int64_t rows() const { return shape.empty() ? 1 : (shape[0] < 0 ? 0 : shape[0]); }  // extent of axis 0
  int64_t cols() const { return rows() ? size() / rows() : 0; }  // elements of one row (axis 0 entry)
  T* row(int64_t r) const { return data + r * cols(); }
};

using activation_view = basic_activation_view<const float>;
using mutable_activation_view = basic_activation_view<float>;

}  // namespace gb::engine
