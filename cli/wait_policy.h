// cli/wait_policy.h: the OpenMP thread team waits passively (sleeps at a barrier instead of spinning), so a
// run on a machine shared with other busy processes keeps its fair share instead of burning it spinning.
// libgomp reads OMP_WAIT_POLICY once, when it is loaded (before main), so the choice is made by re-executing
// the binary once with OMP_WAIT_POLICY=PASSIVE, unless the user set OMP_WAIT_POLICY or GOMP_SPINCOUNT.
// Measured (bench/README.md, 2 cores at load ~17): bbq on a 4-layer 384-wide model, 1.9 s passive vs 8.9 s
// with libgomp's default spinning, 7.6 s ACTIVE.
//
//   int main(int argc, char** argv) { gb::cli::prefer_passive_wait(argv); ... }
#pragma once

namespace gb::cli {

// Returns when the policy is already chosen; otherwise execv's /proc/self/exe with the variable set (and
// returns only if that fails, leaving the default policy).
void prefer_passive_wait(char** argv);

}  // namespace gb::cli
