#include "local/chaos_spec.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "base/yaml_fields.hpp"

namespace maestro::local {

namespace {

using base::only_keys;
using base::read;

Result<ChaosMode> parse_mode(const std::string& text, const std::string& where) {
  for (const auto mode : {ChaosMode::kOne, ChaosMode::kAll, ChaosMode::kFixed, ChaosMode::kFixedPercent,
                          ChaosMode::kRandomMaxPercent})
    if (chaos_mode_name(mode) == text) return mode;
  return fail("{}.mode: \"{}\" is not one of one, all, fixed, fixed-percent, random-max-percent", where,
              text);
}

Result<ChaosSelector> parse_selector(const YAML::Node& node, const std::string& where) {
  ChaosSelector selector;
  if (!node) return fail("{}: selector is required", where);
  // Only what local pods carry; the others (nodes, fields, annotations, phases, expressions) are refused
  // by only_keys, so a spec never silently selects more pods here than in a cluster.
  MAESTRO_TRY(only_keys(node, where + ".selector", {"namespaces", "labelSelectors"}));
  MAESTRO_TRY(read(node, "namespaces", where + ".selector", selector.namespaces));
  MAESTRO_TRY(read(node, "labelSelectors", where + ".selector", selector.labels));
  return selector;
}

// The spec of a PodChaos or StressChaos (also as embedded in a Schedule).
Result<ChaosExperiment> parse_experiment(const std::string& kind, const YAML::Node& spec,
                                         const std::string& where) {
  ChaosExperiment experiment;
  experiment.kind = kind;
  if (!spec) return fail("{}: spec is required", where);
  if (kind == "PodChaos") {
    MAESTRO_TRY(only_keys(
        spec, where, {"action", "mode", "value", "selector", "duration", "gracePeriod", "containerNames"}));
    std::string action = "pod-kill";
    MAESTRO_TRY(read(spec, "action", where, action));
    if (action != "pod-kill")
      return fail("{}.action: only pod-kill runs on the local cluster (got \"{}\")", where, action);
    long long grace = 0;
    MAESTRO_TRY(read(spec, "gracePeriod", where, grace));
    if (grace < 0) return fail("{}.gracePeriod: must not be negative", where);
    experiment.action = PodKill{std::chrono::seconds(grace)};
  } else {
    MAESTRO_TRY(
        only_keys(spec, where, {"mode", "value", "selector", "duration", "stressors", "containerNames"}));
    const YAML::Node stressors = spec["stressors"];
    if (!stressors) return fail("{}.stressors is required", where);
    MAESTRO_TRY(only_keys(stressors, where + ".stressors", {"cpu"}));
    const YAML::Node cpu = stressors["cpu"];
    if (!cpu) return fail("{}.stressors.cpu is required (memory stressors do not run locally)", where);
    MAESTRO_TRY(only_keys(cpu, where + ".stressors.cpu", {"workers", "load"}));
    if (!cpu["workers"]) return fail("{}.stressors.cpu.workers is required", where);
    CpuStress stress;
    MAESTRO_TRY(read(cpu, "workers", where + ".stressors.cpu", stress.workers));
    MAESTRO_TRY(read(cpu, "load", where + ".stressors.cpu", stress.load));
    if (stress.workers < 1 || stress.workers > 8192)
      return fail("{}.stressors.cpu.workers: must be 1 to 8192", where);
    if (stress.load < 0 || stress.load > 100) return fail("{}.stressors.cpu.load: must be 0 to 100", where);
    experiment.action = stress;
  }
  if (!spec["mode"]) return fail("{}.mode is required", where);
  std::string mode;
  MAESTRO_TRY(read(spec, "mode", where, mode));
  auto parsed_mode = parse_mode(mode, where);
  if (!parsed_mode) return std::unexpected(parsed_mode.error());
  experiment.mode = *parsed_mode;
  MAESTRO_TRY(read(spec, "value", where, experiment.value));
  auto selector = parse_selector(spec["selector"], where);
  if (!selector) return std::unexpected(selector.error());
  experiment.selector = std::move(*selector);
  std::vector<std::string> containers;
  MAESTRO_TRY(read(spec, "containerNames", where, containers));
  if (spec["duration"]) {
    std::string text;
    MAESTRO_TRY(read(spec, "duration", where, text));
    auto duration = parse_go_duration(text);
    if (!duration) return fail("{}.duration: {}", where, duration.error().message);
    experiment.duration = *duration;
  }
  // The value is checked now, against no pods, so that a bad one fails when applied, not when it fires.
  std::mt19937_64 unused;
  if (auto checked = pods_to_pick(experiment, 0, unused); !checked)
    return fail("{}: {}", where, checked.error().message);
  return experiment;
}

struct Metadata {
  std::string namespace_ = "default";
  std::string name;
};

Result<Metadata> parse_metadata(const YAML::Node& node, const std::string& where) {
  Metadata metadata;
  if (!node) return fail("{}: metadata.name is required", where);
  // Labels and annotations (kustomize adds some) mean nothing to the experiment; other fields are refused.
  MAESTRO_TRY(only_keys(node, where + ".metadata", {"name", "namespace", "labels", "annotations"}));
  MAESTRO_TRY(read(node, "name", where + ".metadata", metadata.name));
  MAESTRO_TRY(read(node, "namespace", where + ".metadata", metadata.namespace_));
  if (metadata.name.empty()) return fail("{}: metadata.name is required", where);
  return metadata;
}

Result<ChaosObject> parse_document(const YAML::Node& document, const std::string& where) {
  MAESTRO_TRY(only_keys(document, where, {"apiVersion", "kind", "metadata", "spec"}));
  std::string api_version, kind;
  MAESTRO_TRY(read(document, "apiVersion", where, api_version));
  MAESTRO_TRY(read(document, "kind", where, kind));
  if (api_version != "chaos-mesh.org/v1alpha1")
    return fail("{}: apiVersion must be chaos-mesh.org/v1alpha1 (got \"{}\")", where, api_version);
  auto metadata = parse_metadata(document["metadata"], where);
  if (!metadata) return std::unexpected(metadata.error());
  const std::string named = fmt::format("{} {}/{}", kind, metadata->namespace_, metadata->name);
  const YAML::Node spec = document["spec"];
  if (kind == "PodChaos" || kind == "StressChaos") {
    auto experiment = parse_experiment(kind, spec, named + " spec");
    if (!experiment) return std::unexpected(experiment.error());
    experiment->namespace_ = metadata->namespace_;
    experiment->name = metadata->name;
    return *experiment;
  }
  if (kind != "Schedule")
    return fail("{}: kind must be PodChaos, StressChaos or Schedule (got \"{}\")", where, kind);
  if (!spec) return fail("{}: spec is required", named);
  MAESTRO_TRY(only_keys(spec, named + " spec",
                        {"schedule", "type", "historyLimit", "concurrencyPolicy", "startingDeadlineSeconds",
                         "podChaos", "stressChaos"}));
  ChaosSchedule schedule;
  schedule.namespace_ = metadata->namespace_;
  schedule.name = metadata->name;
  std::string when, type, policy = "Forbid";
  MAESTRO_TRY(read(spec, "schedule", named + " spec", when));
  MAESTRO_TRY(read(spec, "type", named + " spec", type));
  MAESTRO_TRY(read(spec, "concurrencyPolicy", named + " spec", policy));
  if (policy != "Forbid" && policy != "Allow")
    return fail("{} spec.concurrencyPolicy: Forbid or Allow (got \"{}\")", named, policy);
  schedule.forbid_concurrent = policy == "Forbid";
  if (when.starts_with("@every ")) {
    auto every = parse_go_duration(when.substr(7));
    if (!every || every->count() <= 0)
      return fail("{} spec.schedule: \"{}\" needs a positive duration", named, when);
    schedule.when = *every;
  } else {
    auto cron = parse_cron(when);
    if (!cron) return fail("{} spec.schedule: {}", named, cron.error().message);
    schedule.when = *cron;
  }
  const char* field = type == "PodChaos" ? "podChaos" : type == "StressChaos" ? "stressChaos" : nullptr;
  if (field == nullptr) return fail("{} spec.type: PodChaos or StressChaos (got \"{}\")", named, type);
  auto experiment = parse_experiment(type, spec[field], fmt::format("{} spec.{}", named, field));
  if (!experiment) return std::unexpected(experiment.error());
  experiment->namespace_ = metadata->namespace_;
  experiment->name = metadata->name;
  schedule.experiment = std::move(*experiment);
  return schedule;
}

// One cron field: its allowed values in [low, high], or an error.
Result<std::vector<bool>> parse_cron_field(const std::string& field, int low, int high, const char* what) {
  std::vector<bool> allowed(static_cast<std::size_t>(high + 1), false);
  std::size_t start = 0;
  while (start <= field.size()) {
    const auto comma = field.find(',', start);
    const std::string part =
        field.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    int step = 1, from = low, to = high;
    std::string range = part;
    if (const auto slash = part.find('/'); slash != std::string::npos) {
      range = part.substr(0, slash);
      try {
        step = std::stoi(part.substr(slash + 1));
      } catch (const std::exception&) {
        return fail("{} field \"{}\": bad step", what, part);
      }
      if (step < 1) return fail("{} field \"{}\": bad step", what, part);
    }
    if (range != "*") {
      try {
        std::size_t used = 0;
        from = std::stoi(range, &used);
        to = from;
        if (used < range.size()) {
          if (range[used] != '-') return fail("{} field \"{}\": not a number or range", what, part);
          to = std::stoi(range.substr(used + 1));
        } else if (part.find('/') != std::string::npos) {
          to = high;  // "a/n": from a to the end, every n
        }
      } catch (const std::exception&) {
        return fail("{} field \"{}\": not a number or range", what, part);
      }
    }
    if (from < low || to > high || from > to)
      return fail("{} field \"{}\": out of {}-{}", what, part, low, high);
    for (int value = from; value <= to; value += step) allowed[static_cast<std::size_t>(value)] = true;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return allowed;
}

}  // namespace

std::string_view chaos_mode_name(ChaosMode mode) {
  switch (mode) {
    case ChaosMode::kOne:
      return "one";
    case ChaosMode::kAll:
      return "all";
    case ChaosMode::kFixed:
      return "fixed";
    case ChaosMode::kFixedPercent:
      return "fixed-percent";
    case ChaosMode::kRandomMaxPercent:
      return "random-max-percent";
  }
  return "unknown";
}

Result<std::vector<ChaosObject>> parse_chaos(const std::string& yaml_text) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(yaml_text);
  } catch (const YAML::Exception& error) {
    return fail("chaos spec: {}", error.what());
  }
  std::vector<ChaosObject> objects;
  for (std::size_t i = 0; i < documents.size(); ++i) {
    if (!documents[i] || documents[i].IsNull()) continue;
    auto object = parse_document(documents[i], fmt::format("document {}", i + 1));
    if (!object) return std::unexpected(object.error());
    objects.push_back(std::move(*object));
  }
  if (objects.empty()) return fail("chaos spec: no PodChaos, StressChaos or Schedule in it");
  return objects;
}

