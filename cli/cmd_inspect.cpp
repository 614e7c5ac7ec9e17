// glassbox inspect MODEL [--tensors] [--json] [--fail-on SEVERITY]: what is this model? Header reads only.
#include <boost/program_options.hpp>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <map>
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

using gb::cli::json;

int run_inspect(int argc, char** argv) {
  std::string path, fail_on;
  bool as_json = false, tensors = false, identity = false;
  int threads = 0;
  po::options_description desc(
      "glassbox inspect MODEL [--tensors] [--json] [--fail-on SEVERITY] [--identity] [--threads N]");
  desc.add_options()("help,h", "show options")("tensors", po::bool_switch(&tensors), "list every tensor")(
      "json", po::bool_switch(&as_json), "print one JSON document")(
      "fail-on", po::value(&fail_on),
      "exit 1 when a finding reaches this severity (info|low|medium|high|critical)")(
      "model", po::value(&path), "model file or folder")(
      "identity", po::bool_switch(&identity), "also the files' OMS v1.0 subject digest (reads every byte)")(
      "threads", po::value(&threads)->default_value(0),
      "threads (0 = all cores): files scanned and digested in parallel");
  po::variables_map vm = gb::cli::parse_command(argc, argv, desc);
  (void)vm;
  if (path.empty()) return gb::cli::missing_positional("MODEL");
  std::optional<gb::severity> fail_level;
  if (!fail_on.empty()) fail_level = gb::cli::fail_on_parse(fail_on);

  gb::result<gb::archive> ar = gb::archive_open(path);
  if (!ar) return gb::cli::report_error(ar.err());
  auto shared = std::make_shared<gb::archive>(std::move(ar).value());
  gb::result<gb::model> mr = gb::model_build(shared);
  if (!mr) return gb::cli::report_error(mr.err());
  const gb::model& m = mr.value();
  const gb::model_summary s = gb::summary_build(m);
  const std::vector<gb::finding> findings = gb::inspect_findings(*shared, m, s.chat_template, threads);

  // The files' identity as OpenSSF Model Signing signs them (opt-in: inspect otherwise reads headers only).
  const gb::oms_identity id = identity ? gb::oms_identity_of(path, {}, threads) : gb::oms_identity{};
  if (as_json) {
    json j;
    j["path"] = shared->path;
    if (identity) j["oms_subject"] = {{"digest", id.root_hex}, {"files", id.files}, {"error", id.error}};
    j["format"] = s.format;
    j["format_version"] = s.format_version;
    j["architecture"] = s.architecture;
    j["family"] = s.family;
    j["hyperparameters"] = gb::cli::hparams_json(m.hp);
    j["tensor_count"] = s.tensor_count;
    const json sj = gb::cli::summary_json(s);
    for (auto it = sj.begin(); it != sj.end(); ++it) j[it.key()] = it.value();
    json files = json::array();
    for (const gb::source_file& f : shared->files)
      files.push_back({{"path", f.path},
                       {"role", f.role},
                       {"format", gb::file_format_name(f.format)},
                       {"bytes", f.size()}});
    j["files"] = files;
    if (shared->graph.present()) {
      std::map<std::string, size_t> ops;
      for (const gb::graph_node& n : shared->graph.nodes) ops[n.op_type]++;
      json op = json::object();
      for (const auto& [k, n] : ops) op[k] = n;
      json opsets = json::object();
      for (const auto& [d, v] : shared->graph.opsets) opsets[d.empty() ? "ai.onnx" : d] = v;
      j["graph"] = {{"name", shared->graph.name},
                    {"producer", shared->graph.producer},
                    {"nodes", shared->graph.nodes.size()},
                    {"op_counts", op},
                    {"opsets", opsets},
                    {"inputs", shared->graph.inputs},
                    {"outputs", shared->graph.outputs},
                    {"initializers", shared->tensors.size()}};
    }
    j["metadata"] = gb::cli::metadata_json(shared->metadata);
    j["findings"] = gb::cli::findings_json(findings);
    if (tensors) {
      std::vector<const gb::role_entry*> role_of(shared->tensors.size(), nullptr);
      for (const gb::role_entry& e : m.roles) role_of[e.tensor] = &e;
      json ts = json::array();
      for (size_t i = 0; i < shared->tensors.size(); ++i)
        ts.push_back(gb::cli::tensor_json(*shared, i, role_of[i]));
      j["tensors"] = ts;
    }
    gb::cli::print_json(j);
  } else {
    std::fputs(gb::viz::inspect_text(*shared, m, s, findings, tensors).c_str(), stdout);
    if (identity)
      std::printf("\nidentity\n  %-18s %s\n", "files (OMS v1.0)",
                  id.error.empty() ? (id.root_hex + " over " + std::to_string(id.files) + " files").c_str()
                                   : ("not computed: " + id.error).c_str());
  }
  if (fail_level && !findings.empty() && gb::findings_max(findings) >= *fail_level)
    return gb::cli::exit_findings;
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("inspect", "what is this model? format, architecture, parameters, tokenizer, licence, findings",
           run_inspect);
