// cli/option_table.cpp: the running command's state and its option table as --help, completion and the
// consistency test see it: value names, defaults, short names, usage lines (cli/option_internal.h).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "cli/command.h"
#include "cli/option_internal.h"

namespace gb::cli {
namespace detail {

std::string& command_name() {
  static std::string s = "";
  return s;
}
bool& json_flag() {
  static bool b = false;
  return b;
}
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

namespace {

template <class T>
bool is_typed(const po::value_semantic* s) {
  return dynamic_cast<const po::typed_value<T>*>(s) != nullptr;
}
}  // namespace

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

namespace {

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

}  // namespace

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

namespace {

// Boost keeps the caption private; it prints it first, followed by ":" and the option lines ("  -h [ --help
// ]").
std::string caption_of(const po::options_description& desc) {
  std::string text = (std::ostringstream() << desc).str();
  size_t end = text.find("\n  -");
  std::string cap = text.substr(0, end == std::string::npos ? 0 : end);
  if (!cap.empty() && cap.back() == ':') cap.pop_back();
  return cap;
}

}  // namespace

command_table table_of(const po::options_description& desc) {
  command_table t;
  t.name = command_name();
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

}  // namespace detail

std::vector<command_table> command_tables() {
  std::vector<command_table> out;
  std::string saved = detail::command_name();
  for (const auto& c : command_list()) {
    command_table t;
    detail::capture_slot() = &t;
    std::string name = c.name;
    std::vector<char> buf(name.begin(), name.end());
    buf.push_back('\0');
    char* argv[] = {buf.data(), nullptr};
    try {
      c.run(1, argv);
    } catch (const exit_now&) {
    }
    detail::capture_slot() = nullptr;
    t.name = c.name;
    t.summary = c.summary;
    out.push_back(std::move(t));
  }
  detail::command_name() = saved;
  std::sort(out.begin(), out.end(),
            [](const command_table& a, const command_table& b) { return a.name < b.name; });
  return out;
}

}  // namespace gb::cli
