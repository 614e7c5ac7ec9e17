// cli/graph_options.cpp: the option table of `glassbox graph` (see cli/graph_options.h).
#include "cli/graph_options.h"

#include <boost/program_options.hpp>

#include "cli/command.h"
#include "cli/options.h"
#include "viz/report_graph.h"

namespace gb::cli {

namespace po = boost::program_options;

int graph_parse(int argc, char** argv, graph_args& a) {
  po::options_description desc(
      "glassbox graph MODEL -o FILE.{svg,png,dot,json,html} [--expand] [--overlay METRIC] [--diff OTHER] "
      "[--view auto|ops|arch]");
  desc.add_options()("help,h", "show options")("model", po::value(&a.path), "model file or folder")(
      "output,o", po::value(&a.out),
      "output file; the extension picks the format (svg, png, dot, json, html); '-' = stdout")(
      "format", po::value(&a.format),
      "svg, png, dot, json or html: one offline page with pan, zoom, search and tensor details (overrides "
      "the extension)")("expand", po::bool_switch(&a.expand),
                        "draw every layer (default: identical layers folded into one 'x N' block)")(
      "overlay", po::value(&a.overlay),
      "colour nodes by a per-tensor metric: norm absmax std kurtosis outliers nan zeros (stats) or alpha "
      "alpha_weighted stable_rank spectral_norm log_norm (spectral); findings are marked on their node")(
      "diff", po::value(&a.other),
      "draw MODEL and OTHER in one picture: added, removed and changed nodes highlighted")(
      "view", po::value(&a.view)->default_value("auto"), "auto (ONNX: ops, others: arch), ops, or arch")(
      "threads", po::value(&a.threads)->default_value(0), "threads for --overlay / --diff (0 = all cores)")(
      "json", po::bool_switch(&a.as_json), "print a JSON summary of what was written");
  parse_command(argc, argv, desc);
  if (a.path.empty() || a.out.empty()) return missing_positional(a.path.empty() ? "MODEL" : "-o FILE");
  check_output_file("output", a.out);
  a.format = viz::graph_format_of(a.out, a.format);
  if (a.format.empty())
    return fail_message(exit_usage, "cannot tell the format of '" + a.out +
                                        "' (use .svg, .png, .dot, .json or .html, or --format)");
  if (a.view != "auto" && a.view != "ops" && a.view != "arch")
    return usage_error("graph", "--view must be auto, ops or arch");
  if (!a.overlay.empty() && !a.other.empty())
    return usage_error("graph", "--overlay and --diff cannot be combined");
  return -1;
}

}  // namespace gb::cli
