// Scenarios: every built-in resolves and is valid, YAML files are read strictly, trace files replay with
// the documented defaults, overrides apply, and bad input is refused with a clear message.
#include "eval/scenario.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "eval/policies.hpp"
#include "eval/report.hpp"
#include "eval/training.hpp"
#include "traffic/splits.hpp"

namespace maestro::eval {
namespace {

namespace fs = std::filesystem;
const fs::path kShared = MAESTRO_SHARED_DIR;

class ScenarioFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("maestro-scenario-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

TEST(Scenarios, EveryBuiltinResolvesAndRenders) {
  for (const auto& name : builtin_scenario_names()) {
    const auto scenario = resolve_scenario(name, {}, kShared);
    ASSERT_TRUE(scenario.has_value()) << name << ": " << scenario.error().message;
    const auto arrivals = scenario_arrivals(*scenario, 1);
    ASSERT_EQ(arrivals.size(), static_cast<std::size_t>(scenario->duration_seconds));
    const double peak = *std::max_element(arrivals.begin(), arrivals.end());
    EXPECT_GT(peak, 0.5 * scenario->traffic.peak_rps) << name;
    EXPECT_LT(peak, 2.0 * scenario->traffic.peak_rps) << name;
    EXPECT_EQ(arrivals, scenario_arrivals(*scenario, 1)) << name;
  }
  EXPECT_FALSE(resolve_scenario("no-such-scenario", {}, kShared).has_value());
}

TEST(Scenarios, TheExampleFilesAreValid) {
  const auto scenario =
      resolve_scenario(std::string(MAESTRO_SOURCE_DIR) + "/scenarios/flash-crowd-chaos.yaml", {}, kShared);
  ASSERT_TRUE(scenario.has_value()) << scenario.error().message;
  EXPECT_EQ(scenario->name, "flash-crowd-chaos");
  EXPECT_GT(scenario->cluster.chaos.pod_kills_per_hour, 0);
  // maestro calibrate's output, as it wrote it.
  const auto calibrated =
      resolve_scenario(std::string(MAESTRO_SOURCE_DIR) + "/scenarios/calibrated-half-core.yaml", {}, kShared);
  ASSERT_TRUE(calibrated.has_value()) << calibrated.error().message;
  EXPECT_EQ(calibrated->cluster.service.cpu_limit_cores, 0.5);
  EXPECT_EQ(calibrated->cluster.service.service_time, sim::ServiceTimeDistribution::kLogNormal);
  EXPECT_GT(calibrated->cluster.service.service_cores, 0);
}

TEST(Scenarios, OverridesApply) {
  ScenarioOverrides overrides{500.0, 30.0, true, 600, std::nullopt};
  const auto scenario = resolve_scenario("nasa", overrides, kShared);
  ASSERT_TRUE(scenario.has_value());
  EXPECT_EQ(scenario->traffic.peak_rps, 500);
  EXPECT_EQ(scenario->cluster.startup.median_seconds, 30);
  EXPECT_EQ(scenario->cluster.chaos.pod_kills_per_hour, chaos_preset().pod_kills_per_hour);
  EXPECT_EQ(scenario->duration_seconds, 600);
  EXPECT_NE(scenario->description.find("600 s only (--duration)"), std::string::npos);
  overrides.duration_seconds = 30 * 86400;  // past the end of the NASA trace's test window
  EXPECT_FALSE(resolve_scenario("nasa", overrides, kShared).has_value());
}

TEST(Scenarios, BuiltinTraceScenariosReplayTheirSplitWindowsAtRealTime) {
  const struct {
    const char* name;
    traffic::SplitPart part;
  } expected[] = {{"nasa", traffic::SplitPart::kTest},
                  {"nasa-validation", traffic::SplitPart::kValidation},
                  {"worldcup", traffic::SplitPart::kTest},
                  {"worldcup-validation", traffic::SplitPart::kValidation}};
  for (const auto& [name, part] : expected) {
    const auto scenario = resolve_scenario(name, {}, kShared);
    ASSERT_TRUE(scenario.has_value()) << name << ": " << scenario.error().message;
    const auto& traffic = scenario->traffic;
    const auto window = traffic::split_for(traffic.trace->name)->part(part);
    EXPECT_GE(scenario->duration_seconds, 86400) << name;  // a day or more
    EXPECT_GE(traffic.window_start_seconds, window.start_seconds) << name;
    EXPECT_LE(traffic.window_start_seconds + scenario->duration_seconds, window.end_seconds) << name;
    EXPECT_EQ(traffic.window_end_seconds, window.end_seconds) << name;
  }
  // The World Cup test scenario holds the busiest minute, 7 July 1998 21:41 UTC.
  const auto worldcup = resolve_scenario("worldcup", {}, kShared);
  const double busiest = 899'847'660 - traffic::kWorldCupStartUnix;
  EXPECT_LE(worldcup->traffic.window_start_seconds, busiest);
  EXPECT_GT(worldcup->traffic.window_start_seconds + worldcup->duration_seconds, busiest + 60);
}

TEST_F(ScenarioFiles, SpeedupOtherThanOneIsRefusedSayingWhy) {
  ScenarioOverrides overrides;
  overrides.speedup = 30;
  const auto flag = resolve_scenario("nasa", overrides, kShared);
  ASSERT_FALSE(flag.has_value());
  EXPECT_NE(flag.error().message.find("--speedup"), std::string::npos);
  EXPECT_NE(flag.error().message.find("real time"), std::string::npos);
  EXPECT_NE(flag.error().message.find("pod start-up"), std::string::npos);
  overrides.speedup = 1;
  EXPECT_TRUE(resolve_scenario("nasa", overrides, kShared).has_value());
  const auto yaml = resolve_scenario(
      write("fast.yaml", "traffic:\n  shape: trace\n  trace: nasa\n  speedup: 60\n"), {}, kShared);
  ASSERT_FALSE(yaml.has_value());
  EXPECT_NE(yaml.error().message.find("speed-up of 60 is refused"), std::string::npos);
  EXPECT_TRUE(resolve_scenario(write("x1.yaml", "traffic:\n  shape: trace\n  trace: nasa\n  speedup: 1\n"),
                               {}, kShared)
                  .has_value());
}

TEST_F(ScenarioFiles, YamlScenarioIsReadWithItsSettings) {
  const auto path = write("flash.yaml", R"(name: my-flash
duration_seconds: 1200
traffic:
  shape: flash-crowd
  peak_rps: 900
  event_at_seconds: 300
cluster:
  max_replicas: 40
  startup_seconds: 45
  slo_soft_ms: 80
  slo_hard_ms: 400
chaos:
  pod_kills_per_hour: 3
)");
  const auto scenario = resolve_scenario(path, {}, kShared);
  ASSERT_TRUE(scenario.has_value()) << scenario.error().message;
  EXPECT_EQ(scenario->name, "my-flash");
  EXPECT_EQ(scenario->duration_seconds, 1200);
  EXPECT_EQ(scenario->traffic.kind, traffic::ShapeKind::kFlashCrowd);
  EXPECT_EQ(scenario->cluster.bounds.max, 40);
  EXPECT_EQ(scenario->cluster.startup.median_seconds, 45);
  EXPECT_EQ(*scenario->cluster.slo.soft_ms, 80);
  EXPECT_EQ(scenario->cluster.chaos.pod_kills_per_hour, 3);
}

TEST_F(ScenarioFiles, YamlSetsTheServiceModelThatCalibrationMeasures) {
  const auto path = write("calibrated.yaml", R"(cluster:
  idle_cpu_cores: 0.002
  service_cores: 0.6
  service_time: lognormal
  service_time_cv: 0.5
  warmup_seconds: 0
  warmup_initial_speed: 1
)");
  const auto scenario = resolve_scenario(path, {}, kShared);
  ASSERT_TRUE(scenario.has_value()) << scenario.error().message;
  const auto& cluster = scenario->cluster;
  EXPECT_EQ(cluster.service.idle_cpu_cores, 0.002);
  EXPECT_EQ(cluster.service.service_cores, 0.6);
  EXPECT_DOUBLE_EQ(cluster.service.service_rate(), 0.6 / cluster.service.cpu_seconds_per_request);
  EXPECT_EQ(cluster.service.service_time, sim::ServiceTimeDistribution::kLogNormal);
  EXPECT_EQ(cluster.service.service_time_cv, 0.5);
  EXPECT_EQ(cluster.warmup.seconds, 0);
  EXPECT_EQ(cluster.warmup.initial_speed, 1);
  // Without the keys, the simulator's defaults stay.
  const auto plain = resolve_scenario(write("plain.yaml", "cluster:\n  max_replicas: 9\n"), {}, kShared);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->cluster.service.service_time, sim::ServiceTimeDistribution::kExponential);
  EXPECT_EQ(plain->cluster.warmup.seconds, sim::WarmupModel{}.seconds);
  EXPECT_FALSE(
      resolve_scenario(write("bad.yaml", "cluster:\n  service_time: gamma\n"), {}, kShared).has_value());
  // A pod cannot be faster than its limit.
  EXPECT_FALSE(
      resolve_scenario(write("fast.yaml", "cluster:\n  service_cores: 1.5\n"), {}, kShared).has_value());
}

TEST_F(ScenarioFiles, YamlMistakesAreRefusedByName) {
  auto bad = resolve_scenario(write("a.yaml", "traffic:\n  shape: flash\n"), {}, kShared);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("flash"), std::string::npos);
  bad = resolve_scenario(write("b.yaml", "traffic:\n  peak: 3\n"), {}, kShared);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("peak"), std::string::npos);
  bad = resolve_scenario(write("c.yaml", "cluster:\n  max_replicas: lots\n"), {}, kShared);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("max_replicas"), std::string::npos);
  EXPECT_FALSE(resolve_scenario(write("d.yaml", "cluster:\n  slo_soft_ms: 900\n"), {}, kShared).has_value());
  EXPECT_FALSE(resolve_scenario(write("e.yaml", ": : :\n"), {}, kShared).has_value());
}

