// glassbox export-meta MODEL -o DIR [--shards N]: writes a LLaMA-family model in Meta's original release
// layout (params.json + consolidated.NN.pth model-parallel shards + tokenizer), e.g. to check a tool chain
// on the layout Meta ships, or to compare digests with a Meta release.
#include <boost/program_options.hpp>
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "inspect/meta_export.h"

namespace po = boost::program_options;

namespace {

int run_export_meta(int argc, char** argv) {
  const char* usage = "glassbox export-meta MODEL -o DIR [--shards N] [--vocab-from-tokenizer]";
  po::options_description desc(usage);
  std::string path;
  gb::meta_export_options o;
  bool as_json = false;
  desc.add_options()("help,h", "show options")("output,o", po::value(&o.dir), "folder to write")(
      "shards", po::value(&o.shards)->default_value(1), "model-parallel shards (LLaMA 2 13B: 2, 70B: 8)")(
      "vocab-from-tokenizer", po::bool_switch(&o.vocab_from_tokenizer),
      "params.json vocab_size -1 (as LLaMA 1)")("json", po::bool_switch(&as_json),
                                                "print one JSON document (files written)");
  po::options_description hidden;
  hidden.add_options()("model", po::value(&path));
  po::options_description every(usage);
  every.add(desc).add(hidden);
  po::variables_map vm = gb::cli::parse_command(argc, argv, every);
  if (vm.count("help")) return gb::cli::print_help(desc);
  if (path.empty()) return gb::cli::usage_error("export-meta", "missing MODEL", &desc);
  if (o.dir.empty()) return gb::cli::usage_error("export-meta", "missing -o DIR", &desc);
  gb::result<gb::archive> a = gb::archive_open(path);
  if (!a) return gb::cli::report_error(a.err());
  auto ar = std::make_shared<const gb::archive>(std::move(a).value());
  gb::result<gb::model> m = gb::model_build(ar);
  if (!m) return gb::cli::report_error(m.err());
  gb::result<gb::meta_export_report> r = gb::meta_export(m.value(), o);
  if (!r) return gb::cli::report_error(r.err());
  if (as_json)
    gb::cli::print_json({{"files", r.value().files}});
  else
    for (const std::string& f : r.value().files) std::printf("wrote %s\n", f.c_str());
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("export-meta",
           "write a LLaMA-family model in Meta's original layout (params.json + consolidated.NN.pth shards)",
           run_export_meta);
