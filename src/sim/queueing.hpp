// Queueing in closed form and in tables, for the simulator's per-pod and pooled queues.
//
// Every queue the simulator models has the same shape of sojourn time T (waiting plus service), in units of
// the mean service time: T = S + W, where S is one service time (mean 1) and the wait W is 0 with
// probability 1 − p and exponential with mean w otherwise. That is exact for M/M/1 (p = ρ, w = 1/(1 − ρ))
// and M/M/c (p = Erlang C, w = 1/(c(1 − ρ))); for other service-time and arrival spreads it is the standard
// two-moment approximation: p as for Poisson arrivals and w scaled by (c_a² + c_s²)/2, which gives the
// Pollaczek–Khinchine mean wait for M/G/1 and the Kingman/Allen–Cunneen one for G/G/1 and G/G/c
// (docs/simulator.md says why and how close it is). SojournDistribution tabulates the distribution of T so
// that a simulated second costs table lookups, not integrals or root searches.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <mutex>
#include <vector>

namespace maestro::sim {

enum class ServiceTimeDistribution { kExponential, kLogNormal };

// Probability that an arriving request waits, for `servers` servers at offered load a = λ/μ < servers.
double erlang_c(int servers, double offered_load);

// The q-quantile (0 < q < 1) of the sojourn time of M/M/c, in seconds.
double mmc_sojourn_quantile(int servers, double arrival_rate, double service_rate, double quantile);

// Mean sojourn time of M/M/c, in seconds.
double mmc_mean_sojourn(int servers, double arrival_rate, double service_rate);

// Erlang C by server count and utilisation ρ = λ/(cμ), built on first use and shared by every simulator in
// the process.
class ErlangCTable {
 public:
  static constexpr int kMaxServers = 512;
  static constexpr double kMaxUtilisation = 0.99;  // beyond this the simulator treats a queue as saturated
  static constexpr int kSteps = 512;

  static const ErlangCTable& shared();

  // Linear interpolation in ρ, clamped to [0, kMaxUtilisation]; servers in [1, kMaxServers].
  double wait_probability(int servers, double utilisation) const;

 private:
  ErlangCTable() = default;
  mutable std::array<std::once_flag, kMaxServers + 1> built_;
  mutable std::array<std::vector<double>, kMaxServers + 1> rows_;
};

// The distribution of T = S + W above, for one service-time distribution (mean 1, the given coefficient of
// variation). Times are looked up by their position on a logarithmic grid, so that a caller which adds the
// same log-shift to many times (one pod's speed) computes each position once.
class SojournDistribution {
 public:
  static constexpr double kMinTime = 1e-4;  // in mean service times; the CDF is 0 below, 1 above kMaxTime
  static constexpr double kMaxTime = 1e5;
  static constexpr double kMinWait = 1e-3;  // mean conditional wait w; clamped to this range
  static constexpr double kMaxWait = 1e4;
  static constexpr int kPointsPerDecade = 32;

  // Shared, built on first use per (distribution, cv) (thread-safe). cv is ignored for kExponential.
  static const SojournDistribution& shared(ServiceTimeDistribution distribution, double cv);

  // Grid positions of a time x > 0 and of a mean wait w > 0 (continuous indices).
  static double time_position(double x) { return (std::log(x) - std::log(kMinTime)) * kPositionsPerLog; }
  static double wait_position(double w) { return (std::log(w) - std::log(kMinWait)) * kPositionsPerLog; }
  static constexpr double kPositionsPerLog = kPointsPerDecade / 2.302585092994046;

  // The table at one wait (probability and grid position), found once for the many times a simulated
  // second looks up.
  class AtWait {
   public:
    // P(T ≤ x) at the time's grid position.
    double cdf_at(double time_position) const;

   private:
    friend class SojournDistribution;
    const SojournDistribution* table_ = nullptr;
    double wait_probability_ = 0;
    const double* rows_ = nullptr;  // the wait's lower row; the upper follows it
    double row_fraction_ = 0;
  };
  AtWait at_wait(double wait_probability, double wait_position) const;

  // P(T ≤ x) at the given positions, for wait probability p.
  double cdf_at(double wait_probability, double wait_position, double time_position) const {
    return at_wait(wait_probability, wait_position).cdf_at(time_position);
  }
  double cdf(double wait_probability, double mean_wait, double x) const {
    return x <= 0 ? 0 : cdf_at(wait_probability, wait_position(mean_wait), time_position(x));
  }
  // The q-quantile of T, in mean service times.
  double quantile(double wait_probability, double mean_wait, double q) const;

  // Exact P(S + w·E ≤ x), E ~ Exp(1), by the closed form or numerical integration (what the table holds).
  static double convolution_cdf(ServiceTimeDistribution distribution, double cv, double w, double x);

 private:
  SojournDistribution(ServiceTimeDistribution distribution, double cv);
  static constexpr int kTimePoints = 9 * kPointsPerDecade + 1;  // 1e-4 … 1e5
  static constexpr int kWaitPoints = 7 * kPointsPerDecade + 1;  // 1e-3 … 1e4
  std::vector<double> service_;                                 // P(S ≤ x) by time position
  std::vector<double> sojourn_;  // P(S + wE ≤ x), by wait position then time position
};

// Inline: a simulated second looks up tens of times per queue.
inline SojournDistribution::AtWait SojournDistribution::at_wait(double wait_probability,
                                                                double wait_position) const {
  AtWait at;
  at.table_ = this;
  at.wait_probability_ = wait_probability;
  if (wait_probability <= 0) return at;  // the service time alone
  const double clamped = std::clamp(wait_position, 0.0, double{kWaitPoints - 1});
  const int j = std::min(static_cast<int>(clamped), kWaitPoints - 2);
  at.row_fraction_ = clamped - j;
  at.rows_ = &sojourn_[static_cast<std::size_t>(j) * kTimePoints];
  return at;
}

inline double SojournDistribution::AtWait::cdf_at(double time_position) const {
  if (!(time_position > 0)) return 0;
  if (time_position >= kTimePoints - 1) return 1;
  const int i = static_cast<int>(time_position);
  const double fi = time_position - i;
  const double* service = &table_->service_[static_cast<std::size_t>(i)];
  const double below = service[0] + (service[1] - service[0]) * fi;
  if (wait_probability_ <= 0) return below;
  const double* row = rows_ + i;
  const double low = row[0] + (row[1] - row[0]) * fi;
  const double high = row[kTimePoints] + (row[kTimePoints + 1] - row[kTimePoints]) * fi;
  return (1 - wait_probability_) * below + wait_probability_ * (low + (high - low) * row_fraction_);
}

}  // namespace maestro::sim