TEST_F(ScenarioFiles, TraceFileReplaysWithTheDefaults) {
  std::string lines;
  for (int i = 0; i < 200; ++i) lines += std::to_string(i % 7) + "\n";
  const auto scenario = resolve_scenario(write("trace.txt", lines), {}, kShared);
  ASSERT_TRUE(scenario.has_value()) << scenario.error().message;
  EXPECT_EQ(scenario->traffic.trace->name, "trace");
  EXPECT_EQ(scenario->traffic.window_start_seconds, 0);
  EXPECT_EQ(scenario->duration_seconds, 200);  // the whole trace at real time (at most a day)
  EXPECT_EQ(scenario->traffic.peak_rps, 800);
}

TEST(Training, MixAndSingleScenariosGiveValidRandomisedEnvironments) {
  const auto mix = training_env_config("mix", {}, core::FeatureSet::kOriginal, kShared);
  ASSERT_TRUE(mix.has_value()) << mix.error().message;
  EXPECT_EQ(mix->traffic.shapes.size(), 7u);
  ScenarioOverrides overrides;
  overrides.startup_seconds = 30;
  const auto nasa = training_env_config("nasa", overrides, core::FeatureSet::kExtended, kShared);
  ASSERT_TRUE(nasa.has_value()) << nasa.error().message;
  EXPECT_EQ(nasa->traffic.shapes.size(), 1u);
  EXPECT_EQ(nasa->cluster.startup.median_seconds, 30);
  // Episodes replay only NASA's training window.
  const auto& shape = nasa->traffic.shapes.front();
  EXPECT_EQ(shape.window_start_seconds, traffic::split_for("nasa-http-1995")->train.start_seconds);
  EXPECT_EQ(shape.window_end_seconds, traffic::split_for("nasa-http-1995")->train.end_seconds);
  for (const auto& mixed : mix->traffic.shapes) {
    if (mixed.kind != traffic::ShapeKind::kTrace) continue;
    EXPECT_EQ(mixed.window_end_seconds, traffic::split_for(mixed.trace->name)->train.end_seconds);
  }
  sim::Env env(*nasa);
  EXPECT_EQ(env.observation_size(), 13u);
  std::vector<double> a(env.observation_size()), b(env.observation_size());
  env.reset(1, a);
  env.reset(2, b);
  EXPECT_NE(a, b);  // different windows and scales
  EXPECT_FALSE(training_env_config("nope", {}, core::FeatureSet::kOriginal, kShared).has_value());
  // Episodes outlast the long set's hour of history four times over.
  EXPECT_EQ(nasa->episode_steps, 200);
  const auto long_history = training_env_config("nasa", overrides, core::FeatureSet::kLong, kShared);
  ASSERT_TRUE(long_history.has_value()) << long_history.error().message;
  EXPECT_EQ(long_history->episode_steps, 960);
  EXPECT_EQ(sim::Env(*long_history).observation_size(), 17u);
}

