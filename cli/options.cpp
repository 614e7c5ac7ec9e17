// cli/options.cpp: parse_command, the machinery every command parses with: deprecated spellings, negative
// numbers as values, number ranges, Boost errors as usage errors with a "did you mean", and --help
// (cli/options.h). The state, option tables, value checks and error style: option_table.cpp,
// option_values.cpp, option_errors.cpp.
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
#include <sstream>

#include "cli/command.h"
#include "cli/help_text.h"
#include "cli/option_internal.h"

namespace gb::cli {

namespace {

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

std::vector<std::string> long_names(const po::options_description& desc) {
  std::vector<std::string> out;
  for (const auto& od : desc.options())
    if (!detail::is_positional(od->long_name())) out.push_back(od->long_name());
  return out;
}

const po::option_description* find_option(const po::options_description& desc, const std::string& token) {
  // token: "--name" or "-x"
  for (const auto& od : desc.options()) {
    if (token.rfind("--", 0) == 0 && od->long_name() == token.substr(2)) return od.get();
    if (token.size() == 2 && token[0] == '-' && detail::short_of(*od) == token.substr(1)) return od.get();
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

void check_number(const po::option_description& od, const std::string& text) {
  detail::value_kind k = detail::kind_of(od);
  if (!k.numeric) return;
  const std::string& name = od.long_name();
  double lo = 0, hi = big;
  for (const auto& r : ranges)
    if (name == r.name && (!r.cmd || detail::command_name() == r.cmd)) lo = r.lo, hi = r.hi;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  bool bad = text.empty() || !end || *end != '\0' || errno == ERANGE || !std::isfinite(v) || v < lo ||
             v > hi || (k.integer && v != std::floor(v));
  if (!bad) return;
  std::string want = k.integer ? "an integer" : "a number";
  std::string range_text = hi >= big
                               ? " >= " + detail::format_double(lo)
                               : " from " + detail::format_double(lo) + " to " + detail::format_double(hi);
  detail::usage_throw("--" + name + " " + text + " is out of range. Give " + want + range_text);
}

[[noreturn]] void rethrow_boost(const po::error& e, const po::options_description& desc) {
  if (const auto* u = dynamic_cast<const po::unknown_option*>(&e)) {
    std::string opt = u->get_option_name();
    std::string bare = opt;
    while (!bare.empty() && bare[0] == '-') bare.erase(0, 1);
    std::string near = nearest(bare, long_names(desc));
    detail::usage_throw("unknown option '" + opt + "'." +
                        (near.empty() ? "" : " Did you mean --" + near + "?") + " Run 'glassbox help " +
                        detail::command_name() + "' for the options");
  }
  if (const auto* v = dynamic_cast<const po::invalid_option_value*>(&e)) {
    std::string opt = v->get_option_name();
    detail::usage_throw(opt + ": '" + e.what() + "'");
  }
  if (const auto* t = dynamic_cast<const po::too_many_positional_options_error*>(&e)) {
    (void)t;
    detail::usage_throw("too many arguments. Usage: " + detail::table_of(desc).usage);
  }
  std::string what = e.what();
  // Boost says "the argument ('x') for option '--n' is invalid"; keep its sentence, drop nothing else.
  detail::usage_throw(what + ". Run 'glassbox help " + detail::command_name() + "' for the options");
}

}  // namespace

po::variables_map parse_command(int argc, char** argv, const po::options_description& desc,
                                const positional_list& positional) {
  if (argc > 0 && argv[0]) detail::command_name() = argv[0];
  detail::current_positionals() = positional;
  detail::last_usage() = detail::table_of(desc).usage;
  if (command_table* t = detail::capture_slot()) {
    *t = detail::table_of(desc);
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
  command_table t = detail::table_of(desc);
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

}  // namespace gb::cli
