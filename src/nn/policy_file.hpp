// The policy file: everything needed to run a trained policy exactly as it was trained — architecture,
// weights, observation normalisation, the feature set and per-pod memory limit that turn observations into
// features, the action encoding, and how it was trained. One file serves training, evaluation and serving.
// The binary format (version 2, little-endian, checksummed; version 1 is still read) is described in
// docs/policy-file.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "core/action_set.hpp"
#include "core/features.hpp"
#include "nn/actor_critic.hpp"
#include "nn/normalizer.hpp"

namespace maestro::nn {

inline constexpr std::uint32_t kPolicyFileVersion = 2;

// A stretch of traffic a policy was trained on: seconds from the start of the trace whose file stem is
// `trace` (e.g. "nasa-http-1995"), or of a synthetic shape, named "synthetic:NAME".
struct DataWindow {
  std::string trace;
  double start_seconds = 0;
  double end_seconds = 0;

  friend bool operator==(const DataWindow&, const DataWindow&) = default;
};

struct TrainingMetadata {
  std::string algorithm;    // "ppo", or "init" for an untrained policy
  std::string environment;  // what it was trained on, e.g. "cartpole"
  std::uint64_t steps = 0;  // environment steps of training
  std::uint64_t seed = 0;
  std::vector<std::pair<std::string, std::string>> hyperparameters;  // name → value, in training's order
  // ISO 8601 UTC time training ended; empty unless asked for, so that the same seed gives the same file.
  std::string trained_at;
  // The reward it was trained with: a core reward name ("original", "cost") and its weights
  // (core::reward_weights), or an environment's own (e.g. "cartpole", no weights).
  std::string reward;
  std::vector<std::pair<std::string, double>> reward_weights;
  // Every traffic window training could draw from. Empty: not recorded (a version-1 file, an untrained
  // policy, an environment without traffic): whoever compares it with test data must say it is unknown.
  std::vector<DataWindow> training_data;

  friend bool operator==(const TrainingMetadata&, const TrainingMetadata&) = default;
};

struct PolicyFile {
  ActorCritic<float> network;
  ObservationNormalizer normalizer;
  // The features the network expects: a core::FeatureSet name for autoscaling policies ("original"), or the
  // name of the environment's own observation (e.g. "cartpole"), which core::FeatureBuilder does not build.
  std::string feature_set;
  double memory_limit_bytes_per_pod = 0;  // normalises memory in the "original" feature set
  // The actions: a core::ActionSet name for autoscaling policies ("original", "multi"), whose names
  // action_names repeats; or an environment's own (e.g. "cartpole").
  std::string action_set;
  std::vector<std::string> action_names;  // index = action code
  TrainingMetadata metadata;

  // The core feature spec, if feature_set is one core builds.
  std::optional<core::FeatureSpec> feature_spec() const;
  // The core action set, if this is an autoscaling policy (feature_spec() has a value).
  std::optional<core::ActionSet> actions() const;

  friend bool operator==(const PolicyFile& a, const PolicyFile& b);
};

// A freshly initialised autoscaling policy (SB3's initialisation, normalisation on with fresh statistics):
// what `maestro policy init` writes and what training starts from. Its reward is recorded as `original`
// with its weights (nothing was trained), its training data as not recorded.
PolicyFile untrained_autoscaling_policy(const core::FeatureSpec& spec, std::uint64_t seed,
                                        const core::ActionSet& actions = core::original_action_set());

// Checks that the parts agree with each other (sizes, finite weights and statistics, names).
Result<void> validate(const PolicyFile& file);

std::vector<std::uint8_t> encode(const PolicyFile& file);
// Reads version 2, and version 1 as what it was: an autoscaling policy with the original actions and
// reward, training data not recorded (an environment's own policy: its feature set names its actions and
// reward).
Result<PolicyFile> decode(std::span<const std::uint8_t> bytes);

// The checksum its file's header records (FNV-1a 64 of the payload), as 16 hex digits: the model's version.
std::string model_version(const PolicyFile& file);

Result<void> write_policy_file(const std::filesystem::path& path, const PolicyFile& file);
Result<PolicyFile> read_policy_file(const std::filesystem::path& path);

}  // namespace maestro::nn
