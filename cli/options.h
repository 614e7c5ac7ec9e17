// cli/options.h: the command-line plumbing every subcommand shares (Boost.Program_options underneath), so
// that all commands speak one vocabulary, print one help layout and fail in one style.
//
//   po::options_description desc("glassbox stats MODEL [--json]");
//   desc.add_options()("help,h", "show options")("model", po::value(&path), "model file or folder");
//   po::variables_map vm = gb::cli::parse_command(argc, argv, desc);   // positional: MODEL
//   if (path.empty()) return gb::cli::missing_positional("MODEL");
//   auto level = gb::cli::fail_on_parse(fail_on_text);                  // one --fail-on scale
//
// parse_command handles --help itself (usage line, options, examples, exit codes: see help_text.cpp),
// rewrites deprecated spellings (--out -> --output, --suites -> --suite, ...), accepts negative numbers as
// values (`--tokens -5`), checks every number against its valid range, and turns a Boost error into a
// usage_failure with a "did you mean" for misspelt options; main() prints it and exits 2.
// Errors print as `glassbox <cmd>: <what happened>. <what to do>` on stderr, or as {"schema", "error"}
// JSON on stdout when --json was given.
// Sources: options.cpp (parse_command, --help), option_table.cpp (the tables), option_values.cpp (value
// parsers and checks), option_errors.cpp (the error style); cli/option_internal.h is what they share.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "formats/error.h"

namespace gb::cli {

namespace po = boost::program_options;

// Positional names in order, each with how many values it takes (-1: all the rest).
using positional_list = std::vector<std::pair<const char*, int>>;

// Thrown for a usage error (exit 2); main() prints it in the one error style.
struct usage_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Thrown to end the command early with an exit code after everything was printed (--help, table capture).
struct exit_now {
  int code;
};

po::variables_map parse_command(int argc, char** argv, const po::options_description& desc,
                                const positional_list& positional = {{"model", 1}});
// Prints the command's help (usage, options, examples, exit codes) to stdout; returns exit_ok.
int print_help(const po::options_description& desc);
// Prints "glassbox CMD: why. Run 'glassbox help CMD' for the options." to stderr (JSON under --json);
// returns exit_usage. `desc` is accepted for old call sites and ignored (errors never dump the help).
int usage_error(const std::string& cmd, const std::string& why,
                const po::options_description* desc = nullptr);
// "glassbox CMD: missing MODEL. Usage: ...": the one style for a missing positional argument; exit_usage.
int missing_positional(const std::string& what);
// Prints "glassbox CMD: what. hint" to stderr (JSON under --json) and returns `code`.
int fail_message(int code, const std::string& what, const std::string& hint = "",
                 const std::string& kind = "failed");

// The one --fail-on scale (info|low|medium|high|critical, or the scan words innocuous|suspicious|dangerous);
// an unknown level is a usage_failure naming the valid ones and the nearest.
gb::severity fail_on_parse(const std::string& text);
// `value` must be one of `valid` for option `option` (without dashes); else a usage_failure with a
// "did you mean" and the valid list.
void check_choice(const std::string& option, const std::string& value, const std::vector<std::string>& valid);
// The closest of `candidates` to `word` when it is plausibly a typo (small edit distance), else "".
std::string nearest(const std::string& word, const std::vector<std::string>& candidates);
// Fails with a one-line reason (and exit 3) unless `path` can be written: its folder exists and is writable
// (for a folder output: the folder itself, created when missing). Checked before any work starts.
void check_output_file(const std::string& option, const std::string& path);
void check_output_dir(const std::string& option, const std::string& dir);

// Parses integers separated by commas and/or spaces ("1,2 3"); false on anything else or a value below
// min_value or above INT32_MAX.
bool parse_ids(const std::string& s, std::vector<int32_t>& out, int64_t min_value = 0);

// The running command's name ("bias"), set by parse_command and main(); json_mode(): --json was given.
const std::string& current_command();
void set_current_command(const std::string& name, bool json);
bool json_mode();

// One option as the help, completion, man page and consistency test see it.
struct option_info {
  std::string long_name, short_name, value_name, description, default_text;
  bool takes_value = false;
};
struct command_table {
  std::string name, summary, usage, details;
  std::vector<std::string> positionals;
  std::vector<option_info> options;
};
// Runs every registered command in capture mode (nothing is computed) and returns its option table.
std::vector<command_table> command_tables();

}  // namespace gb::cli
