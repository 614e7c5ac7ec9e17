// PyTorch checkpoints (zip and legacy torch.save), stand-alone pickles and numpy .npy/.npz, read through
// the non-executing pickle reader. Tensors are views into the mapped file (stored zip entries, legacy raw
// storages, npy data); the pickle's imports become findings before any tensor is rebuilt, so a loader
// error later on never hides them.
//
// Dimension letters: none (tensors are rebuilt from (storage, offset, shape, strides) as the file says).
#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "formats/checkpoint.h"
#include "formats/loaders.h"
#include "formats/pickle.h"
#include "formats/reader.h"
#include "formats/zip.h"

namespace gb::loaders {
namespace {

namespace pk = gb::pickle;

constexpr uint8_t k_legacy_magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

std::string file_name(const std::string& path) {
  auto s = path.find_last_of('/');
  return s == std::string::npos ? path : path.substr(s + 1);
}

// member names that say "a pickle, or a container of pickles", whatever the bytes look like
constexpr std::string_view k_pickle_names[] = {".pkl", ".pickle", ".npy", ".joblib", ".pt",
                                               ".pth", ".bin",    ".zip", ".npz",    ".ckpt"};

bool looks_like_pickle(const uint8_t* d, uint64_t n) {
  return n >= 2 && d[0] == 0x80 && d[1] >= 2 && d[1] <= 5;
}

pk::result read_pickle(const uint8_t* d, uint64_t n, uint64_t base, bool stacked) {
  pk::read_options o;
  o.stacked = stacked;
  o.base = base;
  return pk::read(d, n, o);
}

// One storage a tensor can point into.
struct storage_ref {
  dtype type = dtype::unknown;
  std::string key;
  int64_t view_offset = 0;  // legacy view_metadata offset (elements)
  bool ok = false;
};

struct storage_bytes {
  const uint8_t* data = nullptr;  // nullptr: not available (compressed, missing)
  uint64_t size = 0;
  uint64_t file_offset = 0;
  std::string why;
};

// ('storage', StorageType, key, location, numel[, view_metadata])
storage_ref parse_persid(const pk::result& r, uint32_t pid_index) {
  storage_ref s;
  const pk::value& pid = r.at(pid_index);
  if (pid.k != pk::kind::tuple || pid.items.size() < 5) return s;
  const pk::value& tag = r.at(pid.items[0]);
  const pk::value& type = r.at(pid.items[1]);
  const pk::value& key = r.at(pid.items[2]);
  if (tag.k != pk::kind::string || tag.s != "storage" || key.k != pk::kind::string) return s;
  if (type.k == pk::kind::global) {
    auto d = dtype_from_torch_storage(type.name);
    s.type = d ? *d : (type.name == "UntypedStorage" ? dtype::u8 : dtype::unknown);
  }
  s.key = key.s;
  if (pid.items.size() >= 6) {
    const pk::value& view = r.at(pid.items[5]);
    if (view.k == pk::kind::tuple && view.items.size() >= 2 && r.at(view.items[1]).k == pk::kind::integer)
      s.view_offset = r.at(view.items[1]).i;
  }
  s.ok = s.type != dtype::unknown;
  return s;
}

bool int_tuple(const pk::result& r, uint32_t idx, std::vector<int64_t>& out) {
  const pk::value& t = r.at(idx);
  if (t.k != pk::kind::tuple && t.k != pk::kind::list) {
    // torch.Size((...)) is pickled as a call of torch.Size with a tuple argument
    if (t.k == pk::kind::call && t.args != pk::nil && r.at(t.args).k == pk::kind::tuple &&
        r.at(t.args).items.size() == 1)
      return int_tuple(r, r.at(t.args).items[0], out);
    return false;
  }
  out.clear();
  if (t.items.size() > 64) return false;
  for (uint32_t i : t.items) {
    const pk::value& v = r.at(i);
    if (v.k != pk::kind::integer || v.big) return false;
    out.push_back(v.i);
  }
  return true;
}

bool is_global(const pk::result& r, uint32_t idx, std::string_view module, std::string_view name) {
  const pk::value& v = r.at(idx);
  return v.k == pk::kind::global && v.s == module && v.name == name;
}

// A tensor record found in the tree: the call of _rebuild_tensor(_v2) (parameters unwrapped).
struct tensor_record {
  std::string name;
  uint32_t call;
};

// Walks dicts (plain and OrderedDict calls) from the root, breadth-first, no recursion, cycle-safe.
std::vector<tensor_record> find_tensors(const pk::result& r, uint32_t root) {
  std::vector<tensor_record> out;
  std::vector<std::pair<std::string, uint32_t>> queue{{"", root}};
  std::set<uint32_t> seen;
  size_t dicts = 0;
  for (size_t q = 0; q < queue.size(); ++q) {
    auto [prefix, idx] = queue[q];
    const pk::value& v = r.at(idx);
    if (v.k == pk::kind::call && v.callable != pk::nil) {
      const pk::value& c = r.at(v.callable);
      if (c.k == pk::kind::global && c.s == "torch._utils" &&
          (c.name == "_rebuild_tensor_v2" || c.name == "_rebuild_tensor" || c.name == "_rebuild_tensor_v3")) {
        out.push_back({prefix, idx});
        continue;
      }
      if (c.k == pk::kind::global && c.s == "torch._utils" &&
          (c.name == "_rebuild_parameter" || c.name == "_rebuild_parameter_with_state")) {
        const pk::value& a = r.at(v.args);
        if (a.k == pk::kind::tuple && !a.items.empty()) queue.emplace_back(prefix, a.items[0]);
        continue;
      }
    }
    bool dict_like = v.k == pk::kind::dict || (v.k == pk::kind::call && v.callable != pk::nil &&
                                               is_global(r, v.callable, "collections", "OrderedDict"));
    if (!dict_like || !seen.insert(idx).second || ++dicts > 100000) continue;
    if (queue.size() > 10'000'000) break;
    for (size_t k = 0; k + 1 < v.items.size(); k += 2) {
      const pk::value& key = r.at(v.items[k]);
      std::string name = key.k == pk::kind::string ? key.s : pk::display(r, v.items[k]);
      queue.emplace_back(prefix.empty() ? name : prefix + "." + name, v.items[k + 1]);
    }
  }
  for (auto& t : out)
    if (t.name.empty()) t.name = "tensor";  // torch.save(tensor): the root itself
  return out;
}

// Rebuilds tensor views. `storage_of(key)` returns the bytes of a storage (or why not).
template <class F>
void rebuild_tensors(archive& a, const pk::result& r, uint32_t root, uint32_t file_index,
                     const std::string& where, F&& storage_of) {
  auto records = find_tensors(r, root);
  std::set<std::string> names;
  for (const auto& rec : records) {
    const pk::value& call = r.at(rec.call);
    const pk::value& args = r.at(call.args);
    auto bad = [&](const std::string& why) {
      a.add_finding(severity::medium, "pytorch.bad_tensor", where + ":" + rec.name,
                    "tensor record skipped: " + why, call.offset);
    };
    if (args.k != pk::kind::tuple || args.items.size() < 4) {
      bad("_rebuild_tensor arguments are not (storage, offset, size, stride, ...)");
      continue;
    }
    const pk::value& pid = r.at(args.items[0]);
    if (pid.k != pk::kind::persid) {
      bad("storage is not a persistent id");
      continue;
    }
    storage_ref st = parse_persid(r, pid.args);
    if (!st.ok) {
      bad("persistent id is not ('storage', <torch storage type>, key, location, numel)");
      continue;
    }
    const pk::value& off = r.at(args.items[1]);
    tensor_view t;
    t.name = rec.name;
    t.type = st.type;
    t.file_index = file_index;
    std::vector<int64_t> stride;
    if (off.k != pk::kind::integer || off.big || off.i < 0 || !int_tuple(r, args.items[2], t.shape) ||
        !int_tuple(r, args.items[3], stride) || stride.size() != t.shape.size()) {
      bad("storage offset, size or stride malformed");
      continue;
    }
    if (!names.insert(t.name).second)
      a.add_finding(severity::medium, "pytorch.duplicate_tensor", where + ":" + t.name,
                    "tensor name appears twice", call.offset);
    uint64_t elsize = dtype_info(t.type).type_size;
    bool ok = true;
    uint64_t span = 1;  // elements reachable: 1 + sum (shape-1)*stride
    bool empty = false;
    bool contiguous = true;
    uint64_t expect = 1;
    for (size_t k = t.shape.size(); k-- > 0;) {
      if (t.shape[k] < 0 || stride[k] < 0) ok = false;
      if (t.shape[k] == 0) empty = true;
      if (!ok) break;
      if (t.shape[k] > 1 && static_cast<uint64_t>(stride[k]) != expect) contiguous = false;
      uint64_t ext = 0, nexp = 0;
      if (__builtin_mul_overflow(static_cast<uint64_t>(t.shape[k] > 0 ? t.shape[k] - 1 : 0),
                                 static_cast<uint64_t>(stride[k]), &ext) ||
          __builtin_add_overflow(span, ext, &span) ||
          __builtin_mul_overflow(expect, static_cast<uint64_t>(t.shape[k]), &nexp))
        ok = false;
      expect = nexp;
    }
    if (!ok) {
      bad("negative or overflowing shape/stride");
      continue;
    }
    if (empty) span = 0;
    if (!contiguous) t.strides = stride;
    uint64_t first =
        static_cast<uint64_t>(off.i) + static_cast<uint64_t>(std::max<int64_t>(st.view_offset, 0));
    uint64_t end_el = 0, end_bytes = 0, first_bytes = 0;
    if (__builtin_add_overflow(first, span, &end_el) || __builtin_mul_overflow(end_el, elsize, &end_bytes) ||
        __builtin_mul_overflow(first, elsize, &first_bytes)) {
      bad("offset arithmetic overflows");
      continue;
    }
    t.nbytes = end_bytes - first_bytes;
    storage_bytes sb = storage_of(st.key, st.type);
    if (!sb.why.empty()) {
      a.add_finding(severity::medium, "pytorch.missing_storage", where + ":" + t.name,
                    "storage '" + st.key + "': " + sb.why, call.offset);
      a.tensors.push_back(std::move(t));
      continue;
    }
    if (end_bytes > sb.size) {
      a.add_finding(severity::high, "pytorch.out_of_bounds", where + ":" + t.name,
                    "tensor spans bytes [" + std::to_string(first_bytes) + ", " + std::to_string(end_bytes) +
                        ") of storage '" + st.key + "' which has " + std::to_string(sb.size),
                    call.offset);
      a.tensors.push_back(std::move(t));
      continue;
    }
    t.file_offset = sb.file_offset + first_bytes;
    if (sb.data) t.data = sb.data + first_bytes;
    a.tensors.push_back(std::move(t));
  }
}

// ---------------------------------------------------------------------------------------------------
// numpy

struct npy_header {
  std::string descr;  // a type string, or a structured dtype's list text ("[('a', '<f4'), ('b', '|O')]")
  bool structured = false;
  bool has_object = false;  // an object type anywhere (structured fields included): the data is a pickle
  bool fortran = false;
  std::vector<int64_t> shape;
  uint64_t data_offset = 0;  // relative to the npy start
};

// Parses the header dict literal ({'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }) without eval.
npy_header parse_npy_header(const uint8_t* d, uint64_t n, uint64_t base) {
  reader r(d, n, "npy", base);
  if (std::memcmp(r.bytes(6, "magic"), "\x93NUMPY", 6) != 0)
    r.error_at(errc::bad_magic, base, "not a .npy file");
  uint8_t major = r.u8("major version");
  r.u8("minor version");
  uint64_t hlen = major == 1 ? r.u16("header length") : r.u32("header length");
  if (major < 1 || major > 3) r.error(errc::unsupported, "npy version " + std::to_string(major));
  if (hlen > (1u << 20)) r.error(errc::limit, "npy header longer than 1 MiB");
  std::string_view h = r.str(hlen, "header");
  npy_header out;
  out.data_offset = r.pos();
  size_t i = 0;
  auto ws = [&] {
    while (i < h.size() && (h[i] == ' ' || h[i] == '\n' || h[i] == '\t')) ++i;
  };
  auto expect = [&](char c) {
    ws();
    if (i >= h.size() || h[i] != c)
      r.error_at(errc::bad_value, base + 10 + i, std::string("npy header: expected '") + c + "'");
    ++i;
  };
  auto str = [&]() -> std::string {
    ws();
    if (i >= h.size() || (h[i] != '\'' && h[i] != '"'))
      r.error_at(errc::bad_value, base + 10 + i, "npy header: expected a string");
    char q = h[i++];
    size_t s = i;
    while (i < h.size() && h[i] != q) ++i;
    if (i >= h.size()) r.error_at(errc::bad_value, base + 10 + i, "npy header: unterminated string");
    return std::string(h.substr(s, i++ - s));
  };
  expect('{');
  bool have_descr = false, have_shape = false;
  for (;;) {
    ws();
    if (i < h.size() && h[i] == '}') break;
    std::string key = str();
    expect(':');
    ws();
    if (key == "descr") {
      if (i < h.size() &&
          h[i] == '[') {  // structured: keep the list, note object fields (np.load pickles them)
        size_t s = i;
        int depth = 0;
        for (; i < h.size(); ++i) {
          if (h[i] == '\'' || h[i] == '"') {
            char q = h[i];
            size_t t = ++i;
            while (i < h.size() && h[i] != q) ++i;
            std::string_view code = h.substr(t, i - t);
            if (!code.empty() && (code[0] == '|' || code[0] == '<' || code[0] == '>' || code[0] == '='))
              code.remove_prefix(1);
            if (code == "O" || code == "O8" || code == "O4") out.has_object = true;
            continue;
          }
          if (h[i] == '[' || h[i] == '(') ++depth;
          if ((h[i] == ']' || h[i] == ')') && --depth == 0) break;
        }
        if (i >= h.size())
          r.error_at(errc::bad_value, base + 10 + i, "npy header: unterminated structured dtype");
        out.descr = std::string(h.substr(s, ++i - s));
        out.structured = true;
      } else {
        out.descr = str();
        std::string_view code = out.descr;
        if (!code.empty() && (code[0] == '|' || code[0] == '<' || code[0] == '>' || code[0] == '='))
          code.remove_prefix(1);
        out.has_object = code == "O";
      }
      have_descr = true;
    } else if (key == "fortran_order") {
      if (h.substr(i, 4) == "True") {
        out.fortran = true;
        i += 4;
      } else if (h.substr(i, 5) == "False") {
        i += 5;
      } else
        r.error_at(errc::bad_value, base + 10 + i, "npy header: fortran_order is not True/False");
    } else if (key == "shape") {
      expect('(');
      for (;;) {
        ws();
        if (i < h.size() && h[i] == ')') {
          ++i;
          break;
        }
        size_t s = i;
        while (i < h.size() && h[i] >= '0' && h[i] <= '9') ++i;
        if (s == i || i - s > 18) r.error_at(errc::bad_value, base + 10 + i, "npy header: bad dimension");
        out.shape.push_back(std::stoll(std::string(h.substr(s, i - s))));
        if (out.shape.size() > 64)
          r.error_at(errc::limit, base + 10 + i, "npy header: more than 64 dimensions");
        ws();
        if (i < h.size() && h[i] == ',') ++i;
      }
      have_shape = true;
    } else {
      r.error_at(errc::bad_value, base + 10 + i, "npy header: unknown key '" + key + "'");
    }
    ws();
    if (i < h.size() && h[i] == ',') ++i;
  }
  if (!have_descr || !have_shape) r.error(errc::bad_value, "npy header lacks descr or shape");
  return out;
}

std::optional<dtype> npy_dtype(const std::string& descr, bool* big_endian) {
  *big_endian = !descr.empty() && descr[0] == '>';
  std::string t =
      descr.size() > 1 && (descr[0] == '<' || descr[0] == '>' || descr[0] == '|' || descr[0] == '=')
          ? descr.substr(1)
          : descr;
  static const std::pair<const char*, dtype> k[] = {
      {"f4", dtype::f32}, {"f2", dtype::f16},     {"f8", dtype::f64}, {"i1", dtype::i8},   {"i2", dtype::i16},
      {"i4", dtype::i32}, {"i8", dtype::i64},     {"u1", dtype::u8},  {"u2", dtype::u16},  {"u4", dtype::u32},
      {"u8", dtype::u64}, {"b1", dtype::boolean}, {"c8", dtype::c64}, {"c16", dtype::c128}};
  for (const auto& [name, d] : k)
    if (t == name) return d;
  return std::nullopt;
}

// One .npy (a file or a zip member). `data` are its bytes, `file_base` their absolute offset, `in_file`
// whether they live in the mapped file (so tensor views may point at them).
void load_npy_bytes(archive& a, const uint8_t* d, uint64_t n, uint64_t file_base, bool in_file,
                    const std::string& tensor_name, const std::string& where, uint32_t file_index) {
  npy_header h = parse_npy_header(d, n, file_base);
  if (h.has_object) {
    a.add_finding(severity::medium, "numpy.object_array", where,
                  std::string(h.structured ? "structured dtype with an object field" : "object-dtype array") +
                      ": its data is a pickle (np.load needs allow_pickle=True)",
                  file_base);
    pk::result r = read_pickle(d + h.data_offset, n - h.data_offset, file_base + h.data_offset, true);
    pk::add_findings(r, where, a.findings);
    return;
  }
  bool big = false;
  auto dt = npy_dtype(h.descr, &big);
  tensor_view t;
  t.name = tensor_name;
  t.shape = h.shape;
  t.file_index = file_index;
  if (!dt) {
    a.add_finding(severity::low, "numpy.unsupported_dtype", where,
                  "dtype '" + h.descr + "' not supported; tensor not mapped", file_base);
    return;
  }
  t.type = *dt;
  uint64_t count = shape_element_count(h.shape, file_base);
  uint64_t bytes = checked_mul(count, dtype_info(t.type).type_size, "npy data size", file_base);
  if (bytes > n - h.data_offset)
    fail(errc::truncated, file_base + h.data_offset,
         "npy: data needs " + std::to_string(bytes) + " bytes, " + std::to_string(n - h.data_offset) +
             " present");
  if (bytes < n - h.data_offset)
    a.add_finding(severity::medium, "numpy.trailing_bytes", where,
                  std::to_string(n - h.data_offset - bytes) + " bytes after the array data",
                  file_base + h.data_offset + bytes);
  if (h.fortran && t.shape.size() > 1) {
    int64_t s = 1;
    t.strides.resize(t.shape.size());
    for (size_t k = 0; k < t.shape.size(); ++k) {
      t.strides[k] = s;
      s *= std::max<int64_t>(t.shape[k], 1);
    }
  }
  t.nbytes = bytes;
  t.file_offset = file_base + h.data_offset;
  if (big)
    a.add_finding(severity::low, "numpy.big_endian", where, "big-endian array: tensor not mapped", file_base);
  else if (in_file)
    t.data = d + h.data_offset;
  a.tensors.push_back(std::move(t));
}

// ---------------------------------------------------------------------------------------------------
// zip members

bool is_storage_entry(const std::string& name, const std::string& prefix) {
  if (prefix.empty()) return false;
  std::string dir = prefix + "data/";
  return name.size() > dir.size() && name.compare(0, dir.size(), dir) == 0;
}

// A deflated member read as a stream within the archive's inflate budget: sniffed from its first bytes,
// then its pickle (or an object .npy's pickle) read as it inflates. Nothing holds the member whole.
class deflated_member {
 public:
  deflated_member(const zip::listing& z, const zip::entry& e, zip::inflate_budget& budget)
      : e_(e),
        budget_(budget),
        s_(z, e, std::min(budget.member, budget.total - std::min(budget.used, budget.total))) {
    spent_ = budget.used >= budget.total;
    if (!spent_) fill(16);
  }
  // The first bytes (at least `n` unless the member is shorter).
  const std::vector<uint8_t>& head(uint64_t n) {
    fill(n);
    return head_;
  }
  // Reads the pickle that starts `from` bytes into the member, to the end of the stream.
  pk::result pickle(uint64_t from) {
    replayed_ = std::min<uint64_t>(from, head_.size());
    pk::read_options o;
    o.stacked = true;
    o.size_hint = e_.size > from ? e_.size - from : 1;
    return pk::read_stream(
        [this](uint8_t* out, uint64_t n) -> uint64_t {
          if (replayed_ < head_.size()) {
            uint64_t k = std::min<uint64_t>(n, head_.size() - replayed_);
            std::memcpy(out, head_.data() + replayed_, static_cast<size_t>(k));
            replayed_ += k;
            return k;
          }
          return s_.read(out, n);
        },
        o);
  }
  // What reading showed about the member (budget, corruption, size and CRC): findings at `where`.
  void finish(archive& a, const std::string& where) {
    using st = zip::member_stream::state;
    budget_.used += s_.produced();
    if (spent_)
      a.add_finding(severity::high, "zip.not_verified", where,
                    "not verified: the archive's inflate budget of " + std::to_string(budget_.total) +
                        " bytes is spent; member not examined",
                    e_.local_offset);
    else if (s_.status() == st::over_budget)
      a.add_finding(severity::high, "zip.not_verified", where,
                    "not verified: member " + s_.why() + "; what follows was not examined", e_.local_offset);
    else if (s_.status() == st::corrupt)
      a.add_finding(severity::medium, "zip.unreadable", where, "entry could not be read: " + s_.why(),
                    e_.local_offset);
    else if (s_.status() == st::done && s_.longer())
      a.add_finding(
          severity::high, "zip.not_verified", where,
          "not verified: inflates past its declared " + std::to_string(e_.size) +
              " bytes (a bomb, or readers that disagree on its content); what follows was not examined",
          e_.local_offset);
    else if (s_.status() == st::done && s_.shorter())
      a.add_finding(severity::high, "zip.header_mismatch", where,
                    "inflates to fewer bytes than the " + std::to_string(e_.size) + " declared",
                    e_.local_offset);
    else if (s_.status() == st::done && !s_.crc_ok())
      a.add_finding(severity::medium, "zip.crc_mismatch", where,
                    "CRC-32 of the entry does not match the directory", e_.local_offset);
  }

