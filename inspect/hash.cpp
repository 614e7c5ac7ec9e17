// inspect/hash.cpp: canonical tensor digests, the manifest and verify (SHA-256 itself: inspect/sha256.h).
#include "inspect/hash.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>

#include "inspect/model.h"
#include "inspect/stats_files.h"

namespace gb {

digest tensor_digest(const std::string& name, dtype t, const std::vector<int64_t>& shape,
                     const digest& values) {
  sha256 h;
  static const char tag[] = "gb-tensor-v1";
  h.update(tag, sizeof tag);  // includes the 0x00
  h.update(name.data(), name.size());
  h.update("\0", 1);
  const char* dn = dtype_name(t);
  h.update(dn, std::strlen(dn));
  h.update("\0", 1);
  uint8_t b[8];
  const uint64_t rank = shape.size();
  std::memcpy(b, &rank, 8);  // little-endian host (CMake refuses big-endian builds)
  h.update(b, 8);
  for (int64_t d : shape) {
    std::memcpy(b, &d, 8);
    h.update(b, 8);
  }
  h.update(values.data(), values.size());
  return h.final();
}

namespace {}  // namespace

hash_report hash_model(const std::vector<tensor_item>& items, const std::vector<source_file>& files,
                       const hash_options& opt) {
  hash_report h;
  std::vector<digest> values(items.size());
  for (const source_file& f : files) h.files.push_back({f.path, f.role, f.size(), ""});
  // Each file's SHA-256 is one message (a single stream each), largest first, beside the tensor work: a
  // mapped file goes to the SHA-256 lanes with the tensors (the shards of a folder in lock step), one that
  // is not mapped is read with pread as a side job.
  std::vector<std::function<void()>> side;
  std::vector<stats_file> mapped;
  std::vector<size_t> by_size(opt.files ? files.size() : 0);
  std::iota(by_size.begin(), by_size.end(), size_t{0});
  std::stable_sort(by_size.begin(), by_size.end(),
                   [&](size_t a, size_t b) { return files[a].size() > files[b].size(); });
  for (size_t i : by_size) {
    if (files[i].map && files[i].map->data())
      mapped.push_back(
          {files[i].map.get(), [&, i](const digest& d) { h.files[i].sha256_hex = digest_hex(d); }});
    else
      side.push_back([&, i] { h.files[i].sha256_hex = digest_hex(file_sha256(files[i].path)); });
  }
  stats_options so;
  so.threads = opt.threads;
  so.values_digest = true;
  so.stats = opt.stats;
  h.stats = stats_compute_files(items, so, mapped, side,
                                [&](size_t i, const uint8_t* d) { std::memcpy(values[i].data(), d, 32); });

  std::map<std::string, digest> by_name;
  for (size_t i = 0; i < items.size(); ++i) {
    const tensor_item& it = items[i];
    tensor_hash t;
    t.name = it.name;
    t.stored_name = it.stored_name;
    t.dtype_name = dtype_name(it.view->type);
    t.shape = it.shape;
    t.values_hex = digest_hex(values[i]);
    const digest td = tensor_digest(it.name, it.view->type, it.shape, values[i]);
    t.digest_hex = digest_hex(td);
    by_name[it.name] = td;
    t.excluded = it.excluded;
    h.tensors.push_back(std::move(t));
  }
  // A tied classifier stored as a copy is not a separate weight.
  const tensor_hash* emb = nullptr;
  for (const tensor_hash& t : h.tensors)
    if (is_token_embedding(t.name)) emb = &t;
  for (tensor_hash& t : h.tensors)
    if (emb && t.name == "output.weight" && t.excluded.empty() && t.values_hex == emb->values_hex &&
        t.dtype_name == emb->dtype_name && t.shape == emb->shape)
      t.excluded = "tied classifier: a copy of " + emb->name;

  std::vector<const tensor_hash*> counted;
  for (const tensor_hash& t : h.tensors)
    if (t.excluded.empty()) counted.push_back(&t);
  std::sort(counted.begin(), counted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  sha256 root;
  static const char tag[] = "gb-root-v1";
  root.update(tag, sizeof tag);
  for (const tensor_hash* t : counted) root.update(by_name[t->name].data(), 32);
  h.root_hex = digest_hex(root.final());
  h.counted = counted.size();
  return h;
}

std::string manifest_json(const hash_report& h, const std::string& command) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["tool"] = "glassbox";
  j["version"] = GB_VERSION;
  j["command"] = command;
  std::time_t now = std::time(nullptr);
  char tb[32];
  std::tm tmv{};
  gmtime_r(&now, &tmv);
  std::strftime(tb, sizeof tb, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  j["time"] = tb;
  ordered_json in;
  in["path"] = h.model_path;
  in["format"] = h.format;
  in["format_version"] = h.format_version;
  in["files"] = ordered_json::array();
  for (const file_hash& f : h.files)
    in["files"].push_back({{"path", f.path}, {"role", f.role}, {"size", f.size}, {"sha256", f.sha256_hex}});
  j["inputs"] = in;
  j["digest_scheme"] = "gb-tensor-v1";
  j["root"] = h.root_hex;
  j["tensors_counted"] = h.counted;
  j["tensors"] = ordered_json::array();
  for (const tensor_hash& t : h.tensors) {
    ordered_json e{{"name", t.name},   {"stored_name", t.stored_name}, {"dtype", t.dtype_name},
                   {"shape", t.shape}, {"values", t.values_hex},       {"digest", t.digest_hex}};
    if (!t.excluded.empty()) e["excluded"] = t.excluded;
    j["tensors"].push_back(e);
  }
  j["findings"] = ordered_json::array();  // from the statistics of the same pass (stats.h)
  for (const finding& f : h.stats.findings)
    j["findings"].push_back(
        {{"severity", severity_name(f.level)}, {"code", f.code}, {"where", f.where}, {"message", f.message}});
  return j.dump(2) + "\n";
}

namespace {
std::string base_name(const std::string& p) {
  size_t s = p.find_last_of('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}
}  // namespace

verify_report manifest_verify(const std::string& text, const hash_report& now) {
  verify_report v;
  nlohmann::json j;
  j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded())
    fail(errc::bad_json, 0,
         "not a manifest (not JSON). Give the manifest.json written by 'glassbox hash -o' first, then the "
         "model");
  if (!j.is_object() || !j.contains("tensors") || !j["tensors"].is_array() || !j.contains("root"))
    fail(errc::bad_json, 0,
         "not a glassbox manifest (no 'tensors' or 'root'). Give a manifest written by 'glassbox hash -o'");
  try {
    std::map<std::string, const tensor_hash*> cur;
    for (const tensor_hash& t : now.tensors) cur[t.name] = &t;
    std::map<std::string, bool> seen;
    for (const auto& e : j["tensors"]) {
      const std::string name = e.at("name").get<std::string>();
      seen[name] = true;
      ++v.tensors_checked;
      auto it = cur.find(name);
      if (it == cur.end()) {
        v.changed.push_back("tensor " + name + ": missing (in the manifest, not in the model)");
        continue;
      }
      const tensor_hash& t = *it->second;
      const std::string dt = e.at("dtype").get<std::string>();
      if (dt != t.dtype_name)
        v.changed.push_back("tensor " + name + ": dtype " + dt + " -> " + t.dtype_name);
      else if (e.at("shape").get<std::vector<int64_t>>() != t.shape)
        v.changed.push_back("tensor " + name + ": shape " +
                            shape_string(e.at("shape").get<std::vector<int64_t>>()) + " -> " +
                            shape_string(t.shape));
      else if (e.at("digest").get<std::string>() != t.digest_hex)
        v.changed.push_back("tensor " + name + ": values changed (digest " +
                            e.at("digest").get<std::string>().substr(0, 16) + " -> " +
                            t.digest_hex.substr(0, 16) + ")");
    }
    for (const tensor_hash& t : now.tensors)
      if (!seen.count(t.name)) v.changed.push_back("tensor " + t.name + ": added (not in the manifest)");
    if (j.contains("inputs") && j["inputs"].contains("files")) {
      std::map<std::string, const file_hash*> files;
      for (const file_hash& f : now.files) files[base_name(f.path)] = &f;
      for (const auto& f : j["inputs"]["files"]) {
        const std::string p = f.at("path").get<std::string>();
        const std::string sha = f.value("sha256", std::string());
        ++v.files_checked;
        auto it = files.find(base_name(p));
        if (it == files.end())
          ++v.file_changes, v.changed.push_back("file " + base_name(p) + ": missing");
        else if (!sha.empty() && !it->second->sha256_hex.empty() && sha != it->second->sha256_hex)
          ++v.file_changes, v.changed.push_back("file " + base_name(p) + ": sha256 " + sha.substr(0, 16) +
                                                " -> " + it->second->sha256_hex.substr(0, 16));
      }
    }
    v.root_equal = j.at("root").get<std::string>() == now.root_hex;
    if (!v.root_equal && v.changed.empty())
      v.changed.push_back("root digest differs (" + j.at("root").get<std::string>().substr(0, 16) + " -> " +
                          now.root_hex.substr(0, 16) + ")");
  } catch (const nlohmann::json::exception& e) {
    fail(errc::bad_json, 0, std::string("manifest: a field has the wrong type (") + e.what() + ")");
  }
  return v;
}

}  // namespace gb
