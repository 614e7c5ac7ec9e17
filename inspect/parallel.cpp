// inspect/parallel.cpp: see parallel.h.
#include "inspect/parallel.h"

#include <omp.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <fstream>
#include <mutex>
#include <string>
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

namespace {

int procs_running() {  // /proc/stat's count of runnable tasks (this one included), -1 when unreadable
  std::ifstream f("/proc/stat");
  std::string key;
  long long v = 0;
  while (f >> key) {
    if (key == "procs_running" && f >> v) return static_cast<int>(v);
    f.ignore(1 << 20, '\n');
  }
  return -1;
}

}  // namespace

run_queue run_queue_sample() {
  run_queue q;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) q.cpus = std::max(1, CPU_COUNT(&set));
  int s[5];  // (samples)
  for (int& v : s) {
    v = std::max(0, procs_running() - 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::nth_element(s, s + 2, s + 5);
  q.others = s[2];
  return q;
}

bool wait_spin_ok(const run_queue& q) {
  return q.others * 4 <= q.cpus && q.others < q.cpus;
}

}  // namespace gb
