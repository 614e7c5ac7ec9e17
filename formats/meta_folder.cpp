// Meta's original LLaMA / LLaMA 2 release: a folder with params.json, consolidated.NN.pth and
// tokenizer.model.
//
//   params.json          -> metadata "params.<key>" (dim, n_layers, n_heads, n_kv_heads, vocab_size,
//                           multiple_of, ffn_dim_multiplier, norm_eps, rope_theta; read by model_build)
//   consolidated.00.pth  -> the weights, Meta's tensor names (interleaved RoPE rows, as GGUF)
//   consolidated.NN.pth  -> model-parallel shards (LLaMA 2 13B: 00..01, 70B: 00..07). Each holds a slice
//                           of the same tensors, cut by Meta's fairscale layers:
//                             column-parallel (ColumnParallelLinear: wq wk wv w1 w3 output): dim 0
//                             row-parallel (RowParallelLinear: wo w2) and tok_embeddings
//                               (ParallelEmbedding splits the embedding dimension): dim 1
//                             everything else (attention_norm, ffn_norm, norm, rope.freqs): replicated,
//                               and checked byte-equal across shards
//                           The shards are one model: each split tensor is a split view (tensor_view::
//                           pieces, formats/tensor.h) over its slices in the mapped shards, read in place
//                           row by row (tensor_row) or in pieces by the engine's matmul; nothing is
//                           copied, so opening costs no memory and a streamed pass (hash, stats) holds
//                           one tensor's pages at a time. Replicated tensors stay views into shard 00.
// A shard set that is not one model fails with one line naming the shard: a number missing from
// 00..NN, a number twice (consolidated.1.pth beside consolidated.01.pth), a shard that repeats
// another's slices, a tensor absent from a shard, slices whose shapes or dtypes do not add up, and
// replicated tensors that differ.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "formats/json_meta.h"
#include "formats/loaders.h"
#include "formats/meta_layout.h"
#include "formats/meta_make.h"
#include "formats/reader.h"

namespace gb {

// llama/model.py: ColumnParallelLinear (wq wk wv w1 w3 output), RowParallelLinear (wo w2),
// ParallelEmbedding (tok_embeddings, split along the embedding dimension).
int meta_split_dim(std::string_view name) {
  auto ends = [&](std::string_view t) {
    return name.size() >= t.size() && name.substr(name.size() - t.size()) == t;
  };
  for (std::string_view t : {"attention.wq.weight", "attention.wk.weight", "attention.wv.weight",
                             "feed_forward.w1.weight", "feed_forward.w3.weight"})
    if (ends(t)) return 0;
  if (name == "output.weight") return 0;
  if (ends("attention.wo.weight") || ends("feed_forward.w2.weight") || name == "tok_embeddings.weight")
    return 1;
  return -1;
}

}  // namespace gb

