// The policy a model server is serving, swapped atomically on reload: a request in flight keeps the policy
// it started with, the next one gets the new policy, and none is dropped. A new file that does not load is
// refused and the old policy kept.
//
// The server depends on this small interface, not on the policy file format, so that it can be tested with
// policies of its own making; policy_from_nn.hpp adapts nn::Policy to it.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "core/action_set.hpp"
#include "core/features.hpp"
#include "services/model_server/predict_request.hpp"

namespace maestro::model_server {

struct PolicyAnswer {
  int action = 0;                     // index into action_set()
  std::vector<double> probabilities;  // by action index
};

class ServedPolicy {
 public:
  virtual ~ServedPolicy() = default;
  // The action for a request whose observation has passed core::validate, or why the request does not
  // carry what the policy needs (a client error, named); thread-safe.
  virtual Result<PolicyAnswer> predict(const PredictRequest& request) const = 0;
  // Which model this is (e.g. the policy file's checksum).
  virtual const std::string& version() const = 0;
  // The features it expects and whether a request must carry them ("features"): the defaults are those of a
  // policy that answers the original action set from the five fields.
  virtual core::FeatureSpec feature_spec() const { return {}; }
  virtual bool needs_features() const { return false; }
  virtual const core::ActionSet& action_set() const;
};

using PolicyLoader =
    std::function<Result<std::shared_ptr<const ServedPolicy>>(const std::filesystem::path& file)>;

class PolicySlot {
 public:
  explicit PolicySlot(PolicyLoader loader) : loader_(std::move(loader)) {}

  // Loads `file` and serves it from now on; on failure keeps what it had and says why.
  Result<std::shared_ptr<const ServedPolicy>> load(const std::filesystem::path& file);

  // The policy being served, or null before the first successful load.
  std::shared_ptr<const ServedPolicy> current() const { return current_.load(std::memory_order_acquire); }

 private:
  PolicyLoader loader_;
  std::atomic<std::shared_ptr<const ServedPolicy>> current_;
};

}  // namespace maestro::model_server
