// Training on the simulator: the sim::Env settings for a scenario. The scenario gives the service, its
// SLO and the base traffic; every episode then draws its own window (trace scenarios: only inside the
// trace's training window, traffic/splits.hpp, at real time) and peak (×0.5–1.5), or for synthetic shapes
// its timing, base level and noise. The scenario "mix" (the default) trains on the NASA and World Cup
// traces and every synthetic shape together.
#pragma once

#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "core/features.hpp"
#include "eval/scenario.hpp"
#include "sim/env.hpp"

namespace maestro::eval {

Result<sim::EnvConfig> training_env_config(const std::string& scenario, const ScenarioOverrides& overrides,
                                           core::FeatureSet features,
                                           const std::filesystem::path& shared_dir);

}  // namespace maestro::eval
