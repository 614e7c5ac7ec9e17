// inspect/forward_layout.cpp: the file-format facts the forward pass depends on (see forward_layout.h).
#include "inspect/forward_layout.h"

namespace gb {

forward_layout forward_layout_of(const model& m) {
  forward_layout f;
  const bool gguf = m.source && m.source->format == file_format::gguf;
  for (const role_entry& e : m.roles)
    if (e.role == role_kind::attn_qkv && e.qkv_per_head) f.qkv = qkv_layout::per_head;
  if (!gguf && m.family == arch_family::falcon) f.qkv = qkv_layout::grouped;
  f.norm_plus_one = !gguf && m.family == arch_family::gemma;
  return f;
}

}  // namespace gb
