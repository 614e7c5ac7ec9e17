// glassbox completion: the bash completion script, the man page and the option tables as JSON, all generated
// from the commands' own option tables (gb::cli::command_tables), so they never drift from --help. The
// rendering is cli/completion_text.h.
#include <cstdio>
#include <string>

#include "cli/command.h"
#include "cli/completion_text.h"
#include "cli/options.h"

namespace po = boost::program_options;

namespace {

int run_completion(int argc, char** argv) {
  po::options_description desc(
      "glassbox completion bash|man|json\n"
      "bash: a completion script; man: the man page (roff); json: every command's option table");
  std::string what;
  desc.add_options()("help,h", "show options")("what", po::value(&what), "bash, man or json");
  gb::cli::parse_command(argc, argv, desc, {{"what", 1}});
  if (what.empty()) return gb::cli::missing_positional("bash|man|json");
  gb::cli::check_choice("what", what, {"bash", "man", "json"});
  auto tables = gb::cli::command_tables();
  gb::cli::set_current_command("completion", false);
  if (what == "bash")
    std::fputs(gb::cli::completion_bash(tables).c_str(), stdout);
  else if (what == "man")
    std::fputs(gb::cli::completion_man(tables).c_str(), stdout);
  else
    std::printf("%s\n", gb::cli::completion_json(tables).c_str());
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("completion",
           "print the bash completion script, the man page or the option tables (from the same tables)",
           run_completion);
