// cli/options.cpp: see options.h.
#include "cli/options.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "cli/command.h"
#include "cli/help_text.h"
#include "cli/json_util.h"

namespace gb::cli {
namespace {

std::string& cmd_name() {
  static std::string s = "";
  return s;
}
bool& json_flag() {
  static bool b = false;
  return b;
}
// Capture mode (command_tables): parse_command records the table and ends the command.
command_table*& capture_slot() {
  static command_table* t = nullptr;
  return t;
}
std::string& last_usage() {
  static std::string s;
  return s;
}
positional_list& current_positionals() {
  static positional_list p;
  return p;
}

// Old spellings kept working (not shown in --help): {old, new}.
constexpr std::pair<const char*, const char*> deprecated_aliases[] = {
    {"out", "output"},        {"suites", "suite"},      {"bootstrap", "resamples"},
    {"gen-tokens", "tokens"}, {"max-prompts", "limit"},
};

// Valid ranges of numeric options; a numeric option not listed here must be >= 0.
struct range {
  const char* name;
  const char* cmd;  // nullptr: every command
  double lo, hi;
};
constexpr double big = 9.0e18;
constexpr range ranges[] = {
    {"threads", nullptr, 0, 4096},      {"repetitions", nullptr, 1, 1e6},
    {"samples", nullptr, 1, big},       {"max-exact", nullptr, 1, 1 << 20},
    {"top-k", "spectral", 1, 1 << 20},  {"layers", nullptr, 1, 4096},
    {"dim", nullptr, 1, 1 << 20},       {"heads", nullptr, 1, 4096},
    {"vocab", nullptr, 1, 1 << 24},     {"ctx", nullptr, 1, 1 << 24},
    {"bias-scale", nullptr, -1e6, 1e6}, {"outlier-sigma", nullptr, 1e-9, 1e9},
};

struct value_kind {
  bool numeric = false, integer = false;
};
template <class T>
bool is_typed(const po::value_semantic* s) {
  return dynamic_cast<const po::typed_value<T>*>(s) != nullptr;
}
value_kind kind_of(const po::option_description& od) {
  const auto* s = od.semantic().get();
  if (is_typed<int>(s) || is_typed<long>(s) || is_typed<long long>(s) || is_typed<unsigned>(s) ||
      is_typed<unsigned long>(s) || is_typed<unsigned long long>(s))
    return {true, true};
  if (is_typed<double>(s) || is_typed<float>(s)) return {true, false};
  return {};
}

std::string format_double(double v) {
  char b[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(b, sizeof b, "%.0f", v);  // 1048576, not 1.04858e+06
  else
    std::snprintf(b, sizeof b, "%g", v);
  return b;
}

std::string default_text(const po::option_description& od) {
  boost::any a;
  if (od.semantic()->max_tokens() == 0 || !od.semantic()->apply_default(a)) return "";
  if (auto* v = boost::any_cast<std::string>(&a)) return v->empty() ? "" : *v;
  if (auto* v = boost::any_cast<int>(&a)) return std::to_string(*v);
  if (auto* v = boost::any_cast<long>(&a)) return std::to_string(*v);
  if (auto* v = boost::any_cast<long long>(&a)) return std::to_string(*v);
  if (auto* v = boost::any_cast<unsigned>(&a)) return std::to_string(*v);
  if (auto* v = boost::any_cast<unsigned long>(&a)) return std::to_string(*v);
  if (auto* v = boost::any_cast<unsigned long long>(&a)) return std::to_string(*v);
  if (auto* v = boost::any_cast<double>(&a)) return format_double(*v);
  if (auto* v = boost::any_cast<float>(&a)) return format_double(*v);
  return "";
}

std::string value_name(const po::option_description& od) {
  static const std::pair<const char*, const char*> names[] = {
      {"output", "PATH"},         {"tokenizer", "FILE"},  {"data", "PATH"},
      {"data-root", "DIR"},       {"suite", "NAME"},      {"fail-on", "LEVEL"},
      {"prompt", "TEXT"},         {"text", "TEXT"},       {"ids", "LIST"},
      {"tests", "FILE"},          {"sign", "KEY.pem"},    {"key", "PUB.pem"},
      {"sarif", "FILE"},          {"prompts", "FILE"},    {"perplexity", "FILE"},
      {"export", "PATH"},         {"hooks", "NAMES"},     {"clean", "TEXT"},
      {"corrupt", "TEXT"},        {"diff", "OTHER"},      {"overlay", "METRIC"},
      {"only", "NAMES"},          {"plant", "SPEC"},      {"components", "LIST"},
      {"perturb-layers", "LIST"}, {"bias-token", "WORD"}, {"metric", "SPEC"},
  };
  if (od.semantic()->max_tokens() == 0) return "";
  for (const auto& [n, v] : names)
    if (od.long_name() == n) return v;
  value_kind k = kind_of(od);
  if (k.numeric) return k.integer ? "N" : "X";
  std::string up = od.long_name();
  for (char& c : up) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return up;
}

std::string short_of(const po::option_description& od) {
  // format_name(): "-o [ --output ]" or "--output"
  std::string f = od.format_name();
  if (f.size() >= 2 && f[0] == '-' && f[1] != '-') return f.substr(1, f.find(' ') - 1);
  return "";
}

bool is_positional(const std::string& name) {
  for (const auto& [n, c] : current_positionals())
    if (name == n) return true;
  return false;
}

// Boost keeps the caption private; it prints it first, followed by ":" and the option lines ("  -h [ --help
// ]").
std::string caption_of(const po::options_description& desc) {
  std::string text = (std::ostringstream() << desc).str();
  size_t end = text.find("\n  -");
  std::string cap = text.substr(0, end == std::string::npos ? 0 : end);
  if (!cap.empty() && cap.back() == ':') cap.pop_back();
  return cap;
}

command_table table_of(const po::options_description& desc) {
  command_table t;
  t.name = cmd_name();
  std::istringstream cap(caption_of(desc));
  std::string line;
  bool first = true;
  while (std::getline(cap, line)) {
    if (first)
      t.usage = line;
    else
      t.details += line + "\n";
    first = false;
  }
  for (const auto& [n, c] : current_positionals()) t.positionals.push_back(n);
  for (const auto& odp : desc.options()) {
    const auto& od = *odp;
    if (is_positional(od.long_name())) continue;
    option_info o;
    o.long_name = od.long_name();
    o.short_name = short_of(od);
    o.value_name = value_name(od);
    o.description = od.description();
    o.default_text = default_text(od);
    o.takes_value = od.semantic()->max_tokens() > 0;
    t.options.push_back(std::move(o));
  }
  return t;
}

// Levenshtein distance (small strings: option names, commands, enum values).
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

std::vector<std::string> long_names(const po::options_description& desc) {
  std::vector<std::string> out;
  for (const auto& od : desc.options())
    if (!is_positional(od->long_name())) out.push_back(od->long_name());
  return out;
}

const po::option_description* find_option(const po::options_description& desc, const std::string& token) {
  // token: "--name" or "-x"
  for (const auto& od : desc.options()) {
    if (token.rfind("--", 0) == 0 && od->long_name() == token.substr(2)) return od.get();
    if (token.size() == 2 && token[0] == '-' && short_of(*od) == token.substr(1)) return od.get();
  }
  return nullptr;
}

bool looks_negative_number(const std::string& s) {
  if (s.size() < 2 || s[0] != '-') return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end && *end == '\0';
}

// Deprecated spellings -> current ones; "--opt -5" -> "--opt=-5" so a negative value reaches the range check.
std::vector<std::string> normalise_args(int argc, char** argv, const po::options_description& desc) {
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      for (; i < argc; ++i) out.emplace_back(argv[i]);
      break;
    }
    if (a.rfind("--", 0) == 0) {
      std::string name = a.substr(2, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 2);
      std::string rest = a.substr(2 + name.size());
      for (const auto& [old_name, new_name] : deprecated_aliases)
        if (name == old_name && desc.find_nothrow(old_name, false) == nullptr &&
            desc.find_nothrow(new_name, false) != nullptr)
          a = "--" + std::string(new_name) + rest;
    }
    const po::option_description* od = a.find('=') == std::string::npos ? find_option(desc, a) : nullptr;
    if (od && od->semantic()->max_tokens() > 0 && i + 1 < argc && looks_negative_number(argv[i + 1])) {
      out.push_back(a.rfind("--", 0) == 0 ? a + "=" + argv[i + 1] : a + argv[i + 1]);
      ++i;
      continue;
    }
    out.push_back(a);
  }
  return out;
}

[[noreturn]] void usage_throw(const std::string& why) {
  throw usage_failure(why);
}

void check_number(const po::option_description& od, const std::string& text) {
  value_kind k = kind_of(od);
  if (!k.numeric) return;
  const std::string& name = od.long_name();
  double lo = 0, hi = big;
  for (const auto& r : ranges)
    if (name == r.name && (!r.cmd || cmd_name() == r.cmd)) lo = r.lo, hi = r.hi;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  bool bad = text.empty() || !end || *end != '\0' || errno == ERANGE || !std::isfinite(v) || v < lo ||
             v > hi || (k.integer && v != std::floor(v));
  if (!bad) return;
  std::string want = k.integer ? "an integer" : "a number";
  std::string range_text =
      hi >= big ? " >= " + format_double(lo) : " from " + format_double(lo) + " to " + format_double(hi);
  usage_throw("--" + name + " " + text + " is out of range. Give " + want + range_text);
}

[[noreturn]] void rethrow_boost(const po::error& e, const po::options_description& desc) {
  if (const auto* u = dynamic_cast<const po::unknown_option*>(&e)) {
    std::string opt = u->get_option_name();
    std::string bare = opt;
    while (!bare.empty() && bare[0] == '-') bare.erase(0, 1);
    std::string near = nearest(bare, long_names(desc));
    usage_throw("unknown option '" + opt + "'." + (near.empty() ? "" : " Did you mean --" + near + "?") +
                " Run 'glassbox help " + cmd_name() + "' for the options");
  }
  if (const auto* v = dynamic_cast<const po::invalid_option_value*>(&e)) {
    std::string opt = v->get_option_name();
    usage_throw(opt + ": '" + e.what() + "'");
  }
  if (const auto* t = dynamic_cast<const po::too_many_positional_options_error*>(&e)) {
    (void)t;
    usage_throw("too many arguments. Usage: " + table_of(desc).usage);
  }
  std::string what = e.what();
  // Boost says "the argument ('x') for option '--n' is invalid"; keep its sentence, drop nothing else.
  usage_throw(what + ". Run 'glassbox help " + cmd_name() + "' for the options");
}

void print_error_json(const std::string& kind, const std::string& what, const std::string& hint, int code) {
  json j;
  j["schema"] = "glassbox-error/1";
  j["error"] = {
      {"command", cmd_name()}, {"kind", kind}, {"message", what}, {"hint", hint}, {"exit_code", code}};
  std::printf("%s\n", json_dump(j).c_str());
}

}  // namespace

