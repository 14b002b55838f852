#include "cli/cloning.hpp"

#include <iostream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "eval/training.hpp"

namespace maestro::cli {

void add_cloning_flags(CLI::App& command, CloningFlags& flags) {
  const eval::Recipe recipe = eval::recommended_recipe();
  flags.options = recipe.cloning;
  auto* price =
      command
          .add_option(
              "--imitate", flags.price,
              fmt::format("Before PPO, clone the oracle's schedule that prices a request over "
                          "the SLO at this many pod-seconds, on the training windows {} by "
                          "DAgger (eval/imitation.hpp); the recipe's: {}",
                          fmt::join(recipe.cloning_scenarios, " and "), recipe.cloning.violation_price))
          ->check(CLI::PositiveNumber);
  command.add_flag("--no-imitate", flags.off, "Train from a fresh actor, without cloning foresight first")
      ->excludes(price);
  command
      .add_option("--imitate-change-cost", flags.options.change_cost,
                  "Pod-seconds the cloned schedule pays for each change of its pods")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command.add_option("--imitate-rounds", flags.options.rounds, "DAgger rounds")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  command.add_option("--imitate-epochs", flags.options.epochs, "Passes over the demonstrations a round")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
}

std::vector<eval::Scenario> cloning_scenarios(const CloningFlags& flags, bool recipe_applies,
                                              const std::string& refusal,
                                              const std::filesystem::path& shared_dir, bool quiet) {
  if (flags.off || (!flags.price && !recipe_applies)) return {};
  if (flags.price && !refusal.empty()) throw CLI::ValidationError("--imitate", refusal);
  const auto names = eval::recommended_recipe().cloning_scenarios;
  if (shared_dir.empty() && !flags.price) {
    if (!quiet)
      std::cerr << fmt::format(
          "no shared traces: training from a fresh actor (the recipe first clones "
          "foresight on {})\n",
          fmt::join(names, " and "));
    return {};
  }
  std::vector<eval::Scenario> scenarios;
  for (const auto& name : names) {
    auto scenario = eval::resolve_scenario(name, {}, shared_dir);
    if (!scenario) throw CLI::ValidationError("--imitate", scenario.error().message);
    scenarios.push_back(std::move(*scenario));
  }
  return scenarios;
}

}  // namespace maestro::cli
