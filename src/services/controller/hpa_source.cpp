#include "services/controller/hpa_source.hpp"

#include <fmt/format.h>

#include <cmath>

#include "prom/state_builder.hpp"

namespace maestro::controller {

namespace {

SuggestionError hpa_error(std::string cause, std::string message) {
  SuggestionError error;
  error.message = std::move(message);
  error.cause = std::move(cause);
  return error;
}

hpa::PodPhase pod_phase(const std::string& phase) {
  if (phase == "Pending") return hpa::PodPhase::kPending;
  if (phase == "Failed") return hpa::PodPhase::kFailed;
  if (phase == "Succeeded") return hpa::PodPhase::kSucceeded;
  return hpa::PodPhase::kRunning;
}

}  // namespace

std::string pod_cpu_query(const std::string& namespace_, const std::string& deployment,
                          std::chrono::seconds rate_window) {
  return fmt::format(
      R"(sum by (pod) (rate(container_cpu_usage_seconds_total{{namespace="{}",pod=~"{}",container!="",container!="POD"}}[{}s])))",
      namespace_, prom::default_pod_regex(deployment), rate_window.count());
}

std::string pod_cpu_query(const std::string& namespace_, const std::vector<PodStatus>& pods,
                          std::chrono::seconds rate_window) {
  std::vector<std::string> names;
  for (const PodStatus& pod : pods) names.push_back(pod.name);
  return fmt::format(
      R"(sum by (pod) (rate(container_cpu_usage_seconds_total{{namespace="{}",pod=~"{}",container!="",container!="POD"}}[{}s])))",
      namespace_, prom::pod_names_regex(names), rate_window.count());
}

HpaSource::HpaSource(ScaleClient& kube, PodLister& pods, prom::MetricsSource& metrics,
                     const base::Clock& clock, HpaSourceOptions options)
    : kube_(kube), pods_(pods), metrics_(metrics), clock_(clock), options_(std::move(options)) {}

HpaSource::State& HpaSource::state_for(const std::string& key, const hpa::HpaSpec& spec,
                                       const hpa::ControllerConfig& config) {
  std::lock_guard lock(mutex_);
  auto& state = states_[key];
  const auto same_spec = [&](const hpa::HpaSpec& other) {
    return other.min_replicas == spec.min_replicas && other.max_replicas == spec.max_replicas &&
           other.target_utilization_percent == spec.target_utilization_percent &&
           other.behavior->scale_down.stabilization_window == spec.behavior->scale_down.stabilization_window;
  };
  if (!state || !same_spec(state->spec))
    state = std::make_unique<State>(State{spec, std::make_unique<hpa::Controller>(spec, config)});
  return *state;
}

std::expected<Suggestion, SuggestionError> HpaSource::ask(const std::string& namespace_,
                                                          const std::string& deployment,
                                                          const DeploymentSettings& settings,
                                                          ScaleClient* workload_scale) {
  const auto scale = (workload_scale ? *workload_scale : kube_).get_scale(namespace_, deployment);
  if (!scale)
    return std::unexpected(hpa_error(
        fmt::format("hpa_kube_{}", kube::kube_error_kind_name(scale.error().kind)), scale.error().message));
  if (scale->selector.empty())
    return std::unexpected(hpa_error(
        "hpa_no_selector", fmt::format("the scale of {}/{} has no selector", namespace_, deployment)));
  const auto listed = pods_.list_pods(namespace_, scale->selector);
  if (!listed)
    return std::unexpected(hpa_error(
        fmt::format("hpa_kube_{}", kube::kube_error_kind_name(listed.error().kind)), listed.error().message));
  const auto cpu =
      metrics_.samples(workload_scale ? pod_cpu_query(namespace_, *listed, options_.rate_window)
                                      : pod_cpu_query(namespace_, deployment, options_.rate_window));
  if (!cpu)
    return std::unexpected(
        hpa_error(fmt::format("hpa_prometheus_{}", prom::query_error_kind_name(cpu.error().kind)),
                  cpu.error().message));

  // The metrics API returns a sample only for a pod it measured: a NaN or an infinity is no sample. A series
  // of a pod the list does not hold (gone, still inside the rate window) is one metrics-server would not
  // return, so it is not counted as unlisted either.
  std::map<std::string, std::int64_t> usage_m;
  for (const auto& sample : *cpu) {
    const auto pod = sample.labels.find("pod");
    if (pod == sample.labels.end() || !std::isfinite(sample.value) || sample.value < 0) continue;
    usage_m[pod->second] = std::llround(sample.value * 1000);
  }

  const base::Clock::TimePoint now = clock_.now();
  const auto wall_now = options_.wall_clock();
  const auto at = [&](std::chrono::system_clock::time_point wall) {
    return now - std::chrono::duration_cast<base::Clock::Duration>(wall_now - wall);
  };
  std::vector<hpa::PodSample> samples;
  samples.reserve(listed->size());
  for (const PodStatus& pod : *listed) {
    hpa::PodSample sample;
    sample.phase = pod_phase(pod.phase);
    sample.deleting = pod.deleting;
    sample.ready = pod.ready;
    if (pod.start_time) sample.start_time = at(*pod.start_time);
    // Without lastTransitionTime, the pod turned ready no earlier than it started.
    if (const auto changed = pod.ready_transition ? pod.ready_transition : pod.start_time)
      sample.ready_transition = at(*changed);
    sample.request_m = pod.cpu_request_m;
    if (const auto usage = usage_m.find(pod.name); usage != usage_m.end()) sample.usage_m = usage->second;
    sample.sample_time = now;
    sample.sample_window = options_.rate_window;
    samples.push_back(sample);
  }

  const hpa::HpaSpec spec =
      hpa::default_spec(settings.bounds.min, settings.bounds.max, settings.hpa.target_utilization_percent,
                        settings.hpa.downscale_stabilization);
  hpa::ControllerConfig config;
  config.calculator = options_.calculator;
  config.downscale_stabilization = settings.hpa.downscale_stabilization;
  config.sync_period = std::chrono::duration_cast<std::chrono::seconds>(settings.interval);
  State& state = state_for(namespace_ + "/" + deployment, spec, config);
  const hpa::ReconcileResult result = state.controller->reconcile(scale->replicas, samples, 0, now);
  if (result.metric_error) return std::unexpected(hpa_error("hpa_no_metrics", result.metric_error->message));

  Suggestion suggestion;
  suggestion.action_set = "hpa";
  suggestion.action_name = fmt::format("hpa_{}", result.desired_replicas);
  suggestion.replica_change = {core::ReplicaChange::Kind::kPods,
                               static_cast<double>(result.desired_replicas - scale->replicas)};
  suggestion.replicas = scale->replicas;
  return suggestion;
}

}  // namespace maestro::controller
