// The scan engine: per-file dispatch, coverage accounting, chat-template and config checks.
#include "inspect/scan.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "formats/dtype.h"
#include "formats/file_text.h"
#include "formats/json_meta.h"
#include "formats/pickle.h"
#include "formats/reader.h"
#include "formats/zip.h"
#include "inspect/parallel.h"
#include "inspect/template_fold.h"

namespace gb {

const char* scan_status_name(scan_status s) {
  switch (s) {
    case scan_status::full:
      return "fully scanned";
    case scan_status::partial:
      return "partly scanned";
    case scan_status::none:
      return "not scanned";
  }
  return "not scanned";
}

const char* scan_verdict_name(scan_verdict v) {
  switch (v) {
    case scan_verdict::clean:
      return "CLEAN";
    case scan_verdict::suspicious:
      return "SUSPICIOUS";
    case scan_verdict::not_verified:
      return "NOT VERIFIED";
    case scan_verdict::dangerous:
      return "DANGEROUS";
  }
  return "NOT VERIFIED";
}

scan_verdict scan_file::verdict() const {
  severity w = worst();
  if (w >= severity::critical) return scan_verdict::dangerous;
  if (status != scan_status::full) return scan_verdict::not_verified;
  for (const auto& f : findings)
    if (finding_not_verified(f)) return scan_verdict::not_verified;
  return w >= severity::high ? scan_verdict::suspicious : scan_verdict::clean;
}

severity scan_file::worst() const {
  severity w = severity::info;
  for (const auto& f : findings) w = std::max(w, f.level);
  return w;
}

severity scan_report::worst() const {
  severity w = severity::info;
  for (const auto& f : files) w = std::max(w, f.worst());
  return w;
}

size_t scan_report::count(severity s) const {
  size_t n = 0;
  for (const auto& f : files)
    for (const auto& x : f.findings) n += x.level == s;
  return n;
}

size_t scan_report::count(scan_status s) const {
  size_t n = 0;
  for (const auto& f : files) n += f.status == s;
  return n;
}

bool finding_limits_coverage(const finding& f) {
  static const char* const k_codes[] = {"pickle.malformed",
                                        "pickle.limit",
                                        "zip.encrypted",
                                        "zip.unsupported_method",
                                        "zip.bomb",
                                        "zip.bad_entry",
                                        "zip.unreadable",
                                        "zip.nested_unreadable",
                                        "numpy.malformed",
                                        "pytorch.unknown_storage",
                                        "pytorch.unreadable_pickle",
                                        "zip.member_not_scanned",
                                        "zip.not_verified",
                                        "json.too_deep",
                                        "pickle.not_verified",
                                        "scan.not_verified"};
  for (const char* c : k_codes)
    if (f.code == c) return true;
  return false;
}

bool finding_not_verified(const finding& f) {
  static constexpr std::string_view k_suffix = ".not_verified";
  return f.code.size() > k_suffix.size() &&
         f.code.compare(f.code.size() - k_suffix.size(), k_suffix.size(), k_suffix) == 0;
}

bool scan_fails(const scan_report& r, severity fail_on) {
  for (const auto& f : r.files)
    for (const auto& x : f.findings)
      if (x.level >= fail_on || finding_not_verified(x)) return true;
  return false;
}

namespace {

std::string lower_ext(const std::string& path) {
  auto slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  auto dot = base.find_last_of('.');
  if (dot == std::string::npos) return "";
  std::string e = base.substr(dot + 1);
  for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

bool starts(const uint8_t* d, uint64_t n, std::string_view magic) {
  return n >= magic.size() && std::memcmp(d, magic.data(), magic.size()) == 0;
}

// Non-model file types recognised by magic bytes: what they are and how worrying they are in a model.
struct magic_kind {
  std::string_view magic;
  const char* kind;
  severity level;  // info: harmless content; high: executable code
};
const magic_kind k_magics[] = {
    {"\x89PNG\r\n\x1a\n", "png image", severity::info},
    {"\xff\xd8\xff", "jpeg image", severity::info},
    {"GIF8", "gif image", severity::info},
    {"%PDF", "pdf document", severity::info},
    {"\x7f"
     "ELF",
     "ELF executable", severity::high},
    {"MZ", "windows executable", severity::high},
    {"\xcf\xfa\xed\xfe", "mach-o executable", severity::high},
    {"#!", "script with an interpreter line", severity::high},
};

bool checkpoint_extension(const std::string& ext) {
  return ext == "pt" || ext == "pth" || ext == "bin" || ext == "ckpt" || ext == "pkl" || ext == "pickle" ||
         ext == "safetensors" || ext == "gguf" || ext == "onnx" || ext == "joblib" || ext == "npy" ||
         ext == "npz";
}

bool pickle_extension(const std::string& ext) {
  return ext == "pkl" || ext == "pickle" || ext == "joblib" || ext == "pt" || ext == "pth" || ext == "bin" ||
         ext == "ckpt" || ext == "dat" || ext == "data";
}

bool text_like(const uint8_t* d, uint64_t n) {
  uint64_t k = std::min<uint64_t>(n, 4096);
  if (std::memchr(d, 0, static_cast<size_t>(k))) return false;
  // a cut in the middle of a UTF-8 sequence at the 4 KiB boundary is fine
  std::string_view s(reinterpret_cast<const char*>(d), static_cast<size_t>(k));
  while (!s.empty() && !utf8_valid(s) && k == 4096 && s.size() > 4092) s.remove_suffix(1);
  return utf8_valid(s);
}

// What a pytorch/pickle extension expects, for the extension-mismatch finding.
bool extension_fits(const std::string& ext, file_format f) {
  if (ext.empty()) return true;
  if (ext == "pt" || ext == "pth" || ext == "ckpt" || ext == "bin")
    return f == file_format::pytorch_zip || f == file_format::pytorch_legacy || f == file_format::pickle ||
           f == file_format::zip ||
           (ext == "bin" &&
            (f == file_format::llama2c || f == file_format::llama2c_tokenizer || f == file_format::unknown));
  if (ext == "pkl" || ext == "pickle" || ext == "joblib")
    return f == file_format::pickle || f == file_format::pytorch_legacy;
  if (ext == "safetensors") return f == file_format::safetensors;
  if (ext == "gguf") return f == file_format::gguf;
  if (ext == "zip") return f == file_format::zip || f == file_format::pytorch_zip;
  if (ext == "npy" || ext == "npz") return f == file_format::numpy || f == file_format::zip;
  return true;
}

void template_findings_from_json(const nlohmann::json& j, const std::string& where,
                                 std::vector<finding>& out) {
  auto one = [&](const nlohmann::json& t, const std::string& w) {
    if (!t.is_string()) return;
    const std::string& s = t.get_ref<const std::string&>();
    out.push_back(
        {severity::info, "template.present", w,
         "chat template of " + std::to_string(s.size()) + " characters (audited as text, never rendered)",
         UINT64_MAX});
    scan_template_text(s, w, out);
  };
  if (!j.is_object()) return;
  auto it = j.find("chat_template");
  if (it != j.end()) {
    if (it->is_string())
      one(*it, where + ":chat_template");
    else if (it->is_array())
      for (const auto& e : *it)
        if (e.is_object() && e.contains("template"))
          one(e["template"], where + ":chat_template[" +
                                 (e.contains("name") && e["name"].is_string() ? e["name"].get<std::string>()
                                                                              : std::string("?")) +
                                 "]");
  }
  auto am = j.find("auto_map");
  if (am != j.end() && am->is_object()) {
    // "modeling_x.XModel" runs modeling_x.py beside the config; "org/repo--modeling_x.XModel" fetches it
    namespace fs = std::filesystem;
    fs::path dir = fs::path(where).parent_path();
    std::vector<std::string> files;
    auto add = [&](const nlohmann::json& v) {
      if (!v.is_string()) return;
      std::string ref = v.get<std::string>(), repo;
      if (auto dd = ref.find("--"); dd != std::string::npos) {
        repo = ref.substr(0, dd);
        ref = ref.substr(dd + 2);
      }
      auto dot = ref.rfind('.');
      if (dot == std::string::npos || dot == 0) return;
      std::string file = ref.substr(0, dot);
      std::replace(file.begin(), file.end(), '.', '/');
      file += ".py";
      std::error_code ec;
      std::string note = !repo.empty()                ? " (from the Hub repo " + repo + ")"
                         : fs::exists(dir / file, ec) ? " (present)"
                                                      : " (missing here: fetched from the Hub)";
      std::string entry = file + note;
      if (std::find(files.begin(), files.end(), entry) == files.end()) files.push_back(entry);
    };
    for (auto e = am->begin(); e != am->end(); ++e) {
      if (e->is_array())
        for (const auto& x : *e) add(x);
      else
        add(*e);
    }
    std::string list;
    for (const auto& f : files) list += (list.empty() ? "" : ", ") + f;
    out.push_back({severity::high, "config.remote_code", where,
                   "auto_map: loading with trust_remote_code=True runs Python code from " +
                       (list.empty() ? std::string("unnamed files") : list).substr(0, 600),
                   UINT64_MAX});
  }
  // a shard index: every shard it names must exist beside it and stay inside the folder
  auto wm = j.find("weight_map");
  if (wm != j.end() && wm->is_object()) {
    namespace fs = std::filesystem;
    fs::path dir = fs::path(where).parent_path();
    std::vector<std::string> shards;
    for (auto e = wm->begin(); e != wm->end(); ++e)
      if (e->is_string() && std::find(shards.begin(), shards.end(), e->get<std::string>()) == shards.end())
        shards.push_back(e->get<std::string>());
    size_t reported = 0;
    for (const auto& sh : shards) {
      std::string problem = zip::name_problem(sh);
      std::error_code ec;
      if (!problem.empty()) {
        out.push_back({severity::critical, "index.path_traversal", where,
                       "shard '" + sh.substr(0, 200) + "' leaves the model folder (" + problem + ")",
                       UINT64_MAX});
      } else if (!fs::is_regular_file(dir / sh, ec)) {
        if (++reported <= 20)
          out.push_back({severity::high, "index.missing_shard", where,
                         "shard '" + sh.substr(0, 200) +
                             "' named by the index does not exist: the model is incomplete "
                             "and what a loader finds under that name was not scanned",
                         UINT64_MAX});
      }
    }
  }
}

void scan_json(scan_file& sf, const uint8_t* d, uint64_t n) {
  sf.kind = "json";
  // nlohmann's DOM parse has no depth limit (8 MB of '[' cost 420 MB of heap): check nesting first
  std::string_view text(reinterpret_cast<const char*>(d), static_cast<size_t>(n));
  if (auto at = json_depth_exceeded(text, kJsonMaxDepth)) {
    sf.status = scan_status::partial;
    sf.reason = "JSON nested deeper than " + std::to_string(kJsonMaxDepth) + " levels: not parsed";
    sf.findings.push_back({severity::medium, "json.too_deep", sf.path,
                           "JSON nesting deeper than " + std::to_string(kJsonMaxDepth) + " levels at byte " +
                               std::to_string(*at) + " (contents not examined)",
                           *at});
    return;
  }
  nlohmann::json j = nlohmann::json::parse(d, d + n, nullptr, false);
  if (j.is_discarded()) {
    sf.status = scan_status::partial;
    sf.reason = "JSON does not parse";
    sf.findings.push_back({severity::low, "json.malformed", sf.path, "file does not parse as JSON", 0});
    return;
  }
  template_findings_from_json(j, sf.path, sf.findings);
}

// Loads a model file through the loaders, keeping the findings even when the loader throws.
void scan_model(scan_file& sf, const mapped_file_ptr& m, file_format f, const scan_options& so) {
  archive a;
  a.path = sf.path;
  open_options opt;
  opt.load_tokenizer = false;
  zip::inflate_budget_scope budget(so.inflate_member, so.inflate_total);  // compressed zip members
  std::string error;
  uint64_t error_offset = 0;
  bool traversal = false;
  try {
    archive_load_as(a, m, f, opt);  // the dispatch archive_open uses (formats/open.cpp)
  } catch (const failure& e) {
    error = e.err().message;
    error_offset = e.err().offset;
    traversal = e.err().code == errc::path_escape;
  } catch (const std::bad_alloc&) {
    error = "out of memory while reading";
  }
  sf.format = a.format != file_format::unknown ? a.format : f;
  sf.kind = file_format_name(sf.format);
  if (!a.format_version.empty()) sf.kind += " (" + a.format_version + ")";
  for (auto& x : a.findings) {
    if (x.where.empty()) x.where = sf.path;
    sf.findings.push_back(std::move(x));
  }
  // tokenizer.chat_template and its named variants (tokenizer.chat_template.tool_use ...)
  for (const auto& [key, t] : a.metadata) {
    if (key.rfind("tokenizer.chat_template", 0) != 0 || t.k != meta_value::kind::string) continue;
    std::string w = sf.path + ":" + key;
    sf.findings.push_back(
        {severity::info, "template.present", w,
         "chat template of " + std::to_string(t.s.size()) + " characters (audited as text, never rendered)",
         UINT64_MAX});
    scan_template_text(t.s, w, sf.findings);
  }
  for (const auto& src : a.files)
    if (src.role == "external_data") sf.covers.push_back(src.path);
  if (traversal) {  // CVE-2022-25882 / CVE-2024-27318 class: the model names a file outside its folder
    sf.findings.push_back(
        {severity::critical, "file.path_traversal", sf.path,
         "path traversal: " + error + " (a loader would read that file as part of the model)", error_offset});
    sf.reason = error;
    return;
  }
  if (!error.empty()) {
    sf.findings.push_back(
        {severity::medium, "file.unreadable", sf.path, "loader stopped: " + error, error_offset});
    bool pickle_family = f == file_format::pickle || f == file_format::pytorch_legacy ||
                         f == file_format::zip || f == file_format::pytorch_zip || f == file_format::numpy;
    // Pickle imports are reported as they are read, so what came before the error was examined; the
    // file as a whole was not: NOT VERIFIED (scan_one adds the finding).
    sf.status = pickle_family ? scan_status::partial : scan_status::none;
    sf.reason = error;
    return;
  }
  for (const auto& x : sf.findings)
    if (finding_limits_coverage(x)) {
      sf.status = scan_status::partial;
      if (sf.reason.empty()) sf.reason = x.message;
    }
  // A zip hidden in a non-zip model file (pickles check this themselves).
  bool zipish = f == file_format::zip || f == file_format::pytorch_zip || f == file_format::numpy ||
                f == file_format::pickle;
  if (!zipish && zip::has_eocd(m->data(), m->size())) {
    try {
      zip::listing z = zip::open(m->data(), m->size());
      sf.findings.push_back({severity::high, "file.polyglot", sf.path,
                             std::string("the ") + file_format_name(f) + " file is also a zip archive with " +
                                 std::to_string(z.entries.size()) + " entries",
                             z.cd_offset});
    } catch (const failure&) {
    }
  }
}

}  // namespace

void scan_template_text(std::string_view template_text, const std::string& where, std::vector<finding>& out) {
  template_fold_scan(template_text, where, out);  // the template as Jinja code: folded names, gadget objects
  // the spelled-out patterns below look at code only: `__class__` in a {# comment #} or in plain text is
  // never evaluated (offsets are unchanged: text outside the tags is blanked)
  const std::string code = template_code_text(template_text);
  std::string_view text(code);
  struct pattern {
    const char* needle;
    bool word;  // must not be preceded by an identifier character
    severity level;
    const char* why;
  };
  static const pattern k_patterns[] = {
      {"__class__", false, severity::high, "reaches Python classes"},
      {"__globals__", false, severity::high, "reaches module globals"},
      {"__subclasses__", false, severity::high, "enumerates classes (sandbox escape)"},
      {"__builtins__", false, severity::high, "reaches builtins"},
      {"__import__", false, severity::high, "imports modules"},
      {"__mro__", false, severity::high, "walks the class hierarchy"},
      {"__base__", false, severity::high, "walks the class hierarchy"},
      {"__init__", false, severity::high, "reaches constructors and their globals"},
      {"import", true, severity::high, "imports modules"},
      {"os.", true, severity::high, "uses the os module"},
      {"popen", true, severity::high, "runs shell commands"},
      {"subprocess", true, severity::high, "runs processes"},
      {"eval", true, severity::high, "evaluates code"},
      {"exec", true, severity::high, "executes code"},
      {"getattr", true, severity::medium, "dynamic attribute access"},
      {"|attr(", false, severity::medium, "dynamic attribute access (jinja attr filter)"},
      {".__", false, severity::medium, "dunder attribute walk"},
  };
  size_t reported = 0;
  for (const auto& p : k_patterns) {
    size_t at = 0;
    std::string_view needle(p.needle);
    while ((at = text.find(needle, at)) != std::string_view::npos) {
      bool ok = true;
      if (p.word && at > 0) {
        char c = text[at - 1];
        ok = !(std::isalnum(static_cast<unsigned char>(c)) || c == '_');
      }
      if (p.word && ok && needle.back() != '.' && at + needle.size() < text.size()) {
        char c = text[at + needle.size()];
        ok = !(std::isalnum(static_cast<unsigned char>(c)) || c == '_');
      }
      if (ok) {
        if (++reported > 50) return;
        size_t from = at > 20 ? at - 20 : 0;
        std::string ctx(template_text.substr(from, std::min<size_t>(60, text.size() - from)));
        for (char& c : ctx)
          if (c == '\n' || c == '\r') c = ' ';
        out.push_back({p.level, "template.injection", where,
                       std::string("template uses '") + p.needle + "' (" + p.why + "): ..." + ctx + "...",
                       at});
        break;  // one finding per construct
      }
      at += needle.size();
    }
  }
}

namespace {

// Protocol 0/1 pickles carry no magic and may look like text: a file is a pickle when CPython's
// pickle.load would get somewhere with it (a first pickle read to its STOP, or a call before it fails).
bool pickle_content(const uint8_t* d, uint64_t n) {
  if (n == 0 || !pickle::is_opcode(d[0])) return false;
  pickle::read_options o;
  o.lim.max_memory =
      64ull << 20;  // a sniff: a pickle that needs more is found by its STOP-less failure below
  pickle::result r = pickle::read(d, n, o);
  if (!r.roots.empty()) return true;
  for (const auto& g : r.globals)
    if (!g.swept && (g.invoked || g.level == pickle::safety::dangerous)) return true;
  return false;
}

scan_file scan_one_file(const std::string& path, const scan_options& opt);

// A tar header block: its checksum (bytes summed with the checksum field read as spaces) matches.
bool tar_header(const uint8_t* h) {
  uint64_t sum = 0, want = 0;
  for (int k = 0; k < 512; ++k) sum += (k >= 148 && k < 156) ? ' ' : h[k];
  int k = 148;
  while (k < 156 && h[k] == ' ') ++k;
  if (k == 156 || h[k] < '0' || h[k] > '7') return false;
  for (; k < 156 && h[k] >= '0' && h[k] <= '7'; ++k) want = want * 8 + static_cast<uint64_t>(h[k] - '0');
  return sum == want;
}

uint64_t tar_size(const uint8_t* h, bool* ok) {
  uint64_t v = 0;
  if (h[124] & 0x80) {  // base-256 (GNU) for big members
    for (int k = 125; k < 136; ++k) {
      if (v >> 56) *ok = false;
      v = (v << 8) | h[k];
    }
    return v;
  }
  for (int k = 124; k < 136 && h[k] >= '0' && h[k] <= '7'; ++k) {
    if (v >> 60) *ok = false;
    v = v * 8 + static_cast<uint64_t>(h[k] - '0');
  }
  return v;
}

// One stacked pickle inside a legacy member; false when it did not read to its STOP.
bool tar_pickle(const uint8_t* d, uint64_t at, uint64_t end, const std::string& where,
                std::vector<finding>& out, pickle::result* keep, uint64_t* next) {
  pickle::read_options o;
  o.base = at;
  pickle::result r = pickle::read(d + at, end - at, o);
  pickle::add_findings(r, where, out);
  *next = at + r.end;
  bool ok = r.complete && !r.roots.empty();
  if (keep) *keep = std::move(r);
  return ok;
}

// The count pickle that opens a legacy 'storages' or 'tensors' member.
bool tar_count(const uint8_t* d, uint64_t* pos, uint64_t end, const std::string& where,
               std::vector<finding>& out, int64_t* count) {
  pickle::result r;
  if (!tar_pickle(d, *pos, end, where, out, &r, pos)) return false;
  const pickle::value& c = r.at(r.roots[0]);
  *count = c.i;
  return c.k == pickle::kind::integer && !c.big && c.i >= 0;
}

// Legacy torch 'storages' member: count pickle, then per storage a (key, location, StorageType) pickle, an
// int64 element count and the raw bytes; then the storage-views pickle. False where that layout breaks.
bool tar_storages(const uint8_t* d, uint64_t at, uint64_t end, const std::string& where,
                  std::vector<finding>& out) {
  pickle::result r;
  uint64_t pos = at;
  int64_t count = 0;
  if (!tar_count(d, &pos, end, where, out, &count)) return false;
  for (int64_t k = 0; k < count; ++k) {
    if (!tar_pickle(d, pos, end, where, out, &r, &pos)) return false;
    const pickle::value& t = r.at(r.roots[0]);
    if (t.k != pickle::kind::tuple || t.items.size() != 3 || r.at(t.items[2]).k != pickle::kind::global)
      return false;
    auto dt = dtype_from_torch_storage(r.at(t.items[2]).name);
    if (!dt || end - pos < 8) return false;
    uint64_t numel = 0;
    for (int b = 0; b < 8; ++b) numel |= static_cast<uint64_t>(d[pos + b]) << (8 * b);
    pos += 8;
    uint64_t size = dtype_info(*dt).type_size;
    if (numel > (end - pos) / size) return false;
    pos += numel * size;
  }
  return tar_pickle(d, pos, end, where, out, nullptr, &pos) && pos == end;
}

// Legacy torch 'tensors' member: count pickle, then per tensor a (key, storage_id, type) pickle, int32 ndim,
// 4 bytes, ndim int64 sizes and strides, an int64 storage offset.
bool tar_tensors(const uint8_t* d, uint64_t at, uint64_t end, const std::string& where,
                 std::vector<finding>& out) {
  uint64_t pos = at;
  int64_t count = 0;
  if (!tar_count(d, &pos, end, where, out, &count)) return false;
  for (int64_t k = 0; k < count; ++k) {
    if (!tar_pickle(d, pos, end, where, out, nullptr, &pos) || end - pos < 8) return false;
    uint32_t ndim = 0;
    for (int b = 0; b < 4; ++b) ndim |= static_cast<uint32_t>(d[pos + b]) << (8 * b);
    pos += 8;
    uint64_t need = (2 * static_cast<uint64_t>(ndim) + 1) * 8;
    if (ndim > 64 || need > end - pos) return false;
    pos += need;
  }
  return pos == end;
}

// A legacy (pre-1.0) torch.save tar: every member is walked; its pickles are read, the raw storage
// interleaving followed. What does not follow that layout is swept and reported NOT VERIFIED.
void scan_tar(scan_file& sf, const uint8_t* d, uint64_t n) {
  sf.kind = "tar (legacy torch checkpoint)";
  uint64_t off = 0;
  std::vector<std::string> seen;
  while (n - off >= 512) {
    const uint8_t* h = d + off;
    if (std::all_of(h, h + 512, [](uint8_t c) { return c == 0; })) return;
    if (!tar_header(h)) break;
    bool ok = true;
    uint64_t size = tar_size(h, &ok);
    std::string name(reinterpret_cast<const char*>(h), strnlen(reinterpret_cast<const char*>(h), 100));
    uint64_t data = off + 512;
    if (!ok || size > n - data) break;
    std::string where = sf.path + ":" + name;
    std::string base =
        name.substr(name.find_last_of('/') == std::string::npos ? 0 : name.find_last_of('/') + 1);
    if (h[156] == '0' || h[156] == 0 || h[156] == '7') {
      bool understood = true;
      uint64_t next = 0;
      if (base == "storages")
        understood = tar_storages(d, data, data + size, where, sf.findings);
      else if (base == "tensors")
        understood = tar_tensors(d, data, data + size, where, sf.findings);
      else if (size > 0 && pickle::is_opcode(d[data]))
        understood =
            tar_pickle(d, data, data + size, where, sf.findings, nullptr, &next) && next == data + size;
      else
        understood = false;  // bytes torch.load does not read, or a member it cannot parse either
      if (!understood) {
        pickle::result r;
        pickle::sweep(d, data, data + size, 0, {}, r);
        for (auto& g : r.globals) g.level = pickle::classify(g.module, g.name, false, &g.reason);
        pickle::add_findings(r, where, sf.findings);
        sf.status = scan_status::partial;
        if (sf.reason.empty())
          sf.reason = "tar member '" + name + "' is not a legacy torch layout; swept for imports only";
      }
    } else if (h[156] == '1' || h[156] == '2') {
      sf.findings.push_back(
          {severity::high, "tar.link", where, "link member in a checkpoint tar (not followed)", off});
    }
    uint64_t padded = (size + 511) / 512 * 512;
    if (padded > n - data) return;
    off = data + padded;
  }
  sf.status = scan_status::partial;
  sf.reason =
      "tar headers end before the archive does (byte " + std::to_string(off) + "); the rest was swept only";
  pickle::result r;
  pickle::sweep(d, off, n, 0, {}, r);
  for (auto& g : r.globals) g.level = pickle::classify(g.module, g.name, false, &g.reason);
  pickle::add_findings(r, sf.path, sf.findings);
}

}  // namespace

scan_file scan_one(const std::string& path, const scan_options& opt) {
  scan_file sf = scan_one_file(path, opt);
  bool flagged = false;
  for (const auto& f : sf.findings) flagged = flagged || finding_not_verified(f);
  if (sf.status == scan_status::partial && !flagged)
    sf.findings.push_back(
        {severity::high, "scan.not_verified", path,
         "not verified: " +
             (sf.reason.empty() ? std::string("part of the file was not examined") : sf.reason),
         UINT64_MAX});
  return sf;
}

namespace {

scan_file scan_one_file(const std::string& path, const scan_options& opt) {
  scan_file sf;
  sf.path = path;
  mapped_file_ptr m;
  try {
    m = mapped_file::open(path);
  } catch (const failure& e) {
    sf.status = scan_status::none;
    sf.reason = e.err().message;
    sf.kind = "unreadable";
    return sf;
  }
  sf.size = m->size();
  const uint8_t* d = m->data();
  uint64_t n = m->size();
  std::string ext = lower_ext(path);
  if (n == 0) {
    sf.kind = "empty";
    return sf;
  }
  if (starts(d, n, "7z\xBC\xAF\x27\x1C")) {
    sf.format = file_format::sevenzip;
    sf.kind = "7z";
    sf.status = scan_status::none;
    sf.reason = "7z not supported: the archive's contents were not examined";
    return sf;
  }
  for (const auto& mk : k_magics) {
    if (!starts(d, n, mk.magic)) continue;
    sf.kind = mk.kind;
    if (mk.level > severity::info)
      sf.findings.push_back(
          {mk.level, "file.executable", path,
           std::string(mk.kind) + " among model files (glassbox does not analyse native code or scripts)",
           0});
    if (checkpoint_extension(ext))
      sf.findings.push_back({severity::medium, "file.not_a_checkpoint", path,
                             "named ." + ext + " but the bytes are a " + mk.kind + ": not a checkpoint", 0});
    return sf;
  }
  // by content first: a pickle under any name (.txt, .json, .py, .npy, no extension ...) is a pickle
  file_format sniffed = format_sniff(d, n, path);
  bool weak = sniffed == file_format::unknown || sniffed == file_format::json ||
              sniffed == file_format::llama2c || sniffed == file_format::llama2c_tokenizer;
  if (weak && n >= 512 && tar_header(d)) {
    scan_tar(sf, d, n);
    return sf;
  }
  if (weak && pickle_content(d, n)) {
    if (!pickle_extension(ext))
      sf.findings.push_back({severity::medium, "file.extension_mismatch", path,
                             (ext.empty() ? std::string("no extension") : "extension ." + ext) +
                                 " but the bytes are a pickle (pickle.load/torch.load would run it)",
                             0});
    scan_model(sf, m, file_format::pickle, opt);
    return sf;
  }
  if (ext == "py") {
    sf.kind = "python source";
    sf.findings.push_back(
        {severity::medium, "file.python_source", path,
         "Python source beside the model: runs if the model is loaded with trust_remote_code", 0});
    return sf;
  }
  if (ext == "json") {
    scan_json(sf, d, n);
    return sf;
  }
  if (ext == "jinja" || ext == "j2") {
    sf.kind = "chat template";
    std::string_view t(reinterpret_cast<const char*>(d), static_cast<size_t>(n));
    sf.findings.push_back(
        {severity::info, "template.present", path,
         "chat template of " + std::to_string(n) + " bytes (audited as text, never rendered)", UINT64_MAX});
    scan_template_text(t, path, sf.findings);
    return sf;
  }
  file_format f = sniffed;
  if (f == file_format::unknown && pickle_extension(ext) && pickle::is_opcode(d[0])) f = file_format::pickle;
  if (f == file_format::json) {
    scan_json(sf, d, n);
    return sf;
  }
  if (!extension_fits(ext, f))
    sf.findings.push_back({severity::medium, "file.extension_mismatch", path,
                           "extension ." + ext + " but the bytes are " + file_format_name(f), 0});
  if (f == file_format::unknown) {
    if (text_like(d, n)) {
      sf.kind = "text";
      return sf;
    }
    sf.kind = "unknown";
    sf.status = scan_status::none;
    sf.reason = "unrecognised format: contents not examined";
    return sf;
  }
  scan_model(sf, m, f, opt);
  return sf;
}

}  // namespace

namespace {

namespace fs = std::filesystem;

// A file that is recorded but never opened (special files, links leaving the folder, unreadable folders).
scan_file unopened(const std::string& path, const char* kind, severity level, const char* code,
                   const std::string& msg) {
  scan_file sf;
  sf.path = path;
  sf.kind = kind;
  sf.status = scan_status::none;
  sf.reason = msg;
  sf.findings.push_back({level, code, path, msg, UINT64_MAX});
  return sf;
}

const char* special_kind(const fs::file_status& st) {
  switch (st.type()) {
    case fs::file_type::fifo:
      return "fifo";
    case fs::file_type::socket:
      return "socket";
    case fs::file_type::block:
      return "block device";
    case fs::file_type::character:
      return "character device";
    default:
      return "special file";
  }
}

// One folder entry: regular files are queued; links are followed only inside the folder; FIFOs,
// devices and sockets are findings and never opened (a loader would block on them or read a device).
void walk_entry(const fs::path& root, const fs::directory_entry& e, std::vector<std::string>& files,
                std::vector<std::string>& links, scan_report& r) {
  std::error_code ec;
  const std::string path = e.path().string();
  fs::file_status ls = e.symlink_status(ec);
  if (fs::is_symlink(ls)) {
    fs::path target = fs::weakly_canonical(e.path(), ec);
    std::string to = fs::read_symlink(e.path(), ec).string();
    if (!path_within(root, target)) {
      r.files.push_back(unopened(path, "symlink", severity::high, "file.symlink_escape",
                                 "symbolic link to '" + to +
                                     "' leaves the scanned folder: not followed, not scanned "
                                     "(a loader would read whatever it points at)"));
      return;
    }
    fs::file_status ts = fs::status(e.path(), ec);
    if (fs::is_regular_file(ts)) {
      files.push_back(path);
      links.push_back(path);
    } else if (!fs::is_directory(ts)) {  // dangling, or a special file inside the folder
      r.files.push_back(unopened(path, "symlink", severity::high, "file.symlink_special",
                                 "symbolic link to '" + to + "' (" +
                                     (fs::exists(ts) ? special_kind(ts) : "missing") + "): not opened"));
    }
    return;  // a link to a folder inside the scanned one: that folder is scanned on its own
  }
  if (fs::is_directory(ls) || fs::is_regular_file(ls)) {
    if (fs::is_regular_file(ls)) files.push_back(path);
    return;
  }
  r.files.push_back(unopened(path, special_kind(ls), severity::high, "file.special",
                             std::string(special_kind(ls)) +
                                 " in a model folder: never opened (a loader would block on it "
                                 "or read a device)"));
}

}  // namespace

scan_report scan_paths(const std::vector<std::string>& paths, const scan_options& opt) {
  scan_report r;
  std::vector<std::string> files, symlinks;
  for (const auto& p : paths) {
    std::error_code ec;
    fs::file_status st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      scan_file sf;
      sf.path = p;
      sf.status = scan_status::none;
      sf.reason = "no such file or folder";
      sf.kind = "missing";
      r.files.push_back(std::move(sf));
      continue;
    }
    if (!fs::is_directory(st)) {
      if (fs::is_regular_file(st))
        files.push_back(p);
      else
        r.files.push_back(unopened(p, special_kind(st), severity::high, "file.special",
                                   std::string(special_kind(st)) + ": never opened"));
      continue;
    }
    if (!opt.recurse) continue;
    fs::path root = fs::weakly_canonical(p, ec);
    const size_t before = files.size() + r.files.size();
    fs::recursive_directory_iterator it(p, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      const fs::directory_entry& e = *it;
      std::error_code ec2;
      if (e.is_directory(ec2) && !e.is_symlink(ec2) && e.path().filename() == ".git") {
        it.disable_recursion_pending();
        continue;
      }
      walk_entry(root, e, files, symlinks, r);
      if (files.size() >= opt.max_files) {
        r.files.push_back(unopened(p, "folder", severity::high, "scan.not_verified",
                                   "not verified: more than " + std::to_string(opt.max_files) +
                                       " files; the rest were not scanned"));
        break;
      }
    }
    if (!ec && files.size() + r.files.size() == before) {  // nothing to vouch for is not "0 files, ok"
      scan_file sf;
      sf.path = p;
      sf.kind = "folder";
      sf.status = scan_status::none;
      sf.reason = "no files in the folder: nothing was scanned";
      r.files.push_back(std::move(sf));
    }
    if (ec)  // a folder that could not be read to its end is not "0 files, ok"
      r.files.push_back(
          unopened(p, "folder", severity::high, "scan.not_verified",
                   "not verified: the folder could not be read to its end (" + ec.message() + ")"));
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  std::vector<scan_file> scanned(files.size());  // (files), in path order whatever the thread count
  parallel_for(files.size(), opt.threads, [&](size_t i) { scanned[i] = scan_one(files[i], opt); });
  r.files.reserve(r.files.size() + files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string& f = files[i];
    r.files.push_back(std::move(scanned[i]));
    if (std::find(symlinks.begin(), symlinks.end(), f) != symlinks.end()) {
      std::error_code ec;
      std::string target = fs::read_symlink(f, ec).string();
      r.files.back().findings.push_back(
          {severity::medium, "file.symlink", f,
           "symbolic link to '" + target + "': loaders read whatever it points at", 0});
    }
  }
  // ONNX external data is part of its model: covered when the model was read
  std::vector<std::string> covered;
  for (const auto& f : r.files)
    for (const auto& c : f.covers) {
      std::error_code ec;
      covered.push_back(fs::weakly_canonical(c, ec).string());
    }
  for (auto& f : r.files) {
    if (f.status != scan_status::none || f.kind != "unknown") continue;
    std::error_code ec;
    if (std::find(covered.begin(), covered.end(), fs::weakly_canonical(f.path, ec).string()) == covered.end())
      continue;
    f.status = scan_status::full;
    f.kind = "external data of an ONNX model";
    f.reason.clear();
  }
  std::sort(r.files.begin(), r.files.end(),
            [](const scan_file& a, const scan_file& b) { return a.path < b.path; });
  return r;
}

}  // namespace gb
