#include "local/chaos.hpp"

#include <signal.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "local/pod_process.hpp"

namespace maestro::local {

namespace {

using SystemClock = std::chrono::system_clock;

constexpr std::chrono::milliseconds kTick{100};
constexpr std::size_t kInjectionsKept = 100;

std::string key_of(const std::string& namespace_, const std::string& name) {
  return namespace_ + "/" + name;
}

bool selects(const ChaosExperiment& experiment, const ChaosPod& pod) {
  const auto& namespaces = experiment.selector.namespaces;
  // As Chaos Mesh: without namespaces, the experiment's own.
  const bool in_namespace = namespaces.empty() ? pod.namespace_ == experiment.namespace_
                                               : std::find(namespaces.begin(), namespaces.end(),
                                                           pod.namespace_) != namespaces.end();
  if (!in_namespace) return false;
  for (const auto& [label, value] : experiment.selector.labels) {
    const auto found = pod.labels.find(label);
    if (found == pod.labels.end() || found->second != value) return false;
  }
  return true;
}

std::string utc(SystemClock::time_point at) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(SystemClock::to_time_t(at)));
}

}  // namespace

struct ChaosEngine::Impl {
  struct Stressor {
    std::string key;
    std::string pod;
    PodProcess process;
    SystemClock::time_point until;
    std::size_t injection = 0;  // its serial number, to find its record
  };
  struct Scheduled {
    ChaosSchedule schedule;
    SystemClock::time_point next;
  };
  struct Random {
    ChaosExperiment experiment;
    double per_hour = 0;
    SystemClock::time_point next;
  };

  Impl(ChaosTarget& t, std::filesystem::path l, std::uint64_t seed)
      : target(t), logs(std::move(l)), random(seed) {}

  ChaosTarget& target;
  std::filesystem::path logs;
  std::mt19937_64 random;  // the engine thread's alone once it runs

  mutable std::mutex mutex;  // guards what follows
  std::condition_variable wake;
  std::vector<ChaosExperiment> pending;
  std::set<std::string> ending;  // keys whose stressors must stop
  std::map<std::string, Scheduled> schedules;
  std::vector<Random> randoms;
  std::deque<std::pair<std::size_t, ChaosInjection>> injections;  // by serial number
  std::size_t next_serial = 0;
  bool stopping = false;

  std::vector<Stressor> stressors;  // the thread's alone
  std::thread thread;

  SystemClock::time_point next_time(const ChaosSchedule& schedule, SystemClock::time_point after) const {
    if (const auto* every = std::get_if<std::chrono::milliseconds>(&schedule.when)) return after + *every;
    return next_cron_time(std::get<CronSchedule>(schedule.when), after);
  }

  SystemClock::time_point next_random(double per_hour, SystemClock::time_point after) {
    const double seconds = std::exponential_distribution<double>(per_hour / 3600.0)(random);
    return after + std::chrono::duration_cast<SystemClock::duration>(std::chrono::duration<double>(seconds));
  }

  std::size_t record(ChaosInjection injection) {
    std::lock_guard lock(mutex);
    const std::size_t serial = next_serial++;
    injections.emplace_back(serial, std::move(injection));
    while (injections.size() > kInjectionsKept) injections.pop_front();
    return serial;
  }

  void finish(std::size_t serial, SystemClock::time_point at) {
    std::lock_guard lock(mutex);
    for (auto& [number, injection] : injections)
      if (number == serial) {
        injection.active = false;
        injection.until = std::min(injection.until, at);
      }
  }

  void run();
  void inject(const ChaosExperiment& experiment);
  void end_stressors(const std::set<std::string>& keys, bool all);
};

