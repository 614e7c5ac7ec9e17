// summary_build(): counts and provenance from headers and metadata only.
#include "inspect/summary.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

namespace gb {
namespace {

// Bytes of n elements stored as t, rounding a partial block up (an estimate for shapes that are not a
// multiple of the block size).
uint64_t bytes_at(dtype t, uint64_t n) {
  const dtype_traits& tr = dtype_info(t);
  uint64_t blocks = (n + tr.block_size - 1) / tr.block_size;
  return blocks * tr.type_size;
}

std::string meta_text(const archive& a, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (const meta_value* v = a.meta(k)) {
      if (v->k == meta_value::kind::string && !v->s.empty()) return v->s;
      if (v->k == meta_value::kind::array && !v->arr.empty() && v->arr.front().k == meta_value::kind::string)
        return v->arr.front().s;
    }
  return {};
}

void add_unique(std::vector<std::string>& v, std::string s) {
  if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
}

// Drops the pages around bytes [at, at + 64) of a mapped tensor after a sampled read. The kernel maps up
// to 64 KiB around each fault ("fault-around"), so 128 sampled windows kept ~8 MB resident in inspect, for
// headers-only work. Only for data inside the file's map (never heap buffers: DONTNEED would zero them).
void release_sample(const archive& ar, const tensor_view& t, uint64_t at) {
  if (t.file_index >= ar.files.size() || !ar.files[t.file_index].map) return;
  const mapped_file& m = *ar.files[t.file_index].map;
  if (t.data < m.data() || t.data + t.nbytes > m.data() + m.size()) return;
  constexpr uint64_t around = 64u << 10;
  const uint64_t off = static_cast<uint64_t>(t.data - m.data()) + at;
  const uint64_t lo = off > around ? off - around : 0;
  m.advise_dontneed(lo, off - lo + 2 * around);
}

// Drops the pages a sampled read faulted into a split view's slices (release_sample's rule, per slice).
void release_split(const tensor_view& t) {
  if (t.split() && t.shape.size() == 2) tensor_release_rows(t, 0, static_cast<uint64_t>(t.shape[0]));
}

// An output tensor that repeats the token embedding (see model_summary::tied_copy_elements).
bool is_copy(const archive& ar, const tensor_view& a, const tensor_view& b) {
  if (a.type != b.type || a.shape != b.shape || a.nbytes != b.nbytes || !a.available() || !b.available() ||
      a.nbytes == 0)
    return false;
  constexpr uint64_t full_limit = 1u << 20, windows = 64, window = 64;
  auto same_at = [&](uint64_t at, uint64_t n) {  // split views (model-parallel shards) read in pieces
    if (!a.split() && !b.split()) return std::memcmp(a.data + at, b.data + at, n) == 0;
    std::vector<uint8_t> x(n), y(n);  // (n) bytes of each
    tensor_read(a, at, n, x.data());
    tensor_read(b, at, n, y.data());
    return x == y;
  };
  if (a.nbytes <= full_limit) return same_at(0, a.nbytes);
  bool same = true;
  for (uint64_t w = 0; same && w < windows; ++w) {
    uint64_t at = (a.nbytes - window) / (windows - 1) * w;
    same = same_at(at, window);
    release_sample(ar, a, at);
    release_sample(ar, b, at);
  }
  release_split(a);
  release_split(b);
  return same;
}

// An output matrix stored as the transpose of the token embedding (ONNX exports keep the tied head as a
// MatMul initializer [n_embd, n_vocab]): element (i, j) of `a` equals element (j, i) of `b`, byte for byte.
// Plain element types only; every element when small (<= 1 MiB), else 4096 evenly spaced ones.
bool is_transposed_copy(const tensor_view& a, const tensor_view& b) {
  const dtype_traits& t = dtype_info(a.type);
  if (a.type != b.type || t.block_size != 1 || a.shape.size() != 2 || b.shape.size() != 2 ||
      a.shape[0] != b.shape[1] || a.shape[1] != b.shape[0] || a.shape[0] < 2 || a.shape[1] < 2 ||
      !a.available() || !b.available())
    return false;
  const uint64_t rows = static_cast<uint64_t>(a.shape[0]), cols = static_cast<uint64_t>(a.shape[1]);
  const uint64_t es = t.type_size, n = rows * cols;
  if (a.nbytes != n * es || b.nbytes != n * es) return false;
  constexpr uint64_t full_limit = 1u << 20, samples = 4096;
  const uint64_t step = a.nbytes <= full_limit ? 1 : std::max<uint64_t>(1, n / samples);
  for (uint64_t k = 0; k < n; k += step) {
    const uint64_t i = k / cols, j = k % cols;  // a[i][j] vs b[j][i]
    if (std::memcmp(a.data + k * es, b.data + (j * rows + i) * es, es) != 0) return false;
  }
  return true;
}

}  // namespace

namespace {
// n in decimal thousands: "512<first>", "1.50<sep><units[1]>" ...
std::string scaled(uint64_t n, const char* const* units, int n_units, const char* sep) {
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1000.0 && u + 1 < n_units) v /= 1000.0, ++u;
  char buf[48];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%llu%s%s", static_cast<unsigned long long>(n), *units[0] ? sep : "",
                  units[0]);
  else
    std::snprintf(buf, sizeof buf, "%.2f%s%s", v, sep, units[u]);
  return buf;
}
}  // namespace

