// glassbox diff: metadata/hyperparameter changes, tensor changes and a lineage verdict for two models.
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "inspect/delta.h"
#include "inspect/diff.h"
#include "inspect/summary.h"
#include "viz/json_util.h"
#include "viz/result_tables.h"

namespace po = boost::program_options;
using nlohmann::ordered_json;

namespace {

using gb::cli::num;

// The one --fail-on scale for a lineage verdict.
gb::severity lineage_level(gb::lineage l) {
  switch (l) {
    case gb::lineage::same_model:
    case gb::lineage::same_weights:
      return gb::severity::info;
    case gb::lineage::reencoded:
      return gb::severity::low;
    case gb::lineage::derived:
      return gb::severity::high;
    case gb::lineage::unrelated:
      return gb::severity::critical;
  }
  return gb::severity::critical;
}

int run_diff(int argc, char** argv) {
  po::options_description desc("glassbox diff A B [--json] [--all]");
  std::string pa, pb;
  bool as_json = false, all = false;
  int threads = 0;
  std::string table_format;
  desc.add_options()("help,h", "show options")("json", po::bool_switch(&as_json), "print one JSON document")(
      "format", po::value(&table_format),
      "print the per-tensor table to paste elsewhere: table, md (Markdown) or csv")(
      "all", po::bool_switch(&all), "list identical tensors too")(
      "threads", po::value(&threads)->default_value(0), "threads (0 = all cores)");
  po::options_description hidden;
  hidden.add_options()("a", po::value(&pa))("b", po::value(&pb));
  std::string fail_on_text;
  desc.add_options()(
      "fail-on", po::value(&fail_on_text),
      "exit 1 when the difference reaches this level: same model/weights info, re-encoded low, "
      "derived high, unrelated critical");
  po::options_description every("glassbox diff A B [--json] [--all] [--fail-on LEVEL]");
  every.add(desc).add(hidden);
  gb::cli::parse_command(argc, argv, every, {{"a", 1}, {"b", 1}});
  if (pa.empty() || pb.empty())
    return gb::cli::missing_positional(pa.empty() ? "A and B (two models)" : "B (the second model)");
  std::optional<gb::severity> fail_on;
  if (!fail_on_text.empty()) fail_on = gb::cli::fail_on_parse(fail_on_text);
  const auto format = gb::viz::table_format_parse(table_format);
  if (!table_format.empty() && !format)
    return gb::cli::usage_error("diff", std::string("--format must be ") + gb::viz::k_table_formats);
  gb::result<gb::integrity_input> a = gb::integrity_open(pa);
  if (!a) return gb::cli::report_error(a.err());
  gb::result<gb::integrity_input> b = gb::integrity_open(pb);
  if (!b) return gb::cli::report_error(b.err());
  gb::diff_options o;
  o.threads = threads;
  const gb::hparams* ha = a.value().m ? &a.value().m->hp : nullptr;
  const gb::hparams* hb = b.value().m ? &b.value().m->hp : nullptr;
  gb::result<gb::diff_report> dr = gb::capture(pa, [&] {
    return gb::diff_models(a.value().items, b.value().items, *a.value().ar, *b.value().ar, ha, hb, o);
  });
  if (!dr) return gb::cli::report_error(dr.err());
  const gb::diff_report& d = dr.value();
  const std::optional<std::string> delta = gb::delta_detect(d);
  // the one parameter count (inspect's), per side; "" when no model could be built from the files
  auto params = [](const gb::integrity_input& in) {
    return in.m ? gb::parameter_count_text(gb::summary_build(*in.m)) : std::string();
  };
  const std::string params_a = params(a.value()), params_b = params(b.value());

  if (as_json) {
    ordered_json j;
    j["a"] = pa;
    j["b"] = pb;
    j["verdict"] = gb::lineage_name(d.verdict);
    j["verdict_text"] = d.verdict_text;
    j["delta"] = delta ? ordered_json(*delta) : ordered_json(nullptr);
    j["evidence"] = d.evidence;
    j["parameters"] = {{"a", params_a}, {"b", params_b}};
    auto kv = [](const std::vector<gb::meta_diff>& v) {
      ordered_json arr = ordered_json::array();
      for (const auto& m : v) arr.push_back({{"key", m.key}, {"a", m.a}, {"b", m.b}});
      return arr;
    };
    j["hparams"] = kv(d.hparams);
    j["metadata"] = kv(d.metadata);
    j["tensors"] = ordered_json::array();
    for (const gb::tensor_diff& t : d.tensors)
      j["tensors"].push_back({{"name", t.name},
                              {"status", gb::tensor_delta_name(t.status)},
                              {"dtype_a", t.dtype_a},
                              {"dtype_b", t.dtype_b},
                              {"shape_a", t.shape_a},
                              {"shape_b", t.shape_b},
                              {"rel_l2", num(t.rel_l2)},
                              {"cosine", num(t.cosine)},
                              {"max_abs_diff", num(t.max_abs)},
                              {"expected_rel_error", t.expected},
                              {"tolerance", t.tolerance}});
    j["layers"] = ordered_json::array();
    for (const gb::layer_change& l : d.layers)
      j["layers"].push_back({{"layer", l.key},
                             {"tensors", l.tensors},
                             {"moved", l.moved},
                             {"rel_l2", num(l.rel_l2)},
                             {"min_cosine", num(l.min_cosine)}});
    j["level"] = gb::severity_name(lineage_level(d.verdict));
    gb::cli::print_json(j);
    return fail_on && lineage_level(d.verdict) >= *fail_on ? gb::cli::exit_findings : gb::cli::exit_ok;
  }
  if (format) {
    std::printf("%s", gb::viz::table_render(gb::viz::diff_table(d, all), *format).c_str());
    return gb::cli::exit_ok;
  }
  std::printf("A: %s (%s)\nB: %s (%s)\n", pa.c_str(), d.format_a.c_str(), pb.c_str(), d.format_b.c_str());
  if (!params_a.empty() || !params_b.empty())
    std::printf("parameters: A %s, B %s\n", params_a.empty() ? "unknown" : params_a.c_str(),
                params_b.empty() ? "unknown" : params_b.c_str());
  if (!a.value().note.empty()) std::printf("note A: %s\n", a.value().note.c_str());
  if (!b.value().note.empty()) std::printf("note B: %s\n", b.value().note.c_str());
  if (!d.hparams.empty()) {
    std::printf("\nhyperparameters:\n");
    for (const auto& m : d.hparams)
      std::printf("  %-16s %s -> %s\n", m.key.c_str(), m.a.c_str(), m.b.c_str());
  }
  if (!d.metadata.empty()) {
    std::printf("\nmetadata (%zu changes):\n", d.metadata.size());
    size_t n = 0;
    for (const auto& m : d.metadata) {
      if (++n > 40 && !all) {
        std::printf("  ... (--all for the rest)\n");
        break;
      }
      if (m.a.empty())
        std::printf("  + %s = %s\n", m.key.c_str(), m.b.c_str());
      else if (m.b.empty())
        std::printf("  - %s = %s\n", m.key.c_str(), m.a.c_str());
      else
        std::printf("  ~ %s: %s -> %s\n", m.key.c_str(), m.a.c_str(), m.b.c_str());
    }
  }
  std::printf("\n%-34s %-10s %-6s %-6s %12s %12s %12s %10s\n", "tensor", "status", "A", "B", "rel_l2",
              "cosine", "max|a-b|", "expected");
  for (const gb::tensor_diff& t : d.tensors) {
    if (!all && t.status == gb::tensor_delta::identical) continue;
    std::printf("%-34s %-10s %-6s %-6s %12.4g %12.8f %12.4g %10.3g\n", t.name.c_str(),
                gb::tensor_delta_name(t.status), t.dtype_a.c_str(), t.dtype_b.c_str(), t.rel_l2, t.cosine,
                t.max_abs, t.expected);
  }
  std::printf("\nper layer:\n");
  for (const gb::layer_change& l : d.layers)
    std::printf("  %-10s %3zu tensors %3zu moved  rel_l2 %10.4g  min cosine %.6f\n", l.key.c_str(), l.tensors,
                l.moved, l.rel_l2, l.min_cosine);
  std::printf("\nverdict: %s\n", d.verdict_text.c_str());
  for (const std::string& e : d.evidence) std::printf("  - %s\n", e.c_str());
  if (delta) std::printf("\ndelta: %s\n", delta->c_str());
  if (fail_on && lineage_level(d.verdict) >= *fail_on) {
    std::printf("FAIL: the difference (%s) reaches --fail-on %s\n",
                gb::severity_name(lineage_level(d.verdict)), gb::severity_name(*fail_on));
    return gb::cli::exit_findings;
  }
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND(
    "diff",
    "compare two models: tensor changes and a lineage verdict (same / re-encoded / derived / unrelated)",
    run_diff);
