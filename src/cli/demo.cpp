// maestro demo: the whole story in a couple of minutes — train a PPO policy in the simulator on mixed
// real and synthetic traffic, then evaluate it against the Kubernetes HPA (and its tuned sweep), Knative's
// KPA, a static allocation and the clairvoyant oracle on a real trace, print the table and say where the
// report is.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "core/clock.hpp"
#include "eval/policies.hpp"
#include "eval/report.hpp"
#include "eval/runner.hpp"
#include "eval/scenario.hpp"
#include "eval/training.hpp"
#include "nn/policy_file.hpp"
#include "rl/callbacks.hpp"
#include "rl/ppo.hpp"
#include "rl/vec_env.hpp"
#include "sim/env.hpp"

namespace maestro::cli {
namespace {

namespace fs = std::filesystem;

struct DemoOptions {
  std::string scenario = "worldcup";
  std::string train_scenario = "mix";
  std::uint64_t steps = 200'000;
  int seeds = 3;
  double startup_seconds = 30;
  std::string features = "extended";
  std::string out = "demo-out";
  std::uint64_t seed = 1;
  std::string shared_dir;
  std::string ppo_config;  // YAML of hyperparameters over the demo's
};

// The demo's PPO settings: SB3's defaults with 8 environments and observation normalisation, without an
// entropy bonus, sized so that training takes well under a minute on a small machine.
rl::PpoConfig demo_ppo_config() {
  rl::PpoConfig config;
  config.n_envs = 8;
  config.n_steps = 256;
  config.batch_size = 256;
  config.n_epochs = 10;
  config.gamma = 0.99;
  config.gae_lambda = 0.95;
  config.ent_coef = 0.0;
  config.normalize_observations = true;
  return config;
}

void run_demo(const DemoOptions& options) {
  const auto shared = eval::locate_shared_dir(options.shared_dir, std::getenv("MAESTRO_SHARED_DIR"),
                                              fs::read_symlink("/proc/self/exe"));
  if (!shared) throw CLI::ValidationError("--shared-dir", shared.error().message);
  const auto feature_set = core::feature_set_from_name(options.features);
  if (!feature_set) throw CLI::ValidationError("--features", "expected original or extended");
  eval::ScenarioOverrides overrides;
  overrides.startup_seconds = options.startup_seconds;
  const auto env_config = eval::training_env_config(options.train_scenario, overrides, *feature_set, *shared);
  if (!env_config) throw CLI::ValidationError("--train-scenario", env_config.error().message);
  const auto scenario = eval::resolve_scenario(options.scenario, overrides, *shared);
  if (!scenario) throw CLI::ValidationError("--scenario", scenario.error().message);
  std::error_code error;
  fs::create_directories(options.out, error);
  if (error) throw CommandFailed(fmt::format("cannot create {}: {}", options.out, error.message()));

  // 1. Train.
  rl::PpoConfig config = demo_ppo_config();
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
  std::vector<std::unique_ptr<rl::Env>> envs;
  for (int i = 0; i < config.n_envs; ++i) envs.push_back(std::make_unique<sim::Env>(*env_config));
  rl::VecEnv vec_env(std::move(envs), options.seed);
  const rl::PolicyDescription description{"sim:" + options.train_scenario, std::string(options.features),
                                          env_config->features.memory_limit_bytes_per_pod,
                                          nn::autoscaling_action_names()};
  std::cerr << fmt::format(
      "1/2 training PPO for {} steps in the simulator ({} traffic, {} features, pods start in {} s)\n",
      options.steps, options.train_scenario, options.features, options.startup_seconds);
  const core::RealClock clock;
  rl::PpoTrainer trainer(config, description, vec_env, options.seed, clock);
  rl::ProgressBar progress(std::cerr);
  std::vector<rl::Callback*> callbacks{&progress};
  trainer.learn(options.steps, callbacks);
  std::cerr << "\n";
  const auto policy_path = fs::path(options.out) / "policy.maestro";
  if (auto ok = nn::write_policy_file(policy_path, trainer.policy()); !ok)
    throw CommandFailed(ok.error().message);
  std::cerr << fmt::format("   trained in {:.0f} s ({:.0f} steps/s); policy written to {}\n",
                           trainer.seconds(), trainer.steps() / std::max(trainer.seconds(), 1e-9),
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
      command->add_option("--steps", options->steps, "training steps")
          ->check(CLI::Range(1, 100'000'000))
          ->capture_default_str();
      command->add_option("--seeds", options->seeds, "evaluation seeds")
          ->check(CLI::Range(1, 100))
          ->capture_default_str();
      command->add_option("--startup-seconds", options->startup_seconds, "median pod start-up delay")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str();
      command->add_option("--features", options->features, "feature set: original or extended")
          ->capture_default_str();
      command->add_option("--seed", options->seed, "training seed")->capture_default_str();
      command->add_option("--out", options->out, "output directory")->capture_default_str();
      command->add_option("--shared-dir", options->shared_dir, "the shared/ folder with traces/");
      command->add_option("--ppo-config", options->ppo_config,
                          "YAML file of PPO hyperparameters (SB3's names) over the demo's");
      command->callback([options] { run_demo(*options); });
    }};

}  // namespace
}  // namespace maestro::cli
