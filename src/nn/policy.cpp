#include "nn/policy.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "nn/categorical.hpp"
#include "nn/kernels.hpp"

namespace maestro::nn {

Actor::Actor(const PolicyFile& file) : Actor(file.network.actor, file.normalizer) {}

Actor::Actor(const Mlp<float>& actor, const ObservationNormalizer& normalizer)
    : shape_(actor.shape()), parameters_(actor.parameters().begin(), actor.parameters().end()) {
  for (int l = 0; l < shape_.layer_count(); ++l) {
    const int out = shape_.sizes[l + 1], in = shape_.sizes[l];
    float* weight_by_input = parameters_.data() + shape_.weight_offset(l);
    for (int o = 0; o < out; ++o)
      for (int i = 0; i < in; ++i) weight_by_input[i * out + o] = actor.weight(l)(o, i);
  }
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
  float* out = buffers.data() + shape_.max_width();
  for (std::size_t i = 0; i < features.size(); ++i)
    in[i] = static_cast<float>(normalize_ ? std::clamp((features[i] - offset_[i]) * scale_[i], -clip_, clip_)
                                          : features[i]);
  const kernels::KernelSet& k = kernels::active();
  const int last = shape_.layer_count() - 1;
  const float* layer = parameters_.data();  // each layer's weight, then its bias, one after the other
  for (int l = 0; l <= last; ++l) {
    const int width = shape_.sizes[l + 1], inputs = shape_.sizes[l];
    const float* bias = layer + std::size_t(width) * inputs;
    k.dense_forward_one(layer, bias, width, inputs, in, l == last ? logits.data() : out, l != last);
    layer = bias + width;
    std::swap(in, out);
  }
}

int Actor::act(std::span<const double> features) const {
  std::array<float, kMaxWidth> output;
  const std::span<float> logits_out(output.data(), action_count());
  logits(features, logits_out);
  return argmax<float>(logits_out);
}

bool needs_history(core::FeatureSet set) {
  return set != core::FeatureSet::kOriginal;
}

Result<Policy> Policy::create(PolicyFile file) {
  if (auto ok = validate(file); !ok) return std::unexpected(ok.error());
  const auto spec = file.feature_spec();
  if (!spec)
    return fail("policy uses feature set '{}' (trained on '{}'), which is not an autoscaling feature set",
                file.feature_set, file.metadata.environment);
  // validate() checked that an autoscaling policy's file names a core::ActionSet, one name per action.
  auto actions = file.actions();
  assert(actions.has_value());
  return Policy(std::move(file), *spec, std::move(*actions));
}

Policy::Policy(PolicyFile file, core::FeatureSpec spec, core::ActionSet actions)
    : file_(std::move(file)),
      feature_spec_(spec),
      action_set_(std::move(actions)),
      actor_(file_),
      version_(model_version(file_)) {}

Result<Prediction> Policy::predict(const core::Observation& observation) const {
  if (needs_history(feature_spec_.set))
    return fail(
        "missing field 'features': feature set '{}' needs the deployment's history, so the request must "
        "carry "
        "the complete feature vector ({} numbers, built step by step by a core::FeatureBuilder)",
        core::feature_set_name(feature_spec_.set), feature_count());
  // One buffer per serving thread, sized on its first call.
  thread_local std::vector<double> features;
  core::FeatureBuilder(feature_spec_).build(observation, features);
  return predict_features(features);
}

Result<Prediction> Policy::predict(const core::Observation& observation,
                                   std::span<const double> features) const {
  if (features.size() != feature_count())
    return fail("field 'features' has {} numbers but feature set '{}' has {}", features.size(),
                core::feature_set_name(feature_spec_.set), feature_count());
  for (std::size_t i = 0; i < features.size(); ++i)
    if (!std::isfinite(features[i])) return fail("field 'features': features[{}] is {}", i, features[i]);
  // The first five are the observation's own (memory as a share of the deployment's limit): a vector built
  // from other numbers than the five fields sent with it is refused.
  thread_local std::vector<double> base;
  core::FeatureBuilder({core::FeatureSet::kOriginal, feature_spec_.memory_limit_bytes_per_pod})
      .build(observation, base);
  for (std::size_t i = 0; i < base.size(); ++i)
    if (std::abs(features[i] - base[i]) > 1e-9 * std::max(1.0, std::abs(base[i])))
      return fail("field 'features': features[{}] is {} but {} makes it {}", i, features[i],
                  core::Observation::kFieldNames[i], base[i]);
  return predict_features(features);
}

Prediction Policy::predict_features(std::span<const double> features) const {
  const auto count = static_cast<std::size_t>(action_set_.size());
  std::array<float, kMaxWidth> output;
  const std::span<float> logits(output.data(), count);
  actor_.logits(features, logits);
  // On the stack but for the answer's probabilities: this runs once per /predict request.
  std::array<double, kMaxWidth> logits_double, log_probabilities;
  std::ranges::copy(logits, logits_double.begin());
  log_softmax<double>(std::span(logits_double.data(), count), std::span(log_probabilities.data(), count));
  Prediction prediction;
  prediction.probabilities.reserve(count);
  for (const double log_probability : std::span(log_probabilities.data(), count))
    prediction.probabilities.push_back(std::exp(log_probability));
  prediction.action = argmax<float>(logits);
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
