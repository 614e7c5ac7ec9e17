// Hugging Face model folders, and folders that hold one model file.
//
// With config.json (format hf_folder, format_version = transformers_version):
//   config.json            -> metadata "config.<key>" (nested objects flattened: "config.<a>.<b>")
//   generation_config.json -> "generation_config.<key>"
//   tokenizer_config.json  -> "tokenizer_config.<key>" (chat_template kept as text; added_tokens_decoder
//                             kept as one object), and bos/eos/add_bos applied to the tokenizer
//   tokenizer              -> tokenizer.json if present, else tokenizer.model
//   weights, first found   -> model.safetensors, model.safetensors.index.json, pytorch_model.bin.index.json,
//                             pytorch_model.bin, else the folder's only *.safetensors file
// hparams.yaml beside the weights (Lightning) -> metadata "hparams.<key>" (see hparams_yaml_add).
// Without config.json but with params.json: Meta's original release (load_meta_folder).
// Without config.json: the folder's only model file (*.gguf, *.onnx, *.safetensors, *.bin, *.pt, *.pth)
// is opened as if named directly; tokenizer.json / tokenizer.model beside it are attached when the file
// carries no tokenizer (these are the HF names, not a guess).
// Every file read is in archive.files with its role; other regular files in the folder are listed with
// role "other" (mapped lazily, so scanners see them too). Every path is resolved (symlinks followed) and
// must stay inside the folder: errc::path_escape for a file we need, a finding for one we only list.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "formats/json_meta.h"
#include "formats/loaders.h"
#include "formats/meta_make.h"
#include "formats/tokenizer_files.h"

namespace gb::loaders {
namespace {

namespace fs = std::filesystem;

constexpr size_t k_max_listed = 1000;
constexpr uint64_t k_max_json = uint64_t{1} << 30;

struct folder {
  fs::path dir;  // canonical
  archive& a;