const std::string& current_command() {
  return cmd_name();
}
void set_current_command(const std::string& name, bool json) {
  cmd_name() = name;
  json_flag() = json;
}
bool json_mode() {
  return json_flag();
}

std::string nearest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  size_t allowed = std::max<size_t>(2, word.size() / 3);
  return best_d <= allowed ? best : "";
}

po::variables_map parse_command(int argc, char** argv, const po::options_description& desc,
                                const positional_list& positional) {
  if (argc > 0 && argv[0]) cmd_name() = argv[0];
  current_positionals() = positional;
  last_usage() = table_of(desc).usage;
  if (command_table* t = capture_slot()) {
    *t = table_of(desc);
    throw exit_now{exit_ok};
  }
  po::positional_options_description pos;
  for (const auto& [name, count] : positional) pos.add(name, count);
  std::vector<std::string> args = normalise_args(argc, argv, desc);
  po::variables_map vm;
  try {
    po::parsed_options parsed = po::command_line_parser(args).options(desc).positional(pos).run();
    if (std::any_of(parsed.options.begin(), parsed.options.end(),
                    [](const po::option& o) { return o.string_key == "help"; })) {
      print_help(desc);
      throw exit_now{exit_ok};
    }
    for (const auto& o : parsed.options) {
      const po::option_description* od = desc.find_nothrow(o.string_key, false);
      if (od && od->semantic()->max_tokens() > 0)
        for (const auto& v : o.value) check_number(*od, v);
    }
    po::store(parsed, vm);
    po::notify(vm);
  } catch (const po::error& e) {
    rethrow_boost(e, desc);
  }
  return vm;
}

