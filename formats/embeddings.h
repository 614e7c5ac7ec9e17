// formats/embeddings.h: word-embedding files for WEAT: GloVe text (no header), word2vec text ("N D"
// header) and word2vec binary ("N D\n" then word, space, D little-endian float32 per row).
//
//   gb::result<gb::embedding_table> e = gb::embeddings_open("glove.6B.100d.txt");
//   const float* v = e.value().find("flower");   // nullptr if absent; e.value().dim floats
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "formats/error.h"

namespace gb {

struct embedding_table {
  std::string format;  // "glove-text", "word2vec-text", "word2vec-binary"
  int64_t dim = 0;
  std::vector<std::string> words;                 // (N)
  std::vector<float> vectors;                     // (N, dim) row-major
  std::unordered_map<std::string, size_t> index;  // first occurrence wins; duplicates are findings
  std::vector<finding> findings;

  const float* find(std::string_view word) const;
  size_t size() const { return words.size(); }
};

// Errors name the line (text) or byte offset (binary). Caps: dim <= 100,000, words <= 50,000,000.
result<embedding_table> embeddings_open(const std::string& path);
// Same, from bytes in memory (tests, fuzzing). `name` is used in messages.
result<embedding_table> embeddings_parse(const uint8_t* data, uint64_t size, const std::string& name);

}  // namespace gb
