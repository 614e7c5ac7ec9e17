#include "cli/json_util.h"

#include <cmath>
#include <cstdio>

#include "cli/options.h"
#include "viz/json_util.h"

namespace gb::cli {

json meta_json(const meta_value& v, size_t max_array) {
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
      return std::isfinite(v.f) ? json(v.f) : json(nullptr);
    case meta_value::kind::string:
      return v.s;
    case meta_value::kind::array: {
      json arr = json::array();
      for (size_t i = 0; i < v.arr.size() && i < max_array; ++i)
        arr.push_back(meta_json(v.arr[i], max_array));
      if (v.arr.size() <= max_array) return arr;
      return json{{"array_length", v.arr.size()}, {"first", std::move(arr)}};
    }
    case meta_value::kind::object: {
      json o = json::object();
      for (const auto& [k, x] : v.obj) o[k] = meta_json(x, max_array);
      return o;
    }
  }
  return nullptr;
}

json metadata_json(const std::vector<std::pair<std::string, meta_value>>& md, size_t max_array) {
  json o = json::object();
  for (const auto& [k, v] : md) o[k] = meta_json(v, max_array);
  return o;
}

json num(double v) {
  return viz::num<json>(v);
}

json finding_json(const finding& f) {
  return viz::finding_json<json>(f);
}

json findings_json(const std::vector<finding>& fs) {
  return viz::findings_json<json>(fs);
}

json hparams_json(const hparams& hp) {
  json j{{"n_vocab", hp.n_vocab},
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
  j["inferred"] = json(std::vector<std::string>(hp.inferred.begin(), hp.inferred.end()));
  j["sources"] = json(hp.sources);
  return j;
}

json summary_json(const model_summary& s) {
  json j;
  j["parameter_count"] = s.parameter_count;
  j["parameter_count_text"] = parameter_count_text(s);
  j["tied_copy_elements"] = s.tied_copy_elements;
  j["non_parameter_elements"] = s.non_parameter_elements;
  json g = json::object();
  for (const group_share& x : s.by_group) g[x.group] = x.params;
  j["parameters_by_group"] = g;
  j["parameters_by_layer"] = s.by_layer;
  json d = json::array();
  for (const dtype_share& x : s.dtypes)
    d.push_back({{"dtype", dtype_name(x.type)},
                 {"tensors", x.tensors},
                 {"elements", x.elements},
                 {"bytes", x.bytes}});
  j["dtypes"] = d;
  json mem = json::object();
  for (const memory_estimate& e : s.memory) mem[e.precision] = e.bytes;
  j["size"] = {{"file_bytes", s.file_bytes}, {"tensor_bytes", s.tensor_bytes}, {"memory_bytes", mem}};
  j["context_length"] = s.context_length;
  j["vocab_size"] = s.vocab_size;
  json t = nullptr;
  if (s.tokenizer.present) {
    json sp = json::array();
    for (const special_token& x : s.tokenizer.special)
      sp.push_back({{"kind", x.kind}, {"id", x.id}, {"text", x.text}});
    t = {{"model", s.tokenizer.model},     {"pre", s.tokenizer.pre},       {"source", s.tokenizer.source},
         {"size", s.tokenizer.size},       {"merges", s.tokenizer.merges}, {"add_bos", s.tokenizer.add_bos},
         {"add_eos", s.tokenizer.add_eos}, {"special_tokens", sp}};
  }
  j["tokenizer"] = t;
  j["name"] = s.name;
  j["license"] = s.license;
  j["author"] = s.author;
  j["organization"] = s.organization;
  j["description"] = s.description;
  j["base_models"] = s.base_models;
  j["urls"] = s.urls;
  j["chat_template"] = s.chat_template;
  return j;
}

json tensor_json(const archive& a, size_t index, const role_entry* e) {
  const tensor_view& t = a.tensors[index];
  json j{{"name", t.name},
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

std::string json_dump(const json& j, int indent) {
  return viz::json_text(j, indent);
}

json with_schema(const json& j, const std::string& command) {
  if (!j.is_object()) return j;
  json out;
  out["schema"] =
      j.contains("schema") ? j["schema"] : json("glassbox-" + command + "/1");  // an existing one stays
  for (const auto& [k, v] : j.items())
    if (k != "schema") out[k] = v;
  return out;
}

void print_json(const json& j) {
  std::printf("%s\n", json_dump(with_schema(j, current_command())).c_str());
}

void print_json_text(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {  // not ours to fix: print as is rather than lose it
    std::printf("%s\n", text.c_str());
    return;
  }
  print_json(j);
}

}  // namespace gb::cli
