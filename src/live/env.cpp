#include "live/env.hpp"

#include <algorithm>
#include <cmath>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace maestro::live {

namespace {

using Steady = std::chrono::steady_clock;
using System = std::chrono::system_clock;

constexpr std::chrono::milliseconds kPoll{250};

double seconds(std::chrono::nanoseconds duration) {
  return std::chrono::duration<double>(duration).count();
}

Result<double> annotation(const DeploymentState& deployment, const char* key) {
  const auto found = deployment.annotations.find(key);
  if (found == deployment.annotations.end()) return fail("the deployment has no {} annotation", key);
  try {
    return std::stod(found->second);
  } catch (const std::exception&) {
    return fail("annotation {}: \"{}\" is not a number of milliseconds", key, found->second);
  }
}

}  // namespace

Result<EnvConfig> validate(const EnvConfig& config) {
  if (!prom::is_kubernetes_name(config.namespace_) || !prom::is_kubernetes_name(config.deployment))
    return fail("deployment {}/{} is not a valid Kubernetes name", config.namespace_, config.deployment);
  if (config.interval.count() <= 0) return fail("the control interval must be positive");
  if (config.window.count() <= 0) return fail("the rate window must be positive");
  if (config.episode_steps < 1) return fail("episodes need at least one step");
  if (config.actions.size() < 1) return fail("no actions");
  if (auto bounds = core::validate(config.bounds); !bounds) return std::unexpected(bounds.error());
  if (auto reward = core::validate(config.reward); !reward) return std::unexpected(reward.error());
  if (auto features = core::validate(config.features); !features) return std::unexpected(features.error());
  if (config.slo)
    if (auto slo = core::validate(*config.slo); !slo || !slo->set())
      return fail("the SLO needs a soft and a hard constraint, soft < hard");
  EnvConfig checked = config;
  checked.state.window = fmt::format("{}s", config.window.count());
  auto state = prom::StateBuilder::validate(checked.state);
  if (!state) return std::unexpected(state.error());
  checked.state = *state;
  return checked;
}

prom::DeploymentRef Env::deployment_ref() const {
  prom::DeploymentRef ref;
  ref.namespace_name = config_.namespace_;
  ref.name = config_.deployment;
  return ref;
}

Env::Env(EnvConfig config, DeploymentApi& api, prom::MetricsSource& metrics, ChaosSource* chaos)
    : config_(std::move(config)),
      api_(api),
      metrics_(metrics),
      chaos_(chaos),
      builder_(metrics, config_.state),
      features_(config_.features) {}

std::size_t Env::observation_size() const {
  return core::feature_count(config_.features.set);
}

Result<void> Env::wait_for_coverage(Steady::time_point action_at, Steady::time_point deadline) {
  const std::string& check = config_.state.templates.pods_reporting;
  if (check == prom::kNoPodsCheck) return {};
  auto query = prom::render_template(check, deployment_ref(), config_.state.window);
  if (!query) return std::unexpected(query.error());
  const std::string stalest = "max(" + *query + ")";
  while (true) {
    const double since = seconds(Steady::now() - action_at);
    const auto age = metrics_.value(stalest);
    if (age && *age <= since) return {};
    if (Steady::now() >= deadline && !age)
      return fail("reading the metrics' freshness: {}", age.error().message);
    if (Steady::now() >= deadline)
      return fail(
          "the metrics did not cover the {:.1f} s since the action within {} ms more: the stalest pod's "
          "newest sample is {:.1f} s old",
          since, config_.metrics_wait.count(), *age);
    std::this_thread::sleep_for(kPoll);  // waiting for Prometheus' next scrape, with a deadline
  }
}

// Pods just started may not be scraped yet (Prometheus discovers targets every 5 s): the StateBuilder then
// refuses, and the observation is tried again until the deadline.
Result<Env::Observed> Env::observe(Steady::time_point action_at) {
  const auto deadline = Steady::now() + config_.metrics_wait;
  while (true) {
    if (auto covered = wait_for_coverage(action_at, deadline); !covered)
      return std::unexpected(covered.error());
    auto deployment = api_.get(config_.namespace_, config_.deployment);
    if (!deployment) return fail("reading the deployment: {}", deployment.error().message);
    prom::DeploymentRef ref = deployment_ref();
    ref.replicas = deployment->replicas;
    ref.ready_replicas = deployment->ready_replicas;
    auto built = builder_.build(ref);
    if (built) return Observed{built->observation, std::move(*deployment)};
    if (Steady::now() >= deadline) return fail("observing: {}", built.error().message);
    std::this_thread::sleep_for(kPoll);  // waiting for the next scrape, with a deadline
  }
}

