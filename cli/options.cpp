// cli/options.cpp: see options.h.
#include "cli/options.h"

#include <cstdio>
#include <sstream>

#include "cli/command.h"

namespace gb::cli {

po::variables_map parse_command(int argc, char** argv, const po::options_description& desc,
                                const positional_list& positional) {
  po::positional_options_description pos;
  for (const auto& [name, count] : positional) pos.add(name, count);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(desc).positional(pos).run(), vm);
  po::notify(vm);
  return vm;
}

int print_help(const po::options_description& desc) {
  std::printf("%s", (std::ostringstream() << desc).str().c_str());
  return exit_ok;
}

int usage_error(const std::string& cmd, const std::string& why, const po::options_description* desc) {
  std::fprintf(stderr, "glassbox %s: %s\n", cmd.c_str(), why.c_str());
  if (desc) std::fprintf(stderr, "%s", (std::ostringstream() << *desc).str().c_str());
  return exit_usage;
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

}  // namespace gb::cli
