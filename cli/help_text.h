// cli/help_text.h: what --help, the man page and the consistency test add to each command's option table:
// 2-3 examples and what exit codes 0 and 1 mean for it (2 and 3 are the same for every command).
//
//   const gb::cli::command_doc& d = gb::cli::command_doc_find("bias");
//   for (const auto& e : d.examples) std::puts(e.c_str());
#pragma once

#include <string>
#include <vector>

namespace gb::cli {

struct command_doc {
  std::vector<std::string> examples;    // empty: the command has no entry (the consistency test fails)
  const char* exit_ok = nullptr;        // what 0 means (nullptr: "success")
  const char* exit_findings = nullptr;  // what 1 means (nullptr: the command never exits 1)
};

// The entry for `name`, or an empty one.
const command_doc& command_doc_find(const std::string& name);

}  // namespace gb::cli
