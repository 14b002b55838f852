// `maestro train`: PPO on a named environment, hyperparameters from a preset, a YAML file and flags (in
// that order), the trained policy written to --out. Progress goes to stderr; the last line of stdout is a
// JSON summary (with evaluation figures when --eval-episodes is given). The same seed and command give
// the same policy file byte for byte (training time is recorded only with --record-time).
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/envs.hpp"
#include "core/clock.hpp"
#include "rl/callbacks.hpp"
#include "rl/ppo.hpp"

namespace maestro::cli {
namespace {

// Flags that set one hyperparameter each: --n-steps → n_steps, applied as YAML over the preset and file.
const std::vector<std::string> kHyperparameterFlags = {"n_envs",        "n_steps",
                                                       "batch_size",    "n_epochs",
                                                       "learning_rate", "clip_range",
                                                       "clip_range_vf", "gamma",
                                                       "gae_lambda",    "ent_coef",
                                                       "vf_coef",       "max_grad_norm",
                                                       "target_kl",     "normalize_advantage",
                                                       "adam_eps",      "actor_hidden",
                                                       "critic_hidden", "normalize",
                                                       "threads"};

struct Options {
  EnvOptions env;
  std::uint64_t steps = 0;
  std::uint64_t seed = 0;
  std::string out;
  std::string preset = "sb3";
  std::string config_file;
  std::vector<std::string> hyperparameters = std::vector<std::string>(kHyperparameterFlags.size());
  int eval_episodes = 0;
  std::uint64_t eval_freq = 0;
  int eval_freq_episodes = 5;
  std::string best_out, log_csv, pods_csv;
  bool record_time = false;
  bool quiet = false;
};

std::string flag_name(const std::string& key) {
  std::string flag = "--" + key;
  for (char& c : flag)
    if (c == '_') c = '-';
  return flag;
}

rl::PpoConfig build_config(const Options& o) {
  auto config = rl::preset(o.preset);
  if (!config) throw CLI::ValidationError("--preset", config.error().message);
  if (!o.config_file.empty()) {
    std::ifstream in(o.config_file);
    if (!in) throw CLI::ValidationError("--config", "cannot read " + o.config_file);
    std::stringstream text;
    text << in.rdbuf();
    config = rl::apply_yaml(*config, text.str());
    if (!config) throw CLI::ValidationError("--config", o.config_file + ": " + config.error().message);
  }
  for (std::size_t i = 0; i < kHyperparameterFlags.size(); ++i) {
    if (o.hyperparameters[i].empty()) continue;
    config = rl::apply_yaml(*config, kHyperparameterFlags[i] + ": " + o.hyperparameters[i]);
    if (!config) throw CLI::ValidationError(flag_name(kHyperparameterFlags[i]), config.error().message);
  }
  auto valid = rl::validate(*config);
  if (!valid) throw CLI::ValidationError("hyperparameters", valid.error().message);
  return *valid;
}

std::unique_ptr<rl::Env> new_env(const EnvOptions& options) {
  auto made = make_env(options);
  if (!made) throw CLI::ValidationError("--env", made.error().message);
  return std::move(made->env);
}

void run(const Options& o) {
  const rl::PpoConfig config = build_config(o);
  auto first = make_env(o.env);
  if (!first) throw CLI::ValidationError("--env", first.error().message);
  const rl::PolicyDescription description = first->description;
  std::vector<std::unique_ptr<rl::Env>> envs;
  envs.push_back(std::move(first->env));
  for (int i = 1; i < config.n_envs; ++i) envs.push_back(new_env(o.env));
  rl::VecEnv vec_env(std::move(envs), o.seed);

  std::vector<std::unique_ptr<rl::Callback>> owned;
  std::vector<rl::Callback*> callbacks;
  std::ofstream log_csv, pods_csv;
  rl::EvalCallback* eval = nullptr;
  if (o.eval_freq > 0) {
    // Evaluation episodes are seeded apart from training's environments.
    auto callback = std::make_unique<rl::EvalCallback>(new_env(o.env), o.eval_freq, o.eval_freq_episodes,
                                                       o.seed + 1'000'000);
    eval = callback.get();
    owned.push_back(std::move(callback));
  } else if (!o.best_out.empty()) {
    throw CLI::ValidationError("--best-out", "needs --eval-freq");
  }
  if (!o.log_csv.empty()) {
    log_csv.open(o.log_csv);
    if (!log_csv) throw CommandFailed("cannot write " + o.log_csv);
    owned.push_back(std::make_unique<rl::CsvLogCallback>(log_csv));
  }
  if (!o.pods_csv.empty()) {
    pods_csv.open(o.pods_csv);
    if (!pods_csv) throw CommandFailed("cannot write " + o.pods_csv);
    owned.push_back(std::make_unique<rl::PodTrackingCallback>(pods_csv, vec_env));
  }
  if (!o.quiet) owned.push_back(std::make_unique<rl::ProgressBar>(std::cerr));
  for (const auto& callback : owned) callbacks.push_back(callback.get());

  const core::RealClock clock;
  rl::PpoTrainer trainer(config, description, vec_env, o.seed, clock);
  const auto start = clock.now();
  trainer.learn(o.steps, callbacks);
  const double seconds = std::chrono::duration<double>(clock.now() - start).count();

  nn::PolicyFile policy = trainer.policy();
  if (o.record_time)
    policy.metadata.trained_at =
        fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                    fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
  if (auto ok = nn::write_policy_file(o.out, policy); !ok) throw CommandFailed(ok.error().message);
  std::cout << fmt::format("wrote {} (model version {})\n", o.out, nn::model_version(policy));
  if (eval && !o.best_out.empty() && eval->best()) {
    if (auto ok = nn::write_policy_file(o.best_out, *eval->best()); !ok)
      throw CommandFailed(ok.error().message);
    std::cout << fmt::format("wrote best evaluated policy to {}\n", o.best_out);
  }

  nlohmann::json summary = {{"steps", trainer.steps()},
                            {"seconds", seconds},
                            {"steps_per_second", seconds > 0 ? double(trainer.steps()) / seconds : 0.0}};
  if (o.eval_episodes > 0) {
    auto env = new_env(o.env);
    const auto evaluation = rl::evaluate(nn::Actor(policy), *env, o.eval_episodes, o.seed + 2'000'000);
    summary["eval_mean_return"] = evaluation.mean_return;
    summary["eval_std_return"] = evaluation.std_return;
    summary["eval_episodes"] = o.eval_episodes;
  }
  std::cout << summary.dump() << "\n";
}

const Registration kRegistration{
    "train", [](CLI::App& maestro) {
      auto o = std::make_shared<Options>();
      auto* train =
          maestro.add_subcommand("train", "Train a policy with PPO (Stable-Baselines3's semantics)");
      train
          ->add_option("--env", o->env.name,
                       "Environment: " + fmt::format("{}", fmt::join(env_names(), ", ")))
          ->required();
      train->add_option("--scenario", o->env.scenario, "Scenario of the environment, if it has any");
      train->add_option("--steps", o->steps, "Environment steps to train for (rounded up to whole rollouts)")
          ->required()
          ->check(CLI::PositiveNumber);
      train->add_option("--seed", o->seed, "Seed of everything random in training")->capture_default_str();
      train->add_option("--out", o->out, "Policy file to write")->required();
      train->add_option("--preset", o->preset, "Hyperparameter preset: sb3, rl-zoo-cartpole, original")
          ->capture_default_str();
      train->add_option("--config", o->config_file,
                        "YAML file of hyperparameters (SB3's names), over the preset");
      for (std::size_t i = 0; i < kHyperparameterFlags.size(); ++i)
        train
            ->add_option(flag_name(kHyperparameterFlags[i]), o->hyperparameters[i],
                         "Hyperparameter " + kHyperparameterFlags[i] + " (over preset and --config)")
            ->group("Hyperparameters");
      train
          ->add_option("--eval-episodes", o->eval_episodes,
                       "Evaluate the trained policy on this many episodes")
          ->check(CLI::NonNegativeNumber);
      train->add_option("--eval-freq", o->eval_freq,
                        "Evaluate every this many steps during training, keep the best");
      train
          ->add_option("--eval-freq-episodes", o->eval_freq_episodes,
                       "Episodes per evaluation during training")
          ->capture_default_str()
          ->check(CLI::PositiveNumber);
      train->add_option("--best-out", o->best_out,
                        "Write the best evaluated policy here (needs --eval-freq)");
      train->add_option("--log-csv", o->log_csv, "Write SB3's training scalars here, one row per iteration");
      train->add_option("--pods-csv", o->pods_csv, "Write each step's action and replicas here");
      train->add_flag("--record-time", o->record_time, "Record the training time in the policy file");
      train->add_flag("--quiet", o->quiet, "No progress bar");
      train->callback([o] { run(*o); });
    }};

}  // namespace
}  // namespace maestro::cli
