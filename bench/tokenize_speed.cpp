// bench_tokenize_speed: CPU seconds glassbox's tokenizer takes to encode one text file with each vocabulary
// GGUF named (the llama.cpp vocabularies), best of RUNS encodes. bench/bench_tokenize.sh prints these beside
// llama.cpp's own tokenizer on the same text (bench/peer_llamacpp_tokenize.mjs) as ratios.
//
//   bench_tokenize_speed TEXT_FILE RUNS VOCAB.gguf...
// Prints one line per vocabulary: "<file> <bytes> <tokens> <best CPU s>".
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>

#include "formats/archive.h"
#include "probes/engine/tokenizer.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_tokenize_speed TEXT_FILE RUNS VOCAB.gguf...\n");
    return 2;
  }
  std::ifstream f(argv[1], std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const int runs = std::max(1, std::atoi(argv[2]));
  for (int i = 3; i < argc; ++i) {
    auto a = gb::archive_open(argv[i]);
    if (!a.ok() || !a.value().tokenizer) {
      std::fprintf(stderr, "bench_tokenize_speed: %s: no tokenizer\n", argv[i]);
      return 3;
    }
    auto tk = gb::engine::tokenizer::create(*a.value().tokenizer);
    if (!tk.ok()) return 3;
    double best = 1e30;
    size_t tokens = 0;
    for (int r = 0; r < runs; ++r) {
      const std::clock_t c0 = std::clock();
      tokens = tk.value().encode(text, false).size();
      best = std::min(best, static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
    }
    std::printf("%s %zu %zu %.4f\n", argv[i], text.size(), tokens, best);
  }
  return 0;
}
