// safetensors loader (single files and sharded sets), following the checks of huggingface/safetensors
// `tensor.rs` (see HARDENING.md): header size cap, '{' start, UTF-8 JSON, no duplicate keys,
// string-only __metadata__, checked byte sizes, tensors covering the buffer contiguously up to EOF.
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "formats/json_meta.h"
#include "formats/loaders.h"
#include "formats/reader.h"

namespace gb::loaders {
namespace {

constexpr uint64_t kMaxHeader = 100'000'000;
constexpr const char* kFmt = "safetensors";

// Byte offset of `"name"` in the header text (first occurrence), for error offsets.
uint64_t key_offset(std::string_view text, uint64_t base, const std::string& name) {
  size_t p = text.find("\"" + name + "\"");
  return base + (p == std::string_view::npos ? 0 : p);
}

uint64_t json_uint(const meta_value& v, uint64_t off, const std::string& what) {
  if (v.k == meta_value::kind::uinteger) return v.u;
  if (v.k == meta_value::kind::integer && v.i >= 0) return static_cast<uint64_t>(v.i);
  fail(errc::bad_json, off,
       std::string(kFmt) + ": " + what + " must be a non-negative integer, got " + v.to_display());
}

struct span {
  uint64_t begin, end;
  size_t tensor;  // index into archive::tensors
};

// Parses one safetensors file and appends its tensors; returns the indexes of the tensors it added.
std::vector<size_t> load_one(archive& a, const mapped_file_ptr& m, uint32_t file_index) {
  reader r(m->data(), m->size(), kFmt);
  uint64_t n = r.u64("header size");
  if (n > kMaxHeader)
    r.error_at(errc::limit, 0, "header size " + std::to_string(n) + " exceeds the 100,000,000-byte cap");
  if (n > r.remaining())
    r.error_at(errc::truncated, 0,
               "header size " + std::to_string(n) + " runs past the end of the file (" +
                   std::to_string(r.remaining()) + " bytes after the size field)");
  std::string_view text = r.str(n, "header");
  if (n == 0 || text[0] != '{') r.error_at(errc::bad_json, 8, "header does not start with '{'");
  meta_value root = meta_from_json_text(text, 8, kFmt);
  if (root.k != meta_value::kind::object) r.error_at(errc::bad_json, 8, "header is not a JSON object");

  const uint64_t data_start = 8 + n;
  const uint64_t buffer_len = m->size() - data_start;
  std::vector<size_t> added;
  std::vector<span> spans;
  for (auto& [name, v] : root.obj) {
    uint64_t koff = key_offset(text, 8, name);
    if (name == "__metadata__") {
      if (v.k != meta_value::kind::object) r.error_at(errc::bad_json, koff, "__metadata__ is not an object");
      for (auto& [mk, mv] : v.obj) {
        if (mv.k != meta_value::kind::string)
          r.error_at(errc::bad_json, key_offset(text, 8, mk),
                     "__metadata__ value of '" + mk + "' is not a string (the format allows strings only)");
        if (!a.meta(mk)) a.metadata.emplace_back(mk, std::move(mv));
      }
      continue;
    }
    if (v.k != meta_value::kind::object)
      r.error_at(errc::bad_json, koff, "tensor '" + name + "' is not an object");
    const meta_value *dt = nullptr, *shape = nullptr, *offs = nullptr;
    for (const auto& [fk, fv] : v.obj) {
      if (fk == "dtype")
        dt = &fv;
      else if (fk == "shape")
        shape = &fv;
      else if (fk == "data_offsets")
        offs = &fv;
      else
        a.add_finding(severity::low, "safetensors.unknown_field", name,
                      "tensor entry has an unknown field '" + fk + "'", koff);
    }
    if (!dt || dt->k != meta_value::kind::string)
      r.error_at(errc::bad_json, koff, "tensor '" + name + "': missing or non-string dtype");
    if (!shape || shape->k != meta_value::kind::array)
      r.error_at(errc::bad_json, koff, "tensor '" + name + "': missing or non-array shape");
    if (!offs || offs->k != meta_value::kind::array || offs->arr.size() != 2)
      r.error_at(errc::bad_json, koff, "tensor '" + name + "': data_offsets must be [begin, end]");
    auto type = dtype_from_safetensors(dt->s);
    if (!type) r.error_at(errc::bad_value, koff, "tensor '" + name + "': unknown dtype '" + dt->s + "'");
    tensor_view t;
    t.name = name;
    t.type = *type;
    t.shape.reserve(shape->arr.size());
    for (const meta_value& d : shape->arr) {
      uint64_t dim = json_uint(d, koff, "tensor '" + name + "' shape dimension");
      if (dim > static_cast<uint64_t>(INT64_MAX))
        r.error_at(errc::overflow, koff, "tensor '" + name + "': dimension too large");
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    uint64_t count = shape_element_count(t.shape, koff);
    uint64_t nbytes = checked_mul(count, dtype_info(t.type).type_size, "tensor byte size", koff);
    uint64_t begin = json_uint(offs->arr[0], koff, "tensor '" + name + "' data_offsets[0]");
    uint64_t end = json_uint(offs->arr[1], koff, "tensor '" + name + "' data_offsets[1]");
    if (end < begin)
      r.error_at(errc::bad_value, koff,
                 "tensor '" + name + "': data_offsets end " + std::to_string(end) + " < begin " +
                     std::to_string(begin));
    if (end - begin != nbytes)
      r.error_at(errc::mismatch, koff,
                 "tensor '" + name + "': data_offsets span " + std::to_string(end - begin) + " bytes but " +
                     dtype_info(t.type).safetensors + " " + shape_string(t.shape) + " needs " +
                     std::to_string(nbytes));
    if (end > buffer_len)
      r.error_at(errc::out_of_bounds, data_start + std::min(begin, buffer_len),
                 "tensor '" + name + "' ends at buffer offset " + std::to_string(end) +
                     " past the end of the file (buffer is " + std::to_string(buffer_len) + " bytes)");
    t.data = m->data() + data_start + begin;
    t.nbytes = nbytes;
    t.file_offset = data_start + begin;
    t.file_index = file_index;
    spans.push_back({begin, end, a.tensors.size()});
    added.push_back(a.tensors.size());
    a.tensors.push_back(std::move(t));
  }

  // Contiguous coverage of [0, buffer_len): no overlap, no hole, nothing after the last tensor.
  std::sort(spans.begin(), spans.end(), [](const span& x, const span& y) {
    return x.begin != y.begin ? x.begin < y.begin : x.end < y.end;
  });
  uint64_t expect = 0;
  const std::string* prev = nullptr;
  for (const span& s : spans) {
    const std::string& nm = a.tensors[s.tensor].name;
    if (s.begin < expect)
      r.error_at(errc::overlap, data_start + s.begin,
                 "tensor '" + nm + "' [" + std::to_string(s.begin) + ", " + std::to_string(s.end) +
                     ") overlaps tensor '" + (prev ? *prev : std::string()) + "' ending at " +
                     std::to_string(expect));
    if (s.begin > expect)
      r.error_at(errc::hole, data_start + expect,
                 "hole of " + std::to_string(s.begin - expect) + " bytes before tensor '" + nm +
                     "' (buffer offset " + std::to_string(expect) + ")");
    expect = s.end;
    prev = &nm;
  }
  if (expect != buffer_len)
    r.error_at(errc::hole, data_start + expect,
               std::to_string(buffer_len - expect) +
                   " trailing bytes after the last tensor (buffer ends at " + std::to_string(expect) +
                   ", file at " + std::to_string(buffer_len) + ")");
  m->advise_dontneed(0, data_start);  // the header was copied into the archive: drop its pages
  return added;
}

void set_format(archive& a) {
  if (a.format == file_format::unknown) a.format = file_format::safetensors;
  if (a.format_version.empty()) a.format_version = "1";
}

// A shard name from the index must be a plain file name inside the model's folder.
void check_shard_name(const std::string& s, uint64_t off) {
  if (s.empty() || s == "." || s == ".." || s.find('/') != std::string::npos ||
      s.find('\\') != std::string::npos || s.find('\0') != std::string::npos)
    fail(errc::path_escape, off,
         std::string(kFmt) + " index: shard name '" + s + "' is not a plain file name in the model folder");
}

// "model-00002-of-00004.safetensors" -> 4 (0 when the name does not follow the shard pattern).
uint64_t shard_total(const std::string& name) {
  static const std::string ext = ".safetensors";
  size_t of = name.rfind("-of-");
  if (of == std::string::npos || name.size() < ext.size() ||
      name.compare(name.size() - ext.size(), ext.size(), ext) != 0)
    return 0;
  std::string digits = name.substr(of + 4, name.size() - ext.size() - of - 4);
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
    return 0;
  return std::stoull(digits);
}

// The shards weight_map names are checked one by one above; this looks at what the folder holds besides
// them. A .safetensors file the map does not name is never read by a loader that follows the index, so
// its tensors are invisible to anyone who trusts the map (medium when its name says it belongs to the
// set, low otherwise: e.g. a consolidated copy). A map naming fewer shards than their names announce is
// reported too. Headers of unlisted files are parsed (bounds-checked) to count their tensors.
void check_unlisted_shards(archive& a, const std::filesystem::path& dir, const std::set<std::string>& listed,
                           const std::string& index_path) {
  namespace fs = std::filesystem;
  std::set<uint64_t> totals;
  for (const std::string& s : listed) totals.insert(shard_total(s));
  if (totals.size() == 1 && *totals.begin() > listed.size())
    a.add_finding(severity::medium, "safetensors.shard_count", index_path,
                  "weight_map names " + std::to_string(listed.size()) + " shard(s) of the " +
                      std::to_string(*totals.begin()) + " its shard names announce");
  std::vector<std::string> unlisted;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (!it->is_regular_file(ec2) || it->path().extension() != ".safetensors") continue;
    std::string name = it->path().filename().string();
    if (!listed.count(name)) unlisted.push_back(std::move(name));
    if (unlisted.size() > 1000) break;
  }
  std::sort(unlisted.begin(), unlisted.end());
  for (const std::string& name : unlisted) {
    const fs::path p = dir / name;
    const uint64_t t = shard_total(name);
    const bool same_set = t != 0 && totals.count(t) != 0;
    std::string what;
    try {
      archive scratch;
      mapped_file_ptr m = mapped_file::open(p.string());
      if (m->size() == 0) fail(errc::empty_file, 0, "empty file (0 bytes)");
      std::vector<size_t> added = load_one(scratch, m, 0);
      what = std::to_string(added.size()) + " tensor(s)";
      if (!added.empty()) what += ", e.g. '" + scratch.tensors[added.front()].name.substr(0, 80) + "'";
      what += ", not in weight_map";
    } catch (const failure& f) {
      what = "its header does not parse: " + f.err().message;
    }
    a.add_finding(same_set ? severity::medium : severity::low, "safetensors.shard_unlisted", p.string(),
                  std::string(same_set ? "shard" : "safetensors file") + " '" + name +
                      "' is in the model folder but weight_map does not name it (" + what + ")");
  }
}

}  // namespace

void load_safetensors(archive& a, const mapped_file_ptr& m, const open_options&) {
  set_format(a);
  a.files.push_back({m->path(), "weights", file_format::safetensors, m});
  load_one(a, m, static_cast<uint32_t>(a.files.size() - 1));
}

void load_safetensors_index(archive& a, const std::string& index_path, const open_options&) {
  namespace fs = std::filesystem;
  set_format(a);
  mapped_file_ptr im = mapped_file::open(index_path);
  if (im->size() == 0) fail(errc::empty_file, 0, "empty shard index (0 bytes)");
  std::string_view text(reinterpret_cast<const char*>(im->data()), im->size());
  meta_value root = meta_from_json_text(text, 0, "safetensors index");
  if (root.k != meta_value::kind::object) fail(errc::bad_json, 0, "safetensors index: not a JSON object");
  const meta_value* wm = nullptr;
  const meta_value* meta = nullptr;
  for (const auto& [k, v] : root.obj) {
    if (k == "weight_map")
      wm = &v;
    else if (k == "metadata")
      meta = &v;
  }
  if (!wm || wm->k != meta_value::kind::object)
    fail(errc::bad_json, 0, "safetensors index: missing or non-object weight_map");
  if (wm->obj.empty())
    fail(errc::mismatch, key_offset(text, 0, "weight_map"),
         "safetensors index: weight_map is empty (no tensor is mapped to a shard)");

  fs::path dir = fs::path(index_path).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  fs::path dir_canon = fs::canonical(dir, ec);

  std::unordered_map<std::string, std::string> want;  // tensor -> shard
  std::set<std::string> shards;
  for (const auto& [tname, shard] : wm->obj) {
    uint64_t off = key_offset(text, 0, tname);
    if (shard.k != meta_value::kind::string)
      fail(errc::bad_json, off, "safetensors index: weight_map value for '" + tname + "' is not a string");
    check_shard_name(shard.s, off);
    want.emplace(tname, shard.s);
    shards.insert(shard.s);
  }

  std::unordered_map<std::string, std::string> found;  // tensor -> shard it is in
  for (const std::string& shard : shards) {
    fs::path p = dir / shard;
    if (!ec) {
      std::error_code ec2;
      fs::path pc = fs::canonical(p, ec2);
      if (!ec2 && pc.parent_path() != dir_canon)
        fail(errc::path_escape, key_offset(text, 0, shard),
             "safetensors index: shard '" + shard + "' resolves outside the model folder (" + pc.string() +
                 ")");
    }
    mapped_file_ptr m;
    try {
      m = mapped_file::open(p.string());
    } catch (failure& f) {
      f.err().message = "safetensors index: shard '" + shard +
                        "' listed in weight_map cannot be opened: " + f.err().message;
      f.err().offset = key_offset(text, 0, shard);
      throw;
    }
    a.files.push_back({p.string(), "weights", file_format::safetensors, m});
    std::vector<size_t> added;
    try {
      if (m->size() == 0) fail(errc::empty_file, 0, "empty shard (0 bytes)");
      added = load_one(a, m, static_cast<uint32_t>(a.files.size() - 1));
    } catch (failure& f) {
      if (f.err().where.empty()) f.err().where = p.string();
      throw;
    }
    for (size_t ti : added) {
      const std::string& tn = a.tensors[ti].name;
      auto [it, inserted] = found.emplace(tn, shard);
      if (!inserted)
        fail(errc::duplicate, a.tensors[ti].file_offset,
             "safetensors index: tensor '" + tn + "' is in shard '" + it->second + "' and in shard '" +
                 shard + "'");
      auto w = want.find(tn);
      if (w == want.end())
        fail(errc::mismatch, 0,
             "safetensors index: tensor '" + tn + "' of shard '" + shard + "' is missing from weight_map");
      if (w->second != shard)
        fail(errc::mismatch, key_offset(text, 0, tn),
             "safetensors index: weight_map puts tensor '" + tn + "' in '" + w->second + "' but it is in '" +
                 shard + "'");
    }
  }
  for (const auto& [tname, shard] : wm->obj)
    if (!found.count(tname))
      fail(errc::mismatch, key_offset(text, 0, tname),
           "safetensors index: weight_map lists tensor '" + tname + "' but shard '" + shard.s +
               "' does not contain it");

  check_unlisted_shards(a, dir, shards, index_path);

  if (meta && meta->k == meta_value::kind::object) {
    for (const auto& [k, v] : meta->obj) {
      if (k != "total_size") continue;
      auto total = v.as_double();
      uint64_t sum = a.tensor_bytes();
      if (!total || *total != static_cast<double>(sum))
        a.add_finding(severity::low, "safetensors.total_size_mismatch", index_path,
                      "index metadata.total_size " + v.to_display() + " differs from the tensor bytes " +
                          std::to_string(sum),
                      key_offset(text, 0, "total_size"));
    }
  }
  a.files.push_back({index_path, "index", file_format::json, im});
}

}  // namespace gb::loaders
