#include "sim/cluster.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace maestro::sim {
namespace {

constexpr double kNever = std::numeric_limits<double>::infinity();
constexpr std::size_t kStartupDelaysAhead = 4096;
constexpr double kMaxUtilisation = ErlangCTable::kMaxUtilisation;  // beyond it a queue is saturated

bool pooled(Balancer balancer) {
  return balancer == Balancer::kLeastRequest || balancer == Balancer::kPooled;
}

// The wait of a queue in the shape SojournDistribution tabulates (queueing.hpp), in mean service times:
// the probability of waiting and the mean wait of those who wait, at utilisation ρ < 1 of `servers`
// servers. Per-pod queues (one server) are fed at random (Poisson: c_a² = 1) or round-robin (every n-th of
// a Poisson stream: Erlang-n interarrivals, c_a² = 1/n).
struct Wait {
  double probability = 0;
  double mean = 0;
};

Wait queue_wait(const ClusterConfig& config, int servers, double utilisation) {
  const double service_scv = config.service.service_scv();
  if (pooled(config.balancer)) {
    const double variability = (1 + service_scv) / 2;
    return {ErlangCTable::shared().wait_probability(servers, utilisation),
            variability / (servers * (1 - utilisation))};
  }
  const double arrival_scv = config.balancer == Balancer::kRoundRobin ? 1.0 / servers : 1.0;
  return {utilisation, (arrival_scv + service_scv) / 2 / (1 - utilisation)};
}

}  // namespace

Result<ClusterConfig> validate(const ClusterConfig& config) {
  const auto positive = [](double v) { return std::isfinite(v) && v > 0; };
  const auto non_negative = [](double v) { return std::isfinite(v) && v >= 0; };
  const auto fraction = [](double v) { return v >= 0 && v <= 1; };
  const auto& s = config.service;
  if (!positive(s.cpu_limit_cores) || !positive(s.cpu_request_cores) || !positive(s.cpu_seconds_per_request))
    return fail("cluster: CPU limit, request and cost per request must be positive");
  if (!(s.service_cores >= 0 && s.service_cores <= s.cpu_limit_cores))
    return fail("cluster: service cores ({}) must be within [0, the CPU limit {}] (0: the limit)",
                s.service_cores, s.cpu_limit_cores);
  if (s.service_time != ServiceTimeDistribution::kExponential &&
      s.service_time != ServiceTimeDistribution::kLogNormal)
    return fail("cluster: unknown service-time distribution");
  if (s.service_time == ServiceTimeDistribution::kLogNormal &&
      !(s.service_time_cv >= 0.1 && s.service_time_cv <= 4))
    return fail("cluster: the service time's coefficient of variation ({}) must be within [0.1, 4]",
                s.service_time_cv);
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
  if (!(config.warmup.seconds >= 0 && config.warmup.seconds <= 3600) ||
      !(config.warmup.initial_speed > 0 && config.warmup.initial_speed <= 1))
    return fail("cluster: warm-up ({} s from {} of full speed) must be within [0, 3600] s from (0, 1]",
                config.warmup.seconds, config.warmup.initial_speed);
  if (config.balancer != Balancer::kRandom && config.balancer != Balancer::kRoundRobin &&
      !pooled(config.balancer))
    return fail("cluster: unknown load balancer");
  const auto& m = config.metrics;
  if (!(m.window_seconds >= 1 && m.window_seconds <= 600))
    return fail("cluster: metrics window ({} s) must be within [1, 600]", m.window_seconds);
  if (!(m.scrape_interval_seconds >= 1 && m.scrape_interval_seconds <= m.window_seconds / 2))
    return fail(
        "cluster: the scrape interval ({} s) must be at least 1 s and at most half the rate window ({} s), "
        "which must hold two scrapes",
        m.scrape_interval_seconds, m.window_seconds);
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
  if (config.bounds.max > ErlangCTable::kMaxServers)
    return fail("cluster: max replicas ({}) above the simulator's {}", config.bounds.max,
                ErlangCTable::kMaxServers);
  if (config.initial_replicas < config.bounds.min || config.initial_replicas > config.bounds.max)
    return fail("cluster: initial replicas ({}) outside [{}, {}]", config.initial_replicas, config.bounds.min,
                config.bounds.max);
  if (auto slo = core::validate(config.slo); !slo) return std::unexpected(slo.error());
  if (!config.slo.set()) return fail("cluster: the SLO (soft and hard latency) must be set");
  return config;
}

