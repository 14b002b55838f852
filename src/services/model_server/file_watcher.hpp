// Notices when a file changes on disk — rewritten in place or replaced by a rename, as configuration tools
// and `kubectl cp` do — by polling its identity (inode, size, modification time) on a thread of its own;
// poke() asks for the same callback at once (SIGHUP).
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace maestro::model_server {

class FileWatcher {
 public:
  // Calls `on_change` (on the watcher's thread) each time `file` differs from when last seen (checked every
  // `interval`; never without one) and after each poke().
  FileWatcher(std::filesystem::path file, std::optional<std::chrono::milliseconds> interval,
              std::function<void()> on_change);
  ~FileWatcher();
  FileWatcher(const FileWatcher&) = delete;
  void poke();
  FileWatcher& operator=(const FileWatcher&) = delete;

 private:
  struct Identity {
    bool exists = false;
    unsigned long inode = 0;
    long long size = 0;
    long long modified_ns = 0;
    bool operator==(const Identity&) const = default;
  };
  static Identity identify(const std::filesystem::path& file);
  void watch();

  std::filesystem::path file_;
  std::optional<std::chrono::milliseconds> interval_;
  std::function<void()> on_change_;
  Identity seen_;  // the file as last seen; only the watcher's thread changes it
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool poked_ = false;
  std::thread thread_;
};

}  // namespace maestro::model_server
