// Serve what was trained (issue 8, item 6): a metric stream recorded from a simulated run — for each control
// step the observation, the replicas, the pods still starting and the action evaluation took, through
// eval::FeaturePolicyAutoscaler exactly as `maestro eval` runs a policy — is served through a fake Prometheus
// (answering the four queries with the recorded values), the suggestion server (deployment history, features)
// and the model server (the same policy file, over HTTP). The served actions must be the ones evaluation
// took, for every feature set and action set. Checks of the test itself: with the history dropped (a fresh
// FeatureBuilder each step) or advanced twice per interval, an extended policy's actions differ, so the test
// would fail if serving did either; and a second request within an interval is served from the same step.
#include <filesystem>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "base/clock.hpp"
#include "core/action_set.hpp"
#include "core/features.hpp"
#include "eval/policies.hpp"
#include "eval/runner.hpp"
#include "eval/scenario.hpp"
#include "net/http_client.hpp"
#include "nn/policy.hpp"
#include "nn/policy_file.hpp"
#include "prom/query_client.hpp"
#include "prom/state_builder.hpp"
#include "services/model_server/model_server.hpp"
#include "services/model_server/nn_policy.hpp"
#include "services/suggestion_server/model_client.hpp"
#include "services/suggestion_server/suggestion_server.hpp"
#include "support/fake_prometheus.hpp"

namespace maestro {
namespace {

using namespace std::chrono_literals;

constexpr int kIntervalSeconds = 15;  // the control interval of evaluation and of the suggestion server

// One control step of the recorded run.
struct RecordedStep {
  core::Observation observation;
  int replicas = 0;
  int starting_replicas = 0;
  double cpu_request_cores = 0;  // one pod's: what a utilisation target is a share of
  std::vector<double> features;  // what evaluation's FeatureBuilder built
  int action = 0;                // what the policy answered
};

// Evaluation's autoscaler for a policy, recording each decision on the way.
class RecordingAutoscaler final : public eval::Autoscaler {
 public:
  RecordingAutoscaler(std::shared_ptr<const nn::Policy> policy, std::vector<RecordedStep>& steps)
      : steps_(steps),
        inner_(
            policy->feature_spec(),
            [this, policy](std::span<const double> features) {
              steps_.back().features.assign(features.begin(), features.end());
              steps_.back().action = policy->predict_features(features).action;
              return steps_.back().action;
            },
            policy->action_set()) {}
  void reset(const sim::Cluster& cluster) override { inner_.reset(cluster); }
  int decide(const sim::Cluster& cluster, const core::Observation& observation) override {
    steps_.push_back({.observation = observation,
                      .replicas = cluster.replicas(),
                      .starting_replicas = cluster.starting_pods(),
                      .cpu_request_cores = cluster.config().service.cpu_request_cores,
                      .features = {},
                      .action = -1});
    return inner_.decide(cluster, observation);
  }

