// Sharded bias runs: shard selection, partial result files and their exact merge (probes/shard.h).
#include "probes/shard.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "formats/error.h"
#include "formats/file_text.h"
#include "formats/json_meta.h"
#include "inspect/sha256.h"

namespace gb::probes {

using json = nlohmann::json;

const char* process_env(const char* name) {
  return std::getenv(name);
}

namespace {

// A non-negative decimal that fits size_t, or nothing.
bool parse_count(const std::string& s, size_t& out) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  out = static_cast<size_t>(std::stoul(s));
  return true;
}

shard_spec checked(size_t index, size_t count, std::string source) {
  if (count == 0 || index >= count)
    fail(errc::bad_value, 0,
         "shard " + std::to_string(index) + " of " + std::to_string(count) + " (" + source +
             ") is not a shard: need 0 <= index < count");
  return {index, count, std::move(source)};
}

// The first launcher whose two variables are set: its rank and size.
bool from_env(const env_lookup& env, const char* rank_var, const char* size_var, const char* launcher,
              shard_spec& out) {
  const char* r = env(rank_var);
  const char* n = env(size_var);
  if (!r || !n) return false;
  size_t rank = 0, size = 0;
  if (!parse_count(r, rank) || !parse_count(n, size))
    fail(errc::bad_value, 0,
         std::string(launcher) + ": " + rank_var + "='" + r + "', " + size_var + "='" + n +
             "' are not shard numbers; pass --shard I/N");
  out = checked(rank, size, std::string(launcher) + " (" + rank_var + ", " + size_var + ")");
  return true;
}

shard_spec shard_auto(size_t shards, const env_lookup& env) {
  shard_spec s;
  if (const char* id = env("SLURM_ARRAY_TASK_ID"); id && env("SLURM_ARRAY_TASK_COUNT")) {
    size_t task = 0, count = 0, first = 0, step = 1;
    const char* min = env("SLURM_ARRAY_TASK_MIN");
    const char* n = env("SLURM_ARRAY_TASK_COUNT");
    const char* by = env("SLURM_ARRAY_TASK_STEP");
    if (!parse_count(id, task) || !parse_count(n, count) || (min && !parse_count(min, first)) ||
        (by && !parse_count(by, step)) || step == 0 || task < first)
      fail(errc::bad_value, 0,
           std::string("Slurm array: SLURM_ARRAY_TASK_ID='") + id + "', SLURM_ARRAY_TASK_COUNT='" + n +
               "' are not shard numbers; pass --shard I/N");
    // --array=0-7, 1-8 or 0-14:2: the task's place in the array; a list of ids (--array=1,4,9) has no step
    // to find it from, and ids off the step are refused
    if ((task - first) % step != 0)
      fail(errc::bad_value, 0,
           std::string("Slurm array: task ") + id + " is not on the array's step (SLURM_ARRAY_TASK_MIN " +
               std::to_string(first) + ", SLURM_ARRAY_TASK_STEP " + std::to_string(step) +
               "); use --array=0-N, or pass --shard I/N");
    return checked((task - first) / step, count,
                   "Slurm array ((SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP, "
                   "SLURM_ARRAY_TASK_COUNT)");
  }
  if (from_env(env, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "Open MPI", s)) return s;
  if (from_env(env, "PMI_RANK", "PMI_SIZE", "MPICH/PMI", s)) return s;
  if (from_env(env, "PMIX_RANK", "PMIX_SIZE", "PMIx", s)) return s;
  if (from_env(env, "SLURM_PROCID", "SLURM_NTASKS", "Slurm tasks", s)) return s;
  if (const char* k = env("JOB_COMPLETION_INDEX")) {
    size_t index = 0;
    if (!parse_count(k, index))
      fail(errc::bad_value, 0, std::string("Kubernetes: JOB_COMPLETION_INDEX='") + k + "' is not a number");
    if (shards == 0)
      fail(errc::bad_value, 0,
           "Kubernetes Indexed Job (JOB_COMPLETION_INDEX) does not publish the job's size: pass --shards N "
           "(the Job's completions)");
    return checked(index, shards, "Kubernetes Indexed Job (JOB_COMPLETION_INDEX, --shards)");
  }
  fail(errc::not_found, 0,
       "--shard auto: no launcher found (Slurm SLURM_ARRAY_TASK_ID/COUNT or SLURM_PROCID/NTASKS, Open MPI "
       "OMPI_COMM_WORLD_RANK/SIZE, MPICH PMI_RANK/PMI_SIZE, Kubernetes JOB_COMPLETION_INDEX); pass --shard "
       "I/N");
}

}  // namespace

