// Asks the suggestion server what to do with one deployment (GET /suggest?deployment=&namespace=, DESIGN §2)
// and accepts only a well-formed answer: a 200 with a JSON object whose "action" is 0, 1 or 2. Anything else
// is a failure with a cause, so that the controller holds instead of acting on it.
#pragma once

#include <string>

#include "core/action.hpp"
#include "net/http_client.hpp"

namespace maestro::controller {

struct Suggestion {
  core::Action action = core::Action::kHold;
};

struct SuggestionError : Error {
  // "suggestion_unreachable", "suggestion_timeout", "suggestion_unavailable" (503), "suggestion_status"
  // (another non-200), "suggestion_malformed" (not JSON, no action), "suggestion_invalid_action"
  std::string cause;
};

class SuggestionClient {
 public:
  explicit SuggestionClient(net::HttpClientOptions options);

  std::expected<Suggestion, SuggestionError> ask(const std::string& namespace_,
                                                 const std::string& deployment);

 private:
  net::HttpClient http_;
};

// The suggestion in a response body; exposed for tests.
std::expected<Suggestion, SuggestionError> parse_suggestion(const std::string& body);

}  // namespace maestro::controller
