// cli/wait_policy.h: how the OpenMP thread team waits at a barrier, chosen once per run from the machine's
// other runnable work (inspect/parallel.h wait_spin_ok): on free cores it spins briefly before sleeping
// (GOMP_SPINCOUNT=10000: a token of generation is ~85 short parallel regions, and a futex wake-up at each
// cost a quarter of 2-thread tg), on cores shared with other busy processes it sleeps at once
// (OMP_WAIT_POLICY=PASSIVE), so the run keeps its fair share instead of burning it spinning.
// libgomp reads both variables once, when it is loaded (before main), so the choice is made by re-executing
// the binary once with the variable set, unless the user set OMP_WAIT_POLICY or GOMP_SPINCOUNT.
// Measured (2 cores, 134M q4_0, tg128, 2 threads): idle, passive 185-193 tok/s vs 250-261 spinning 10000;
// with two competing `yes` a BBQ run (30 items, 4-layer 384-wide model) took 1.29-2.12 s passive vs
// 1.80-2.06 s spinning 10000 and 1.76-3.91 s with libgomp's default 300000 (the reason for passive there).
//
//   int main(int argc, char** argv) { gb::cli::choose_wait_policy(argv); ... }
#pragma once

namespace gb::cli {

// Returns when the policy is already chosen; otherwise execv's /proc/self/exe with the variable set (and
// returns only if that fails, leaving the default policy).
void choose_wait_policy(char** argv);

}  // namespace gb::cli
