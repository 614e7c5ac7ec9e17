// The passive OpenMP wait policy by one re-exec (cli/wait_policy.h).
#include "cli/wait_policy.h"

#include <unistd.h>

#include <cstdlib>

namespace gb::cli {

void prefer_passive_wait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
  if (::setenv("OMP_WAIT_POLICY", "PASSIVE", 0) != 0) return;
  // the binary's real path, so the process keeps its name (ps, top, OOM reports) instead of "exe"
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0 || n >= static_cast<ssize_t>(sizeof self - 1)) return;
  self[n] = '\0';
  ::execv(self, argv);  // only returns on failure: run on with libgomp's default
}

}  // namespace gb::cli