int print_help(const po::options_description& desc) {
  command_table t = table_of(desc);
  const command_doc& doc = command_doc_find(t.name);
  std::string usage = t.usage;
  std::printf("usage: %s\n", usage.c_str());
  if (!t.details.empty()) std::printf("%s", t.details.c_str());
  std::printf("\noptions:\n");
  for (const auto& o : t.options) {
    std::string left =
        o.short_name.empty() ? "    --" + o.long_name : "-" + o.short_name + ", --" + o.long_name;
    if (!o.value_name.empty()) left += " " + o.value_name;
    std::string right = o.description;
    if (!o.default_text.empty()) right += " (default: " + o.default_text + ")";
    if (left.size() + 2 > 28)
      std::printf("  %s\n  %-28s%s\n", left.c_str(), "", right.c_str());
    else
      std::printf("  %-28s%s\n", left.c_str(), right.c_str());
  }
  std::printf("\nexamples:\n");
  for (const auto& e : doc.examples) std::printf("  %s\n", e.c_str());
  std::printf("\nexit codes:\n");
  std::printf("  0  %s\n", doc.exit_ok ? doc.exit_ok : "success");
  if (doc.exit_findings) std::printf("  1  %s\n", doc.exit_findings);
  std::printf("  2  usage error (unknown option or value, number out of range, missing argument)\n");
  std::printf("  3  bad input: a file cannot be read or parsed, or an output cannot be written\n");
  return exit_ok;
}

