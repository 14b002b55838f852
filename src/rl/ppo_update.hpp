// One PPO.train() call of Stable-Baselines3 over a filled rollout buffer: n_epochs passes, each over a
// fresh shuffle in minibatches of batch_size; per minibatch the clipped-surrogate, entropy and value losses,
// an early stop when approx_kl > 1.5·target_kl, one global gradient-norm clip over both networks and one
// Adam step (torch's, eps adam_eps). The actor's and the critic's gradients are independent, so with a
// helper thread they are computed at the same time, the critic's on the helper. Each network's optimiser
// step is taken at the start of the next minibatch's job (or at the end of the update), so that it too runs
// beside the other's work; every number is the same with one thread or two.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "nn/actor_critic.hpp"
#include "nn/adam.hpp"
#include "nn/random.hpp"
#include "rl/helper_thread.hpp"
#include "rl/ppo_loss.hpp"
#include "rl/rollout_buffer.hpp"

namespace maestro::rl {

struct UpdateSettings {
  int n_epochs = 10;
  int batch_size = 64;
  double learning_rate = 3e-4;
  double clip_range = 0.2;
  std::optional<double> clip_range_vf;
  double ent_coef = 0.0;
  double vf_coef = 0.5;
  double max_grad_norm = 0.5;
  std::optional<double> target_kl;
  bool normalize_advantage = true;
  double anchor_kl_coef = 0;  // > 0: the buffer's anchor_log_probs pull the actor (AnchorTerm)
};

// What SB3 logs under train/ for one update.
struct UpdateLog {
  double entropy_loss = 0, policy_gradient_loss = 0, value_loss = 0;  // means over minibatches
  double approx_kl = 0;      // mean over the last epoch's minibatches
  double anchor_kl = 0;      // mean KL(π_θ ‖ π_anchor) over minibatches (0 without an anchor)
  double clip_fraction = 0;  // mean over minibatches
  double loss = 0;           // total loss of the last minibatch
  double explained_variance = 0;
  double learning_rate = 0, clip_range = 0;
  std::optional<double> clip_range_vf;
  long n_updates = 0;  // epochs completed, over all updates so far
  bool stopped_early = false;
};

// The gradients of one optimiser step before clipping, and their global norm (for conformance checks).
struct OptimizerStepRecord {
  double grad_norm = 0;
  std::span<const float> actor_gradient, critic_gradient;
};

class PpoUpdater {
 public:
  // Updates `network` in place; it and `helper` (null: one thread) must outlive the updater.
  PpoUpdater(nn::ActorCritic<float>& network, double adam_eps, HelperThread* helper);
  PpoUpdater(const PpoUpdater&) = delete;
  PpoUpdater& operator=(const PpoUpdater&) = delete;

  UpdateLog update(const RolloutBuffer& buffer, const UpdateSettings& settings, nn::Rng& shuffle_rng,
                   const std::function<void(const OptimizerStepRecord&)>& on_optimizer_step = {});

 private:
  // One network's optimiser, its gradient of the current minibatch and that gradient's Σ g².
  struct Optimised {
    Optimised(std::size_t parameters, double adam_eps) : adam(parameters, adam_eps), gradient(parameters) {}
    nn::Adam<float> adam;
    std::vector<float> gradient;
    double squared_norm = 0;
    bool step_pending = false;  // the gradient awaits its clip and Adam step
  };
  void critic_job();
  // The pending clip (by clip_factor_) and Adam step of one network.
  void step(nn::Mlp<float>& network, Optimised& side);

  nn::ActorCritic<float>& network_;
  Optimised actor_, critic_;
  ActorLossWork<float> actor_work_;
  CriticLossWork<float> critic_work_;
  long n_updates_ = 0;

  // The current minibatch, gathered from the buffer.
  Matrix<float> observations_;
  std::vector<int> actions_;
  std::vector<float> old_log_probs_, advantages_, normalized_advantages_, returns_, old_values_;
  Matrix<float> anchor_log_probs_;
  std::vector<int> indices_;
  const UpdateSettings* settings_ = nullptr;
  double value_loss_ = 0;
  double clip_factor_ = 1;  // of the last minibatch's gradients

  HelperThread* helper_;  // runs critic_job() beside the actor's work
};

}  // namespace maestro::rl
