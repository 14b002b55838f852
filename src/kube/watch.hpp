// Watching a collection, as client-go's reflector does: GET …?watch=true&resourceVersion=RV answers with a
// stream of JSON events, one per line — {"type": "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR",
// "object": {...}} — until the server ends the watch (timeoutSeconds, or whenever it chooses; the client
// then watches again from the last resourceVersion it saw). An ERROR event carries a v1 Status; 410 Gone
// (as an answer or as such an event) means the resourceVersion is too old, and the client must list again.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kube/custom_resources.hpp"

namespace maestro::kube {

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK or ERROR
  nlohmann::json object;
};

// Splits a watch stream into events. Pieces may end anywhere; a line is at most `max_line` bytes.
class WatchDecoder {
 public:
  explicit WatchDecoder(std::size_t max_line = 16 << 20) : max_line_(max_line) {}
  // Takes the next piece of the stream and calls `on_event` for each line it completes. An error
  // (kBadResponse): a line that is not an event object with a type and an object, or longer than max_line;
  // nothing after it is read.
  KubeResult<void> feed(std::string_view piece, const std::function<void(WatchEvent)>& on_event);

 private:
  std::string pending_;  // the line begun but not ended
  std::size_t max_line_;
};

struct WatchOptions {
  std::string resource_version;      // where to start (a list's); "" — now, after the objects as ADDED
  int timeout_seconds = 300;         // asked of the server; the request gives up 10 s after
  std::function<bool()> keep_going;  // false ends the watch early (asked about once a second)
};

// Watches `type` in `namespace_` ("" all namespaces) until the server ends the watch or keep_going says
// stop, calling `on_event` for each ADDED, MODIFIED and DELETED. Answers the resourceVersion to watch on
// from (the last event's or bookmark's; the one asked for if none came). kGone: the resourceVersion is too
// old — list again.
KubeResult<std::string> watch_objects(KubeClient& kube, const ResourceType& type,
                                      const std::string& namespace_, const WatchOptions& options,
                                      const std::function<void(const WatchEvent&)>& on_event);

}  // namespace maestro::kube