 private:
  std::vector<RecordedStep>& steps_;
  eval::FeaturePolicyAutoscaler inner_;
};

// A randomly initialised policy whose normalisation is fitted to the run's features, so that its actions
// vary with them (an unfitted one answers the same action throughout, which would prove nothing).
nn::PolicyFile policy_for(const core::FeatureSpec& spec, const std::string& action_set,
                          std::span<const RecordedStep> fit_to) {
  nn::PolicyFile file = nn::untrained_autoscaling_policy(spec, 11, *core::action_set_from_name(action_set));
  auto& stats = file.normalizer.stats;
  const std::size_t count = core::feature_count(spec.set);
  for (std::size_t i = 0; i < count && !fit_to.empty(); ++i) {
    double sum = 0, squares = 0;
    for (const auto& step : fit_to) sum += step.features[i];
    stats.mean[i] = sum / static_cast<double>(fit_to.size());
    for (const auto& step : fit_to)
      squares += (step.features[i] - stats.mean[i]) * (step.features[i] - stats.mean[i]);
    stats.var[i] = std::max(squares / static_cast<double>(fit_to.size()), 1e-6);
  }
  return file;
}

std::vector<RecordedStep> record_run(std::shared_ptr<const nn::Policy> policy) {
  eval::ScenarioOverrides overrides;
  overrides.duration_seconds = 1800;
  auto scenario = eval::resolve_scenario("flash-crowd", overrides, MAESTRO_SHARED_DIR);
  EXPECT_TRUE(scenario.has_value()) << scenario.error().message;
  const std::uint64_t seed = 3;
  const auto arrivals = eval::scenario_arrivals(*scenario, seed);
  std::vector<RecordedStep> steps;
  RecordingAutoscaler recorder(std::move(policy), steps);
  eval::run_once(*scenario, arrivals, seed, recorder, nullptr);
  return steps;
}

// The deployment as the Kubernetes API shows it at the recorded step.
class RecordedKubernetes final : public suggestion_server::DeploymentSource {
 public:
  const RecordedStep* step = nullptr;
  Result<suggestion_server::DeploymentInfo> get(const std::string&, const std::string&) override {
    return suggestion_server::DeploymentInfo{.replicas = step->replicas,
                                             .ready_replicas = step->replicas - step->starting_replicas,
                                             .annotations = {},
                                             .cpu_request_cores = step->cpu_request_cores};
  }
};

struct ParityCase {
  core::FeatureSet features;
  std::string actions;
};

void PrintTo(const ParityCase& c, std::ostream* out) {
  *out << core::feature_set_name(c.features) << "/" << c.actions;
}

class ServeParity : public ::testing::TestWithParam<ParityCase> {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);  // a line per suggestion otherwise
    directory_ = std::filesystem::path(::testing::TempDir()) / fmt::format("maestro-parity-{}", ::getpid());
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override {
    spdlog::set_level(spdlog::level::info);
    std::filesystem::remove_all(directory_);
  }
  std::filesystem::path directory_;
};

TEST_P(ServeParity, ServedActionsAreTheOnesEvaluationTook) {
  const core::FeatureSpec spec{GetParam().features, 512.0 * 1024 * 1024};

  // The run, recorded with a policy fitted to a first run's features.
  const auto first = record_run(
      std::make_shared<const nn::Policy>(*nn::Policy::create(policy_for(spec, GetParam().actions, {}))));
  const auto policy_path = directory_ / "policy.bin";
  ASSERT_TRUE(nn::write_policy_file(policy_path, policy_for(spec, GetParam().actions, first)).has_value());
  auto loaded = nn::load_policy(policy_path);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  const auto policy = std::make_shared<const nn::Policy>(std::move(*loaded));
  const auto steps = record_run(policy);
  ASSERT_GE(steps.size(), 100u);
  std::set<int> taken;
  for (const auto& step : steps) taken.insert(step.action);
  ASSERT_GE(taken.size(), 2u) << "the policy answers one action throughout: the run proves nothing";

  if (nn::needs_history(spec.set)) {
    // The test can fail: served without history, or with history advanced twice per step, actions differ.
    int without_history = 0, twice = 0;
    core::FeatureBuilder doubled(spec);
    std::vector<double> features;
    for (const auto& step : steps) {
      core::FeatureBuilder(spec).build(step.observation, {double(step.starting_replicas)}, features);
      without_history += policy->predict_features(features).action != step.action;
      doubled.build(step.observation, {double(step.starting_replicas)}, features);
      doubled.build(step.observation, {double(step.starting_replicas)}, features);
      twice += policy->predict_features(features).action != step.action;
    }
    EXPECT_GT(without_history, 0) << "dropping history would go unnoticed";
    EXPECT_GT(twice, 0) << "advancing history twice would go unnoticed";
  }

  // Serving: the model server with the policy file, the suggestion server reading the fake Prometheus.
  model_server::ModelServer model(model_server::ModelServerOptions{.policy_file = policy_path,
                                                                   .loader = model_server::load_policy_file,
                                                                   .http = {},
                                                                   .watch_interval = std::nullopt});
  ASSERT_TRUE(model.load().has_value());
  auto model_port = model.listen("127.0.0.1:0");
  ASSERT_TRUE(model_port.has_value());
  model.start();
  net::HttpClientOptions model_options;
  model_options.base_url = fmt::format("http://127.0.0.1:{}", *model_port);
  net::HttpClient model_http(model_options);
  suggestion_server::HttpModelClient model_client(model_http);

  testing::FakePrometheus prometheus;
  ASSERT_TRUE(prometheus.start().has_value());
  net::HttpClientOptions prometheus_options;
  prometheus_options.base_url = prometheus.url();
  net::HttpClient prometheus_http(prometheus_options);
  prom::PrometheusClient prometheus_client(prometheus_http);
  prom::StateBuilder state_builder(prometheus_client);

  RecordedKubernetes kubernetes;
  base::ManualClock clock;
  suggestion_server::SuggestionServer suggestions(
      kubernetes, state_builder, model_client, clock,
      {.http = {},
       .history = {.step_interval = std::chrono::seconds(kIntervalSeconds), .forget_after = 2min}});
  auto port = suggestions.listen("127.0.0.1:0");
  ASSERT_TRUE(port.has_value());
  suggestions.start();
  net::HttpClientOptions options;
  options.base_url = fmt::format("http://127.0.0.1:{}", *port);
  options.retry.max_attempts = 1;
  net::HttpClient client(options);
  const auto suggest = [&] {
    auto response = client.get("/suggest?deployment=web&namespace=shop");
    EXPECT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200) << response->body;
    return nlohmann::json::parse(response->body);
  };

