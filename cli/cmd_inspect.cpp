// glassbox inspect MODEL [--tensors] [--json] [--fail-on SEVERITY]: what is this model? Header reads only.
#include <boost/program_options.hpp>
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "inspect/findings.h"
#include "inspect/model.h"
#include "inspect/oms.h"
#include "inspect/summary.h"
#include "viz/report_inspect.h"

namespace po = boost::program_options;

namespace {

struct inspect_args {
  std::string path, fail_on;
  bool as_json = false, tensors = false, identity = false;
  int threads = 0;
};

po::options_description inspect_option_table(inspect_args& a) {
  po::options_description desc(
      "glassbox inspect MODEL [--tensors] [--json] [--fail-on SEVERITY] [--identity] [--threads N]");
  desc.add_options()("help,h", "show options")("tensors", po::bool_switch(&a.tensors), "list every tensor")(
      "json", po::bool_switch(&a.as_json), "print one JSON document")(
      "fail-on", po::value(&a.fail_on),
      "exit 1 when a finding reaches this severity (info|low|medium|high|critical)")(
      "model", po::value(&a.path), "model file or folder")(
      "identity", po::bool_switch(&a.identity), "also the files' OMS v1.0 subject digest (reads every byte)")(
      "threads", po::value(&a.threads)->default_value(0),
      "threads (0 = all cores): files scanned and digested in parallel");
  return desc;
}

int run_inspect(int argc, char** argv) {
  inspect_args a;
  po::options_description desc = inspect_option_table(a);
  gb::cli::parse_command(argc, argv, desc);
  if (a.path.empty()) return gb::cli::missing_positional("MODEL");
  std::optional<gb::severity> fail_level;
  if (!a.fail_on.empty()) fail_level = gb::cli::fail_on_parse(a.fail_on);

  gb::result<gb::archive> ar = gb::archive_open(a.path);
  if (!ar) return gb::cli::report_error(ar.err());
  auto shared = std::make_shared<gb::archive>(std::move(ar).value());
  gb::result<gb::model> mr = gb::model_build(shared);
  if (!mr) return gb::cli::report_error(mr.err());
  const gb::model& m = mr.value();
  const gb::model_summary s = gb::summary_build(m);
  const std::vector<gb::finding> findings = gb::inspect_findings(*shared, m, s.chat_template, a.threads);

  // The files' identity as OpenSSF Model Signing signs them (opt-in: inspect otherwise reads headers only).
  const gb::oms_identity id = a.identity ? gb::oms_identity_of(a.path, {}, a.threads) : gb::oms_identity{};
  if (a.as_json) {
    gb::cli::print_json_text(
        gb::viz::inspect_json(*shared, m, s, findings, a.tensors, a.identity ? &id : nullptr));
  } else {
    std::fputs(gb::viz::inspect_text(*shared, m, s, findings, a.tensors).c_str(), stdout);
    if (a.identity) std::fputs(gb::viz::inspect_identity_text(id).c_str(), stdout);
  }
  if (fail_level && !findings.empty() && gb::findings_max(findings) >= *fail_level)
    return gb::cli::exit_findings;
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("inspect", "what is this model? format, architecture, parameters, tokenizer, licence, findings",
           run_inspect);
