// formats/datasets.h: every dataset file glassbox reads as text, in one place: the shapes (a bounded whole
// file, its lines, RFC 4180 CSV rows) and the bias suites' datasets built on them (CrowS-Pairs CSV,
// StereoSet dev.json or JSON lines, WinoBias text pairs, BBQ JSON lines, the HolisticBias folder, WEAT/SEAT
// test files). Word vectors (GloVe, word2vec) are formats/embeddings.h, which reads its lines with
// text_lines_each.
// A malformed row is skipped with its line number and counted; a file that is not the dataset at all, is
// missing, or is larger than kDatasetMaxBytes throws gb::failure (errc, byte offset, what to pass instead).
// Every JSON document or line passes gb::json_check_depth / json_depth_exceeded before it is parsed.
//
//   gb::crows_data d = gb::crows_pairs_read("crows_pairs_anonymized.csv");   // throws gb::failure
//   for (const gb::skipped_item& s : d.bad_rows) std::cerr << s.where << ": " << s.reason << "\n";
//   gb::text_lines_each(gb::dataset_text(path, "prompts file"),
//                       [&](std::string_view line, size_t line_no, uint64_t offset) { ... });
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace gb {

// A dataset file is read whole: more than 1 GiB is errc::limit (the largest shipped, BBQ, is 10 MB).
inline constexpr uint64_t kDatasetMaxBytes = uint64_t{1} << 30;

// ---- shapes ----
// The whole file; errc::not_found when it cannot be read, errc::limit when over kDatasetMaxBytes.
std::string dataset_text(const std::string& path, const std::string& what);
// Calls fn for every line ('\n' separated, the '\r' of CRLF kept), numbered from 1, with the byte offset of
// its first character; a final line without '\n' is a line, the empty rest after a final '\n' is not.
void text_lines_each(std::string_view text,
                     const std::function<void(std::string_view line, size_t line_no, uint64_t offset)>& fn);
// RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines; '\r' outside quotes is dropped;
// empty lines are no rows. Each row keeps the line it starts on; ok = false when an unterminated quote ran
// to the end of the text.
struct csv_row {
  size_t line = 0;
  uint64_t offset = 0;
  std::vector<std::string> fields;
  bool ok = true;
};
std::vector<csv_row> csv_rows(std::string_view text);

// ---- the bias suites' datasets ----
inline constexpr size_t k_not_an_item = static_cast<size_t>(-1);

struct skipped_item {
  std::string where;  // "line 17", "example 42"
  std::string reason;
  size_t index = k_not_an_item;  // position of the item, or k_not_an_item (a dataset row, a note)
};

struct crows_pair {
  std::string id, sent_more, sent_less, direction, bias_type;
  size_t line = 0;
};
struct crows_data {
  std::vector<crows_pair> pairs;
  std::vector<skipped_item> bad_rows;
};
crows_data crows_pairs_read(const std::string& path);  // throws gb::failure when the file is not CrowS-Pairs

struct stereoset_item {
  std::string id, target, domain, stereotype, anti, unrelated;
  size_t line = 0;
};
struct stereoset_data {
  std::vector<stereoset_item> intrasentence;
  std::vector<skipped_item> bad_rows;
  size_t intersentence = 0;
};
stereoset_data stereoset_read(const std::string& path);  // dev.json layout or JSON lines

struct winobias_pair {
  std::string id, pro, anti;
  int type = 1;
  std::string split;
  size_t line = 0;
};
struct winobias_data {
  std::vector<winobias_pair> pairs;
  std::vector<skipped_item> bad_rows;
};
winobias_data winobias_read(const std::string& dir);  // {pro,anti}_stereotyped_type{1,2}.txt.{dev,test}

struct bbq_item {
  std::string id, category, polarity, condition, context, question;
  std::string answers[3];
  int label = -1, unknown = -1,
      target = -1;  // answer indices: gold, "unknown" option, stereotyped-group option
  size_t line = 0;
};
struct bbq_data {
  std::vector<bbq_item> items;
  std::vector<skipped_item> bad_rows;
};
bbq_data bbq_read(const std::string& path_or_dir);  // one .jsonl file or a folder of them

struct holistic_sentence {
  std::string axis, descriptor, noun, tmpl, text;
};
struct holistic_data {
  std::vector<holistic_sentence> sentences;
  std::vector<skipped_item> bad_rows;
};
// Builds sentences from descriptors.json, nouns.json and sentence_templates.json in `dir`:
// "{article} {descriptor} {noun}" noun phrases in the first max_templates templates, with max_nouns nouns
// taken alternately from each noun group.
holistic_data holistic_read(const std::string& dir, size_t max_templates = 3, size_t max_nouns = 4);

// ---- WEAT / SEAT word-set tests ----
struct word_set {
  std::string category;
  std::vector<std::string> words;
};

struct weat_sets {
  std::string name;  // "weat1", "sent-weat3b", ...
  word_set targ1, targ2, attr1, attr2;
};

// A SEAT/sent-bias test file: one JSON object {targ1, targ2, attr1, attr2: {category, examples}}.
// Throws gb::failure (bad_json) naming what is missing.
weat_sets weat_sets_parse_seat(const std::string& json_text, const std::string& name);

// The ten WEAT tests of Caliskan et al. (2017), composed from the word sets of WEFE's WEAT.json
// (`flowers`, `insects`, `pleasant_5`, ...). Throws when a needed set is absent.
std::vector<weat_sets> weat_standard_tests(const std::string& weat_json_text);

// A test file: a SEAT test (named by the file's stem) or WEAT.json's ten tests. Throws gb::failure:
// not_found, limit (size, JSON depth), bad_json (neither shape).
std::vector<weat_sets> weat_tests_read(const std::string& path);

}  // namespace gb
