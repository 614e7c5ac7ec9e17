// GGUF v1/v2/v3 loader (header only: metadata, tensor table, tokenizer). Checks follow ggml's
// src/gguf.cpp and HARDENING.md: counts capped by the file size, string/array caps, nested-array depth,
// known tensor types, n_dims <= 4, positive dims, aligned in-file non-overlapping tensor data.
//
// Duplicate metadata keys are an error (errc::duplicate), as in ggml's gguf_init: two readers would
// otherwise disagree on e.g. general.alignment or the architecture, which is exactly the ambiguity an
// attacker wants. Gaps between tensors and bytes after the last one still parse and become findings.
#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "formats/gguf_value_type.h"
#include "formats/loaders.h"
#include "formats/reader.h"
#include "formats/vocab_specials.h"

namespace gb::loaders {
namespace {

constexpr const char* kFmt = "GGUF";
constexpr uint64_t kMaxKeyLen = 1u << 20;          // 1 MiB
constexpr uint64_t kMaxStringLen = 64u << 20;      // 64 MiB
constexpr uint64_t kMaxTensorNameLen = 64u << 10;  // 64 KiB (llama.cpp itself stops at 63 bytes)
constexpr uint32_t kMaxAlignment = 1u << 20;
constexpr int kMaxArrayDepth = 4;
constexpr uint32_t kMaxDims = 4;

const char* type_name(uint32_t t) {
  static const char* const k[] = {"UINT8", "INT8",   "UINT16", "INT16",  "UINT32", "INT32",  "FLOAT32",
                                  "BOOL",  "STRING", "ARRAY",  "UINT64", "INT64",  "FLOAT64"};
  return t < T_COUNT ? k[t] : "?";
}

struct tinfo;

class parser {
 public:
  parser(archive& a, const mapped_file_ptr& m) : a_(a), m_(m), r_(m->data(), m->size(), kFmt) {}

  void run(const open_options& opt);

 private:
  // run() in steps, in file order: magic and version, then the two counts (tensors, key/values).
  uint32_t read_header();
  std::pair<uint64_t, uint64_t> read_counts();
  uint32_t read_metadata(uint64_t n_kv);  // the key/values into a_.metadata; returns the alignment
  tinfo read_tensor_info(std::unordered_set<std::string_view>& names);  // names: those read so far
  // Bounds, alignment, overlaps and gaps of the tensors' data; returns where the data section starts.
  uint64_t check_data(const std::vector<tinfo>& infos, uint32_t alignment, uint64_t header_end);
  uint64_t count(const char* field) { return v1_ ? r_.u32(field) : r_.u64(field); }
  uint64_t len_size() const { return v1_ ? 4 : 8; }

  std::string_view string(uint64_t cap, const char* field) {
    uint64_t at = r_.offset();
    uint64_t n = count(field);
    if (n > cap)
      r_.error_at(errc::limit, at,
                  std::string(field) + " length " + std::to_string(n) + " exceeds the cap of " +
                      std::to_string(cap) + " bytes");
    return r_.str(n, field);
  }

  // Smallest encoding of one value of type t (used to cap array lengths by the bytes left).
  uint64_t min_size(uint32_t t) const {
    switch (t) {
      case T_UINT8:
      case T_INT8:
      case T_BOOL:
        return 1;
      case T_UINT16:
      case T_INT16:
        return 2;
      case T_UINT32:
      case T_INT32:
      case T_FLOAT32:
        return 4;
      case T_UINT64:
      case T_INT64:
      case T_FLOAT64:
        return 8;
      case T_STRING:
        return len_size();
      case T_ARRAY:
        return 4 + len_size();
      default:
        return 1;
    }
  }

  meta_value value(uint32_t type, int depth, const std::string& key);
  void scalar(uint32_t type, meta_value& v, const std::string& key);