Result<std::chrono::milliseconds> parse_go_duration(const std::string& text) {
  double total_ms = 0;
  std::size_t at = 0;
  if (text.empty()) return fail("empty duration");
  while (at < text.size()) {
    std::size_t used = 0;
    double number = 0;
    try {
      number = std::stod(text.substr(at), &used);
    } catch (const std::exception&) {
      return fail("\"{}\" is not a duration such as 30s or 1m30s", text);
    }
    at += used;
    const auto unit_end = text.find_first_of("0123456789.", at);
    const std::string unit =
        text.substr(at, unit_end == std::string::npos ? std::string::npos : unit_end - at);
    at = unit_end == std::string::npos ? text.size() : unit_end;
    const double scale = unit == "ms" ? 1 : unit == "s" ? 1e3 : unit == "m" ? 60e3 : unit == "h" ? 3600e3 : 0;
    if (scale == 0) return fail("\"{}\": unit must be ms, s, m or h", text);
    total_ms += number * scale;
  }
  if (!std::isfinite(total_ms) || total_ms < 0) return fail("\"{}\" must not be negative", text);
  return std::chrono::milliseconds(std::llround(total_ms));
}

Result<CronSchedule> parse_cron(const std::string& text) {
  static const std::map<std::string, std::string> kMacros = {
      {"@hourly", "0 * * * *"},  {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
      {"@weekly", "0 0 * * 0"},  {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
      {"@annually", "0 0 1 1 *"}};
  const auto macro = kMacros.find(text);
  std::istringstream words(macro != kMacros.end() ? macro->second : text);
  std::vector<std::string> fields;
  for (std::string word; words >> word;) fields.push_back(word);
  if (fields.size() != 5)
    return fail("\"{}\" is not a five-field cron schedule (minute hour day month weekday) or @every D", text);
  CronSchedule cron;
  const struct {
    std::vector<bool>* out;
    int low, high;
    const char* what;
  } parts[] = {{&cron.minutes, 0, 59, "minute"},
               {&cron.hours, 0, 23, "hour"},
               {&cron.days, 1, 31, "day-of-month"},
               {&cron.months, 1, 12, "month"},
               {&cron.weekdays, 0, 7, "day-of-week"}};
  for (std::size_t i = 0; i < 5; ++i) {
    auto allowed = parse_cron_field(fields[i], parts[i].low, parts[i].high, parts[i].what);
    if (!allowed) return std::unexpected(allowed.error());
    *parts[i].out = std::move(*allowed);
  }
  if (cron.weekdays[7]) cron.weekdays[0] = true;  // 7 is Sunday too
  cron.any_day = fields[2] == "*";
  cron.any_weekday = fields[4] == "*";
  return cron;
}

std::chrono::system_clock::time_point next_cron_time(const CronSchedule& cron,
                                                     std::chrono::system_clock::time_point after) {
  using namespace std::chrono;
  auto minute = time_point_cast<minutes>(after) + minutes(1);
  // A schedule fires at least once in four years (29 February on a weekday set); search no further.
  for (int i = 0; i < 4 * 366 * 24 * 60; ++i, minute += minutes(1)) {
    const std::time_t seconds = system_clock::to_time_t(minute);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    if (!cron.minutes[static_cast<std::size_t>(utc.tm_min)] ||
        !cron.hours[static_cast<std::size_t>(utc.tm_hour)] ||
        !cron.months[static_cast<std::size_t>(utc.tm_mon + 1)])
      continue;
    const bool day = cron.days[static_cast<std::size_t>(utc.tm_mday)];
    const bool weekday = cron.weekdays[static_cast<std::size_t>(utc.tm_wday)];
    // As cron: when both day fields are restricted, either matching is enough.
    const bool matches = cron.any_day && cron.any_weekday ? true
                         : cron.any_day                   ? weekday
                         : cron.any_weekday               ? day
                                                          : day || weekday;
    if (matches) return minute;
  }
  return system_clock::time_point::max();
}

Result<std::size_t> pods_to_pick(const ChaosExperiment& experiment, std::size_t candidates,
                                 std::mt19937_64& random) {
  const auto number = [&]() -> Result<double> {
    try {
      std::size_t used = 0;
      const double value = std::stod(experiment.value, &used);
      if (used == experiment.value.size() && value >= 0) return value;
    } catch (const std::exception&) {
    }
    return fail("value \"{}\" must be a non-negative number for mode {}", experiment.value,
                chaos_mode_name(experiment.mode));
  };
  switch (experiment.mode) {
    case ChaosMode::kOne:
      return std::min<std::size_t>(1, candidates);
    case ChaosMode::kAll:
      return candidates;
    case ChaosMode::kFixed: {
      auto count = number();
      if (!count) return std::unexpected(count.error());
      return std::min(candidates, static_cast<std::size_t>(*count));
    }
    case ChaosMode::kFixedPercent:
    case ChaosMode::kRandomMaxPercent: {
      auto percent = number();
      if (!percent) return std::unexpected(percent.error());
      if (*percent > 100) return fail("value \"{}\" is a percentage: 0 to 100", experiment.value);
      double share = *percent / 100;
      if (experiment.mode == ChaosMode::kRandomMaxPercent)
        share = std::uniform_real_distribution<double>(0, share)(random);
      // As Chaos Mesh: the share of the candidates, rounded down.
      return static_cast<std::size_t>(std::floor(share * static_cast<double>(candidates)));
    }
  }
  return std::size_t{0};
}

}  // namespace maestro::local
