// The PPO loss of one minibatch, as SB3's PPO.train() computes it, and its gradient with respect to the
// actor's and the critic's parameters. The loss separates: the actor's part is the clipped surrogate plus
// ent_coef × the entropy loss (plus, optionally, a pull towards an anchor policy: AnchorTerm), the critic's
// part vf_coef × the value loss, so the two networks' gradients
// can be computed independently (and on two threads). Templated on the scalar: float for training, double
// for finite-difference checks.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "nn/mlp.hpp"

namespace maestro::rl {

// A batch as the networks take it: one row per unit, one column per sample (nn::Mlp<S>::Matrix).
template <typename S>
using Matrix = typename nn::Mlp<S>::Matrix;

// What SB3 logs of one minibatch's actor part.
struct ActorLossTerms {
  double policy_loss = 0;    // −mean(min(A·r, A·clip(r, 1 ± clip_range)))
  double entropy_loss = 0;   // −mean(entropy)
  double approx_kl = 0;      // mean((r − 1) − log r)
  double clip_fraction = 0;  // mean(|r − 1| > clip_range)
  double anchor_kl = 0;      // mean KL(π_θ ‖ π_anchor), when an anchor is given
};

// Keeps the actor near another policy (e.g. the one it was cloned into before PPO): adds
// coef·mean_i KL(π_θ(·|s_i) ‖ π_anchor(·|s_i)) to the actor's loss. `log_probs` holds the anchor's log
// probabilities, one row per action, one column per sample of the minibatch.
template <typename S>
struct AnchorTerm {
  const Matrix<S>& log_probs;
  double coef = 0;
};

template <typename S>
struct ActorLossWork {
  typename nn::Mlp<S>::Cache cache;
  Matrix<S> probabilities, logits_grad;
};

// `advantages` are used as given (normalise them first, as SB3 does per minibatch). Writes
// d(policy_loss + ent_coef·entropy_loss [+ anchor.coef·anchor_kl])/dθ into `gradient`.
template <typename S>
ActorLossTerms actor_loss(const nn::Mlp<S>& actor, const Eigen::Ref<const Matrix<S>>& observations,
                          std::span<const int> actions, std::span<const S> old_log_probs,
                          std::span<const S> advantages, double clip_range, double ent_coef,
                          ActorLossWork<S>& work, std::span<S> gradient,
                          const AnchorTerm<S>* anchor = nullptr);

template <typename S>
struct CriticLossWork {
  typename nn::Mlp<S>::Cache cache;
  Matrix<S> value_grad;
};

// Returns the value loss mean((returns − V_pred)²), V_pred = V, or with clip_range_vf the old value plus
// the change clipped to ±clip_range_vf. Writes d(vf_coef·value_loss)/dθ into `gradient`.
template <typename S>
double critic_loss(const nn::Mlp<S>& critic, const Eigen::Ref<const Matrix<S>>& observations,
                   std::span<const S> returns, std::span<const S> old_values,
                   std::optional<double> clip_range_vf, double vf_coef, CriticLossWork<S>& work,
                   std::span<S> gradient);

// SB3's per-minibatch advantage normalisation: (A − mean)/(sample std + 1e-8).
template <typename S>
void normalize_advantages(std::span<const S> advantages, std::span<S> out);

}  // namespace maestro::rl