void Env::write(const Observed& observed, std::span<double> out) {
  // As the suggestion server: pods still starting are spec.replicas − status.readyReplicas.
  const double starting = std::max(0, observed.deployment.replicas - observed.deployment.ready_replicas);
  features_.build(observed.observation, core::DeploymentStatus{starting}, feature_buffer_);
  std::copy(feature_buffer_.begin(), feature_buffer_.end(), out.begin());
  last_observation_ = observed.observation;
  last_deployment_ = observed.deployment;
  last_observed_at_ = System::now();
}

void Env::reset(std::uint64_t, std::span<double> observation) {
  if (chaos_ != nullptr && !config_.chaos_spec.empty() && !chaos_applied_) {
    if (auto applied = chaos_->apply(config_.chaos_spec); applied)
      chaos_applied_ = true;
    else
      spdlog::warn("live env: chaos not applied (tried again at the next reset): {}",
                   applied.error().message);
  }
  features_.reset();
  steps_ = 0;
  last_failed_ = false;
  last_excused_ = false;
  while (true) {
    // The first observation needs no action to cover: data no older than one interval.
    auto observed = observe(Steady::now() - config_.interval);
    if (observed) {
      write(*observed, observation);
      return;
    }
    spdlog::warn("live env: cannot start an episode of {}/{}: {}; trying again in {} ms", config_.namespace_,
                 config_.deployment, observed.error().message, config_.interval.count());
    std::this_thread::sleep_for(config_.interval);  // the control interval: the world moves at its pace
  }
}

Result<core::LatencyConstraints> Env::constraints(const DeploymentState& deployment) const {
  if (config_.slo) return *config_.slo;
  auto soft = annotation(deployment, "latencySoftConstraint");
  if (!soft) return std::unexpected(soft.error());
  auto hard = annotation(deployment, "latencyHardConstraint");
  if (!hard) return std::unexpected(hard.error());
  return core::validate(core::LatencyConstraints{*soft, *hard});
}

// The share of the requests over the soft SLO, from the request-duration histogram the latency query reads:
// requests above the largest bucket bound at or under the SLO count as over it (never fewer than are).
Result<double> Env::share_over_slo(double soft_ms) {
  auto query = prom::render_template(
      R"(sum by (le) (rate(http_request_duration_seconds_bucket{namespace="$namespace",pod=~"$pods"}[$window])))",
      deployment_ref(), config_.state.window);
  if (!query) return std::unexpected(query.error());
  auto buckets = metrics_.samples(*query);
  if (!buckets) return fail("reading the latency histogram: {}", buckets.error().message);
  double total = -1, under = -1, under_bound = -1;
  for (const auto& sample : *buckets) {
    const auto le = sample.labels.find("le");
    if (le == sample.labels.end() || !std::isfinite(sample.value)) continue;
    const double bound = le->second == "+Inf" ? INFINITY : std::strtod(le->second.c_str(), nullptr);
    if (std::isinf(bound)) total = sample.value;
    if (bound <= soft_ms / 1000 * (1 + 1e-9) && bound > under_bound) {
      under_bound = bound;
      under = sample.value;
    }
  }
  if (total < 0) return fail("the latency histogram has no +Inf bucket: {}", *query);
  if (total == 0) return 0.0;
  if (under < 0) return fail("the latency histogram has no bucket at or under the soft SLO ({} ms)", soft_ms);
  return std::clamp(1 - under / total, 0.0, 1.0);
}

bool Env::excused(System::time_point step_start, const DeploymentState& deployment) {
  if (chaos_ == nullptr) return false;
  const auto now = System::now();
  const auto window = std::chrono::duration_cast<System::duration>(config_.window);
  auto faults = chaos_->faults(config_.namespace_, config_.deployment);
  if (!faults) {
    spdlog::warn("live env: cannot tell whether chaos hit this step ({}); it is not excused",
                 faults.error().message);
    return false;
  }
  bool hit = false;
  for (const auto& fault : *faults) {
    if (fault.kind == "PodChaos" && fault.at > step_start && fault.at <= now) recovering_from_kill_ = true;
    // A stress the step's metric window saw: it reaches back one window before the step.
    const auto stress_end = fault.until == System::time_point::max() ? now : fault.until + window;
    if (fault.kind == "StressChaos" && fault.at <= now && stress_end >= step_start - window) hit = true;
  }
  if (recovering_from_kill_) {
    hit = true;
    if (deployment.ready_replicas >= deployment.replicas) {
      recovering_from_kill_ = false;
      kill_recovered_until_ = now + window;  // the windows of the next steps still hold the dip
    }
  } else if (step_start < kill_recovered_until_) {
    hit = true;
  }
  return hit;
}

