#include "services/controller/controller.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>

#include "prom/credentials.hpp"
#include "services/controller/controller_target.hpp"

namespace maestro::controller {

namespace {

std::string key_of(const std::string& ns, const std::string& name) {
  return ns + "/" + name;
}

}  // namespace

struct Controller::Metrics {
  prometheus::Family<prometheus::Counter>& decisions;
  prometheus::Family<prometheus::Counter>& errors;
  prometheus::Family<prometheus::Gauge>& desired;
  prometheus::Histogram& latency;
  prometheus::Gauge& managed;
  // Held while a deployment's decision or desired series is updated or removed: a series removed while
  // a reconcile of a same-named target updates it would be used after it is freed.
  std::mutex series;

  explicit Metrics(prometheus::Registry& registry)
      : decisions(prometheus::BuildCounter()
                      .Name("maestro_controller_decisions_total")
                      .Help("Decisions by deployment, suggested action and result (scaled, held, dry_run)")
                      .Register(registry)),
        errors(prometheus::BuildCounter()
                   .Name("maestro_controller_errors_total")
                   .Help("Reconciles that held the current replicas because something failed, by cause")
                   .Register(registry)),
        desired(
            prometheus::BuildGauge()
                .Name("maestro_controller_desired_replicas")
                .Help("The replicas the controller decided on (would have, in dry-run) at its last decision")
                .Register(registry)),
        latency(prometheus::BuildHistogram()
                    .Name("maestro_controller_loop_duration_seconds")
                    .Help("Time to reconcile one deployment: suggestion, scale read, patch and event")
                    .Register(registry)
                    .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.02, 0.05,
                                                                     0.1, 0.25, 0.5, 1, 2.5, 5, 10})),
        managed(prometheus::BuildGauge()
                    .Name("maestro_controller_managed_deployments")
                    .Help("Deployments the controller manages")
                    .Register(registry)
                    .Add({})) {}
};

Controller::Controller(const ControllerConfig& config, kube::KubeClient& kube, SuggestionSource& suggestions,
                       const base::Clock& clock, prometheus::Registry& registry, HpaSource* hpa)
    : config_(config),
      owned_kube_(std::make_unique<KubeScaleClient>(kube)),
      kube_(*owned_kube_),
      autoscalers_(config.autoscalers.enabled ? std::make_unique<KubeAutoscalerClient>(kube) : nullptr),
      kube_client_(&kube),
      suggestions_(suggestions),
      hpa_(hpa),
      clock_(clock),
      metrics_(std::make_unique<Metrics>(registry)) {
  start();
}

Controller::Controller(const ControllerConfig& config, ScaleClient& kube, SuggestionSource& suggestions,
                       const base::Clock& clock, prometheus::Registry& registry, HpaSource* hpa)
    : config_(config),
      kube_(kube),
      suggestions_(suggestions),
      hpa_(hpa),
      clock_(clock),
      metrics_(std::make_unique<Metrics>(registry)) {
  start();
}

void Controller::start() {
  const auto now = clock_.now();
  next_discovery_ = now;
  // Spread the listed deployments over their interval, so that a thousand are not all due in one instant.
  const auto count = static_cast<long>(config_.deployments.size());
  for (long i = 0; i < count; ++i) {
    const auto& target = config_.deployments[static_cast<std::size_t>(i)];
    add_target(target.namespace_, target.name, target.settings, true,
               now + std::chrono::duration_cast<base::Clock::Duration>(target.settings.interval) * i / count);
  }
  for (int i = 0; i < config_.workers; ++i) workers_.emplace_back([this] { work(); });
}

Controller::~Controller() {
  stop();
  autoscaler_watch_.reset();  // before the rest: it calls back into the controller
  for (auto& worker : workers_) worker.join();
}

void Controller::add_target(const std::string& ns, const std::string& name,
                            const DeploymentSettings& settings, bool listed,
                            base::Clock::TimePoint first_due) {
  auto target = std::make_shared<Target>();
  target->namespace_ = ns;
  target->name = name;
  target->settings = settings;
  target->listed = listed;
  target->next_due = first_due;
  targets_[key_of(ns, name)] = std::move(target);
  metrics_->managed.Set(static_cast<double>(targets_.size()));
}

