// `maestro train`: PPO on a named environment, hyperparameters from a preset, a YAML file and flags (in
// that order), the trained policy written to --out. With several --seeds, one policy is trained per seed
// and the one cheapest on the validation scenarios is written. On the simulator, what is not given is the
// recommended recipe (eval::recommended_recipe): `maestro train --env sim --out FILE` trains it. Progress
// goes to stderr; the last line of stdout is a JSON summary (with evaluation figures when --eval-episodes
// is given). The same seed and command give the same policy file byte for byte (training time is recorded
// only with --record-time). --init-policy fine-tunes a policy (one seed), e.g. on a live deployment with
// `--env live` (live::Env, docs/live-training.md); without it the simulator's path is what it was.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "base/clock.hpp"
#include "cli/cloning.hpp"
#include "cli/command.hpp"
#include "cli/envs.hpp"
#include "core/action_set.hpp"
#include "core/reward.hpp"
#include "eval/imitation.hpp"
#include "eval/scenario.hpp"
#include "eval/training.hpp"
#include "nn/policy_file.hpp"
#include "rl/callbacks.hpp"
#include "rl/ppo.hpp"
#include "sim/env.hpp"

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
                                                       "threads",       "anchor_kl_coef"};

struct Options {
  EnvOptions env;
  std::optional<std::uint64_t> steps;  // per seed; the recipe's on the simulator
  std::uint64_t seed = 0;
  std::optional<int> seeds;             // the recipe's on the simulator, else 1
  std::vector<std::string> validation;  // the recipe's on the simulator with several seeds
  std::string out;
  std::string preset;  // the recipe's PPO settings on the simulator, else sb3
  std::string config_file;
  std::vector<std::string> hyperparameters = std::vector<std::string>(kHyperparameterFlags.size());
  int eval_episodes = 0;
  std::uint64_t eval_freq = 0;
  int eval_freq_episodes = 5;
  std::string best_out, log_csv, pods_csv;
  bool record_time = false;
  bool quiet = false;
  unsigned parallel_seeds = 0;  // 0: one per core
  CloningFlags cloning;
};

std::string flag_name(const std::string& key) {
  std::string flag = "--" + key;
  for (char& c : flag)
    if (c == '_') c = '-';
  return flag;
}

bool simulated(const Options& o) {
  return o.env.name.starts_with("sim");
}

