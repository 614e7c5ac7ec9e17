// cli/option_errors.cpp: the one error style of every command: "glassbox CMD: what. hint" on stderr, or a
// glassbox-error/1 JSON document on stdout under --json (cli/options.h).
#include <cstdio>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/option_internal.h"

namespace gb::cli {

namespace {

void print_error_json(const std::string& kind, const std::string& what, const std::string& hint, int code) {
  json j;
  j["schema"] = "glassbox-error/1";
  j["error"] = {{"command", detail::command_name()},
                {"kind", kind},
                {"message", what},
                {"hint", hint},
                {"exit_code", code}};
  std::printf("%s\n", json_dump(j).c_str());
}

}  // namespace

const std::string& current_command() {
  return detail::command_name();
}
void set_current_command(const std::string& name, bool json) {
  detail::command_name() = name;
  detail::json_flag() = json;
}
bool json_mode() {
  return detail::json_flag();
}

int fail_message(int code, const std::string& what, const std::string& hint, const std::string& kind) {
  if (json_mode()) {
    print_error_json(kind, what, hint, code);
    return code;
  }
  std::string line = "glassbox " + detail::command_name() + ": " + what;
  if (!hint.empty()) line += ". " + hint;
  std::fprintf(stderr, "%s\n", line.c_str());
  return code;
}

int usage_error(const std::string& cmd, const std::string& why, const po::options_description*) {
  if (!cmd.empty()) detail::command_name() = cmd;
  return fail_message(exit_usage, why, "Run 'glassbox help " + detail::command_name() + "' for the options",
                      "usage");
}

int missing_positional(const std::string& what) {
  return fail_message(
      exit_usage, "missing " + what,
      "Usage: " + detail::last_usage() + " (see 'glassbox help " + detail::command_name() + "')", "usage");
}

}  // namespace gb::cli
