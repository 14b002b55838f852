#include "services/model_server/file_watcher.hpp"

#include <sys/stat.h>

namespace maestro::model_server {

FileWatcher::FileWatcher(std::filesystem::path file, std::optional<std::chrono::milliseconds> interval,
                         std::function<void()> on_change)
    : file_(std::move(file)), interval_(interval), on_change_(std::move(on_change)), seen_(identify(file_)) {
  // The baseline is taken here, not on the thread: a change right after construction is not missed.
  thread_ = std::thread([this] { watch(); });
}

FileWatcher::~FileWatcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

FileWatcher::Identity FileWatcher::identify(const std::filesystem::path& file) {
  struct stat status {};
  if (::stat(file.c_str(), &status) != 0) return {};
  return Identity{true, static_cast<unsigned long>(status.st_ino), static_cast<long long>(status.st_size),
                  static_cast<long long>(status.st_mtim.tv_sec) * 1'000'000'000 + status.st_mtim.tv_nsec};
}

void FileWatcher::poke() {
  {
    std::lock_guard lock(mutex_);
    poked_ = true;
  }
  wake_.notify_all();
}

void FileWatcher::watch() {
  std::unique_lock lock(mutex_);
  const auto woken = [this] { return stopping_ || poked_; };
  while (true) {
    if (interval_)
      wake_.wait_for(lock, *interval_, woken);
    else
      wake_.wait(lock, woken);
    if (stopping_) return;
    const Identity now = identify(file_);
    // A file that disappeared is not a new policy: keep serving until one appears.
    const bool changed = now != seen_ && now.exists;
    if (!changed && !poked_) continue;
    poked_ = false;
    seen_ = now;
    lock.unlock();
    on_change_();
    lock.lock();
  }
}

}  // namespace maestro::model_server