shard_spec shard_parse(const std::string& arg, size_t shards, const env_lookup& env) {
  if (arg == "auto") {
    shard_spec s = shard_auto(shards, env);
    if (shards && s.count != shards)
      fail(errc::mismatch, 0,
           "--shards " + std::to_string(shards) + " but the launcher says " + std::to_string(s.count) + " (" +
               s.source + ")");
    return s;
  }
  const size_t slash = arg.find('/');
  size_t index = 0, count = 0;
  if (slash == std::string::npos || !parse_count(arg.substr(0, slash), index) ||
      !parse_count(arg.substr(slash + 1), count))
    fail(errc::bad_value, 0, "--shard '" + arg + "': expected I/N (shard I of N, counted from 0) or auto");
  return checked(index, count, "--shard " + arg);
}

std::vector<uint32_t> shard_assign(const std::vector<uint64_t>& weights, size_t n_shards) {
  if (n_shards == 0) fail(errc::bad_value, 0, "shard_assign: no shards");
  // item i -> floor(N * (2 * cum_before + w) / (2 * total)): the shard holding the midpoint of its weight
  uint64_t total = 0, scale = 0;
  for (uint64_t w : weights)
    if (__builtin_add_overflow(total, std::max<uint64_t>(w, 1), &total))
      fail(errc::overflow, 0, "shard_assign: total weight overflows");
  if (__builtin_mul_overflow(total, 2 * static_cast<uint64_t>(n_shards), &scale))
    fail(errc::overflow, 0, "shard_assign: total weight times shards overflows");
  std::vector<uint32_t> out(weights.size());
  uint64_t before = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    const uint64_t w = std::max<uint64_t>(weights[i], 1);
    out[i] = static_cast<uint32_t>(n_shards * (2 * before + w) / (2 * total));  // < scale: no overflow
    before += w;
  }
  return out;
}

// ---------------------------------------------------------------- digests
std::string files_digest(const std::vector<std::string>& paths) {
  sha256 h;
  for (const auto& p : paths) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) fail(errc::not_found, 0, "cannot read " + p);
    const size_t slash = p.rfind('/');
    const std::string line = p.substr(slash == std::string::npos ? 0 : slash + 1) + " " +
                             std::to_string(st.st_size) + " " + digest_hex(file_sha256(p)) + "\n";
    h.update(line.data(), line.size());
  }
  return digest_hex(h.final());
}

namespace {

// The entries of folder dir (without . and ..), in name order.
std::vector<std::string> dir_names(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) fail(errc::io, 0, "cannot list " + dir);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

void list_files(const std::string& dir, const std::string& rel, std::vector<std::string>& out, int depth) {
  if (depth > 8) fail(errc::limit, 0, dir + ": folders nested deeper than 8 levels");
  for (const auto& n : dir_names(dir)) {
    struct stat st {};
    const std::string p = dir + "/" + n;
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode))
      list_files(p, rel + n + "/", out, depth + 1);
    else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
      out.push_back(rel + n);
  }
}

}  // namespace

std::string path_digest(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(errc::not_found, 0, "cannot read " + path);
  if (!S_ISDIR(st.st_mode)) return digest_hex(file_sha256(path));
  std::vector<std::string> rel;
  list_files(path, "", rel, 0);
  sha256 h;
  for (const auto& r : rel) {
    const std::string line = r + " " + digest_hex(file_sha256(path + "/" + r)) + "\n";
    h.update(line.data(), line.size());
  }
  return digest_hex(h.final());
}

std::string dataset_digest(const std::string& suite, const std::string& path) {
  if (suite == "templates") return "built-in";
  return path_exists(path) ? path_digest(path) : "";
}

