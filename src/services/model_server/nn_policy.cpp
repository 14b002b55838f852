#include "services/model_server/nn_policy.hpp"

#include "nn/policy.hpp"

namespace maestro::model_server {

namespace {

class NnPolicy final : public ServedPolicy {
 public:
  explicit NnPolicy(nn::Policy policy) : policy_(std::move(policy)) {}

  Result<PolicyAnswer> predict(const PredictRequest& request) const override {
    auto prediction = request.features ? policy_.predict(request.observation, *request.features)
                                       : policy_.predict(request.observation);
    if (!prediction) return std::unexpected(prediction.error());
    return PolicyAnswer{.action = prediction->action, .probabilities = std::move(prediction->probabilities)};
  }
  const std::string& version() const override { return policy_.version(); }
  core::FeatureSpec feature_spec() const override { return policy_.feature_spec(); }
  bool needs_features() const override { return nn::needs_history(policy_.feature_spec().set); }
  const core::ActionSet& action_set() const override { return policy_.action_set(); }

 private:
  nn::Policy policy_;
};

}  // namespace

Result<std::shared_ptr<const ServedPolicy>> load_policy_file(const std::filesystem::path& file) {
  auto policy = nn::load_policy(file);
  if (!policy) return std::unexpected(policy.error());
  return std::make_shared<const NnPolicy>(std::move(*policy));
}

}  // namespace maestro::model_server
