// Watches MaestroAutoscalers so that the controller acts on a created, edited or deleted resource within a
// second or two instead of at its next list (autoscalers.refresh, which stays as the periodic resync, as an
// informer's). As client-go's reflector: list for a resourceVersion, watch from it, watch again from the
// last one seen whenever the server ends the watch, list again on 410 Gone; on other errors, retry after a
// backoff (1 s doubling to 30 s). A change is an object added or deleted, or modified with a new
// metadata.generation — not the controller's own status writes, which would otherwise wake it every interval.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "kube/client.hpp"
#include "kube/watch.hpp"

namespace maestro::controller {

class AutoscalerWatch {
 public:
  // Starts watching at once, on a thread of its own; `changed` is called on that thread. `kube` must outlive
  // the watch.
  AutoscalerWatch(kube::KubeClient& kube, std::string namespace_, std::function<void()> changed);
  ~AutoscalerWatch();  // stops within about a second
  AutoscalerWatch(const AutoscalerWatch&) = delete;
  AutoscalerWatch& operator=(const AutoscalerWatch&) = delete;

  // Watches (re)started and lists made so far (for tests and logs).
  std::uint64_t watches() const;
  std::uint64_t lists() const;

 private:
  void loop();
  // Whether `event` changes what the controller should do; keeps the generations up to date.
  bool relevant(const kube::WatchEvent& event);
  // Sleeps `delay` unless stopped first; false if stopped.
  bool pause(std::chrono::milliseconds delay);

  kube::KubeClient& kube_;
  std::string namespace_;
  std::function<void()> changed_;
  std::map<std::string, std::int64_t> generations_;  // "namespace/name" → metadata.generation, as last seen
  mutable std::mutex mutex_;
  std::condition_variable stop_requested_;
  bool stopping_ = false;
  std::uint64_t watches_ = 0, lists_ = 0;
  std::thread thread_;
};

}  // namespace maestro::controller