// ---------------------------------------------------------------- part files
namespace {

constexpr const char* k_format = "glassbox-bias-part/1";

// nlohmann writes the shortest text that reads back to the same double; non-finite values as strings
json num_out(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

struct in_file {
  const std::string& path;
  [[noreturn]] void bad(const std::string& what) const {
    fail(errc::bad_json, 0,
         path + ": not a glassbox partial result (" + what + "). Rerun the shard to rewrite it");
  }
  const json& at(const json& j, const char* key) const {
    if (!j.is_object() || !j.contains(key)) bad(std::string("missing \"") + key + "\"");
    return j[key];
  }
  std::string str(const json& j, const char* key) const {
    const json& v = at(j, key);
    if (!v.is_string()) bad(std::string("\"") + key + "\" is not a string");
    return v.get<std::string>();
  }
  uint64_t count(const json& j, const char* key) const {
    const json& v = at(j, key);
    if (!v.is_number_unsigned()) bad(std::string("\"") + key + "\" is not a count");
    return v.get<uint64_t>();
  }
  double num(const json& v) const {
    if (v.is_number()) return v.get<double>();
    if (v == "nan") return std::nan("");
    if (v == "inf") return INFINITY;
    if (v == "-inf") return -INFINITY;
    bad("a value is not a number");
  }
  const json& array(const json& j, const char* key) const {
    const json& v = at(j, key);
    if (!v.is_array()) bad(std::string("\"") + key + "\" is not a list");
    return v;
  }
};

json suite_out(const suite_result& r) {
  json recs = json::array();
  for (const auto& x : r.records) {
    json vals = json::array();
    for (const auto& [k, v] : x.values) vals.push_back({k, num_out(v)});
    recs.push_back({{"index", x.index}, {"id", x.id}, {"group", x.group}, {"sub", x.sub}, {"values", vals}});
  }
  json skips = json::array();
  for (const auto& k : r.skipped) {
    json s = {{"where", k.where}, {"reason", k.reason}};
    if (k.index != k_not_an_item) s["index"] = k.index;
    skips.push_back(s);
  }
  return {{"suite", r.suite},
          {"variant", r.variant},
          {"definition", r.definition},
          {"seed", r.seed},
          {"resamples", r.resamples},
          {"items", r.items},
          {"items_total", r.items_total},  // the dataset's items (> items: a --limit quick pass)
          {"error", r.error},
          {"records", recs},
          {"skipped", skips},
          {"tokens", r.tokens},
          {"tokens_computed", r.tokens_computed}};
}

suite_result suite_in(const in_file& f, const json& j) {
  suite_result r;
  r.suite = f.str(j, "suite");
  r.variant = f.str(j, "variant");
  r.definition = f.str(j, "definition");
  r.seed = f.count(j, "seed");
  const json& res = f.at(j, "resamples");
  if (!res.is_number_integer()) f.bad("\"resamples\" is not an integer");
  r.resamples = res.get<int>();
  r.items = f.count(j, "items");
  r.items_total = f.count(j, "items_total");
  r.error = f.str(j, "error");
  r.tokens = f.count(j, "tokens");
  r.tokens_computed = f.count(j, "tokens_computed");
  for (const json& x : f.array(j, "records")) {
    item_record rec;
    rec.index = f.count(x, "index");
    rec.id = f.str(x, "id");
    rec.group = f.str(x, "group");
    rec.sub = f.str(x, "sub");
    for (const json& kv : f.array(x, "values")) {
      if (!kv.is_array() || kv.size() != 2 || !kv[0].is_string())
        f.bad("a record value is not [name, number]");
      rec.values.emplace_back(kv[0].get<std::string>(), f.num(kv[1]));
    }
    r.records.push_back(std::move(rec));
  }
  for (const json& x : f.array(j, "skipped")) {
    skipped_item k{f.str(x, "where"), f.str(x, "reason")};
    if (x.contains("index")) k.index = f.count(x, "index");
    r.skipped.push_back(std::move(k));
  }
  return r;
}

json header_out(const part_header& h) {
  return {{"tool_version", h.tool_version}, {"model", h.model},
          {"model_digest", h.model_digest}, {"datasets", h.datasets},
          {"options", h.options},           {"shard", {h.shard_index, h.shard_count}}};
}

part_header header_in(const in_file& f, const json& j) {
  part_header h;
  h.tool_version = f.str(j, "tool_version");
  h.model = f.str(j, "model");
  h.model_digest = f.str(j, "model_digest");
  for (const char* key : {"datasets", "options"}) {
    const json& m = f.at(j, key);
    if (!m.is_object()) f.bad(std::string("\"") + key + "\" is not an object");
    for (const auto& [k, v] : m.items()) {
      if (!v.is_string()) f.bad(std::string("a value of \"") + key + "\" is not a string");
      (key[0] == 'd' ? h.datasets : h.options)[k] = v.get<std::string>();
    }
  }
  const json& s = f.at(j, "shard");
  if (!s.is_array() || s.size() != 2 || !s[0].is_number_unsigned() || !s[1].is_number_unsigned())
    f.bad("\"shard\" is not [index, count]");
  h.shard_index = s[0].get<size_t>();
  h.shard_count = s[1].get<size_t>();
  if (h.shard_count == 0 || h.shard_index >= h.shard_count) f.bad("\"shard\" index not below its count");
  return h;
}

}  // namespace

void part_write(const std::string& path, const part_header& h, const std::vector<suite_result>& results) {
  json suites = json::array();
  for (const auto& r : results) suites.push_back(suite_out(r));
  const json doc = {{"format", k_format}, {"header", header_out(h)}, {"suites", suites}};
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << doc.dump(1, ' ', false, json::error_handler_t::strict) << "\n";
  f.close();
  if (!f) fail(errc::io, 0, "cannot write " + path);
}

part part_read(const std::string& path) {
  const std::string text = file_text(path);
  json_check_depth(text, 0, path.c_str());
  json doc = json::parse(text, nullptr, false);
  const in_file f{path};
  if (doc.is_discarded()) f.bad("the JSON does not parse");
  if (!doc.is_object() || !doc.contains("format") || doc["format"] != k_format)
    f.bad(std::string("no \"format\": \"") + k_format + "\"");
  part p;
  p.path = path;
  p.header = header_in(f, f.at(doc, "header"));
  for (const json& s : f.array(doc, "suites")) p.results.push_back(suite_in(f, s));
  return p;
}

std::vector<std::string> part_paths(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const std::string& a : args) {
    struct stat st {};
    if (::stat(a.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      out.push_back(a);  // a file, or a path part_read reports
      continue;
    }
    const size_t before = out.size();
    for (const std::string& n : dir_names(a))
      if (n.starts_with("bias.part-") && n.ends_with(".json")) out.push_back(a + "/" + n);
    if (out.size() == before)
      fail(errc::not_found, 0,
           a + ": no bias.part-*.json in this folder. Give the folders the shards wrote (bias --shard I/N -o "
               "DIR) or their part files");
  }
  return out;
}

part_header part_header_of(const session& s, const std::string& model_path, const std::string& tokenizer_path,
                           const shard_spec& shard, std::map<std::string, std::string> datasets,
                           std::map<std::string, std::string> options) {
  part_header h;
  h.tool_version = GB_VERSION;
  h.model = model_path;
  std::vector<std::string> files;
  for (const auto& f : s.ar->files) files.push_back(f.path);
  if (!tokenizer_path.empty()) files.push_back(tokenizer_path);
  h.model_digest = files_digest(files);
  h.datasets = std::move(datasets);
  h.options = std::move(options);
  h.shard_index = shard.index;
  h.shard_count = shard.count;
  return h;
}

std::string part_save(const std::string& dir, const part_header& h,
                      const std::vector<suite_result>& results) {
  ::mkdir(dir.c_str(), 0755);
  char name[64];
  std::snprintf(name, sizeof name, "/bias.part-%04zu-of-%04zu.json", h.shard_index, h.shard_count);
  part_write(dir + name, h, results);
  return dir + name;
}

// ---------------------------------------------------------------- merge
namespace {

// The first difference between two maps, as "key: a vs b".
std::string map_difference(const std::map<std::string, std::string>& a,
                           const std::map<std::string, std::string>& b) {
  std::set<std::string> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  for (const auto& k : keys) {
    auto x = a.find(k), y = b.find(k);
    const std::string vx = x == a.end() ? "(none)" : x->second, vy = y == b.end() ? "(none)" : y->second;
    if (vx != vy) return k + ": " + vx + " vs " + vy;
  }
  return "";
}

}  // namespace

void part_check_same(const part& first, const part& p) {
  auto differ = [&](const std::string& what, const std::string& detail) {
    fail(errc::mismatch, 0,
         p.path + " and " + first.path + " come from different runs (" + what + ": " + detail +
             "). Merge only the parts of one run");
  };
  const part_header &a = first.header, &b = p.header;
  if (a.tool_version != b.tool_version) differ("tool version", b.tool_version + " vs " + a.tool_version);
  if (a.model_digest != b.model_digest) differ("model", b.model + " vs " + a.model);
  if (std::string d = map_difference(b.datasets, a.datasets); !d.empty()) differ("dataset", d);
  if (std::string d = map_difference(b.options, a.options); !d.empty()) differ("option", d);
  if (a.shard_count != b.shard_count)
    differ("shard count", std::to_string(b.shard_count) + " vs " + std::to_string(a.shard_count));
  if (p.results.size() != first.results.size()) differ("suites", "a different number of suites");
  for (size_t i = 0; i < p.results.size(); ++i)
    if (p.results[i].suite != first.results[i].suite || p.results[i].variant != first.results[i].variant)
      differ("suites", p.results[i].suite + " vs " + first.results[i].suite);
}

namespace {

void check_shards(const std::vector<part>& parts) {
  const size_t n = parts[0].header.shard_count;
  std::vector<std::vector<std::string>> seen(n);
  for (const auto& p : parts) seen[p.header.shard_index].push_back(p.path);
  std::string missing, dup;
  for (size_t i = 0; i < n; ++i) {
    if (seen[i].empty()) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
    if (seen[i].size() > 1) {
      dup += (dup.empty() ? "" : "; ") + std::to_string(i) + " in";
      for (const auto& s : seen[i]) dup += " " + s;
    }
  }
  if (!dup.empty()) fail(errc::duplicate, 0, "shard given twice: " + dup + ". Pass each shard's file once");
  if (!missing.empty())
    fail(errc::not_found, 0,
         "missing shard(s) " + missing + " of " + std::to_string(n) + ". Rerun them with --shard I/" +
             std::to_string(n) + ", or check the parts' paths");
}

// One suite's parts in item order, as one part: what suite_merge recomputes the totals of.
suite_result ordered(const std::vector<const suite_result*>& parts) {
  suite_result r = *parts[0];
  r.records.clear();
  r.skipped.clear();
  r.items = r.tokens = r.tokens_computed = 0;
  for (const auto& k : parts[0]->skipped)  // dataset rows and notes: the same in every part
    if (k.index == k_not_an_item) r.skipped.push_back(k);
  std::vector<skipped_item> item_skips;
  for (const suite_result* p : parts) {
    if (p->error != r.error)
      fail(errc::mismatch, 0, "suite " + r.suite + ": parts disagree on whether it could run");
    r.records.insert(r.records.end(), p->records.begin(), p->records.end());
    for (const auto& k : p->skipped)
      if (k.index != k_not_an_item) item_skips.push_back(k);
    r.items += p->items;
    r.items_total = std::max(r.items_total, p->items_total);  // the same dataset in every part
    r.tokens += p->tokens;
    r.tokens_computed += p->tokens_computed;
  }
  auto by_index = [](const auto& x, const auto& y) { return x.index < y.index; };
  std::stable_sort(r.records.begin(), r.records.end(), by_index);
  std::stable_sort(item_skips.begin(), item_skips.end(), by_index);
  r.skipped.insert(r.skipped.end(), item_skips.begin(), item_skips.end());
  return r;
}

}  // namespace

merged shard_merge(const std::vector<part>& parts) {
  if (parts.empty()) fail(errc::not_found, 0, "merge: no partial result files given");
  for (const auto& p : parts) part_check_same(parts[0], p);
  check_shards(parts);
  merged m;
  m.header = parts[0].header;
  m.header.shard_index = 0;
  m.header.shard_count = 1;
  for (size_t s = 0; s < parts[0].results.size(); ++s) {
    std::vector<const suite_result*> of_suite;
    for (const auto& p : parts) of_suite.push_back(&p.results[s]);
    suite_result r = ordered(of_suite);
    m.results.push_back(r.error.empty() ? suite_merge({r}) : r);
  }
  return m;
}

}  // namespace gb::probes