TEST(TrainingData, ResultsOnDataAPolicyWasTrainedOnAreMarked) {
  const auto nasa = resolve_scenario("nasa", {}, kShared);
  ASSERT_TRUE(nasa.has_value());
  const auto split = *traffic::split_for("nasa-http-1995");
  EXPECT_EQ(training_data_note(*nasa, {}), "training data unknown");
  EXPECT_EQ(training_data_note(*nasa, {{"nasa-http-1995", split.train.start_seconds, split.train.end_seconds},
                                       {"worldcup98", 0, 7'518'600},
                                       {"synthetic:diurnal", 0, 3015}}),
            "held out");
  const auto whole = training_data_note(*nasa, {{"nasa-http-1995", 0, 5'059'950}});
  EXPECT_TRUE(whole.starts_with("TRAINED ON THIS WINDOW")) << whole;
  const auto flash = resolve_scenario("flash-crowd", {}, kShared);
  EXPECT_EQ(training_data_note(*flash, {{"synthetic:flash-crowd", 0, 3015}}),
            "trained on this shape (synthetic:flash-crowd)");

  // What `maestro train` records for the mix: the training windows only, so every test scenario is held out.
  const auto mix = training_env_config("mix", {}, core::FeatureSet::kOriginal, kShared);
  ASSERT_TRUE(mix.has_value());
  const auto recorded = training_data("mix", *mix);
  for (const auto* name : {"nasa", "worldcup", "nasa-validation", "worldcup-validation"}) {
    const auto scenario = resolve_scenario(name, {}, kShared);
    EXPECT_EQ(training_data_note(*scenario, recorded), "held out") << name;
  }
  // The note reaches the evaluation (and from there the table, results.json and the report).
  auto short_nasa =
      resolve_scenario("nasa", {std::nullopt, std::nullopt, std::nullopt, 60, std::nullopt}, kShared);
  PolicyEntry entry = policy_entries("static:2", *short_nasa)->front();
  entry.role = PolicyRole::kEvaluated;
  entry.training_data = std::vector<nn::DataWindow>{{"nasa-http-1995", 0, 5'059'950}};
  const auto evaluation = evaluate(*short_nasa, {entry}, {1});
  EXPECT_TRUE(evaluation.policies[0].data_note.starts_with("TRAINED ON THIS WINDOW"));
  EXPECT_NE(results_table(evaluation).find("TRAINED ON THIS WINDOW"), std::string::npos);
}