// `cloned`: the actor is cloned before PPO, which the recipe then holds near the clone.
rl::PpoConfig build_config(const Options& o, const eval::Recipe& recipe,
                           const std::optional<nn::PolicyFile>& initial, bool cloned) {
  rl::PpoConfig recipe_ppo = recipe.ppo;
  if (!cloned) recipe_ppo.anchor_kl_coef = 0;
  auto config = !o.preset.empty() ? rl::preset(o.preset)
                : simulated(o)    ? Result<rl::PpoConfig>(recipe_ppo)
                                  : rl::preset("sb3");
  if (!config) throw CLI::ValidationError("--preset", config.error().message);
  if (initial) {
    // Fine-tuning keeps the policy's network shape and normalisation; flags and files may still change them
    // (and start_from then says they do not fit).
    const auto shape = initial->network.shape();
    config->actor_hidden = shape.actor_hidden;
    config->critic_hidden = shape.critic_hidden;
    config->normalize_observations = initial->normalizer.enabled;
  }
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

// The built-in or file scenarios `names`, for the option `flag` (whose error a missing one is), with the
// shared traces in `shared_dir` (empty: none found).
std::vector<eval::Scenario> named_scenarios(const std::vector<std::string>& names, const std::string& flag,
                                            const std::filesystem::path& shared_dir) {
  std::vector<eval::Scenario> scenarios;
  for (const auto& name : names) {
    auto scenario = eval::resolve_scenario(name, {}, shared_dir);
    if (!scenario) throw CLI::ValidationError(flag, scenario.error().message);
    scenarios.push_back(std::move(*scenario));
  }
  return scenarios;
}

void run(const Options& o) {
  const eval::Recipe recipe = eval::recommended_recipe();
  std::optional<nn::PolicyFile> initial;
  if (!o.env.init_policy.empty()) {
    auto policy = nn::read_policy_file(o.env.init_policy);
    if (!policy) throw CLI::ValidationError("--init-policy", policy.error().message);
    initial = std::move(*policy);
  }
  std::string refusal;
  if (initial || !o.pods_csv.empty())
    refusal = "clones into a fresh policy: not with --init-policy or --pods-csv";
  else if (!simulated(o))
    refusal = "clones the simulator's foresight: --env sim";
  const auto shared = eval::locate_shared_dir("", std::getenv("MAESTRO_SHARED_DIR"),
                                              std::filesystem::read_symlink("/proc/self/exe"));
  if (!shared) throw CommandFailed(shared.error().message);
  const auto demonstration_scenarios = cloning_scenarios(
      o.cloning, simulated(o) && o.preset.empty() && refusal.empty(), refusal, *shared, o.quiet);
  const rl::PpoConfig config = build_config(o, recipe, initial, !demonstration_scenarios.empty());
  if (o.env.name == "live" && config.n_envs != 1)
    throw CLI::ValidationError("--n-envs", "the live environment is one deployment: n_envs must be 1");
  if (initial && (o.seeds.value_or(1) > 1 || !o.pods_csv.empty()))
    throw CLI::ValidationError("--init-policy", "fine-tunes one seed, without --pods-csv");
  if (!o.steps && !simulated(o)) throw CLI::ValidationError("--steps", "is required for " + o.env.name);
  const std::uint64_t steps = o.steps.value_or(recipe.steps);
  const int seed_count = o.seeds.value_or(simulated(o) ? recipe.seeds : 1);
  if (seed_count > 1 && (o.eval_freq > 0 || !o.pods_csv.empty()))
    throw CLI::ValidationError("--seeds", "--eval-freq and --pods-csv follow one seed's training");
  const auto validation = named_scenarios(
      !o.validation.empty() || seed_count == 1 || !simulated(o) ? o.validation : recipe.validation_scenarios,
      "--validation", *shared);
  if (seed_count > 1 && validation.empty())
    throw CLI::ValidationError("--validation", "several seeds need a validation scenario to choose by");
  auto first = make_env(o.env);
  if (!first) throw CLI::ValidationError("--env", first.error().message);
  const rl::PolicyDescription description = first->description;
  auto reward = core::reward_from_record(description.reward, description.reward_weights);
  if (!validation.empty() && (!reward || reward->kind != core::RewardKind::kCost))
    throw CLI::ValidationError("--validation", "choosing by validation prices runs as the cost reward does");

  std::vector<std::unique_ptr<rl::Callback>> owned;
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
  std::vector<std::uint64_t> seeds;
  for (int i = 0; i < seed_count; ++i) seeds.push_back(o.seed + static_cast<std::uint64_t>(i));
  // Seeds train side by side, one per core, unless a log shared between them must stay in order.
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const int parallel = o.log_csv.empty() ? static_cast<int>(o.parallel_seeds ? o.parallel_seeds : cores) : 1;
  const bool side_by_side = parallel > 1 && seed_count > 1;
  if (side_by_side && !o.quiet)
    std::cerr << fmt::format("training {} seeds, {} at a time{} (no progress bars)\n", seed_count,
                             std::min(parallel, seed_count),
                             demonstration_scenarios.empty() ? "" : ", each cloning foresight first");
  std::vector<std::unique_ptr<rl::Callback>> per_seed;
  const auto callbacks = [&](std::uint64_t seed) {
    std::vector<rl::Callback*> list;
    for (const auto& callback : owned) list.push_back(callback.get());
    if (!o.quiet && !side_by_side) {
      std::cerr << fmt::format("seed {} ({} of {})\n", seed, seed - o.seed + 1, seeds.size());
      per_seed.push_back(std::make_unique<rl::ProgressBar>(std::cerr));
      list.push_back(per_seed.back().get());
    }
    return list;
  };
  std::unique_ptr<rl::Env> spare = std::move(first->env);
  const auto make = [&]() {
    if (spare) return std::move(spare);
    return new_env(o.env);
  };

  const base::RealClock clock;
  const auto start = clock.now();
  std::vector<eval::TrainedSeed> trained;
  if (!o.pods_csv.empty()) {
    // One seed, with its vectorised environment in view of the pod tracker (train_seeds keeps its own).
    std::vector<std::unique_ptr<rl::Env>> envs;
    for (int i = 0; i < config.n_envs; ++i) envs.push_back(make());
    rl::VecEnv vec_env(std::move(envs), o.seed);
    pods_csv.open(o.pods_csv);
    if (!pods_csv) throw CommandFailed("cannot write " + o.pods_csv);
    owned.push_back(std::make_unique<rl::PodTrackingCallback>(pods_csv, vec_env));
    rl::PpoTrainer trainer(config, description, vec_env, o.seed, clock);
    trainer.learn(steps, callbacks(o.seed));
    trained.push_back({o.seed, trainer.policy(), trainer.seconds(), 0});
  } else if (initial) {
    // One seed, continuing from the policy given.
    std::vector<std::unique_ptr<rl::Env>> envs;
    for (int i = 0; i < config.n_envs; ++i) envs.push_back(make());
    rl::VecEnv vec_env(std::move(envs), o.seed);
    rl::PpoTrainer trainer(config, description, vec_env, o.seed, clock);
    if (auto started = trainer.start_from(*initial); !started) throw CommandFailed(started.error().message);
    trainer.learn(steps, callbacks(o.seed));
    trained.push_back({o.seed, trainer.policy(), trainer.seconds(), 0});
  } else {
    // Cloning reads the demonstrations' features and actions off the simulator the policy trains in.
    std::function<void(rl::PpoTrainer&)> clone;
    if (!demonstration_scenarios.empty()) {
      const auto* sim_env = dynamic_cast<const sim::Env*>(spare.get());
      if (!sim_env) throw CLI::ValidationError("--imitate", "clones the simulator's foresight: --env sim");
      clone =
          eval::cloning_step(demonstration_scenarios, sim_env->config().features, sim_env->config().actions,
                             o.cloning.chosen(), [&](int round, std::size_t decisions, double cloned) {
                               if (!o.quiet && !side_by_side)
                                 std::cerr << fmt::format("cloning round {}: {} decisions, {:.1f} % cloned\n",
                                                          round + 1, decisions, 100 * cloned);
                             });
    }
    auto result =
        eval::train_seeds(config, description, make, steps, seeds, validation, recipe.validation_seeds,
                          reward ? reward->weights : core::CostWeights{}, callbacks, clock, parallel, clone);
    if (!result) throw CommandFailed(result.error().message);
    trained = std::move(*result);
  }
  const double seconds = std::chrono::duration<double>(clock.now() - start).count();
  const std::size_t best = eval::best_on_validation(trained);

  nn::PolicyFile policy = trained[best].policy;
  if (!demonstration_scenarios.empty())
    eval::record_cloning(o.cloning.chosen(), demonstration_scenarios, policy);
  if (seed_count > 1) {
    policy.metadata.hyperparameters.emplace_back("training_seeds", std::to_string(seed_count));
    policy.metadata.hyperparameters.emplace_back(
        "chosen_on",
        fmt::format("{}", fmt::join(o.validation.empty() ? recipe.validation_scenarios : o.validation, ",")));
  }
  if (o.record_time)
    policy.metadata.trained_at =
        fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                    fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
  if (auto ok = nn::write_policy_file(o.out, policy); !ok) throw CommandFailed(ok.error().message);
  std::cout << fmt::format("wrote {} (model version {}, seed {})\n", o.out, nn::model_version(policy),
                           trained[best].seed);
  if (eval && !o.best_out.empty() && eval->best()) {
    if (auto ok = nn::write_policy_file(o.best_out, *eval->best()); !ok)
      throw CommandFailed(ok.error().message);
    std::cout << fmt::format("wrote best evaluated policy to {}\n", o.best_out);
  }

  const std::uint64_t total_steps = policy.metadata.steps * trained.size();
  nlohmann::json summary = {{"steps", policy.metadata.steps},
                            {"seconds", seconds},
                            {"steps_per_second", seconds > 0 ? double(total_steps) / seconds : 0.0},
                            {"seed", trained[best].seed}};
  if (!validation.empty()) {
    nlohmann::json candidates = nlohmann::json::array();
    for (const auto& candidate : trained)
      candidates.push_back({{"seed", candidate.seed},
                            {"training_seconds", candidate.seconds},
                            {"validation_cost", candidate.validation_cost}});
    summary["candidates"] = candidates;
  }
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
      train
          ->add_option(
              "--steps", o->steps,
              "Environment steps to train each seed for (rounded up to whole rollouts); the recipe's "
              "1000000 on the simulator")
          ->check(CLI::PositiveNumber);
      train->add_option("--seed", o->seed, "Seed of everything random in training")->capture_default_str();
      add_cloning_flags(*train, o->cloning);
      train
          ->add_option("--seeds", o->seeds,
                       "Train this many seeds (seed, seed+1, ...) and keep the cheapest on --validation; "
                       "the recipe's 3 on the simulator, else 1")
          ->check(CLI::Range(1, 100));
      train->add_option(
          "--validation", o->validation,
          "Validation scenario to choose the best seed on (repeat the flag); the recipe's on the "
          "simulator");
      train
          ->add_option("--features", o->env.features,
                       "Simulator: feature set, original, extended or long (sim: the recipe's, long; "
                       "sim-extended: extended)")
          ->check(CLI::IsMember({"original", "extended", "long"}));
      train->add_option("--actions", o->env.actions, "Simulator: action set, original, multi or targets")
          ->capture_default_str()
          ->check(CLI::IsMember(core::action_set_names()));
      train->add_option("--reward", o->env.reward, "Simulator: reward, cost or original")
          ->capture_default_str()
          ->check(CLI::IsMember(core::reward_names()));
      train->add_option(
          "--reward-weights", o->env.reward_weights,
          "Simulator: the cost reward's weights over its defaults, e.g. pods=1,slo=10,action=0.5");
      train->add_flag(
          "!--no-randomise", o->env.randomise_cluster,
          "Simulator: draw only the traffic per episode, not the start-up delay, per-pod capacity "
          "and chaos");
      train->add_option("--out", o->out, "Policy file to write")->required();
      train
          ->add_option(
              "--init-policy", o->env.init_policy,
              "Fine-tune this policy file (its network, normalisation, features, actions and reward)")
          ->check(CLI::ExistingFile);
      const auto live = [&](const std::string& flag, auto& value, const std::string& help) {
        return train->add_option(flag, value, "Live: " + help)->group("Live environment (--env live)");
      };
      live("--kubeconfig", o->env.kubeconfig, "kubeconfig of the cluster (none: in-cluster)");
      live("--prometheus", o->env.prometheus, "Prometheus' URL");
      live("--namespace", o->env.namespace_, "the deployment's namespace")->capture_default_str();
      live("--deployment", o->env.deployment, "the deployment to scale");
      live("--interval", o->env.interval_seconds, "control interval, seconds")->capture_default_str();
      live("--window", o->env.window_seconds, "PromQL rate window, seconds (0: the interval)")
          ->capture_default_str();
      live("--metrics-wait", o->env.metrics_wait_seconds,
           "seconds past the interval to wait for the metrics to cover the step")
          ->capture_default_str();
      live("--episode-steps", o->env.episode_steps, "steps per episode")->capture_default_str();
      live("--min-replicas", o->env.min_replicas, "lower bound")->capture_default_str();
      live("--max-replicas", o->env.max_replicas, "upper bound")->capture_default_str();
      live("--chaos-url", o->env.chaos_url, "the local cluster's chaos endpoint (STATE/chaos.url)");
      live("--chaos", o->env.chaos_file, "Chaos Mesh specs to apply at the first episode (e.g. a Schedule)");
      train->add_option(
          "--preset", o->preset,
          "Hyperparameter preset: sb3, rl-zoo-cartpole, original (default: the recipe's settings "
          "on the simulator, else sb3)");
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
      train->add_option("--parallel-seeds", o->parallel_seeds,
                        "Seeds trained at once, each on a thread (0: one per core; 1 with --log-csv); the "
                        "result is the same");
      train->callback([o] { run(*o); });
    }};

}  // namespace
}  // namespace maestro::cli
