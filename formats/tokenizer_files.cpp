// Tokenizer files -> vocab: HF tokenizer.json, GPT-2 encoder.json + vocab.bpe, tokenizer_config.json.
// (SentencePiece tokenizer.model lives in sentencepiece.cpp.)
#include "formats/tokenizer_files.h"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>

#include "formats/json_meta.h"
#include "formats/reader.h"
#include "formats/vocab_specials.h"

namespace gb {
namespace {

using json = nlohmann::json;

constexpr uint64_t k_max_text = uint64_t{1} << 30;  // 1 GiB of JSON
constexpr int k_max_depth = 64;
constexpr int64_t k_max_id = (int64_t{1} << 22) - 1;
constexpr size_t k_max_merges = size_t{1} << 23;
const std::string k_space = "\xe2\x96\x81";  // U+2581, SentencePiece's space

void note(std::vector<finding>* fs, severity s, const char* code, const char* where, std::string msg) {
  if (fs) fs->push_back({s, code, where, std::move(msg), UINT64_MAX});
}

// Parses with a nesting cap (a deep document would exhaust the stack) and byte-offset errors.
json parse_json(std::string_view text, const char* what) {
  if (text.size() > k_max_text) fail(errc::limit, 0, std::string(what) + ": larger than 1 GiB");
  if (!utf8_valid(text)) fail(errc::bad_utf8, 0, std::string(what) + ": not valid UTF-8");
  json_check_depth(text, 0, what,
                   k_max_depth);  // names the byte offset; the callback below stays as a backstop
  auto depth_cap = [&](int depth, json::parse_event_t, json&) {
    if (depth > k_max_depth)
      fail(errc::limit, 0, std::string(what) + ": nesting deeper than " + std::to_string(k_max_depth));
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), depth_cap);
  } catch (const json::parse_error& e) {
    fail(errc::bad_json, e.byte > 0 ? e.byte - 1 : 0, std::string(what) + ": " + e.what());
  } catch (const json::exception& e) {  // e.g. out_of_range 406: a number like 1e999 overflows
    fail(errc::bad_json, 0, std::string(what) + ": " + e.what());
  }
}

[[noreturn]] void shape_error(const char* what, const std::string& msg) {
  fail(errc::bad_json, 0, std::string(what) + ": " + msg);
}

int64_t id_of(const json& j, const char* what, const std::string& token) {
  if (!j.is_number_integer()) shape_error(what, "id of '" + token.substr(0, 40) + "' is not an integer");
  int64_t id = j.get<int64_t>();
  if (id < 0 || id > k_max_id)
    fail(errc::limit, 0,
         std::string(what) + ": id " + std::to_string(id) + " of '" + token.substr(0, 40) + "' outside 0.." +
             std::to_string(k_max_id));
  return id;
}

// Places token -> id pairs; ids may come in any order. Two tokens for one id is an error.
struct token_table {
  std::vector<std::string> tokens;
  std::vector<bool> set;
  void put(int64_t id, std::string tok, const char* what) {
    size_t i = static_cast<size_t>(id);
    if (i >= tokens.size()) tokens.resize(i + 1), set.resize(i + 1, false);
    if (set[i] && tokens[i] != tok)
      fail(errc::duplicate, 0,
           std::string(what) + ": id " + std::to_string(id) + " given to both '" + tokens[i].substr(0, 40) +
               "' and '" + tok.substr(0, 40) + "'");
    tokens[i] = std::move(tok);
    set[i] = true;
  }
};

int32_t find_token(const vocab& v, const std::string& s) {
  for (size_t i = 0; i < v.tokens.size(); ++i)
    if (v.tokens[i] == s) return static_cast<int32_t>(i);
  return -1;
}

// All "type" strings in a (possibly Sequence) normalizer / pre-tokenizer, with Split patterns.
void collect_types(const json& j, std::vector<std::string>& types, std::vector<std::string>& patterns,
                   int depth = 0) {
  if (!j.is_object() || depth > 8) return;
  if (j.contains("type") && j["type"].is_string()) types.push_back(j["type"].get<std::string>());
  if (j.contains("pattern") && j["pattern"].is_object()) {
    for (const char* k : {"Regex", "String"})
      if (j["pattern"].contains(k) && j["pattern"][k].is_string())
        patterns.push_back(j["pattern"][k].get<std::string>());
  }
  for (const char* k : {"normalizers", "pretokenizers"})
    if (j.contains(k) && j[k].is_array())
      for (const auto& x : j[k]) collect_types(x, types, patterns, depth + 1);
}

bool has(const std::vector<std::string>& xs, const char* s) {
  for (const auto& x : xs)
    if (x == s) return true;
  return false;
}

