// The OpenMP wait policy by one re-exec (cli/wait_policy.h).
#include "cli/wait_policy.h"

#include <unistd.h>

#include <cstdlib>

#include "inspect/parallel.h"

namespace gb::cli {

void choose_wait_policy(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
  const bool spin = wait_spin_ok(run_queue_sample());
  if (::setenv(spin ? "GOMP_SPINCOUNT" : "OMP_WAIT_POLICY", spin ? wait_spin_count : "PASSIVE", 0) != 0)
    return;
  // the binary's real path, so the process keeps its name (ps, top, OOM reports) instead of "exe"
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0 || n >= static_cast<ssize_t>(sizeof self - 1)) return;
  self[n] = '\0';
  ::execv(self, argv);  // only returns on failure: run on with libgomp's default
}

}  // namespace gb::cli
