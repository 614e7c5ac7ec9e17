#include "viz/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "inspect/tensor_values.h"
#include "viz/hub_results.h"
#include "viz/json_util.h"
#include "viz/report_bias.h"
#include "viz/report_bias_diff.h"
#include "viz/report_localize.h"
#include "viz/svg_chart.h"

namespace gb::viz {

using nlohmann::json;

namespace {

std::string strip_xml_prolog(const std::string& svg) {
  size_t p = svg.find("<svg");
  return p == std::string::npos ? svg : svg.substr(p);
}

std::string esc(const std::string& s) {
  return xml_escape(s);
}

}  // namespace

std::string audit_estimate_text(const probes::audit_estimate& e) {
  std::string t = "estimated time (measured rates of this machine; a busy machine takes longer)\n";
  char b[512];
  for (const auto& s : e.steps) {
    std::snprintf(b, sizeof b, "  %-22s %12s  %s\n", s.step.c_str(), probes::duration_text(s.seconds).c_str(),
                  s.basis.c_str());
    t += b;
  }
  std::snprintf(b, sizeof b, "  %-22s %12s\n", "total", probes::duration_text(e.total_seconds).c_str());
  return t + b;
}

report_banner audit_banner(const audit_data& d) {
  report_banner b;
  b.overall = audit_overall(d);
  b.audit_date = d.audit_date;
  b.model_digest = d.have_hashes ? d.hashes.root_hex : "";
  b.signature = d.signature.empty() ? "not signed" : d.signature;
  b.pass = quick_pass_text(d.bias);
  if (b.pass.empty() && d.item_limit > 0) {
    size_t scored = 0;
    for (const auto& r : d.bias) scored += r.records.size();
    b.pass = "QUICK PASS: at most " + std::to_string(d.item_limit) + " items per suite (" +
             std::to_string(scored) + " scored)";
  }
  b.quick_pass = !b.pass.empty();
  if (b.pass.empty()) b.pass = "full";
  return b;
}

std::string report_json(const audit_data& d) {
  json j;
  j["schema"] = "glassbox-report/1";
  j["tool"] = {{"name", "glassbox"}, {"version", d.tool_version}};
  j["model"] = {{"path", d.model_path}, {"demo", d.demo}, {"planted", d.demo_planted}};
  j["seed"] = d.seed;
  const report_banner b = audit_banner(d);
  j["banner"] = {{"overall", {{"level", b.overall.level}, {"text", b.overall.text}}},
                 {"audit_date", b.audit_date},
                 {"model_digest", b.model_digest},
                 {"signature", b.signature},
                 {"quick_pass", b.quick_pass},
                 {"pass", b.pass}};
  json verdicts = json::array();
  for (const auto& v : d.verdicts)
    verdicts.push_back({{"area", v.area}, {"level", v.level}, {"text", v.text}});
  j["verdicts"] = verdicts;
  const auto& s = d.summary;
  json groups = json::object();
  for (const auto& g : s.by_group) groups[g.group] = g.params;
  json dtypes = json::array();
  for (const auto& t : s.dtypes)
    dtypes.push_back({{"dtype", dtype_name(t.type)}, {"tensors", t.tensors}, {"bytes", t.bytes}});
  j["identity"] = {
      {"format", s.format},
      {"format_version", s.format_version},
      {"architecture", s.architecture},
      {"family", d.family},
      {"parameter_count", s.parameter_count},
      {"parameter_count_text", parameter_count_text(s)},
      {"tensor_count", s.tensor_count},
      {"parameters_by_group", groups},
      {"parameters_by_layer", s.by_layer},
      {"dtypes", dtypes},
      {"file_bytes", s.file_bytes},
      {"context_length", s.context_length},
      {"vocab_size", s.vocab_size},
      {"license", s.license},
      {"author", s.author},
      {"name", s.name},
      {"base_models", s.base_models},
      {"urls", s.urls},
      {"chat_template", s.chat_template},
      {"hyperparameters",
       {{"n_embd", d.hp.n_embd},
        {"n_layer", d.hp.n_layer},
        {"n_head", d.hp.n_head},
        {"n_head_kv", d.hp.n_head_kv},
        {"n_ff", d.hp.n_ff},
        {"n_ctx", d.hp.n_ctx},
        {"n_vocab", d.hp.n_vocab},
        {"rope_theta", d.hp.rope_theta},
        {"norm_eps", d.hp.norm_eps}}},
      {"tokenizer",
       {{"model", s.tokenizer.model}, {"size", s.tokenizer.size}, {"source", d.tokenizer_source}}}};
  json files = json::array(), tensors = json::array();
  if (d.have_hashes) {
    for (const auto& f : d.hashes.files)
      files.push_back({{"path", f.path}, {"role", f.role}, {"bytes", f.size}, {"sha256", f.sha256_hex}});
    for (size_t i = 0; i < d.hashes.tensors.size(); ++i) {
      const auto& t = d.hashes.tensors[i];
      json jt = {{"name", t.name}, {"dtype", t.dtype_name}, {"shape", t.shape}, {"digest", t.digest_hex}};
      if (i < d.hashes.stats.tensors.size()) {
        const auto& st = d.hashes.stats.tensors[i];
        jt["stats"] = {{"mean", num(st.mean)},
                       {"std", num(st.std)},
                       {"abs_max", num(st.abs_max)},
                       {"l2", num(st.l2)},
                       {"nan", st.nan_count},
                       {"inf", st.inf_count},
                       {"zero_fraction", num(st.zero_fraction)},
                       {"kurtosis", num(st.kurtosis)}};
      }
      if (!t.excluded.empty()) jt["excluded"] = t.excluded;
      tensors.push_back(jt);
    }
  }
  j["integrity"] = {{"measured", d.have_hashes},
                    {"root_digest", d.have_hashes ? d.hashes.root_hex : ""},
                    {"oms_subject_digest", d.files_identity.root_hex},
                    {"oms_files", d.files_identity.files},
                    {"files", files},
                    {"tensors", tensors},
                    {"digest_definition",
                     "SHA-256 over (canonical name, dtype, shape, canonical values); root over sorted "
                     "digests (inspect/hash.h)"}};
  json sfiles = json::array();
  for (const auto& f : d.scan.files) {
    json fj = {{"path", f.path},
               {"kind", f.kind},
               {"status", scan_status_name(f.status)},
               {"reason", f.reason},
               {"worst", severity_name(f.worst())}};
    json ff = json::array();
    for (const auto& x : f.findings) ff.push_back(finding_json(x));
    fj["findings"] = ff;
    sfiles.push_back(fj);
  }
  j["security"] = {{"files", sfiles}, {"worst", severity_name(d.scan.worst())}};
  json mats = json::array();
  if (d.have_spectral)
    for (const auto& m : d.spectral.matrices)
      mats.push_back({{"name", m.name},
                      {"alpha", num(m.alpha)},
                      {"spectral_norm", num(m.spectral_norm)},
                      {"stable_rank", num(m.stable_rank)},
                      {"method", m.method},
                      {"skipped", m.skipped}});
  j["spectral"] = {{"measured", d.have_spectral},
                   {"matrices", mats},
                   {"alpha_mean", num(d.have_spectral ? d.spectral.summary.alpha_mean : std::nan(""))}};
  json prompts = json::array();
  for (const auto& p : d.prompts) {
    json top = json::array();
    for (const auto& t : p.top) top.push_back({{"id", t.id}, {"piece", t.piece}, {"prob", num(t.prob)}});
    json norms = json::array();
    for (double v : p.resid_norm) norms.push_back(num(v));
    prompts.push_back({{"prompt", p.prompt},
                       {"ids", p.ids},
                       {"top", top},
                       {"resid_norm", norms},
                       {"finite", p.finite},
                       {"error", p.error}});
  }
  j["internals"] = {{"ran", d.ran_model}, {"error", d.run_error}, {"prompts", prompts}};
  j["bias"] = json::parse(bias_json(d.bias, false, -1), nullptr, false)["bias"];
  j["quick_pass"] = quick_pass_text(d.bias);
  if (d.localize)
    j["bias_localization"] = json::parse(localize_json(*d.localize, d.localize_suite, 20, false, nullptr, -1,
                                                       d.localize_ablation ? &*d.localize_ablation : nullptr),
                                         nullptr, false);
  if (!d.bias_drift.empty())
    j["bias_drift"] = json::parse(bias_diff_json(d.bias_drift, -1), nullptr, false)["bias_drift"];
  json fs = json::array();
  for (const auto& f : audit_findings(d)) fs.push_back(finding_json(f));
  j["findings"] = fs;
  json comp = json::array();
  for (const auto& c : d.compliance)
    comp.push_back({{"framework", c.framework},
                    {"item", c.item},
                    {"requirement", c.requirement},
                    {"status", c.status},
                    {"evidence", c.evidence},
                    {"reason", c.reason}});
  j["compliance"] = comp;
  json nm = json::array();
  for (const auto& m : d.missing) nm.push_back({{"what", m.what}, {"why", m.why}});
  j["not_measured"] = nm;
  return json_text(j, 2) + "\n";
}

namespace {

const char* kCss =
    R"(body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;background:#fff}
main{max-width:1100px;margin:0 auto;padding:24px 32px}h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;border-bottom:2px solid #d0d7de;padding-bottom:4px;margin-top:36px}
h3{font-size:16px;margin:20px 0 8px}.sub{color:#57606a;margin:0 0 16px}table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.v{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:10px}.card{border:1px solid #d0d7de;border-radius:6px;padding:10px}
.card b{display:block;text-transform:capitalize}.lvl{font-weight:600;font-size:12px;padding:1px 6px;border-radius:10px;display:inline-block;margin:4px 0}
.ok{background:#dafbe1;color:#116329}.attention{background:#fff8c5;color:#7d4e00}.critical{background:#ffebe9;color:#a40e26}.nm{background:#eaeef2;color:#424a53}
.sev-critical{color:#a40e26;font-weight:600}.sev-high{color:#bc4c00;font-weight:600}.sev-medium{color:#7d4e00}.sev-low,.sev-info{color:#57606a}
code{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}.fig{overflow-x:auto;margin:8px 0}.fig svg{max-width:100%;height:auto}
.chart svg{width:100%;min-width:560px;height:auto}.tw{overflow-x:auto}details{margin:4px 0}summary{cursor:pointer;padding:2px 0}
.banner{border:2px solid #8c959f;border-radius:8px;padding:12px 16px;margin:12px 0 16px;display:flex;flex-wrap:wrap;gap:10px 28px;align-items:center}
.banner.b-critical{border-color:#cf222e;background:#fff5f5}.banner.b-attention{border-color:#d4a72c;background:#fffdf0}.banner.b-ok{border-color:#2da44e;background:#f4fff6}
.banner .k,.banner dt{font-size:11px;color:#57606a;text-transform:uppercase;letter-spacing:.04em}.banner .overall{font-size:22px;font-weight:700;text-transform:uppercase}
.banner dl{display:flex;flex-wrap:wrap;gap:6px 24px;margin:0}.banner dd{margin:0;font-weight:600}.quick{background:#fff8c5;color:#7d4e00;padding:1px 6px;border-radius:4px}
.reading{color:#424a53}@media (max-width:600px){main{padding:12px}h1{font-size:21px}}
.demo{background:#ddf4ff;border:1px solid #54aeff;border-radius:6px;padding:8px 12px}nav{display:flex;flex-wrap:wrap;gap:4px 12px}nav a{color:#0969da}h1,.sub{overflow-wrap:anywhere}
@media print{main{max-width:none;padding:0}h2{break-after:avoid}.fig,table{break-inside:avoid}nav{display:none}})";

std::string level_class(const std::string& l) {
  if (l == "ok") return "ok";
  if (l == "attention") return "attention";
  if (l == "critical") return "critical";
  return "nm";
}

std::string row(std::initializer_list<std::string> cells, bool header = false) {
  std::string r = "<tr>";
  for (const auto& c : cells) r += (header ? "<th>" : "<td>") + c + (header ? "</th>" : "</td>");
  return r + "</tr>\n";
}

// The banner above the fold: overall verdict, audit date, model digest, signature, quick-pass flag.
std::string html_banner(const audit_data& d) {
  const report_banner b = audit_banner(d);
  const verdict& o = b.overall;
  std::string h = "<section class=\"banner b-" + level_class(o.level) +
                  "\" id=\"verdict\"><div><div class=\"k\">Overall verdict</div>"
                  "<div class=\"overall\">" +
                  esc(o.level) + "</div><div>" + esc(o.text) + "</div></div><dl>";
  auto item = [&](const char* k, const std::string& v) {
    h += "<div><dt>" + std::string(k) + "</dt><dd>" + v + "</dd></div>";
  };
  item("Audited", b.audit_date.empty() ? "date not recorded" : esc(b.audit_date));
  item("Model digest", !b.model_digest.empty() ? "<code title=\"" + b.model_digest + "\">" +
                                                     b.model_digest.substr(0, 16) + "&hellip;</code>"
                                               : std::string("not measured"));
  item("Signature", esc(b.signature));
  item("Pass", b.quick_pass ? "<span class=\"quick\">" + esc(b.pass) + "</span>" : esc(b.pass));
  return h + "</dl></section>\n";
}

// Tensors grouped by block ("global", "blk.0", ...), each group a collapsed <details> with at most
// k_rows_per_group rows, so an 80-block model adds about 80 summary lines, not thousands of rows.
constexpr size_t k_rows_per_group = 64, k_rows_total = 1000;

struct tensor_group {
  std::string key;
  std::vector<size_t> tensors;  // indexes into hashes.tensors
  uint64_t params = 0, nan = 0, inf = 0;
  double abs_max = 0;
  size_t findings = 0;
  std::set<std::string> dtypes;
};

std::vector<tensor_group> tensor_groups(const audit_data& d) {
  std::map<std::string, size_t>
      names_with_findings;  // medium or worse: info notes (a tied copy) do not open a group
  for (const auto& f : d.hashes.stats.findings)
    if (f.level >= severity::medium) names_with_findings[f.where]++;
  std::map<std::pair<long, std::string>, tensor_group> by;  // ordered: global first, then blocks by number
  for (size_t i = 0; i < d.hashes.tensors.size(); ++i) {
    const auto& t = d.hashes.tensors[i];
    const tensor_stats* st = i < d.hashes.stats.tensors.size() ? &d.hashes.stats.tensors[i] : nullptr;
    std::string key = tensor_layer_key(t.name, st ? st->layer : -1);
    long order = key == "global" ? -1 : std::strtol(key.c_str() + 4, nullptr, 10);
    tensor_group& g = by[{order, key}];
    g.key = key;
    g.tensors.push_back(i);
    uint64_t n = 1;
    for (int64_t e : t.shape) n *= static_cast<uint64_t>(std::max<int64_t>(e, 0));
    g.params += n;
    g.dtypes.insert(t.dtype_name);
    if (auto it = names_with_findings.find(t.name); it != names_with_findings.end()) g.findings += it->second;
    if (st) {
      g.nan += st->nan_count, g.inf += st->inf_count;
      if (std::isfinite(st->abs_max)) g.abs_max = std::max(g.abs_max, st->abs_max);
    }
  }
  std::vector<tensor_group> out;
  for (auto& [k, g] : by) out.push_back(std::move(g));
  return out;
}

std::string html_tensors(const audit_data& d) {
  auto groups = tensor_groups(d);
  size_t budget = k_rows_total;
  std::string h = "<h3>Tensors</h3><p>" + std::to_string(d.hashes.tensors.size()) + " tensors in " +
                  std::to_string(groups.size()) + " groups; open a group to see its tensors (at most " +
                  std::to_string(k_rows_per_group) + " rows each, " + std::to_string(k_rows_total) +
                  " in all; report.json lists every tensor). Groups with a finding of medium severity or "
                  "worse are open.</p>\n";
  for (const auto& g : groups) {
    std::string dt;
    for (const auto& x : g.dtypes) dt += (dt.empty() ? "" : ", ") + x;
    h += std::string("<details") + (g.findings || g.nan || g.inf ? " open" : "") + "><summary><code>" +
         esc(g.key) + "</code>: " + std::to_string(g.tensors.size()) + " tensors, " + format_count(g.params) +
         " parameters, " + esc(dt) + ", abs max " + fmt_or_na(g.abs_max) +
         (g.nan || g.inf ? ", <span class=\"sev-high\">NaN/Inf " + std::to_string(g.nan) + "/" +
                               std::to_string(g.inf) + "</span>"
                         : "") +
         (g.findings ? ", " + std::to_string(g.findings) + " findings" : "") + "</summary>";
    const size_t shown = std::min({g.tensors.size(), k_rows_per_group, budget});
    budget -= shown;
    if (shown)
      h += "<div class=\"tw\"><table>" +
           row({"tensor", "dtype", "shape", "mean", "std", "abs max", "NaN/Inf", "digest"}, true);
    for (size_t k = 0; k < shown; ++k) {
      const size_t i = g.tensors[k];
      const auto& t = d.hashes.tensors[i];
      std::string shape;
      for (size_t e = 0; e < t.shape.size(); ++e) shape += (e ? "x" : "") + std::to_string(t.shape[e]);
      std::string m, sd, am, nan;
      if (i < d.hashes.stats.tensors.size()) {
        const auto& st = d.hashes.stats.tensors[i];
        m = fmt_or_na(st.mean), sd = fmt_or_na(st.std), am = fmt_or_na(st.abs_max),
        nan = std::to_string(st.nan_count) + "/" + std::to_string(st.inf_count);
      }
      h += row({"<code>" + esc(t.name) + "</code>", esc(t.dtype_name), shape,
                "<span class=num>" + m + "</span>", sd, am, nan,
                "<code>" + t.digest_hex.substr(0, 16) + "</code>"});
    }
    if (shown) h += "</table></div>";
    if (g.tensors.size() > shown)
      h += "<p>" + std::string(shown ? "&hellip; and " : "") + std::to_string(g.tensors.size() - shown) +
           " more in report.json.</p>";
    h += "</details>\n";
  }
  return h;
}

// One bias suite: definition and N, a table with a plain reading beside each number, one chart per kind.
std::string html_bias_suite(const probes::suite_result& r) {
  std::string h = "<h3>" + esc(r.suite) + " (" + esc(r.variant) + ")</h3>";
  if (!r.error.empty()) return h + "<p>Not run: " + esc(r.error) + "</p>\n";
  h += "<p>" + esc(r.definition) + ". N = " + std::to_string(r.records.size()) + " of " +
       std::to_string(std::max(r.items, r.items_total)) + " items (" + std::to_string(r.skipped.size()) +
       " skipped), seed " + std::to_string(r.seed) + ", " + std::to_string(r.resamples) +
       " bootstrap resamples.</p>";
  for (const auto& k : bias_key_numbers(r)) {
    const std::string rd = bias_reading(r, *k.m);
    h += "<p><b>" + esc(k.group->group) + ": " + esc(k.m->name) + " " + fmt_or_na(k.m->value) +
         (rd.empty() ? "" : ": " + esc(rd)) + "</b></p>";
  }
  h += "<div class=\"tw\"><table>" +
       row({"group", "n", "metric", "value", "reading", "95% interval", "p", "note"}, true);
  for (const auto& g : r.groups)
    for (const auto& m : g.metrics) {
      std::string ci = !m.has_ci ? ""
                       : g.n < 2 ? "n/a (n = " + std::to_string(g.n) + ")"
                                 : "[" + fmt_or_na(m.ci.lo) + ", " + fmt_or_na(m.ci.hi) + "]";
      h += row({esc(g.group), std::to_string(g.n), esc(m.name),
                "<span class=num>" + fmt_or_na(m.value) + "</span>",
                "<span class=\"reading\">" + esc(bias_reading(r, m)) + "</span>", ci,
                m.p_value >= 0 ? fmt_or_na(m.p_value, 3) : "", esc(bias_note(m))});
    }
  h += "</table></div>";
  for (const auto& svg : bias_charts_svg(r))
    h += "<div class=\"fig chart\">" + strip_xml_prolog(svg) + "</div>";
  return h + "\n";
}

// The page's head, title, banners, digests, navigation and the demo model's planted properties.
std::string html_top(const audit_data& d) {
  const auto& s = d.summary;
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width, initial-scale=1\"><title>glassbox audit: " +
      esc(d.model_path) + "</title><style>" + kCss + "</style></head><body><main>\n";
  h += "<h1>Model audit: " + esc(s.name.empty() ? s.architecture : s.name) + "</h1>\n<p class=\"sub\">" +
       esc(d.model_path) + " &middot; glassbox " + esc(d.tool_version) + " &middot; seed " +
       std::to_string(d.seed) + "</p>\n";
  h += html_banner(d);
  if (const std::string q = quick_pass_text(d.bias); !q.empty())
    h += "<p class=\"quick-pass\" style=\"background:#fff3cd;border:2px solid "
         "#b58900;padding:.6em;font-weight:bold\">" +
         esc(q) + " (stratified sample, seed " + std::to_string(d.seed) +
         "): bias numbers are indicative, no verdict is drawn</p>\n";
  if (!d.files_identity.root_hex.empty())
    h += "<p class=\"sub\">files (OpenSSF Model Signing v1.0 subject digest) <code>" +
         d.files_identity.root_hex + "</code>" +
         (d.have_hashes ? " &middot; weights (glassbox canonical root) <code>" + d.hashes.root_hex + "</code>"
                        : "") +
         "</p>\n";
  h += "<nav><a href=\"#summary\">Summary</a><a href=\"#identity\">Identity</a><a "
       "href=\"#integrity\">Integrity</a><a "
       "href=\"#security\">Security</a><a href=\"#architecture\">Architecture</a><a "
       "href=\"#internals\">Internals</a><a "
       "href=\"#bias\">Bias</a><a href=\"#compliance\">Compliance</a><a href=\"#not-measured\">Not "
       "measured</a></nav>\n";
  if (d.demo) {
    h += "<p class=\"demo\"><b>Demo model.</b> A small synthetic model generated deterministically with "
         "planted properties, so "
         "that this report shows what findings look like:<br>";
    for (const auto& p : d.demo_planted) h += "&bull; " + esc(p) + "<br>";
    h += "</p>\n";
  }
  return h;
}

// Summary: the verdict cards and the findings table (the first 200).
std::string html_summary(const audit_data& d) {
  std::string h = "<h2 id=\"summary\">Summary</h2>\n<div class=\"v\">";
  for (const auto& v : d.verdicts)
    h += "<div class=\"card\"><b>" + esc(v.area) + "</b><span class=\"lvl " + level_class(v.level) + "\">" +
         esc(v.level) + "</span><div>" + esc(v.text) + "</div></div>";
  h += "</div>\n";
  auto fs = audit_findings(d);
  h += "<h3>Findings (" + std::to_string(fs.size()) + ")</h3><div class=\"tw\"><table>" +
       row({"severity", "code", "where", "message"}, true);
  for (size_t i = 0; i < fs.size() && i < 200; ++i)
    h += row({"<span class=\"sev-" + std::string(severity_name(fs[i].level)) + "\">" +
                  severity_name(fs[i].level) + "</span>",
              "<code>" + esc(fs[i].code) + "</code>", "<code>" + esc(fs[i].where) + "</code>",
              esc(fs[i].message)});
  return h + "</table></div>\n";
}

std::string html_identity(const audit_data& d) {
  const auto& s = d.summary;
  std::string h = "<h2 id=\"identity\">Identity and provenance</h2><div class=\"tw\"><table>";
  h += row({"format", esc(s.format + " " + s.format_version)}) +
       row({"architecture", esc(s.architecture + " (" + d.family + ")")});
  h += row({"parameters", esc(parameter_count_text(s))});
  std::string groups;
  for (const auto& g : s.by_group) groups += esc(g.group) + " " + format_count(g.params) + "; ";
  h += row({"by group", groups});
  h += row({"hyperparameters",
            "layers " + std::to_string(d.hp.n_layer) + ", dim " + std::to_string(d.hp.n_embd) + ", heads " +
                std::to_string(d.hp.n_head) + " (KV " + std::to_string(d.hp.n_head_kv) + "), FFN " +
                std::to_string(d.hp.n_ff) + ", context " + std::to_string(s.context_length) +
                ", vocabulary " + std::to_string(s.vocab_size)});
  std::string dt;
  for (const auto& t : s.dtypes)
    dt += std::string(dtype_name(t.type)) + " x" + std::to_string(t.tensors) + " (" + format_bytes(t.bytes) +
          "); ";
  h += row({"dtypes", esc(dt)}) + row({"size on disk", format_bytes(s.file_bytes)});
  h += row(
      {"tokenizer", esc(s.tokenizer.present ? s.tokenizer.model + ", " + std::to_string(s.tokenizer.size) +
                                                  " tokens (" + d.tokenizer_source + ")"
                                            : "none")});
  h += row({"licence", esc(s.license.empty() ? "not stated in the files" : s.license)});
  std::string bases;
  for (const auto& x : s.base_models) bases += esc(x) + " ";
  h += row({"author / base models", esc(s.author + (s.base_models.empty() ? "" : " / ")) + bases});
  if (!s.chat_template.empty())
    h += row({"chat template (text, never rendered)",
              "<code>" + esc(s.chat_template.substr(0, 2000)) + "</code>"});
  return h + "</table></div>\n";
}

std::string html_integrity(const audit_data& d) {
  std::string h = "<h2 id=\"integrity\">Integrity</h2>\n";
  if (!d.have_hashes) return h + "<p>Weights could not be read; see Not measured.</p>\n";
  h += "<p>Root digest <code>" + d.hashes.root_hex + "</code> over " + std::to_string(d.hashes.counted) +
       " canonical tensor digests (equal across formats for the same weights).</p><div "
       "class=\"tw\"><table>" +
       row({"file", "role", "bytes", "SHA-256"}, true);
  for (const auto& f : d.hashes.files)
    h += row({"<code>" + esc(f.path) + "</code>", esc(f.role),
              "<span class=num>" + std::to_string(f.size) + "</span>", "<code>" + f.sha256_hex + "</code>"});
  return h + "</table></div>" + html_tensors(d);
}

std::string html_security(const audit_data& d) {
  std::string h = "<h2 id=\"security\">Security</h2><div class=\"tw\"><table>" +
                  row({"file", "kind", "status", "worst", "findings"}, true);
  for (const auto& f : d.scan.files) {
    std::string list;
    for (const auto& x : f.findings)
      list += "<span class=\"sev-" + std::string(severity_name(x.level)) + "\">" + esc(x.code) +
              "</span>: " + esc(x.message) + "<br>";
    h += row({"<code>" + esc(f.path) + "</code>", esc(f.kind),
              esc(std::string(scan_status_name(f.status)) + (f.reason.empty() ? "" : ": " + f.reason)),
              severity_name(f.worst()), list});
  }
  return h +
         "</table></div><p>Nothing from the files was executed: pickles are read by glassbox's own "
         "non-executing reader.</p>\n";
}

// Architecture: the graph and the spectral summary.
std::string html_architecture(const audit_data& d) {
  std::string h = "<h2 id=\"architecture\">Architecture</h2>\n";
  if (!d.graph_svg.empty()) h += "<div class=\"fig\">" + strip_xml_prolog(d.graph_svg) + "</div>\n";
  if (!d.graph_note.empty()) h += "<p>" + esc(d.graph_note) + "</p>\n";
  if (d.have_spectral) {
    const auto& sm = d.spectral.summary;
    h += "<h3>Spectral health (WeightWatcher definitions)</h3><p>" + std::to_string(sm.matrices) +
         " matrices, mean alpha " + fmt_or_na(sm.alpha_mean) + ", median " + fmt_or_na(sm.alpha_median) +
         "; alpha &lt; 2: " + std::to_string(sm.over_trained) +
         ", alpha &gt; 6: " + std::to_string(sm.under_trained) +
         ", failed fits: " + std::to_string(sm.failed_fit) + ".</p>\n";
  }
  return h;
}

// Internals: each prompt's next tokens, and the residual norm per block as a line chart.
std::string html_internals(const audit_data& d) {
  std::string h = "<h2 id=\"internals\">Internals</h2>\n";
  if (!d.ran_model) return h + "<p>The model was not run: " + esc(d.run_error) + "</p>\n";
  h += "<div class=\"tw\"><table>" + row({"prompt", "tokens", "next token (probability)"}, true);
  line_chart lc;
  lc.title = "Residual stream norm after each block (mean over positions)";
  lc.x_label = "block";
  lc.y_label = "L2 norm";
  for (const auto& p : d.prompts) {
    std::string top;
    for (const auto& t : p.top) top += "<code>" + esc(t.piece) + "</code> " + fmt_or_na(t.prob, 3) + "; ";
    h += row({esc(p.prompt), std::to_string(p.ids.size()), p.error.empty() ? top : esc(p.error)});
    line_series ls;
    ls.name = p.prompt;
    for (size_t i = 0; i < p.resid_norm.size(); ++i)
      ls.x.push_back(static_cast<double>(i)), ls.y.push_back(p.resid_norm[i]);
    lc.series.push_back(ls);
  }
  return h + "</table></div><div class=\"fig\">" + strip_xml_prolog(svg_line_chart(lc)) + "</div>\n";
}

// Bias: every suite, the drift from a baseline, the localisation.
std::string html_bias(const audit_data& d) {
  std::string h = "<h2 id=\"bias\">Bias</h2>\n";
  for (const auto& r : d.bias) h += html_bias_suite(r);
  if (!d.bias_drift.empty()) h += bias_diff_html(d.bias_drift, d.baseline_path);
  if (d.localize)
    h += localize_html(*d.localize, d.localize_suite, 10,
                       d.localize_ablation ? &*d.localize_ablation : nullptr);
  return h;
}

// Compliance mapping, what was not measured, and the page's end.
std::string html_bottom(const audit_data& d) {
  std::string h = "<h2 id=\"compliance\">Compliance mapping</h2><div class=\"tw\"><table>" +
                  row({"framework", "item", "asks for", "status", "evidence", "reason"}, true);
  for (const auto& c : d.compliance) {
    std::string cls = c.status == "provided" ? "ok" : c.status == "partly" ? "attention" : "nm";
    h +=
        row({esc(c.framework), esc(c.item), esc(c.requirement),
             "<span class=\"lvl " + cls + "\">" + esc(c.status) + "</span>", esc(c.evidence), esc(c.reason)});
  }
  h += "</table></div>\n<h2 id=\"not-measured\">Not measured</h2><div class=\"tw\"><table>" +
       row({"what", "why"}, true);
  for (const auto& m : d.missing) h += row({esc(m.what), esc(m.why)});
  return h +
         "</table></div>\n<p class=\"sub\">Every input and output file is listed with its SHA-256 in "
         "manifest.json; "
         "<code>glassbox verify-report</code> checks them (and the signature when one was "
         "made).</p>\n</main></body></html>\n";
}

}  // namespace

std::string report_html(const audit_data& d) {
  return html_top(d) + html_summary(d) + html_identity(d) + html_integrity(d) + html_security(d) +
         html_architecture(d) + html_internals(d) + html_bias(d) + html_bottom(d);
}

std::string model_card_md(const audit_data& d) {
  const auto& s = d.summary;
  auto blank = [](const char* what) {
    return std::string("**[TO BE COMPLETED BY THE PROVIDER: ") + what + "]**";
  };
  std::string m = "---\n";
  m += "license: " + (s.license.empty() ? std::string("unknown  # not stated in the files") : s.license) +
       "\n";
  m += "library_name: " + s.format + "\n";
  m += "tags:\n- glassbox-audit\n- " + s.architecture + "\n";
  if (!s.base_models.empty()) {
    m += "base_model:\n";
    for (const auto& b : s.base_models) m += "- " + b + "\n";
  }
  m += "model_index_parameters: " + std::to_string(s.parameter_count) + "\n";
  m += hub_model_index_yaml(d) + "---\n\n";
  if (const std::string q = quick_pass_text(d.bias); !q.empty())
    m += "> **" + q + "** (stratified sample, seed " + std::to_string(d.seed) +
         "): bias numbers are indicative; no verdict is drawn.\n\n";
  m += "# Model card: " + (s.name.empty() ? s.architecture : s.name) + "\n\n";
  m += "Pre-filled by glassbox " + d.tool_version + " from the model files (`" + d.model_path +
       "`). Sections marked TO BE COMPLETED can only be stated by the provider.\n\n";
  m += "## Model details\n\n";
  m += "- Architecture: " + s.architecture + " (" + d.family + "), " + std::to_string(d.hp.n_layer) +
       " layers, dimension " + std::to_string(d.hp.n_embd) + ", " + std::to_string(d.hp.n_head) + " heads (" +
       std::to_string(d.hp.n_head_kv) + " KV)\n";
  m += "- Parameters: " + parameter_count_text(s) + "\n- Format: " + s.format + " " + s.format_version + "\n";
  m += "- Context length: " + std::to_string(s.context_length) +
       "; vocabulary: " + std::to_string(s.vocab_size) + "\n";
  m += "- Licence: " + (s.license.empty() ? blank("licence") : s.license) + "\n";
  m += "- Developed by: " + (s.author.empty() ? blank("developer") : s.author) + "\n";
  if (d.have_hashes) m += "- Weights root digest (glassbox canonical): `" + d.hashes.root_hex + "`\n";
  if (!d.files_identity.root_hex.empty())
    m += "- Model files identity (OpenSSF Model Signing v1.0 subject digest, " +
         std::to_string(d.files_identity.files) + " files): `" + d.files_identity.root_hex + "`\n";
  m += "\n## Intended use\n\n" + blank("intended uses, out-of-scope uses, users") + "\n\n";
  m += "## Factors\n\n" + blank("relevant groups, instrumentation, environments") + "\n\n";
  m +=
      "## Metrics\n\nBias metrics as computed by glassbox, each named with its reference implementation:\n\n";
  for (const auto& r : d.bias) {
    if (!r.error.empty() || r.groups.empty()) continue;
    const auto* hm = bias_headline(r, r.groups[0]);
    if (!hm) continue;
    m += "- " + r.suite + " (" + r.variant + "): " + hm->name + " = " + fmt_or_na(hm->value) +
         (hm->has_ci ? " (95% CI " + fmt_or_na(hm->ci.lo) + " to " + fmt_or_na(hm->ci.hi) + ")" : "") +
         ", N = " + std::to_string(r.records.size()) +
         [&] {
           std::string rd = bias_reading(r, *hm);
           return rd.empty() ? std::string() : ": " + rd;
         }() +
         "\n";
  }
  m += "\n## Evaluation data\n\nThe public benchmarks named above, as read by glassbox (see report.json for "
       "N, skips and seeds).\n\n";
  m += "## Training data\n\n" + blank("training data: sources, size, processing") + "\n\n";
  m += "## Quantitative analyses\n\nSee report.html: per-category results with intervals.\n\n";
  m += "## Ethical considerations\n\n";
  auto fs = audit_findings(d);
  size_t serious = static_cast<size_t>(
      std::count_if(fs.begin(), fs.end(), [](const finding& f) { return f.level >= severity::high; }));
  m += "The audit recorded " + std::to_string(fs.size()) + " findings, " + std::to_string(serious) +
       " of severity high or critical.\n\n";
  m += blank("risks, harms and mitigations") +
       "\n\n## Caveats and recommendations\n\nNot measured by this audit:\n\n";
  for (const auto& x : d.missing) m += "- " + x.what + ": " + x.why + "\n";
  return m;
}

}  // namespace gb::viz