std::string format_bytes(uint64_t n) {
  static const char* const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  return scaled(n, units, 6, " ");
}

std::string format_count(uint64_t n) {
  static const char* const units[] = {"", "K", "M", "B", "T"};
  return scaled(n, units, 5, "");
}

std::string fmt_num(double v, int precision) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return "0";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, std::clamp(precision, 1, 17));
  return std::string(buf, r.ptr);
}

std::string fmt_or_na(double v, int precision) {
  return std::isfinite(v) ? fmt_num(v, precision) : std::string("n/a");
}

std::string format_thousands(uint64_t n) {
  const std::string d = std::to_string(n);
  std::string r;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i && (d.size() - i) % 3 == 0) r += ',';
    r += d[i];
  }
  return r;
}

std::string parameter_count_text(const model_summary& s) {
  std::string t = format_count(s.parameter_count) + " parameters (" + format_thousands(s.parameter_count);
  if (s.tied_output) t += "; tied output counted once";
  return t + ")";
}

model_summary summary_build(const model& m) {
  model_summary s;
  const archive& a = *m.source;
  s.format = file_format_name(a.format);
  s.format_version = a.format_version;
  s.architecture = m.architecture;
  s.family = arch_family_name(m.family);
  s.tensor_count = a.tensors.size();
  for (const source_file& f : a.files) s.file_bytes += f.size();
  s.tensor_bytes = a.tensor_bytes();

  // role per tensor index (unmapped tensors are weights of group "other")
  std::vector<const role_entry*> role_of(a.tensors.size(), nullptr);
  for (const role_entry& e : m.roles)
    if (e.tensor < role_of.size()) role_of[e.tensor] = &e;

  const char* groups[] = {"embedding", "attention", "mlp", "norm", "output", "other"};
  for (const char* g : groups) s.by_group.push_back({g, 0, 0});
  std::map<dtype, dtype_share> mix;
  const dtype precisions[] = {dtype::f32, dtype::f16, dtype::bf16, dtype::q8_0, dtype::q4_0};
  for (dtype p : precisions) s.memory.push_back({dtype_name(p), 0});

  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const tensor_view& t = a.tensors[i];
    const uint64_t n = t.element_count();
    dtype_share& d = mix[t.type];
    d.type = t.type;
    d.tensors++;
    d.elements += n;
    d.bytes += t.nbytes;
    const role_entry* e = role_of[i];
    if (e && !role_is_parameter(e->role)) {
      s.non_parameter_elements += n;
      continue;
    }
    s.parameter_count += n;
    const std::string g = e ? role_group(e->role) : "other";
    for (group_share& gs : s.by_group)
      if (gs.group == g) gs.params += n, gs.bytes += t.nbytes;
    if (e && e->layer >= 0) {
      if (s.by_layer.size() <= static_cast<size_t>(e->layer))
        s.by_layer.resize(static_cast<size_t>(e->layer) + 1, 0);
      s.by_layer[static_cast<size_t>(e->layer)] += n;
    }
    const bool vector_like = t.shape.size() <= 1;
    for (size_t j = 0; j < s.memory.size(); ++j) {
      dtype p = precisions[j];
      if (vector_like && dtype_info(p).is_quantized) p = dtype::f32;
      s.memory[j].bytes += bytes_at(p, n);
    }
  }
  const role_entry* out = m.entry(role_kind::output);
  const role_entry* tok = m.entry(role_kind::tok_embd);
  if (out && tok &&
      (is_copy(a, a.tensors[out->tensor], a.tensors[tok->tensor]) ||
       is_transposed_copy(a.tensors[out->tensor], a.tensors[tok->tensor]))) {
    const uint64_t n = a.tensors[out->tensor].element_count();
    s.tied_copy_elements = n;
    s.parameter_count -= n;
    for (group_share& gs : s.by_group)
      if (gs.group == "output") gs.params -= n;
  }
  s.tied_output = s.tied_copy_elements > 0 || m.hp.tied_embeddings;
  for (const auto& [t, d] : mix) s.dtypes.push_back(d);
  std::stable_sort(s.dtypes.begin(), s.dtypes.end(),
                   [](const dtype_share& x, const dtype_share& y) { return x.bytes > y.bytes; });

  s.context_length = m.hp.n_ctx;
  s.vocab_size = m.hp.n_vocab;

  if (const vocab* v = a.tokenizer.get()) {
    tokenizer_summary& ts = s.tokenizer;
    ts.present = true;
    ts.model = v->model;
    ts.pre = v->pre;
    ts.source = v->source;
    ts.size = v->size();
    ts.merges = v->merges.size();
    ts.add_bos = v->add_bos;
    ts.add_eos = v->add_eos;
    const std::pair<const char*, int32_t> ids[] = {
        {"bos", v->bos_id}, {"eos", v->eos_id}, {"unk", v->unk_id},  {"pad", v->pad_id},
        {"sep", v->sep_id}, {"cls", v->cls_id}, {"mask", v->mask_id}};
    for (const auto& [kind, id] : ids) {
      if (id < 0) continue;
      std::string text =
          static_cast<size_t>(id) < v->tokens.size() ? v->tokens[static_cast<size_t>(id)] : std::string();
      ts.special.push_back({kind, id, std::move(text)});
    }
  }

  s.name = meta_text(a, {"general.name", "config._name_or_path", "onnx.graph_name"});
  s.license = meta_text(a, {"general.license", "general.license.name", "config.license",
                            "tokenizer_config.license", "onnx.metadata.license"});
  s.author = meta_text(a, {"general.author", "config.author", "onnx.producer_name"});
  s.organization = meta_text(a, {"general.organization"});
  s.description = meta_text(a, {"general.description"});
  s.chat_template = meta_text(a, {"tokenizer.chat_template", "tokenizer_config.chat_template"});
  for (const auto& [k, v] : a.metadata) {
    if (v.k != meta_value::kind::string || v.s.empty()) continue;
    // general.base_model.N.name / .repo_url / .organization
    if (k.rfind("general.base_model.", 0) == 0 && (k.size() > 5 && k.compare(k.size() - 5, 5, ".name") == 0))
      add_unique(s.base_models, v.s);
    if (k == "config.base_model" || k == "general.base_model") add_unique(s.base_models, v.s);
    bool url = k == "general.url" || k == "general.repo_url" || k == "general.source.url" ||
               k == "general.source.repo_url" || k == "general.source.huggingface.repository" ||
               (k.rfind("general.base_model.", 0) == 0 && k.find("url") != std::string::npos);
    if (url) add_unique(s.urls, v.s);
  }
  return s;
}

}  // namespace gb
