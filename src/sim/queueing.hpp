// M/M/c queueing in closed form: the Erlang C probability of waiting and the quantiles of the time a
// request spends in the system (waiting plus service). The simulator reads p95 from a table built
// from these once per server count, so that a simulated second costs a lookup, not a root search.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <vector>

namespace maestro::sim {

// Probability that an arriving request waits, for `servers` servers at offered load a = λ/μ < servers.
double erlang_c(int servers, double offered_load);

// The q-quantile (0 < q < 1) of the sojourn time of M/M/c, in seconds.
double mmc_sojourn_quantile(int servers, double arrival_rate, double service_rate, double quantile);

// Mean sojourn time of M/M/c, in seconds.
double mmc_mean_sojourn(int servers, double arrival_rate, double service_rate);

// p95 of the sojourn time, in mean service times, by server count and utilisation ρ = λ/(cμ).
// Rows are built on first use and shared by every simulator in the process.
class SojournTable {
 public:
  static constexpr int kMaxServers = 512;
  static constexpr double kMaxUtilisation =
      0.99;  // beyond this the simulator treats the service as saturated
  static constexpr int kSteps = 512;

  static const SojournTable& shared();

  // Linear interpolation in ρ, which is clamped to [0, kMaxUtilisation]; servers in [1, kMaxServers].
  double p95(int servers, double utilisation) const { return interpolate(row(servers), utilisation); }

  // The same on a row already fetched (what the simulator keeps between ticks).
  static double interpolate(const std::vector<double>& row, double utilisation) {
    double position = utilisation * (kSteps / kMaxUtilisation);
    position = position < 0 ? 0 : (position > kSteps ? kSteps : position);
    const int index = static_cast<int>(position);
    if (index >= kSteps) return row[kSteps];
    const double fraction = position - index;
    return row[index] + (row[index + 1] - row[index]) * fraction;
  }

  // The row for `servers`, built if needed (thread-safe).
  const std::vector<double>& row(int servers) const;

 private:
  SojournTable() = default;
  mutable std::array<std::once_flag, kMaxServers + 1> built_;
  mutable std::array<std::vector<double>, kMaxServers + 1> rows_;
};

}  // namespace maestro::sim
