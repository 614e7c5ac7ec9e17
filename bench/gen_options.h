// bench/gen_options.h: the `--name N` options of the bench generators (bench_gen_f32_model,
// bench_gen_sharded_safetensors), read into whole numbers; an unknown name, a missing value or a value that
// is not a whole number is one line on stderr.
//
//   long layers = 8, dim = 1024;
//   if (!gen_options_parse(argc, argv, 2, {{"--layers", &layers}, {"--dim", &dim}})) return 2;
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <utility>

// Reads argv[first..] as `--name N` pairs into the long each name points to; false after one line on stderr.
inline bool gen_options_parse(int argc, char** argv, int first,
                              std::initializer_list<std::pair<const char*, long*>> options) {
  for (int i = first; i < argc; i += 2) {
    long* into = nullptr;
    for (const auto& [name, p] : options)
      if (std::strcmp(argv[i], name) == 0) into = p;
    if (!into || i + 1 >= argc) {
      std::fprintf(stderr, "%s: %s: %s (see the usage line at the top of its source)\n", argv[0], argv[i],
                   into ? "needs a value" : "unknown option");
      return false;
    }
    char* end = nullptr;
    const long v = std::strtol(argv[i + 1], &end, 10);
    if (end == argv[i + 1] || *end != '\0') {
      std::fprintf(stderr, "%s: %s %s: not a whole number\n", argv[0], argv[i], argv[i + 1]);
      return false;
    }
    *into = v;
  }
  return true;
}
