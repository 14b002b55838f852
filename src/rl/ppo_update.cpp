#include "rl/ppo_update.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "nn/kernels.hpp"

namespace maestro::rl {

PpoUpdater::PpoUpdater(nn::ActorCritic<float>& network, double adam_eps, HelperThread* helper)
    : network_(network),
      actor_(network.actor.parameters().size(), adam_eps),
      critic_(network.critic.parameters().size(), adam_eps),
      helper_(helper) {}

// The critic's optimiser step of the previous minibatch (deferred to here so that it runs beside the
// actor's work), then the critic's loss, gradient and the gradient's share of the global norm.
void PpoUpdater::critic_job() {
  if (critic_.step_pending) step(network_.critic, critic_);
  value_loss_ =
      critic_loss<float>(network_.critic, observations_, returns_, old_values_, settings_->clip_range_vf,
                         settings_->vf_coef, critic_work_, critic_.gradient);
  critic_.squared_norm = nn::kernels::active().squared_norm(critic_.gradient.data(), critic_.gradient.size());
}

void PpoUpdater::step(nn::Mlp<float>& network, Optimised& side) {
  if (clip_factor_ < 1.0) nn::scale<float>(side.gradient, clip_factor_);
  side.adam.step(network.parameters(), side.gradient, settings_->learning_rate);
  side.step_pending = false;
}

namespace {
// 1 − Var(returns − values)/Var(returns), population variances as numpy; NaN when returns do not vary.
double explained_variance(std::span<const float> values, std::span<const float> returns) {
  const double n = double(values.size());
  double mean_y = 0, mean_d = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    mean_y += returns[i];
    mean_d += double(returns[i]) - values[i];
  }
  mean_y /= n;
  mean_d /= n;
  double var_y = 0, var_d = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    var_y += (returns[i] - mean_y) * (returns[i] - mean_y);
    const double d = double(returns[i]) - values[i] - mean_d;
    var_d += d * d;
  }
  return var_y == 0 ? std::nan("") : 1.0 - var_d / var_y;
}
}  // namespace

UpdateLog PpoUpdater::update(const RolloutBuffer& buffer, const UpdateSettings& settings,
                             nn::Rng& shuffle_rng,
                             const std::function<void(const OptimizerStepRecord&)>& on_optimizer_step) {
  settings_ = &settings;
  const int size = buffer.size();
  indices_.resize(size);
  UpdateLog log;
  log.learning_rate = settings.learning_rate;
  log.clip_range = settings.clip_range;
  log.clip_range_vf = settings.clip_range_vf;
  double entropy_sum = 0, policy_sum = 0, value_sum = 0, clip_sum = 0, anchor_sum = 0;
  const bool anchored = settings.anchor_kl_coef > 0;
  long minibatches = 0;
  bool continue_training = true;

  for (int epoch = 0; epoch < settings.n_epochs && continue_training; ++epoch) {
    // A fresh permutation each epoch (Fisher–Yates), as SB3's np.random.permutation.
    std::iota(indices_.begin(), indices_.end(), 0);
    for (int i = size - 1; i > 0; --i) std::swap(indices_[i], indices_[shuffle_rng.below(i + 1)]);
    double kl_sum = 0;
    int kl_count = 0;

    for (int start = 0; start < size; start += settings.batch_size) {
      const int batch = std::min(settings.batch_size, size - start);
      // What the critic reads; then, beside the critic's job, what the actor reads.
      observations_.resize(buffer.observations.rows(), batch);
      returns_.resize(batch);
      old_values_.resize(batch);
      for (int b = 0; b < batch; ++b) {
        const int i = indices_[start + b];
        observations_.col(b) = buffer.observations.col(i);
        returns_[b] = buffer.returns[i];
        old_values_[b] = buffer.values[i];
      }
      if (helper_) helper_->post([this] { critic_job(); });

      actions_.resize(batch);
      old_log_probs_.resize(batch);
      advantages_.resize(batch);
      normalized_advantages_.resize(batch);
      if (anchored) anchor_log_probs_.resize(buffer.anchor_log_probs.rows(), batch);
      for (int b = 0; b < batch; ++b) {
        const int i = indices_[start + b];
        actions_[b] = buffer.actions[i];
        old_log_probs_[b] = buffer.log_probs[i];
        advantages_[b] = buffer.advantages[i];
        if (anchored) anchor_log_probs_.col(b) = buffer.anchor_log_probs.col(i);
      }
      if (settings.normalize_advantage && batch > 1)
        normalize_advantages<float>(advantages_, normalized_advantages_);
      else
        normalized_advantages_ = advantages_;
      if (actor_.step_pending) step(network_.actor, actor_);
      const AnchorTerm<float> anchor{anchor_log_probs_, settings.anchor_kl_coef};
      const ActorLossTerms terms = actor_loss<float>(
          network_.actor, observations_, actions_, old_log_probs_, normalized_advantages_,
          settings.clip_range, settings.ent_coef, actor_work_, actor_.gradient, anchored ? &anchor : nullptr);
      actor_.squared_norm =
          nn::kernels::active().squared_norm(actor_.gradient.data(), actor_.gradient.size());
      if (helper_)
        helper_->finish();
      else
        critic_job();

      ++minibatches;
      entropy_sum += terms.entropy_loss;
      policy_sum += terms.policy_loss;
      value_sum += value_loss_;
      clip_sum += terms.clip_fraction;
      anchor_sum += terms.anchor_kl;
      kl_sum += terms.approx_kl;
      ++kl_count;
      log.approx_kl = kl_sum / kl_count;
      log.loss = terms.policy_loss + settings.ent_coef * terms.entropy_loss +
                 settings.anchor_kl_coef * terms.anchor_kl + settings.vf_coef * value_loss_;

      if (settings.target_kl && terms.approx_kl > 1.5 * *settings.target_kl) {
        continue_training = false;
        log.stopped_early = true;
        break;
      }

      // clip_grad_norm_ over both networks: √(Σ actor² + Σ critic²), as nn::global_norm sums them.
      const double norm = std::sqrt(actor_.squared_norm + critic_.squared_norm);
      if (on_optimizer_step) on_optimizer_step({norm, actor_.gradient, critic_.gradient});
      clip_factor_ = nn::clip_coefficient(norm, settings.max_grad_norm);
      actor_.step_pending = critic_.step_pending = true;
    }
    ++n_updates_;
  }
  if (actor_.step_pending) step(network_.actor, actor_);
  if (critic_.step_pending) step(network_.critic, critic_);

  log.entropy_loss = entropy_sum / minibatches;
  log.policy_gradient_loss = policy_sum / minibatches;
  log.value_loss = value_sum / minibatches;
  log.clip_fraction = clip_sum / minibatches;
  log.anchor_kl = anchor_sum / minibatches;
  log.explained_variance = explained_variance(buffer.values, buffer.returns);
  log.n_updates = n_updates_;
  return log;
}

}  // namespace maestro::rl
