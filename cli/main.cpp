// glassbox: audit open-weight language models from their files.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "cli/wait_policy.h"
#include "cli/command.h"

namespace gb::cli {
namespace {
std::vector<command>& commands() {
  static std::vector<command> c;
  return c;
}
std::string& cmdline() {
  static std::string s;
  return s;
}
void usage(FILE* out) {
  std::fprintf(out, "glassbox %s: audit open-weight language models from their files\n\nusage: glassbox <command> [options]\n\ncommands:\n", GB_VERSION);
  auto cs = commands();
  std::sort(cs.begin(), cs.end(), [](const command& a, const command& b) { return std::strcmp(a.name, b.name) < 0; });
  for (const auto& c : cs) std::fprintf(out, "  %-14s %s\n", c.name, c.summary);
  std::fprintf(out, "\nRun 'glassbox <command> --help' for a command's options.\n");
}
}  // namespace

registrar::registrar(const char* name, const char* summary, command_fn fn) { commands().push_back({name, summary, fn}); }

int report_error(const gb::error& e) {
  std::fprintf(stderr, "glassbox: %s\n", e.to_string().c_str());
  return exit_input;
}

const std::string& command_line() { return cmdline(); }

}  // namespace gb::cli

int main(int argc, char** argv) {
  using namespace gb::cli;
  prefer_passive_wait(argv);  // before any work: may re-execute this binary once
  for (int i = 0; i < argc; ++i) {
    if (i) cmdline() += ' ';
    cmdline() += argv[i];
  }
  if (argc < 2) {
    usage(stderr);
    return exit_usage;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    usage(stdout);
    return exit_ok;
  }
  if (name == "--version") {
    std::printf("glassbox %s\n", GB_VERSION);
    return exit_ok;
  }
  for (const auto& c : commands())
    if (name == c.name) {
      try {
        return c.run(argc - 1, argv + 1);
      } catch (const gb::failure& f) {
        return report_error(f.err());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "glassbox %s: %s\n", c.name, e.what());
        return exit_usage;
      }
    }
  std::fprintf(stderr, "glassbox: unknown command '%s'\n\n", name.c_str());
  usage(stderr);
  return exit_usage;
}
