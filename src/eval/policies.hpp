// Policies by name, as `maestro eval --policy` takes them:
//   hpa            the Kubernetes HPA at 70 % CPU, default behavior, 5-minute scale-down stabilisation
//   hpa:T[:W]      the HPA at T % CPU with a W-second scale-down stabilisation window
//   hpa-sweep      the HPA at 30..90 % CPU (step 10) × windows 60 s and 300 s: one entry per point
//   kpa            Knative's KPA (rps metric, 70 % of a pod's capacity per pod)
//   static         as many pods as the run's busiest second needs (provisioned for the peak)
//   static:N       N pods
//   oracle         the clairvoyant lower bound on cost
//   ppo:FILE       a trained policy file (nn::load_policy), evaluated through FeaturePolicyAutoscaler
// plus FeaturePolicyAutoscaler, which evaluates any features → action policy exactly as sim::Env trains it.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/action_set.hpp"
#include "core/features.hpp"
#include "eval/autoscaler.hpp"
#include "eval/baselines.hpp"
#include "eval/runner.hpp"
#include "nn/policy_file.hpp"

namespace maestro::eval {

// Evaluates a policy that maps features (core::FeatureBuilder over the 15-second observation and the
// pods still starting) to an action of its set, turned into replicas within bounds as sim::Env does.
class FeaturePolicyAutoscaler final : public Autoscaler {
 public:
  using Act = std::function<int(std::span<const double> features)>;
  FeaturePolicyAutoscaler(const core::FeatureSpec& spec, Act act, core::ActionSet actions);
  void reset(const sim::Cluster& cluster) override;
  int decide(const sim::Cluster& cluster, const core::Observation& observation) override;

 private:
  core::FeatureBuilder features_;
  Act act_;
  core::ActionSet actions_;
  std::vector<double> buffer_;
};

// The entries for one --policy value (hpa-sweep gives several). A policy file is loaded (and checked) here.
Result<std::vector<PolicyEntry>> policy_entries(const std::string& spec);

// The entry for a trained policy file, named `name` (default: "ppo"), acting with the file's action set.
Result<PolicyEntry> trained_policy_entry(const std::string& path, const std::string& name = "ppo");
// The same for a policy already read; an error if it is not an autoscaling policy.
Result<PolicyEntry> trained_policy_entry(const nn::PolicyFile& file, const std::string& name);

// The KPA's settings for a scenario's service.
KpaConfig kpa_config_for(const sim::ClusterConfig& cluster);

}  // namespace maestro::eval