  archive& a_;
  const mapped_file_ptr& m_;
  reader r_;
  bool v1_ = false;
};

// Reads one non-array value into v (in place: big token arrays are filled without temporaries).
void parser::scalar(uint32_t type, meta_value& v, const std::string& key) {
  v.gguf_type = static_cast<int>(type);
  switch (type) {
    case T_UINT8:
      v.k = meta_value::kind::uinteger;
      v.u = r_.u8("value");
      break;
    case T_INT8:
      v.k = meta_value::kind::integer;
      v.i = r_.i8("value");
      break;
    case T_UINT16:
      v.k = meta_value::kind::uinteger;
      v.u = r_.u16("value");
      break;
    case T_INT16:
      v.k = meta_value::kind::integer;
      v.i = r_.i16("value");
      break;
    case T_UINT32:
      v.k = meta_value::kind::uinteger;
      v.u = r_.u32("value");
      break;
    case T_INT32:
      v.k = meta_value::kind::integer;
      v.i = r_.i32("value");
      break;
    case T_UINT64:
      v.k = meta_value::kind::uinteger;
      v.u = r_.u64("value");
      break;
    case T_INT64:
      v.k = meta_value::kind::integer;
      v.i = r_.i64("value");
      break;
    case T_FLOAT32:
      v.k = meta_value::kind::floating;
      v.f = r_.f32("value");
      break;
    case T_FLOAT64:
      v.k = meta_value::kind::floating;
      v.f = r_.f64("value");
      break;
    case T_BOOL: {
      uint64_t at = r_.offset();
      uint8_t b = r_.u8("bool value");
      if (b > 1)
        a_.add_finding(severity::low, "gguf.bool_value", key,
                       "BOOL value byte is " + std::to_string(b) + ", not 0 or 1", at);
      v.k = meta_value::kind::boolean;
      v.b = b != 0;
      break;
    }
    case T_STRING: {
      v.k = meta_value::kind::string;
      v.s.assign(string(kMaxStringLen, "string value"));
      break;
    }
    default:
      r_.error(errc::bad_value, "key '" + key + "': unknown value type " + std::to_string(type));
  }
}

meta_value parser::value(uint32_t type, int depth, const std::string& key) {
  meta_value v;
  if (type != T_ARRAY) {
    scalar(type, v, key);
    return v;
  }
  v.gguf_type = T_ARRAY;
  uint64_t at = r_.offset();
  uint32_t et = r_.u32("array element type");
  if (et >= T_COUNT)
    r_.error_at(errc::bad_value, at, "key '" + key + "': unknown array element type " + std::to_string(et));
  if (et == T_ARRAY && depth + 1 >= kMaxArrayDepth)
    r_.error_at(errc::limit, at,
                "key '" + key + "': arrays nested deeper than " + std::to_string(kMaxArrayDepth));
  uint64_t n_at = r_.offset();
  uint64_t n = count("array length");
  if (n > r_.remaining() / min_size(et))
    r_.error_at(errc::limit, n_at,
                "key '" + key + "': array of " + std::to_string(n) + " " + type_name(et) +
                    " cannot fit in the " + std::to_string(r_.remaining()) + " bytes left");
  v.k = meta_value::kind::array;
  v.gguf_elem_type = static_cast<int>(et);
  if (et == T_ARRAY) {
    v.arr.reserve(n);
    for (uint64_t i = 0; i < n; ++i) v.arr.push_back(value(et, depth + 1, key));
  } else if (et == T_STRING) {
    // one blob + end offsets (a 151k-token vocabulary: ~8 bytes per token besides the text)
    std::string blob;
    std::vector<uint64_t> ends;
    ends.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      blob.append(string(kMaxStringLen, "string value"));
      ends.push_back(blob.size());
    }
    blob.shrink_to_fit();
    v.arr = meta_array::packed_strings(T_STRING, std::move(blob), std::move(ends));
  } else {
    // numbers and booleans: their raw little-endian bytes
    const unsigned w = static_cast<unsigned>(min_size(et));
    const uint64_t raw_at = r_.offset();
    std::string raw(
        reinterpret_cast<const char*>(r_.bytes(checked_mul(n, w, "array bytes", raw_at), "array values")),
        static_cast<size_t>(n * w));
    meta_value::kind k = et == T_BOOL                         ? meta_value::kind::boolean
                         : et == T_FLOAT32 || et == T_FLOAT64 ? meta_value::kind::floating
                         : et == T_INT8 || et == T_INT16 || et == T_INT32 || et == T_INT64
                             ? meta_value::kind::integer
                             : meta_value::kind::uinteger;
    if (et == T_BOOL)
      for (uint64_t i = 0; i < n; ++i)
        if (static_cast<uint8_t>(raw[i]) > 1) {
          a_.add_finding(
              severity::low, "gguf.bool_value", key,
              "BOOL value byte is " + std::to_string(static_cast<uint8_t>(raw[i])) + ", not 0 or 1",
              raw_at + i);
          break;
        }
    v.arr = meta_array::packed_numbers(static_cast<uint8_t>(k), static_cast<int>(et), w, std::move(raw));
  }
  return v;
}

struct tinfo {
  std::string_view name;
  dtype type;
  std::vector<int64_t> shape;  // row-major (reversed ne)
  uint64_t offset;             // relative to the data section
  uint64_t nbytes;
  uint64_t info_at;    // absolute offset of the tensor info
  uint64_t offset_at;  // absolute offset of its offset field
};

const meta_value* find(const archive& a, const char* key) {
  return a.meta(key);
}

void build_tokenizer(archive& a) {
  const meta_value* model = find(a, "tokenizer.ggml.model");
  if (!model || model->k != meta_value::kind::string) return;
  auto v = std::make_shared<vocab>();
  v->source = "gguf";
  const std::string& mm = model->s;
  if (mm == "t5" || mm == "ugm")
    v->model = "unigram";
  else if (mm == "no_vocab")
    v->model = "none";
  else
    v->model = mm;
  // llama.cpp's defaults per tokenizer family, overridden by the file's keys below
  bool spm = v->model == "llama" || v->model == "unigram";
  v->add_space_prefix = spm;
  v->byte_fallback = v->model == "llama";
  v->add_bos = v->model == "llama" || v->model == "bert";
  v->add_eos = v->model == "bert" || v->model == "unigram";
  if (const meta_value* p = find(a, "general.name"); p && p->k == meta_value::kind::string)
    v->model_name = p->s;
  if (const meta_value* p = find(a, "general.architecture"); p && p->k == meta_value::kind::string)
    v->arch = p->s;
  if (const meta_value* p = find(a, "tokenizer.ggml.pre"); p && p->k == meta_value::kind::string)
    v->pre = p->s;
  else
    v->pre = "default";
  // typed accessors: nothing is materialised per element
  if (const meta_value* t = find(a, "tokenizer.ggml.tokens"); t && t->k == meta_value::kind::array) {
    v->tokens.reserve(t->arr.size());
    for (size_t i = 0; i < t->arr.size(); ++i) v->tokens.emplace_back(t->arr.str(i));
  }
  if (const meta_value* t = find(a, "tokenizer.ggml.scores"); t && t->k == meta_value::kind::array) {
    v->scores.reserve(t->arr.size());
    for (size_t i = 0; i < t->arr.size(); ++i)
      v->scores.push_back(static_cast<float>(t->arr.number(i).value_or(0)));
  }
  if (const meta_value* t = find(a, "tokenizer.ggml.token_type"); t && t->k == meta_value::kind::array) {
    v->token_types.reserve(t->arr.size());
    for (size_t i = 0; i < t->arr.size(); ++i)
      v->token_types.push_back(static_cast<int32_t>(t->arr.integer(i).value_or(0)));
  }
  if (const meta_value* t = find(a, "tokenizer.ggml.merges"); t && t->k == meta_value::kind::array) {
    v->merges.reserve(t->arr.size());
    for (size_t i = 0; i < t->arr.size(); ++i) v->merges.emplace_back(t->arr.str(i));
  }
  for (const vocab_special& sp : k_vocab_specials) {
    const std::string key = std::string("tokenizer.ggml.") + sp.gguf + "_token_id";
    const meta_value* x = find(a, key.c_str());
    if (!x) continue;
    auto id = x->as_int();
    if (id && (*id == -1 || *id == 0xFFFFFFFFll)) continue;  // llama.cpp's "no such token"
    if (!id || *id < 0 || static_cast<uint64_t>(*id) >= v->tokens.size()) {
      a.add_finding(severity::medium, "gguf.token_id_out_of_range", key,
                    key + " = " + x->to_display() + " is not a token id (vocabulary of " +
                        std::to_string(v->tokens.size()) + ")");
      continue;
    }
    (*v).*sp.id = static_cast<int32_t>(*id);
  }
  if (const meta_value* x = find(a, "tokenizer.ggml.add_bos_token"))
    v->add_bos = x->as_bool().value_or(v->add_bos);
  if (const meta_value* x = find(a, "tokenizer.ggml.add_eos_token"))
    v->add_eos = x->as_bool().value_or(v->add_eos);
  if (const meta_value* x = find(a, "tokenizer.ggml.add_space_prefix"))
    v->add_space_prefix = x->as_bool().value_or(v->add_space_prefix);
  if (!v->scores.empty() && v->scores.size() != v->tokens.size())
    a.add_finding(
        severity::medium, "gguf.tokenizer_size_mismatch", "tokenizer.ggml.scores",
        std::to_string(v->scores.size()) + " scores for " + std::to_string(v->tokens.size()) + " tokens");
  if (!v->token_types.empty() && v->token_types.size() != v->tokens.size())
    a.add_finding(severity::medium, "gguf.tokenizer_size_mismatch", "tokenizer.ggml.token_type",
                  std::to_string(v->token_types.size()) + " token types for " +
                      std::to_string(v->tokens.size()) + " tokens");
  a.tokenizer = std::move(v);
}

uint32_t parser::read_header() {
  if (r_.u32("magic") != 0x46554747u)  // "GGUF"
    r_.error_at(errc::bad_magic, 0, "magic is not 'GGUF'");
  uint32_t version = r_.u32("version");
  if (version < 1 || version > 3) {
    uint32_t swapped = __builtin_bswap32(version);
    if (swapped >= 1 && swapped <= 3)
      r_.error_at(errc::unsupported, 4,
                  "big-endian GGUF not supported (version field reads " + std::to_string(version) +
                      ", byte-swapped " + std::to_string(swapped) + ")");
    r_.error_at(errc::unsupported, 4,
                "GGUF version " + std::to_string(version) + " not supported (1, 2, 3 are)");
  }
  v1_ = version == 1;
  return version;
}

std::pair<uint64_t, uint64_t> parser::read_counts() {
  const uint64_t size = m_->size();
  const uint64_t n_tensors_at = r_.offset();
  const uint64_t n_tensors = count("tensor count");
  const uint64_t n_kv_at = r_.offset();
  const uint64_t n_kv = count("metadata key/value count");
  // every tensor info takes at least name length + n_dims + one dim + type + offset; every KV at least
  // key length + type + one byte
  const uint64_t min_tensor = len_size() + 4 + (v1_ ? 4 : 8) + 4 + 8;
  const uint64_t min_kv = len_size() + 4 + 1;
  if (n_tensors > r_.remaining() / min_tensor)
    r_.error_at(errc::limit, n_tensors_at,
                "tensor count " + std::to_string(n_tensors) + " cannot fit in a " + std::to_string(size) +
                    "-byte file (count corrupt or file truncated)");
  if (n_kv > r_.remaining() / min_kv ||
      checked_mul(n_kv, min_kv, "header size", n_kv_at) + n_tensors * min_tensor > r_.remaining())
    r_.error_at(errc::limit, n_kv_at,
                "metadata count " + std::to_string(n_kv) + " cannot fit in a " + std::to_string(size) +
                    "-byte file (count corrupt or file truncated)");
  return {n_tensors, n_kv};
}

uint32_t parser::read_metadata(uint64_t n_kv) {
  std::unordered_set<std::string_view> keys;
  keys.reserve(n_kv);
  a_.metadata.reserve(a_.metadata.size() + n_kv);
  uint32_t alignment = 32;
  for (uint64_t i = 0; i < n_kv; ++i) {
    const uint64_t key_at = r_.offset();
    std::string_view key = string(kMaxKeyLen, "metadata key");
    if (!keys.insert(key).second)
      r_.error_at(errc::duplicate, key_at, "duplicate metadata key '" + std::string(key) + "'");
    if (key.empty() || !utf8_valid(key))
      a_.add_finding(severity::medium, "gguf.bad_key", std::string(key), "metadata key is empty or not UTF-8",
                     key_at);
    const uint64_t type_at = r_.offset();
    uint32_t type = r_.u32("metadata value type");
    if (type >= T_COUNT)
      r_.error_at(errc::bad_value, type_at,
                  "key '" + std::string(key) + "': unknown value type " + std::to_string(type));
    std::string k(key);
    meta_value v = value(type, 0, k);
    if (key == "general.alignment") {
      auto al = v.as_int();
      if (v.k == meta_value::kind::array || v.k == meta_value::kind::string ||
          v.k == meta_value::kind::floating || !al || *al <= 0 || (*al & (*al - 1)) != 0 ||
          *al > static_cast<int64_t>(kMaxAlignment))
        r_.error_at(errc::bad_value, type_at,
                    "general.alignment " + v.to_display() + " is not a power of two between 1 and " +
                        std::to_string(kMaxAlignment));
      if (type != T_UINT32)
        a_.add_finding(
            severity::low, "gguf.alignment_type", k,
            std::string("general.alignment has type ") + type_name(type) + ", llama.cpp expects UINT32",
            type_at);
      alignment = static_cast<uint32_t>(*al);
    }
    a_.metadata.emplace_back(std::move(k), std::move(v));
  }
  return alignment;
}

tinfo parser::read_tensor_info(std::unordered_set<std::string_view>& names) {
  tinfo t{};
  t.info_at = r_.offset();
  t.name = string(kMaxTensorNameLen, "tensor name");
  const std::string nm(t.name);
  if (!names.insert(t.name).second)
    r_.error_at(errc::duplicate, t.info_at, "duplicate tensor name '" + nm + "'");
  if (t.name.size() >= 64)
    a_.add_finding(severity::low, "gguf.long_tensor_name", nm,
                   "tensor name of " + std::to_string(t.name.size()) + " bytes (llama.cpp allows 63)",
                   t.info_at);
  const uint64_t nd_at = r_.offset();
  uint32_t n_dims = r_.u32("tensor n_dims");
  if (n_dims > kMaxDims)
    r_.error_at(
        errc::bad_value, nd_at,
        "tensor '" + nm + "': n_dims " + std::to_string(n_dims) + " exceeds " + std::to_string(kMaxDims));
  int64_t ne[kMaxDims] = {1, 1, 1, 1};
  for (uint32_t d = 0; d < n_dims; ++d) {
    const uint64_t d_at = r_.offset();
    uint64_t dim = v1_ ? r_.u32("tensor dimension") : r_.u64("tensor dimension");
    if (dim == 0 || dim > static_cast<uint64_t>(INT64_MAX))
      r_.error_at(errc::bad_value, d_at,
                  "tensor '" + nm + "': dimension " + std::to_string(d) + " is " + std::to_string(dim) +
                      " (must be > 0)");
    ne[d] = static_cast<int64_t>(dim);
  }
  const uint64_t type_at = r_.offset();
  uint32_t type_id = r_.u32("tensor type");
  auto type = dtype_from_ggml(type_id);
  if (!type)
    r_.error_at(errc::bad_value, type_at,
                "tensor '" + nm + "': unknown ggml type id " + std::to_string(type_id));
  t.type = *type;
  t.offset_at = r_.offset();
  t.offset = r_.u64("tensor data offset");
  for (uint32_t d = n_dims; d-- > 0;) t.shape.push_back(ne[d]);
  uint64_t n = shape_element_count(t.shape, t.info_at, true);
  const dtype_traits& tr = dtype_info(t.type);
  if (static_cast<uint64_t>(ne[0]) % tr.block_size != 0)
    r_.error_at(errc::bad_value, nd_at + 4,
                "tensor '" + nm + "': first dimension " + std::to_string(ne[0]) +
                    " is not a multiple of the " + tr.name + " block size " + std::to_string(tr.block_size));
  t.nbytes = dtype_row_bytes(t.type, n, t.info_at);
  return t;
}

uint64_t parser::check_data(const std::vector<tinfo>& infos, uint32_t alignment, uint64_t header_end) {
  const uint64_t size = m_->size(), n_tensors = infos.size();
  const uint64_t data_start =
      checked_add(header_end, (alignment - header_end % alignment) % alignment, "data start");
  if (n_tensors > 0 && data_start > size)
    r_.error_at(errc::truncated, header_end,
                "data section would start at " + std::to_string(data_start) + ", past the end of the file (" +
                    std::to_string(size) + ")");
  const uint64_t data_size = n_tensors > 0 ? size - data_start : 0;
  for (const tinfo& t : infos) {
    if (t.offset % alignment != 0)
      r_.error_at(errc::bad_value, t.offset_at,
                  "tensor '" + std::string(t.name) + "': data offset " + std::to_string(t.offset) +
                      " is not a multiple of the alignment " + std::to_string(alignment));
    if (t.offset > data_size || t.nbytes > data_size - t.offset)
      r_.error_at(errc::out_of_bounds, t.offset_at,
                  "tensor '" + std::string(t.name) + "': data [" + std::to_string(data_start) + "+" +
                      std::to_string(t.offset) + ", +" + std::to_string(t.nbytes) +
                      ") runs past the end of the file (" + std::to_string(size) + ")");
  }
  std::vector<size_t> order(infos.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return infos[x].offset != infos[y].offset ? infos[x].offset < infos[y].offset
                                              : infos[x].nbytes < infos[y].nbytes;
  });
  auto align_up = [&](uint64_t x) { return x + (alignment - x % alignment) % alignment; };
  uint64_t end = 0;
  const tinfo* prev = nullptr;
  for (size_t idx : order) {
    const tinfo& t = infos[idx];
    if (t.offset < end)
      r_.error_at(errc::overlap, t.offset_at,
                  "tensor '" + std::string(t.name) + "' at data offset " + std::to_string(t.offset) +
                      " overlaps tensor '" + std::string(prev->name) + "' ending at " + std::to_string(end));
    if (t.offset > align_up(end))
      a_.add_finding(severity::medium, "gguf.gap", std::string(t.name),
                     std::to_string(t.offset - end) + " unused bytes before tensor '" + std::string(t.name) +
                         "' (data offset " + std::to_string(end) + ")",
                     data_start + end);
    end = t.offset + t.nbytes;
    prev = &t;
  }
  if (n_tensors > 0 && align_up(end) < data_size)
    a_.add_finding(severity::medium, "gguf.trailing_bytes", m_->path(),
                   std::to_string(data_size - align_up(end)) + " bytes after the last tensor's data",
                   data_start + align_up(end));
  if (n_tensors == 0 && header_end < size && size - header_end >= alignment)
    a_.add_finding(severity::medium, "gguf.trailing_bytes", m_->path(),
                   std::to_string(size - header_end) + " bytes after the header of a file without tensors",
                   header_end);

