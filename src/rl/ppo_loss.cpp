#include "rl/ppo_loss.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace maestro::rl {

template <typename S>
ActorLossTerms actor_loss(const nn::Mlp<S>& actor, const Eigen::Ref<const Matrix<S>>& observations,
                          std::span<const int> actions, std::span<const S> old_log_probs,
                          std::span<const S> advantages, double clip_range, double ent_coef,
                          ActorLossWork<S>& work, std::span<S> gradient, const AnchorTerm<S>* anchor) {
  const Eigen::Index batch = observations.cols();
  assert(actions.size() == std::size_t(batch) && advantages.size() == std::size_t(batch));
  actor.forward(observations, work.cache);
  const Matrix<S>& logits = work.cache.outputs.back();
  const Eigen::Index action_count = logits.rows();
  work.probabilities.resize(action_count, batch);
  work.logits_grad.resize(action_count, batch);

  const S low = S(1 - clip_range), high = S(1 + clip_range);
  const S inv_batch = S(1) / S(batch);
  ActorLossTerms terms;
  for (Eigen::Index i = 0; i < batch; ++i) {
    // Softmax and log-softmax of this sample's logits, from one exponential per action (torch's softmax).
    const auto z = logits.col(i);
    auto p = work.probabilities.col(i);
    const S max = z.maxCoeff();
    S sum = 0;
    for (Eigen::Index j = 0; j < action_count; ++j) sum += p(j) = std::exp(z(j) - max);
    const S log_sum = max + std::log(sum);
    S entropy = 0;
    for (Eigen::Index j = 0; j < action_count; ++j) {
      p(j) /= sum;
      entropy -= p(j) * (z(j) - log_sum);
    }
    const int action = actions[i];
    const S log_prob = z(action) - log_sum;
    const S log_ratio = log_prob - old_log_probs[i];
    const S ratio = std::exp(log_ratio);
    const S advantage = advantages[i];
    // torch.clamp semantics (also when a linear schedule has driven the range past zero: min > max → max).
    const S clipped = std::min(std::max(ratio, low), high);
    const S surrogate = advantage * ratio, clipped_surrogate = advantage * clipped;
    terms.policy_loss -= std::min(surrogate, clipped_surrogate);
    terms.entropy_loss -= entropy;
    terms.approx_kl += (ratio - 1) - log_ratio;
    terms.clip_fraction += std::abs(ratio - 1) > S(clip_range);

    // d policy_loss / d log_prob: through the ratio when min() takes the unclipped term, or when both terms
    // are equal inside the clip range (torch splits the gradient between them and clamp passes its half).
    const bool through_ratio = (ratio >= low && ratio <= high) || surrogate < clipped_surrogate;
    const S d_log_prob = through_ratio ? -advantage * ratio * inv_batch : S(0);
    // d/dz_j: log_prob → d_log_prob·([j = a] − p_j); −ent_coef·mean(H) → ent_coef/B·p_j·(log p_j + H).
    auto grad = work.logits_grad.col(i);
    for (Eigen::Index j = 0; j < action_count; ++j) {
      const S log_p = z(j) - log_sum;
      grad(j) = d_log_prob * ((j == action ? S(1) : S(0)) - p(j)) +
                S(ent_coef) * inv_batch * p(j) * (log_p + entropy);
    }
    if (anchor) {
      // KL = Σ_j p_j·(log p_j − log q_j); dKL/dz_k = p_k·(log p_k − log q_k − KL).
      const auto log_q = anchor->log_probs.col(i);
      S kl = 0;
      for (Eigen::Index j = 0; j < action_count; ++j) {
        kl += p(j) * (z(j) - log_sum - log_q(j));
      }
      terms.anchor_kl += kl;
      const S scale = S(anchor->coef) * inv_batch;
      for (Eigen::Index j = 0; j < action_count; ++j) {
        grad(j) += scale * p(j) * (z(j) - log_sum - log_q(j) - kl);
      }
    }
  }
  terms.policy_loss /= double(batch);
  terms.entropy_loss /= double(batch);
  terms.approx_kl /= double(batch);
  terms.clip_fraction /= double(batch);
  terms.anchor_kl /= double(batch);
  actor.backward(observations, work.cache, work.logits_grad, gradient);
  return terms;
}

template <typename S>
double critic_loss(const nn::Mlp<S>& critic, const Eigen::Ref<const Matrix<S>>& observations,
                   std::span<const S> returns, std::span<const S> old_values,
                   std::optional<double> clip_range_vf, double vf_coef, CriticLossWork<S>& work,
                   std::span<S> gradient) {
  const Eigen::Index batch = observations.cols();
  critic.forward(observations, work.cache);
  const Matrix<S>& values = work.cache.outputs.back();
  work.value_grad.resize(1, batch);
  const S scale = S(2 * vf_coef) / S(batch);
  double loss = 0;
  for (Eigen::Index i = 0; i < batch; ++i) {
    S predicted = values(0, i);
    bool passes = true;
    if (clip_range_vf) {
      // torch.clamp passes the gradient inside [min, max], bounds included.
      const S change = predicted - old_values[i], limit = S(*clip_range_vf);
      passes = change >= -limit && change <= limit;
      predicted = old_values[i] + std::min(std::max(change, -limit), limit);
    }
    const S error = predicted - returns[i];
    loss += double(error) * double(error);
    work.value_grad(0, i) = passes ? scale * error : S(0);
  }
  critic.backward(observations, work.cache, work.value_grad, gradient);
  return loss / double(batch);
}

template <typename S>
void normalize_advantages(std::span<const S> advantages, std::span<S> out) {
  const std::size_t n = advantages.size();
  double mean = 0;
  for (S a : advantages) mean += a;
  mean /= double(n);
  double squares = 0;
  for (S a : advantages) squares += (a - mean) * (a - mean);
  const double std_dev = n > 1 ? std::sqrt(squares / double(n - 1)) : 0.0;
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<S>((advantages[i] - mean) / (std_dev + 1e-8));
}

#define MAESTRO_INSTANTIATE(S)                                                                              \
  template ActorLossTerms actor_loss<S>(                                                                    \
      const nn::Mlp<S>&, const Eigen::Ref<const Matrix<S>>&, std::span<const int>, std::span<const S>,      \
      std::span<const S>, double, double, ActorLossWork<S>&, std::span<S>, const AnchorTerm<S>*);           \
  template double critic_loss<S>(const nn::Mlp<S>&, const Eigen::Ref<const Matrix<S>>&, std::span<const S>, \
                                 std::span<const S>, std::optional<double>, double, CriticLossWork<S>&,     \
                                 std::span<S>);                                                             \
  template void normalize_advantages<S>(std::span<const S>, std::span<S>);
MAESTRO_INSTANTIATE(float)
MAESTRO_INSTANTIATE(double)
#undef MAESTRO_INSTANTIATE

}  // namespace maestro::rl
