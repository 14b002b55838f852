// The categorical action distribution over a policy's logits, as torch.distributions.Categorical
// computes it: log-probabilities by log-softmax, entropy −Σ p·log p, the deterministic action the most
// probable one (the first on ties, as torch.argmax), a sampled action by inverse CDF on one uniform draw.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>

namespace maestro::nn {

template <typename S>
void log_softmax(std::span<const S> logits, std::span<S> log_probabilities) {
  const S max = *std::max_element(logits.begin(), logits.end());
  S sum = 0;
  for (S logit : logits) sum += std::exp(logit - max);
  const S log_sum = max + std::log(sum);
  for (std::size_t i = 0; i < logits.size(); ++i) log_probabilities[i] = logits[i] - log_sum;
}

template <typename S>
S entropy(std::span<const S> log_probabilities) {
  S h = 0;
  for (S lp : log_probabilities) h -= std::exp(lp) * lp;
  return h;
}

template <typename S>
int argmax(std::span<const S> values) {
  return static_cast<int>(std::max_element(values.begin(), values.end()) - values.begin());
}

// `uniform` in [0, 1): the first action whose cumulative probability exceeds it.
template <typename S>
int sample(std::span<const S> log_probabilities, double uniform) {
  double cumulative = 0;
  const int last = static_cast<int>(log_probabilities.size()) - 1;
  for (int i = 0; i < last; ++i) {
    cumulative += std::exp(static_cast<double>(log_probabilities[i]));
    if (uniform < cumulative) return i;
  }
  return last;
}

}  // namespace maestro::nn