  return data_start;
}

void parser::run(const open_options& opt) {
  const uint32_t version = read_header();
  if (a_.format == file_format::unknown) a_.format = file_format::gguf;
  if (a_.format_version.empty()) a_.format_version = std::to_string(version);
  a_.files.push_back({m_->path(), "weights", file_format::gguf, m_});
  const uint32_t file_index = static_cast<uint32_t>(a_.files.size() - 1);
  const auto [n_tensors, n_kv] = read_counts();
  const uint32_t alignment = read_metadata(n_kv);
  std::vector<tinfo> infos;
  infos.reserve(n_tensors);
  std::unordered_set<std::string_view> names;
  names.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    infos.push_back(read_tensor_info(names));
  }
  const uint64_t header_end = r_.offset();
  const uint64_t data_start = check_data(infos, alignment, header_end);
  a_.tensors.reserve(a_.tensors.size() + infos.size());
  for (tinfo& t : infos) {
    tensor_view v;
    v.name = std::string(t.name);
    v.type = t.type;
    v.shape = std::move(t.shape);
    v.data = m_->data() + data_start + t.offset;
    v.nbytes = t.nbytes;
    v.file_offset = data_start + t.offset;
    v.file_index = file_index;
    a_.tensors.push_back(std::move(v));
  }
  // Everything read from the header was copied (names, packed arrays): its pages need not stay resident
  // (a 150k-token vocabulary is ~6 MB of them). They are re-read from the page cache if touched again.
  m_->advise_dontneed(0, header_end);
  if (opt.load_tokenizer) build_tokenizer(a_);
}

}  // namespace

void load_gguf(archive& a, const mapped_file_ptr& m, const open_options& opt) {
  parser p(a, m);
  p.run(opt);
}

}  // namespace gb::loaders
