// The seeded random source of training and initialisation. std::mt19937_64's sequence is fixed by the C++
// standard, and the distributions below are written out here (the standard library's are not specified
// bit for bit), so the same seed gives the same numbers with any compiler: training is reproducible.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>

namespace maestro::nn {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t next() { return engine_(); }
  // Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Standard normal (Box–Muller; one draw of two uniforms per value keeps the stream simple).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]: log stays finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift with rejection: unbiased).
  std::uint64_t below(std::uint64_t n) {
    while (true) {
      const unsigned __int128 product = static_cast<unsigned __int128>(engine_()) * n;
      const auto low = static_cast<std::uint64_t>(product);
      if (low >= n || low >= (-n) % n) return static_cast<std::uint64_t>(product >> 64);
    }
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace maestro::nn
