#include "cli/stop_signals.hpp"

#include <pthread.h>

namespace maestro::cli {

StopOnSignals::StopOnSignals(std::function<void()> on_signal) : on_signal_(std::move(on_signal)) {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  watcher_ = std::thread([this] {
    int received = 0;
    sigwait(&signals_, &received);
    if (finishing_) return;
    requested_ = true;
    if (on_signal_) on_signal_();
  });
}

StopOnSignals::~StopOnSignals() {
  finishing_ = true;
  if (!requested_) ::pthread_kill(watcher_.native_handle(), SIGTERM);  // ends the watcher's sigwait
  watcher_.join();
}

}  // namespace maestro::cli
