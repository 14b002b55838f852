// Test support: a real policy file (run by the nn library) whose weights are set by hand rather than trained,
// so that a test knows what it must do — scale up when the request rate is over `up_rps`, down when under
// `down_rps`, hold between. The model server serves it with model_server::load_policy_file. Used by the
// whole-loop test and the decision benchmark. Header-only.
#pragma once

#include "core/action.hpp"
#include "core/features.hpp"
#include "nn/policy_file.hpp"

namespace maestro::testing {

// An untrained policy's network rewired so that, through its tanh layers,
// logit(up) ≈ tanh(3·tanh(k(rps − up_rps))) and logit(down) ≈ tanh(3·tanh(k(down_rps − rps))), hold at 0.
inline nn::PolicyFile rps_threshold_policy(double up_rps, double down_rps) {
  nn::PolicyFile file =
      nn::untrained_autoscaling_policy({core::FeatureSet::kOriginal, 512.0 * 1024 * 1024}, 1);
  file.normalizer.enabled = false;  // the weights below read raw features
  auto& actor = file.network.actor;
  for (auto& parameter : actor.parameters()) parameter = 0;
  constexpr int kRps = 4;  // feature index of rps in the original feature set
  constexpr float k = 0.5f;
  actor.weight(0)(0, kRps) = k;
  actor.bias(0)(0) = -k * static_cast<float>(up_rps);
  actor.weight(0)(1, kRps) = -k;
  actor.bias(0)(1) = k * static_cast<float>(down_rps);
  actor.weight(1)(0, 0) = 3;
  actor.weight(1)(1, 1) = 3;
  actor.weight(2)(static_cast<int>(core::Action::kScaleUp), 0) = 1;
  actor.weight(2)(static_cast<int>(core::Action::kScaleDown), 1) = 1;
  return file;
}

}  // namespace maestro::testing
