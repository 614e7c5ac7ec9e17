// cli/completion_text.h: the commands' own option tables (gb::cli::command_tables) rendered as the bash
// completion script, the man page (roff) and JSON, so neither can drift from --help. For cli/ sources.
//
//   auto tables = gb::cli::command_tables();
//   std::fputs(gb::cli::completion_man(tables).c_str(), stdout);
#pragma once

#include <string>
#include <vector>

#include "cli/options.h"

namespace gb::cli {

std::string completion_bash(const std::vector<command_table>& tables);
std::string completion_man(const std::vector<command_table>& tables);
// {"schema": "glassbox-options/1", "commands": [{name, summary, usage, positionals, options, examples, ...}]}
// (indent 2)
std::string completion_json(const std::vector<command_table>& tables);

}  // namespace gb::cli
