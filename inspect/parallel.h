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

}  // namespace gb