TEST(Report, AnEvaluationOfSweepPointsOnlyHasNoTimeSeriesCharts) {
  auto scenario =
      resolve_scenario("steady", {std::nullopt, std::nullopt, std::nullopt, 120, std::nullopt}, kShared);
  ASSERT_TRUE(scenario.has_value());
  const auto evaluation = evaluate(*scenario, *policy_entries("static-sweep", *scenario), {1});
  const auto html = report_html(evaluation);
  EXPECT_NE(html.find("baseline frontier"), std::string::npos);
  EXPECT_EQ(html.find(">Replicas<"), std::string::npos);
}

TEST(Report, OutputsAreSelfContainedAndDeterministic) {
  auto scenario =
      resolve_scenario("flash-crowd", {std::nullopt, std::nullopt, std::nullopt, 600, std::nullopt}, kShared);
  ASSERT_TRUE(scenario.has_value());
  std::vector<PolicyEntry> policies;
  for (const auto* name : {"hpa", "kpa", "oracle"})
    policies.push_back(policy_entries(name, *scenario)->front());
  const auto first = evaluate(*scenario, policies, {1, 2});
  const auto second = evaluate(*scenario, policies, {1, 2});
  EXPECT_EQ(results_json(first).dump(), results_json(second).dump());
  const auto html = report_html(first);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org"));  // no external resources
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  const auto table = results_table(first);
  for (const auto* name : {"hpa", "kpa", "oracle"}) EXPECT_NE(table.find(name), std::string::npos);
  const std::string header = "time,rps,replicas,ready_pods,p95_ms,cpu,action\n";
  EXPECT_EQ(series_csv(first.policies[0]).substr(0, header.size()), header);
  EXPECT_EQ(first.policies[0].series.size(), 600u);
  EXPECT_EQ(first.policies[0].runs.size(), 2u);
  // The oracle's bound, the frontier and the table's summary lines are in every output.
  const auto json = results_json(first);
  EXPECT_GT(json["oracle"]["pod_hours"]["mean"].get<double>(), 0);
  EXPECT_EQ(json["frontier"]["baselines"].size(), 2u);  // hpa and kpa; oracle-schedule is no baseline
  EXPECT_EQ(json["policies"][2]["role"], "oracle-schedule");
  EXPECT_TRUE(json["policies"][0]["share_over_soft"].contains("ci95"));
  EXPECT_NE(table.find("oracle (lower bound"), std::string::npos);
  EXPECT_NE(html.find("baseline frontier"), std::string::npos);
}

}  // namespace
}  // namespace maestro::eval