 private:
  void fill(uint64_t n) {
    while (head_.size() < n) {
      size_t old = head_.size();
      head_.resize(static_cast<size_t>(n));
      uint64_t got = s_.read(head_.data() + old, n - old);
      head_.resize(old + static_cast<size_t>(got));
      if (got == 0) break;
    }
  }
  const zip::entry& e_;
  zip::inflate_budget& budget_;
  zip::member_stream s_;
  bool spent_ = false;
  std::vector<uint8_t> head_;  // (first bytes) read to sniff, replayed to the pickle reader
  uint64_t replayed_ = 0;
};

// A deflated member that is not a tensor storage: an .npy (its header; an object array's pickle from the
// stream), a pickle (by its first bytes or its name), a 7z (not examined). Returns true for a nested zip
// small enough (64 MiB) for the caller to inflate in memory; a bigger one is NOT VERIFIED.
bool scan_deflated_member(archive& a, const zip::listing& z, const zip::entry& e, const std::string& ew,
                          bool by_name, bool npz, zip::inflate_budget& budget) {
  deflated_member m(z, e, budget);
  const std::vector<uint8_t>& h = m.head(16);
  bool nested = false;
  if (h.size() >= 6 && std::memcmp(h.data(), "\x93NUMPY", 6) == 0) {
    try {
      const std::vector<uint8_t>& hh = m.head(12);
      uint64_t hlen = hh.size() < 12 ? 0
                      : hh[6] == 1   ? load_le<uint16_t>(hh.data() + 8)
                                     : load_le<uint32_t>(hh.data() + 8);
      const std::vector<uint8_t>& full = m.head(std::min<uint64_t>(hlen, (1u << 20) + 1) + 12);
      npy_header nh = parse_npy_header(full.data(), full.size(), 0);
      if (nh.has_object) {
        a.add_finding(
            severity::medium, "numpy.object_array", ew,
            std::string(nh.structured ? "structured dtype with an object field" : "object-dtype array") +
                ": its data is a pickle (np.load needs allow_pickle=True)",
            0);
        pk::add_findings(m.pickle(nh.data_offset), ew, a.findings);
      }
    } catch (const failure& f) {
      a.add_finding(severity::medium, "numpy.malformed", ew, f.err().message, f.err().offset);
    }
  } else if (h.size() >= 6 && std::memcmp(h.data(), "7z\xBC\xAF\x27\x1C", 6) == 0) {
    a.add_finding(severity::medium, "zip.member_not_scanned", ew,
                  "7z archive inside the zip: not supported, not examined", e.local_offset);
  } else if (h.size() >= 4 && std::memcmp(h.data(), "PK\x03\x04", 4) == 0) {
    nested = e.size <= (64u << 20);
    if (!nested)
      a.add_finding(severity::high, "zip.not_verified", ew,
                    "not verified: a compressed zip of " + std::to_string(e.size) +
                        " bytes inside the zip (inflated whole past 64 MiB); not examined",
                    e.local_offset);
  } else if (!h.empty() &&
             (looks_like_pickle(h.data(), h.size()) || (by_name && !npz && pk::is_opcode(h[0])))) {
    pk::add_findings(m.pickle(0), ew, a.findings);
  }
  m.finish(a, ew);
  return nested;
}

// Scans every member that is not a tensor storage: pickles, .npy, nested zips (depth-capped).
void scan_zip_members(archive& a, const zip::listing& z, const std::string& where,
                      const std::string& torch_prefix, uint32_t file_index, bool npz, int depth,
                      zip::inflate_budget& budget, const zip::entry* skip = nullptr) {
  for (const auto& e : z.entries) {
    if (is_storage_entry(e.name, torch_prefix)) continue;
    if (&e == skip) continue;  // data.pkl, read by the caller
    if (e.name.ends_with("/")) continue;
    std::string ew = where + ":" + e.name;
    if (!e.readable) continue;  // reported by the zip reader
    bool by_name =
        std::ranges::any_of(k_pickle_names, [&](std::string_view s) { return e.name.ends_with(s); });
    bool plain_peek = e.method == 0 && e.comp_size >= 2;
    const uint8_t* peek = z.data + e.data_offset;
    if (e.name.ends_with(".7z") ||
        (e.method == 0 && e.comp_size >= 6 && std::memcmp(peek, "7z\xBC\xAF\x27\x1C", 6) == 0)) {
      a.add_finding(severity::medium, "zip.member_not_scanned", ew,
                    "7z archive inside the zip: not supported, not examined", e.local_offset);
      continue;
    }
    bool looks = plain_peek && (looks_like_pickle(peek, e.comp_size) ||
                                (e.comp_size >= 6 && std::memcmp(peek, "\x93NUMPY", 6) == 0) ||
                                (e.comp_size >= 4 && std::memcmp(peek, "PK\x03\x04", 4) == 0));
    if (!by_name && !looks && e.method != 8) continue;
    if (e.method == 8 && !scan_deflated_member(a, z, e, ew, by_name, npz, budget)) continue;
    zip::content c = zip::read(z, e);
    if (!c.ok) {
      a.add_finding(severity::medium, "zip.unreadable", ew, "entry could not be read: " + c.why,
                    e.local_offset);
      continue;
    }
    if (!c.crc_ok)
      a.add_finding(severity::medium, "zip.crc_mismatch", ew,
                    "CRC-32 of the entry does not match the directory", e.local_offset);
    bool in_file = e.method == 0;
    uint64_t base = in_file ? e.data_offset : 0;
    if (c.size >= 6 && std::memcmp(c.data, "\x93NUMPY", 6) == 0) {
      std::string tname = e.name.ends_with(".npy") ? e.name.substr(0, e.name.size() - 4) : e.name;
      try {
        load_npy_bytes(a, c.data, c.size, base, in_file, tname, ew, file_index);
      } catch (const failure& f) {
        a.add_finding(severity::medium, "numpy.malformed", ew, f.err().message, f.err().offset);
      }
    } else if (c.size >= 4 && std::memcmp(c.data, "PK\x03\x04", 4) == 0 && depth >= 2) {
      a.add_finding(severity::medium, "zip.member_not_scanned", ew,
                    "zip nested more than 2 levels deep: not examined", e.local_offset);
    } else if (c.size >= 4 && std::memcmp(c.data, "PK\x03\x04", 4) == 0) {
      try {
        zip::listing inner = zip::open(c.data, c.size);
        for (finding f : inner.findings) {
          f.where = ew + (f.where.empty() ? "" : ":" + f.where);
          a.findings.push_back(std::move(f));
        }
        // nested views cannot point into the mapped file unless stored; keep tensors out of nested zips
        archive sub;
        scan_zip_members(sub, inner, ew, "", file_index, false, depth + 1, budget);
        for (auto& f : sub.findings) a.findings.push_back(std::move(f));
      } catch (const failure& f) {
        a.add_finding(severity::medium, "zip.nested_unreadable", ew, "nested zip: " + f.err().message,
                      e.local_offset);
      }
    } else if (c.size >= 1 &&
               (looks_like_pickle(c.data, c.size) || ((by_name && !npz) && pk::is_opcode(c.data[0])))) {
      pk::result r = read_pickle(c.data, c.size, base, true);
      pk::add_findings(r, ew, a.findings);
    }
  }
}

void add_zip_findings(archive& a, const zip::listing& z, const std::string& where) {
  for (finding f : z.findings) {
    f.where = f.where.empty() ? where : where + ":" + f.where;
    a.findings.push_back(std::move(f));
  }
}

uint32_t add_source(archive& a, const mapped_file_ptr& m, file_format f) {
  source_file s;
  s.path = m->path();
  s.role = "weights";
  s.format = f;
  s.map = m;
  a.files.push_back(std::move(s));
  return static_cast<uint32_t>(a.files.size() - 1);
}

void meta_string(archive& a, const std::string& key, const std::string& v) {
  meta_value mv;
  mv.k = meta_value::kind::string;
  mv.s = v;
  a.metadata.emplace_back(key, std::move(mv));
}

}  // namespace

void load_pytorch_zip(archive& a, const mapped_file_ptr& m, const open_options&) {
  const std::string where = m->path();
  zip::inflate_budget budget = zip::inflate_budget_for_thread();
  zip::listing z = zip::open(m->data(), m->size());
  add_zip_findings(a, z, where);
  // torch.load: the one "<prefix>/data.pkl" entry (prefix = the archive folder name)
  const zip::entry* pkl = nullptr;
  std::string prefix;
  for (const auto& e : z.entries) {
    if (e.local_only) continue;  // torch.load reads the central directory
    if (e.name == "data.pkl" || e.name.ends_with("/data.pkl")) {
      std::string p = e.name.substr(0, e.name.size() - 8);
      if (p.find('/') != p.size() - 1 && !p.empty()) continue;  // only one folder level
      if (pkl) {
        a.add_finding(severity::high, "pytorch.multiple_data_pkl", where,
                      "more than one data.pkl: readers disagree on which loads", e.local_offset);
        continue;
      }
      pkl = &e;
      prefix = p;
    }
  }
  bool npz = where.ends_with(".npz");
  if (!pkl) {
    a.format = file_format::zip;
    if (a.format_version.empty()) a.format_version = z.zip64 ? "zip64" : "zip";
    uint32_t fi = add_source(a, m, file_format::zip);
    if (npz) a.format = file_format::numpy;
    scan_zip_members(a, z, where, "", fi, npz, 0, budget);
    return;
  }
  a.format = file_format::pytorch_zip;
  uint32_t fi = add_source(a, m, file_format::pytorch_zip);
  if (const zip::entry* v = z.find(prefix + "version")) {
    zip::content c = zip::read(z, *v);
    if (c.ok && c.size < 64) {
      std::string s(reinterpret_cast<const char*>(c.data), c.size);
      while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
      a.format_version = s;
      meta_string(a, "pytorch.version", s);
    }
  }
  bool little = true;
  if (const zip::entry* b = z.find(prefix + "byteorder")) {
    zip::content c = zip::read(z, *b);
    if (c.ok) {
      std::string s(reinterpret_cast<const char*>(c.data), std::min<uint64_t>(c.size, 16));
      little = s.rfind("little", 0) == 0;
      meta_string(a, "pytorch.byteorder", s);
    }
  }
  if (!little)
    a.add_finding(severity::medium, "pytorch.big_endian", where,
                  "big-endian checkpoint: tensors are not mapped", 0);
  // The pickle first: its findings must survive anything that fails later.
  pk::result r;
  if (pkl->method == 8 && pkl->readable) {  // compressed: read as it inflates, never held whole
    deflated_member dm(z, *pkl, budget);
    r = dm.pickle(0);
    dm.finish(a, where + ":" + pkl->name);
    scan_zip_members(a, z, where, prefix, fi, false, 0, budget, pkl);
  } else {
    zip::content c = zip::read(z, *pkl);
    scan_zip_members(a, z, where, prefix, fi, false, 0, budget, pkl);
    if (!c.ok) {
      a.add_finding(severity::high, "pytorch.unreadable_pickle", where + ":" + pkl->name,
                    "data.pkl could not be read: " + c.why, pkl->local_offset);
      return;
    }
    if (!c.crc_ok)
      a.add_finding(severity::medium, "zip.crc_mismatch", where + ":" + pkl->name,
                    "CRC-32 of data.pkl does not match the directory", pkl->local_offset);
    r = read_pickle(c.data, c.size, pkl->method == 0 ? pkl->data_offset : 0, true);
  }
  pk::add_findings(r, where + ":" + pkl->name, a.findings);
  if (r.roots.empty()) return;
  std::set<std::string> referenced;
  const size_t first = a.tensors.size();
  rebuild_tensors(a, r, r.roots[0], fi, where, [&](const std::string& key, dtype) {
    storage_bytes sb;
    referenced.insert(prefix + "data/" + key);
    const zip::entry* e = z.find(prefix + "data/" + key);
    if (!e) {
      sb.why = "no entry " + prefix + "data/" + key;
      return sb;
    }
    sb.size = e->size;
    sb.file_offset = e->data_offset;
    if (e->method != 0) {
      sb.file_offset = e->data_offset;
      a.add_finding(severity::low, "pytorch.compressed_storage", where + ":" + e->name,
                    "storage is compressed: tensor bytes not mapped", e->local_offset);
    } else if (e->readable && little) {
      sb.data = m->data() + e->data_offset;
    }
    return sb;
  });
  checkpoint_unwrap(a, first, r, r.roots[0], where);
  // storages no persistent id names: bytes a loader never looks at (hidden payload or a stale checkpoint).
  // Tensors inside objects (a full torch.save(module) keeps them in BUILD states) are referenced too.
  for (const auto& v : r.values)
    if (v.k == pk::kind::persid) {
      storage_ref s = parse_persid(r, v.args);
      if (!s.key.empty()) referenced.insert(prefix + "data/" + s.key);
    }
  for (const auto& e : z.entries)
    if (is_storage_entry(e.name, prefix) && !referenced.count(e.name))
      a.add_finding(severity::medium, "pytorch.unreferenced_storage", where + ":" + e.name,
                    "storage of " + std::to_string(e.size) + " bytes that no tensor in data.pkl references",
                    e.local_offset);
}

void load_pytorch_legacy(archive& a, const mapped_file_ptr& m, const open_options&) {
  const std::string where = m->path();
  a.format = file_format::pytorch_legacy;
  a.format_version = "legacy";
  uint32_t fi = add_source(a, m, file_format::pytorch_legacy);
  const uint8_t* d = m->data();
  uint64_t n = m->size();
  uint64_t pos = 0;
  std::vector<pk::result> parts;
  const char* names[] = {"magic number", "protocol version", "sys info", "state", "storage keys"};
  for (int k = 0; k < 5; ++k) {
    pk::result r = read_pickle(d + pos, n - pos, pos, false);
    pk::add_findings(r, where, a.findings);
    if (!r.complete || r.roots.empty())
      fail(errc::bad_pickle, pos, std::string("legacy torch: the ") + names[k] + " pickle is malformed");
    pos += r.end;
    parts.push_back(std::move(r));
  }
  const pk::value& magic = parts[0].at(parts[0].roots[0]);
  if (!(magic.k == pk::kind::integer && magic.big && magic.s.size() == 10 &&
        std::memcmp(magic.s.data(), k_legacy_magic, 10) == 0))
    a.add_finding(severity::high, "pytorch.bad_magic", where,
                  "legacy checkpoint without the torch magic number", 0);
  const pk::value& proto = parts[1].at(parts[1].roots[0]);
  if (proto.k == pk::kind::integer) meta_string(a, "pytorch.protocol_version", std::to_string(proto.i));
  // sys_info: {'little_endian': bool, ...}
  bool little = true;
  const pk::value& sys = parts[2].at(parts[2].roots[0]);
  for (size_t k = 0; k + 1 < sys.items.size(); k += 2)
    if (parts[2].at(sys.items[k]).s == "little_endian" &&
        parts[2].at(sys.items[k + 1]).k == pk::kind::boolean)
      little = parts[2].at(sys.items[k + 1]).b;
  if (!little)
    a.add_finding(severity::medium, "pytorch.big_endian", where,
                  "big-endian checkpoint: tensors are not mapped", 0);
  // Storage element types come from the state pickle's persistent ids.
  const pk::result& st = parts[3];
  std::map<std::string, dtype> types;
  for (const auto& v : st.values)
    if (v.k == pk::kind::persid) {
      storage_ref s = parse_persid(st, v.args);
      if (s.ok) types.emplace(s.key, s.type);
    }
  // Raw storages: for each key, int64 element count then the bytes.
  std::map<std::string, storage_bytes> storages;
  const pk::value& keys = parts[4].at(parts[4].roots[0]);
  reader r(d, n, "legacy torch storages");
  r.seek(pos, "storages");
  bool complete = true;
  for (uint32_t ki : keys.items) {
    const pk::value& key = parts[4].at(ki);
    if (key.k != pk::kind::string)
      fail(errc::bad_value, r.offset(), "legacy torch: storage key is not a string");
    auto t = types.find(key.s);
    if (t == types.end()) {
      a.add_finding(severity::medium, "pytorch.unknown_storage", where,
                    "storage '" + key.s + "' has no type in the state pickle", r.offset());
      complete = false;
      break;
    }
    uint64_t at = r.offset();
    int64_t count = r.i64("storage element count");
    if (count < 0) fail(errc::bad_value, at, "legacy torch: negative storage size");
    uint64_t bytes =
        checked_mul(static_cast<uint64_t>(count), dtype_info(t->second).type_size, "storage bytes", at);
    if (bytes > r.remaining())
      fail(errc::truncated, at,
           "legacy torch: storage '" + key.s + "' needs " + std::to_string(bytes) + " bytes, " +
               std::to_string(r.remaining()) + " left");
    storage_bytes sb;
    sb.file_offset = r.offset();
    sb.size = bytes;
    if (little) sb.data = d + r.offset();
    storages[key.s] = sb;
    r.skip(bytes, "storage bytes");
  }
  if (complete && !r.at_end())
    a.add_finding(severity::medium, "pytorch.trailing_bytes", where,
                  std::to_string(r.remaining()) + " bytes after the last storage (polyglot or appended data)",
                  r.offset());
  const size_t first = a.tensors.size();
  rebuild_tensors(a, st, st.roots[0], fi, where, [&](const std::string& key, dtype) {
    auto it = storages.find(key);
    if (it != storages.end()) return it->second;
    storage_bytes sb;
    sb.why = "storage not found after the pickles";
    return sb;
  });
  checkpoint_unwrap(a, first, st, st.roots[0], where);
}

void load_pickle(archive& a, const mapped_file_ptr& m, const open_options&) {
  const std::string where = m->path();
  a.format = file_format::pickle;
  uint32_t fi = add_source(a, m, file_format::pickle);
  pk::result r = read_pickle(m->data(), m->size(), 0, true);
  a.format_version = r.protocol < 0 ? "protocol 0/1" : "protocol " + std::to_string(r.protocol);
  pk::add_findings(r, where, a.findings);
  // torch.load opens a file as zip first when it has a zip end record: a zip hidden in a pickle
  if (zip::has_eocd(m->data(), m->size())) {
    try {
      zip::listing z = zip::open(m->data(), m->size());
      a.add_finding(severity::high, "file.polyglot", where,
                    "the pickle is also a zip archive (torch.load opens it as a zip)", 0);
      add_zip_findings(a, z, where);
      zip::inflate_budget budget = zip::inflate_budget_for_thread();
      scan_zip_members(a, z, where, "", fi, false, 0, budget);
    } catch (const failure&) {
      // not a usable zip: nothing hidden that a reader would open
    }
  }
}

void load_numpy(archive& a, const mapped_file_ptr& m, const open_options& opt) {
  const uint8_t* d = m->data();
  if (m->size() >= 4 && std::memcmp(d, "PK\x03\x04", 4) == 0) {
    load_pytorch_zip(a, m, opt);  // .npz: a zip of .npy members
    a.format = file_format::numpy;
    a.format_version = "npz";
    return;
  }
  a.format = file_format::numpy;
  a.format_version = "npy";
  uint32_t fi = add_source(a, m, file_format::numpy);
  std::string base = file_name(m->path());
  if (base.ends_with(".npy")) base.resize(base.size() - 4);
  load_npy_bytes(a, d, m->size(), 0, true, base, m->path(), fi);
}

}  // namespace gb::loaders
