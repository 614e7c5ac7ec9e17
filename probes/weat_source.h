// probes/weat_source.h: what `glassbox weat` measures on: the test files (SEAT/sent-bias JSONL or WEFE's
// WEAT.json, from which the ten standard tests are composed) and the vectors the words are looked up in, a
// word-vector file (GloVe, word2vec) or a model (input embeddings for word tests, SEAT encodings for
// sentence tests).
//
//   auto tests = gb::probes::weat_tests_load({"WEAT.json"}, /*only=*/{});            // throws gb::failure
//   gb::probes::weat_source src = gb::probes::weat_source_open(path, "auto", "", true);
//   auto results = gb::probes::weat_run_all(tests, src.lookup(), {}, threads);
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "formats/embeddings.h"
#include "probes/embedding_probe.h"
#include "probes/session.h"
#include "probes/weat.h"

namespace gb::probes {

// The tests of every file in order, keeping only those named in `only` (all when empty). A file that is
// neither a SEAT test nor WEAT.json word sets throws gb::failure with `where` = the file.
std::vector<weat_sets> weat_tests_load(const std::vector<std::string>& paths,
                                       const std::vector<std::string>& only);

struct weat_source {
  std::string path;
  std::string mode = "auto";  // auto, embeddings (a vector file), input or seat (a model)
  bool is_model = false;
  bool lowercase = false;  // vector files: look a word up lower-cased when the exact word is absent
  embedding_table table;   // a vector file's words; for a model: format "model", dim = n_embd
  std::unique_ptr<session> sess;
  vector_lookup input, seat;  // a model's word and sentence encoders (seat empty when it cannot run)
  // word -> vector ({} when absent) for one test: sent-* tests use the SEAT encoder under mode auto
  test_lookup lookup() const;
};
// mode auto: a model when the path opens as one with tensors, else a vector file. Throws gb::failure.
weat_source weat_source_open(const std::string& path, const std::string& mode, const std::string& tokenizer,
                             bool lowercase);

}  // namespace gb::probes
