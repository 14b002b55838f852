// Training on the simulator: the sim::Env settings for a scenario. The scenario gives the service, its
// SLO and the base traffic; every episode then draws its own window (trace scenarios), speed-up (×0.5–2)
// and peak (×0.5–1.5), or for synthetic shapes its timing, base level and noise. The scenario "mix"
// (the default) trains on the NASA and World Cup traces and every synthetic shape together.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/features.hpp"
#include "eval/scenario.hpp"
#include "nn/policy_file.hpp"
#include "sim/env.hpp"

namespace maestro::eval {

Result<sim::EnvConfig> training_env_config(const std::string& scenario, const ScenarioOverrides& overrides,
                                           core::FeatureSet features,
                                           const std::filesystem::path& shared_dir);

// The traffic windows the training environment of `scenario` (as training_env_config made it) draws its
// episodes from, as the policy file records them: a trace by its file stem ("nasa-http-1995") with the
// seconds of it an episode may cover, a synthetic shape as "synthetic:NAME" over one episode.
std::vector<nn::DataWindow> training_data(const std::string& scenario, const sim::EnvConfig& config);

}  // namespace maestro::eval