int fail_message(int code, const std::string& what, const std::string& hint, const std::string& kind) {
  if (json_mode()) {
    print_error_json(kind, what, hint, code);
    return code;
  }
  std::string line = "glassbox " + cmd_name() + ": " + what;
  if (!hint.empty()) line += ". " + hint;
  std::fprintf(stderr, "%s\n", line.c_str());
  return code;
}

int usage_error(const std::string& cmd, const std::string& why, const po::options_description*) {
  if (!cmd.empty()) cmd_name() = cmd;
  return fail_message(exit_usage, why, "Run 'glassbox help " + cmd_name() + "' for the options", "usage");
}

int missing_positional(const std::string& what) {
  return fail_message(exit_usage, "missing " + what,
                      "Usage: " + last_usage() + " (see 'glassbox help " + cmd_name() + "')", "usage");
}

gb::severity fail_on_parse(const std::string& text) {
  auto s = gb::severity_parse(text);
  if (!s)
    check_choice("fail-on", text,
                 {"info", "low", "medium", "high", "critical", "innocuous", "suspicious", "dangerous"});
  return s.value_or(gb::severity::critical);
}

void check_choice(const std::string& option, const std::string& value,
                  const std::vector<std::string>& valid) {
  if (std::find(valid.begin(), valid.end(), value) != valid.end()) return;
  std::string near = nearest(value, valid);
  usage_throw("--" + option + ": unknown value '" + value + "'." +
              (near.empty() ? "" : " Did you mean '" + near + "'?") + " Valid: " + join(valid));
}

bool path_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

void check_output_file(const std::string& option, const std::string& path) {
  if (path.empty() || path == "-") return;
  auto slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    fail(errc::not_found, 0,
         "--" + option + " " + path + ": folder " + dir + " does not exist. Create it first");
  if (::access(dir.c_str(), W_OK) != 0)
    fail(errc::io, 0,
         "--" + option + " " + path + ": cannot write in " + dir + " (" + std::strerror(errno) + ")");
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    fail(errc::is_directory, 0, "--" + option + " " + path + " is a folder. Give a file name");
}

void check_output_dir(const std::string& option, const std::string& dir) {
  if (dir.empty()) return;
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      fail(errc::io, 0, "--" + option + " " + dir + " is a file, not a folder. Give a folder");
  } else {
    std::string parent =
        dir.substr(0, dir.find_last_of('/') == std::string::npos ? 0 : dir.find_last_of('/'));
    if (parent.empty()) parent = dir[0] == '/' ? "/" : ".";
    if (::stat(parent.c_str(), &st) != 0)
      fail(errc::not_found, 0,
           "--" + option + " " + dir + ": folder " + parent + " does not exist. Create it first");
    if (::mkdir(dir.c_str(), 0755) != 0)
      fail(errc::io, 0,
           "--" + option + " " + dir + ": cannot create the folder (" + std::strerror(errno) + ")");
  }
  if (::access(dir.c_str(), W_OK) != 0)
    fail(errc::io, 0, "--" + option + " " + dir + ": cannot write here (" + std::strerror(errno) + ")");
}

bool parse_ids(const std::string& s, std::vector<int32_t>& out, int64_t min_value) {
  std::istringstream in(s);
  std::string tok;
  while (std::getline(in, tok, ',')) {
    std::istringstream words(tok);
    std::string w;
    while (words >> w) {
      size_t used = 0;
      long long v = 0;
      try {
        v = std::stoll(w, &used);
      } catch (const std::exception&) {
        return false;
      }
      if (used != w.size() || v < min_value || v > INT32_MAX) return false;
      out.push_back(static_cast<int32_t>(v));
    }
  }
  return true;
}

std::vector<command_table> command_tables() {
  std::vector<command_table> out;
  std::string saved = cmd_name();
  for (const auto& c : command_list()) {
    command_table t;
    capture_slot() = &t;
    std::string name = c.name;
    std::vector<char> buf(name.begin(), name.end());
    buf.push_back('\0');
    char* argv[] = {buf.data(), nullptr};
    try {
      c.run(1, argv);
    } catch (const exit_now&) {
    }
    capture_slot() = nullptr;
    t.name = c.name;
    t.summary = c.summary;
    out.push_back(std::move(t));
  }
  cmd_name() = saved;
  std::sort(out.begin(), out.end(),
            [](const command_table& a, const command_table& b) { return a.name < b.name; });
  return out;
}

}  // namespace gb::cli
