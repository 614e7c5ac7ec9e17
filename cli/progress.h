// cli/progress.h: the step counter a long command shows on a terminal's stderr ("[3/8] hashing the
// tensors"), rewritten in place; silent when stderr is not a terminal (logs, pipes, --json runs in CI).
//
//   gb::cli::progress prog;   // prog.total = 7 when a step is skipped
//   prog.say("reading the model");
//   prog.done();              // clears the line
#pragma once

#include <unistd.h>

#include <cstdio>
#include <string>

namespace gb::cli {

struct progress {
  bool on = ::isatty(2);
  int step = 0, total = 8;
  void say(const std::string& what) {
    ++step;
    if (on) std::fprintf(stderr, "\r\033[K[%d/%d] %s", step, total, what.c_str());
    if (on && step == total) std::fprintf(stderr, "\n");
  }
  void done() {
    if (on) std::fprintf(stderr, "\r\033[K");
  }
};

}  // namespace gb::cli
