// cli/command.h: subcommands register themselves; main() dispatches by name.
//
//   static int run_inspect(int argc, char** argv);
//   GB_COMMAND("inspect", "what is this model? format, architecture, parameters", run_inspect);
//
// Exit codes: 0 ok; 1 a finding reached the --fail-on level, or something requested could not be measured;
// 2 usage error; 3 bad input (cannot parse, cannot read or write).
#pragma once

#include <string>
#include <vector>

#include "formats/error.h"

namespace gb::cli {

using command_fn = int (*)(int argc, char** argv);  // argv[0] is the subcommand name

struct command {
  const char* name;
  const char* summary;
  command_fn run;
};

struct registrar {
  registrar(const char* name, const char* summary, command_fn fn);
};

constexpr int exit_ok = 0, exit_findings = 1, exit_usage = 2, exit_input = 3;

// Prints "glassbox <cmd>: <where>: <what happened>. <what to do>" on one line to stderr (JSON on stdout under
// --json; the error code and byte offset only under --verbose or --json) and returns exit_input.
int report_error(const gb::error& e);
// Every registered command (registration order).
const std::vector<command>& command_list();
// The command line as typed (for manifests).
const std::string& command_line();

}  // namespace gb::cli

#define GB_COMMAND_CAT2(a, b) a##b
#define GB_COMMAND_CAT(a, b) GB_COMMAND_CAT2(a, b)
#define GB_COMMAND(name, summary, fn) \
  static ::gb::cli::registrar GB_COMMAND_CAT(gb_command_registrar_, __COUNTER__)(name, summary, fn)