// Best guess of llama.cpp's pre-tokenizer name from the Split regex.
std::string pre_from_regex(const std::string& re) {
  const bool contractions_ci = re.find("(?i:'s|'t|'re|'ve|'m|'ll|'d)") != std::string::npos;
  if (contractions_ci && re.find("\\p{N}{1,3}") != std::string::npos) return "llama-bpe";
  if (contractions_ci && re.find("\\p{N}|") != std::string::npos) return "qwen2";
  if (re.find("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+") != std::string::npos) return "gpt-2";
  return "";
}

}  // namespace

bool vocab_is_byte_piece(std::string_view p) {
  auto hex = [](char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F'); };
  return p.size() == 6 && p.substr(0, 3) == "<0x" && hex(p[3]) && hex(p[4]) && p[5] == '>';
}

namespace {

// model.type, or for older files that omit it, the type their shape implies.
std::string tokenizer_json_type(const json& model) {
  std::string type =
      model.contains("type") && model["type"].is_string() ? model["type"].get<std::string>() : "";
  if (type.empty()) {  // older files omit it: infer from the shape
    if (model.contains("merges"))
      type = "BPE";
    else if (model.contains("vocab") && model["vocab"].is_array())
      type = "Unigram";
    else if (model.contains("continuing_subword_prefix"))
      type = "WordPiece";
    else
      type = "WordLevel";
  }
  return type;
}

// The vocab of model.vocab: [[piece, score], ...] (Unigram) or {piece: id} (the others).
void tokenizer_json_vocab(const std::string& type, const json& jv, token_table& table,
                          std::vector<float>& scores) {
  const char* what = "tokenizer.json";
  if (type == "Unigram") {
    if (!jv.is_array()) shape_error(what, "Unigram vocab is not an array");
    if (jv.size() > static_cast<size_t>(k_max_id) + 1)
      fail(errc::limit, 0, std::string(what) + ": vocab too large");
    for (size_t i = 0; i < jv.size(); ++i) {
      const json& e = jv[i];
      if (!e.is_array() || e.size() < 2 || !e[0].is_string() || !e[1].is_number())
        shape_error(what, "Unigram vocab entry " + std::to_string(i) + " is not [piece, score]");
      table.put(static_cast<int64_t>(i), e[0].get<std::string>(), what);
      scores.push_back(e[1].get<float>());
    }
  } else {
    if (!jv.is_object()) shape_error(what, type + " vocab is not an object");
    for (const auto& [tok, id] : jv.items()) table.put(id_of(id, what, tok), tok, what);
  }
}

// added_tokens: [{id, content, special}] override or extend the vocab; returns (id, special) of each.
std::vector<std::pair<int64_t, bool>> tokenizer_json_added(const json& root, token_table& table,
                                                           std::vector<finding>* fs) {
  const char* what = "tokenizer.json";
  std::vector<std::pair<int64_t, bool>> added;
  if (root.contains("added_tokens") && root["added_tokens"].is_array()) {
    for (const auto& t : root["added_tokens"]) {
      if (!t.is_object() || !t.contains("id") || !t.contains("content") || !t["content"].is_string())
        shape_error(what, "added_tokens entry without id and content");
      std::string content = t["content"].get<std::string>();
      int64_t id = id_of(t["id"], what, content);
      size_t i = static_cast<size_t>(id);
      if (i < table.tokens.size() && table.set[i] && table.tokens[i] != content)
        note(fs, severity::low, "tokenizer_json.added_token_differs", what,
             "added token " + std::to_string(id) + " '" + content.substr(0, 40) + "' replaces vocab entry '" +
                 table.tokens[i].substr(0, 40) + "'");
      if (i < table.tokens.size()) table.set[i] = false;  // an added token may re-spell its id
      table.put(id, content, what);
      added.emplace_back(id, t.contains("special") && t["special"].is_boolean() && t["special"].get<bool>());
    }
  }
  return added;
}

// Model flavour (llama / gpt2 / bert / unigram), merges, pre-tokenizer and byte pieces.
void tokenizer_json_flavour(const json& root, const json& model, const std::string& type, vocab& v,
                            std::vector<finding>* fs) {
  const char* what = "tokenizer.json";
  // Normalizer and pre-tokenizer decide the flavour.
  std::vector<std::string> ntypes, npatterns, ptypes, ppatterns;
  if (root.contains("normalizer")) collect_types(root["normalizer"], ntypes, npatterns);
  if (root.contains("pre_tokenizer")) collect_types(root["pre_tokenizer"], ptypes, ppatterns);
  const bool spm_norm = has(ntypes, "Prepend") || (has(ntypes, "Replace") && has(npatterns, " "));
  const bool metaspace = has(ptypes, "Metaspace");
  const bool byte_fallback = model.contains("byte_fallback") && model["byte_fallback"].is_boolean() &&
                             model["byte_fallback"].get<bool>();
  v.byte_fallback = byte_fallback;
  if (type == "BPE") {
    v.model = (byte_fallback || spm_norm || metaspace) ? "llama" : "gpt2";
    if (model.contains("merges")) {
      const json& jm = model["merges"];
      if (!jm.is_array()) shape_error(what, "merges is not an array");
      if (jm.size() > k_max_merges) fail(errc::limit, 0, std::string(what) + ": more than 8M merges");
      v.merges.reserve(jm.size());
      for (const auto& mg : jm) {
        if (mg.is_string())
          v.merges.push_back(mg.get<std::string>());
        else if (mg.is_array() && mg.size() == 2 && mg[0].is_string() && mg[1].is_string())
          v.merges.push_back(mg[0].get<std::string>() + " " + mg[1].get<std::string>());
        else
          shape_error(what, "merge " + std::to_string(v.merges.size()) + " is neither \"a b\" nor [a, b]");
      }
    }
  } else if (type == "WordPiece") {
    v.model = "bert";
    v.byte_fallback = false;
  } else if (type == "Unigram") {
    v.model = "unigram";
  } else {
    v.model = "none";
    note(fs, severity::medium, "tokenizer_json.model_type", what,
         "model type '" + type + "' is not a tokenizer glassbox runs");
  }
  if (v.model == "llama" || v.model == "unigram") {
    v.pre = "default";
    v.add_space_prefix = spm_norm || metaspace;
  } else if (v.model == "bert") {
    v.pre = "default";
    v.add_space_prefix = false;
  } else {
    v.add_space_prefix = false;
    std::string guess;
    for (const auto& re : ppatterns)
      if (guess.empty()) guess = pre_from_regex(re);
    if (guess.empty() && has(ptypes, "ByteLevel")) guess = "gpt-2";
    if (guess.empty()) {
      guess = "default";
      note(fs, severity::info, "tokenizer_json.pre_tokenizer", what,
           "pre-tokenizer not recognised; assumed default");
    }
    v.pre = guess;
  }
  if (v.byte_fallback)
    for (size_t i = 0; i < v.tokens.size(); ++i)
      if (v.token_types[i] == 1 && vocab_is_byte_piece(v.tokens[i])) v.token_types[i] = 6;
}

// Special ids: unk from the model, bos/eos from a TemplateProcessing post-processor, BERT's by spelling.
void tokenizer_json_special(const json& root, const json& model, vocab& v) {
  if (model.contains("unk_token") && model["unk_token"].is_string())
    v.unk_id = find_token(v, model["unk_token"].get<std::string>());
  else if (model.contains("unk_id") && model["unk_id"].is_number_integer())
    v.unk_id = static_cast<int32_t>(model["unk_id"].get<int64_t>());
  if (v.unk_id >= static_cast<int32_t>(v.tokens.size())) v.unk_id = -1;
  if (v.unk_id >= 0 && v.token_types[static_cast<size_t>(v.unk_id)] != 5)
    v.token_types[static_cast<size_t>(v.unk_id)] = 2;
  if (root.contains("post_processor") && root["post_processor"].is_object()) {
    const json& pp = root["post_processor"];
    if (pp.contains("single") && pp["single"].is_array() && !pp["single"].empty()) {
      const json& first = pp["single"][0];
      if (first.is_object() && first.contains("SpecialToken") && first["SpecialToken"].contains("id") &&
          first["SpecialToken"]["id"].is_string()) {
        v.bos_id = find_token(v, first["SpecialToken"]["id"].get<std::string>());
        v.add_bos = v.bos_id >= 0;
      }
      const json& last = pp["single"].back();
      if (pp["single"].size() > 1 && last.is_object() && last.contains("SpecialToken") &&
          last["SpecialToken"].contains("id") && last["SpecialToken"]["id"].is_string()) {
        v.eos_id = find_token(v, last["SpecialToken"]["id"].get<std::string>());
        v.add_eos = v.eos_id >= 0;
      }
    }
  }
  if (v.model == "bert") {
    v.cls_id = find_token(v, "[CLS]"), v.sep_id = find_token(v, "[SEP]");
    v.mask_id = find_token(v, "[MASK]"), v.pad_id = find_token(v, "[PAD]");
  }
}

}  // namespace

vocab vocab_from_tokenizer_json(std::string_view text, std::vector<finding>* fs) {
  const char* what = "tokenizer.json";
  json root = parse_json(text, what);
  if (!root.is_object()) shape_error(what, "top level is not an object");
  if (!root.contains("model") || !root["model"].is_object()) shape_error(what, "no \"model\" object");
  const json& model = root["model"];
  const std::string type = tokenizer_json_type(model);
  if (!model.contains("vocab")) shape_error(what, "model has no \"vocab\"");
  const json& jv = model["vocab"];

  vocab v;
  v.source = "tokenizer.json";
  token_table table;
  std::vector<float> scores;
  tokenizer_json_vocab(type, jv, table, scores);
  const std::vector<std::pair<int64_t, bool>> added = tokenizer_json_added(root, table, fs);
  size_t gaps = 0;
  for (bool s : table.set) gaps += !s;
  v.tokens = std::move(table.tokens);
  v.token_types.assign(v.tokens.size(), 1);
  for (size_t i = 0; i < v.tokens.size(); ++i)
    if (!table.set[i]) v.token_types[i] = 5;
  if (gaps)
    note(fs, severity::low, "tokenizer_json.id_gap", what,
         std::to_string(gaps) + " ids have no token (typed unused)");
  for (auto [id, special] : added) v.token_types[static_cast<size_t>(id)] = special ? 3 : 4;
  if (!scores.empty()) {
    scores.resize(v.tokens.size(), 0.0f);
    v.scores = std::move(scores);
  }

  tokenizer_json_flavour(root, model, type, v, fs);
  tokenizer_json_special(root, model, v);
  return v;
}

vocab vocab_from_gpt2_files(std::string_view encoder_json, std::string_view vocab_bpe,
                            std::vector<finding>* fs) {
  const char* what = "encoder.json";
  json enc = parse_json(encoder_json, what);
  if (!enc.is_object()) shape_error(what, "top level is not an object");
  token_table table;
  for (const auto& [tok, id] : enc.items()) table.put(id_of(id, what, tok), tok, what);
  vocab v;
  v.model = "gpt2";
  v.pre = "gpt-2";
  v.source = "encoder.json+vocab.bpe";
  v.add_space_prefix = false;
  v.byte_fallback = false;
  size_t gaps = 0;
  for (bool s : table.set) gaps += !s;
  v.tokens = std::move(table.tokens);
  v.token_types.assign(v.tokens.size(), 1);
  if (gaps) note(fs, severity::low, "gpt2.id_gap", what, std::to_string(gaps) + " ids have no token");

  if (vocab_bpe.size() > k_max_text) fail(errc::limit, 0, "vocab.bpe: larger than 1 GiB");
  if (!utf8_valid(vocab_bpe)) fail(errc::bad_utf8, 0, "vocab.bpe: not valid UTF-8");
  size_t pos = 0, line_no = 0;
  while (pos < vocab_bpe.size()) {
    size_t end = vocab_bpe.find('\n', pos);
    if (end == std::string_view::npos) end = vocab_bpe.size();
    std::string_view line = vocab_bpe.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t start = pos;
    pos = end + 1;
    ++line_no;
    if (line.empty() || (line_no == 1 && line.rfind("#version", 0) == 0)) continue;
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos || sp == 0 || sp + 1 >= line.size() ||
        line.find(' ', sp + 1) != std::string_view::npos)
      fail(errc::bad_value, start, "vocab.bpe: line " + std::to_string(line_no) + " is not \"a b\"");
    if (v.merges.size() >= k_max_merges) fail(errc::limit, start, "vocab.bpe: more than 8M merges");
    v.merges.emplace_back(line);
  }
  int32_t eot = find_token(v, "<|endoftext|>");
  if (eot >= 0) {
    v.bos_id = v.eos_id = eot;
    v.token_types[static_cast<size_t>(eot)] = 3;
  }
  return v;
}

