// inspect/oms.cpp: OMS v1.0 file enumeration, hashing, root digest, statement write/read and comparison.
#include "inspect/oms.h"

#include <omp.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "formats/error.h"
#include "formats/file_text.h"
#include "formats/json_meta.h"
#include "formats/reader.h"
#include "inspect/parallel.h"
#include "inspect/sha256.h"

namespace gb {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

// An ignore entry in canonical form (§6.1.2, §6.2.1): "./a//b/" -> "a/b"; globs, absolute paths and ".."
// are refused.
std::string ignore_canonical(const std::string& p) {
  if (p.empty() || p[0] == '/' || p.find_first_of("*?[") != std::string::npos)
    fail(errc::bad_value, 0, "OMS: ignore path '" + p + "' must be a relative path without glob characters");
  std::string out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string part = p.substr(i, j - i);
    if (part == "..") fail(errc::path_escape, 0, "OMS: ignore path '" + p + "' leaves the model root");
    if (!part.empty() && part != ".") out += (out.empty() ? "" : "/") + part;
    i = j + 1;
  }
  if (out.empty()) fail(errc::bad_value, 0, "OMS: ignore path '" + p + "' names the model root itself");
  return out;
}

bool ignored(const std::string& rel, const std::vector<std::string>& ignore) {
  for (const std::string& p : ignore)
    if (rel == p || (rel.size() > p.size() && rel.compare(0, p.size(), p) == 0 && rel[p.size()] == '/'))
      return true;
  return false;
}

struct walker {
  const fs::path root_canonical;
  const std::vector<std::string>& ignore;
  bool allow_symlinks;
  std::vector<std::string>* warnings;
  std::vector<oms_file> out;
  std::set<fs::path> open_dirs;  // canonical paths of the directories being walked (cycle guard)

  void add_file(const fs::path& p, const std::string& rel) {
    if (!utf8_valid(rel)) fail(errc::bad_utf8, 0, "OMS: file name is not valid UTF-8: " + p.string());
    out.push_back({rel, p.string()});
  }

  void walk(const fs::path& dir, const std::string& prefix) {
    std::error_code ec;
    fs::path canon = fs::canonical(dir, ec);
    if (ec) fail(errc::io, 0, "OMS: cannot resolve " + dir.string() + ": " + ec.message());
    if (!open_dirs.insert(canon).second) {
      if (warnings) warnings->push_back("symlink cycle at " + dir.string() + " (not followed again)");
      return;
    }
    std::vector<fs::directory_entry> entries;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(*it);
    if (ec) fail(errc::io, 0, "OMS: cannot list " + dir.string() + ": " + ec.message());
    for (const fs::directory_entry& e : entries) {
      const std::string rel = prefix + e.path().filename().string();
      if (ignored(rel, ignore)) continue;
      fs::file_status st = e.symlink_status(ec);
      if (ec) fail(errc::io, 0, "OMS: cannot stat " + e.path().string() + ": " + ec.message());
      if (fs::is_symlink(st)) {
        if (!allow_symlinks)
          fail(errc::unsupported, 0,
               "OMS: '" + rel + "' is a symbolic link and allow_symlinks is false (remove it, " +
                   "ignore it, or sign with symlinks allowed)");
        st = fs::status(e.path(), ec);
        if (ec) fail(errc::not_found, 0, "OMS: symbolic link '" + rel + "' is dangling");
        if (warnings && !path_within(root_canonical, fs::canonical(e.path(), ec)))
          warnings->push_back("symbolic link '" + rel + "' points outside the model");
      }
      if (fs::is_directory(st))
        walk(e.path(), rel + "/");
      else if (fs::is_regular_file(st))
        add_file(e.path(), rel);
      else
        fail(errc::unsupported, 0, "OMS: '" + rel + "' is neither a regular file nor a directory (not read)");
    }
    open_dirs.erase(canon);
  }
};