void ChaosEngine::Impl::inject(const ChaosExperiment& experiment) {
  const std::string key = key_of(experiment.namespace_, experiment.name);
  std::vector<ChaosPod> candidates;
  for (auto& pod : target.chaos_pods())
    if (selects(experiment, pod)) candidates.push_back(std::move(pod));
  const auto count = pods_to_pick(experiment, candidates.size(), random);
  if (!count || *count == 0) {
    spdlog::warn("chaos {} {}: no pod picked ({} selected){}", experiment.kind, key, candidates.size(),
                 count ? "" : ": " + count.error().message);
    return;
  }
  std::shuffle(candidates.begin(), candidates.end(), random);
  candidates.resize(*count);
  const auto now = SystemClock::now();
  for (const auto& pod : candidates) {
    ChaosInjection injection{.experiment = key,
                             .kind = experiment.kind,
                             .namespace_ = pod.namespace_,
                             .pod = pod.name,
                             .deployment = pod.deployment,
                             .at = now,
                             .until = now};
    if (const auto* kill = std::get_if<PodKill>(&experiment.action)) {
      if (auto deleted = target.delete_pod(pod, kill->grace_period); !deleted) {
        spdlog::warn("chaos PodChaos {}: pod {}: {}", key, pod.name, deleted.error().message);
        continue;
      }
      const std::string message = fmt::format("pod-kill of pod {} (grace period {} s) by PodChaos {}",
                                              pod.name, kill->grace_period.count(), key);
      spdlog::info("chaos {}", message);
      target.record_event(pod, "PodChaos", message);
      record(std::move(injection));
      continue;
    }
    const auto& stress = std::get<CpuStress>(experiment.action);
    auto procs = target.pod_cgroup_procs(pod);
    if (!procs) {
      spdlog::warn("chaos StressChaos {}: pod {}: not stressed, it could not be confined to the pod: {}", key,
                   pod.name, procs.error().message);
      continue;
    }
    PodLaunch launch{.argv = {"stress-ng", "--cpu", std::to_string(stress.workers), "--cpu-load",
                              std::to_string(stress.load)},
                     .cgroup_procs = std::move(*procs),
                     .log = logs / fmt::format("stress-{}-{}.log", experiment.name, pod.name)};
    if (experiment.duration) {
      // stress-ng's own timeout (whole seconds, rounded up) ends it should the engine not.
      const auto seconds = (experiment.duration->count() + 999) / 1000 + 1;
      launch.argv.insert(launch.argv.end(), {"--timeout", fmt::format("{}s", seconds)});
    }
    auto process = PodProcess::start(launch);
    if (!process) {
      spdlog::warn("chaos StressChaos {}: pod {}: {}", key, pod.name, process.error().message);
      continue;
    }
    injection.until = experiment.duration ? now + *experiment.duration : SystemClock::time_point::max();
    injection.stressor_pid = process->pid();
    injection.active = true;
    const std::string message = fmt::format(
        "cpu stress of pod {} ({} workers at {}%{}) by StressChaos {}", pod.name, stress.workers, stress.load,
        experiment.duration ? fmt::format(" for {} ms", experiment.duration->count()) : "", key);
    spdlog::info("chaos {} pid={}", message, process->pid());
    target.record_event(pod, "StressChaos", message);
    const auto until = injection.until;
    const std::size_t serial = record(std::move(injection));
    stressors.push_back({key, pod.name, std::move(*process), until, serial});
  }
}

// Stops the stressors of `keys` (or all), those past their time, those that exited and those whose pod went.
void ChaosEngine::Impl::end_stressors(const std::set<std::string>& keys, bool all) {
  if (stressors.empty()) return;
  const auto now = SystemClock::now();
  std::set<std::string> running_pods;
  if (!all)
    for (const auto& pod : target.chaos_pods()) running_pods.insert(pod.name);
  for (auto it = stressors.begin(); it != stressors.end();) {
    const bool exited = !it->process.running();
    const char* why = all                               ? "engine stopping"
                      : keys.contains(it->key)          ? "experiment deleted"
                      : now >= it->until                ? "duration over"
                      : exited                          ? "stress-ng exited"
                      : !running_pods.contains(it->pod) ? "pod gone"
                                                        : nullptr;
    if (why == nullptr) {
      ++it;
      continue;
    }
    // The whole group: stress-ng and its workers.
    it->process.signal_group(SIGKILL);
    spdlog::info("chaos StressChaos {}: stress of pod {} ends ({})", it->key, it->pod, why);
    finish(it->injection, now);
    it = stressors.erase(it);  // ~PodProcess reaps it
  }
}

