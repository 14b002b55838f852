#include "nn/normalizer.hpp"

#include <cassert>
#include <cmath>

namespace maestro::nn {

void RunningMeanStd::update(std::span<const double> batch, std::size_t rows) {
  const std::size_t n = size();
  assert(batch.size() == rows * n && rows > 0);
  const double batch_count = static_cast<double>(rows);
  const double total = count + batch_count;
  for (std::size_t j = 0; j < n; ++j) {
    // numpy's mean and (population) variance of column j, then RunningMeanStd.update_from_moments.
    double sum = 0;
    for (std::size_t r = 0; r < rows; ++r) sum += batch[r * n + j];
    const double batch_mean = sum / batch_count;
    double squares = 0;
    for (std::size_t r = 0; r < rows; ++r)
      squares += (batch[r * n + j] - batch_mean) * (batch[r * n + j] - batch_mean);
    const double batch_var = squares / batch_count;
    const double delta = batch_mean - mean[j];
    const double m2 = var[j] * count + batch_var * batch_count + delta * delta * count * batch_count / total;
    mean[j] += delta * batch_count / total;
    var[j] = m2 / total;
  }
  count = total;
}

Result<ObservationNormalizer> validate(const ObservationNormalizer& normalizer, std::size_t size) {
  if (normalizer.stats.mean.size() != size || normalizer.stats.var.size() != size)
    return fail("normalisation statistics have {} means and {} variances for {} features",
                normalizer.stats.mean.size(), normalizer.stats.var.size(), size);
  if (!(normalizer.clip > 0) || !std::isfinite(normalizer.clip))
    return fail("normalisation clip {} is not positive", normalizer.clip);
  if (!(normalizer.epsilon >= 0) || !std::isfinite(normalizer.epsilon))
    return fail("normalisation epsilon {} is not a non-negative number", normalizer.epsilon);
  if (!(normalizer.stats.count > 0) || !std::isfinite(normalizer.stats.count))
    return fail("normalisation count {} is not positive", normalizer.stats.count);
  for (std::size_t i = 0; i < size; ++i) {
    if (!std::isfinite(normalizer.stats.mean[i])) return fail("normalisation mean {} is not finite", i);
    if (!(normalizer.stats.var[i] >= 0) || !std::isfinite(normalizer.stats.var[i]))
      return fail("normalisation variance {} ({}) is not a non-negative number", i, normalizer.stats.var[i]);
  }
  return normalizer;
}

}  // namespace maestro::nn
