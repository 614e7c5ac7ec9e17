// glassbox: audit open-weight language models from their files.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>
#include <vector>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "cli/wait_policy.h"

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
bool& verbose() {
  static bool v = false;
  return v;
}
void usage(FILE* out) {
  std::fprintf(out,
               "glassbox %s: audit open-weight language models from their files\n\nusage: glassbox <command> "
               "[options]\n\ncommands:\n",
               GB_VERSION);
  auto cs = commands();
  std::sort(cs.begin(), cs.end(),
            [](const command& a, const command& b) { return std::strcmp(a.name, b.name) < 0; });
  for (const auto& c : cs) std::fprintf(out, "  %-14s %s\n", c.name, c.summary);
  std::fprintf(
      out,
      "\nRun 'glassbox help <command>' (or 'glassbox <command> --help') for a command's options, examples\n"
      "and exit codes. Every command accepts --verbose (error codes and byte offsets in error messages).\n"
      "\nexit codes: 0 ok; 1 a finding reached --fail-on, or something requested could not be measured;\n"
      "2 usage error; 3 bad input (a file cannot be read or parsed, an output cannot be written)\n");
}

// What the user can do about an error of this kind.
const char* hint_for(errc c) {
  switch (c) {
    case errc::not_found:
      return "Check the path";
    case errc::io:
      return "Check the path, its permissions and the free space";
    case errc::is_directory:
      return "Give a model file, or a folder glassbox recognises (an HF model folder)";
    case errc::empty_file:
      return "The file is empty: download or copy it again";
    case errc::bad_magic:
      return "glassbox reads GGUF, safetensors, ONNX, PyTorch, llama2.c, word vectors and HF folders";
    case errc::truncated:
      return "The file ends early: download or copy it again";
    case errc::unsupported:
      return "This variant is not supported yet";
    case errc::bad_json:
      return "Check that the file is the kind of JSON this command expects";
    case errc::mismatch:
      return "The parts of the model disagree: check that they come from the same release";
    default:
      return "The file is malformed; 'glassbox scan' and 'glassbox inspect' tell more";
  }
}
}  // namespace

registrar::registrar(const char* name, const char* summary, command_fn fn) {
  commands().push_back({name, summary, fn});
}

const std::vector<command>& command_list() {
  return commands();
}

int report_error(const gb::error& e) {
  std::string what = e.message;
  // the path once: prefix it unless the message already names it
  if (!e.where.empty() && what.find(e.where) == std::string::npos) what = e.where + ": " + what;
  while (!what.empty() && (what.back() == '.' || what.back() == ' ')) what.pop_back();
  std::string hint = hint_for(e.code);
  // a message that already says what to do ("... . Create it first") keeps its own advice
  if (e.message.find(". ") != std::string::npos) hint.clear();
  if (json_mode()) {
    json j;
    j["schema"] = "glassbox-error/1";
    j["error"] = {{"command", current_command()},
                  {"kind", "input"},
                  {"code", errc_name(e.code)},
                  {"where", e.where},
                  {"offset", e.offset},
                  {"message", e.message},
                  {"hint", hint},
                  {"exit_code", exit_input}};
    std::printf("%s\n", json_dump(j).c_str());
    return exit_input;
  }
  if (verbose())
    what += " [" + std::string(errc_name(e.code)) + " at byte offset " + std::to_string(e.offset) + "]";
  return fail_message(exit_input, what, hint, "input");
}

const std::string& command_line() {
  return cmdline();
}

}  // namespace gb::cli

namespace {
int run_command(const gb::cli::command& c, int argc, char** argv) {
  using namespace gb::cli;
  try {
    return c.run(argc, argv);
  } catch (const exit_now& e) {
    return e.code;
  } catch (const usage_failure& u) {
    return fail_message(exit_usage, u.what(), "", "usage");
  } catch (const gb::failure& f) {
    return report_error(f.err());
  } catch (const std::bad_alloc&) {
    return fail_message(exit_input, "out of memory", "Try a smaller input or fewer threads", "input");
  } catch (const std::exception& e) {
    return fail_message(exit_input, std::string("internal error: ") + e.what(),
                        "Please report this with the command line", "internal");
  }
}
// The command line, as run (for reports); --verbose (global) taken out before the command parses its
// options; as_json: --json was given after the command name. The argv-style list ends with nullptr.
std::vector<char*> global_options_strip(int argc, char** argv, bool& as_json) {
  using namespace gb::cli;
  for (int i = 0; i < argc; ++i) {
    if (i) cmdline() += ' ';
    cmdline() += argv[i];
  }
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (i > 0 && std::strcmp(argv[i], "--verbose") == 0) {
      verbose() = true;
      continue;
    }
    as_json = as_json || (i > 1 && std::strcmp(argv[i], "--json") == 0);
    args.push_back(argv[i]);
  }
  args.push_back(nullptr);
  return args;
}

int builtin_usage() {
  gb::cli::usage(stdout);
  return gb::cli::exit_ok;
}
int builtin_version() {
  std::printf("glassbox %s\n", GB_VERSION);
  return gb::cli::exit_ok;
}
// What glassbox answers itself, before any command: the command list and the version.
const struct {
  const char* name;
  int (*run)();
} builtins[] = {{"--help", builtin_usage}, {"-h", builtin_usage}, {"--version", builtin_version}};

int unknown_command(const std::string& name, bool as_json) {
  using namespace gb::cli;
  std::vector<std::string> names;
  for (const auto& c : command_list()) names.push_back(c.name);
  std::string near = nearest(name, names);
  set_current_command("", as_json);
  std::fprintf(stderr, "glassbox: unknown command '%s'.%s Run 'glassbox --help' for the list of commands\n",
               name.c_str(), near.empty() ? "" : (" Did you mean '" + near + "'?").c_str());
  return exit_usage;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace gb::cli;
  choose_wait_policy(argv);  // before any work: may re-execute this binary once
  bool as_json = false;
  std::vector<char*> args = global_options_strip(argc, argv, as_json);
  argc = static_cast<int>(args.size()) - 1;
  argv = args.data();
  if (argc < 2) {
    usage(stderr);
    return exit_usage;
  }
  std::string name = argv[1];
  if (name == "help" && argc == 2) name = "--help";
  for (const auto& b : builtins)
    if (name == b.name) return b.run();
  char help_flag[] = "--help";
  if (name == "help") {  // glassbox help CMD == glassbox CMD --help
    name = argv[2];
    argv[1] = argv[2];
    argv[2] = help_flag;
    argc = 3;
  }
  set_current_command(name, as_json);
  for (const auto& c : command_list())
    if (name == c.name) return run_command(c, argc - 1, argv + 1);
  return unknown_command(name, as_json);
}