double steady_share_within_soft_slo(const ClusterConfig& config, double requests_per_second, int pods) {
  if (requests_per_second <= 0) return 1;
  if (pods <= 0) return 0;
  const double rate = config.service.service_rate();
  const double budget = (*config.slo.soft_ms - config.service.base_latency_ms) / 1000;  // s for queueing
  const double utilisation = requests_per_second / (pods * rate);
  if (budget <= 0 || utilisation > kMaxUtilisation) return 0;
  const auto& sojourn =
      SojournDistribution::shared(config.service.service_time, config.service.service_time_cv);
  const Wait wait = queue_wait(config, pods, utilisation);
  return sojourn.cdf(wait.probability, wait.mean, budget * rate);
}

int pods_needed(const ClusterConfig& config, double requests_per_second) {
  const auto& bounds = config.bounds;
  if (requests_per_second <= 0) return bounds.min;
  const auto meets = [&](int pods) {
    return steady_share_within_soft_slo(config, requests_per_second, pods) >= 0.95;
  };
  // The p95 falls as pods are added (lower utilisation; round-robin also smooths each pod's arrivals).
  int lo = std::max(1, bounds.min), hi = bounds.max;
  if (hi < lo || !meets(hi)) return bounds.max + 1;
  while (lo < hi) {
    const int mid = lo + (hi - lo) / 2;
    if (meets(mid)) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

double Cluster::Backlog::serve(double capacity) {
  double served = 0;
  while (capacity > 0 && size_ > 0) {
    Cohort& oldest = ring_[head_];
    const double take = std::min(oldest.count, capacity);
    oldest.count -= take;
    capacity -= take;
    served += take;
    queued_ -= take;
    if (oldest.count <= 0) head_ = next(head_), --size_;
  }
  if (size_ == 0) queued_ = 0;  // no drift from the subtractions
  return served;
}

void Cluster::Backlog::enqueue(double arrived, double count) {
  assert(size_ + 1 < ring_.size());
  const std::size_t tail = head_ + size_;
  ring_[tail < ring_.size() ? tail : tail - ring_.size()] = Cohort{arrived, count};
  ++size_;
  queued_ += count;
}

double Cluster::Backlog::expire(double now, double timeout) {
  double dropped = 0;
  while (size_ > 0 && ring_[head_].arrived + timeout <= now) {
    dropped += ring_[head_].count;
    queued_ -= ring_[head_].count;
    head_ = next(head_), --size_;
  }
  if (size_ == 0) queued_ = 0;
  return dropped;
}

Cluster::Cluster(const ClusterConfig& config)
    : config_(config),
      sojourn_(&SojournDistribution::shared(config.service.service_time, config.service.service_time_cv)),
      service_rate_(config.service.service_rate()),
      soft_ms_(config.slo.soft_ms.value_or(0)),
      hard_ms_(config.slo.hard_ms.value_or(0)) {
  pods_.reserve(static_cast<std::size_t>(config.bounds.max) * 3 + 16);
  backlog_slots_ = static_cast<std::size_t>(std::ceil(config.service.timeout_seconds)) + 3;
  pooled_backlog_.resize(backlog_slots_);
  const double base = config.service.base_latency_ms / 1000;
  for (std::size_t k = 0; k < kBuckets + 2; ++k) {
    const double bound = k < kBuckets ? kLatencyBucketBounds[k] : (k == kSoft ? soft_ms_ : hard_ms_) / 1000;
    bound_delays_[k] = bound - base;
    bound_positions_[k] =
        bound_delays_[k] > 0 ? SojournDistribution::time_position(bound_delays_[k]) : -kNever;
  }
  const auto& metrics = config.metrics;
  scrapes_.resize(static_cast<std::size_t>(metrics.window_seconds / metrics.scrape_interval_seconds) + 2);
  cpu_window_ = static_cast<std::size_t>(std::ceil(metrics.window_seconds));
  // The window ending at the last scrape, up to one scrape interval ago.
  cpu_ring_ = cpu_window_ + static_cast<std::size_t>(std::ceil(metrics.scrape_interval_seconds));
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

void Cluster::add_pod(const Pod& pod) {
  pods_.push_back(pod);
  int slot;
  if (!free_cpu_slots_.empty()) {
    slot = free_cpu_slots_.back();
    free_cpu_slots_.pop_back();
  } else {
    slot = static_cast<int>(pod_cpu_.size() / cpu_ring_);
    pod_cpu_.resize(pod_cpu_.size() + cpu_ring_);
  }
  std::fill_n(pod_cpu_.begin() + static_cast<std::ptrdiff_t>(slot * cpu_ring_), cpu_ring_, 0.0);
  pods_.back().cpu_slot = slot;
}

void Cluster::reset(std::span<const double> arrivals, std::uint64_t seed,
                    std::optional<int> initial_replicas) {
  arrivals_ = arrivals;
  seed_ = seed;
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
  pod_cpu_.clear();
  free_cpu_slots_.clear();
  cpu_head_ = 0;
  groups_.clear();
  pooled_backlog_.clear();
  queued_ = 0;
  const int initial =
      core::clamp_replicas(initial_replicas.value_or(config_.initial_replicas), config_.bounds);
  for (int i = 0; i < initial; ++i) add_pod(Pod{PodState::kReady, -3600, -3600, 0, -1, 1});
  replicas_ = ready_count_ = billed_pods_ = initial;
  const auto& chaos = config_.chaos;
  next_kill_ = chaos.pod_kills_per_hour > 0
                   ? std::exponential_distribution<double>(chaos.pod_kills_per_hour / 3600)(rng_)
                   : kNever;
  next_stress_ = chaos.stress_per_hour > 0
                     ? std::exponential_distribution<double>(chaos.stress_per_hour / 3600)(rng_)
                     : kNever;
  totals_ = {};
  second_ = {};
  queue_seconds_.clear();
  last_tick_ = {};
  p95_stale_ = false;
  last_observed_latency_ = 0;
  counters_ = {};
  scrape_head_ = scrape_count_ = 0;
  scrape();  // the series exist before the run: the first scrape is at its start
  next_scrape_ = config_.metrics.scrape_interval_seconds;
  regroup();
  update_next_event();
}

void Cluster::regroup() {
  const auto& warmup = config_.warmup;
  const bool warms = warmup.seconds > 0 && warmup.initial_speed < 1;
  const double queued_before = queued_;
  regrouped_.clear();
  for (auto& pod : pods_) {
    if (pod.state != PodState::kReady) {
      pod.group = -1;
      continue;
    }
    const PodGroup* old = pod.group >= 0 ? &groups_[static_cast<std::size_t>(pod.group)] : nullptr;
    const int origin = old && !old->backlog.empty() ? pod.group : -1;
    // Warm-up counts whole seconds of service from the first tick the pod is ready in, so that pods share
    // a handful of speeds (and their tabulated rows).
    const double first_second = std::ceil(pod.ready_since);
    const double warm_from = warms && now_ < first_second + warmup.seconds ? first_second : -kNever;
    auto same = std::find_if(regrouped_.begin(), regrouped_.end(), [&](const PodGroup& group) {
      return group.origin == origin && group.capacity_factor == pod.capacity_factor &&
             group.warm_from == warm_from;
    });
    if (same == regrouped_.end()) {
      PodGroup group;
      group.capacity_factor = pod.capacity_factor;
      group.warm_from = warm_from;
      group.origin = origin;
      if (origin >= 0) {
        group.backlog = old->backlog;
      } else {
        group.backlog.resize(backlog_slots_);
      }
      group.served_per_pod = old ? old->served_per_pod : 0;
      regrouped_.push_back(std::move(group));
      same = regrouped_.end() - 1;
    }
    ++same->pods;
    pod.group = static_cast<int>(same - regrouped_.begin());
  }
  std::swap(groups_, regrouped_);
  if (pooled(config_.balancer)) return;
  // A killed or removed pod's queue goes with it.
  queued_ = 0;
  for (const auto& group : groups_) queued_ += group.pods * group.backlog.queued();
  totals_.dropped += std::max(0.0, queued_before - queued_);
}

double Cluster::warm_speed(const PodGroup& group, double t) const {
  if (group.warm_from == -kNever) return 1;
  const auto& warmup = config_.warmup;
  const double progress = std::min(1.0, (t + 0.5 - group.warm_from) / warmup.seconds);
  return warmup.initial_speed + (1 - warmup.initial_speed) * progress;
}

void Cluster::update_next_event() {
  double next = std::min(next_kill_, next_stress_);
  for (const auto& pod : pods_) {
    if (pod.state != PodState::kReady) next = std::min(next, pod.transition_at);
    if (pod.stressed_until >= 0) next = std::min(next, pod.stressed_until);
  }
  for (const auto& group : groups_)
    if (group.warm_from != -kNever) next = std::min(next, group.warm_from + config_.warmup.seconds);
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
      free_cpu_slots_.push_back(pod.cpu_slot);
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
  regroup();
  update_next_event();
}

void Cluster::set_replicas(int replicas) {
  replicas = core::clamp_replicas(replicas, config_.bounds);
  if (replicas == replicas_) return;
  ++totals_.scaling_actions;
  for (; replicas_ < replicas; ++replicas_, ++billed_pods_)
    add_pod(Pod{PodState::kStarting, now_, -1, now_ + draw_startup_delay(), -1, 1});
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
  regroup();
  update_next_event();
}

Cluster::BoundRows& Cluster::bound_rows(double speed, int servers) {
  for (auto& rows : bound_rows_)
    if (rows.speed == speed && rows.servers == servers) return rows;
  // Pods at a few speeds (warm, stressed, each second of warm-up) and counts; start afresh if ever exceeded.
  constexpr std::size_t kMaxShapes = 96;
  if (bound_rows_.size() == kMaxShapes) bound_rows_.clear();
  BoundRows& rows = bound_rows_.emplace_back();
  rows.speed = speed;
  rows.servers = servers;
  rows.shift = std::log(speed) * SojournDistribution::kPositionsPerLog;
  rows.values = std::make_unique_for_overwrite<double[]>((kUtilisationSteps + 1) * kRowWidth);
  rows.tabulated.assign(kUtilisationSteps + 1, 0);
  return rows;
}

void Cluster::tabulate_row(BoundRows& rows, int utilisation_step) {
  double* row = &rows.values[static_cast<std::size_t>(utilisation_step) * kRowWidth];
  const Wait wait = queue_wait(config_, rows.servers, kMaxUtilisation * utilisation_step / kUtilisationSteps);
  const auto at_wait = sojourn_->at_wait(wait.probability, SojournDistribution::wait_position(wait.mean));
  for (std::size_t k = 0; k < kBuckets + 2; ++k) row[k] = at_wait.cdf_at(bound_positions_[k] + rows.shift);
  row[kMeanSojourn] = 1 + wait.probability * wait.mean;
  rows.tabulated[static_cast<std::size_t>(utilisation_step)] = 1;
}

void Cluster::record(double served, double utilisation, int servers, double speed, double backlog_wait,
                     bool recurring) {
  if (served <= 0) return;
  queue_seconds_.push_back(QueueSecond{served, utilisation, servers, speed,
                                       config_.service.base_latency_ms / 1000 + backlog_wait});
  std::array<double, kRowWidth> below;  // P(latency ≤ bound), then the mean sojourn
  if (recurring && backlog_wait == 0) {
    // Interpolate the shape's rows in utilisation.
    BoundRows& rows = bound_rows(speed, servers);
    const double position = utilisation * (kUtilisationSteps / kMaxUtilisation);
    const int i = std::min(static_cast<int>(position), kUtilisationSteps - 1);
    const double fraction = position - i;
    const double* low = bound_row(rows, i);
    const double* high = bound_row(rows, i + 1);
    for (std::size_t k = 0; k < kRowWidth; ++k) below[k] = low[k] + (high[k] - low[k]) * fraction;
  } else {
    const Wait wait = queue_wait(config_, servers, utilisation);
    const auto at_wait = sojourn_->at_wait(wait.probability, SojournDistribution::wait_position(wait.mean));
    if (backlog_wait == 0) {
      // A one-off speed: the bounds' positions move by its logarithm.
      const double shift = std::log(speed) * SojournDistribution::kPositionsPerLog;
      for (std::size_t k = 0; k < kBuckets + 2; ++k) below[k] = at_wait.cdf_at(bound_positions_[k] + shift);
    } else {
      // Behind a backlog: what is left of each bound after the wait it adds (most often nothing).
      for (std::size_t k = 0; k < kBuckets + 2; ++k) {
        const double delay = bound_delays_[k] - backlog_wait;
        below[k] = delay > 0 ? at_wait.cdf_at(SojournDistribution::time_position(delay * speed)) : 0;
      }
    }
    below[kMeanSojourn] = 1 + wait.probability * wait.mean;
  }
  for (std::size_t k = 0; k < kBuckets; ++k) counters_.buckets[k] += served * below[k];
  counters_.buckets[kBuckets] += served;
  second_.served += served;
  second_.over_soft += served * (1 - below[kSoft]);
  second_.over_hard += served * (1 - below[kHard]);
  second_.in_flight += served * below[kMeanSojourn] / speed;  // Little's law
}

void Cluster::serve_per_pod(double t, double arriving) {
  const int pods = ready_count_;
  if (pods == 0) {
    second_.dropped += arriving;  // no endpoints: the Service refuses the connection
    return;
  }
  const double share = arriving / pods;
  const double timeout = config_.service.timeout_seconds;
  double queued = 0;
  for (auto& group : groups_) {
    const double speed = service_rate_ * group.capacity_factor * warm_speed(group, t);
    Backlog& backlog = group.backlog;
    double served, backlog_wait = 0, utilisation;
    if (backlog.empty() && share <= kMaxUtilisation * speed) {
      served = share;
      utilisation = share / speed;
    } else {
      // Saturated: serve the backlog oldest first, queue what is left, drop what waited past the timeout.
      served = backlog.serve(speed);
      const double now_served = std::min(share, speed - served);
      served += now_served;
      if (share - now_served > 0) backlog.enqueue(t, share - now_served);
      second_.dropped += group.pods * backlog.expire(t, timeout);
      backlog_wait = backlog.queued() / speed;
      utilisation = std::min(share / speed, kMaxUtilisation);
    }
    group.served_per_pod = served;
    // Random balancing: each pod's queue is the same whatever the pod count.
    const int servers = config_.balancer == Balancer::kRandom ? 1 : pods;
    record(group.pods * served, utilisation, servers, speed, backlog_wait, true);
    queued += group.pods * backlog.queued();
  }
  queued_ = queued;
}

void Cluster::serve_pooled(double t, double arriving) {
  const int pods = ready_count_;
  double capacity = 0;
  for (const auto& group : groups_)
    capacity += group.pods * service_rate_ * group.capacity_factor * warm_speed(group, t);
  Backlog& backlog = pooled_backlog_;
  const double timeout = config_.service.timeout_seconds;
  double served = 0, backlog_wait = 0, utilisation = 0;
  if (backlog.empty() && arriving <= kMaxUtilisation * capacity) {
    served = arriving;
    utilisation = capacity > 0 ? arriving / capacity : 0;
  } else {
    served = backlog.serve(capacity);
    const double now_served = std::min(arriving, capacity - served);
    served += now_served;
    if (arriving - now_served > 0) backlog.enqueue(t, arriving - now_served);
    second_.dropped += backlog.expire(t, timeout);
    if (capacity > 0) {
      backlog_wait = backlog.queued() / capacity;
      utilisation = std::min(arriving / capacity, kMaxUtilisation);
    }
  }
  queued_ = backlog.queued();
  if (pods == 0) return;
  // Each pod serves in proportion to its speed.
  for (auto& group : groups_)
    group.served_per_pod = served * service_rate_ * group.capacity_factor * warm_speed(group, t) / capacity;
  const bool recurring = std::all_of(groups_.begin(), groups_.end(),
                                     [](const PodGroup& group) { return group.warm_from == -kNever; });
  record(served, utilisation, pods, capacity / pods, backlog_wait, recurring);
}

void Cluster::account_cpu() {
  const auto& service = config_.service;
  // The ready pods of a group served alike and lose the same to stress: their CPU is worked out once.
  for (auto& group : groups_)
    group.pod_cpu_cores = service.idle_cpu_cores + ((1 - group.capacity_factor) * service.cpu_limit_cores +
                                                    group.served_per_pod * service.cpu_seconds_per_request);
  double total = 0;
  for (const auto& pod : pods_) {
    const double cpu = pod.state == PodState::kReady
                           ? groups_[static_cast<std::size_t>(pod.group)].pod_cpu_cores
                           : service.idle_cpu_cores;
    pod_cpu_[static_cast<std::size_t>(pod.cpu_slot) * cpu_ring_ + cpu_head_] = cpu;
    total += cpu;
  }
  cpu_head_ = cpu_head_ + 1 == cpu_ring_ ? 0 : cpu_head_ + 1;
  second_.cpu_cores = total;
  counters_.cpu_seconds += total;
}

void Cluster::tick() {
  const double t = now_;
  second_ = {};
  queue_seconds_.clear();
  if (t >= next_event_) process_events(t);
  const auto index = static_cast<std::size_t>(t);
  const double arriving = index < arrivals_.size() ? arrivals_[index] : 0.0;
  if (pooled(config_.balancer)) {
    serve_pooled(t, arriving);
  } else {
    serve_per_pod(t, arriving);
  }
  second_.in_flight += queued_;
  account_cpu();
  counters_.served += second_.served;

  totals_.arrivals += arriving;
  totals_.served += second_.served;
  totals_.dropped += second_.dropped;
  totals_.requests_over_soft += second_.over_soft;
  totals_.requests_over_hard += second_.over_hard;
  totals_.pod_seconds += billed_pods_;
  // p95 > SLO exactly when more than 5% of the second's requests took longer. Nothing served while
  // requests queue or are refused: everyone waits for the timeout.
  const bool unserved = second_.served == 0 && (queued_ > 0 || second_.dropped > 0);
  totals_.seconds_over_soft += unserved || second_.over_soft > 0.05 * second_.served;
  totals_.seconds_over_hard += unserved || second_.over_hard > 0.05 * second_.served;
  const double p95_ms =
      config_.service.base_latency_ms + (unserved ? 1000 * config_.service.timeout_seconds : 0);
  last_tick_ = TickRecord{t,      arriving,          second_.served, second_.dropped,
                          p95_ms, second_.cpu_cores, ready_count_,   replicas_};
  p95_stale_ = !queue_seconds_.empty();
  now_ = t + 1;
  if (now_ >= next_scrape_) {
    scrape();
    next_scrape_ += config_.metrics.scrape_interval_seconds;
  }
}

const TickRecord& Cluster::last_tick() const {
  if (!p95_stale_) return last_tick_;
  // The 0.95 quantile of the mixture of the second's queues, by bisection on the latency.
  double total = 0, lo = kNever, hi = 0;
  for (const auto& queue : queue_seconds_) {
    total += queue.served;
    lo = std::min(lo, queue.fixed_delay);
    hi = std::max(hi, queue.fixed_delay + SojournDistribution::kMaxTime / queue.speed);
  }
  auto& waits = queue_waits_;
  waits.clear();
  for (const auto& queue : queue_seconds_) {
    const Wait wait = queue_wait(config_, queue.servers, queue.utilisation);
    waits.push_back(sojourn_->at_wait(wait.probability, SojournDistribution::wait_position(wait.mean)));
  }
  const auto tail = [&](double latency) {
    double over = 0;
    for (std::size_t q = 0; q < queue_seconds_.size(); ++q) {
      const auto& queue = queue_seconds_[q];
      const double delay = latency - queue.fixed_delay;
      const double position = delay > 0 ? SojournDistribution::time_position(delay * queue.speed) : -kNever;
      over += queue.served * (1 - waits[q].cdf_at(position));
    }
    return over;
  };
  for (int i = 0; i < 100; ++i) {
    const double mid = 0.5 * (lo + hi);
    const bool converged = mid == lo || mid == hi;
    (tail(mid) > 0.05 * total ? lo : hi) = mid;
    // lo and hi are adjacent doubles (or equal): every further step would repeat this one and change nothing.
    if (converged) break;
  }
  last_tick_.p95_ms = 1000 * 0.5 * (lo + hi);
  p95_stale_ = false;
  return last_tick_;
}

void Cluster::scrape() {
  const auto& service = config_.service;
  counters_.time = now_;
  counters_.memory_bytes =
      billed_pods_ * service.memory_base_bytes + second_.in_flight * service.memory_per_request_bytes;
  if (scrape_count_ == scrapes_.size()) {
    scrape_head_ = (scrape_head_ + 1) % scrapes_.size();
    --scrape_count_;
  }
  scrapes_[(scrape_head_ + scrape_count_) % scrapes_.size()] = counters_;
  ++scrape_count_;
}

double Cluster::last_scrape_time() const {
  return scrapes_[(scrape_head_ + scrape_count_ - 1) % scrapes_.size()].time;
}

double Cluster::pod_cpu_cores(const Pod& pod) const {
  const double scraped = last_scrape_time();
  const auto lag = std::min(cpu_ring_ - cpu_window_, static_cast<std::size_t>(std::lround(now_ - scraped)));
  const double age = scraped - std::max(0.0, pod.created_at);
  const auto samples = std::min(cpu_window_, static_cast<std::size_t>(std::max(0.0, age)));
  if (samples == 0) return config_.service.idle_cpu_cores;
  const double* ring = &pod_cpu_[static_cast<std::size_t>(pod.cpu_slot) * cpu_ring_];
  // Newest first, from the second before the scrape back.
  std::size_t at = (cpu_head_ + cpu_ring_ - lag - 1) % cpu_ring_;
  double sum = 0;
  for (std::size_t i = 0; i < samples; ++i) {
    sum += ring[at];
    at = at == 0 ? cpu_ring_ - 1 : at - 1;
  }
  return sum / static_cast<double>(samples);
}

core::Observation Cluster::observe() {
  const auto& metrics = config_.metrics;
  const auto noisy = [&](double value, double noise) {
    return noise > 0 ? std::max(0.0, value * (1 + noise * noise_())) : value;
  };
  // The scrapes inside the range (now − window, now], oldest first.
  const Counters* first = nullptr;
  const Counters* last = nullptr;
  int samples = 0;
  for (std::size_t i = 0; i < scrape_count_; ++i) {
    const Counters& scraped = scrapes_[(scrape_head_ + i) % scrapes_.size()];
    if (scraped.time <= now_ - metrics.window_seconds) continue;
    if (!first) first = &scraped;
    last = &scraped;
    ++samples;
  }
  core::Observation observation;
  observation.replicas = replicas_;
  observation.memory_usage = noisy(
      scrapes_[(scrape_head_ + scrape_count_ - 1) % scrapes_.size()].memory_bytes, metrics.memory_noise);
  if (samples < 2) {  // no rate yet; the histogram keeps the last latency
    observation.latency = last_observed_latency_;
    return observation;
  }
  const auto rate = [&](double first_value, double last_value) {
    return extrapolated_increase(first->time, first_value, last->time, last_value, samples, now_,
                                 metrics.window_seconds) /
           metrics.window_seconds;
  };
  observation.cpu_usage = noisy(100 * rate(first->cpu_seconds, last->cpu_seconds), metrics.cpu_noise);
  observation.rps = noisy(rate(first->served, last->served), metrics.rps_noise);
  // histogram_quantile over the buckets' rates: the common extrapolation factor cancels.
  std::array<double, kBuckets + 1> increase;
  for (std::size_t k = 0; k < increase.size(); ++k) increase[k] = last->buckets[k] - first->buckets[k];
  const double p95 = histogram_quantile(0.95, kLatencyBucketBounds, increase);
  if (std::isfinite(p95)) last_observed_latency_ = noisy(1000 * p95, metrics.latency_noise);
  observation.latency = last_observed_latency_;
  return observation;
}

}  // namespace maestro::sim
