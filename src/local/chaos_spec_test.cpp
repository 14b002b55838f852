#include "local/chaos_spec.hpp"

#include "local/local_config.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace maestro::local {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

system_clock::time_point utc(int year, int month, int day, int hour, int minute) {
  std::tm time{};
  time.tm_year = year - 1900;
  time.tm_mon = month - 1;
  time.tm_mday = day;
  time.tm_hour = hour;
  time.tm_min = minute;
  return system_clock::from_time_t(::timegm(&time));
}

TEST(ChaosSpec, ReadsAPodKillWithItsModeSelectorAndGracePeriod) {
  const auto objects = parse_chaos(R"(
apiVersion: chaos-mesh.org/v1alpha1
kind: PodChaos
metadata: {name: kill, namespace: shop, labels: {app.kubernetes.io/part-of: maestro}}
spec:
  action: pod-kill
  mode: fixed
  value: "2"
  gracePeriod: 3
  selector:
    namespaces: [shop]
    labelSelectors: {app.kubernetes.io/name: web}
)");
  ASSERT_TRUE(objects.has_value()) << objects.error().message;
  const auto& kill = std::get<ChaosExperiment>(objects->at(0));
  EXPECT_EQ(kill.kind, "PodChaos");
  EXPECT_EQ(kill.namespace_, "shop");
  EXPECT_EQ(kill.mode, ChaosMode::kFixed);
  EXPECT_EQ(kill.selector.labels.at("app.kubernetes.io/name"), "web");
  EXPECT_EQ(std::get<PodKill>(kill.action).grace_period, 3s);
}

TEST(ChaosSpec, ReadsAScheduledStressAndSeveralDocuments) {
  const auto objects = parse_chaos(R"(
apiVersion: chaos-mesh.org/v1alpha1
kind: Schedule
metadata: {name: stress}
spec:
  schedule: "@every 90s"
  type: StressChaos
  stressChaos:
    mode: one
    duration: 1m30s
    selector: {labelSelectors: {app: web}}
    stressors: {cpu: {workers: 2, load: 40}}
---
apiVersion: chaos-mesh.org/v1alpha1
kind: PodChaos
metadata: {name: kill}
spec: {action: pod-kill, mode: all, selector: {}}
)");
  ASSERT_TRUE(objects.has_value()) << objects.error().message;
  ASSERT_EQ(objects->size(), 2u);
  const auto& schedule = std::get<ChaosSchedule>(objects->at(0));
  EXPECT_EQ(std::get<std::chrono::milliseconds>(schedule.when), 90s);
  EXPECT_EQ(schedule.experiment.duration, 90s);
  EXPECT_EQ(std::get<CpuStress>(schedule.experiment.action).workers, 2);
  EXPECT_EQ(std::get<CpuStress>(schedule.experiment.action).load, 40);
}

TEST(ChaosSpec, RefusesWhatTheLocalClusterCannotDoByName) {
  const auto refused = [](const std::string& yaml) {
    const auto parsed = parse_chaos(yaml);
    return parsed.has_value() ? std::string() : parsed.error().message;
  };
  EXPECT_NE(refused("apiVersion: chaos-mesh.org/v1alpha1\nkind: PodChaos\nmetadata: {name: a}\n"
                    "spec: {action: pod-failure, mode: one, selector: {}}")
                .find("pod-kill"),
            std::string::npos);
  EXPECT_NE(refused("apiVersion: chaos-mesh.org/v1alpha1\nkind: StressChaos\nmetadata: {name: a}\n"
                    "spec: {mode: one, selector: {}, stressors: {memory: {workers: 1}}}")
                .find("memory"),
            std::string::npos);
  EXPECT_NE(refused("apiVersion: chaos-mesh.org/v1alpha1\nkind: PodChaos\nmetadata: {name: a}\n"
                    "spec: {action: pod-kill, mode: one, selector: {nodes: [n1]}}")
                .find("nodes"),
            std::string::npos);
  EXPECT_NE(refused("apiVersion: chaos-mesh.org/v1alpha1\nkind: PodChaos\nmetadata: {name: a}\n"
                    "spec: {action: pod-kill, mode: fixed, selector: {}}")
                .find("value"),
            std::string::npos);
  EXPECT_NE(refused("apiVersion: chaos-mesh.org/v1alpha1\nkind: NetworkChaos\nmetadata: {name: a}\nspec: {}")
                .find("NetworkChaos"),
            std::string::npos);
}

