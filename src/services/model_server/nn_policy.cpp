#include "services/model_server/nn_policy.hpp"

#include "nn/policy.hpp"

namespace maestro::model_server {

namespace {

class NnPolicy final : public ServedPolicy {
 public:
  explicit NnPolicy(nn::Policy policy) : policy_(std::move(policy)) {}

  PolicyAnswer predict(const core::Observation& observation) const override {
    const nn::Prediction prediction = policy_.predict(observation);
    return PolicyAnswer{.action = prediction.action, .probabilities = prediction.probabilities};
  }
  const std::string& version() const override { return policy_.version(); }

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