void vocab_apply_tokenizer_config(vocab& v, std::string_view config_json, std::vector<finding>* fs) {
  const char* what = "tokenizer_config.json";
  json c = parse_json(config_json, what);
  if (!c.is_object()) shape_error(what, "top level is not an object");
  auto token_text = [&](const std::string& key) -> std::optional<std::string> {
    if (!c.contains(key)) return std::nullopt;
    const json& t = c[key];
    if (t.is_string()) return t.get<std::string>();
    if (t.is_object() && t.contains("content") && t["content"].is_string())
      return t["content"].get<std::string>();
    return std::nullopt;  // null or other: no such token
  };
  auto apply = [&](const std::string& key, int32_t& id) {
    auto s = token_text(key);
    if (!s) return;
    int32_t found = find_token(v, *s);
    if (found < 0) {
      note(fs, severity::low, "tokenizer_config.unknown_token", what,
           key + " '" + s->substr(0, 40) + "' is not in the vocabulary");
      return;
    }
    id = found;
  };
  for (const vocab_special& sp : k_vocab_specials) apply(std::string(sp.hf) + "_token", v.*sp.id);
  if (c.contains("add_bos_token") && c["add_bos_token"].is_boolean())
    v.add_bos = c["add_bos_token"].get<bool>();
  if (c.contains("add_eos_token") && c["add_eos_token"].is_boolean())
    v.add_eos = c["add_eos_token"].get<bool>();
}

}  // namespace gb
