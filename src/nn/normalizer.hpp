// Observation normalisation as SB3's VecNormalize does it: a running mean and variance per feature
// (RunningMeanStd: count starts at 1e-4, batches merged by the parallel-variance formula), and
// normalised = clip((x − mean) / sqrt(var + epsilon), −clip, clip) with clip 10 and epsilon 1e-8.
// Statistics are updated while training and frozen in the policy file for evaluation and serving.
#pragma once

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "base/error.hpp"

namespace maestro::nn {

struct RunningMeanStd {
  std::vector<double> mean;
  std::vector<double> var;
  double count = 1e-4;

  RunningMeanStd() = default;
  explicit RunningMeanStd(std::size_t size) : mean(size, 0.0), var(size, 1.0) {}

  // Merges a batch of `rows` observations stored one after another (rows × size()).
  void update(std::span<const double> batch, std::size_t rows);
  std::size_t size() const { return mean.size(); }
  friend bool operator==(const RunningMeanStd&, const RunningMeanStd&) = default;
};

struct ObservationNormalizer {
  bool enabled = false;  // off: observations pass through unchanged
  double clip = 10.0;
  double epsilon = 1e-8;
  RunningMeanStd stats;

  ObservationNormalizer() = default;
  ObservationNormalizer(std::size_t size, bool enabled) : enabled(enabled), stats(size) {}

  // Updates the statistics with a batch (rows × size) if enabled.
  void update(std::span<const double> batch, std::size_t rows) {
    if (enabled) stats.update(batch, rows);
  }
  // Writes the normalised observation (or a copy when disabled); `in` and `out` may alias.
  template <typename Out>
  void normalize(std::span<const double> in, std::span<Out> out) const;

  friend bool operator==(const ObservationNormalizer&, const ObservationNormalizer&) = default;
};

Result<ObservationNormalizer> validate(const ObservationNormalizer& normalizer, std::size_t size);

template <typename Out>
void ObservationNormalizer::normalize(std::span<const double> in, std::span<Out> out) const {
  assert(out.size() >= in.size());
  if (!enabled) {
    for (std::size_t i = 0; i < in.size(); ++i) out[i] = static_cast<Out>(in[i]);
    return;
  }
  assert(in.size() == stats.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const double z = (in[i] - stats.mean[i]) / std::sqrt(stats.var[i] + epsilon);
    out[i] = static_cast<Out>(std::clamp(z, -clip, clip));
  }
}

}  // namespace maestro::nn
