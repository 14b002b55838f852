// The reinforcement-learning environment, as Gymnasium defines it: reset(seed) gives the first
// observation; step(action) gives the next one, the reward, and whether the episode ended in a terminal
// state (terminated: no bootstrap) or was cut by a time limit (truncated: bootstrap from the observation).
// Observations are written into caller-owned buffers so that stepping allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace maestro::rl {

struct StepResult {
  double reward = 0;
  bool terminated = false;
  bool truncated = false;
};

class Env {
 public:
  virtual ~Env() = default;

  virtual std::size_t observation_size() const = 0;
  virtual int action_count() const = 0;

  // Starts a new episode whose randomness comes from `seed`; writes its first observation.
  virtual void reset(std::uint64_t seed, std::span<double> observation) = 0;
  // Applies `action` (0 ≤ action < action_count()); writes the next observation.
  virtual StepResult step(int action, std::span<double> observation) = 0;

  // Domain facts about the last step for callbacks and logs, e.g. {"replicas", 3}; none by default.
  virtual std::vector<std::pair<std::string, double>> info() const { return {}; }
};

}  // namespace maestro::rl
