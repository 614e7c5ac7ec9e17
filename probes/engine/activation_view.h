// probes/engine/activation_view.h: one activation tensor as hooks, patching and export see it: row-major
// float32 data and its shape, neither owned (valid while the tensor it points into lives, for a hook: during
// the call). The one spelling of "a tensor of the pass" between the engine and the probes; N-d work on it
// (probes/*.cpp) adapts it with xt::adapt, no copy.
//
//   bool observe(std::string_view name, const float* t, const std::vector<int64_t>& shape) override {
//     const gb::engine::activation_view a{t, shape};   // (T, D)
//     for (int64_t r = 0; r < a.rows(); ++r) use(a.row(r), a.cols());
//     writer->put(name, a);
//   }
#pragma once

#include <cstdint>
#include <span>

namespace gb::engine {

struct activation_view {
  const float* data = nullptr;
  std::span<const int64_t> shape;  // row-major; a negative extent counts as 0

  int64_t size() const {  // elements
    int64_t n = 1;
    for (int64_t d : shape) n *= d < 0 ? 0 : d;
    return n;
  }
  int64_t rows() const { return shape.empty() ? 1 : (shape[0] < 0 ? 0 : shape[0]); }  // extent of axis 0
  int64_t cols() const { return rows() ? size() / rows() : 0; }  // elements of one row (axis 0 entry)
  const float* row(int64_t r) const { return data + r * cols(); }
};

}  // namespace gb::engine
