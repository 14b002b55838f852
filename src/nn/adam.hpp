// Adam exactly as torch.optim.Adam (PyTorch 1.13, no weight decay, no amsgrad) computes it, and the global
// gradient-norm clip of torch.nn.utils.clip_grad_norm_ (float: the kernels of kernels.hpp). One Adam holds
// the moments of one parameter block; several blocks stepped with the same learning rate and step count
// behave as one torch optimiser over all of them.
#pragma once

#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <span>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "nn/kernels.hpp"

namespace maestro::nn {

template <typename S>
class Adam {
 public:
  explicit Adam(std::size_t size, double eps = 1e-8, double beta1 = 0.9, double beta2 = 0.999)
      : eps_(eps), beta1_(beta1), beta2_(beta2), exp_avg_(size, S(0)), exp_avg_sq_(size, S(0)) {}

  // parameters −= lr/(1−β1ᵗ) · m / (√v / √(1−β2ᵗ) + eps), with torch's order of operations; scalars are
  // computed in double and used in S, as torch does for a float tensor.
  void step(std::span<S> parameters, std::span<const S> gradient, double learning_rate) {
    ++steps_;
    const S b1 = S(beta1_), b2 = S(beta2_), one_minus_b1 = S(1 - beta1_), one_minus_b2 = S(1 - beta2_);
    const double bias_correction1 = 1 - std::pow(beta1_, double(steps_));
    const double bias_correction2 = 1 - std::pow(beta2_, double(steps_));
    const S step_size = S(learning_rate / bias_correction1);
    const S bias_correction2_sqrt = S(std::sqrt(bias_correction2));
    const S eps = S(eps_);
    if constexpr (std::is_same_v<S, float>) {
      kernels::active().adam_step(
          parameters.data(), exp_avg_.data(), exp_avg_sq_.data(), gradient.data(), parameters.size(),
          {b1, one_minus_b1, b2, one_minus_b2, step_size, bias_correction2_sqrt, eps});
    } else {
      using Array = Eigen::Array<S, Eigen::Dynamic, 1>;
      Eigen::Map<Array> m(exp_avg_.data(), exp_avg_.size()), v(exp_avg_sq_.data(), exp_avg_sq_.size());
      Eigen::Map<Array> p(parameters.data(), parameters.size());
      const Eigen::Map<const Array> g(gradient.data(), gradient.size());
      m = m * b1 + g * one_minus_b1;
      v = v * b2 + g * g * one_minus_b2;
      p -= step_size * (m / (v.sqrt() / bias_correction2_sqrt + eps));
    }
  }

  long steps() const { return steps_; }
  std::span<const S> exp_avg() const { return exp_avg_; }
  std::span<const S> exp_avg_sq() const { return exp_avg_sq_; }

 private:
  double eps_, beta1_, beta2_;
  long steps_ = 0;
  std::vector<S> exp_avg_, exp_avg_sq_;
};

// The L2 norm of all blocks together, accumulated in double.
template <typename S>
double global_norm(std::initializer_list<std::span<const S>> blocks) {
  double sum = 0;
  for (auto block : blocks)
    if constexpr (std::is_same_v<S, float>)
      sum += kernels::active().squared_norm(block.data(), block.size());
    else
      for (S g : block) sum += double(g) * double(g);
  return std::sqrt(sum);
}

// clip_grad_norm_'s factor: max_norm / (norm + 1e-6), at most 1.
inline double clip_coefficient(double total_norm, double max_norm) {
  const double coefficient = max_norm / (total_norm + 1e-6);
  return coefficient < 1.0 ? coefficient : 1.0;
}

template <typename S>
void scale(std::span<S> gradient, double factor) {
  const S f = S(factor);
  for (S& g : gradient) g *= f;
}

}  // namespace maestro::nn
