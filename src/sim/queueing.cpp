#include "sim/queueing.hpp"

#include <cassert>
#include <cmath>

namespace maestro::sim {

double erlang_c(int servers, double offered_load) {
  assert(servers >= 1 && offered_load >= 0 && offered_load < servers);
  // Erlang B by its stable recurrence, then C from B.
  double blocking = 1;
  for (int k = 1; k <= servers; ++k) blocking = offered_load * blocking / (k + offered_load * blocking);
  const double c = servers;
  return c * blocking / (c - offered_load * (1 - blocking));
}

namespace {

// P(sojourn > t) for M/M/c with service rate 1: with probability 1 − C only the service Exp(1);
// with probability C the service plus a wait Exp(θ), θ = c − a.
double sojourn_tail(double wait_probability, double theta, double t) {
  const double service_only = std::exp(-t);
  double with_wait;
  if (std::abs(theta - 1) < 1e-9) {
    with_wait = (1 + t) * std::exp(-t);
  } else {
    with_wait = (theta * std::exp(-t) - std::exp(-theta * t)) / (theta - 1);
  }
  return (1 - wait_probability) * service_only + wait_probability * with_wait;
}

// Quantile in mean service times.
double normalised_quantile(int servers, double offered_load, double quantile) {
  const double wait_probability = offered_load > 0 ? erlang_c(servers, offered_load) : 0;
  const double theta = servers - offered_load;
  const double tail = 1 - quantile;
  double lo = 0, hi = 1;
  while (sojourn_tail(wait_probability, theta, hi) > tail) hi *= 2;
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    (sojourn_tail(wait_probability, theta, mid) > tail ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

double mmc_sojourn_quantile(int servers, double arrival_rate, double service_rate, double quantile) {
  return normalised_quantile(servers, arrival_rate / service_rate, quantile) / service_rate;
}

double mmc_mean_sojourn(int servers, double arrival_rate, double service_rate) {
  const double offered_load = arrival_rate / service_rate;
  const double wait_probability = offered_load > 0 ? erlang_c(servers, offered_load) : 0;
  return 1 / service_rate + wait_probability / (servers * service_rate - arrival_rate);
}

const SojournTable& SojournTable::shared() {
  static const SojournTable table;
  return table;
}

const std::vector<double>& SojournTable::row(int servers) const {
  assert(servers >= 1 && servers <= kMaxServers);
  std::call_once(built_[servers], [&] {
    std::vector<double>& row = rows_[servers];
    row.resize(kSteps + 1);
    for (int i = 0; i <= kSteps; ++i) {
      const double utilisation = kMaxUtilisation * i / kSteps;
      row[i] = normalised_quantile(servers, utilisation * servers, 0.95);
    }
  });
  return rows_[servers];
}

}  // namespace maestro::sim
