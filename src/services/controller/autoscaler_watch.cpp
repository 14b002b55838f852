#include "services/controller/autoscaler_watch.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/json_fields.hpp"
#include "kube/custom_resources.hpp"

namespace maestro::controller {

namespace {

constexpr int kWatchSeconds = 300;  // asked of the server; it may end a watch sooner
constexpr std::chrono::milliseconds kFirstBackoff{1000}, kLongestBackoff{30000};

std::string key_of(const nlohmann::json& object) {
  const auto& metadata = base::json_object(object, "metadata");
  return base::json_string(metadata, "namespace") + "/" + base::json_string(metadata, "name");
}

std::int64_t generation_of(const nlohmann::json& object) {
  return base::json_integer(base::json_object(object, "metadata"), "generation").value_or(0);
}

}  // namespace

AutoscalerWatch::AutoscalerWatch(kube::KubeClient& kube, std::string namespace_,
                                 std::function<void()> changed)
    : kube_(kube), namespace_(std::move(namespace_)), changed_(std::move(changed)) {
  thread_ = std::thread([this] { loop(); });
}

AutoscalerWatch::~AutoscalerWatch() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_requested_.notify_all();
  thread_.join();
}

std::uint64_t AutoscalerWatch::watches() const {
  std::lock_guard lock(mutex_);
  return watches_;
}

std::uint64_t AutoscalerWatch::lists() const {
  std::lock_guard lock(mutex_);
  return lists_;
}

bool AutoscalerWatch::pause(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !stop_requested_.wait_for(lock, delay, [this] { return stopping_; });
}

bool AutoscalerWatch::relevant(const kube::WatchEvent& event) {
  const std::string key = key_of(event.object);
  if (event.type == "DELETED") {
    generations_.erase(key);
    return true;
  }
  const auto generation = generation_of(event.object);
  const auto known = generations_.find(key);
  const bool changed = known == generations_.end() || known->second != generation;
  generations_[key] = generation;
  return changed;
}

void AutoscalerWatch::loop() {
  const auto keep_going = [this] {
    std::lock_guard lock(mutex_);
    return !stopping_;
  };
  auto backoff = kFirstBackoff;
  std::string resource_version;  // "" — list first
  while (keep_going()) {
    if (resource_version.empty()) {
      auto listed = kube::list_objects(kube_, kube::kMaestroAutoscalers, namespace_);
      {
        std::lock_guard lock(mutex_);
        ++lists_;
      }
      if (!listed) {
        spdlog::warn("autoscalers watch: list failed namespace={} error=\"{}\"", namespace_,
                     listed.error().message);
        if (!pause(backoff)) return;
        backoff = std::min(backoff * 2, kLongestBackoff);
        continue;
      }
      generations_.clear();
      for (const auto& object : listed->items) generations_[key_of(object)] = generation_of(object);
      resource_version = listed->resource_version;
      changed_();  // what changed before the list is in it: one sync from here misses nothing
    }
    {
      std::lock_guard lock(mutex_);
      ++watches_;
    }
    kube::WatchOptions options{resource_version, kWatchSeconds, keep_going};
    const auto started = std::chrono::steady_clock::now();
    auto watched = kube::watch_objects(kube_, kube::kMaestroAutoscalers, namespace_, options,
                                       [this](const kube::WatchEvent& event) {
                                         if (relevant(event)) changed_();
                                       });
    if (watched) {
      // A server that ends every watch at once, with nothing new, is not asked again in a tight loop.
      if (*watched == resource_version && std::chrono::steady_clock::now() - started < kFirstBackoff &&
          !pause(kFirstBackoff))
        return;
      resource_version = *watched;
      backoff = kFirstBackoff;
      continue;
    }
    if (watched.error().kind != kube::KubeErrorKind::kGone) {
      spdlog::warn("autoscalers watch: failed namespace={} error=\"{}\"", namespace_,
                   watched.error().message);
      if (!pause(backoff)) return;
      backoff = std::min(backoff * 2, kLongestBackoff);
    }
    resource_version.clear();  // gone, or unsure where it stands: list again
  }
}

}  // namespace maestro::controller
