// formats/meta_layout.h: Meta's model-parallel split rule (llama/model.py with fairscale), shared by the
// Meta folder loader (which merges consolidated.NN.pth shards) and the exporter to Meta's layout.
//
//   gb::meta_split_dim("layers.3.attention.wq.weight");   // 0: ColumnParallelLinear, sliced by rows
//   gb::meta_split_dim("layers.3.attention.wo.weight");   // 1: RowParallelLinear, sliced by columns
//   gb::meta_split_dim("layers.3.ffn_norm.weight");       // -1: replicated in every shard
#pragma once

#include <string_view>

namespace gb {

// 0 for wq wk wv w1 w3 output (column-parallel), 1 for wo w2 and tok_embeddings (row-parallel;
// ParallelEmbedding splits the embedding dimension), -1 for everything else (replicated).
int meta_split_dim(std::string_view name);

}  // namespace gb
