// Test support: polls a condition until it holds or a deadline passes — the way tests wait, never with
// fixed sleeps — and its converse, that a condition keeps holding for a while.
#pragma once

#include <chrono>
#include <thread>

namespace maestro::testing {

// True as soon as `condition()` is; false if it still is not after `deadline`.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds deadline,
                std::chrono::milliseconds poll = std::chrono::milliseconds(20)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(poll);  // polling, with a deadline
  }
  return true;
}

// True if `condition()` holds at every poll for `period`; false at the first poll it does not.
template <typename Condition>
bool consistently(Condition condition, std::chrono::milliseconds period,
                  std::chrono::milliseconds poll = std::chrono::milliseconds(20)) {
  const auto until = std::chrono::steady_clock::now() + period;
  while (std::chrono::steady_clock::now() < until) {
    if (!condition()) return false;
    std::this_thread::sleep_for(poll);
  }
  return condition();
}

}  // namespace maestro::testing
