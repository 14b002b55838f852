#include "local/kube_faults.hpp"

#include <fmt/format.h>

namespace maestro::local {

using nlohmann::json;

FaultRule FaultRule::next(int count, KubeFault fault, std::string method, std::string path_contains) {
  return FaultRule{fault, count, std::move(method), std::move(path_contains)};
}

FaultRule FaultRule::until_cleared(KubeFault fault, std::string method, std::string path_contains) {
  return FaultRule{fault, std::nullopt, std::move(method), std::move(path_contains)};
}

void FaultInjector::inject(FaultRule rule) {
  std::lock_guard lock(mutex_);
  rules_.push_back(std::move(rule));
}

void FaultInjector::clear() {
  {
    std::lock_guard lock(mutex_);
    rules_.clear();
    ++epoch_;
  }
  changed_.notify_all();
}

void FaultInjector::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    ++epoch_;
  }
  changed_.notify_all();
}

void FaultInjector::start() {
  std::lock_guard lock(mutex_);
  stopping_ = false;
}

namespace {

KubeResponse forbidden(const KubeRequest& request, const KubePath& path) {
  const bool events = path.resource == "events";
  const std::string verb = request.method == "PATCH"  ? "patch"
                           : request.method == "POST" ? "create"
                           : request.method == "PUT"  ? "update"
                           : path.name.empty()        ? "list"
                                                      : "get";
  const std::string what = events ? "events" : fmt::format("deployments.apps \"{}\"", path.name);
  const std::string full = events                     ? "events"
                           : path.subresource.empty() ? "deployments"
                                                      : "deployments/" + path.subresource;
  return status_response(
      403, "Forbidden",
      fmt::format("{} is forbidden: User \"system:serviceaccount:maestro:maestro-controller\" cannot {} "
                  "resource \"{}\" in API group \"{}\" in the namespace \"{}\"",
                  what, verb, full, events ? "" : "apps", path.namespace_),
      events ? json{{"kind", "events"}} : deployment_details(path.name));
}

}  // namespace

std::optional<KubeResponse> FaultInjector::apply(const KubeRequest& request, const KubePath& path) {
  std::unique_lock lock(mutex_);
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    if (!it->method.empty() && it->method != request.method) continue;
    if (!it->path_contains.empty() && request.path.find(it->path_contains) == std::string::npos) continue;
    const KubeFault fault = it->fault;
    if (it->count && --*it->count <= 0) rules_.erase(it);
    switch (fault) {
      case KubeFault::kConflict:
        return deployment_conflict(path.name);
      case KubeFault::kNotFound:
        return deployment_not_found(path.name);
      case KubeFault::kForbidden:
        return forbidden(request, path);
      case KubeFault::kGone:
        return status_response(
            410, "Expired",
            "The provided continue parameter is too old to display a consistent list result. "
            "You can start a new list without the continue parameter.");
      case KubeFault::kServerError:
        return status_response(500, "InternalError", "Internal error occurred: injected fault",
                               {{"causes", json::array({{{"message", "injected fault"}}})}});
      case KubeFault::kHang: {
        // Hold the request until the faults are cleared or the server stops, then answer as an API server
        // whose backend timed out — without acting on it.
        const auto epoch = epoch_;
        changed_.wait_for(lock, kMaxHang, [&] { return epoch_ != epoch || stopping_; });
        return status_response(504, "Timeout",
                               "Timeout: request did not complete within the allowed duration");
      }
    }
  }
  return std::nullopt;
}

}  // namespace maestro::local
