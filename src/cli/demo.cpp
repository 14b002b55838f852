// maestro demo: the whole story in a few minutes — train a policy in the simulator with the recommended
// recipe (eval::recommended_recipe, as `maestro train --env sim`, with fewer steps per seed unless asked),
// then evaluate it against the Kubernetes HPA (and its tuned sweep), Knative's KPA, a static allocation and
// the clairvoyant oracle on a real trace, print the table and say where the report is.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "base/clock.hpp"
#include "cli/cloning.hpp"
#include "cli/command.hpp"
#include "cli/demo_live.hpp"
#include "cli/envs.hpp"
#include "eval/policies.hpp"
#include "eval/report.hpp"
#include "eval/runner.hpp"
#include "eval/scenario.hpp"
#include "eval/training.hpp"
#include "nn/policy_file.hpp"
#include "rl/ppo.hpp"
#include "rl/vec_env.hpp"
#include "sim/env.hpp"

namespace maestro::cli {
namespace {

namespace fs = std::filesystem;

// The recipe's steps per seed, shortened so that the demo takes a few minutes.
constexpr std::uint64_t kDemoStepsPerSeed = 250'000;

struct DemoOptions {
  std::string scenario = "worldcup";
  std::string train_scenario = "mix";
  std::uint64_t steps = kDemoStepsPerSeed;
  int training_seeds = eval::recommended_recipe().seeds;
  int seeds = 3;
  double startup_seconds = 30;
  std::string features{core::feature_set_name(eval::recommended_recipe().features)};
  std::string out = "demo-out";
  std::uint64_t seed = 1;
  std::string shared_dir;
  std::string ppo_config;  // YAML of hyperparameters over the demo's
  CloningFlags cloning;
};

void run_demo(const DemoOptions& options) {
  const auto shared = eval::locate_shared_dir(options.shared_dir, std::getenv("MAESTRO_SHARED_DIR"),
                                              fs::read_symlink("/proc/self/exe"));
  if (!shared) throw CLI::ValidationError("--shared-dir", shared.error().message);
  if (!core::feature_set_from_name(options.features))
    throw CLI::ValidationError("--features", "expected original, extended or long");
  const eval::Recipe recipe = eval::recommended_recipe();
  EnvOptions env_options;
  env_options.name = "sim";
  env_options.scenario = options.train_scenario;
  env_options.features = options.features;
  auto first = make_env(env_options);
  if (!first) throw CLI::ValidationError("--train-scenario", first.error().message);
  // Without the shared traces (an image has none) their validation windows cannot be had: validate on the
  // synthetic shapes that neither train nor test.
  std::vector<std::string> validation_names = recipe.validation_scenarios;
  if (shared->empty()) {
    validation_names.clear();
    for (const auto& name : eval::synthetic_scenario_names())
      if (name != options.train_scenario && name != options.scenario && validation_names.size() < 2)
        validation_names.push_back(name);
    std::cerr << fmt::format("no shared traces: validating on {}\n", fmt::join(validation_names, " and "));
  }
  std::vector<eval::Scenario> validation;
  for (const auto& name : validation_names) {
    auto resolved = eval::resolve_scenario(name, {}, *shared);
    if (!resolved) throw CommandFailed(resolved.error().message);
    validation.push_back(std::move(*resolved));
  }
  eval::ScenarioOverrides overrides;
  overrides.startup_seconds = options.startup_seconds;
  const auto scenario = eval::resolve_scenario(options.scenario, overrides, *shared);
  if (!scenario) throw CLI::ValidationError("--scenario", scenario.error().message);
  std::error_code error;
  fs::create_directories(options.out, error);
  if (error) throw CommandFailed(fmt::format("cannot create {}: {}", options.out, error.message()));

  // 1. Train.
  const auto demonstrations = cloning_scenarios(options.cloning, true, "", *shared, false);
  rl::PpoConfig config = recipe.ppo;
  if (demonstrations.empty()) config.anchor_kl_coef = 0;  // nothing to hold PPO near
  if (!options.ppo_config.empty()) {
    std::ifstream in(options.ppo_config);
    std::stringstream text;
    text << in.rdbuf();
    auto applied = rl::apply_yaml(config, text.str());
    if (!in || !applied)
      throw CLI::ValidationError("--ppo-config",
                                 applied ? "cannot read " + options.ppo_config : applied.error().message);
    config = *applied;
  }
  if (auto valid = rl::validate(config); !valid)
    throw CLI::ValidationError("--ppo-config", valid.error().message);
  std::cerr << fmt::format(
      "1/2 training {} seeds{} × {} steps of PPO in the simulator ({} traffic, {} features, multi actions, "
      "cost reward, randomised start-up, capacity and chaos), the best on {} kept{}\n",
      options.training_seeds, demonstrations.empty() ? "" : ", each first cloned from foresight by DAgger,",
      options.steps, options.train_scenario, options.features, fmt::join(validation_names, " and "),
      options.steps < recipe.steps
          ? fmt::format(" — shorter than the recipe's {} steps a seed (maestro train --env sim)",
                        recipe.steps)
          : "");
  std::unique_ptr<rl::Env> spare = std::move(first->env);
  const auto make = [&]() -> std::unique_ptr<rl::Env> {
    if (spare) return std::move(spare);
    auto made = make_env(env_options);
    if (!made) throw CommandFailed(made.error().message);
    return std::move(made->env);
  };
  // The seeds train side by side, one per core: progress bars would draw over each other.
  const int parallel = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::cerr << fmt::format("training {} seeds, {} at a time\n", options.training_seeds,
                           std::min(parallel, options.training_seeds));
  std::vector<std::uint64_t> training_seeds;
  for (int i = 0; i < options.training_seeds; ++i)
    training_seeds.push_back(options.seed + static_cast<std::uint64_t>(i));
  const auto reward = core::reward_from_record(first->description.reward, first->description.reward_weights);
  const base::RealClock clock;
  const auto start = clock.now();
  std::function<void(rl::PpoTrainer&)> clone;
  if (!demonstrations.empty()) {
    const auto& sim_env = dynamic_cast<const sim::Env&>(*spare);
    clone = eval::cloning_step(demonstrations, sim_env.config().features, sim_env.config().actions,
                               options.cloning.chosen());
  }
  auto candidates =
      eval::train_seeds(config, first->description, make, options.steps, training_seeds, validation,
                        recipe.validation_seeds, reward->weights, {}, clock, parallel, clone);
  if (!candidates) throw CommandFailed(candidates.error().message);
  auto& best = (*candidates)[eval::best_on_validation(*candidates)];
  if (!demonstrations.empty()) eval::record_cloning(options.cloning.chosen(), demonstrations, best.policy);
  const auto policy_path = fs::path(options.out) / "policy.maestro";
  if (auto ok = nn::write_policy_file(policy_path, best.policy); !ok) throw CommandFailed(ok.error().message);
  std::cerr << fmt::format(
      "   trained and validated in {:.0f} s; seed {} kept (validation cost {:.3f}); policy "
      "written to {}\n",
      std::chrono::duration<double>(clock.now() - start).count(), best.seed, best.validation_cost,
      policy_path.string());

  // 2. Evaluate against the baselines.
  std::vector<eval::PolicyEntry> policies;
  auto trained = eval::trained_policy_entry(policy_path.string());
  if (!trained) throw CommandFailed(trained.error().message);
  policies.push_back(std::move(*trained));
  for (const auto* spec : {"hpa", "hpa-sweep", "kpa", "static", "oracle"}) {
    auto entries = eval::policy_entries(spec, *scenario);
    for (auto& entry : *entries) policies.push_back(std::move(entry));
  }
  std::vector<std::uint64_t> seeds;
  for (int i = 1; i <= options.seeds; ++i) seeds.push_back(static_cast<std::uint64_t>(i));
  std::cerr << fmt::format("2/2 evaluating on {}: {}\n", scenario->name, scenario->description);
  const std::size_t total = policies.size() * seeds.size();
  std::size_t done = 0;
  const auto evaluation =
      eval::evaluate(*scenario, policies, seeds, [&](const std::string& policy, std::uint64_t seed) {
        ++done;
        std::cerr << fmt::format("\r   [{}/{}] {} seed {}          ", done, total, policy, seed)
                  << std::flush;
      });
  std::cerr << "\n";
  if (auto ok = eval::write_outputs(evaluation, options.out); !ok) throw CommandFailed(ok.error().message);
  std::cout << eval::results_table(evaluation);
  std::cout << fmt::format("report: {}\n", (fs::path(options.out) / "report.html").string());
}

const Registration kRegistration{
    "demo", [](CLI::App& maestro) {
      auto options = std::make_shared<DemoOptions>();
      auto* command = maestro.add_subcommand("demo",
                                             "Train a policy in the simulator and compare it with the HPA, "
                                             "KPA, static and oracle on a real trace");
      command
          ->add_option("--scenario", options->scenario, "evaluation scenario (built-in, YAML or trace file)")
          ->capture_default_str();
      command->add_option("--train-scenario", options->train_scenario, "training traffic: mix or a scenario")
          ->capture_default_str();
      command->add_option("--steps", options->steps, "training steps per seed (the recipe's: 1000000)")
          ->check(CLI::Range(1, 100'000'000))
          ->capture_default_str();
      command->add_option("--training-seeds", options->training_seeds, "training seeds, the best kept")
          ->check(CLI::Range(1, 100))
          ->capture_default_str();
      command->add_option("--seeds", options->seeds, "evaluation seeds")
          ->check(CLI::Range(1, 100))
          ->capture_default_str();
      command
          ->add_option("--startup-seconds", options->startup_seconds,
                       "median pod start-up delay of the evaluation (training draws its own per episode)")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str();
      command->add_option("--features", options->features, "feature set: original, extended or long")
          ->capture_default_str();
      command->add_option("--seed", options->seed, "training seed")->capture_default_str();
      command->add_option("--out", options->out, "output directory")->capture_default_str();
      command->add_option("--shared-dir", options->shared_dir, "the shared/ folder with traces/");
      add_cloning_flags(*command, options->cloning);
      command->add_option("--ppo-config", options->ppo_config,
                          "YAML file of PPO hyperparameters (SB3's names) over the demo's");
      auto live = std::make_shared<LiveDemoOptions>();
      add_live_demo_options(*command, *live);
      command->callback([options, live] {
        if (live->live) {
          live->shared_dir = options->shared_dir;
          run_live_demo(*live);
        } else {
          run_demo(*options);
        }
      });
    }};

}  // namespace
}  // namespace maestro::cli
