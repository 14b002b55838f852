// The actor-critic network of SB3's PPO MlpPolicy: two separate MLPs over the same observation, the actor
// giving one logit per action (a categorical distribution) and the critic one state value. Initialised as
// SB3 does: orthogonal weights with gain √2 for hidden layers, 0.01 for the action head and 1 for the value
// head, zero biases.
#pragma once

#include <vector>

#include "base/error.hpp"
#include "nn/mlp.hpp"
#include "nn/random.hpp"

namespace maestro::nn {

struct ActorCriticShape {
  int observation_size = 0;
  int action_count = 0;
  std::vector<int> actor_hidden = {64, 64};   // SB3 MlpPolicy's net_arch pi
  std::vector<int> critic_hidden = {64, 64};  // and vf

  MlpShape actor() const;
  MlpShape critic() const;
  friend bool operator==(const ActorCriticShape&, const ActorCriticShape&) = default;
};

Result<ActorCriticShape> validate(const ActorCriticShape& shape);

template <typename S>
struct ActorCritic {
  Mlp<S> actor;
  Mlp<S> critic;

  ActorCritic() = default;
  explicit ActorCritic(const ActorCriticShape& shape) : actor(shape.actor()), critic(shape.critic()) {}

  ActorCriticShape shape() const;
  std::size_t parameter_count() const { return actor.parameters().size() + critic.parameters().size(); }

  template <typename T>
  ActorCritic<T> cast() const {
    ActorCritic<T> other;
    other.actor = actor.template cast<T>();
    other.critic = critic.template cast<T>();
    return other;
  }
};

// torch.nn.init.orthogonal_: a (rows × cols) matrix with orthonormal rows or columns, times `gain`.
void orthogonal_init(Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> weight,
                     double gain, Rng& rng);

// A freshly initialised network as SB3's ActorCriticPolicy(ortho_init=True) makes it.
ActorCritic<float> initialise(const ActorCriticShape& shape, Rng& rng);

extern template struct ActorCritic<float>;
extern template struct ActorCritic<double>;

}  // namespace maestro::nn