// SHA-256 of every file, in parallel; each file read once (or taken from `known`).
std::vector<oms_resource> hash_files(const std::vector<oms_file>& files, int threads,
                                     const std::map<std::string, std::string>* known) {
  std::vector<oms_resource> res(files.size());
  std::vector<std::string> errors(files.size());
  const int n = static_cast<int>(files.size());
  const int nt = std::max(1, std::min(n, threads_resolve(threads)));
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (int i = 0; i < n; ++i) {
    res[i].name = files[i].name;
    const std::string key = oms_known_key(files[i].path);
    auto it = known ? known->find(key) : std::map<std::string, std::string>::const_iterator{};
    if (known && it != known->end()) {
      res[i].digest_hex = it->second;
      continue;
    }
    try {
      res[i].digest_hex = digest_hex(file_sha256(files[i].path));
    } catch (const failure& f) {
      errors[i] = f.err().message;
    }
  }
  for (const std::string& e : errors)
    if (!e.empty()) fail(errc::io, 0, "OMS: " + e);
  return res;
}

std::vector<std::string> merged_ignores(const std::vector<std::string>& a,
                                        const std::vector<std::string>& b) {
  std::vector<std::string> all = oms_default_ignores();
  for (const auto* v : {&a, &b})
    for (const std::string& p : *v) {
      std::string c = ignore_canonical(p);
      if (std::find(all.begin(), all.end(), c) == all.end()) all.push_back(c);
    }
  return all;
}

