// The policy file: everything needed to run a trained policy exactly as it was trained — architecture,
// weights, observation normalisation, the feature set and per-pod memory limit that turn observations into
// features, the action encoding, and how it was trained. One file serves training, evaluation and serving.
// The binary format (version 1, little-endian, checksummed) is described in docs/policy-file.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/features.hpp"
#include "nn/actor_critic.hpp"
#include "nn/normalizer.hpp"

namespace maestro::nn {

inline constexpr std::uint32_t kPolicyFileVersion = 1;

struct TrainingMetadata {
  std::string algorithm;    // "ppo", or "init" for an untrained policy
  std::string environment;  // what it was trained on, e.g. "cartpole"
  std::uint64_t steps = 0;  // environment steps of training
  std::uint64_t seed = 0;
  std::vector<std::pair<std::string, std::string>> hyperparameters;  // name → value, in training's order
  // ISO 8601 UTC time training ended; empty unless asked for, so that the same seed gives the same file.
  std::string trained_at;

  friend bool operator==(const TrainingMetadata&, const TrainingMetadata&) = default;
};

struct PolicyFile {
  ActorCritic<float> network;
  ObservationNormalizer normalizer;
  // The features the network expects: a core::FeatureSet name for autoscaling policies ("original"), or the
  // name of the environment's own observation (e.g. "cartpole"), which core::FeatureBuilder does not build.
  std::string feature_set;
  double memory_limit_bytes_per_pod = 0;  // normalises memory in the "original" feature set
  std::vector<std::string> action_names;  // index = action code
  TrainingMetadata metadata;

  // The core feature spec, if feature_set is one core builds.
  std::optional<core::FeatureSpec> feature_spec() const;

  friend bool operator==(const PolicyFile& a, const PolicyFile& b);
};

// The action names of core::Action, in code order.
std::vector<std::string> autoscaling_action_names();

// A freshly initialised autoscaling policy (SB3's initialisation, normalisation on with fresh statistics):
// what `maestro policy init` writes and what training starts from.
PolicyFile untrained_autoscaling_policy(const core::FeatureSpec& spec, std::uint64_t seed);

// Checks that the parts agree with each other (sizes, finite weights and statistics, names).
Result<void> validate(const PolicyFile& file);

std::vector<std::uint8_t> encode(const PolicyFile& file);
Result<PolicyFile> decode(std::span<const std::uint8_t> bytes);

// The checksum its file's header records (FNV-1a 64 of the payload), as 16 hex digits: the model's version.
std::string model_version(const PolicyFile& file);

Result<void> write_policy_file(const std::filesystem::path& path, const PolicyFile& file);
Result<PolicyFile> read_policy_file(const std::filesystem::path& path);

}  // namespace maestro::nn