  bool inside(const fs::path& canon) const {
    fs::path rel = canon.lexically_relative(dir);
    return !rel.empty() && *rel.begin() != ".." && rel != ".";
  }
  // The canonical path of `name` in the folder, nullopt when absent; path_escape when it leaves.
  std::optional<fs::path> find(const std::string& name) const {
    std::error_code ec;
    fs::path p = dir / name;
    if (!fs::exists(fs::symlink_status(p, ec))) return std::nullopt;
    fs::path c = fs::canonical(p, ec);
    if (ec) fail(errc::io, 0, "HF folder: cannot resolve " + p.string() + ": " + ec.message());
    if (!inside(c))
      fail(errc::path_escape, 0,
           "HF folder: " + name + " resolves to " + c.string() + ", outside " + dir.string());
    if (!fs::is_regular_file(c, ec)) return std::nullopt;
    return c;
  }
  mapped_file_ptr add(const fs::path& p, const char* role, file_format f) {
    mapped_file_ptr m = mapped_file::open(p.string());
    a.files.push_back({p.string(), role, f, m});
    return m;
  }
  std::string text(const mapped_file_ptr& m) const {
    if (m->size() > k_max_json) fail(errc::limit, 0, "HF folder: " + m->path() + " is larger than 1 GiB");
    return std::string(reinterpret_cast<const char*>(m->data()), static_cast<size_t>(m->size()));
  }
};

// config.<a>.<b> = value; objects listed in `whole` stay one value.
void flatten(archive& a, const std::string& prefix, const meta_value& v, const std::set<std::string>& whole,
             int depth = 0) {
  if (v.k != meta_value::kind::object || v.obj.empty() || depth > 16 || whole.count(prefix)) {
    a.metadata.emplace_back(prefix, v);
    return;
  }
  for (const auto& [k, x] : v.obj) flatten(a, prefix + "." + k, x, whole, depth + 1);
}

meta_value json_file(folder& f, const fs::path& p, const char* role, const char* what) {
  mapped_file_ptr m = f.add(p, role, file_format::json);
  std::string t = f.text(m);
  try {
    meta_value v = meta_from_json_text(t, 0, what);
    if (v.k != meta_value::kind::object)
      fail(errc::bad_json, 0, std::string(what) + ": top level is not an object");
    return v;
  } catch (failure& e) {
    if (e.err().where.empty()) e.err().where = p.string();
    throw;
  }
}

archive open_file(const fs::path& p, const open_options& opt) {
  result<archive> r = archive_open(p.string(), opt);
  if (!r) throw failure(r.err());
  return std::move(r).value();
}

void tokenizer_add(folder& f, const open_options& opt, bool with_config) {
  std::optional<fs::path> tj = f.find("tokenizer.json"), tm = f.find("tokenizer.model");
  std::vector<finding> fs_;
  std::shared_ptr<vocab> v;
  if (tj) {
    mapped_file_ptr m = f.add(*tj, "tokenizer", file_format::json);
    if (opt.load_tokenizer) {
      std::string t = f.text(m);
      result<vocab> r = capture(tj->string(), [&] { return vocab_from_tokenizer_json(t, &fs_); });
      if (!r) throw failure(r.err());
      v = std::make_shared<vocab>(std::move(r).value());
    }
    if (tm) f.add(*tm, "tokenizer", file_format::sentencepiece);
  } else if (tm) {
    mapped_file_ptr m = f.add(*tm, "tokenizer", file_format::sentencepiece);
    if (opt.load_tokenizer) {
      result<vocab> r =
          capture(tm->string(), [&] { return vocab_from_sentencepiece(m->data(), m->size(), &fs_); });
      if (!r) throw failure(r.err());
      v = std::make_shared<vocab>(std::move(r).value());
    }
  }
  if (with_config) {
    if (auto tc = f.find("tokenizer_config.json")) {
      mapped_file_ptr m = mapped_file::open(tc->string());  // already listed by the caller
      if (v) {
        std::string t = f.text(m);
        result<bool> r = capture(tc->string(), [&] {
          vocab_apply_tokenizer_config(*v, t, &fs_);
          return true;
        });
        if (!r) throw failure(r.err());
      }
    }
  }
  for (finding& x : fs_) {
    x.where = (tj ? *tj : tm ? *tm : f.dir).string() + (x.where.empty() ? "" : " (" + x.where + ")");
    f.a.findings.push_back(std::move(x));
  }
  if (v) f.a.tokenizer = std::move(v);
}

void weights_add(folder& f, const open_options& opt) {
  archive& a = f.a;
  if (auto p = f.find("model.safetensors")) {
    load_safetensors(a, f.add(*p, "weights", file_format::safetensors), opt);
    return;
  }
  if (auto p = f.find("model.safetensors.index.json")) {
    load_safetensors_index(a, p->string(), opt);
    return;
  }
  if (auto p = f.find("pytorch_model.bin.index.json")) {
    meta_value idx = json_file(f, *p, "index", "pytorch_model.bin.index.json");
    std::map<std::string, std::string> weight_map;  // tensor -> shard
    std::set<std::string> shards;
    for (const auto& [k, v] : idx.obj)
      if (k == "weight_map" && v.k == meta_value::kind::object)
        for (const auto& [tensor, shard] : v.obj)
          if (shard.k == meta_value::kind::string) shards.insert(shard.s), weight_map[tensor] = shard.s;
    if (shards.empty()) fail(errc::bad_json, 0, "pytorch_model.bin.index.json: no weight_map");
    for (const std::string& s : shards) {
      if (s.empty() || s.find('/') != std::string::npos || s == "..")
        fail(errc::path_escape, 0,
             "pytorch_model.bin.index.json: shard name '" + s.substr(0, 200) +
                 "' is not a file in the folder");
      auto sp = f.find(s);
      if (!sp) fail(errc::not_found, 0, "pytorch_model.bin.index.json: shard " + s + " is missing");
      const size_t first = a.tensors.size();
      archive_append(a, open_file(*sp, opt));
      for (size_t i = first; i < a.tensors.size(); ++i) {
        auto it = weight_map.find(a.tensors[i].name);
        if (it == weight_map.end())
          a.add_finding(severity::medium, "hf_folder.shard_unmapped", s,
                        "tensor '" + a.tensors[i].name + "' is in the shard but not in weight_map");
        else if (it->second != s)
          fail(errc::mismatch, 0,
               "pytorch_model.bin.index.json: tensor '" + a.tensors[i].name + "' maps to " + it->second +
                   " but is (also) in " + s);
      }
    }
    std::set<std::string> seen;
    for (const tensor_view& t : a.tensors)
      if (!seen.insert(t.name).second)
        fail(errc::duplicate, 0, "pytorch shards: tensor '" + t.name + "' appears twice");
    for (const auto& [tensor, shard] : weight_map)
      if (!seen.count(tensor))
        fail(errc::mismatch, 0,
             "pytorch_model.bin.index.json: tensor '" + tensor + "' is missing from " + shard);
    return;
  }
  if (auto p = f.find("pytorch_model.bin")) {
    archive_append(a, open_file(*p, opt));
    return;
  }
  std::vector<fs::path> st;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(f.dir, ec))
    if (e.path().extension() == ".safetensors") st.push_back(e.path());
  if (st.size() == 1) {
    auto p = f.find(st[0].filename().string());
    if (p) {
      load_safetensors(a, f.add(*p, "weights", file_format::safetensors), opt);
      return;
    }
  }
  // A training checkpoint beside its config.json (the one *.pt / *.pth / *.ckpt / *.bin of the folder)
  std::vector<fs::path> ck;
  for (const auto& e : fs::directory_iterator(f.dir, ec)) {
    const std::string x = e.path().extension().string();
    if (x == ".pt" || x == ".pth" || x == ".ckpt" || x == ".bin") ck.push_back(e.path());
  }
  if (st.empty() && ck.size() == 1)
    if (auto p = f.find(ck[0].filename().string())) {
      archive_append(a, open_file(*p, opt));
      return;
    }
  a.add_finding(severity::medium, "hf_folder.no_weights", f.dir.string(),
                st.empty()
                    ? "config.json but no weights (model.safetensors, model.safetensors.index.json, "
                      "pytorch_model.bin[.index.json])"
                    : std::to_string(st.size()) + " *.safetensors files and no index: weights not loaded");
  if (st.empty() && ck.size() > 1)
    a.add_finding(
        severity::medium, "hf_folder.no_weights", f.dir.string(),
        std::to_string(ck.size()) + " checkpoint files (*.pt, *.pth, *.ckpt, *.bin) and no index: name one");
}

// Regular files of the folder not read above, listed with role "other".
void others_add(folder& f) {
  std::set<std::string> known;
  std::error_code ec;
  for (const auto& s : f.a.files) known.insert(fs::weakly_canonical(fs::path(s.path), ec).string());
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(f.dir, ec)) entries.push_back(e.path());
  std::sort(entries.begin(), entries.end());
  size_t listed = 0;
  for (const fs::path& p : entries) {
    std::error_code ec2;
    fs::path c = fs::canonical(p, ec2);
    if (ec2 || known.count(c.string())) continue;
    if (!f.inside(c)) {
      f.a.add_finding(severity::high, "hf_folder.symlink_escape", p.string(),
                      "symlink points outside the model folder (to " + c.string() + "); not read");
      continue;
    }
    if (!fs::is_regular_file(c, ec2)) continue;
    if (++listed > k_max_listed) {
      f.a.add_finding(severity::low, "hf_folder.many_files", f.dir.string(),
                      "more than " + std::to_string(k_max_listed) + " files; the rest are not listed");
      break;
    }
    mapped_file_ptr m = mapped_file::open(c.string());
    file_format ff =
        m->size() ? format_sniff(m->data(), m->size(), c.filename().string()) : file_format::unknown;
    f.a.files.push_back({c.string(), "other", ff, m});
  }
}

