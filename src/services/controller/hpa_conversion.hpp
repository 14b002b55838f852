// An autoscaling/v2 (or v1) HorizontalPodAutoscaler's YAML turned into the MaestroAutoscaler that does the
// same (docs/kubernetes.md §5): scaleTargetRef, minReplicas, maxReplicas and behavior carried over; a CPU
// utilisation target becomes policy HPA with that target, or, given a learned policy's name, policy Learned.
// The result is in dry-run, so that applying it changes nothing until dryRun is set to false. An HPA whose
// metrics have no CPU utilisation target (memory, custom, external metrics) is refused unless a learned
// policy is named, the error naming what it has.
#pragma once

#include <string>

#include "base/error.hpp"

namespace maestro::controller {

struct HpaConversion {
  std::string learned_policy;  // "" keeps the HPA's algorithm (policy HPA)
  int latency_soft_ms = 0;     // with a learned policy: the SLO, if both are given
  int latency_hard_ms = 0;
};

// The MaestroAutoscaler's YAML for the HPA in `hpa_yaml`.
Result<std::string> maestro_autoscaler_from_hpa(const std::string& hpa_yaml, const HpaConversion& options);

}  // namespace maestro::controller
