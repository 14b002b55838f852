// The HPA baseline against every case of ../shared/conformance/hpa-cases.json: Kubernetes' own
// controller tests (replica calculator, behavior rate limits, stabilisation, scale-event store, the
// legacy path and whole reconciles). See that file's field_notes for each field's meaning.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "hpa/hpa.hpp"

namespace maestro::hpa {
namespace {

using nlohmann::json;

const json& cases() {
  static const json all = [] {
    std::ifstream file(std::string(MAESTRO_SHARED_DIR) + "/conformance/hpa-cases.json");
    return json::parse(file);
  }();
  return all;
}

const TimePoint kNow = TimePoint{} + std::chrono::seconds(1'000'000'000);

TimePoint ago(const json& seconds_ago) {
  return kNow - std::chrono::duration_cast<base::Clock::Duration>(
                    std::chrono::duration<double>(seconds_ago.get<double>()));
}

core::ScalingRules rules_from(const json& j, seconds null_window = seconds(0)) {
  core::ScalingRules rules;
  rules.stabilization_window = j.value("stabilization_window_seconds", json()).is_null()
                                   ? null_window
                                   : seconds(j["stabilization_window_seconds"].get<int>());
  const std::string select = j.value("select_policy", "Max");
  rules.select = select == "Min"        ? core::PolicySelect::kMin
                 : select == "Disabled" ? core::PolicySelect::kDisabled
                                        : core::PolicySelect::kMax;
  for (const auto& p : j.value("policies", json::array())) {
    rules.policies.push_back(
        {p["type"] == "Pods" ? core::ScalingPolicyType::kPods : core::ScalingPolicyType::kPercent,
         p["value"].get<int>(), seconds(p["period_seconds"].get<int>())});
  }
  return rules;
}

Behavior behavior_from(const json& j, seconds null_down_window) {
  return Behavior{rules_from(j["scale_up"]), rules_from(j["scale_down"], null_down_window)};
}

std::vector<core::ScaleEvent> events_from(const json& j) {
  std::vector<core::ScaleEvent> events;
  for (const auto& e : j)
    events.push_back({ago(e["seconds_ago"]), e["replica_change"].get<int>(), e.value("outdated", false)});
  return events;
}

std::vector<core::Recommendation> history_from(const json& j) {
  std::vector<core::Recommendation> history;
  for (const auto& r : j) history.push_back({ago(r["seconds_ago"]), r["recommendation"].get<int>()});
  return history;
}

std::vector<int> values_of(const std::vector<core::Recommendation>& history) {
  std::vector<int> values;
  for (const auto& r : history) values.push_back(r.replicas);
  return values;
}

// The test harnesses' time model (field_notes.test_harness_time_model).
enum class Harness { kReplicaCalculator, kController };

PodSample pod_from(const json& p, Harness harness) {
  PodSample pod;
  const std::string phase = p["phase"];
  pod.phase = phase == "Pending"     ? PodPhase::kPending
              : phase == "Failed"    ? PodPhase::kFailed
              : phase == "Succeeded" ? PodPhase::kSucceeded
                                     : PodPhase::kRunning;
  pod.deleting = p["deleting"].get<bool>();
  if (!p["ready"].is_null()) pod.ready = p["ready"].get<bool>();
  const std::string start = p["start_time"];
  pod.start_time = start == "hot" ? kNow : start == "cool" ? kNow - std::chrono::minutes(3) : TimePoint{};
  if (!p["cpu_request_m"].is_null()) pod.request_m = p["cpu_request_m"].get<std::int64_t>();
  if (!p["cpu_usage_m"].is_null()) pod.usage_m = p["cpu_usage_m"].get<std::int64_t>();
  pod.sample_window = std::chrono::minutes(1);
  if (harness == Harness::kReplicaCalculator) {
    pod.sample_time = TimePoint{};
    pod.ready_transition = TimePoint{};
  } else {
    pod.sample_time = kNow;
    pod.ready_transition = *pod.start_time;
  }
  return pod;
}

// The tests' calculator settings: 2-minute CPU initialisation period, 10 s readiness delay.
CalculatorConfig calculator_from(const json& tolerance) {
  CalculatorConfig config;
  config.tolerances = {tolerance["scale_down"].get<double>(), tolerance["scale_up"].get<double>()};
  config.cpu_initialization_period = std::chrono::minutes(2);
  config.delay_of_initial_readiness = seconds(10);
  return config;
}

PodGroup group_from(const std::string& name) {
  static const std::map<std::string, PodGroup> groups{{"ready", PodGroup::kReady},
                                                      {"unready", PodGroup::kUnready},
                                                      {"missing", PodGroup::kMissing},
                                                      {"ignored", PodGroup::kIgnored}};
  return groups.at(name);
}

TEST(HpaConformance, FileHoldsTheExpectedNumberOfCases) {
  EXPECT_EQ(cases()["resource_utilization_cases"].size(), 47u);
  EXPECT_EQ(cases()["behavior_cases"].size(), 108u);
}

TEST(HpaConformance, ReplicaCalculatorAgreesWithEveryCase) {
  int checked = 0;
  for (const auto& c : cases()["resource_utilization_cases"]) {
    SCOPED_TRACE(c["id"].get<std::string>() + " " + c["test"].get<std::string>());
    const auto config = calculator_from(c["tolerance"]);
    std::vector<PodSample> pods;
    for (const auto& p : c["pods"]) {
      pods.push_back(pod_from(p, Harness::kReplicaCalculator));
      EXPECT_EQ(classify_pod(pods.back(), kNow, config), group_from(p["derived_state"])) << p["name"];
    }
    const auto result = resource_replicas(c["current_replicas"], c["target_utilization_percent"], pods,
                                          c["extra_metric_samples"].size(), kNow, config);
    if (!c["expected_error_contains"].is_null()) {
      ASSERT_FALSE(result.has_value());
      EXPECT_NE(result.error().message.find(c["expected_error_contains"].get<std::string>()),
                std::string::npos)
          << result.error().message;
    } else {
      ASSERT_TRUE(result.has_value()) << result.error().message;
      EXPECT_EQ(result->replicas, c["expected"]["desired_replicas"].get<int>());
      EXPECT_EQ(result->utilization_percent, c["expected"]["utilization_percent"].get<int>());
      EXPECT_EQ(result->raw_average_usage_m, c["expected"]["raw_average_usage_m"].get<std::int64_t>());
    }
    ++checked;
  }
  EXPECT_EQ(checked, 47);
}

TEST(HpaConformance, BehaviorStabilisationAndControllerAgreeWithEveryCase) {
  std::map<std::string, int> checked;
  for (const auto& c : cases()["behavior_cases"]) {
    const std::string kind = c["kind"];
    SCOPED_TRACE(c["id"].get<std::string>() + " " + kind + " " + c["test"].get<std::string>() + " / " +
                 c["subtest"].dump());
    const auto& expected = c["expected"];
    if (kind == "rate_limit") {
      const auto behavior = behavior_from(c["behavior"], seconds(300));
      const auto up = events_from(c["scale_up_events"]), down = events_from(c["scale_down_events"]);
      const auto limited = core::limit_rate_with_reason(
          c["current_replicas"], c["raw_recommendation"], up, down, behavior.scale_up, behavior.scale_down,
          core::ReplicaBounds{c["min_replicas"].get<int>(), c["max_replicas"].get<int>()}, kNow);
      EXPECT_EQ(limited.replicas, expected["replicas"].get<int>());
      EXPECT_EQ(core::limit_reason_name(limited.reason), expected["limiting_reason"].get<std::string>());
    } else if (kind == "stabilization") {
      const auto behavior = behavior_from(c["behavior"], seconds(0));
      auto history = history_from(c["recommendation_history"]);
      EXPECT_EQ(
          stabilize_with_behavior(c["current_replicas"], c["raw_recommendation"], history, behavior, kNow),
          expected["stabilized_replicas"].get<int>());
      if (!expected["history_after_values"].is_null()) {
        EXPECT_EQ(values_of(history), expected["history_after_values"].get<std::vector<int>>());
      }
    } else if (kind == "scale_event_store") {
      for (const bool up : {true, false}) {
        std::optional<Behavior> behavior;
        if (!c["rules"].is_null()) {
          behavior = Behavior{};
          (up ? behavior->scale_up : behavior->scale_down) = rules_from(c["rules"]);
        }
        auto events = events_from(c["history_before"]);
        std::vector<core::ScaleEvent> other;
        EXPECT_EQ(core::replicas_changed_in_period(events, seconds(60), kNow),
                  expected["replicas_changed_in_last_60s_before_store"].get<int>());
        const int change = c["replica_change"];
        store_scale_event(behavior ? &*behavior : nullptr, up ? events : other, up ? other : events, 10,
                          up ? 10 + change : 10 - change, kNow);
        ASSERT_EQ(events.size(), expected["history_after"].size());
        for (std::size_t i = 0; i < events.size(); ++i) {
          EXPECT_EQ(events[i].replica_change, expected["history_after"][i]["replica_change"].get<int>()) << i;
          EXPECT_EQ(events[i].outdated, expected["history_after"][i]["outdated"].get<bool>()) << i;
        }
        EXPECT_TRUE(other.empty());
      }
    } else if (kind == "limit_calc") {
      const auto rules = rules_from(c["rules"]);
      const auto up = events_from(c["scale_up_events"]), down = events_from(c["scale_down_events"]);
      const bool scale_up = c["function_under_test"] == "calculateScaleUpLimitWithScalingRules";
      const int limit = scale_up ? core::scale_up_limit(c["current_replicas"], up, down, rules, kNow)
                                 : core::scale_down_limit(c["current_replicas"], up, down, rules, kNow);
      EXPECT_EQ(limit, expected["limit"].get<int>());
    } else if (kind == "legacy_stabilization") {
      auto history = history_from(c["recommendation_history"]);
      EXPECT_EQ(stabilize_legacy(c["raw_recommendation"], history,
                                 seconds(c["downscale_stabilization_window_seconds"].get<int>()), kNow),
                expected["stabilized_replicas"].get<int>());
      EXPECT_EQ(history.size(), expected["history_length_after"].get<std::size_t>());
      if (c.contains("derived_history_after_values")) {
        EXPECT_EQ(values_of(history), c["derived_history_after_values"].get<std::vector<int>>());
      }
    } else if (kind == "legacy_rate_limit") {
      const auto limited =
          limit_legacy(c["current_replicas"], c["raw_recommendation"], c["min_replicas"], c["max_replicas"],
                       c["scale_up_limit_factor"], c["scale_up_limit_minimum"]);
      EXPECT_EQ(limited.replicas, expected["replicas"].get<int>());
      EXPECT_EQ(core::limit_reason_name(limited.reason), expected["limiting_reason"].get<std::string>());
      const auto production = limit_legacy(c["current_replicas"], c["raw_recommendation"], c["min_replicas"],
                                           c["max_replicas"], 2.0, c["scale_up_limit_minimum"]);
      EXPECT_EQ(production.replicas, c["expected_with_production_factor_2"]["replicas"].get<int>());
    } else if (kind == "controller_end_to_end") {
      ControllerConfig config;
      config.calculator = calculator_from(c["tolerance"]);
      if (!c["scale_up_limit_factor"].is_null()) config.scale_up_limit_factor = c["scale_up_limit_factor"];
      HpaSpec spec;
      spec.min_replicas = c["min_replicas"].is_null() ? 1 : c["min_replicas"].get<int>();
      spec.max_replicas = c["max_replicas"];
      // One case (current below min) sets no target: the metric is never read.
      const auto& target = c["metric"]["target_utilization_percent"];
      spec.target_utilization_percent = target.is_null() ? 80 : target.get<int>();
      if (!c["behavior"].is_null())
        spec.behavior = behavior_from(c["behavior"], config.downscale_stabilization);
      Controller controller(spec, config);
      if (c["recommendation_history"].is_array()) {
        controller.recommendations() = history_from(c["recommendation_history"]);
        controller.set_history_seen(true);
      }
      controller.scale_up_events() = events_from(c["scale_up_events"]);
      controller.scale_down_events() = events_from(c["scale_down_events"]);
      std::vector<PodSample> pods;
      for (const auto& p : c["pods"]) pods.push_back(pod_from(p, Harness::kController));
      const auto result = controller.reconcile(c["current_replicas"], pods, 0, kNow);
      EXPECT_EQ(result.desired_replicas, expected["desired_replicas"].get<int>())
          << (result.metric_error ? result.metric_error->message : "");
      // The same answer with the production scale-up factor, where the file derived it.
      if (c.value("same_result_with_production_scale_up_limit_factor_2", false)) {
        config.scale_up_limit_factor = 2;
        Controller production(spec, config);
        if (c["recommendation_history"].is_array()) {
          production.recommendations() = history_from(c["recommendation_history"]);
          production.set_history_seen(true);
        }
        EXPECT_EQ(production.reconcile(c["current_replicas"], pods, 0, kNow).desired_replicas,
                  expected["desired_replicas"].get<int>());
      }
    } else {
      ADD_FAILURE() << "unknown kind " << kind;
    }
    ++checked[kind];
  }
  EXPECT_EQ(checked["rate_limit"], 42);
  EXPECT_EQ(checked["stabilization"], 11);
  EXPECT_EQ(checked["scale_event_store"], 8);
  EXPECT_EQ(checked["limit_calc"], 2);
  EXPECT_EQ(checked["legacy_stabilization"], 5);
  EXPECT_EQ(checked["legacy_rate_limit"], 5);
  EXPECT_EQ(checked["controller_end_to_end"], 35);
}

}  // namespace
}  // namespace maestro::hpa