namespace gb::loaders {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t k_max_params_json = uint64_t{1} << 20;
constexpr int k_max_shards = 1024;

enum class split { rows, cols, replicated };

split split_rule(std::string_view name) {
  int d = meta_split_dim(name);
  return d == 0 ? split::rows : d == 1 ? split::cols : split::replicated;
}

struct shard {
  int index = 0;
  std::string file;  // file name, for messages
  archive ar;
};

std::string shard_file(int index, int width) {
  std::string n = std::to_string(index);
  if (static_cast<int>(n.size()) < width) n.insert(0, static_cast<size_t>(width) - n.size(), '0');
  return "consolidated." + n + ".pth";
}

// consolidated.<digits>.pth -> its number; -1 for any other name.
int shard_number(const std::string& name) {
  const std::string pre = "consolidated.", post = ".pth";
  if (name.size() <= pre.size() + post.size() || name.compare(0, pre.size(), pre) != 0 ||
      !name.ends_with(post))
    return -1;
  std::string digits = name.substr(pre.size(), name.size() - pre.size() - post.size());
  if (digits.empty() || digits.size() > 4) return -1;
  for (char c : digits)
    if (c < '0' || c > '9') return -1;
  return std::stoi(digits);
}

void params_add(archive& a, const fs::path& p) {
  mapped_file_ptr m = mapped_file::open(p.string());
  a.files.push_back({p.string(), "config", file_format::json, m});
  if (m->size() > k_max_params_json) fail(errc::limit, 0, "Meta folder: params.json is larger than 1 MiB");
  std::string_view text(reinterpret_cast<const char*>(m->data()), m->size());
  meta_value v = meta_from_json_text(text, 0, "params.json");
  if (v.k != meta_value::kind::object) fail(errc::bad_json, 0, "params.json: top level is not an object");
  for (auto& [k, x] : v.obj) a.metadata.emplace_back("params." + k, std::move(x));
}

// The shards of the folder, numbered 00..NN without gaps or repeats (else one error naming the file).
std::vector<std::pair<int, fs::path>> shard_paths(const fs::path& dir) {
  std::map<int, std::vector<std::string>> by_number;
  std::error_code ec;
  int width = 2;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    int n = shard_number(name);
    if (n < 0) continue;
    if (n >= k_max_shards)
      fail(errc::limit, 0,
           "Meta folder: " + name + ": more than " + std::to_string(k_max_shards) + " shards");
    width = std::max(width, static_cast<int>(name.size() - std::string("consolidated..pth").size()));
    by_number[n].push_back(name);
  }
  if (by_number.empty())
    fail(errc::not_found, 0,
         "Meta folder: params.json but no consolidated.NN.pth weights in " + dir.string());
  for (auto& [n, names] : by_number)
    if (names.size() > 1) {
      std::sort(names.begin(), names.end());
      fail(errc::duplicate, 0,
           "Meta folder: shard " + std::to_string(n) + " appears twice (" + names[0] + ", " + names[1] +
               "); keep one");
    }
  const int count = by_number.rbegin()->first + 1;
  std::vector<std::pair<int, fs::path>> out;
  for (int i = 0; i < count; ++i) {
    auto it = by_number.find(i);
    if (it == by_number.end()) {
      std::string found;
      for (const auto& [n, names] : by_number) found += (found.empty() ? "" : ", ") + names[0];
      fail(errc::not_found, 0,
           "Meta folder: " + shard_file(i, width) + " is missing (found " + found +
               "; model-parallel shards are numbered " +
               shard_file(0, width).substr(13, static_cast<size_t>(width)) + ".." +
               shard_file(count - 1, width).substr(13, static_cast<size_t>(width)) + " without gaps)");
    }
    out.emplace_back(i, dir / it->second[0]);
  }
  return out;
}

const mapped_file* file_of(const archive& a, const tensor_view& t) {
  return t.file_index < a.files.size() ? a.files[t.file_index].map.get() : nullptr;
}

// The slices of tensor `name` (one per shard), checked: present, same dtype and rank 2 for split
// tensors, bytes mapped and contiguous, the dimension not split equal everywhere.
std::vector<const tensor_view*> slices_of(const std::vector<shard>& sh,
                                          const std::vector<std::map<std::string, size_t>>& idx,
                                          const tensor_view& t0, split rule) {
  std::vector<const tensor_view*> out;
  for (size_t k = 0; k < sh.size(); ++k) {
    auto it = idx[k].find(t0.name);
    if (it == idx[k].end())
      fail(errc::mismatch, 0,
           "model-parallel shards: tensor '" + t0.name + "' is in " + sh[0].file + " but not in " +
               sh[k].file);
    const tensor_view& t = sh[k].ar.tensors[it->second];
    const std::string who = "model-parallel shards: tensor '" + t0.name + "' in " + sh[k].file;
    if (!t.available())
      fail(errc::unsupported, t.file_offset, who + ": bytes not mapped (compressed or big-endian storage)");
    if (!t.contiguous()) fail(errc::unsupported, t.file_offset, who + ": strided storage cannot be merged");
    if (t.type != t0.type)
      fail(errc::mismatch, t.file_offset,
           who + " is " + dtype_name(t.type) + ", " + sh[0].file + " has " + dtype_name(t0.type));
    if (rule == split::replicated) {
      if (t.shape != t0.shape || t.nbytes != t0.nbytes || std::memcmp(t.data, t0.data, t0.nbytes) != 0)
        fail(errc::mismatch, t.file_offset,
             who + " differs from " + sh[0].file + "'s (a replicated tensor must be equal in every shard)");
    } else {
      const size_t keep = rule == split::rows ? 1 : 0;
      if (t.shape.size() != 2 || t0.shape.size() != 2 || t.shape[keep] != t0.shape[keep])
        fail(errc::mismatch, t.file_offset,
             who + " has shape " + shape_string(t.shape) + ", " + sh[0].file + " " + shape_string(t0.shape) +
                 ": the slices do not add up along dim " + std::to_string(rule == split::rows ? 0 : 1));
    }
    out.push_back(&t);
  }
  return out;
}

