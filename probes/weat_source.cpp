// probes/weat_source.cpp: WEAT test files and the vectors they are measured on (see probes/weat_source.h).
#include "probes/weat_source.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "formats/file_text.h"
#include "formats/json_meta.h"

namespace gb::probes {

namespace {

std::string file_stem(const std::string& path) {
  auto s = path.find_last_of('/');
  std::string b = s == std::string::npos ? path : path.substr(s + 1);
  auto d = b.find('.');
  return d == std::string::npos ? b : b.substr(0, d);
}

// A tests file is either a SEAT/sent-bias test (targ1/targ2/attr1/attr2) or WEFE's WEAT.json word sets.
std::vector<weat_sets> tests_of_file(const std::string& path) {
  std::string text = file_text(path, "test file");
  json_check_depth(text, 0, path.c_str());
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail(errc::bad_json, 0, path + ": not a JSON object");
  if (j.contains("targ1")) return {weat_sets_parse_seat(text, file_stem(path))};
  if (j.contains("flowers")) return weat_standard_tests(text);
  fail(errc::bad_json, 0,
       path + ": neither a SEAT test (targ1, targ2, attr1, attr2) nor WEAT.json word sets");
}

}  // namespace

std::vector<weat_sets> weat_tests_load(const std::vector<std::string>& paths,
                                       const std::vector<std::string>& only) {
  std::vector<weat_sets> selected;
  for (const auto& p : paths) {
    std::vector<weat_sets> sets;
    try {
      sets = tests_of_file(p);
    } catch (failure& f) {
      f.err().where = p;
      throw;
    }
    for (auto& s : sets)
      if (only.empty() || std::find(only.begin(), only.end(), s.name) != only.end())
        selected.push_back(std::move(s));
  }
  return selected;
}

weat_source weat_source_open(const std::string& path, const std::string& mode, const std::string& tokenizer,
                             bool lowercase) {
  weat_source src;
  src.path = path, src.mode = mode, src.lowercase = lowercase;
  src.is_model = mode == "input" || mode == "seat";
  if (mode == "auto") {
    auto probe = archive_open(path, {false, true});
    src.is_model = probe && !probe.value().tensors.empty();
  }
  if (!src.is_model) {
    auto emb = embeddings_open(path);
    if (!emb) throw failure(emb.err());
    src.table = std::move(emb).value();
    return src;
  }
  auto s = session_open(path, tokenizer);
  if (!s) throw failure(s.err());
  src.sess = std::make_unique<session>(std::move(s).value());
  src.table.format = "model";
  src.table.dim = src.sess->m->hp.n_embd;
  src.input = input_embedding_lookup(*src.sess);
  if (src.sess->run) src.seat = sentence_encoding_lookup(*src.sess);
  return src;
}

test_lookup weat_source::lookup() const {
  return [this](const weat_sets& test, const std::string& w) -> std::vector<float> {
    if (is_model) {
      const bool sentence = mode == "seat" || (mode != "input" && test.name.rfind("sent-", 0) == 0);
      if (sentence && !seat) return {};
      return sentence ? seat(w) : input(w);
    }
    const float* v = table.find(w);
    if (!v && lowercase) {
      std::string l = w;
      for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      v = table.find(l);
    }
    if (!v) return {};
    return std::vector<float>(v, v + table.dim);
  };
}

}  // namespace gb::probes
