// probes/weat_source.cpp: WEAT test files and the vectors they are measured on (see probes/weat_source.h).
#include "probes/weat_source.h"

#include <algorithm>
#include <cctype>

namespace gb::probes {

std::vector<weat_sets> weat_tests_load(const std::vector<std::string>& paths,
                                       const std::vector<std::string>& only) {
  std::vector<weat_sets> selected;
  for (const auto& p : paths) {
    std::vector<weat_sets> sets;
    try {
      sets = weat_tests_read(p);
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