void Controller::discover() {
  auto found = kube_.list_deployments_annotated(config_.discovery.namespace_, kAutoscaleAnnotation, "true");
  if (!found) {
    metrics_->errors
        .Add({{"cause", fmt::format("discovery_{}", kube::kube_error_kind_name(found.error().kind))}})
        .Increment();
    spdlog::warn("discovery failed namespace={} error=\"{}\"", config_.discovery.namespace_,
                 found.error().message);
    return;
  }
  const auto now = clock_.now();
  std::lock_guard lock(mutex_);
  std::map<std::string, const kube::Deployment*> annotated;
  for (const auto& deployment : *found)
    annotated[key_of(deployment.namespace_, deployment.name)] = &deployment;
  // Discovered deployments that lost the annotation (or were deleted) are no longer managed.
  for (auto it = targets_.begin(); it != targets_.end();) {
    if (!it->second->listed && !it->second->autoscaler && !annotated.contains(it->first)) {
      spdlog::info("discovery forget deployment={}", it->first);
      const auto target = it->second;
      it = targets_.erase(it);
      forget(target);
    } else {
      ++it;
    }
  }
  for (const auto& [key, deployment] : annotated) {
    const auto existing = targets_.find(key);
    // The file's settings win; a MaestroAutoscaler's win over annotations.
    if (existing != targets_.end() && (existing->second->listed || existing->second->autoscaler)) continue;
    auto settings = settings_from_annotations(config_.defaults, deployment->annotations);
    if (!settings) {
      metrics_->errors.Add({{"cause", "discovery_bad_annotation"}}).Increment();
      spdlog::warn("discovery skip deployment={} error=\"{}\"", key, settings.error().message);
      if (existing != targets_.end()) {
        const auto target = existing->second;
        targets_.erase(existing);
        forget(target);
      }
      continue;
    }
    if (existing != targets_.end()) {
      existing->second->settings = *settings;
      continue;
    }
    // Start somewhere in the first interval, the same place for the same name.
    const auto offset = std::chrono::duration_cast<base::Clock::Duration>(settings->interval) *
                        static_cast<long>(std::hash<std::string>{}(key) % 1000) / 1000;
    add_target(deployment->namespace_, deployment->name, *settings, false, now + offset);
    spdlog::info("discovery manage deployment={} min={} max={}", key, settings->bounds.min,
                 settings->bounds.max);
  }
  metrics_->managed.Set(static_cast<double>(targets_.size()));
  discovered_once_ = true;
}

void Controller::tick() {
  const auto now = clock_.now();
  if (config_.discovery.enabled && now >= next_discovery_) {
    next_discovery_ = now + config_.discovery.refresh;
    discover();
  }
  if (autoscalers_) {
    bool changed = false;
    {
      std::lock_guard lock(mutex_);
      std::swap(changed, autoscalers_changed_);
    }
    if (changed || now >= next_autoscaler_sync_) {
      next_autoscaler_sync_ = now + config_.autoscalers.refresh;
      sync_autoscalers();
    }
  }
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  for (auto& [key, target] : targets_) {
    // Due further ahead than one interval: the clock went back. Due now, rather than once the clock has
    // caught up with where it was.
    if (target->next_due > now + target->settings.interval) target->next_due = now;
    if (target->in_flight || now < target->next_due) continue;
    // Keep the phase; after a long stall, start from now rather than running a burst of missed intervals.
    target->next_due += target->settings.interval;
    if (target->next_due <= now) target->next_due = now + target->settings.interval;
    target->in_flight = true;
    queue_.push_back(target);
  }
  if (!queue_.empty()) work_ready_.notify_all();
}

int Controller::reconcile_all() {
  if (config_.discovery.enabled) discover();
  if (autoscalers_) sync_autoscalers();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return 0;
    for (auto& [key, target] : targets_) {
      if (target->in_flight) continue;
      target->in_flight = true;
      queue_.push_back(target);
    }
    work_ready_.notify_all();
  }
  wait_idle();
  std::lock_guard lock(mutex_);
  int failed = (config_.discovery.enabled && !discovered_once_ ? 1 : 0) +
               (autoscalers_ && !autoscalers_listed_once_ ? 1 : 0);
  for (const auto& [key, target] : targets_) failed += target->held_by_fault ? 1 : 0;
  return failed;
}

void Controller::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return (queue_.empty() && busy_ == 0) || stopping_; });
}

void Controller::run_due() {
  tick();
  wait_idle();
}

void Controller::start_autoscaler_watch() {
  if (!autoscalers_ || !kube_client_ || !config_.autoscalers.watch || autoscaler_watch_) return;
  autoscaler_watch_ =
      std::make_unique<AutoscalerWatch>(*kube_client_, config_.autoscalers.namespace_, [this] {
        {
          std::lock_guard lock(mutex_);
          autoscalers_changed_ = true;
        }
        wake_.notify_all();
      });
}

void Controller::run() {
  start_autoscaler_watch();
  // Sleep at most this long, so that discovery and stop() are noticed.
  constexpr auto kMaxSleep = std::chrono::milliseconds(500);
  while (true) {
    tick();
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    auto next = clock_.now() + kMaxSleep;
    for (const auto& [key, target] : targets_)
      if (!target->in_flight) next = std::min(next, target->next_due);
    const auto sleep = next - clock_.now();
    if (sleep > base::Clock::Duration::zero())
      wake_.wait_for(lock, sleep, [this] { return stopping_ || autoscalers_changed_; });
  }
}

void Controller::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  work_ready_.notify_all();
  wake_.notify_all();
  idle_.notify_all();
}

