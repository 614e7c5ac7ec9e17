// inspect/onnx_arch.h: recognise a decoder in an ONNX export whose initializer names say nothing
// ("onnx::MatMul_1233", "tok", "rms_final"), by following the op graph.
//
// What is read from the graph (archive::graph), in node order:
//   * token embedding: a Gather whose data input is a 2-D initializer [vocab, dim] (indices computed);
//   * norms: Mul by a 1-D initializer [dim] after an RMS pattern (ReduceMean of Pow/Mul, then Sqrt/Div or
//     Reciprocal/Rsqrt), or LayerNormalization / RMSNormalization / SimplifiedLayerNormalization ops;
//   * projections: MatMul with a 2-D initializer as second input (stored [in, out], so role_entry::transposed
//     is set) or Gemm (transposed unless transB=1); a following Add by a 1-D initializer is its bias.
//   A norm read by three projections opens block N (attn_norm, q, k, v in node order); the next projection
//   is attn.o; a norm read by two projections is ffn_norm with gate (its output feeds Sigmoid / an
//   activation) and up; the next projection is mlp.down. A norm read by one projection of width vocab is
//   output_norm with the output head. Every block must hold the same roles with the same shapes, else nothing
//   matches. Heads: the Reshape right after q (k) splits it into [..., heads, head_dim]; its shape comes from
//   a Constant, an int64 initializer, or a Concat of dynamic dims and Constants (values kept by the loader
//   for small integer tensors). When no such constant is found n_head stays 0 (unknown; not guessed).
//
//   std::optional<gb::onnx_arch> r = gb::onnx_arch_recognise(archive);
//   if (r) { r->architecture;  /* "llama" */  r->roles;  /* canonical roles, transposed set */ r->n_layer; }
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "formats/archive.h"
#include "inspect/model.h"

namespace gb {

struct onnx_arch {
  std::string architecture;  // "llama", "qwen2" (q/k/v biases)
  arch_family family = arch_family::unknown;
  std::vector<role_entry> roles;  // archive order
  std::vector<size_t> unmapped;   // archive tensor indices with no role
  int64_t n_layer = 0, n_embd = 0, n_ff = 0, n_vocab = 0;
  int64_t n_head = 0, n_head_kv = 0;  // from the Reshape after q / k (0 = not readable)
  bool rotate_half = false;           // RoPE by rotate-half (Neg of a half): HF layout, q/k rows permuted
  act_kind act = act_kind::silu;
  norm_kind norm = norm_kind::rms;
};

// nullopt when the archive has no op graph or the graph does not follow the pattern (no change then).
std::optional<onnx_arch> onnx_arch_recognise(const archive& a);

}  // namespace gb