// hparams.yaml (PyTorch Lightning saves it beside its checkpoints): the block-mapping subset of YAML that
// it writes, read as data: "key: scalar" lines, one level of indented nesting ("parent.key"); integers,
// floats, booleans and strings (quoted or plain). Lists, anchors, flow and multi-line values are skipped.
// Metadata "hparams.<key>", which model_build reads after config.json and params.json.
void hparams_yaml_add(folder& f) {
  auto p = f.find("hparams.yaml");
  if (!p) return;
  mapped_file_ptr m = f.add(*p, "config", file_format::unknown);
  if (m->size() > (uint64_t{1} << 20)) fail(errc::limit, 0, "hparams.yaml is larger than 1 MiB");
  std::string_view text(reinterpret_cast<const char*>(m->data()), m->size());
  std::string parent;
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
  };
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    const bool indented = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    std::string_view t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == '-' || t[0] == '&' || t[0] == '!') continue;
    size_t colon = t.find(": ");
    std::string_view key = colon == std::string_view::npos ? (t.back() == ':' ? t.substr(0, t.size() - 1) : t)
                                                           : t.substr(0, colon);
    std::string_view val = colon == std::string_view::npos ? std::string_view() : trim(t.substr(colon + 2));
    if (key.empty() || key.find_first_of(" \"'{[") != std::string_view::npos) continue;
    if (!indented) parent.clear();
    if (val.empty()) {
      if (!indented) parent = std::string(key);
      continue;
    }
    if (indented && parent.empty()) continue;
    if (size_t hash = val.find(" #"); hash != std::string_view::npos) val = trim(val.substr(0, hash));
    const std::string name = "hparams." + (indented ? parent + "." : std::string()) + std::string(key);
    if (val.size() >= 2 && (val[0] == '\'' || val[0] == '"') && val.back() == val[0]) {
      f.a.metadata.emplace_back(name, meta_str(std::string(val.substr(1, val.size() - 2))));
      continue;
    }
    if (val[0] == '[' || val[0] == '{' || val[0] == '&' || val[0] == '*' || val[0] == '|' || val[0] == '>' ||
        val[0] == '!')
      continue;
    const std::string v(val);
    char* e = nullptr;
    errno = 0;
    long long iv = std::strtoll(v.c_str(), &e, 10);
    if (e && *e == 0 && errno == 0) {
      f.a.metadata.emplace_back(name, meta_int(iv));
      continue;
    }
    double dv = std::strtod(v.c_str(), &e);
    if (e && *e == 0 && std::isfinite(dv)) {
      f.a.metadata.emplace_back(name, meta_double(dv));
      continue;
    }
    if (v == "true" || v == "True" || v == "false" || v == "False") {
      f.a.metadata.emplace_back(name, meta_bool(v[0] == 't' || v[0] == 'T'));
      continue;
    }
    if (v == "null" || v == "~") continue;
    f.a.metadata.emplace_back(name, meta_str(v));
  }
}

