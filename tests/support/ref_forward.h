// tests/support/ref_forward.h: the one independent reference forward pass of the test suites, in double
// precision, and the reader of the .npy reference dumps it is compared with.
//
// Written from the papers and the Hugging Face modelling code, not from the engine: every role tensor is
// read through the canonical reader (inspect/tensor_values.h: [out, in], interleaved q/k, [q | k | v],
// Gemma gains 1 + w, dequantised as ggml), every sum is in double, the model's own activation (exact erf
// GELU, tanh GELU, SiLU, ReLU), RMSNorm or LayerNorm, RoPE (interleaved or NeoX halves, partial n_rot),
// learned positions or ALiBi, sequential or parallel blocks, grouped kv heads, tied output. The engine
// tests (tests/engine/test_forward.cpp) and the trace tests (tests/probes/test_trace.cpp) use it.
//
//   gb::test::ref_forward ref(model);                        // decodes the weights once
//   gb::test::ref_result r = ref.run({1, 403, 407});         // from position 0
//   r.logits[t * V + v];  r.resid_post[layer][t][i];
//   gb::test::npy_array a = gb::test::npy_read(path);        // a.shape, a.v (doubles)
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "inspect/model.h"
#include "inspect/tensor_values.h"

namespace gb::test {

// A .npy file (format 1.x / 2.x, little-endian '<f4', '<i4' or '<i8', C order) as doubles. Anything else
// fails the running test.
struct npy_array {
  std::vector<int64_t> shape;
  std::vector<double> v;  // prod(shape) values, row-major
};
npy_array npy_read(const std::string& path);

struct ref_result {
  std::vector<double> logits;                                // (T, V)
  std::vector<std::vector<std::vector<double>>> resid_post;  // (L)(T)(D): residual stream after each block
};

class ref_forward {
 public:
  explicit ref_forward(const model& m);

  // Logits and per-layer residuals of ids from position 0 (REQUIREs every id < n_vocab).
  ref_result run(const std::vector<int32_t>& ids) const;

  int64_t D, H, Hk, E, F, V, n_rot;  // width, heads, kv heads, head dim, MLP width, vocabulary, rotary dims

 private:
  const model& m_;
  double eps_;
  bool
      interleaved_;  // RoPE pairs (2i, 2i + 1) of the canonical q/k rows, else NeoX halves (i, i + n_rot / 2)
  std::vector<tensor_item> items_;
  std::map<size_t, std::vector<double>> w_;  // archive tensor index -> canonical values

  // The canonical values of a role ([out, in] row-major for matrices), empty when the model has none.
  const std::vector<double>& w(role_kind r, int layer, bool bias = false) const;
  std::vector<double> norm(const std::vector<double>& x, role_kind r, int layer) const;
  double act(double x) const;
  void rotate(double* v, int64_t pos) const;  // one head (E values)
  double alibi(int64_t head) const;           // BLOOM's slope
};

}  // namespace gb::test
