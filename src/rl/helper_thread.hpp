// A second thread for training's parallel work (the critic's half of each minibatch, the critic's values
// during a rollout), and how many cores are free for it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>

namespace maestro::rl {

// The cores this process may run on (its affinity mask) less those the rest of the machine keeps busy
// (the 1-minute load average, rounded); at least 1. A second training thread pays only on a free core: on
// a busy one each hand-over waits for the scheduler.
int free_cores();

// One helper thread that runs the job posted to it beside the poster's own work. It spins briefly before
// sleeping, since jobs come every few µs during an update. Whoever claims a posted job first runs it: when
// the helper has not started it by the time the poster needs the result (its core busy with another
// process), the poster runs it itself instead of waiting for the scheduler. The job is the same code on the
// same data either way, so the numbers do not depend on who ran it.
class HelperThread {
 public:
  HelperThread();
  ~HelperThread();  // a job already started runs to its end first
  HelperThread(const HelperThread&) = delete;
  HelperThread& operator=(const HelperThread&) = delete;

  // Hands `job` to the helper. One job at a time: finish() the last one first. Small captures (≤ 16 bytes)
  // keep this free of allocation.
  void post(std::function<void()> job);
  // Returns when the last posted job has run, there or here (at once when none is outstanding).
  void finish();

 private:
  bool claim(std::uint64_t job);
  void loop();

  std::function<void()> job_;
  std::atomic<std::uint64_t> posted_{0}, claimed_{0}, finished_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace maestro::rl
