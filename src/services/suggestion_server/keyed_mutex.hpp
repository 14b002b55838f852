// One mutex per key, created when first locked and dropped when its last holder or waiter is done, so that
// requests for the same deployment run one at a time (two callers never act on one stale observation, the
// original design's "reserve the deployment action") while other deployments go on in parallel.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace maestro::suggestion_server {

class KeyedMutex {
  struct Entry {
    std::mutex mutex;
    int users = 0;  // holders and waiters; guarded by the map's mutex
  };

 public:
  class Guard {
   public:
    Guard(KeyedMutex& owner, std::string key);
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    KeyedMutex& owner_;
    std::string key_;
    Entry* entry_;
  };

  Guard lock(std::string key) { return Guard(*this, std::move(key)); }
  // Keys locked or waited for now (for tests: entries do not pile up).
  std::size_t size() const;

 private:
  mutable std::mutex map_mutex_;
  std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;
};

}  // namespace maestro::suggestion_server
