// `maestro policy init|show`: write a freshly initialised policy file; print what a policy file holds.
#include <cstdint>
#include <iostream>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/command.hpp"
#include "nn/policy_file.hpp"

namespace maestro::cli {
namespace {

void add_init(CLI::App& policy) {
  struct Options {
    std::string out;
    std::uint64_t seed = 0;
    std::string feature_set = "original";
    std::string actions = "original";
    double memory_limit = 512.0 * 1024 * 1024;
  };
  auto options = std::make_shared<Options>();
  auto* init =
      policy.add_subcommand("init", "Write a randomly initialised policy (SB3's orthogonal initialisation)");
  init->add_option("--out", options->out, "Policy file to write")->required();
  init->add_option("--seed", options->seed, "Seed of the initialisation")->required();
  init->add_option("--feature-set", options->feature_set, "Features the policy reads")
      ->capture_default_str()
      ->check(CLI::IsMember({"original"}));
  init->add_option("--actions", options->actions, "Action set")
      ->capture_default_str()
      ->check(CLI::IsMember(core::action_set_names()));
  init->add_option("--memory-limit-per-pod", options->memory_limit, "Memory limit of one pod, bytes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  init->callback([options] {
    const core::FeatureSpec spec{*core::feature_set_from_name(options->feature_set), options->memory_limit};
    const auto file =
        nn::untrained_autoscaling_policy(spec, options->seed, *core::action_set_from_name(options->actions));
    if (auto ok = nn::write_policy_file(options->out, file); !ok) throw CommandFailed(ok.error().message);
    std::cout << fmt::format("wrote {} (model version {})\n", options->out, nn::model_version(file));
  });
}

std::string join_sizes(const std::vector<int>& sizes) {
  std::string text;
  for (int size : sizes) text += (text.empty() ? "" : "×") + std::to_string(size);
  return text.empty() ? "none" : text;
}

void add_show(CLI::App& policy) {
  auto path = std::make_shared<std::string>();
  auto* show = policy.add_subcommand("show", "Print what a policy file holds");
  show->add_option("FILE", *path, "Policy file")->required();
  show->callback([path] {
    auto file = nn::read_policy_file(*path);
    if (!file) throw CommandFailed(file.error().message);
    const auto shape = file->network.shape();
    const auto& meta = file->metadata;
    std::cout << fmt::format("file:              {}\n", *path)
              << fmt::format("format version:    {}\n", nn::kPolicyFileVersion)
              << fmt::format("model version:     {}\n", nn::model_version(*file))
              << fmt::format(
                     "network:           {} features, actor hidden {}, critic hidden {}, {} actions, tanh\n",
                     shape.observation_size, join_sizes(shape.actor_hidden), join_sizes(shape.critic_hidden),
                     shape.action_count)
              << fmt::format("parameters:        {}\n", file->network.parameter_count())
              << fmt::format("actions:           {} ({})\n", file->action_set,
                             fmt::join(file->action_names, ", "))
              << fmt::format("feature set:       {}\n", file->feature_set)
              << fmt::format("memory limit/pod:  {} bytes\n", file->memory_limit_bytes_per_pod)
              << fmt::format("normalisation:     {}\n",
                             file->normalizer.enabled
                                 ? fmt::format("running mean/var over {} observations, clip {}, epsilon {}",
                                               file->normalizer.stats.count, file->normalizer.clip,
                                               file->normalizer.epsilon)
                                 : std::string("off"))
              << fmt::format("algorithm:         {}\n", meta.algorithm)
              << fmt::format("environment:       {}\n", meta.environment.empty() ? "-" : meta.environment)
              << fmt::format("training steps:    {}\n", meta.steps)
              << fmt::format("seed:              {}\n", meta.seed)
              << fmt::format("trained at:        {}\n",
                             meta.trained_at.empty() ? "not recorded" : meta.trained_at)
              << fmt::format("reward:            {}\n", meta.reward);
    for (const auto& [name, weight] : meta.reward_weights)
      std::cout << fmt::format("  {:<16} {}\n", name, weight);
    std::cout << fmt::format("training data:     {}\n", meta.training_data.empty() ? "not recorded" : "");
    for (const auto& window : meta.training_data)
      std::cout << fmt::format("  {:<24} {} s to {} s\n", window.trace, window.start_seconds,
                               window.end_seconds);
    std::cout << "hyperparameters:\n";
    for (const auto& [name, value] : meta.hyperparameters)
      std::cout << fmt::format("  {:<16} {}\n", name, value);
  });
}

const Registration kRegistration{"policy", [](CLI::App& maestro) {
                                   auto* policy =
                                       maestro.add_subcommand("policy", "Create and inspect policy files");
                                   policy->require_subcommand(1);
                                   add_init(*policy);
                                   add_show(*policy);
                                 }};

}  // namespace
}  // namespace maestro::cli
