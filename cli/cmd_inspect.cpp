// glassbox inspect MODEL [--tensors] [--json] [--fail-on SEVERITY]: what is this model? Header reads only.
#include <boost/program_options.hpp>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "cli/command.h"
#include "cli/json_util.h"
#include "cli/options.h"
#include "inspect/model.h"
#include "inspect/oms.h"
#include "inspect/parallel.h"
#include "inspect/scan.h"
#include "inspect/summary.h"

namespace po = boost::program_options;

namespace {

using gb::cli::json;

std::string pct(uint64_t part, uint64_t whole) {
  char b[16];
  std::snprintf(b, sizeof b, "%5.1f%%",
                whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
  return b;
}

// Text from a file never reaches the terminal raw: control bytes (ANSI escapes ...) become '?'.
std::string safe(const std::string& t) {
  std::string o = t;
  for (char& c : o)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return o;
}

void row(const char* key, const std::string& value) {
  std::printf("  %-18s %s\n", key, safe(value).c_str());
}

void print_text(const gb::archive& a, const gb::model& m, const gb::model_summary& s,
                const std::vector<gb::finding>& findings, bool tensors) {
  const gb::hparams& hp = m.hp;
  std::printf("%s\n", safe(a.path).c_str());
  std::string fmt = s.format;
  if (!s.format_version.empty())
    fmt += (std::isdigit(static_cast<unsigned char>(s.format_version[0])) ? " v" : " ") + s.format_version;
  fmt += "  (" + std::to_string(a.files.size()) + " file" + (a.files.size() == 1 ? "" : "s") + ", " +
         gb::format_bytes(s.file_bytes) + " on disk)";
  row("format", fmt);
  row("architecture", s.architecture + (s.family != s.architecture ? "  (family " + s.family + ")" : ""));
  row("parameters", gb::parameter_count_text(s));
  row("tensors",
      std::to_string(s.tensor_count) + "  (" + gb::format_bytes(s.tensor_bytes) + " of tensor data)");
  auto inferred = [&](const char* f) {
    return hp.inferred.count(f) ? "  (inferred from tensor shapes)" : "";
  };
  row("context length", hp.n_ctx ? std::to_string(hp.n_ctx) + inferred("n_ctx") : "unknown");
  row("vocabulary", hp.n_vocab ? std::to_string(hp.n_vocab) + inferred("n_vocab") : "unknown");

  std::printf("\nhyperparameters%s\n", hp.inferred.empty() ? "" : "  (* inferred from tensor shapes)");
  auto hv = [&](const char* name, int64_t v) {
    std::string k = std::string(name) + (hp.inferred.count(name) ? "*" : "");
    auto src = hp.sources.find(name);
    row(k.c_str(), (v ? std::to_string(v) : "unknown") +
                       (v && src != hp.sources.end() ? "  (" + src->second + ")" : ""));
  };
  hv("n_embd", hp.n_embd);
  hv("n_layer", hp.n_layer);
  hv("n_head", hp.n_head);
  hv("n_head_kv", hp.n_head_kv);
  hv("head_dim", hp.head_dim);
  hv("n_ff", hp.n_ff);
  hv("n_rot", hp.n_rot);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", hp.rope_theta);
  row("rope", std::string(gb::rope_kind_name(hp.rope)) +
                  (hp.rope != gb::rope_kind::none ? "  theta " + std::string(buf) : ""));
  std::snprintf(buf, sizeof buf, "%g", hp.norm_eps);
  row("norm", std::string(gb::norm_kind_name(hp.norm)) + "  eps " + buf);
  row("activation", std::string(gb::act_kind_name(hp.act)) + (hp.gated_mlp ? "  gated (GLU)" : ""));
  row("positions", gb::pos_kind_name(hp.pos));
  std::string blk = hp.parallel_block ? "parallel attention + MLP" : "sequential";
  if (hp.tied_embeddings) blk += ", tied embeddings";
  if (hp.embd_norm) blk += ", embedding norm";
  if (!hp.causal) blk += ", bidirectional (encoder)";
  row("block", blk);

  std::printf("\nparameters by role\n");
  for (const gb::group_share& g : s.by_group)
    if (g.params)
      std::printf("  %-18s %14s  %s\n", g.group.c_str(), gb::format_thousands(g.params).c_str(),
                  pct(g.params, s.parameter_count).c_str());
  if (!s.by_layer.empty()) {
    std::printf("\nparameters by layer\n");
    for (size_t l = 0; l < s.by_layer.size(); ++l) {
      std::string k = "blk." + std::to_string(l);
      std::printf("  %-18s %14s\n", k.c_str(), gb::format_thousands(s.by_layer[l]).c_str());
    }
  }
  if (s.non_parameter_elements)
    std::printf("  (%s elements of rotary tables / buffers not counted)\n",
                gb::format_thousands(s.non_parameter_elements).c_str());

  if (!s.dtypes.empty()) {
    std::printf("\ndtype mix\n");
    for (const gb::dtype_share& d : s.dtypes)
      std::printf("  %-18s %6llu tensors %14s elements %12s  %s\n", gb::dtype_name(d.type),
                  static_cast<unsigned long long>(d.tensors), gb::format_thousands(d.elements).c_str(),
                  gb::format_bytes(d.bytes).c_str(), pct(d.bytes, s.tensor_bytes).c_str());
    std::printf("\nsize in memory\n");
    for (const gb::memory_estimate& e : s.memory) row(e.precision.c_str(), gb::format_bytes(e.bytes));
  }

  std::printf("\ntokenizer\n");
  if (!s.tokenizer.present) {
    row("type", "none in these files");
  } else {
    const gb::tokenizer_summary& t = s.tokenizer;
    row("type", t.model + (t.pre.empty() ? "" : "  (pre " + t.pre + ")") + "  from " + t.source);
    row("tokens", std::to_string(t.size) + (t.merges ? "  (" + std::to_string(t.merges) + " merges)" : ""));
    std::string sp;
    for (const gb::special_token& x : t.special) {
      if (!sp.empty()) sp += "  ";
      gb::meta_value tv;
      tv.k = gb::meta_value::kind::string;
      tv.s = x.text;
      sp += x.kind + " " + std::to_string(x.id) + " '" + tv.to_display() + "'";
    }
    row("special", sp.empty() ? "none" : sp);
    row("adds", t.add_bos && t.add_eos ? "bos, eos" : t.add_bos ? "bos" : t.add_eos ? "eos" : "nothing");
  }

  std::printf("\nprovenance\n");
  auto text = [](const std::string& v) {
    gb::meta_value tv;
    tv.k = gb::meta_value::kind::string;
    tv.s = v;
    return v.empty() ? std::string("not stated") : tv.to_display();
  };
  row("name", text(s.name));
  row("license", text(s.license));
  row("author", text(s.author.empty() ? s.organization : s.author));
  std::string bm;
  for (const std::string& b : s.base_models) bm += (bm.empty() ? "" : ", ") + b;
  row("base model", text(bm));
  for (const std::string& u : s.urls) row("url", text(u));
  row("chat template", s.chat_template.empty()
                           ? "none"
                           : std::to_string(s.chat_template.size()) + " chars (text, never rendered)");
  if (!s.chat_template.empty()) std::printf("    %s\n", text(s.chat_template).c_str());

  if (!a.metadata.empty()) {
    std::printf("\nmetadata (%zu keys)\n", a.metadata.size());
    for (const auto& [k, v] : a.metadata)
      std::printf("  %-40s %s\n", safe(k).c_str(), safe(v.to_display(8)).c_str());
  }
  if (a.graph.present()) {
    std::map<std::string, size_t> ops;
    for (const gb::graph_node& n : a.graph.nodes) ops[n.op_type]++;
    std::printf("\nop graph\n");
    row("nodes", std::to_string(a.graph.nodes.size()) + "  (" + std::to_string(ops.size()) + " op types)");
    std::string o;
    for (const auto& [op, n] : ops) o += (o.empty() ? "" : ", ") + op + " " + std::to_string(n);
    row("ops", o);
    std::string os;
    for (const auto& [d, v] : a.graph.opsets)
      os += (os.empty() ? "" : ", ") + (d.empty() ? std::string("ai.onnx") : d) + " " + std::to_string(v);
    row("opsets", os);
  }

  std::printf("\nfindings (%zu)\n", findings.size());
  for (const gb::finding& f : findings)
    std::printf("  %-8s %-28s %s: %s\n", gb::severity_name(f.level), safe(f.code).c_str(),
                safe(f.where).c_str(), safe(f.message).c_str());

  if (tensors) {
    std::vector<const gb::role_entry*> role_of(a.tensors.size(), nullptr);
    for (const gb::role_entry& e : m.roles) role_of[e.tensor] = &e;
    size_t w = 4;
    for (const gb::tensor_view& t : a.tensors) w = std::max(w, t.name.size());
    w = std::min<size_t>(w, 64);
    std::printf("\ntensors\n  %-*s %-16s %-8s %-16s %12s %12s\n", static_cast<int>(w), "name", "role",
                "dtype", "shape", "offset", "bytes");
    for (size_t i = 0; i < a.tensors.size(); ++i) {
      const gb::tensor_view& t = a.tensors[i];
      std::string role = role_of[i] ? gb::role_name(role_of[i]->role) : "-";
      std::printf("  %-*s %-16s %-8s %-16s %12llu %12llu\n", static_cast<int>(w), safe(t.name).c_str(),
                  role.c_str(), gb::dtype_name(t.type), gb::shape_string(t.shape).c_str(),
                  static_cast<unsigned long long>(t.file_offset), static_cast<unsigned long long>(t.nbytes));
    }
  }
}

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
  std::vector<gb::finding> findings = shared->findings;
  gb::cli::findings_append(findings, m.findings);
  // The security scan (one implementation, shared with `glassbox scan`) for what the loaders do not
  // already cover: files that hold pickles (PyTorch, numpy, zip containers) are scanned in full, and the
  // chat template is audited as text. Weight-only formats are not re-read, so inspect stays header-only.
  std::set<std::pair<std::string, std::string>> seen;
  for (const gb::finding& f : findings) seen.insert({f.code, f.message});
  auto add_new = [&](const gb::finding& f) {
    if (seen.insert({f.code, f.message}).second) findings.push_back(f);
  };
  std::vector<std::string> pickled;  // files holding pickles, scanned in parallel, merged in file order
  for (const gb::source_file& file : shared->files) {
    const gb::file_format ff = file.format;
    if (ff == gb::file_format::pytorch_zip || ff == gb::file_format::pytorch_legacy ||
        ff == gb::file_format::pickle || ff == gb::file_format::numpy || ff == gb::file_format::zip)
      pickled.push_back(file.path);
  }
  std::vector<gb::scan_file> scanned(pickled.size());  // (pickled)
  gb::parallel_for(pickled.size(), threads, [&](size_t i) { scanned[i] = gb::scan_one(pickled[i]); });
  for (const gb::scan_file& sf : scanned) {
    for (const gb::finding& f : sf.findings) add_new(f);
    if (sf.status != gb::scan_status::full)
      add_new({gb::severity::info, "scan.coverage", sf.path,
               std::string(gb::scan_status_name(sf.status)) + (sf.reason.empty() ? "" : ": " + sf.reason)});
  }
  if (!s.chat_template.empty()) {
    std::vector<gb::finding> tf;
    gb::scan_template_text(s.chat_template, shared->path + " (chat template)", tf);
    for (const gb::finding& f : tf) add_new(f);
  }

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
    print_text(*shared, m, s, findings, tensors);
    if (identity)
      std::printf("\nidentity\n  %-18s %s\n", "files (OMS v1.0)",
                  id.error.empty() ? (id.root_hex + " over " + std::to_string(id.files) + " files").c_str()
                                   : ("not computed: " + id.error).c_str());
  }
  if (fail_level && !findings.empty() && gb::cli::findings_max(findings) >= *fail_level)
    return gb::cli::exit_findings;
  return gb::cli::exit_ok;
}

}  // namespace

GB_COMMAND("inspect", "what is this model? format, architecture, parameters, tokenizer, licence, findings",
           run_inspect);
