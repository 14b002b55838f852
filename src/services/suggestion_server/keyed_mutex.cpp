#include "services/suggestion_server/keyed_mutex.hpp"

namespace maestro::suggestion_server {

KeyedMutex::Guard::Guard(KeyedMutex& owner, std::string key) : owner_(owner), key_(std::move(key)) {
  {
    std::lock_guard lock(owner_.map_mutex_);
    auto& entry = owner_.entries_[key_];
    if (!entry) entry = std::make_unique<Entry>();
    ++entry->users;
    entry_ = entry.get();
  }
  entry_->mutex.lock();
}

KeyedMutex::Guard::~Guard() {
  entry_->mutex.unlock();
  std::lock_guard lock(owner_.map_mutex_);
  if (--entry_->users == 0) owner_.entries_.erase(key_);
}

std::size_t KeyedMutex::size() const {
  std::lock_guard lock(map_mutex_);
  return entries_.size();
}

}  // namespace maestro::suggestion_server
