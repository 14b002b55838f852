#include "nn/policy.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <vector>

#include "nn/categorical.hpp"

namespace maestro::nn {

Actor::Actor(const PolicyFile& file) : Actor(file.network.actor, file.normalizer) {}

Actor::Actor(const Mlp<float>& actor, const ObservationNormalizer& normalizer) {
  for (int l = 0; l < actor.shape().layer_count(); ++l) {
    weights_.emplace_back(actor.weight(l));
    biases_.emplace_back(actor.bias(l));
  }
  max_width_ = actor.shape().max_width();
  normalize_ = normalizer.enabled;
  clip_ = normalizer.clip;
  for (std::size_t i = 0; i < normalizer.stats.size() && normalize_; ++i) {
    offset_.push_back(normalizer.stats.mean[i]);
    scale_.push_back(1.0 / std::sqrt(normalizer.stats.var[i] + normalizer.epsilon));
  }
}

void Actor::logits(std::span<const double> features, std::span<float> logits) const {
  assert(features.size() == std::size_t(feature_count()) && logits.size() == std::size_t(action_count()));
  // Stack buffers: widths are at most kMaxWidth (checked when the file was read), so nothing is allocated.
  alignas(64) std::array<float, 2 * kMaxWidth> buffers;
  float* in = buffers.data();
  float* out = buffers.data() + max_width_;
  for (std::size_t i = 0; i < features.size(); ++i)
    in[i] = static_cast<float>(normalize_ ? std::clamp((features[i] - offset_[i]) * scale_[i], -clip_, clip_)
                                          : features[i]);
  const std::size_t last = weights_.size() - 1;
  for (std::size_t l = 0; l <= last; ++l) {
    Eigen::Map<Eigen::VectorXf> y(l == last ? logits.data() : out, weights_[l].rows());
    y.noalias() = weights_[l] * Eigen::Map<const Eigen::VectorXf>(in, weights_[l].cols());
    y += biases_[l];
    if (l != last) y = y.array().tanh();
    std::swap(in, out);
  }
}

int Actor::act(std::span<const double> features) const {
  std::array<float, kMaxWidth> output;
  const std::span<float> logits_out(output.data(), action_count());
  logits(features, logits_out);
  return argmax<float>(logits_out);
}

Result<Policy> Policy::create(PolicyFile file) {
  if (auto ok = validate(file); !ok) return std::unexpected(ok.error());
  const auto spec = file.feature_spec();
  if (!spec)
    return fail("policy uses feature set '{}' (trained on '{}'), which is not an autoscaling feature set",
                file.feature_set, file.metadata.environment);
  // Prediction answers one of core::Action's codes: the larger sets are served once it answers any set's.
  if (file.action_set != "original")
    return fail("policy uses the action set '{}'; serving answers only the 'original' set so far",
                file.action_set);
  return Policy(std::move(file), *spec);
}

Policy::Policy(PolicyFile file, core::FeatureSpec spec)
    : file_(std::move(file)), feature_spec_(spec), actor_(file_), version_(model_version(file_)) {}

Prediction Policy::predict(const core::Observation& observation) const {
  // One buffer per serving thread, sized on its first call.
  thread_local std::vector<double> features;
  core::FeatureBuilder(feature_spec_).build(observation, features);
  return predict_features(features);
}

Prediction Policy::predict_features(std::span<const double> features) const {
  std::array<float, core::kActionCount> logits;
  actor_.logits(features, logits);
  std::array<double, core::kActionCount> logits_double, log_probabilities;
  for (int i = 0; i < core::kActionCount; ++i) logits_double[i] = logits[i];
  log_softmax<double>(logits_double, log_probabilities);
  Prediction prediction;
  for (int i = 0; i < core::kActionCount; ++i) prediction.probabilities[i] = std::exp(log_probabilities[i]);
  prediction.action = static_cast<core::Action>(argmax<float>(logits));
  return prediction;
}

Result<Policy> load_policy(const std::filesystem::path& path) {
  auto file = read_policy_file(path);
  if (!file) return std::unexpected(file.error());
  auto policy = Policy::create(std::move(*file));
  if (!policy) return fail("{}: {}", path.string(), policy.error().message);
  return policy;
}

}  // namespace maestro::nn
