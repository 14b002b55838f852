// Concurrent requests for the same key share one piece of work: the first starts it (on a thread of its own),
// later ones wait for its value instead of queueing work of their own (one Prometheus round serves every
// waiter of a deployment), and work for one key never runs twice at once (two callers never act on one stale
// observation, the original design's "reserve the deployment action"), while other keys go on in parallel.
// Every caller, the first included, waits only until its own deadline; the work may stop once the latest of
// them has passed (nobody is left to answer). Entries are dropped when their work ends.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace maestro::suggestion_server {

using Deadline = std::chrono::steady_clock::time_point;

template <typename Value>
class Coalescer {
 public:
  // What the work sees of its waiters.
  class Flight {
   public:
    // The latest deadline of everyone waiting (it moves later when someone joins).
    Deadline deadline() const {
      std::lock_guard lock(mutex_);
      return deadline_;
    }
    // True once every waiter's deadline has passed: the rest of the work would be answered to nobody.
    bool abandoned() const { return std::chrono::steady_clock::now() > deadline(); }

   private:
    friend class Coalescer;
    mutable std::mutex mutex_;
    std::condition_variable done_;
    std::optional<Value> value_;
    Deadline deadline_{};
  };

  struct Outcome {
    std::optional<Value> value;  // none: the deadline passed first
    bool joined = false;         // served by work another request started
  };

  Coalescer() = default;
  Coalescer(const Coalescer&) = delete;
  Coalescer& operator=(const Coalescer&) = delete;
  ~Coalescer() { drain(); }

  // The value of `work(flight)` for `key`: started on a thread of its own unless work for `key` is running
  // already, in which case this waits for that. Waits at most until `deadline`; the work goes on after it
  // (it may check flight.abandoned()), so `work` must own what it uses or outlive drain().
  Outcome run(const std::string& key, Deadline deadline, std::function<Value(const Flight&)> work) {
    std::shared_ptr<Flight> flight;
    bool leads = false;
    {
      std::lock_guard lock(mutex_);
      auto& entry = flights_[key];
      if (!entry) {
        entry = std::make_shared<Flight>();
        leads = true;
      }
      flight = entry;
      std::lock_guard flight_lock(flight->mutex_);
      flight->deadline_ = std::max(flight->deadline_, deadline);
    }
    if (leads) {
      {
        std::lock_guard lock(mutex_);
        ++running_;
      }
      std::thread([this, key, flight, work = std::move(work)] {
        Value value = work(*flight);
        {
          std::lock_guard lock(mutex_);
          flights_.erase(key);  // before the value is seen: a request after it starts afresh
        }
        {
          std::lock_guard lock(flight->mutex_);
          flight->value_ = std::move(value);
        }
        flight->done_.notify_all();
        std::lock_guard lock(mutex_);
        --running_;
        finished_.notify_all();
      }).detach();
    }
    std::unique_lock lock(flight->mutex_);
    if (!flight->done_.wait_until(lock, deadline, [&] { return flight->value_.has_value(); })) return {};
    return {*flight->value_, !leads};
  }

  // Waits until no work is running (before what the work uses is destroyed).
  void drain() {
    std::unique_lock lock(mutex_);
    finished_.wait(lock, [this] { return running_ == 0; });
  }

  // Keys with work running now (for tests: entries do not pile up).
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return flights_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable finished_;
  std::map<std::string, std::shared_ptr<Flight>> flights_;
  int running_ = 0;  // work threads not yet finished
};

}  // namespace maestro::suggestion_server