bool Controller::ready() const {
  std::lock_guard lock(mutex_);
  return (!config_.discovery.enabled || discovered_once_) && (!autoscalers_ || autoscalers_listed_once_);
}

std::vector<std::string> Controller::managed() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> keys;
  for (const auto& [key, target] : targets_) keys.push_back(key);
  return keys;
}

void Controller::work() {
  while (true) {
    std::shared_ptr<Target> target;
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      target = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    const auto started = std::chrono::steady_clock::now();
    const bool reconciled = reconcile(*target);
    metrics_->latency.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    {
      std::lock_guard lock(mutex_);
      target->in_flight = false;
      target->held_by_fault = !reconciled;
      if (target->forgotten) remove_series(*target);
      --busy_;
      if (queue_.empty() && busy_ == 0) idle_.notify_all();
    }
  }
}

void Controller::forget(const std::shared_ptr<Target>& target) {
  target->forgotten = true;
  if (!target->in_flight) remove_series(*target);
}

void Controller::remove_series(const Target& target) {
  // Managed again meanwhile (a new target of the same name): the series are the new one's.
  if (targets_.contains(key_of(target.namespace_, target.name))) return;
  std::lock_guard lock(metrics_->series);
  for (const auto& [action, result] : target.decision_series)
    metrics_->decisions.Remove(&metrics_->decisions.Add({{"namespace", target.namespace_},
                                                         {"deployment", target.name},
                                                         {"action", action},
                                                         {"result", result}}));
  if (!target.decision_series.empty())
    metrics_->desired.Remove(
        &metrics_->desired.Add({{"namespace", target.namespace_}, {"deployment", target.name}}));
}

bool Controller::reconcile(Target& target) {
  ReconcileRequest request{.namespace_ = target.namespace_,
                           .name = target.name,
                           .settings = {},
                           .now = clock_.now(),
                           .conflict_retries = config_.kubernetes.conflict_retries};
  std::optional<Autoscaler> autoscaler;
  std::shared_ptr<ScaleClient> workload_scale;
  {
    std::lock_guard lock(mutex_);
    request.settings = target.settings;
    autoscaler = target.autoscaler;
    workload_scale = target.workload_scale;
  }
  ScaleClient& scale = workload_scale ? *workload_scale : kube_;
  if (autoscaler)
    if (auto refused = refuse_autoscaled(target, *autoscaler, scale)) return *refused;
  std::optional<HpaSuggestions> hpa;
  if (request.settings.source == DecisionSource::kHpa && hpa_)
    hpa.emplace(*hpa_, request.settings, workload_scale.get());
  ReconcileOutcome outcome;
  if (request.settings.source == DecisionSource::kHpa && !hpa_) {
    outcome.fault_cause = "hpa_unavailable";
    outcome.fault_message =
        "the policy is hpa but the controller has no Prometheus to read per-pod CPU from "
        "(config.prometheus.url)";
  } else {
    // A MaestroAutoscaler's learned policy is asked with the resource's name: the suggestion server reads
    // the target's kind and the query overrides from it.
    std::optional<AutoscaledSuggestions> autoscaled;
    if (autoscaler && !hpa) autoscaled.emplace(suggestions_, autoscaler->name);
    outcome = reconcile_deployment(request, target.history, scale,
                                   hpa          ? static_cast<SuggestionSource&>(*hpa)
                                   : autoscaled ? static_cast<SuggestionSource&>(*autoscaled)
                                                : suggestions_);
  }
  if (autoscaler) report_autoscaled(target, *autoscaler, outcome, scale);
  if (outcome.held_by_fault()) {
    metrics_->errors.Add({{"cause", outcome.fault_cause}}).Increment();
    spdlog::warn("hold namespace={} deployment={} cause={} error=\"{}\"", target.namespace_, target.name,
                 outcome.fault_cause, prom::redact_credentials(outcome.fault_message));
    return false;
  }
  const Decision& decision = *outcome.decision;
  target.decision_series.emplace(outcome.action, outcome.result);
  {
    std::lock_guard lock(metrics_->series);
    metrics_->decisions
        .Add({{"namespace", target.namespace_},
              {"deployment", target.name},
              {"action", outcome.action},
              {"result", outcome.result}})
        .Increment();
    metrics_->desired.Add({{"namespace", target.namespace_}, {"deployment", target.name}})
        .Set(decision.desired);
  }
  spdlog::info(
      "decision namespace={} deployment={} policy={} action={} current={} desired={} reason={} result={}",
      target.namespace_, target.name, decision_source_name(request.settings.source), outcome.action,
      decision.current, decision.desired, decision_reason_name(decision.reason), outcome.result);
  if (!outcome.event_cause.empty()) {
    metrics_->errors.Add({{"cause", outcome.event_cause}}).Increment();
    spdlog::warn("event failed namespace={} deployment={} error=\"{}\"", target.namespace_, target.name,
                 prom::redact_credentials(outcome.event_message));
  }
  return true;
}

}  // namespace maestro::controller
