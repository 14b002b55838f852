// Running a trained policy: the serving API. load_policy() reads and checks a policy file; predict() turns
// one observation into an action exactly as training saw it: core::FeatureBuilder → the stored
// normalisation → the actor network → the most probable action. predict() is const, allocates nothing
// after a thread's first call, and may be called from many threads at once.
#pragma once

#include <array>
#include <filesystem>
#include <span>
#include <string>

#include "core/action.hpp"
#include "core/error.hpp"
#include "core/features.hpp"
#include "core/observation.hpp"
#include "nn/mlp.hpp"
#include "nn/policy_file.hpp"

namespace maestro::nn {

// The actor of a policy file over raw (unnormalised) features, for any environment: what evaluation and
// serving run.
class Actor {
 public:
  explicit Actor(const PolicyFile& file);  // file must pass validate()
  Actor(const Mlp<float>& actor, const ObservationNormalizer& normalizer);

  int feature_count() const { return static_cast<int>(weights_.front().cols()); }
  int action_count() const { return static_cast<int>(weights_.back().rows()); }

  // Normalise, forward: one logit per action into `logits` (action_count()).
  void logits(std::span<const double> features, std::span<float> logits) const;
  // The deterministic action: the most probable one.
  int act(std::span<const double> features) const;

 private:
  // The actor's layers copied column-major (y = Σ_j W[:, j]·x_j vectorises along the outputs, also for
  // the narrow first layer), and the normalisation folded into a scale and offset per feature.
  std::vector<Eigen::MatrixXf> weights_;
  std::vector<Eigen::VectorXf> biases_;
  int max_width_ = 0;
  bool normalize_ = false;
  std::vector<double> offset_, scale_;
  double clip_ = 0;
};

struct Prediction {
  core::Action action = core::Action::kHold;
  std::array<double, core::kActionCount> probabilities{};  // indexed by action code
};

// An autoscaling policy: a policy file whose features core builds and whose actions are core::Action.
class Policy {
 public:
  // Refuses a file that is not an autoscaling policy (unknown feature set, other actions).
  static Result<Policy> create(PolicyFile file);

  // The observation must be valid (core::validate); the result is then always one of the three actions.
  // Features come from a fresh core::FeatureBuilder: right for "original"; a feature set with history
  // sees this as a deployment's first observation, so serve those with a builder kept per deployment
  // and predict_features().
  Prediction predict(const core::Observation& observation) const;
  // The same from features already built by a core::FeatureBuilder with feature_spec().
  Prediction predict_features(std::span<const double> features) const;

  const PolicyFile& file() const { return file_; }
  const TrainingMetadata& metadata() const { return file_.metadata; }
  const core::FeatureSpec& feature_spec() const { return feature_spec_; }
  // The payload checksum of the policy file (16 hex digits): which model answered.
  const std::string& version() const { return version_; }

 private:
  Policy(PolicyFile file, core::FeatureSpec spec);

  PolicyFile file_;
  core::FeatureSpec feature_spec_;
  Actor actor_;
  std::string version_;
};

Result<Policy> load_policy(const std::filesystem::path& path);

}  // namespace maestro::nn
