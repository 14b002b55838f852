// Cloning foresight before PPO (eval/imitation.hpp) as `maestro train` and `maestro demo` offer it: the
// recipe's on the simulator unless --no-imitate, or asked for with --imitate PRICE, with the recipe's
// settings unless flags change them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "eval/imitation.hpp"
#include "eval/scenario.hpp"

namespace maestro::cli {

struct CloningFlags {
  eval::CloningOptions options;  // the recipe's, with the flags' changes
  std::optional<double> price;   // --imitate: asked for explicitly
  bool off = false;              // --no-imitate

  eval::CloningOptions chosen() const {
    eval::CloningOptions chosen = options;
    if (price) chosen.violation_price = *price;
    return chosen;
  }
};

// Adds --imitate, --no-imitate, --imitate-change-cost, --imitate-rounds and --imitate-epochs.
void add_cloning_flags(CLI::App& command, CloningFlags& flags);

// The scenarios to clone on; empty for none. `recipe_applies`: training follows the recipe here (the
// simulator, a fresh policy), so it clones unless --no-imitate — or, where the shared traces are missing
// (an image has none), says on stderr that it trains from scratch. An --imitate that cannot be followed is
// a usage error naming it: `refusal` says why (empty: it can). `shared_dir` as eval::locate_shared_dir
// found it (empty: none).
std::vector<eval::Scenario> cloning_scenarios(const CloningFlags& flags, bool recipe_applies,
                                              const std::string& refusal,
                                              const std::filesystem::path& shared_dir, bool quiet);

}  // namespace maestro::cli
