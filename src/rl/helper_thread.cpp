#include "rl/helper_thread.hpp"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace maestro::rl {

int free_cores() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  const int cores = sched_getaffinity(0, sizeof allowed, &allowed) == 0 ? CPU_COUNT(&allowed) : 1;
  double load = 0;
  if (getloadavg(&load, 1) != 1) load = 0;
  return std::clamp(cores - static_cast<int>(std::lround(load)), 1, cores);
}

namespace {
template <typename Ready>
void spin_until(Ready ready) {
  for (int i = 0; i < 2000 && !ready(); ++i) {
#if defined(__x86_64__)
    _mm_pause();
#endif
  }
}
}  // namespace

HelperThread::HelperThread() : thread_([this] { loop(); }) {}

HelperThread::~HelperThread() {
  stop_.store(true, std::memory_order_release);
  posted_.fetch_add(1, std::memory_order_acq_rel);
  posted_.notify_one();
  thread_.join();
}

void HelperThread::post(std::function<void()> job) {
  job_ = std::move(job);
  posted_.fetch_add(1, std::memory_order_acq_rel);
  posted_.notify_one();
}

void HelperThread::finish() {
  const std::uint64_t target = posted_.load(std::memory_order_acquire);
  if (claim(target)) {
    job_();
    finished_.store(target, std::memory_order_release);  // so that a second finish() returns at once
    return;
  }
  spin_until([&] { return finished_.load(std::memory_order_acquire) == target; });
  for (std::uint64_t done; (done = finished_.load(std::memory_order_acquire)) != target;)
    finished_.wait(done, std::memory_order_acquire);
}

bool HelperThread::claim(std::uint64_t job) {
  std::uint64_t previous = job - 1;
  return claimed_.compare_exchange_strong(previous, job, std::memory_order_acq_rel);
}

void HelperThread::loop() {
  std::uint64_t seen = 0;
  while (true) {
    spin_until([&] { return posted_.load(std::memory_order_acquire) != seen; });
    std::uint64_t now;
    while ((now = posted_.load(std::memory_order_acquire)) == seen)
      posted_.wait(seen, std::memory_order_acquire);
    seen = now;
    if (stop_.load(std::memory_order_acquire)) return;
    if (!claim(seen)) continue;
    job_();
    finished_.store(seen, std::memory_order_release);
    finished_.notify_one();
  }
}

}  // namespace maestro::rl
