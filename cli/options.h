// cli/options.h: the command-line plumbing the subcommands share (Boost.Program_options).
//
//   po::options_description desc("glassbox stats MODEL [--json]");
//   desc.add_options()("help,h", "show options")("model", po::value(&path), "model file or folder");
//   po::variables_map vm = gb::cli::parse_command(argc, argv, desc);   // positional: MODEL
//   if (vm.count("help")) return gb::cli::print_help(desc);
//   if (path.empty()) return gb::cli::usage_error("stats", "missing MODEL");
//
// A Boost error (unknown option, bad value) propagates to main(), which prints "glassbox CMD: what" on one
// line and exits 2.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <boost/program_options.hpp>

namespace gb::cli {

namespace po = boost::program_options;

// Positional names in order, each with how many values it takes (-1: all the rest).
using positional_list = std::vector<std::pair<const char*, int>>;

po::variables_map parse_command(int argc, char** argv, const po::options_description& desc,
                                const positional_list& positional = {{"model", 1}});
// Prints the options to stdout; returns exit_ok.
int print_help(const po::options_description& desc);
// Prints "glassbox CMD: why" (and the options when given) to stderr; returns exit_usage.
int usage_error(const std::string& cmd, const std::string& why, const po::options_description* desc = nullptr);
// Parses integers separated by commas and/or spaces ("1,2 3"); false on anything else or a value below
// min_value or above INT32_MAX.
bool parse_ids(const std::string& s, std::vector<int32_t>& out, int64_t min_value = 0);

}  // namespace gb::cli
