#include "kube/watch.hpp"

#include <fmt/format.h>

#include <chrono>
#include <optional>

#include "base/json_fields.hpp"

namespace maestro::kube {

namespace {

using nlohmann::json;

KubeError bad_watch(std::string message) {
  return KubeError{{std::move(message)}, KubeErrorKind::kBadResponse, 0, ""};
}

}  // namespace

KubeResult<void> WatchDecoder::feed(std::string_view piece, const std::function<void(WatchEvent)>& on_event) {
  while (!piece.empty()) {
    const auto newline = piece.find('\n');
    const auto take = newline == std::string_view::npos ? piece.size() : newline;
    if (pending_.size() + take > max_line_)
      return std::unexpected(bad_watch(fmt::format("watch: an event longer than {} bytes", max_line_)));
    pending_.append(piece.substr(0, take));
    if (newline == std::string_view::npos) break;
    piece.remove_prefix(newline + 1);
    const std::string line = std::move(pending_);
    pending_.clear();
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json event = json::parse(line, nullptr, false);
    const std::string type = base::json_string(event, "type");
    if (type.empty() || !event.contains("object") || !event["object"].is_object())
      return std::unexpected(bad_watch("watch: malformed event: not {\"type\", \"object\"}"));
    on_event(WatchEvent{type, std::move(event["object"])});
  }
  return {};
}

KubeResult<std::string> watch_objects(KubeClient& kube, const ResourceType& type, const std::string& ns,
                                      const WatchOptions& options,
                                      const std::function<void(const WatchEvent&)>& on_event) {
  const std::string what =
      fmt::format("watch {}.{} in {}", type.resource, type.group, ns.empty() ? "all namespaces" : ns);
  std::string resource_version = options.resource_version;
  std::optional<KubeError> failed;  // an ERROR event or an undecodable stream
  WatchDecoder decoder;
  net::Request request;
  request.method = "GET";
  request.path = fmt::format("{}?watch=true&allowWatchBookmarks=true&timeoutSeconds={}",
                             collection_path(type, ns), options.timeout_seconds);
  if (!resource_version.empty()) request.path += "&resourceVersion=" + net::url_encode(resource_version);
  request.total_timeout = std::chrono::seconds(options.timeout_seconds + 10);
  request.keep_going = options.keep_going;
  request.on_body = [&](std::string_view piece) {
    auto fed = decoder.feed(piece, [&](WatchEvent event) {
      if (failed) return;
      if (event.type == "ERROR") {
        // A Status object, as an error answer's body would be.
        const auto code = base::json_integer(event.object, "code").value_or(500);
        failed = error_from_response(net::Response{code, {}, event.object.dump()}, what);
        return;
      }
      const std::string version =
          base::json_string(base::json_object(event.object, "metadata"), "resourceVersion");
      if (!version.empty()) resource_version = version;
      if (event.type != "BOOKMARK") on_event(event);
    });
    if (!fed) failed = fed.error();
    return !failed;
  };
  auto response = kube.http().send(request);
  if (failed) return std::unexpected(*failed);
  if (!response) {
    // Ended by keep_going: a stop asked for, not a failure.
    if (options.keep_going && !options.keep_going()) return resource_version;
    return std::unexpected(transport_error(response.error(), what));
  }
  if (response->status < 200 || response->status >= 300)
    return std::unexpected(error_from_response(*response, what));
  return resource_version;
}

}  // namespace maestro::kube
