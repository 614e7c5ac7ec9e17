// viz/report_weat.h: `glassbox weat` rendered from its results (probes/weat.h): one line per test (effect
// size, 95% interval, p-value, set sizes) after a line naming the vectors, or the --json document. Renders
// only.
//
//   std::fputs(gb::viz::weat_text(results, source_line).c_str(), stdout);
//   print(gb::viz::weat_json(results, {path, table.format, table.size(), table.dim}, seed));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "probes/weat.h"

namespace gb::viz {

// What the words were looked up in.
struct weat_vectors {
  std::string path, format;  // format: "glove-text", ..., or "model"
  size_t words = 0;
  int64_t dim = 0;
  bool is_model = false;
};

std::string weat_text(const std::vector<probes::weat_result>& results, const weat_vectors& v);
// {embeddings, definition, seed, tests: [{test, X, Y, A, B, n, effect_size, p_value, ...}]}
std::string weat_json(const std::vector<probes::weat_result>& results, const weat_vectors& v, uint64_t seed);

}  // namespace gb::viz
