// Chaos experiments as Chaos Mesh describes them, so that one spec serves the local cluster and a real one
// (deploy/chaos/): PodChaos (action pod-kill), StressChaos (stressors.cpu: workers, load) and Schedule (a
// cron schedule or "@every D" over either), with their mode (one, all, fixed, fixed-percent,
// random-max-percent and value), selector (namespaces, labelSelectors) and duration. What the local cluster
// cannot do (pod-failure, memory stressors, node or field selectors, ...) is refused by name, never ignored.
// containerNames is accepted: a local pod has one container, which any name given stands for.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "base/error.hpp"

namespace maestro::local {

enum class ChaosMode { kOne, kAll, kFixed, kFixedPercent, kRandomMaxPercent };

struct ChaosSelector {
  std::vector<std::string> namespaces;  // empty: the experiment's own namespace
  std::map<std::string, std::string> labels;
};

struct PodKill {
  std::chrono::seconds grace_period{0};  // 0: SIGKILL at once (a node failure, an OOM kill)
};

struct CpuStress {
  int workers = 1;
  int load = 100;  // percent of one CPU per worker (stress-ng --cpu-load)
};

struct ChaosExperiment {
  std::string kind;  // "PodChaos" or "StressChaos"
  std::string namespace_ = "default";
  std::string name;
  ChaosMode mode = ChaosMode::kOne;
  std::string value;  // fixed: a count; fixed-percent, random-max-percent: a percentage
  ChaosSelector selector;
  std::optional<std::chrono::milliseconds> duration;  // StressChaos: none runs until deleted
  std::variant<PodKill, CpuStress> action;
};

// The five fields of a cron schedule (minute hour day-of-month month day-of-week), each as the set of values
// it allows, or "@every D".
struct CronSchedule {
  std::vector<bool> minutes, hours, days, months, weekdays;
  bool any_day = true, any_weekday = true;  // a '*' field: cron ORs the two day fields only when both are set
};

struct ChaosSchedule {
  std::string namespace_ = "default";
  std::string name;
  std::variant<CronSchedule, std::chrono::milliseconds> when;  // cron, or @every
  bool forbid_concurrent = true;  // concurrencyPolicy: Forbid (the default) skips a run while one is active
  ChaosExperiment experiment;
};

using ChaosObject = std::variant<ChaosExperiment, ChaosSchedule>;

// Every document of a YAML text (documents separated by ---); errors name the document and field.
Result<std::vector<ChaosObject>> parse_chaos(const std::string& yaml_text);

// Go's time.ParseDuration for what specs use: "300ms", "30s", "1m30s", "2h".
Result<std::chrono::milliseconds> parse_go_duration(const std::string& text);

// The five-field cron syntax Chaos Mesh's Schedule takes: '*', numbers, ranges a-b, lists and steps (*/n,
// a-b/n); or @hourly, @daily, @weekly, @monthly, @yearly.
Result<CronSchedule> parse_cron(const std::string& text);

// The first minute strictly after `after` (UTC) that `cron` allows.
std::chrono::system_clock::time_point next_cron_time(const CronSchedule& cron,
                                                     std::chrono::system_clock::time_point after);

// How many of `candidates` pods the mode picks (never more than there are).
Result<std::size_t> pods_to_pick(const ChaosExperiment& experiment, std::size_t candidates,
                                 std::mt19937_64& random);

std::string_view chaos_mode_name(ChaosMode mode);

}  // namespace maestro::local
