// SIGINT (Ctrl-C) and SIGTERM for a command that runs until done or told to stop (load, calibrate, demo
// --live): blocked in every thread and received by one watcher thread, which sets requested() and calls
// `on_signal`. Construct it before starting any thread, so that they inherit the blocked mask. The
// destructor ends the watcher if no signal came.
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace maestro::cli {

class StopOnSignals {
 public:
  explicit StopOnSignals(std::function<void()> on_signal = nullptr);
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

  // True once SIGINT or SIGTERM has arrived.
  const std::atomic<bool>& requested() const { return requested_; }

 private:
  sigset_t signals_{};
  std::atomic<bool> requested_{false};
  std::atomic<bool> finishing_{false};  // the destructor's own wake-up is not a request to stop
  std::function<void()> on_signal_;
  std::thread watcher_;
};

}  // namespace maestro::cli
