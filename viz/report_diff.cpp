// viz/report_diff.cpp: `glassbox diff` as text and JSON (see viz/report_diff.h).
#include "viz/report_diff.h"

#include "viz/json_util.h"
#include "viz/text.h"

namespace gb::viz {

namespace {

using ojson = nlohmann::ordered_json;

ojson meta_diffs_json(const std::vector<meta_diff>& v) {
  ojson arr = ojson::array();
  for (const auto& m : v) arr.push_back({{"key", m.key}, {"a", m.a}, {"b", m.b}});
  return arr;
}

ojson tensor_diff_json(const tensor_diff& t) {
  return {{"name", t.name},
          {"status", tensor_delta_name(t.status)},
          {"dtype_a", t.dtype_a},
          {"dtype_b", t.dtype_b},
          {"shape_a", t.shape_a},
          {"shape_b", t.shape_b},
          {"rel_l2", num<ojson>(t.rel_l2)},
          {"cosine", num<ojson>(t.cosine)},
          {"max_abs_diff", num<ojson>(t.max_abs)},
          {"expected_rel_error", t.expected},
          {"tolerance", t.tolerance}};
}

std::string header_text(const diff_report& d, const diff_sides& s) {
  std::string out = strf("A: %s (%s)\nB: %s (%s)\n", s.path_a.c_str(), d.format_a.c_str(), s.path_b.c_str(),
                         d.format_b.c_str());
  if (!s.params_a.empty() || !s.params_b.empty())
    out += strf("parameters: A %s, B %s\n", s.params_a.empty() ? "unknown" : s.params_a.c_str(),
                s.params_b.empty() ? "unknown" : s.params_b.c_str());
  if (!s.note_a.empty()) out += strf("note A: %s\n", s.note_a.c_str());
  if (!s.note_b.empty()) out += strf("note B: %s\n", s.note_b.c_str());
  return out;
}

std::string changes_text(const diff_report& d, bool all) {
  std::string out;
  if (!d.hparams.empty()) {
    out += "\nhyperparameters:\n";
    for (const auto& m : d.hparams)
      out += strf("  %-16s %s -> %s\n", m.key.c_str(), m.a.c_str(), m.b.c_str());
  }
  if (d.metadata.empty()) return out;
  out += strf("\nmetadata (%zu changes):\n", d.metadata.size());
  size_t n = 0;
  for (const auto& m : d.metadata) {
    if (++n > 40 && !all) {
      out += "  ... (--all for the rest)\n";
      break;
    }
    if (m.a.empty())
      out += strf("  + %s = %s\n", m.key.c_str(), m.b.c_str());
    else if (m.b.empty())
      out += strf("  - %s = %s\n", m.key.c_str(), m.a.c_str());
    else
      out += strf("  ~ %s: %s -> %s\n", m.key.c_str(), m.a.c_str(), m.b.c_str());
  }
  return out;
}

std::string tensors_text(const diff_report& d, bool all) {
  std::string out = strf("\n%-34s %-10s %-6s %-6s %12s %12s %12s %10s\n", "tensor", "status", "A", "B",
                         "rel_l2", "cosine", "max|a-b|", "expected");
  for (const tensor_diff& t : d.tensors) {
    if (!all && t.status == tensor_delta::identical) continue;
    out += strf("%-34s %-10s %-6s %-6s %12.4g %12.8f %12.4g %10.3g\n", t.name.c_str(),
                tensor_delta_name(t.status), t.dtype_a.c_str(), t.dtype_b.c_str(), t.rel_l2, t.cosine,
                t.max_abs, t.expected);
  }
  out += "\nper layer:\n";
  for (const layer_change& l : d.layers)
    out += strf("  %-10s %3zu tensors %3zu moved  rel_l2 %10.4g  min cosine %.6f\n", l.key.c_str(), l.tensors,
                l.moved, l.rel_l2, l.min_cosine);
  return out;
}

}  // namespace

std::string diff_text(const diff_report& d, const diff_sides& s, bool all) {
  std::string out = header_text(d, s) + changes_text(d, all) + tensors_text(d, all);
  out += strf("\nverdict: %s\n", d.verdict_text.c_str());
  for (const std::string& e : d.evidence) out += strf("  - %s\n", e.c_str());
  if (s.delta) out += strf("\ndelta: %s\n", s.delta->c_str());
  return out;
}

std::string diff_json(const diff_report& d, const diff_sides& s) {
  ojson j;
  j["a"] = s.path_a;
  j["b"] = s.path_b;
  j["verdict"] = lineage_name(d.verdict);
  j["verdict_text"] = d.verdict_text;
  j["delta"] = s.delta ? ojson(*s.delta) : ojson(nullptr);
  j["evidence"] = d.evidence;
  j["parameters"] = {{"a", s.params_a}, {"b", s.params_b}};
  j["hparams"] = meta_diffs_json(d.hparams);
  j["metadata"] = meta_diffs_json(d.metadata);
  j["tensors"] = ojson::array();
  for (const tensor_diff& t : d.tensors) j["tensors"].push_back(tensor_diff_json(t));
  j["layers"] = ojson::array();
  for (const layer_change& l : d.layers)
    j["layers"].push_back({{"layer", l.key},
                           {"tensors", l.tensors},
                           {"moved", l.moved},
                           {"rel_l2", num<ojson>(l.rel_l2)},
                           {"min_cosine", num<ojson>(l.min_cosine)}});
  j["level"] = severity_name(lineage_level(d.verdict));
  return json_text(j);
}

}  // namespace gb::viz