TEST(ChaosSpec, DurationsAreGos) {
  EXPECT_EQ(parse_go_duration("300ms"), 300ms);
  EXPECT_EQ(parse_go_duration("1m30s"), 90s);
  EXPECT_EQ(parse_go_duration("1.5h"), 5400s);
  EXPECT_FALSE(parse_go_duration("10").has_value());
  EXPECT_FALSE(parse_go_duration("5d").has_value());
}

TEST(ChaosSpec, CronSchedulesFireAtTheirMinutes) {
  const auto quarter = parse_cron("*/15 * * * *");
  ASSERT_TRUE(quarter.has_value());
  EXPECT_EQ(next_cron_time(*quarter, utc(2026, 11, 30, 20, 7)), utc(2026, 11, 30, 20, 15));
  EXPECT_EQ(next_cron_time(*quarter, utc(2026, 11, 30, 20, 15)), utc(2026, 11, 30, 20, 30));
  const auto twice = parse_cron("7,37 * * * *");
  ASSERT_TRUE(twice.has_value());
  EXPECT_EQ(next_cron_time(*twice, utc(2026, 11, 30, 20, 40)), utc(2026, 11, 30, 21, 7));
  // Sundays at 03:00: 30 November 2026 is a Monday.
  const auto weekly = parse_cron("0 3 * * 0");
  ASSERT_TRUE(weekly.has_value());
  EXPECT_EQ(next_cron_time(*weekly, utc(2026, 11, 30, 20, 0)), utc(2026, 12, 6, 3, 0));
  EXPECT_FALSE(parse_cron("61 * * * *").has_value());
  EXPECT_FALSE(parse_cron("* * * *").has_value());
}

RC_GTEST_PROP(ChaosSpec, ModesNeverPickMorePodsThanThereAre, (unsigned candidates, unsigned value)) {
  ChaosExperiment experiment;
  std::mt19937_64 random(candidates);
  for (const auto mode : {ChaosMode::kOne, ChaosMode::kAll, ChaosMode::kFixed, ChaosMode::kFixedPercent,
                          ChaosMode::kRandomMaxPercent}) {
    experiment.mode = mode;
    experiment.value = std::to_string(value % 101);
    const std::size_t pods = candidates % 50;
    const auto picked = pods_to_pick(experiment, pods, random);
    RC_ASSERT(picked.has_value());
    RC_ASSERT(*picked <= pods);
    if (mode == ChaosMode::kAll) RC_ASSERT(*picked == pods);
    if (mode == ChaosMode::kOne) RC_ASSERT(*picked == std::min<std::size_t>(1, pods));
  }
}

TEST(LocalConfigChaos, ReadsChaosFilesAndRandomRates) {
  const auto config =
      parse_local_config("chaos:\n  - file: kill.yaml\n  - {file: stress.yaml, per_hour: 4}\n");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  ASSERT_EQ(config->chaos.size(), 2u);
  EXPECT_EQ(config->chaos[0].file, "kill.yaml");
  EXPECT_EQ(config->chaos[0].per_hour, 0);
  EXPECT_EQ(config->chaos[1].per_hour, 4);
  EXPECT_FALSE(parse_local_config("chaos:\n  - {file: a.yaml, per_hour: -1}\n").has_value());
  EXPECT_FALSE(parse_local_config("chaos:\n  - {per_hour: 1}\n").has_value());
  EXPECT_FALSE(parse_local_config("chaos:\n  - {file: a.yaml, rate: 1}\n").has_value());
}

}  // namespace
}  // namespace maestro::local
