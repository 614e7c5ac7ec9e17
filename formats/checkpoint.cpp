// Training checkpoints read as data (see checkpoint.h).
#include "formats/checkpoint.h"

#include <cstdio>
#include <map>
#include <set>
#include <vector>

#include "formats/meta_make.h"

namespace gb::loaders {
namespace {

namespace pk = gb::pickle;

constexpr const char* k_state_keys[] = {"model_state_dict", "state_dict", "model",         "module", "ema",
                                        "ema_model",        "model_ema",  "ema_state_dict"};
constexpr const char* k_optimizer_keys[] = {
    "optimizer", "optimizer_state_dict", "optimizer_states", "optim", "opt", "opt_state",
    "scheduler", "lr_scheduler",         "lr_schedulers",    "scaler"};
constexpr const char* k_step_keys[] = {"step",     "global_step", "epoch",
                                       "iter_num", "iteration",   "best_val_loss"};
constexpr const char* k_config_keys[] = {"config", "model_config", "hparams", "hyper_parameters",
                                         "args",   "model_args",   "cfg"};
constexpr const char* k_wrappers[] = {"module.", "_orig_mod.", "model."};

bool is_dict_like(const pk::result& r, const pk::value& v) {
  if (v.k == pk::kind::dict) return true;
  if (v.k != pk::kind::call || v.callable == pk::nil) return false;
  const pk::value& c = r.at(v.callable);
  return c.k == pk::kind::global && c.s == "collections" && c.name == "OrderedDict";
}

// key -> value index of a dict (plain or OrderedDict); string keys only.
std::vector<std::pair<std::string, uint32_t>> entries(const pk::result& r, uint32_t idx) {
  std::vector<std::pair<std::string, uint32_t>> out;
  const pk::value& v = r.at(idx);
  if (!is_dict_like(r, v)) return out;
  for (size_t k = 0; k + 1 < v.items.size(); k += 2)
    if (r.at(v.items[k]).k == pk::kind::string) out.emplace_back(r.at(v.items[k]).s, v.items[k + 1]);
  return out;
}

bool starts_with(const std::string& s, const std::string& p) {
  return s.compare(0, p.size(), p) == 0;
}

bool scalar_meta(const pk::value& v, meta_value& out) {
  switch (v.k) {
    case pk::kind::integer:
      if (v.big) return false;
      out = meta_int(v.i);
      return true;
    case pk::kind::floating:
      out = meta_double(v.f);
      return true;
    case pk::kind::boolean:
      out = meta_bool(v.b);
      return true;
    case pk::kind::string:
      out = meta_str(v.s);
      return true;
    default:
      return false;
  }
}

// A config's scalar entries as checkpoint.config.<key> (nested dicts: dotted keys), two levels at most.
void config_add(archive& a, const pk::result& r, uint32_t dict, const std::string& prefix, int depth) {
  for (const auto& [k, vi] : entries(r, dict)) {
    meta_value mv;
    if (scalar_meta(r.at(vi), mv)) {
      a.metadata.emplace_back(prefix + k, std::move(mv));
    } else if (depth < 2) {
      config_add(a, r, vi, prefix + k + ".", depth + 1);
    }
  }
}

// The config saved under `key`: a dict, or an object whose BUILD state is a dict. Returns what it was.
std::string config_read(archive& a, const pk::result& r, const std::string& key, uint32_t vi) {
  const pk::value& v = r.at(vi);
  if (is_dict_like(r, v)) {
    config_add(a, r, vi, "checkpoint.config.", 0);
    return "a dict under '" + key + "'";
  }
  if (v.k == pk::kind::call && v.state != pk::nil && is_dict_like(r, r.at(v.state))) {
    config_add(a, r, v.state, "checkpoint.config.", 0);
    std::string cls = v.callable != pk::nil ? pk::display(r, v.callable) : std::string("an object");
    return "the state (pickle BUILD, read as data) of a pickled " + cls + " object under '" + key + "'";
  }
  return "";
}

std::string mb(uint64_t bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return b;
}

// Strips wrapper prefixes that every name carries, repeatedly; returns what was stripped.
std::string strip_wrappers(archive& a, size_t first) {
  std::string stripped;
  for (bool again = true; again && first < a.tensors.size();) {
    again = false;
    for (const char* w : k_wrappers) {
      bool all = true;
      for (size_t i = first; i < a.tensors.size() && all; ++i) all = starts_with(a.tensors[i].name, w);
      if (!all) continue;
      // HF LLaMA names live under model. with lm_head beside it: "model." alone is never all of them;
      // when it is (model.model.layers...), one level is a wrapper
      for (size_t i = first; i < a.tensors.size(); ++i) a.tensors[i].name.erase(0, std::string(w).size());
      stripped += w;
      again = true;
      break;
    }
  }
  return stripped;
}

}  // namespace

void checkpoint_unwrap(archive& a, size_t first, const pk::result& r, uint32_t root,
                       const std::string& where) {
  const auto top = entries(r, root);
  if (top.empty()) return;
  std::map<std::string, uint32_t> by(top.begin(), top.end());
  // how many tensors each top-level key holds
  std::map<std::string, std::pair<size_t, uint64_t>> held;  // key -> (tensors, bytes)
  for (size_t i = first; i < a.tensors.size(); ++i) {
    const std::string& n = a.tensors[i].name;
    auto dot = n.find('.');
    auto& h = held[dot == std::string::npos ? n : n.substr(0, dot)];
    h.first++;
    h.second += a.tensors[i].nbytes;
  }
  std::string chosen;
  std::vector<std::string> others;
  for (const char* k : k_state_keys)
    if (by.count(k) && held.count(k) && held[k].first > 0) {
      if (chosen.empty())
        chosen = k;
      else
        others.emplace_back(k);
    }
  for (const char* k : k_step_keys)
    if (auto it = by.find(k); it != by.end()) {
      meta_value mv;
      if (scalar_meta(r.at(it->second), mv) && mv.k != meta_value::kind::string)
        a.metadata.emplace_back(std::string("checkpoint.") + k, std::move(mv));
    }
  for (const char* k : k_config_keys)
    if (auto it = by.find(k); it != by.end()) {
      std::string what = config_read(a, r, k, it->second);
      if (!what.empty()) {
        a.metadata.emplace_back("checkpoint.config_source", meta_str(what));
        break;
      }
    }
  if (chosen.empty()) return;  // a plain state dict: names are the weights' own

  // optimizer state: counted, then dropped with everything else outside the chosen state dict
  uint64_t opt_tensors = 0, opt_bytes = 0;
  for (const char* k : k_optimizer_keys)
    if (auto it = held.find(k); it != held.end())
      opt_tensors += it->second.first, opt_bytes += it->second.second;
  std::vector<tensor_view> kept(a.tensors.begin(), a.tensors.begin() + static_cast<std::ptrdiff_t>(first));
  size_t dropped_other = 0;
  const std::string pre = chosen + ".";
  for (size_t i = first; i < a.tensors.size(); ++i) {
    tensor_view& t = a.tensors[i];
    if (starts_with(t.name, pre)) {
      t.name.erase(0, pre.size());
      kept.push_back(std::move(t));
    } else {
      ++dropped_other;
    }
  }
  a.tensors = std::move(kept);
  const std::string stripped = strip_wrappers(a, first);
  a.metadata.emplace_back("checkpoint.state_dict", meta_str(chosen));
  if (!stripped.empty()) a.metadata.emplace_back("checkpoint.prefix_stripped", meta_str(stripped));
  std::string also;
  for (const std::string& o : others)
    also += (also.empty() ? "" : ", ") + o + " (" + std::to_string(held[o].first) + " tensors)";
  if (!also.empty()) a.metadata.emplace_back("checkpoint.other_state_dicts", meta_str(also));
  a.add_finding(severity::info, "checkpoint.state_dict", where,
                "training checkpoint: weights from '" + chosen + "'" +
                    (stripped.empty() ? std::string() : ", prefix " + stripped + " stripped") +
                    (also.empty() ? std::string() : "; also holds " + also + ", not used"));
  if (opt_tensors) {
    a.metadata.emplace_back("checkpoint.optimizer_tensors", meta_uint(opt_tensors));
    a.metadata.emplace_back("checkpoint.optimizer_bytes", meta_uint(opt_bytes));
    a.add_finding(severity::info, "checkpoint.optimizer_state", where,
                  "optimizer state: " + std::to_string(opt_tensors) + " tensors, " + mb(opt_bytes) +
                      " MB; not part of the model");
  }
  const size_t rest = dropped_other - opt_tensors;
  if (dropped_other > opt_tensors) {
    size_t other_sd = 0;
    for (const std::string& o : others) other_sd += held[o].first;
    if (rest > other_sd)
      a.add_finding(severity::info, "checkpoint.other_tensors", where,
                    std::to_string(rest - other_sd) +
                        " tensor(s) outside the state dict and the optimizer state; not part of the model");
  }
}

}  // namespace gb::loaders
