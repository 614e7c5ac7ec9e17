// cli/option_lists.h: option values that are lists or choices, shared by the commands: --format (a table
// format), comma- or space-separated lists, lists of choices (--suite a,b --suite c), and option tables
// written as rows. For cli/ sources (parse_command and the one error style: cli/options.h).
//
//   const auto format = gb::cli::table_format_option(table_format);             // exit 2 on a bad name
//   std::vector<std::string> suites = gb::cli::parse_choices("suite", args, valid);
//   gb::cli::options_add(desc, {{"help,h", nullptr, "show options"},
//                               {"json", po::bool_switch(&as_json), "print one JSON document"}});
#pragma once

#include <boost/program_options.hpp>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "probes/engine/engine.h"
#include "viz/text_table.h"

namespace gb::cli {

// --format TEXT: the table format, std::nullopt when TEXT is empty; any other name is a usage error
// ("--format must be table, md or csv", exit 2).
std::optional<viz::table_format> table_format_option(const std::string& text);
// "a,b c" and repeated values -> {"a", "b", "c"}.
std::vector<std::string> split_list(const std::vector<std::string>& values);
// split_list(values), each checked against `valid` (check_choice).
std::vector<std::string> parse_choices(const std::string& option, const std::vector<std::string>& values,
                                       const std::vector<std::string>& valid);

// --gelu exact|ggml and --numerics exact|llama.cpp, checked (check_choice), into the engine's run options.
void engine_numerics_apply(const std::string& gelu, const std::string& numerics, engine::run_options& o);
// Adds those two options (default "exact") to desc, read into gelu and numerics.
void engine_numerics_options(boost::program_options::options_description& desc, std::string& gelu,
                             std::string& numerics);

// One row of an option table: name ("output,o"), value (po::value(&x), po::bool_switch(&b), or nullptr for a
// flag without one such as "help,h") and the help text; options_add adds the rows in order.
struct option_row {
  const char* name;
  const boost::program_options::value_semantic* value;
  const char* help;
};
void options_add(boost::program_options::options_description& desc, std::initializer_list<option_row> rows);

}  // namespace gb::cli
