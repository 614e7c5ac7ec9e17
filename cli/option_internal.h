// cli/option_internal.h: what the option sources of cli/ share behind cli/options.h: the running
// command's state (name, --json, capture mode, usage line, positionals), an option's table row and the
// usage error. For cli/options.cpp, option_table.cpp, option_values.cpp and option_errors.cpp only.
//
//   command_name() = "bias";                        // what errors and --help name
//   gb::cli::detail::usage_throw("--top x is out of range");
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "cli/options.h"

namespace gb::cli::detail {

std::string& command_name();
bool& json_flag();
// Capture mode (command_tables): parse_command records the table and ends the command.
command_table*& capture_slot();
std::string& last_usage();
positional_list& current_positionals();

struct value_kind {
  bool numeric = false, integer = false;
};
value_kind kind_of(const po::option_description& od);
// 1048576, not 1.04858e+06
std::string format_double(double v);
// "o" for "-o [ --output ]", "" without a short name
std::string short_of(const po::option_description& od);
bool is_positional(const std::string& name);
// The command's table from its options_description (usage and details from the caption).
command_table table_of(const po::options_description& desc);

std::string join(const std::vector<std::string>& v, const char* sep = ", ");
[[noreturn]] void usage_throw(const std::string& why);

}  // namespace gb::cli::detail
