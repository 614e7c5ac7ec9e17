// glassbox diff: metadata/hyperparameter changes, tensor changes and a lineage verdict for two models.
// The computation is inspect/diff.h (and inspect/delta.h), the rendering viz/report_diff.h.
#include <boost/program_options.hpp>
#include <cstdio>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/option_lists.h"
#include "cli/options.h"
#include "inspect/delta.h"
#include "inspect/diff.h"
#include "inspect/summary.h"
#include "viz/report_diff.h"
#include "viz/result_tables.h"

namespace po = boost::program_options;

namespace {

// the one parameter count (inspect's); "" when no model could be built from the files
std::string params_text(const gb::integrity_input& in) {
  return in.m ? gb::parameter_count_text(gb::summary_build(*in.m)) : std::string();
}

struct diff_args {
  std::string pa, pb, table_format, fail_on_text;
  bool as_json = false, all = false;
  int threads = 0;
};

// The options shown by --help and the two hidden positionals A, B.
po::options_description diff_option_table(diff_args& a) {
  po::options_description desc("glassbox diff A B [--json] [--all]");
  desc.add_options()("help,h", "show options")("json", po::bool_switch(&a.as_json),
                                               "print one JSON document")(
      "format", po::value(&a.table_format),
      "print the per-tensor table to paste elsewhere: table, md (Markdown) or csv")(
      "all", po::bool_switch(&a.all), "list identical tensors too")(
      "threads", po::value(&a.threads)->default_value(0), "threads (0 = all cores)")(
      "fail-on", po::value(&a.fail_on_text),
      "exit 1 when the difference reaches this level: same model/weights info, re-encoded low, "
      "derived high, unrelated critical");
  po::options_description hidden;
  hidden.add_options()("a", po::value(&a.pa))("b", po::value(&a.pb));
  po::options_description every("glassbox diff A B [--json] [--all] [--fail-on LEVEL]");
  every.add(desc).add(hidden);
  return every;
}

int run_diff(int argc, char** argv) {
  diff_args args;
  po::options_description every = diff_option_table(args);
  gb::cli::parse_command(argc, argv, every, {{"a", 1}, {"b", 1}});
  if (args.pa.empty() || args.pb.empty())
    return gb::cli::missing_positional(args.pa.empty() ? "A and B (two models)" : "B (the second model)");
  std::optional<gb::severity> fail_on;
  if (!args.fail_on_text.empty()) fail_on = gb::cli::fail_on_parse(args.fail_on_text);
  const auto format = gb::cli::table_format_option(args.table_format);
  gb::result<gb::integrity_input> a = gb::integrity_open(args.pa);
  if (!a) return gb::cli::report_error(a.err());
  gb::result<gb::integrity_input> b = gb::integrity_open(args.pb);
  if (!b) return gb::cli::report_error(b.err());
  auto dr = gb::capture(args.pa, [&] { return gb::diff_inputs(a.value(), b.value(), args.threads); });
  if (!dr) return gb::cli::report_error(dr.err());
  const gb::diff_report& d = dr.value();
  const gb::viz::diff_sides sides{
      args.pa,        args.pb,        params_text(a.value()), params_text(b.value()),
      a.value().note, b.value().note, gb::delta_detect(d)};
  const gb::severity level = gb::lineage_level(d.verdict);
  const int rc = fail_on && level >= *fail_on ? gb::cli::exit_findings : gb::cli::exit_ok;
  if (args.as_json) {
    gb::cli::print_json_text(gb::viz::diff_json(d, sides));
    return rc;
  }
  if (format) {
    std::printf("%s", gb::viz::table_render(gb::viz::diff_table(d, args.all), *format).c_str());
    return gb::cli::exit_ok;
  }
  std::printf("%s", gb::viz::diff_text(d, sides, args.all).c_str());
  if (rc != gb::cli::exit_ok)
    std::printf("FAIL: the difference (%s) reaches --fail-on %s\n", gb::severity_name(level),
                gb::severity_name(*fail_on));
  return rc;
}

}  // namespace

GB_COMMAND(
    "diff",
    "compare two models: tensor changes and a lineage verdict (same / re-encoded / derived / unrelated)",
    run_diff);
