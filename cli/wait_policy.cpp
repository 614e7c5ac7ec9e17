// The passive OpenMP wait policy by one re-exec (cli/wait_policy.h).
#include "cli/wait_policy.h"

#include <unistd.h>

#include <cstdlib>

namespace gb::cli {

void prefer_passive_wait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
  if (::setenv("OMP_WAIT_POLICY", "PASSIVE", 0) != 0) return;
  ::execv("/proc/self/exe", argv);  // only returns on failure: run on with libgomp's default
}

}  // namespace gb::cli
