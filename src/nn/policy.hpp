// Running a trained policy: the serving API. load_policy() reads and checks a policy file; predict() turns
// one observation into an index of the policy's action set exactly as training saw it: core::FeatureBuilder
// → the stored normalisation → the actor network → the most probable action. A feature set with history
// (trends, pods starting) cannot be built from one observation: predict() then needs the complete feature
// vector, built by a core::FeatureBuilder kept per deployment, and refuses anything less, naming what is
// missing — never zeros in its place (DESIGN §2 "Features"). predict() is const and may be called from many
// threads at once.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "core/action_set.hpp"
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

  int feature_count() const { return shape_.input_size(); }
  int action_count() const { return shape_.output_size(); }

  // Normalise, forward: one logit per action into `logits` (action_count()).
  void logits(std::span<const double> features, std::span<float> logits) const;
  // The deterministic action: the most probable one.
  int act(std::span<const double> features) const;

 private:
  // A copy of the actor's parameters with each weight transposed (in × out: one sample's forward
  // vectorises along the outputs, also for the narrow first layer), and the normalisation folded into a
  // scale and offset per feature.
  MlpShape shape_;
  std::vector<float> parameters_;
  bool normalize_ = false;
  std::vector<double> offset_, scale_;
  double clip_ = 0;
};

struct Prediction {
  int action = 0;                     // index into the policy's action set
  std::vector<double> probabilities;  // by action index
};

// Whether a feature set looks at history (earlier steps, pods starting), which one observation cannot give.
bool needs_history(core::FeatureSet set);

// An autoscaling policy: a policy file whose features core builds and whose actions are a core::ActionSet.
class Policy {
 public:
  // Refuses a file that is not an autoscaling policy (unknown feature set or action set).
  static Result<Policy> create(PolicyFile file);

  // From the five fields alone: only for a feature set without history (features from a fresh
  // core::FeatureBuilder); refused otherwise, naming the missing feature vector. The observation must be
  // valid (core::validate).
  Result<Prediction> predict(const core::Observation& observation) const;
  // From the five fields and the complete feature vector a core::FeatureBuilder with feature_spec() built for
  // them. Refused, naming the reason, unless it has feature_count() finite entries whose first five are what
  // the builder makes of `observation`.
  Result<Prediction> predict(const core::Observation& observation, std::span<const double> features) const;
  // From features already built by a core::FeatureBuilder with feature_spec() (unchecked: evaluation).
  Prediction predict_features(std::span<const double> features) const;

  const PolicyFile& file() const { return file_; }
  const TrainingMetadata& metadata() const { return file_.metadata; }
  const core::FeatureSpec& feature_spec() const { return feature_spec_; }
  std::size_t feature_count() const { return core::feature_count(feature_spec_.set); }
  const core::ActionSet& action_set() const { return action_set_; }
  // The payload checksum of the policy file (16 hex digits): which model answered.
  const std::string& version() const { return version_; }

 private:
  Policy(PolicyFile file, core::FeatureSpec spec, core::ActionSet actions);

  PolicyFile file_;
  core::FeatureSpec feature_spec_;
  core::ActionSet action_set_;
  Actor actor_;
  std::string version_;
};

Result<Policy> load_policy(const std::filesystem::path& path);

}  // namespace maestro::nn
