// formats/torch_writer.h: writes torch.save zip checkpoints (what `torch.load` reads), deterministically.
// Fixtures for the PyTorch loader (Meta releases, model-parallel shards, training checkpoints with
// optimizer state and pickled config objects) and `glassbox` exports to Meta's layout use it.
// The pickle is protocol 2 as torch.save emits it: tensors are torch._utils._rebuild_tensor_v2 calls
// over persistent-id storages "archive/data/<k>"; an object is its class, NEWOBJ, then BUILD with its
// state dict (what a dataclass or argparse.Namespace pickles as).
//
//   std::vector<gb::tensor_data> ts = {{"w", gb::dtype::f32, {2, 3}, bytes}};
//   gb::torch_node sd = gb::torch_node::dict({{"w", gb::torch_node::tensor(0)}});
//   gb::torch_node root = gb::torch_node::dict({{"model", sd}, {"step", gb::torch_node::integer(100)}});
//   gb::pytorch_write("ckpt.pt", root, ts);
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "formats/tagged_make.h"
#include "formats/writers.h"

namespace gb {

struct torch_node;
// One dict entry or object attribute (a struct, not std::pair: clang cannot instantiate a pair of the
// still-incomplete torch_node).
struct torch_entry;

struct torch_node {
  enum class kind : uint8_t { none, boolean, integer, floating, string, dict, list, tensor, object };
  kind k = kind::none;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                   // string; object: module
  std::string name;                // object: class name
  size_t tensor_index = 0;         // tensor: index into the tensors
  std::vector<torch_entry> items;  // dict entries / object state, in order
  std::vector<torch_node> list;

  // Builders, defined after torch_entry.
  static torch_node none();
  static torch_node boolean(bool v);
  static torch_node integer(int64_t v);
  static torch_node floating(double v);
  static torch_node string(std::string v);
  static torch_node tensor(size_t index);
  static torch_node dict(std::vector<torch_entry> v);
  static torch_node object(std::string module, std::string cls, std::vector<torch_entry> state);
};

struct torch_entry {
  std::string first;
  torch_node second;
};

inline torch_node torch_node::none() {
  return {};
}
inline torch_node torch_node::boolean(bool v) {
  return tagged_make(kind::boolean, &torch_node::b, v);
}
inline torch_node torch_node::integer(int64_t v) {
  return tagged_make(kind::integer, &torch_node::i, v);
}
inline torch_node torch_node::floating(double v) {
  return tagged_make(kind::floating, &torch_node::f, v);
}
inline torch_node torch_node::string(std::string v) {
  return tagged_make(kind::string, &torch_node::s, std::move(v));
}
inline torch_node torch_node::tensor(size_t index) {
  return tagged_make(kind::tensor, &torch_node::tensor_index, index);
}
inline torch_node torch_node::dict(std::vector<torch_entry> v) {
  return tagged_make(kind::dict, &torch_node::items, std::move(v));
}
inline torch_node torch_node::object(std::string module, std::string cls, std::vector<torch_entry> state) {
  torch_node n;
  n.k = kind::object;
  n.s = std::move(module);
  n.name = std::move(cls);
  n.items = std::move(state);
  return n;
}

// A state dict of every tensor, by its own name (tensor i under tensors[i].name).
torch_node torch_state_dict(const std::vector<tensor_data>& tensors);

// Writes the zip (entries "archive/data.pkl", "archive/byteorder", "archive/data/<k>", "archive/version";
// storages 64-byte aligned and stored, as torch.save does). Each tensor gets its own storage. Supported
// tensor dtypes: f32 f16 bf16 f64 i64 i32 i16 i8 u8 bool. Throws gb::failure (bad_value, io).
void pytorch_write(const std::string& path, const torch_node& root, const std::vector<tensor_data>& tensors);

}  // namespace gb
