// Policies by name, as `maestro eval --policy` takes them:
//   hpa            the Kubernetes HPA at 70 % CPU, default behavior, 5-minute scale-down stabilisation
//   hpa:T[:W]      the HPA at T % CPU with a W-second scale-down stabilisation window (named hpa-tT-wW)
//   hpa-sweep      the HPA at 30..95 % CPU (step 5) × windows 0, 60, 300, 900, 1800, 3600 s: a point each
//   kpa            Knative's KPA (rps metric, 70 % of a pod's capacity per pod)
//   kpa:T          the KPA aiming at T % of a pod's capacity in requests/s per pod (named kpa-tT)
//   kpa-sweep      kpa:30..kpa:95, step 5
//   static         as many pods as the run's busiest second needs (provisioned for the peak)
//   static:N       N pods
//   static-sweep   static:N for every N in the scenario's bounds (at least 1)
//   oracle         the DP oracle's schedule run in the simulator, named oracle-schedule (eval/oracle.hpp);
//                  the oracle's lower bound itself is part of every evaluation
//   oracle:P       the DP's schedule with foresight when a request over the SLO costs P pod-seconds
//                  instead of being forbidden (named oracle-pP): a point on the foresight frontier
//   oracle-sweep   oracle:P for P = 0.02, 0.05, 0.1, …, 5, 20: what foresight saves at each SLO level
//   ppo:FILE       a trained policy file (nn::load_policy), evaluated through FeaturePolicyAutoscaler
// HPA, KPA and static entries are baselines: the frontier a learned policy is judged against is theirs.
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

// The entries for one --policy value on `scenario` (a sweep gives several). A policy file is loaded (and
// checked) here.
Result<std::vector<PolicyEntry>> policy_entries(const std::string& spec, const Scenario& scenario);

// The entry for a trained policy file, named `name` (default: "ppo"), acting with the file's action set.
Result<PolicyEntry> trained_policy_entry(const std::string& path, const std::string& name = "ppo");
// The same for a policy already read; an error if it is not an autoscaling policy.
Result<PolicyEntry> trained_policy_entry(const nn::PolicyFile& file, const std::string& name);

// The KPA's settings for a scenario's service, aiming at `target_percent` of a pod's capacity.
KpaConfig kpa_config_for(const sim::ClusterConfig& cluster, int target_percent = 70);

}  // namespace maestro::eval
