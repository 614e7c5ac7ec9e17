// gb::parallel_for (inspect/parallel.h): every index once, any thread count, the serial loop's error, and a
// nested OpenMP budget of one thread.
#include <doctest/doctest.h>
#include <omp.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "formats/error.h"
#include "inspect/parallel.h"

TEST_CASE("parallel_for runs every index exactly once, for any thread count") {
  for (int threads : {0, 1, 2, 3, 64}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{1000}}) {
      std::vector<std::atomic<int>> hits(n);
      gb::parallel_for(n, threads, [&](size_t i) { hits[i]++; });
      for (size_t i = 0; i < n; ++i) CHECK(hits[i].load() == 1);
    }
  }
}

TEST_CASE("parallel_for: nested OpenMP code sees a budget of one thread (Eigen stays serial)") {
  std::vector<int> budget(16, -1), team(16, -1);
  gb::parallel_for(16, 2, [&](size_t i) {
    budget[i] = omp_get_max_threads();
#pragma omp parallel
    {
#pragma omp single
      team[i] = omp_get_num_threads();
    }
  });
  for (size_t i = 0; i < 16; ++i) {
    CHECK(budget[i] == 1);
    CHECK(team[i] == 1);
  }
  CHECK(omp_get_max_threads() >= 1);  // the caller's own budget is untouched
}

TEST_CASE("parallel_for rethrows the error of the lowest failing index, as a serial loop would") {
  for (int threads : {1, 2, 4}) {
    INFO(threads);
    try {
      gb::parallel_for(100, threads, [&](size_t i) {
        if (i == 40 || i == 41 || i == 90) gb::fail(gb::errc::bad_value, i, "item " + std::to_string(i));
      });
      FAIL("no exception");
    } catch (const gb::failure& f) {
      CHECK(f.err().message == "item 40");
    }
  }
  CHECK_THROWS_AS(gb::parallel_for(3, 2, [](size_t) { throw std::runtime_error("x"); }), std::runtime_error);
}

TEST_CASE("wait_spin_ok: spin only when other runnable work leaves the cores free") {
  CHECK(gb::wait_spin_ok({0, 1}));
  CHECK(gb::wait_spin_ok({0, 2}));
  CHECK_FALSE(gb::wait_spin_ok({1, 2}));  // one other busy process on 2 cores: sleep at once
  CHECK_FALSE(gb::wait_spin_ok({2, 2}));
  CHECK(gb::wait_spin_ok({16, 64}));
  CHECK_FALSE(gb::wait_spin_ok({17, 64}));
  CHECK_FALSE(gb::wait_spin_ok({1, 1}));
}

TEST_CASE("run_queue_sample: this process's CPUs, and the other runnable tasks it sees") {
  const gb::run_queue idle = gb::run_queue_sample();
  CHECK(idle.cpus >= 1);
  CHECK(idle.others >= 0);
  // Busy threads of this very process are runnable tasks too: with 3 spinning for the whole sample, the
  // median of the samples counts at least 2 of them (one may be off its CPU for an instant).
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  for (int i = 0; i < 3; ++i)
    busy.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const gb::run_queue loaded = gb::run_queue_sample();
  stop = true;
  for (auto& t : busy) t.join();
  CHECK(loaded.others >= 2);
  CHECK_FALSE(gb::wait_spin_ok(loaded));
}