void ChaosEngine::Impl::run() {
  while (true) {
    std::vector<ChaosExperiment> due;
    std::set<std::string> keys;
    {
      std::unique_lock lock(mutex);
      wake.wait_for(lock, kTick, [this] { return stopping || !pending.empty() || !ending.empty(); });
      if (stopping) break;
      const auto now = SystemClock::now();
      keys.swap(ending);
      due.swap(pending);
      for (auto& [key, scheduled] : schedules) {
        if (now < scheduled.next) continue;
        scheduled.next = next_time(scheduled.schedule, now);
        const bool active = std::any_of(stressors.begin(), stressors.end(),
                                        [&](const Stressor& stressor) { return stressor.key == key; });
        if (scheduled.schedule.forbid_concurrent && active) {
          spdlog::info("chaos Schedule {}: skipped, its last run is still active (concurrencyPolicy Forbid)",
                       key);
          continue;
        }
        due.push_back(scheduled.schedule.experiment);
      }
      for (auto& random_chaos : randoms)
        while (now >= random_chaos.next) {
          random_chaos.next = next_random(random_chaos.per_hour, random_chaos.next);
          due.push_back(random_chaos.experiment);
        }
    }
    end_stressors(keys, false);
    for (const auto& experiment : due) inject(experiment);
  }
  end_stressors({}, true);
}

ChaosEngine::ChaosEngine(ChaosTarget& target, std::filesystem::path logs, std::uint64_t seed)
    : impl_(std::make_unique<Impl>(target, std::move(logs), seed)) {}

ChaosEngine::~ChaosEngine() {
  stop();
}

void ChaosEngine::start() {
  if (impl_->thread.joinable()) return;
  impl_->thread = std::thread([this] { impl_->run(); });
}

void ChaosEngine::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

Result<std::vector<std::string>> ChaosEngine::apply(const std::vector<ChaosObject>& objects) {
  std::vector<std::string> applied;
  std::lock_guard lock(impl_->mutex);
  const auto now = SystemClock::now();
  for (const auto& object : objects) {
    if (const auto* experiment = std::get_if<ChaosExperiment>(&object)) {
      const std::string key = key_of(experiment->namespace_, experiment->name);
      impl_->ending.insert(key);
      impl_->pending.push_back(*experiment);
      applied.push_back(fmt::format("{} {}", experiment->kind, key));
      continue;
    }
    const auto& schedule = std::get<ChaosSchedule>(object);
    const std::string key = key_of(schedule.namespace_, schedule.name);
    impl_->ending.insert(key);
    impl_->schedules[key] = {schedule, impl_->next_time(schedule, now)};
    applied.push_back(fmt::format("Schedule {} ({}), next at {}", key, schedule.experiment.kind,
                                  utc(impl_->schedules[key].next)));
  }
  impl_->wake.notify_all();
  return applied;
}

void ChaosEngine::add_random(const ChaosExperiment& experiment, double per_hour) {
  std::lock_guard lock(impl_->mutex);
  const auto next = impl_->next_random(per_hour, SystemClock::now());
  impl_->randoms.push_back({experiment, per_hour, next});
}

bool ChaosEngine::remove(const std::string& namespace_, const std::string& name) {
  const std::string key = key_of(namespace_, name);
  std::lock_guard lock(impl_->mutex);
  bool found = impl_->schedules.erase(key) > 0;
  for (const auto& [serial, injection] : impl_->injections) found = found || injection.experiment == key;
  std::erase_if(impl_->pending,
                [&](const ChaosExperiment& e) { return key_of(e.namespace_, e.name) == key; });
  impl_->ending.insert(key);
  impl_->wake.notify_all();
  return found;
}

ChaosStatus ChaosEngine::status() const {
  ChaosStatus status;
  std::lock_guard lock(impl_->mutex);
  for (const auto& [key, scheduled] : impl_->schedules)
    status.schedules.push_back(fmt::format("Schedule {} ({}), next at {}", key,
                                           scheduled.schedule.experiment.kind, utc(scheduled.next)));
  for (const auto& random_chaos : impl_->randoms)
    status.schedules.push_back(fmt::format("random {} {}/{} ({} an hour), next at {}",
                                           random_chaos.experiment.kind, random_chaos.experiment.namespace_,
                                           random_chaos.experiment.name, random_chaos.per_hour,
                                           utc(random_chaos.next)));
  for (const auto& [serial, injection] : impl_->injections) status.injections.push_back(injection);
  return status;
}

}  // namespace maestro::local
