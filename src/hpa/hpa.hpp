// The Kubernetes HorizontalPodAutoscaler, computed exactly as its controller does
// (pkg/controller/podautoscaler: replica_calculator.go and horizontal.go, current release): the resource
// replica calculator with its handling of unready, missing and deleted pods and its tolerance; the
// legacy normalisation (no spec.behavior: 5-minute scale-down stabilisation, max(2×current, 4) scale-up
// cap); the behavior path (stabilisation windows, then rate-limit policies over past scale events); and
// one whole reconcile. ../shared/conformance/hpa-cases.json pins every function here.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/clock.hpp"
#include "base/error.hpp"
#include "core/scaling.hpp"

namespace maestro::hpa {

using TimePoint = base::Clock::TimePoint;
using std::chrono::seconds;

enum class PodPhase { kPending, kRunning, kSucceeded, kFailed };

// A pod as the replica calculator sees it: the pod lister's object and the metrics API's sample.
struct PodSample {
  PodPhase phase = PodPhase::kRunning;
  bool deleting = false;                  // metadata.deletionTimestamp set
  std::optional<bool> ready;              // PodReady condition status; nullopt = no such condition
  std::optional<TimePoint> start_time;    // status.startTime; nullopt = unset
  TimePoint ready_transition{};           // the PodReady condition's lastTransitionTime
  std::optional<std::int64_t> request_m;  // CPU request, millicores; nullopt = a container without one
  std::optional<std::int64_t> usage_m;    // CPU usage sample, millicores; nullopt = no sample
  TimePoint sample_time{};                // the sample's timestamp
  seconds sample_window{60};              // the sample's window
};

struct Tolerances {
  double scale_down = 0.1;
  double scale_up = 0.1;
  // (1 − scale_down) ≤ ratio ≤ (1 + scale_up): no change (v1.33+; older releases used |1 − ratio| ≤ t).
  bool within(double ratio) const { return 1 - scale_down <= ratio && ratio <= 1 + scale_up; }
};

struct CalculatorConfig {
  Tolerances tolerances;
  seconds cpu_initialization_period{300};  // --horizontal-pod-autoscaler-cpu-initialization-period
  seconds delay_of_initial_readiness{30};  // --horizontal-pod-autoscaler-initial-readiness-delay
};

enum class PodGroup { kReady, kUnready, kMissing, kIgnored };

// groupPods: how the calculator classifies one pod (CPU metric).
PodGroup classify_pod(const PodSample& pod, TimePoint now, const CalculatorConfig& config);

struct ResourceReplicas {
  int replicas = 0;                      // before min/max, stabilisation and rate limits
  int utilization_percent = 0;           // of the ready pods with samples (first pass)
  std::int64_t raw_average_usage_m = 0;  // per pod, same set
};

// GetResourceReplicas for CPU at target utilisation (percent of request). `unlisted_samples` counts metric
// samples whose pod is not in the list (they carry no request, so the maths skips them).
Result<ResourceReplicas> resource_replicas(int current_replicas, int target_utilization_percent,
                                           std::span<const PodSample> pods, std::size_t unlisted_samples,
                                           TimePoint now, const CalculatorConfig& config);

// --- Normalisation without spec.behavior (the legacy path) -------------------------------------------------

// stabilizeRecommendation: the highest recommendation of the window, the new one included; records the
// new one (overwriting the last expired entry, if any).
int stabilize_legacy(int desired, std::vector<core::Recommendation>& history, seconds window, TimePoint now);

// convertDesiredReplicasWithRules: bounds and the scale-up cap max(factor × current, minimum).
core::RateLimited limit_legacy(int current, int desired, int min_replicas, int max_replicas,
                               double scale_up_factor, double scale_up_minimum);

// --- Normalisation with spec.behavior ----------------------------------------------------------------------

struct Behavior {
  core::ScalingRules scale_up;
  core::ScalingRules scale_down;
};

// The API defaults: up 0 s window, Max of {4 pods, 100 %} per 15 s; down `down_window`, 100 % per 15 s.
Behavior default_behavior(seconds down_window = seconds(300));

// stabilizeRecommendationWithBehaviors: current held between the lowest recommendation of the up window
// and the highest of the down window; records the new one (overwriting the last entry expired in both).
int stabilize_with_behavior(int current, int desired, std::vector<core::Recommendation>& history,
                            const Behavior& behavior, TimePoint now);

// storeScaleEvent: marks events older than the direction's longest policy period outdated, then overwrites
// the last outdated one or appends. Without a behavior nothing is stored.
void store_scale_event(const Behavior* behavior, std::vector<core::ScaleEvent>& up_events,
                       std::vector<core::ScaleEvent>& down_events, int previous_replicas, int new_replicas,
                       TimePoint now);

// --- The controller --------------------------------------------------------------------------------------

struct HpaSpec {
  int min_replicas = 1;
  int max_replicas = 10;
  int target_utilization_percent = 80;
  std::optional<Behavior> behavior;  // nullopt: the legacy path
};

// An HPA on CPU at `target_utilization_percent` of request with the API's default behavior (down_window of
// scale-down stabilisation): what `maestro eval` runs as its baseline and the controller runs live.
HpaSpec default_spec(int min_replicas, int max_replicas, int target_utilization_percent,
                     seconds down_window = seconds(300));

struct ControllerConfig {
  CalculatorConfig calculator;
  seconds downscale_stabilization{300};  // --horizontal-pod-autoscaler-downscale-stabilization
  double scale_up_limit_factor = 2;      // legacy path (horizontal_test.go sets 8)
  double scale_up_limit_minimum = 4;
  seconds sync_period{15};  // --horizontal-pod-autoscaler-sync-period
};

Result<HpaSpec> validate(const HpaSpec& spec);

struct ReconcileResult {
  int desired_replicas = 0;
  bool rescale = false;
  std::optional<Error> metric_error;  // the metric failed: nothing changes
};

// One HPA and the state its controller keeps for it between reconciles.
class Controller {
 public:
  Controller(const HpaSpec& spec, const ControllerConfig& config);

  // reconcileAutoscaler with one CPU Resource metric. On a metric error nothing changes.
  ReconcileResult reconcile(int current_replicas, std::span<const PodSample> pods,
                            std::size_t unlisted_samples, TimePoint now);

  std::vector<core::Recommendation>& recommendations() { return recommendations_; }
  std::vector<core::ScaleEvent>& scale_up_events() { return up_events_; }
  std::vector<core::ScaleEvent>& scale_down_events() { return down_events_; }
  // Whether the controller has seen this HPA (it records current replicas as the first recommendation).
  void set_history_seen(bool seen) { history_seen_ = seen; }
  const HpaSpec& spec() const { return spec_; }
  const ControllerConfig& config() const { return config_; }

 private:
  HpaSpec spec_;
  ControllerConfig config_;
  std::vector<core::Recommendation> recommendations_;
  std::vector<core::ScaleEvent> up_events_;
  std::vector<core::ScaleEvent> down_events_;
  bool history_seen_ = false;
};

}  // namespace maestro::hpa