std::string subject_name_of(const std::string& model) {
  fs::path p = fs::absolute(model).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

const ojson& field(const ojson& j, const char* key, ojson::value_t type, const std::string& where) {
  if (!j.is_object() || !j.contains(key) || j[key].type() != type)
    fail(errc::bad_json, 0, "OMS statement: " + where + "." + key + " is missing or has the wrong type");
  return j[key];
}

bool hex_lower(const std::string& s) {
  return !s.empty() && s.size() % 2 == 0 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

}  // namespace

const std::vector<std::string>& oms_default_ignores() {
  static const std::vector<std::string> d = {".git", ".gitattributes", ".github", ".gitignore"};
  return d;
}

std::vector<oms_file> oms_enumerate(const std::string& model, const std::vector<std::string>& ignore_in,
                                    bool allow_symlinks, std::vector<std::string>* warnings) {
  std::error_code ec;
  fs::file_status st = fs::status(model, ec);
  if (ec || !fs::exists(st)) fail(errc::not_found, 0, "OMS: no such file or folder: " + model);
  std::vector<std::string> ignore;
  for (const std::string& p : ignore_in) ignore.push_back(ignore_canonical(p));
  walker w{fs::canonical(model, ec), ignore, allow_symlinks, warnings, {}, {}};
  if (fs::is_regular_file(st))
    w.add_file(model, fs::path(model).filename().string());
  else if (fs::is_directory(st))
    w.walk(model, "");
  else
    fail(errc::unsupported, 0, "OMS: " + model + " is neither a file nor a folder");
  if (w.out.empty()) fail(errc::bad_value, 0, "OMS: " + model + " has no files to sign (after exclusions)");
  std::sort(w.out.begin(), w.out.end(), [](const oms_file& a, const oms_file& b) { return a.name < b.name; });
  return w.out;
}

std::string oms_root_hex(const std::vector<oms_resource>& resources) {
  sha256 h;
  for (const oms_resource& r : resources) {
    if (!hex_lower(r.digest_hex))
      fail(errc::bad_value, 0, "OMS: digest of '" + r.name + "' is not lowercase hex");
    for (size_t i = 0; i < r.digest_hex.size(); i += 2) {
      const uint8_t b = static_cast<uint8_t>(std::stoi(r.digest_hex.substr(i, 2), nullptr, 16));
      h.update(&b, 1);
    }
  }
  return digest_hex(h.final());
}

oms_manifest oms_hash(const std::string& model, const oms_options& o) {
  oms_manifest m;
  m.subject_name = subject_name_of(model);
  m.serialization.allow_symlinks = o.allow_symlinks;
  m.serialization.ignore_paths = merged_ignores(o.ignore_paths, {});
  std::vector<oms_file> files =
      oms_enumerate(model, m.serialization.ignore_paths, o.allow_symlinks, &m.warnings);
  m.resources = hash_files(files, o.threads, o.known);
  m.root_hex = oms_root_hex(m.resources);
  return m;
}

std::string oms_statement_json(const oms_manifest& m) {
  ojson resources = ojson::array();
  for (const oms_resource& r : m.resources)
    resources.push_back({{"name", r.name}, {"digest", r.digest_hex}, {"algorithm", r.algorithm}});
  ojson ser = {{"method", m.serialization.method},
               {"hash_type", m.serialization.hash_type},
               {"allow_symlinks", m.serialization.allow_symlinks},
               {"ignore_paths", m.serialization.ignore_paths}};
  ojson j = {{"_type", intoto_statement_type},
             {"subject", ojson::array({{{"name", m.subject_name}, {"digest", {{"sha256", m.root_hex}}}}})},
             {"predicateType", oms_predicate_type},
             {"predicate", {{"resources", resources}, {"serialization", ser}}}};
  return j.dump();
}

oms_manifest oms_statement_parse(const std::string& text) {
  json_check_depth(text, 0, "OMS statement");
  ojson j = ojson::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    fail(errc::bad_json, 0, "OMS statement: the DSSE payload is not a JSON object");
  if (field(j, "_type", ojson::value_t::string, "statement").get<std::string>() != intoto_statement_type)
    fail(errc::bad_json, 0, "OMS statement: _type is not " + std::string(intoto_statement_type));
  const std::string pt = field(j, "predicateType", ojson::value_t::string, "statement").get<std::string>();
  if (pt == oms_predicate_type_v01)
    fail(errc::unsupported, 0,
         "OMS statement: deprecated predicate " + pt + " (model_signing 0.2.0, file digests in " +
             "subjects): not accepted; re-sign with model_signing >= 0.3.1 or glassbox sign");
  if (pt != oms_predicate_type)
    fail(errc::unsupported, 0, "OMS statement: predicate type '" + pt + "' is not " + oms_predicate_type);
  oms_manifest m;
  const ojson& subj = field(j, "subject", ojson::value_t::array, "statement");
  if (subj.size() != 1) fail(errc::bad_json, 0, "OMS statement: subject must hold exactly one entry");
  m.subject_name = field(subj[0], "name", ojson::value_t::string, "subject[0]").get<std::string>();
  m.root_hex = field(field(subj[0], "digest", ojson::value_t::object, "subject[0]"), "sha256",
                     ojson::value_t::string, "subject[0].digest")
                   .get<std::string>();
  const ojson& pred = field(j, "predicate", ojson::value_t::object, "statement");
  const ojson& ser = field(pred, "serialization", ojson::value_t::object, "predicate");
  m.serialization.method = field(ser, "method", ojson::value_t::string, "serialization").get<std::string>();
  m.serialization.hash_type =
      field(ser, "hash_type", ojson::value_t::string, "serialization").get<std::string>();
  m.serialization.allow_symlinks =
      field(ser, "allow_symlinks", ojson::value_t::boolean, "serialization").get<bool>();
  if (ser.contains("ignore_paths"))
    for (const ojson& p : field(ser, "ignore_paths", ojson::value_t::array, "serialization")) {
      if (!p.is_string())
        fail(errc::bad_json, 0, "OMS statement: serialization.ignore_paths holds a non-string");
      m.serialization.ignore_paths.push_back(p.get<std::string>());
    }
  if (m.serialization.method != "files")
    fail(errc::unsupported, 0,
         "OMS statement: serialization method '" + m.serialization.method +
             "' is not supported (glassbox verifies \"files\"; \"shards\" is not implemented)");
  if (m.serialization.hash_type != "sha256")
    fail(errc::unsupported, 0,
         "OMS statement: hash_type '" + m.serialization.hash_type + "' is not supported (sha256 only)");
  for (const ojson& r : field(pred, "resources", ojson::value_t::array, "predicate")) {
    oms_resource x;
    x.name = field(r, "name", ojson::value_t::string, "resources[]").get<std::string>();
    x.digest_hex = field(r, "digest", ojson::value_t::string, "resources[]").get<std::string>();
    x.algorithm = field(r, "algorithm", ojson::value_t::string, "resources[]").get<std::string>();
    if (x.algorithm != m.serialization.hash_type || x.digest_hex.size() != 64 || !hex_lower(x.digest_hex))
      fail(errc::bad_json, 0,
           "OMS statement: resource '" + x.name + "' is not a sha256 digest in lowercase hex");
    m.resources.push_back(std::move(x));
  }
  if (m.resources.empty()) fail(errc::bad_json, 0, "OMS statement: predicate.resources is empty");
  std::sort(m.resources.begin(), m.resources.end(),
            [](const oms_resource& a, const oms_resource& b) { return a.name < b.name; });
  for (size_t i = 1; i < m.resources.size(); ++i)
    if (m.resources[i].name == m.resources[i - 1].name)
      fail(errc::duplicate, 0, "OMS statement: resource '" + m.resources[i].name + "' is listed twice");
  return m;
}

std::string oms_known_key(const std::string& path) {
  return fs::absolute(path).lexically_normal().string();
}

oms_identity oms_identity_of(const std::string& model, const std::map<std::string, std::string>& known,
                             int threads) {
  oms_identity id;
  oms_options o;
  o.threads = threads;
  o.known = &known;
  std::error_code ec;
  if (fs::is_directory(model, ec)) o.ignore_paths = {"model.sig"};
  try {
    oms_manifest m = oms_hash(model, o);
    id.name = m.subject_name;
    id.root_hex = m.root_hex;
    id.files = m.resources.size();
  } catch (const failure& f) {
    id.error = f.err().message;
  }
  return id;
}

oms_check oms_compare(const oms_manifest& s, const std::string& model,
                      const std::vector<std::string>& extra_ignore, int threads) {
  oms_check c;
  if (oms_root_hex(s.resources) != s.root_hex)
    c.problems.push_back("subject digest " + s.root_hex + " is not the root of the signed resources (" +
                         oms_root_hex(s.resources) + ")");
  std::vector<std::string> ignore = merged_ignores(s.serialization.ignore_paths, extra_ignore);
  std::vector<oms_file> files = oms_enumerate(model, ignore, s.serialization.allow_symlinks);
  std::vector<oms_resource> now = hash_files(files, threads, nullptr);
  std::error_code ec;
  const bool single_file = std::filesystem::is_regular_file(model, ec);
  if (s.resources.size() == 1 && s.resources[0].name == ".") {
    // model_signing < 1.1 named a single-file model "." (spec: its basename).
    if (!single_file) {
      c.problems.push_back(
          "the signature is of a single file (resource '.', model_signing < 1.1): verify that file, "
          "not the folder " +
          model);
      return c;
    }
    now[0].name = ".";
  }
  c.files_checked = now.size();
  size_t i = 0, k = 0;  // both sorted by name
  while (i < s.resources.size() || k < now.size()) {
    if (k == now.size() || (i < s.resources.size() && s.resources[i].name < now[k].name)) {
      c.problems.push_back("missing: '" + s.resources[i++].name + "' is signed but not in the model");
    } else if (i == s.resources.size() || now[k].name < s.resources[i].name) {
      c.problems.push_back("extra: '" + now[k++].name + "' is in the model but not signed");
    } else {
      if (s.resources[i].digest_hex != now[k].digest_hex)
        c.problems.push_back("changed: '" + now[k].name + "' has sha256 " + now[k].digest_hex + ", signed " +
                             s.resources[i].digest_hex);
      ++i, ++k;
    }
  }
  c.root_hex = oms_root_hex(now);
  return c;
}

}  // namespace gb
