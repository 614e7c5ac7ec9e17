// inspect/parallel.cpp: see parallel.h.
#include "inspect/parallel.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

namespace gb {

int threads_resolve(int threads) {
  return threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void parallel_for(size_t n, int threads, const std::function<void(size_t)>& f) {
  if (n == 0) return;
  const int nt = static_cast<int>(
      std::min<size_t>(n, static_cast<size_t>(std::max(1, threads > 0 ? threads : omp_get_max_threads()))));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::exception_ptr first;  // of the lowest failing index: the error the serial loop would have met
  size_t first_at = n;
  // Always inside a region (also for one thread): the nested budget of 1 is what keeps the bits equal.
#pragma omp parallel num_threads(nt)
  {
    omp_set_num_threads(1);  // this thread's own budget for nested regions (an ICV of its task only)
    for (size_t i = next.fetch_add(1); i < n && !failed.load(); i = next.fetch_add(1)) {
      try {
        f(i);
      } catch (...) {  // exceptions must not leave an OpenMP region
        std::lock_guard<std::mutex> lk(mu);
        if (i < first_at) first = std::current_exception(), first_at = i;
        failed = true;
      }
    }
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace gb