bool model_extension(const fs::path& p) {
  static const std::set<std::string> exts = {".gguf", ".onnx", ".safetensors", ".bin",
                                             ".pt",   ".pth",  ".ckpt"};
  return exts.count(p.extension().string()) > 0;
}

}  // namespace

void archive_append(archive& a, archive&& b) {
  const uint32_t shift = static_cast<uint32_t>(a.files.size());
  for (auto& f : b.files) a.files.push_back(std::move(f));
  for (auto& t : b.tensors) {
    if (t.file_index != k_no_file) t.file_index += shift;
    a.tensors.push_back(std::move(t));
  }
  for (auto& kv : b.metadata) a.metadata.push_back(std::move(kv));
  for (auto& f : b.findings) a.findings.push_back(std::move(f));
  for (auto& m : b.buffers) a.buffers.push_back(std::move(m));
  if (!a.graph.present() && b.graph.present()) a.graph = std::move(b.graph);
  if (!a.tokenizer) a.tokenizer = std::move(b.tokenizer);
}

void folder_finish(archive& a, const std::string& dir, const open_options& opt) {
  std::error_code ec;
  fs::path d = fs::canonical(dir, ec);
  if (ec) fail(errc::not_found, 0, "folder: cannot resolve " + dir + ": " + ec.message());
  folder f{d, a};
  if (!a.tokenizer) tokenizer_add(f, opt, false);
  others_add(f);
}