rl::StepResult Env::step(int action, std::span<double> observation) {
  const auto step_start = last_observed_at_;
  const auto action_at = Steady::now();
  const double interval_seconds = seconds(config_.interval);
  ++steps_;
  last_failed_ = false;
  last_excused_ = false;
  int replicas = last_deployment_.replicas;
  bool scaled = false;

  // No observation: the episode ends here, with the last observation measured and the reward that needs no
  // metrics (pods and action; the original reward's replica term).
  const auto fault = [&](std::string why) {
    last_fault_ = std::move(why);
    last_failed_ = true;
    spdlog::warn("live env: step {} of {}/{} ends the episode: {}", steps_, config_.namespace_,
                 config_.deployment, last_fault_);
    std::copy(feature_buffer_.begin(), feature_buffer_.end(), observation.begin());
    rl::StepResult result;
    result.truncated = true;
    result.reward = config_.reward.kind == core::RewardKind::kOriginal
                        ? core::compute_reward(replicas, config_.bounds.max, 0, {}).value
                        : core::compute_cost_reward(
                              {replicas * interval_seconds, interval_seconds, config_.bounds.max, 0, scaled},
                              config_.reward.weights)
                              .value;
    return result;
  };

  auto current = api_.get(config_.namespace_, config_.deployment);
  if (!current) return fault("reading the deployment before scaling: " + current.error().message);
  const int before = current->replicas;
  std::optional<core::CpuBasis> cpu;
  if (current->cpu_request_cores)
    cpu = core::CpuBasis{last_observation_.cpu_usage, *current->cpu_request_cores};
  const auto wanted = core::replicas_after(config_.actions, action, before, cpu);
  if (!wanted)
    return fault(
        fmt::format("action {} of the '{}' set has no replica count here: a CPU utilisation target "
                    "needs the pods' CPU request, and the pods of {}/{} request none",
                    action, config_.actions.name, config_.namespace_, config_.deployment));
  replicas = core::clamp_replicas(*wanted, config_.bounds);
  if (replicas != before) {
    if (auto done = api_.scale(config_.namespace_, config_.deployment, replicas); !done) {
      replicas = before;
      return fault("scaling: " + done.error().message);
    }
    scaled = true;
  }
  std::this_thread::sleep_until(action_at + config_.interval);  // the control interval
  auto observed = observe(action_at);
  if (!observed) return fault(observed.error().message);

  const bool excused_step = excused(step_start, observed->deployment);
  auto slo = constraints(observed->deployment);
  if (!slo) return fault("the SLO: " + slo.error().message);
  rl::StepResult result;
  if (config_.reward.kind == core::RewardKind::kOriginal) {
    const double latency = excused_step ? *slo->soft_ms : observed->observation.latency;
    const auto reward =
        core::compute_reward(observed->deployment.replicas, config_.bounds.max, latency, *slo);
    result.reward = reward.value;
    result.terminated = reward.terminated;
  } else {
    double share = 0;
    if (!excused_step) {
      auto measured = share_over_slo(*slo->soft_ms);
      if (!measured) return fault(measured.error().message);
      share = *measured;
    }
    // Pods billed for the interval: the larger of before and after (started pods cost from their start).
    const double pod_seconds = std::max(before, replicas) * interval_seconds;
    result.reward =
        core::compute_cost_reward({pod_seconds, interval_seconds, config_.bounds.max, share, scaled},
                                  config_.reward.weights)
            .value;
  }
  last_excused_ = excused_step;
  write(*observed, observation);
  result.truncated = !result.terminated && steps_ >= config_.episode_steps;
  spdlog::info("live env: step {} action={} replicas {}→{} ready={} p95={:.1f}ms rps={:.1f} reward={:.4f}{}",
               steps_, action, before, replicas, observed->deployment.ready_replicas,
               observed->observation.latency, observed->observation.rps, result.reward,
               excused_step ? " (excused: chaos)" : "");
  return result;
}

std::vector<std::pair<std::string, double>> Env::info() const {
  return {{"replicas", static_cast<double>(last_deployment_.replicas)},
          {"ready_pods", static_cast<double>(last_deployment_.ready_replicas)},
          {"latency_ms", last_observation_.latency},
          {"rps", last_observation_.rps},
          {"excused", last_excused_ ? 1.0 : 0.0},
          {"fault", last_failed_ ? 1.0 : 0.0}};
}

}  // namespace maestro::live