  int differing = 0;
  long new_steps = 0;  // without history, a request asked again is a new step too
  for (std::size_t k = 0; k < steps.size(); ++k) {
    const RecordedStep& step = steps[k];
    kubernetes.step = &step;
    prometheus.set(step.observation);
    const bool retried = k % 4 == 1;  // every fourth step is asked twice, 5 s apart
    clock.advance(std::chrono::seconds(k == 0 ? 0 : k % 4 == 2 ? kIntervalSeconds - 5 : kIntervalSeconds));
    auto answer = suggest();
    differing += answer["action"] != step.action;
    EXPECT_EQ(answer["action"], step.action) << "step " << k;
    EXPECT_EQ(answer["replicas"], step.replicas);
    EXPECT_EQ(answer["action_set"], GetParam().actions);
    const int desired =
        *core::replicas_after(policy->action_set(), step.action, step.replicas,
                              core::CpuBasis{step.observation.cpu_usage, step.cpu_request_cores});
    EXPECT_EQ(answer["desired_replicas"], desired);
    // What the controller applies: a utilisation target comes as the pods it means for these replicas.
    if (policy->action_set().needs_cpu()) {
      EXPECT_EQ(answer["replica_change"],
                nlohmann::json({{"kind", "pods"}, {"amount", desired - step.replicas}}));
    }
    EXPECT_EQ(answer["features"], nlohmann::json(step.features)) << "step " << k;
    EXPECT_EQ(answer["step"]["index"], ++new_steps);
    if (retried) {
      clock.advance(5s);
      // With history, the step is served again (a new one would read these zeros); without, it is read
      // afresh.
      if (nn::needs_history(spec.set)) prometheus.set({});
      const int queries = prometheus.queries();
      const auto again = suggest();
      EXPECT_EQ(again["action"], answer["action"]) << "step " << k << " asked again";
      if (nn::needs_history(spec.set)) {
        EXPECT_EQ(again["step"], nlohmann::json({{"index", new_steps}, {"reused", true}}));
        EXPECT_EQ(prometheus.queries(), queries);
      } else {
        ++new_steps;
      }
    }
  }
  EXPECT_EQ(differing, 0) << "of " << steps.size() << " steps";
  suggestions.stop();
  model.stop();
}

INSTANTIATE_TEST_SUITE_P(EveryFeatureSetAndActionSet, ServeParity,
                         ::testing::Values(ParityCase{core::FeatureSet::kOriginal, "original"},
                                           ParityCase{core::FeatureSet::kExtended, "original"},
                                           ParityCase{core::FeatureSet::kOriginal, "multi"},
                                           ParityCase{core::FeatureSet::kExtended, "multi"},
                                           ParityCase{core::FeatureSet::kLong, "multi"},
                                           ParityCase{core::FeatureSet::kLong, "targets"}),
                         [](const ::testing::TestParamInfo<ParityCase>& info) {
                           return fmt::format("{}_{}", core::feature_set_name(info.param.features),
                                              info.param.actions);
                         });

}  // namespace
}  // namespace maestro
