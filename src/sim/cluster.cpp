#include "sim/cluster.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

#include "sim/queueing.hpp"

namespace maestro::sim {
namespace {

constexpr double kNever = std::numeric_limits<double>::infinity();
constexpr std::size_t kStartupDelaysAhead = 4096;

}  // namespace

Result<ClusterConfig> validate(const ClusterConfig& config) {
  const auto positive = [](double v) { return std::isfinite(v) && v > 0; };
  const auto non_negative = [](double v) { return std::isfinite(v) && v >= 0; };
  const auto fraction = [](double v) { return v >= 0 && v <= 1; };
  const auto& s = config.service;
  if (!positive(s.cpu_limit_cores) || !positive(s.cpu_request_cores) || !positive(s.cpu_seconds_per_request))
    return fail("cluster: CPU limit, request and cost per request must be positive");
  if (!non_negative(s.idle_cpu_cores) || !non_negative(s.base_latency_ms) || !positive(s.timeout_seconds) ||
      s.timeout_seconds > 3600)
    return fail("cluster: idle CPU and base latency must not be negative, the timeout within (0, 3600] s");
  if (!positive(s.memory_base_bytes) || !non_negative(s.memory_per_request_bytes) ||
      !positive(s.memory_limit_bytes))
    return fail("cluster: memory sizes must be positive");
  if (!non_negative(config.startup.median_seconds) || !non_negative(config.startup.spread) ||
      (config.startup.distribution == StartupDistribution::kUniform && config.startup.spread > 1))
    return fail("cluster: start-up median ({} s) and spread ({}) must not be negative (uniform spread ≤ 1)",
                config.startup.median_seconds, config.startup.spread);
  const auto& m = config.metrics;
  if (!(m.window_seconds >= 1 && m.window_seconds <= 600))
    return fail("cluster: metrics window ({} s) must be within [1, 600]", m.window_seconds);
  if (!fraction(m.cpu_noise) || !fraction(m.memory_noise) || !fraction(m.latency_noise) ||
      !fraction(m.rps_noise))
    return fail("cluster: metric noise must be within [0, 1]");
  const auto& c = config.chaos;
  if (!non_negative(c.pod_kills_per_hour) || !non_negative(c.stress_per_hour) ||
      !non_negative(c.restart_seconds) || !non_negative(c.stress_seconds) ||
      !fraction(c.stress_capacity_loss) || c.stress_capacity_loss >= 1)
    return fail("cluster: chaos rates and durations must not be negative, the capacity loss within [0, 1)");
  if (!non_negative(config.drain_seconds)) return fail("cluster: drain time must not be negative");
  if (auto bounds = core::validate(config.bounds); !bounds) return std::unexpected(bounds.error());
  if (config.bounds.max > SojournTable::kMaxServers)
    return fail("cluster: max replicas ({}) above the simulator's {}", config.bounds.max,
                SojournTable::kMaxServers);
  if (config.initial_replicas < config.bounds.min || config.initial_replicas > config.bounds.max)
    return fail("cluster: initial replicas ({}) outside [{}, {}]", config.initial_replicas, config.bounds.min,
                config.bounds.max);
  if (auto slo = core::validate(config.slo); !slo) return std::unexpected(slo.error());
  if (!config.slo.set()) return fail("cluster: the SLO (soft and hard latency) must be set");
  return config;
}

Cluster::Cluster(const ClusterConfig& config)
    : config_(config),
      service_rate_(config.service.service_rate()),
      soft_ms_(config.slo.soft_ms.value_or(0)),
      hard_ms_(config.slo.hard_ms.value_or(0)) {
  pods_.reserve(static_cast<std::size_t>(config.bounds.max) * 3 + 16);
  backlog_.resize(static_cast<std::size_t>(std::ceil(config.service.timeout_seconds)) + 3);
  window_.resize(static_cast<std::size_t>(config.metrics.window_seconds));
  startup_delays_.resize(kStartupDelaysAhead);
  reset({}, 0);
}

double Cluster::draw_startup_delay() {
  const double delay = startup_delays_[next_startup_ % startup_delays_.size()];
  ++next_startup_;
  return delay;
}

double Cluster::upcoming_startup_delay(int index) const {
  return startup_delays_[(next_startup_ + static_cast<std::size_t>(index)) % startup_delays_.size()];
}

void Cluster::reset(std::span<const double> arrivals, std::uint64_t seed,
                    std::optional<int> initial_replicas) {
  arrivals_ = arrivals;
  rng_.seed(seed);
  noise_.seed_with(seed ^ 0x9e3779b97f4a7c15ULL);
  std::mt19937_64 startup_rng(seed ^ 0xc2b2ae3d27d4eb4fULL);
  const auto& startup = config_.startup;
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (auto& delay : startup_delays_) {
    delay = startup.distribution == StartupDistribution::kUniform
                ? startup.median_seconds * (1 + startup.spread * unit(startup_rng))
                : startup.median_seconds * std::exp(startup.spread * normal(startup_rng));
  }
  next_startup_ = 0;

  now_ = 0;
  pods_.clear();
  const int initial =
      core::clamp_replicas(initial_replicas.value_or(config_.initial_replicas), config_.bounds);
  for (int i = 0; i < initial; ++i) pods_.push_back(Pod{PodState::kReady, -3600, -3600, 0, -1, 1});
  replicas_ = ready_count_ = billed_pods_ = initial;
  const auto& chaos = config_.chaos;
  next_kill_ = chaos.pod_kills_per_hour > 0
                   ? std::exponential_distribution<double>(chaos.pod_kills_per_hour / 3600)(rng_)
                   : kNever;
  next_stress_ = chaos.stress_per_hour > 0
                     ? std::exponential_distribution<double>(chaos.stress_per_hour / 3600)(rng_)
                     : kNever;
  backlog_head_ = backlog_size_ = 0;
  queued_ = 0;
  std::fill(window_.begin(), window_.end(), WindowSample{});
  window_head_ = 0;
  last_observed_latency_ = 0;
  totals_ = {};
  last_tick_ = {};
  recompute_capacity();
  update_next_event();
}

void Cluster::recompute_capacity() {
  double factors = 0;
  for (const auto& pod : pods_)
    if (pod.state == PodState::kReady) factors += pod.capacity_factor;
  capacity_ = factors * service_rate_;
  pod_rate_ = ready_count_ > 0 ? capacity_ / ready_count_ : 0;
  p95_row_ = ready_count_ > 0 ? &SojournTable::shared().row(ready_count_) : nullptr;
  stable_limit_ = SojournTable::kMaxUtilisation * capacity_;
  const auto& service = config_.service;
  background_cpu_ =
      (ready_count_ - factors) * service.cpu_limit_cores + billed_pods_ * service.idle_cpu_cores;
}

void Cluster::update_next_event() {
  double next = std::min(next_kill_, next_stress_);
  for (const auto& pod : pods_) {
    if (pod.state != PodState::kReady) next = std::min(next, pod.transition_at);
    if (pod.stressed_until >= 0) next = std::min(next, pod.stressed_until);
  }
  next_event_ = next;
}

int Cluster::pick_ready_pod() {
  if (ready_count_ == 0) return -1;
  int chosen = std::uniform_int_distribution<int>(0, ready_count_ - 1)(rng_);
  for (std::size_t i = 0; i < pods_.size(); ++i)
    if (pods_[i].state == PodState::kReady && chosen-- == 0) return static_cast<int>(i);
  return -1;
}

void Cluster::process_events(double t) {
  for (std::size_t i = 0; i < pods_.size();) {
    Pod& pod = pods_[i];
    if (pod.stressed_until >= 0 && pod.stressed_until <= t) {
      pod.stressed_until = -1;
      pod.capacity_factor = 1;
    }
    if ((pod.state == PodState::kStarting || pod.state == PodState::kRestarting) && pod.transition_at <= t) {
      pod.state = PodState::kReady;
      pod.ready_since = pod.transition_at;
      ++ready_count_;
    } else if (pod.state == PodState::kDraining && pod.transition_at <= t) {
      pod = pods_.back();
      pods_.pop_back();
      --billed_pods_;
      continue;
    }
    ++i;
  }
  const auto& chaos = config_.chaos;
  while (next_kill_ <= t) {
    if (const int victim = pick_ready_pod(); victim >= 0) {
      Pod& pod = pods_[static_cast<std::size_t>(victim)];
      pod.state = PodState::kRestarting;
      pod.transition_at = t + chaos.restart_seconds;
      pod.stressed_until = -1;
      pod.capacity_factor = 1;
      --ready_count_;
    }
    next_kill_ += std::exponential_distribution<double>(chaos.pod_kills_per_hour / 3600)(rng_);
  }
  while (next_stress_ <= t) {
    if (const int victim = pick_ready_pod(); victim >= 0) {
      Pod& pod = pods_[static_cast<std::size_t>(victim)];
      pod.stressed_until = t + chaos.stress_seconds;
      pod.capacity_factor = 1 - chaos.stress_capacity_loss;
    }
    next_stress_ += std::exponential_distribution<double>(chaos.stress_per_hour / 3600)(rng_);
  }
  recompute_capacity();
  update_next_event();
}

void Cluster::set_replicas(int replicas) {
  replicas = core::clamp_replicas(replicas, config_.bounds);
  if (replicas == replicas_) return;
  ++totals_.scaling_actions;
  for (; replicas_ < replicas; ++replicas_, ++billed_pods_)
    pods_.push_back(Pod{PodState::kStarting, now_, -1, now_ + draw_startup_delay(), -1, 1});
  for (; replicas_ > replicas; --replicas_) {
    // Not-ready pods go first (the newest of them), then the most recently ready.
    Pod* victim = nullptr;
    for (auto& pod : pods_) {
      if (pod.state == PodState::kDraining) continue;
      if (!victim) {
        victim = &pod;
        continue;
      }
      const bool pod_unready = pod.state != PodState::kReady;
      const bool victim_unready = victim->state != PodState::kReady;
      if (pod_unready != victim_unready) {
        if (pod_unready) victim = &pod;
      } else if (pod_unready ? pod.created_at > victim->created_at : pod.ready_since > victim->ready_since) {
        victim = &pod;
      }
    }
    assert(victim != nullptr);
    if (victim->state == PodState::kReady) --ready_count_;
    victim->state = PodState::kDraining;
    victim->transition_at = now_ + config_.drain_seconds;
    victim->stressed_until = -1;
    victim->capacity_factor = 1;
  }
  recompute_capacity();
  update_next_event();
}

void Cluster::tick() {
  const double t = now_;
  if (t >= next_event_) process_events(t);
  const auto second = static_cast<std::size_t>(t);
  const double arriving = second < arrivals_.size() ? arrivals_[second] : 0.0;
  const auto& service = config_.service;
  double served = 0, dropped = 0, p95_ms = service.base_latency_ms, in_flight = 0;
  if (queued_ == 0 && arriving <= stable_limit_) {
    // Stable: M/M/c with the ready pods as servers.
    served = arriving;
    if (arriving > 0) {
      p95_ms += 1000 * SojournTable::interpolate(*p95_row_, arriving / capacity_) / pod_rate_;
      in_flight = arriving / pod_rate_;
    }
  } else {
    // Saturated: serve the backlog oldest first, queue what is left, drop what waited past the timeout.
    const std::size_t slots = backlog_.size();
    double remaining = capacity_;
    while (remaining > 0 && backlog_size_ > 0) {
      Cohort& oldest = backlog_[backlog_head_];
      const double take = std::min(oldest.count, remaining);
      oldest.count -= take;
      remaining -= take;
      served += take;
      queued_ -= take;
      if (oldest.count <= 0) backlog_head_ = (backlog_head_ + 1) % slots, --backlog_size_;
    }
    const double now_served = std::min(arriving, remaining);
    served += now_served;
    if (const double left = arriving - now_served; left > 0) {
      assert(backlog_size_ + 1 < slots);
      backlog_[(backlog_head_ + backlog_size_) % slots] = Cohort{t, left};
      ++backlog_size_;
      queued_ += left;
    }
    while (backlog_size_ > 0 && backlog_[backlog_head_].arrived + service.timeout_seconds <= t) {
      dropped += backlog_[backlog_head_].count;
      queued_ -= backlog_[backlog_head_].count;
      backlog_head_ = (backlog_head_ + 1) % slots, --backlog_size_;
    }
    if (backlog_size_ == 0) queued_ = 0;  // no drift from the subtractions
    if (capacity_ > 0) {
      const double wait = queued_ / capacity_;
      const double utilisation = std::min(arriving / capacity_, SojournTable::kMaxUtilisation);
      p95_ms += 1000 * (wait + SojournTable::interpolate(*p95_row_, utilisation) / pod_rate_);
      in_flight = served / pod_rate_ + queued_;
    } else if (queued_ > 0) {
      p95_ms += 1000 * service.timeout_seconds;  // nobody is served: everyone times out
      in_flight = queued_;
    }
  }

  const double served_cpu = served * service.cpu_seconds_per_request;
  const double cpu = served_cpu + background_cpu_;
  window_[window_head_] = WindowSample{cpu, served_cpu, served, p95_ms * served, in_flight};
  window_head_ = window_head_ + 1 == window_.size() ? 0 : window_head_ + 1;

  totals_.arrivals += arriving;
  totals_.served += served;
  totals_.dropped += dropped;
  totals_.pod_seconds += billed_pods_;
  totals_.seconds_over_soft += p95_ms > soft_ms_;
  totals_.seconds_over_hard += p95_ms > hard_ms_;
  last_tick_ = TickRecord{t, arriving, served, dropped, p95_ms, cpu, ready_count_, replicas_};
  now_ = t + 1;
}

double Cluster::pod_cpu_cores(const Pod& pod) const {
  const auto& service = config_.service;
  double idle = pod.state == PodState::kDraining ? 0 : service.idle_cpu_cores;
  if (pod.state != PodState::kReady) return idle;
  const std::size_t samples = std::min(window_.size(), static_cast<std::size_t>(now_));
  double served_cpu = 0;
  for (const auto& sample : window_) served_cpu += sample.served_cpu_cores;
  const double share = capacity_ > 0 ? pod.capacity_factor * service_rate_ / capacity_ : 0;
  const double mean = samples > 0 ? served_cpu / static_cast<double>(samples) : 0;
  return idle + mean * share + (1 - pod.capacity_factor) * service.cpu_limit_cores;
}

core::Observation Cluster::observe() {
  const std::size_t samples = std::min(window_.size(), static_cast<std::size_t>(now_));
  WindowSample sum;
  for (const auto& sample : window_) {
    sum.cpu_cores += sample.cpu_cores;
    sum.served += sample.served;
    sum.latency_weight += sample.latency_weight;
    sum.in_flight += sample.in_flight;
  }
  const auto& metrics = config_.metrics;
  const auto& service = config_.service;
  const auto noisy = [&](double value, double noise) {
    return noise > 0 ? std::max(0.0, value * (1 + noise * noise_())) : value;
  };
  const double per_sample = samples > 0 ? 1.0 / static_cast<double>(samples) : 0;
  core::Observation observation;
  observation.cpu_usage = noisy(100 * sum.cpu_cores * per_sample, metrics.cpu_noise);
  const double memory = billed_pods_ * service.memory_base_bytes +
                        sum.in_flight * per_sample * service.memory_per_request_bytes;
  observation.memory_usage = noisy(memory, metrics.memory_noise);
  observation.replicas = replicas_;
  // With no request in the window the latency histogram is empty; Prometheus keeps the last value.
  if (sum.served > 0) last_observed_latency_ = noisy(sum.latency_weight / sum.served, metrics.latency_noise);
  observation.latency = last_observed_latency_;
  observation.rps = noisy(sum.served * per_sample, metrics.rps_noise);
  return observation;
}

}  // namespace maestro::sim
