// viz/report_inspect_json.cpp: the --json document of `glassbox inspect` (inspect_json in
// viz/report_inspect.h): identity, hyperparameters, the summary, files, the op graph, metadata, findings and
// (optionally) every tensor. Key order is the document's (ordered_json).
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "viz/json_util.h"
#include "viz/report_inspect.h"
#include "viz/text.h"

namespace gb::viz {
namespace {

using ojson = nlohmann::ordered_json;

// A metadata value as JSON. Arrays longer than max_array become {"array_length": N, "first": [...]}
// so a 150k-token vocabulary does not flood the report.
ojson meta_value_json(const meta_value& v, size_t max_array = 64) {
  switch (v.k) {
    case meta_value::kind::null:
      return nullptr;
    case meta_value::kind::boolean:
      return v.b;
    case meta_value::kind::integer:
      return v.i;
    case meta_value::kind::uinteger:
      return v.u;
    case meta_value::kind::floating:
      return num<ojson>(v.f);
    case meta_value::kind::string:
      return v.s;
    case meta_value::kind::array: {
      ojson arr = ojson::array();
      for (size_t i = 0; i < v.arr.size() && i < max_array; ++i)
        arr.push_back(meta_value_json(v.arr[i], max_array));
      if (v.arr.size() <= max_array) return arr;
      return ojson{{"array_length", v.arr.size()}, {"first", std::move(arr)}};
    }
    case meta_value::kind::object: {
      ojson o = ojson::object();
      for (const auto& [k, x] : v.obj) o[k] = meta_value_json(x, max_array);
      return o;
    }
  }
  return nullptr;
}

ojson hparams_json(const hparams& hp) {
  ojson j{{"n_vocab", hp.n_vocab},
          {"n_ctx", hp.n_ctx},
          {"n_embd", hp.n_embd},
          {"n_layer", hp.n_layer},
          {"n_head", hp.n_head},
          {"n_head_kv", hp.n_head_kv},
          {"n_ff", hp.n_ff},
          {"head_dim", hp.head_dim},
          {"n_rot", hp.n_rot},
          {"rope_theta", hp.rope_theta},
          {"norm_eps", hp.norm_eps},
          {"norm", norm_kind_name(hp.norm)},
          {"rope", rope_kind_name(hp.rope)},
          {"activation", act_kind_name(hp.act)},
          {"positions", pos_kind_name(hp.pos)},
          {"gated_mlp", hp.gated_mlp},
          {"parallel_block", hp.parallel_block},
          {"tied_embeddings", hp.tied_embeddings},
          {"embd_norm", hp.embd_norm},
          {"causal", hp.causal}};
  j["inferred"] = ojson(std::vector<std::string>(hp.inferred.begin(), hp.inferred.end()));
  j["sources"] = ojson(hp.sources);
  return j;
}

ojson tokenizer_summary_json(const tokenizer_summary& t) {
  if (!t.present) return nullptr;
  ojson sp = ojson::array();
  for (const special_token& x : t.special) sp.push_back({{"kind", x.kind}, {"id", x.id}, {"text", x.text}});
  return {{"model", t.model},   {"pre", t.pre},         {"source", t.source},   {"size", t.size},
          {"merges", t.merges}, {"add_bos", t.add_bos}, {"add_eos", t.add_eos}, {"special_tokens", sp}};
}

// The summary's keys, added to j in the document's order.
void summary_into(ojson& j, const model_summary& s) {
  j["parameter_count"] = s.parameter_count;
  j["parameter_count_text"] = parameter_count_text(s);
  j["tied_copy_elements"] = s.tied_copy_elements;
  j["non_parameter_elements"] = s.non_parameter_elements;
  ojson g = ojson::object();
  for (const group_share& x : s.by_group) g[x.group] = x.params;
  j["parameters_by_group"] = g;
  j["parameters_by_layer"] = s.by_layer;
  ojson d = ojson::array();
  for (const dtype_share& x : s.dtypes)
    d.push_back({{"dtype", dtype_name(x.type)},
                 {"tensors", x.tensors},
                 {"elements", x.elements},
                 {"bytes", x.bytes}});
  j["dtypes"] = d;
  ojson mem = ojson::object();
  for (const memory_estimate& e : s.memory) mem[e.precision] = e.bytes;
  j["size"] = {{"file_bytes", s.file_bytes}, {"tensor_bytes", s.tensor_bytes}, {"memory_bytes", mem}};
  j["context_length"] = s.context_length;
  j["vocab_size"] = s.vocab_size;
  j["tokenizer"] = tokenizer_summary_json(s.tokenizer);
  j["name"] = s.name;
  j["license"] = s.license;
  j["author"] = s.author;
  j["organization"] = s.organization;
  j["description"] = s.description;
  j["base_models"] = s.base_models;
  j["urls"] = s.urls;
  j["chat_template"] = s.chat_template;
}

// name, role, canonical, dtype, shape, file, offset, bytes; e = the role of tensor `index` or nullptr
ojson inspect_tensor_json(const archive& a, size_t index, const role_entry* e) {
  const tensor_view& t = a.tensors[index];
  ojson j{{"name", t.name},
          {"role", e ? role_name(e->role) : "unmapped"},
          {"canonical", e ? e->canonical : std::string()},
          {"layer", e ? e->layer : -1},
          {"dtype", dtype_name(t.type)},
          {"shape", t.shape},
          {"file", t.file_index < a.files.size() ? a.files[t.file_index].path : std::string()},
          {"offset", t.file_offset},
          {"bytes", t.nbytes}};
  if (e && e->transposed) j["transposed"] = true;
  if (e && e->hf_permuted) j["hf_permuted"] = true;
  if (e && e->qkv_per_head) j["qkv_per_head"] = true;
  if (!t.strides.empty()) j["strides"] = t.strides;
  return j;
}

// The ONNX op graph: name, producer, node count, ops by type, opsets, inputs, outputs, initializers.
ojson op_graph_json(const archive& a) {
  std::map<std::string, size_t> ops;
  for (const graph_node& n : a.graph.nodes) ops[n.op_type]++;
  ojson op = ojson::object();
  for (const auto& [k, n] : ops) op[k] = n;
  ojson opsets = ojson::object();
  for (const auto& [d, v] : a.graph.opsets) opsets[d.empty() ? "ai.onnx" : d] = v;
  return {{"name", a.graph.name},
          {"producer", a.graph.producer},
          {"nodes", a.graph.nodes.size()},
          {"op_counts", op},
          {"opsets", opsets},
          {"inputs", a.graph.inputs},
          {"outputs", a.graph.outputs},
          {"initializers", a.tensors.size()}};
}

}  // namespace

std::string inspect_json(const archive& a, const model& m, const model_summary& s,
                         const std::vector<finding>& findings, bool tensors, const oms_identity* id) {
  ojson j;
  j["path"] = a.path;
  if (id) j["oms_subject"] = {{"digest", id->root_hex}, {"files", id->files}, {"error", id->error}};
  j["format"] = s.format;
  j["format_version"] = s.format_version;
  j["architecture"] = s.architecture;
  j["family"] = s.family;
  j["hyperparameters"] = hparams_json(m.hp);
  j["tensor_count"] = s.tensor_count;
  summary_into(j, s);
  ojson files = ojson::array();
  for (const source_file& f : a.files)
    files.push_back(
        {{"path", f.path}, {"role", f.role}, {"format", file_format_name(f.format)}, {"bytes", f.size()}});
  j["files"] = files;
  if (a.graph.present()) j["graph"] = op_graph_json(a);
  ojson md = ojson::object();
  for (const auto& [k, v] : a.metadata) md[k] = meta_value_json(v);
  j["metadata"] = md;
  j["findings"] = findings_json<ojson>(findings);
  if (tensors) {
    std::vector<const role_entry*> role_of(a.tensors.size(), nullptr);
    for (const role_entry& e : m.roles) role_of[e.tensor] = &e;
    ojson ts = ojson::array();
    for (size_t i = 0; i < a.tensors.size(); ++i) ts.push_back(inspect_tensor_json(a, i, role_of[i]));
    j["tensors"] = ts;
  }
  return json_text(j);
}

std::string inspect_identity_text(const oms_identity& id) {
  return "\nidentity\n" + strf("  %-18s %s\n", "files (OMS v1.0)",
                               id.error.empty()
                                   ? (id.root_hex + " over " + std::to_string(id.files) + " files").c_str()
                                   : ("not computed: " + id.error).c_str());
}

}  // namespace gb::viz
