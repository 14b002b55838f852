// Fault injection for the Kubernetes API test double: a test tells the API to answer the next N matching
// requests (or every one until cleared) with 409, 404, 403, 410, 500, or to hang — as a real API server does
// under contention, deletion, missing RBAC, compaction, overload or a stuck backend.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "local/kube_path.hpp"
#include "local/kube_status.hpp"

namespace maestro::local {

enum class KubeFault { kConflict, kNotFound, kForbidden, kGone, kServerError, kHang };

struct FaultRule {
  KubeFault fault = KubeFault::kServerError;
  std::optional<int> count;   // the next N matching requests; none: until cleared
  std::string method;         // "" any, else "GET", "PATCH", "POST"
  std::string path_contains;  // "" any, e.g. "/scale" or "/events"

  // The next `count` requests matching `method` and `path_contains`.
  static FaultRule next(int count, KubeFault fault, std::string method = "", std::string path_contains = "");
  // Every matching request until clear_faults().
  static FaultRule until_cleared(KubeFault fault, std::string method = "", std::string path_contains = "");
};

class FaultInjector {
 public:
  void inject(FaultRule rule);
  // Drops every rule and releases hanging requests.
  void clear();
  // Releases hanging requests for good (the server is stopping); start() undoes it.
  void stop();
  void start();

  // The injected answer for this request, if a rule matches (the first one that does); a hang returns
  // 504 once the faults are cleared or the server stops.
  std::optional<KubeResponse> apply(const KubeRequest& request, const KubePath& path);

 private:
  static constexpr auto kMaxHang = std::chrono::seconds(60);
  std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t epoch_ = 0;  // bumped by clear() and stop() to release hanging requests
  bool stopping_ = false;
  std::vector<FaultRule> rules_;
};

}  // namespace maestro::local
