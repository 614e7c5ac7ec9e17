// inspect/graph_fold.h: repeated blocks of an ONNX op graph found from its structure alone (no names), for
// exports whose ops are called "/MatMul_12" and whose weights "onnx::MatMul_1233".
//
// How (all linear or close to it in the node count):
//  1. Nodes in a topological order (file order where it is one). "Main" nodes carry activations: they read a
//     weight-like initializer or a graph input, or a value a main node computed (Shape/Size outputs are
//     metadata, so the shape arithmetic hanging off them is not main).
//  2. Cut points: boundaries in that order where at most one main value is live (produced before, consumed
//     after): the residual stream between transformer half-blocks, the activation between CNN stages.
//     Main nodes between two cuts form a segment; a side node (shape arithmetic, masks) whose consumers all
//     sit in one segment joins it, one shared by several segments stays outside.
//  3. Each segment gets a signature: the sorted multiset of its nodes' hashes, where a node's hash covers op,
//     domain, attributes, initializer shapes+dtypes (not names) and, recursively, its producers inside the
//     segment (producers outside are just "outside").
//  4. The longest run of k >= 2 consecutive equal units of L segments (most segments covered, then smaller
//     L) is one repeated block "x k"; the parts left and right are searched again for further runs.
//     A unit needs at least two main ops. Nodes of copies 1..k-1 map to the copy-0 node with the same
//     (segment in unit, hash, occurrence).
//
//   gb::structural_folding f = gb::fold_onnx_structure(archive);
//   f.runs.size();          // repeated blocks found (stories260K.onnx: 1 run of 5 copies)
//   f.run[i], f.copy[i];    // node i: which run (-1 = none) and which copy of it
//   f.rep[i];               // node i's copy-0 counterpart (i itself outside runs and in copy 0)
#pragma once

#include <cstddef>
#include <vector>

#include "formats/archive.h"

namespace gb {

struct fold_run {
  int copies = 0;             // k
  size_t ops_per_copy = 0;    // nodes in one copy (main and attached side nodes)
  size_t first_node_pos = 0;  // topological position of copy 0's first main node (runs are sorted by it)
};

struct structural_folding {
  std::vector<int> run;     // per node: index into runs, or -1
  std::vector<int> copy;    // per node: copy index within its run, or -1
  std::vector<size_t> rep;  // per node: its copy-0 counterpart (itself when not folded)
  std::vector<fold_run> runs;
  // per node: shape arithmetic (Shape/Size, and index/shape ops fed by no activation) whose every consumer
  // is another such node or reads it as a parameter (a Reshape shape, Expand size, Gather index ...).
  // The folded drawing leaves these out; --expand draws them.
  std::vector<char> shape_only;
};

structural_folding fold_onnx_structure(const archive& a);

}  // namespace gb
