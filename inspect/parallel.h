// inspect/parallel.h: one parallel loop for the per-item work of spectral, inspect, scan and weat: f(i) for
// every i in [0, n) on up to `threads` OpenMP threads (0 = all cores), items taken in order by whichever
// thread is free. Each f writes only its own slot, so the result does not depend on the thread count. Inside
// the loop OpenMP's thread budget is 1, so nested parallel code (Eigen's products) runs serially: the same
// bits for --threads 1 and --threads 8. After a failure no new item starts; the exception of the lowest
// failing index (the one a serial loop would meet: items start in order) is rethrown after the loop.
//
//   std::vector<spectral_metrics> out(items.size());                 // (items)
//   gb::parallel_for(items.size(), opt.threads, [&](size_t i) { out[i] = metrics_of(items[i]); });
#pragma once

#include <cstddef>
#include <functional>

namespace gb {

void parallel_for(size_t n, int threads, const std::function<void(size_t)>& f);
// A --threads value made concrete: itself when > 0, else every hardware thread (at least 1).
int threads_resolve(int threads);

// How an OpenMP team waits between parallel regions, chosen once at start-up (cli/wait_policy.h). A token
// of generation is ~85 short regions: sleeping at each barrier (OMP_WAIT_POLICY=PASSIVE) costs a futex
// wake-up per region, spinning costs the cores other processes need. So: spin briefly
// (GOMP_SPINCOUNT=wait_spin_count, then sleep) when the other runnable tasks leave the cores free, and
// sleep at once when they do not.
//
//   const gb::run_queue q = gb::run_queue_sample();
//   setenv(gb::wait_spin_ok(q) ? "GOMP_SPINCOUNT" : "OMP_WAIT_POLICY", ..., 0);
inline constexpr const char* wait_spin_count = "10000";
struct run_queue {
  int others = 0;  // runnable tasks besides this process (/proc/stat procs_running less one)
  int cpus = 1;    // CPUs this process may run on
};
// The median of 5 samples 1 ms apart (a shell or a short helper that is runnable for an instant does not
// count); others = 0 when /proc/stat cannot be read.
run_queue run_queue_sample();
// Spin when at most a quarter of the CPUs are busy with other work (on 2 cores: none).
bool wait_spin_ok(const run_queue& q);

}  // namespace gb