// Shard pairs whose slices of one split tensor are byte-equal: a copied shard, not a model slice.
void check_distinct(const std::vector<shard>& sh, const std::vector<const tensor_view*>& sl,
                    const std::string& name) {
  for (size_t i = 0; i < sl.size(); ++i)
    for (size_t j = i + 1; j < sl.size(); ++j)
      if (sl[i]->nbytes == sl[j]->nbytes && std::memcmp(sl[i]->data, sl[j]->data, sl[i]->nbytes) == 0)
        fail(errc::duplicate, 0,
             "model-parallel shards: " + sh[j].file + " holds the same slice of '" + name + "' as " +
                 sh[i].file + " (a duplicated shard, not a slice of the model)");
}

// The slices of one split tensor as the pieces of a split view (read in place; nothing is copied), each
// checked to hold its block: extent x cols (dim 0) or rows x extent (dim 1) elements.
std::vector<tensor_piece> slices_pieces(const std::vector<shard>& sh,
                                        const std::vector<const tensor_view*>& sl, split rule,
                                        const std::string& name) {
  std::vector<tensor_piece> out;
  for (size_t k = 0; k < sl.size(); ++k) {
    const tensor_view& t = *sl[k];
    tensor_piece p;
    p.data = t.data;
    p.file_offset = t.file_offset;
    p.file = file_of(sh[k].ar, t);
    p.extent = t.shape[rule == split::rows ? 0 : 1];
    p.row_bytes = dtype_row_bytes(t.type, static_cast<uint64_t>(t.shape[1]), t.file_offset);
    p.nbytes = checked_mul(static_cast<uint64_t>(t.shape[0]), p.row_bytes, "slice bytes", t.file_offset);
    if (p.nbytes > t.nbytes)
      fail(errc::out_of_bounds, t.file_offset,
           "model-parallel shards: tensor '" + name + "' in " + sh[k].file + ": " + shape_string(t.shape) +
               " needs " + std::to_string(p.nbytes) + " bytes but the slice spans " +
               std::to_string(t.nbytes));
    out.push_back(p);
  }
  return out;
}

void shards_merge(archive& a, std::vector<shard>& sh) {
  std::vector<std::map<std::string, size_t>> idx(sh.size());
  for (size_t k = 0; k < sh.size(); ++k)
    for (size_t i = 0; i < sh[k].ar.tensors.size(); ++i) idx[k].emplace(sh[k].ar.tensors[i].name, i);
  for (size_t k = 1; k < sh.size(); ++k)
    for (const tensor_view& t : sh[k].ar.tensors)
      if (!idx[0].count(t.name))
        fail(errc::mismatch, 0,
             "model-parallel shards: tensor '" + t.name + "' is in " + sh[k].file + " but not in " +
                 sh[0].file);

  // Check every tensor first: a shard set that fails yields nothing.
  const archive& s0 = sh[0].ar;
  std::vector<std::vector<const tensor_view*>> slices(s0.tensors.size());
  bool distinct_checked = false;
  for (size_t i = 0; i < s0.tensors.size(); ++i) {
    const tensor_view& t0 = s0.tensors[i];
    split rule = split_rule(t0.name);
    slices[i] = slices_of(sh, idx, t0, rule);
    if (rule == split::replicated) continue;
    if (!distinct_checked) check_distinct(sh, slices[i], t0.name), distinct_checked = true;
  }

  const uint32_t base = static_cast<uint32_t>(a.files.size());
  std::vector<uint32_t> file_base(sh.size());
  for (size_t k = 0; k < sh.size(); ++k) {
    file_base[k] = static_cast<uint32_t>(a.files.size());
    for (const source_file& f : sh[k].ar.files) a.files.push_back(f);
    for (const finding& f : sh[k].ar.findings) a.findings.push_back(f);
    for (const auto& b : sh[k].ar.buffers) a.buffers.push_back(b);
  }
  for (const auto& kv : s0.metadata) a.metadata.push_back(kv);
  uint64_t split_bytes = 0;
  for (size_t i = 0; i < s0.tensors.size(); ++i) {
    tensor_view t = s0.tensors[i];
    split rule = split_rule(t.name);
    if (rule == split::replicated) {
      t.file_index = t.file_index == k_no_file ? k_no_file : t.file_index + base;
      a.tensors.push_back(std::move(t));
      continue;
    }
    t.pieces = slices_pieces(sh, slices[i], rule, t.name);
    t.split_dim = rule == split::rows ? 0 : 1;
    int64_t along = 0;
    t.nbytes = 0;
    for (const tensor_piece& p : t.pieces) {
      along = static_cast<int64_t>(checked_add(static_cast<uint64_t>(along), static_cast<uint64_t>(p.extent),
                                               "split tensor extent", p.file_offset));
      t.nbytes = checked_add(t.nbytes, p.nbytes, "split tensor bytes", p.file_offset);
    }
    t.shape[static_cast<size_t>(t.split_dim)] = along;
    if (t.split_dim == 1) {  // the whole rows must be what the dtype says (block types: whole blocks)
      uint64_t rb = 0;
      for (const tensor_piece& p : t.pieces) rb += p.row_bytes;
      if (rb != dtype_row_bytes(t.type, static_cast<uint64_t>(along), t.file_offset))
        fail(errc::mismatch, t.file_offset,
             "model-parallel shards: tensor '" + t.name + "': its column slices split a quantisation block");
    }
    t.data = nullptr;
    t.file_index = k_no_file;
    split_bytes += t.nbytes;
    a.tensors.push_back(std::move(t));
  }
  a.metadata.emplace_back("meta.split_bytes", meta_uint(split_bytes));
}

