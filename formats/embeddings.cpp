#include "formats/embeddings.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "formats/datasets.h"
#include "formats/mapped_file.h"
#include "formats/reader.h"

namespace gb {
namespace {

constexpr int64_t kMaxDim = 100000;
constexpr uint64_t kMaxWords = 50000000;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

// Splits one text line into fields on spaces/tabs.
void split_fields(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    size_t j = i;
    while (j < line.size() && !is_space(line[j])) ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
}

bool parse_int(std::string_view s, int64_t& v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_float(std::string_view s, float& v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

void add_word(embedding_table& t, std::string word, uint64_t where) {
  if (t.words.size() >= kMaxWords) fail(errc::limit, where, "embeddings: more than 50,000,000 words");
  auto [it, inserted] = t.index.emplace(word, t.words.size());
  if (!inserted)
    t.findings.push_back({severity::low, "embeddings.duplicate_word", word,
                          "word '" + word + "' appears more than once; the first vector is used", where});
  t.words.push_back(std::move(word));
}

// One "word v1 ... vD" row (the first row sets D).
void parse_row(embedding_table& t, const std::vector<std::string_view>& f, size_t line_no,
               uint64_t line_offset) {
  if (t.dim == 0) {
    if (f.size() < 2)
      fail(errc::bad_value, line_offset, "embeddings: line " + std::to_string(line_no) + ": no vector");
    t.dim = static_cast<int64_t>(f.size()) - 1;
    if (t.dim > kMaxDim) fail(errc::limit, line_offset, "embeddings: dimension over 100,000");
  }
  if (static_cast<int64_t>(f.size()) != t.dim + 1)
    fail(errc::bad_value, line_offset,
         "embeddings: line " + std::to_string(line_no) + ": expected " + std::to_string(t.dim) +
             " values, found " + std::to_string(f.size() - 1));
  size_t base = t.vectors.size();
  t.vectors.resize(base + static_cast<size_t>(t.dim));
  for (int64_t k = 0; k < t.dim; ++k)
    if (!parse_float(f[static_cast<size_t>(k) + 1], t.vectors[base + static_cast<size_t>(k)]))
      fail(errc::bad_value, line_offset,
           "embeddings: line " + std::to_string(line_no) + ": value " + std::to_string(k + 1) +
               " is not a number");
  add_word(t, std::string(f[0]), line_offset);
}

void parse_text(embedding_table& t, const uint8_t* data, uint64_t size, bool has_header) {
  std::vector<std::string_view> f;
  int64_t expect_rows = -1;
  text_lines_each({reinterpret_cast<const char*>(data), size}, [&](std::string_view line, size_t line_no,
                                                                   uint64_t line_offset) {
    split_fields(line, f);
    if (f.empty()) return;
    if (has_header && line_no == 1) {
      int64_t n = 0, d = 0;
      if (f.size() != 2 || !parse_int(f[0], n) || !parse_int(f[1], d) || n < 0 || d <= 0 || d > kMaxDim)
        fail(errc::bad_value, 0, "embeddings: line 1: bad word2vec header");
      expect_rows = n;
      t.dim = d;
      return;
    }
    parse_row(t, f, line_no, line_offset);
  });
  if (t.words.empty()) fail(errc::bad_value, 0, "embeddings: no vectors");
  if (expect_rows >= 0 && static_cast<uint64_t>(expect_rows) != t.words.size())
    t.findings.push_back(
        {severity::low, "embeddings.count_mismatch", "header",
         "header says " + std::to_string(expect_rows) + " words, file has " + std::to_string(t.words.size()),
         0});
}

void parse_binary(embedding_table& t, const uint8_t* data, uint64_t size) {
  reader r(data, size, "word2vec");
  // header line "N D\n"
  std::string header;
  while (true) {
    char c = static_cast<char>(r.u8("header"));
    if (c == '\n') break;
    if (header.size() > 64) r.error(errc::bad_value, "header line too long");
    header += c;
  }
  std::vector<std::string_view> f;
  split_fields(header, f);
  int64_t n = 0, d = 0;
  if (f.size() != 2 || !parse_int(f[0], n) || !parse_int(f[1], d) || n <= 0 || d <= 0 || d > kMaxDim)
    fail(errc::bad_value, 0, "word2vec: bad header '" + header + "'");
  uint64_t row = checked_mul(static_cast<uint64_t>(d), 4, "row bytes");
  if (static_cast<uint64_t>(n) > r.remaining() / (row + 2))
    fail(errc::limit, r.offset(),
         "word2vec: header claims " + std::to_string(n) + " words, more than the file holds");
  t.dim = d;
  t.vectors.reserve(static_cast<size_t>(n * d));
  for (int64_t i = 0; i < n; ++i) {
    while (!r.at_end() && (r.data()[r.pos()] == '\n' || r.data()[r.pos()] == '\r')) r.skip(1, "newline");
    uint64_t start = r.offset();
    std::string word;
    while (true) {
      char c = static_cast<char>(r.u8("word"));
      if (c == ' ') break;
      if (word.size() > 1000) r.error(errc::limit, "word longer than 1000 bytes");
      word += c;
    }
    const uint8_t* p = r.bytes(row, "vector");
    size_t base = t.vectors.size();
    t.vectors.resize(base + static_cast<size_t>(d));
    std::memcpy(&t.vectors[base], p, row);
    add_word(t, std::move(word), start);
  }
}

}  // namespace

const float* embedding_table::find(std::string_view word) const {
  auto it = index.find(std::string(word));
  if (it == index.end()) return nullptr;
  return &vectors[it->second * static_cast<size_t>(dim)];
}

result<embedding_table> embeddings_parse(const uint8_t* data, uint64_t size, const std::string& name) {
  return capture(name, [&]() -> embedding_table {
    if (size == 0) fail(errc::empty_file, 0, "embeddings: empty file");
    embedding_table t;
    // word2vec binary: a text header line then binary rows; text formats are all printable.
    size_t nl = 0;
    while (nl < size && nl < 80 && data[nl] != '\n') ++nl;
    std::string_view first(reinterpret_cast<const char*>(data), nl);
    std::vector<std::string_view> f;
    split_fields(first, f);
    int64_t a = 0, b = 0;
    bool header = f.size() == 2 && parse_int(f[0], a) && parse_int(f[1], b);
    bool binary = false;
    if (header) {
      // binary if the first row contains non-text bytes
      for (uint64_t i = nl + 1; i < size && i < nl + 1 + 4096; ++i)
        if (data[i] == 0 || (data[i] < 0x09) || (data[i] > 0x0d && data[i] < 0x20)) {
          binary = true;
          break;
        }
    }
    if (binary) {
      t.format = "word2vec-binary";
      parse_binary(t, data, size);
    } else {
      t.format = header ? "word2vec-text" : "glove-text";
      parse_text(t, data, size, header);
    }
    for (float v : t.vectors)
      if (!std::isfinite(v)) {
        t.findings.push_back(
            {severity::medium, "embeddings.non_finite", name, "non-finite values in vectors", UINT64_MAX});
        break;
      }
    return t;
  });
}

result<embedding_table> embeddings_open(const std::string& path) {
  mapped_file_ptr m;
  try {
    m = mapped_file::open(path);
  } catch (failure& f) {
    f.err().where = path;
    return f.err();
  }
  return embeddings_parse(m->data(), m->size(), path);
}

}  // namespace gb
