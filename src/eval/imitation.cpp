#include "eval/imitation.hpp"

#include <cstdlib>
#include <limits>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "eval/oracle.hpp"
#include "eval/runner.hpp"
#include "nn/policy.hpp"
#include "sim/env.hpp"

namespace maestro::eval {

namespace {

class DemonstratingAutoscaler final : public Autoscaler {
 public:
  DemonstratingAutoscaler(std::vector<int> schedule, const core::FeatureSpec& spec,
                          const core::ActionSet& actions, Demonstrations& out,
                          const std::function<int(std::span<const double>)>& learner)
      : expert_(std::move(schedule)), features_(spec), actions_(actions), out_(out), learner_(learner) {}
  void reset(const sim::Cluster& cluster) override {
    expert_.reset(cluster);
    features_.reset();
  }
  int decide(const sim::Cluster& cluster, const core::Observation& observation) override {
    features_.build(observation, core::DeploymentStatus{static_cast<double>(cluster.starting_pods())},
                    buffer_);
    const int wanted = expert_.decide(cluster, observation);
    int best = 0, best_replicas = cluster.replicas(), best_distance = std::numeric_limits<int>::max();
    for (int code = 0; code < actions_.size(); ++code) {
      const int replicas = sim::replicas_for_action(cluster.replicas(), actions_, code,
                                                    cluster.config().bounds, observation, cluster.config());
      const int distance = std::abs(replicas - wanted);
      if (distance < best_distance || (distance == best_distance && replicas < best_replicas))
        best = code, best_replicas = replicas, best_distance = distance;
    }
    out_.features.insert(out_.features.end(), buffer_.begin(), buffer_.end());
    out_.actions.push_back(best);
    if (!learner_) return best_replicas;
    return sim::replicas_for_action(cluster.replicas(), actions_, learner_(buffer_), cluster.config().bounds,
                                    observation, cluster.config());
  }

 private:
  OracleScheduleAutoscaler expert_;
  core::FeatureBuilder features_;
  core::ActionSet actions_;
  Demonstrations& out_;
  const std::function<int(std::span<const double>)>& learner_;
  std::vector<double> buffer_;
};

}  // namespace

void demonstrate(const Scenario& scenario, std::span<const double> arrivals, std::uint64_t seed,
                 const core::FeatureSpec& features, const core::ActionSet& actions,
                 const CloningOptions& prices, Demonstrations& out,
                 const std::function<int(std::span<const double>)>& learner) {
  out.feature_size = core::FeatureBuilder(features).size();
  DemonstratingAutoscaler demonstrator(
      solve_oracle(oracle_problem(scenario, arrivals, prices.violation_price, prices.change_cost)).ready,
      features, actions, out, learner);
  run_once(scenario, arrivals, seed, demonstrator, nullptr);
}

void clone_foresight(rl::PpoTrainer& trainer, const std::vector<Scenario>& scenarios,
                     const core::FeatureSpec& features, const core::ActionSet& actions,
                     const CloningOptions& options, const CloningProgress& progress) {
  Demonstrations demonstrations;
  for (int round = 0; round < options.rounds; ++round) {
    std::function<int(std::span<const double>)> learner;
    if (round > 0) {
      auto actor = std::make_shared<const nn::Actor>(trainer.policy());
      learner = [actor](std::span<const double> x) { return actor->act(x); };
    }
    const auto seed = static_cast<std::uint64_t>(round + 1);  // other arrivals each round
    for (const auto& scenario : scenarios)
      demonstrate(scenario, scenario_arrivals(scenario, seed), seed, features, actions, options,
                  demonstrations, learner);
    const double cloned = trainer.imitate(demonstrations.features, demonstrations.actions, options.epochs,
                                          options.learning_rate);
    if (progress) progress(round, demonstrations.actions.size(), cloned);
  }
}

std::function<void(rl::PpoTrainer&)> cloning_step(std::vector<Scenario> scenarios, core::FeatureSpec features,
                                                  core::ActionSet actions, CloningOptions options,
                                                  CloningProgress progress) {
  return [=](rl::PpoTrainer& trainer) {
    clone_foresight(trainer, scenarios, features, actions, options, progress);
  };
}

void record_cloning(const CloningOptions& options, const std::vector<Scenario>& scenarios,
                    nn::PolicyFile& policy) {
  std::vector<std::string> names;
  for (const auto& scenario : scenarios) names.push_back(scenario.name);
  auto& recorded = policy.metadata.hyperparameters;
  recorded.emplace_back("imitate_violation_price", fmt::format("{}", options.violation_price));
  recorded.emplace_back("imitate_change_cost", fmt::format("{}", options.change_cost));
  recorded.emplace_back("imitate_rounds", std::to_string(options.rounds));
  recorded.emplace_back("imitate_epochs", std::to_string(options.epochs));
  recorded.emplace_back("imitate_on", fmt::format("{}", fmt::join(names, ",")));
}

}  // namespace maestro::eval