// params.json's dim against the merged embedding: the one check that sees a missing last shard (nothing
// in Meta's files states the shard count).
void dim_check(const archive& a, size_t shards) {
  const meta_value* dim = a.meta("params.dim");
  const tensor_view* emb = a.tensor("tok_embeddings.weight");
  if (!dim || !dim->as_int() || !emb || emb->shape.size() != 2 || emb->shape[1] == *dim->as_int()) return;
  fail(errc::mismatch, 0,
       "Meta folder: the " + std::to_string(shards) + " shard(s) found (consolidated.00" +
           (shards > 1 ? "-" + std::to_string(shards - 1) : std::string()) +
           ".pth) give tok_embeddings.weight " + std::to_string(emb->shape[1]) +
           " columns but params.json says dim " + std::to_string(*dim->as_int()) +
           ": a shard is missing, or params.json is not this model's");
}

}  // namespace

void load_meta_folder(archive& a, const std::string& dir_in, const open_options& opt) {
  std::error_code ec;
  fs::path dir = fs::canonical(dir_in, ec);
  if (ec) fail(errc::not_found, 0, "Meta folder: cannot resolve " + dir_in + ": " + ec.message());
  params_add(a, dir / "params.json");
  std::vector<shard> sh;
  for (const auto& [n, p] : shard_paths(dir)) {
    fs::path c = fs::canonical(p, ec);
    fs::path rel = ec ? fs::path("..") : c.lexically_relative(dir);
    if (rel.empty() || *rel.begin() == "..")
      fail(errc::path_escape, 0,
           "Meta folder: " + p.filename().string() + " resolves outside " + dir.string());
    result<archive> r = archive_open(c.string(), opt);
    if (!r) throw failure(r.err());
    // Loading faulted in pages around every storage entry (the loader sniffs each; the kernel maps 64 KiB
    // around a fault): ~5 MiB a shard, 8x for an 8-way split. The views fault in what they read, so the
    // loading's pages go (file-backed: dropping them loses nothing).
    for (const source_file& f : r.value().files)
      if (f.map) f.map->advise_dontneed(0, f.map->size());
    sh.push_back({n, p.filename().string(), std::move(r).value()});
  }
  const file_format f = sh[0].ar.format;
  for (const shard& s : sh)
    if (s.ar.tensors.empty())
      fail(errc::mismatch, 0,
           "Meta folder: " + s.file + " holds no tensors (" + file_format_name(s.ar.format) + ")");
  a.metadata.emplace_back("meta.shards", meta_int(static_cast<int64_t>(sh.size())));
  if (sh.size() == 1) {
    archive_append(a, std::move(sh[0].ar));
  } else {
    shards_merge(a, sh);
  }
  dim_check(a, sh.size());
  a.format = f;
  a.format_version = sh.size() == 1 ? "Meta consolidated.00.pth"
                                    : "Meta consolidated.00-" + std::to_string(sh.size() - 1) + ".pth, " +
                                          std::to_string(sh.size()) + " model-parallel shards merged";
  folder_finish(a, dir.string(), opt);
}

}  // namespace gb::loaders
