// viz/report_inspect.cpp: the terminal report of `glassbox inspect` (see viz/report_inspect.h).
#include "viz/report_inspect.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>

#include "viz/text.h"

namespace gb::viz {

namespace {

std::string pct(uint64_t part, uint64_t whole) {
  return strf("%5.1f%%", whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
}

void row(std::string& out, const char* key, const std::string& value) {
  out += strf("  %-18s %s\n", key, safe_text(value).c_str());
}

void identity_and_hparams(std::string& out, const archive& a, const model& m, const model_summary& s) {
  const hparams& hp = m.hp;
  out += strf("%s\n", safe_text(a.path).c_str());
  std::string fmt = s.format;
  if (!s.format_version.empty())
    fmt += (std::isdigit(static_cast<unsigned char>(s.format_version[0])) ? " v" : " ") + s.format_version;
  fmt += "  (" + std::to_string(a.files.size()) + " file" + (a.files.size() == 1 ? "" : "s") + ", " +
         format_bytes(s.file_bytes) + " on disk)";
  row(out, "format", fmt);
  row(out, "architecture",
      s.architecture + (s.family != s.architecture ? "  (family " + s.family + ")" : ""));
  row(out, "parameters", parameter_count_text(s));
  row(out, "tensors",
      std::to_string(s.tensor_count) + "  (" + format_bytes(s.tensor_bytes) + " of tensor data)");
  auto inferred = [&](const char* f) {
    return hp.inferred.count(f) ? "  (inferred from tensor shapes)" : "";
  };
  row(out, "context length", hp.n_ctx ? std::to_string(hp.n_ctx) + inferred("n_ctx") : "unknown");
  row(out, "vocabulary", hp.n_vocab ? std::to_string(hp.n_vocab) + inferred("n_vocab") : "unknown");

  out += strf("\nhyperparameters%s\n", hp.inferred.empty() ? "" : "  (* inferred from tensor shapes)");
  auto hv = [&](const char* name, int64_t v) {
    std::string k = std::string(name) + (hp.inferred.count(name) ? "*" : "");
    auto src = hp.sources.find(name);
    row(out, k.c_str(),
        (v ? std::to_string(v) : "unknown") +
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
  row(out, "rope",
      std::string(rope_kind_name(hp.rope)) +
          (hp.rope != rope_kind::none ? "  theta " + std::string(buf) : ""));
  std::snprintf(buf, sizeof buf, "%g", hp.norm_eps);
  row(out, "norm", std::string(norm_kind_name(hp.norm)) + "  eps " + buf);
  row(out, "activation", std::string(act_kind_name(hp.act)) + (hp.gated_mlp ? "  gated (GLU)" : ""));
  row(out, "positions", pos_kind_name(hp.pos));
  std::string blk = hp.parallel_block ? "parallel attention + MLP" : "sequential";
  if (hp.tied_embeddings) blk += ", tied embeddings";
  if (hp.embd_norm) blk += ", embedding norm";
  if (!hp.causal) blk += ", bidirectional (encoder)";
  row(out, "block", blk);
}

void parameters_and_memory(std::string& out, const model_summary& s) {
  out += strf("\nparameters by role\n");
  for (const group_share& g : s.by_group)
    if (g.params)
      out += strf("  %-18s %14s  %s\n", g.group.c_str(), format_thousands(g.params).c_str(),
                  pct(g.params, s.parameter_count).c_str());
  if (!s.by_layer.empty()) {
    out += strf("\nparameters by layer\n");
    for (size_t l = 0; l < s.by_layer.size(); ++l) {
      std::string k = "blk." + std::to_string(l);
      out += strf("  %-18s %14s\n", k.c_str(), format_thousands(s.by_layer[l]).c_str());
    }
  }
  if (s.non_parameter_elements)
    out += strf("  (%s elements of rotary tables / buffers not counted)\n",
                format_thousands(s.non_parameter_elements).c_str());

  if (!s.dtypes.empty()) {
    out += strf("\ndtype mix\n");
    for (const dtype_share& d : s.dtypes)
      out += strf("  %-18s %6llu tensors %14s elements %12s  %s\n", dtype_name(d.type),
                  static_cast<unsigned long long>(d.tensors), format_thousands(d.elements).c_str(),
                  format_bytes(d.bytes).c_str(), pct(d.bytes, s.tensor_bytes).c_str());
    out += strf("\nsize in memory\n");
    for (const memory_estimate& e : s.memory) row(out, e.precision.c_str(), format_bytes(e.bytes));
  }
}

void tokenizer_and_provenance(std::string& out, const model_summary& s) {
  out += strf("\ntokenizer\n");
  if (!s.tokenizer.present) {
    row(out, "type", "none in these files");
  } else {
    const tokenizer_summary& t = s.tokenizer;
    row(out, "type", t.model + (t.pre.empty() ? "" : "  (pre " + t.pre + ")") + "  from " + t.source);
    row(out, "tokens",
        std::to_string(t.size) + (t.merges ? "  (" + std::to_string(t.merges) + " merges)" : ""));
    std::string sp;
    for (const special_token& x : t.special) {
      if (!sp.empty()) sp += "  ";
      meta_value tv;
      tv.k = meta_value::kind::string;
      tv.s = x.text;
      sp += x.kind + " " + std::to_string(x.id) + " '" + tv.to_display() + "'";
    }
    row(out, "special", sp.empty() ? "none" : sp);
    row(out, "adds", t.add_bos && t.add_eos ? "bos, eos" : t.add_bos ? "bos" : t.add_eos ? "eos" : "nothing");
  }

  out += strf("\nprovenance\n");
  auto text = [](const std::string& v) {
    meta_value tv;
    tv.k = meta_value::kind::string;
    tv.s = v;
    return v.empty() ? std::string("not stated") : tv.to_display();
  };
  row(out, "name", text(s.name));
  row(out, "license", text(s.license));
  row(out, "author", text(s.author.empty() ? s.organization : s.author));
  std::string bm;
  for (const std::string& b : s.base_models) bm += (bm.empty() ? "" : ", ") + b;
  row(out, "base model", text(bm));
  for (const std::string& u : s.urls) row(out, "url", text(u));
  row(out, "chat template",
      s.chat_template.empty() ? "none"
                              : std::to_string(s.chat_template.size()) + " chars (text, never rendered)");
  if (!s.chat_template.empty()) out += strf("    %s\n", text(s.chat_template).c_str());
}

void metadata_graph_findings(std::string& out, const archive& a, const std::vector<finding>& findings) {
  if (!a.metadata.empty()) {
    out += strf("\nmetadata (%zu keys)\n", a.metadata.size());
    for (const auto& [k, v] : a.metadata)
      out += strf("  %-40s %s\n", safe_text(k).c_str(), safe_text(v.to_display(8)).c_str());
  }
  if (a.graph.present()) {
    std::map<std::string, size_t> ops;
    for (const graph_node& n : a.graph.nodes) ops[n.op_type]++;
    out += strf("\nop graph\n");
    row(out, "nodes",
        std::to_string(a.graph.nodes.size()) + "  (" + std::to_string(ops.size()) + " op types)");
    std::string o;
    for (const auto& [op, n] : ops) o += (o.empty() ? "" : ", ") + op + " " + std::to_string(n);
    row(out, "ops", o);
    std::string os;
    for (const auto& [d, v] : a.graph.opsets)
      os += (os.empty() ? "" : ", ") + (d.empty() ? std::string("ai.onnx") : d) + " " + std::to_string(v);
    row(out, "opsets", os);
  }

  out += strf("\nfindings (%zu)\n", findings.size());
  for (const finding& f : findings)
    out += strf("  %-8s %-28s %s: %s\n", severity_name(f.level), safe_text(f.code).c_str(),
                safe_text(f.where).c_str(), safe_text(f.message).c_str());
}

void tensor_table(std::string& out, const archive& a, const model& m) {
  std::vector<const role_entry*> role_of(a.tensors.size(), nullptr);
  for (const role_entry& e : m.roles) role_of[e.tensor] = &e;
  size_t w = 4;
  for (const tensor_view& t : a.tensors) w = std::max(w, t.name.size());
  w = std::min<size_t>(w, 64);
  out += strf("\ntensors\n  %-*s %-16s %-8s %-16s %12s %12s\n", static_cast<int>(w), "name", "role", "dtype",
              "shape", "offset", "bytes");
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const tensor_view& t = a.tensors[i];
    std::string role = role_of[i] ? role_name(role_of[i]->role) : "-";
    out += strf("  %-*s %-16s %-8s %-16s %12llu %12llu\n", static_cast<int>(w), safe_text(t.name).c_str(),
                role.c_str(), dtype_name(t.type), shape_string(t.shape).c_str(),
                static_cast<unsigned long long>(t.file_offset), static_cast<unsigned long long>(t.nbytes));
  }
}

}  // namespace

std::string inspect_text(const archive& a, const model& m, const model_summary& s,
                         const std::vector<finding>& findings, bool tensors) {
  std::string out;
  identity_and_hparams(out, a, m, s);
  parameters_and_memory(out, s);
  tokenizer_and_provenance(out, s);
  metadata_graph_findings(out, a, findings);
  if (tensors) tensor_table(out, a, m);
  return out;
}

}  // namespace gb::viz
