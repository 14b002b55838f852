// The Kubernetes HPA as a decision source beside the suggestion server: for a deployment whose settings
// choose it (DecisionSource::kHpa), each reconcile computes the HPA's desired replicas with the same code
// `maestro eval` runs as its baseline (hpa/hpa.hpp: tolerance, unready and missing pods, the stabilisation
// window and the rate limits of the API's default behavior, carried from one interval to the next), from
// what the metrics API would give it: per-pod CPU as rate(container_cpu_usage_seconds_total) from
// Prometheus, and the pods' CPU requests, readiness and start times from the pods list. The answer is a
// Suggestion (action set "hpa", a change in pods, decided for the replicas read), so the reconcile applies
// it exactly as it applies the learned policy's: bounds, 409 retries, the Event. Every failure — the API or
// Prometheus down, no pod reporting, a pod without a CPU request — is a SuggestionError: the controller
// holds.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/clock.hpp"
#include "hpa/hpa.hpp"
#include "prom/query_client.hpp"
#include "services/controller/decision.hpp"
#include "services/controller/pod_lister.hpp"
#include "services/controller/reconcile.hpp"
#include "services/controller/suggestion_client.hpp"

namespace maestro::controller {

struct HpaSourceOptions {
  std::chrono::seconds rate_window{60};  // of the CPU rate: the window of each pod's sample
  hpa::CalculatorConfig calculator;      // tolerance 0.1, 300 s CPU initialisation, 30 s readiness delay
  // Wall time, to read the pods' timestamps against (tests fix it).
  std::function<std::chrono::system_clock::time_point()> wall_clock = [] {
    return std::chrono::system_clock::now();
  };
};

// The PromQL of the per-pod CPU (cores) of `deployment`'s pods.
std::string pod_cpu_query(const std::string& namespace_, const std::string& deployment,
                          std::chrono::seconds rate_window);
// The same for the pods in `pods` (of a workload other than a Deployment, whose pod names do not follow the
// Deployment's NAME-HASH-SUFFIX).
std::string pod_cpu_query(const std::string& namespace_, const std::vector<PodStatus>& pods,
                          std::chrono::seconds rate_window);

class HpaSource {
 public:
  // Every argument must outlive the source; `clock` is the controller's.
  HpaSource(ScaleClient& kube, PodLister& pods, prom::MetricsSource& metrics, const base::Clock& clock,
            HpaSourceOptions options = {});

  // One HPA reconcile of the deployment. Not called for one deployment from two threads at once (the
  // controller never reconciles a deployment twice at a time); different deployments may be concurrent.
  // `workload_scale`: the scale of a target that is not a Deployment (its pods then found by the scale's
  // selector alone); null: a Deployment, through the source's ScaleClient.
  std::expected<Suggestion, SuggestionError> ask(const std::string& namespace_, const std::string& deployment,
                                                 const DeploymentSettings& settings,
                                                 ScaleClient* workload_scale = nullptr);

 private:
  struct State {
    hpa::HpaSpec spec;
    std::unique_ptr<hpa::Controller> controller;
  };
  // The deployment's HPA state, made afresh when its settings change.
  State& state_for(const std::string& key, const hpa::HpaSpec& spec, const hpa::ControllerConfig& config);

  ScaleClient& kube_;
  PodLister& pods_;
  prom::MetricsSource& metrics_;
  const base::Clock& clock_;
  HpaSourceOptions options_;
  std::mutex mutex_;  // guards states_ (not the states)
  std::map<std::string, std::unique_ptr<State>> states_;
};

// The HPA source asked for one deployment with its settings: what reconcile_deployment asks.
class HpaSuggestions final : public SuggestionSource {
 public:
  HpaSuggestions(HpaSource& source, const DeploymentSettings& settings, ScaleClient* workload_scale = nullptr)
      : source_(source), settings_(settings), workload_scale_(workload_scale) {}
  std::expected<Suggestion, SuggestionError> ask(const std::string& namespace_,
                                                 const std::string& deployment) override {
    return source_.ask(namespace_, deployment, settings_, workload_scale_);
  }

 private:
  HpaSource& source_;
  const DeploymentSettings& settings_;
  ScaleClient* workload_scale_;
};

}  // namespace maestro::controller
