// Asks the suggestion server what to do with one deployment (GET /suggest?deployment=&namespace=, DESIGN §2)
// and accepts only a well-formed answer: a 200 with a JSON object carrying the action's index ("action"), the
// replica change it means ("replica_change": {"kind": "pods"|"percent", "amount": …}) and the replicas it was
// decided for ("replicas"). Anything else is a failure with a cause, so that the controller holds instead of
// acting on it.
#pragma once

#include <string>

#include "core/action_set.hpp"
#include "net/http_client.hpp"

namespace maestro::controller {

struct Suggestion {
  int action = 0;                      // index into the policy's action set
  std::string action_name;             // "scale_up", "+50%", … ("action N" if the answer has none)
  std::string action_set;              // "original", "multi", … ("" if the answer has none)
  core::ReplicaChange replica_change;  // what the action means
  int replicas = 0;                    // the replicas it was decided for
};

struct SuggestionError : Error {
  // "suggestion_unreachable", "suggestion_timeout", "suggestion_unavailable" (503), "suggestion_status"
  // (another non-200), "suggestion_malformed" (not JSON; no action, replica change or replicas),
  // "suggestion_invalid_action" (an action that is not a non-negative integer, a change that is not pods or
  // percent by a finite number)
  std::string cause;
};

// Where the controller's suggestions come from (the suggestion server; fakes in tests).
class SuggestionSource {
 public:
  virtual ~SuggestionSource() = default;
  virtual std::expected<Suggestion, SuggestionError> ask(const std::string& namespace_,
                                                         const std::string& deployment) = 0;
  // The suggestion for `target`, the target of MaestroAutoscaler `autoscaler` in `namespace_`, whose kind and
  // query overrides the suggestion server reads from the resource itself; a source that knows nothing of
  // MaestroAutoscalers answers as for the target alone.
  virtual std::expected<Suggestion, SuggestionError> ask_autoscaled(const std::string& namespace_,
                                                                    const std::string& target,
                                                                    const std::string& autoscaler) {
    (void)autoscaler;
    return ask(namespace_, target);
  }
};

class SuggestionClient final : public SuggestionSource {
 public:
  explicit SuggestionClient(net::HttpClientOptions options);

  std::expected<Suggestion, SuggestionError> ask(const std::string& namespace_,
                                                 const std::string& deployment) override;
  // GET /suggest?deployment=TARGET&namespace=NS&autoscaler=NAME.
  std::expected<Suggestion, SuggestionError> ask_autoscaled(const std::string& namespace_,
                                                            const std::string& target,
                                                            const std::string& autoscaler) override;

 private:
  std::expected<Suggestion, SuggestionError> get(const std::string& path);

  net::HttpClient http_;
};

// `source`'s suggestions for the target of one MaestroAutoscaler: what reconcile_deployment asks.
class AutoscaledSuggestions final : public SuggestionSource {
 public:
  // `source` must outlive this one.
  AutoscaledSuggestions(SuggestionSource& source, std::string autoscaler)
      : source_(source), autoscaler_(std::move(autoscaler)) {}
  std::expected<Suggestion, SuggestionError> ask(const std::string& namespace_,
                                                 const std::string& target) override {
    return source_.ask_autoscaled(namespace_, target, autoscaler_);
  }

 private:
  SuggestionSource& source_;
  std::string autoscaler_;
};

// The suggestion in a response body; exposed for tests.
std::expected<Suggestion, SuggestionError> parse_suggestion(const std::string& body);

}  // namespace maestro::controller
