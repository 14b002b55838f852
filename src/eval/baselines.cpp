#include "eval/baselines.hpp"

#include <algorithm>
#include <cmath>

namespace maestro::eval {
namespace {

hpa::TimePoint at_seconds(double seconds) {
  return hpa::TimePoint{} +
         std::chrono::duration_cast<base::Clock::Duration>(std::chrono::duration<double>(seconds));
}

// metrics-server resolution: a new container has no sample before its first scrape.
constexpr double kFirstSampleSeconds = 15;

}  // namespace

HpaAutoscaler::HpaAutoscaler(const hpa::HpaSpec& spec, const hpa::ControllerConfig& config)
    : spec_(spec), config_(config) {}

int HpaAutoscaler::period_seconds() const {
  return static_cast<int>(config_.sync_period.count());
}

void HpaAutoscaler::reset(const sim::Cluster& cluster) {
  controller_ = std::make_unique<hpa::Controller>(spec_, config_);
  noise_.seed_with(cluster.seed() ^ 0x5851f42d4c957f2dULL);
}

std::vector<hpa::PodSample> HpaAutoscaler::pod_samples(const sim::Cluster& cluster) {
  const double scraped = cluster.last_scrape_time();
  const auto& config = cluster.config();
  const auto request = static_cast<std::int64_t>(std::llround(config.service.cpu_request_cores * 1000));
  const auto window = std::chrono::seconds(static_cast<int>(config.metrics.window_seconds));
  std::vector<hpa::PodSample> samples;
  samples.reserve(cluster.pods().size());
  for (const auto& pod : cluster.pods()) {
    hpa::PodSample sample;
    sample.phase = hpa::PodPhase::kRunning;
    sample.deleting = pod.state == sim::PodState::kDraining;
    sample.start_time = at_seconds(pod.created_at);
    sample.request_m = request;
    sample.sample_time = at_seconds(scraped);
    sample.sample_window = window;
    const auto usage = static_cast<std::int64_t>(std::llround(cluster.pod_cpu_cores(pod) * 1000));
    switch (pod.state) {
      case sim::PodState::kReady:
        sample.ready = true;
        sample.ready_transition = at_seconds(pod.ready_since);
        sample.usage_m = usage;
        break;
      case sim::PodState::kStarting:
        sample.ready = false;
        sample.ready_transition = at_seconds(pod.created_at);
        if (scraped - pod.created_at >= kFirstSampleSeconds) sample.usage_m = usage;
        break;
      case sim::PodState::kRestarting:
        // The container restarts in place: the pod keeps its start time and turns unready when killed.
        sample.ready = false;
        sample.ready_transition = at_seconds(pod.transition_at - config.chaos.restart_seconds);
        sample.usage_m = usage;
        break;
      case sim::PodState::kDraining:
        break;
    }
    samples.push_back(sample);
  }
  return samples;
}

int HpaAutoscaler::decide(const sim::Cluster& cluster, const core::Observation&) {
  auto pods = pod_samples(cluster);
  // Each pod's reported CPU carries the noise the policies' CPU metric does.
  const double noise = cluster.config().metrics.cpu_noise;
  if (noise > 0)
    for (auto& pod : pods)
      if (pod.usage_m)
        pod.usage_m = std::llround(static_cast<double>(*pod.usage_m) * std::max(0.0, 1 + noise * noise_()));
  const auto result = controller_->reconcile(cluster.replicas(), pods, 0, at_seconds(cluster.now()));
  return result.desired_replicas;  // on a metric error: current replicas
}

std::unique_ptr<Autoscaler> make_hpa(const core::ReplicaBounds& bounds, int target_percent,
                                     std::chrono::seconds down_window) {
  const hpa::HpaSpec spec = hpa::default_spec(bounds.min, bounds.max, target_percent, down_window);
  hpa::ControllerConfig config;
  config.downscale_stabilization = down_window;
  return std::make_unique<HpaAutoscaler>(spec, config);
}

KpaAutoscaler::KpaAutoscaler(const KpaConfig& config)
    : config_(config), requests_(static_cast<std::size_t>(std::ceil(config.stable_window_seconds))) {}

void KpaAutoscaler::reset(const sim::Cluster&) {
  std::fill(requests_.begin(), requests_.end(), 0.0);
  seen_ = 0;
  panic_started_ = -1;
  max_panic_pods_ = 0;
}

void KpaAutoscaler::observe_second(const sim::Cluster& cluster) {
  requests_[seen_ % requests_.size()] = cluster.last_arrivals();
  ++seen_;
}

double KpaAutoscaler::average_over(double seconds) const {
  const std::size_t count = std::min({seen_, requests_.size(), static_cast<std::size_t>(std::ceil(seconds))});
  if (count == 0) return 0;
  double sum = 0;
  for (std::size_t k = 1; k <= count; ++k) sum += requests_[(seen_ - k) % requests_.size()];
  return sum / static_cast<double>(count);
}

int KpaAutoscaler::decide(const sim::Cluster& cluster, const core::Observation&) {
  const double now = cluster.now();
  const double ready = std::max(1, cluster.ready_pods());
  const double max_up = std::ceil(config_.max_scale_up_rate * ready);
  const double max_down = std::floor(ready / config_.max_scale_down_rate);
  const double stable_pods =
      std::ceil(average_over(config_.stable_window_seconds) / config_.target_rps_per_pod);
  const double panic_pods =
      std::ceil(average_over(config_.panic_window_seconds) / config_.target_rps_per_pod);
  const int desired_stable = static_cast<int>(std::min(std::max(stable_pods, max_down), max_up));
  const int desired_panic = static_cast<int>(std::min(std::max(panic_pods, max_down), max_up));

  const bool over_threshold = panic_pods / ready >= config_.panic_threshold;
  if (over_threshold) {
    panic_started_ = now;  // begin, or extend, the panic
  } else if (panicking() && panic_started_ + config_.stable_window_seconds < now) {
    panic_started_ = -1;  // the surge has reached the stable window
    max_panic_pods_ = 0;
  }
  int desired = desired_stable;
  if (panicking()) {
    desired = std::max(desired, desired_panic);
    if (desired > max_panic_pods_)
      max_panic_pods_ = desired;
    else
      desired = max_panic_pods_;  // no scale-down while panicking
  }
  return desired;
}

int static_allocation_for(const sim::ClusterConfig& config, std::span<const double> arrivals) {
  const double busiest = arrivals.empty() ? 0 : *std::max_element(arrivals.begin(), arrivals.end());
  return core::clamp_replicas(pods_needed(config, busiest), config.bounds);
}

}  // namespace maestro::eval