void load_hf_folder(archive& a, const std::string& dir_in, const open_options& opt) {
  std::error_code ec;
  fs::path dir = fs::canonical(dir_in, ec);
  if (ec) fail(errc::not_found, 0, "HF folder: cannot resolve " + dir_in + ": " + ec.message());
  folder f{dir, a};

  if (auto cfg = f.find("config.json")) {
    a.format = file_format::hf_folder;
    meta_value c = json_file(f, *cfg, "config", "config.json");
    flatten(a, "config", c, {});
    std::string transformers_version;
    for (const auto& [k, v] : c.obj)
      if (k == "transformers_version" && v.k == meta_value::kind::string) transformers_version = v.s;
    if (auto g = f.find("generation_config.json"))
      flatten(a, "generation_config", json_file(f, *g, "config", "generation_config.json"), {});
    if (auto t = f.find("tokenizer_config.json"))
      flatten(a, "tokenizer_config", json_file(f, *t, "tokenizer", "tokenizer_config.json"),
              {"tokenizer_config.added_tokens_decoder"});
    tokenizer_add(f, opt, true);
    hparams_yaml_add(f);
    weights_add(f, opt);
    a.format = file_format::hf_folder;  // loaders called above may have set their own
    a.format_version = transformers_version;
    others_add(f);
    return;
  }

  // No config.json but Meta's params.json: the original LLaMA release layout (formats/meta_folder.cpp).
  if (f.find("params.json")) {
    load_meta_folder(a, dir.string(), opt);
    return;
  }

  // No config.json: one model file.
  std::vector<fs::path> candidates;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::error_code ec2;
    if (model_extension(e.path()) && fs::is_regular_file(e.path(), ec2)) candidates.push_back(e.path());
  }
  std::sort(candidates.begin(), candidates.end());
  // A llama2.c checkpoint next to its tokenizer (*.bin both): keep only the checkpoint.
  if (candidates.size() > 1) {
    std::vector<fs::path> models;
    for (const auto& p : candidates) {
      mapped_file_ptr m = mapped_file::open(p.string());
      if (m->size() && loaders::llama2c_tokenizer_plausible(m->data(), m->size()) &&
          !loaders::llama2c_plausible(m->data(), m->size()))
        continue;
      models.push_back(p);
    }
    candidates = models;
  }
  if (candidates.empty())
    fail(
        errc::is_directory, 0,
        "folder has no config.json and no model file (looked for config.json, *.gguf, *.onnx, *.safetensors, "
        "*.bin, *.pt, *.pth, *.ckpt)");
  if (candidates.size() > 1) {
    std::string names;
    for (const auto& p : candidates) names += (names.empty() ? "" : ", ") + p.filename().string();
    fail(errc::is_directory, 0,
         "folder has no config.json and several model files (" + names + "); name one");
  }
  auto p = f.find(candidates[0].filename().string());
  if (!p) fail(errc::not_found, 0, "HF folder: " + candidates[0].string() + " vanished");
  archive b = open_file(*p, opt);
  a.format = b.format;
  a.format_version = b.format_version;
  archive_append(a, std::move(b));
  hparams_yaml_add(f);
  if (!a.tokenizer) tokenizer_add(f, opt, false);
  others_add(f);
}

}  // namespace gb::loaders
