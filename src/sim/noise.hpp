// Measurement noise for the simulator's reported metrics: standard normal deviates at a few nanoseconds
// each (a control step draws four), from a seeded xorshift generator and a 2^16-point inverse-CDF table.
// The table resolves the normal to 1/65536 in probability — ample for noise on a metric, and every
// draw is reproducible from the seed.
#pragma once

#include <array>
#include <cstdint>

namespace maestro::sim {

class FastNormal {
 public:
  explicit FastNormal(std::uint64_t seed = 1) { seed_with(seed); }
  void seed_with(std::uint64_t seed) { state_ = seed * 0x9e3779b97f4a7c15ULL | 1; }

  double operator()() {
    // xorshift64*
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    const std::uint64_t bits = state_ * 0x2545f4914f6cdd1dULL;
    return table()[bits >> 48];
  }

 private:
  static const std::array<double, 65536>& table();
  std::uint64_t state_ = 1;
};

// The standard normal quantile function (Acklam's rational approximation, relative error < 1.2e-9).
double normal_quantile(double p);

}  // namespace maestro::sim
