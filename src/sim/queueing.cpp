#include "sim/queueing.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <map>
#include <memory>
#include <utility>

namespace maestro::sim {

double erlang_c(int servers, double offered_load) {
  assert(servers >= 1 && offered_load >= 0 && offered_load < servers);
  // Erlang B by its stable recurrence, then C from B.
  double blocking = 1;
  for (int k = 1; k <= servers; ++k) blocking = offered_load * blocking / (k + offered_load * blocking);
  const double c = servers;
  return c * blocking / (c - offered_load * (1 - blocking));
}

double mmc_sojourn_quantile(int servers, double arrival_rate, double service_rate, double quantile) {
  const double offered_load = arrival_rate / service_rate;
  const double wait_probability = offered_load > 0 ? erlang_c(servers, offered_load) : 0;
  const double mean_wait = 1 / (servers - offered_load);  // in mean service times
  // P(T > t) = (1 − C)·e^{−t} + C·P(S + wE > t); bisection on the closed form.
  const auto tail = [&](double t) {
    return 1 - ((1 - wait_probability) * (1 - std::exp(-t)) +
                wait_probability * SojournDistribution::convolution_cdf(ServiceTimeDistribution::kExponential,
                                                                        1, mean_wait, t));
  };
  double lo = 0, hi = 1;
  while (tail(hi) > 1 - quantile) hi *= 2;
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    (tail(mid) > 1 - quantile ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi) / service_rate;
}

double mmc_mean_sojourn(int servers, double arrival_rate, double service_rate) {
  const double offered_load = arrival_rate / service_rate;
  const double wait_probability = offered_load > 0 ? erlang_c(servers, offered_load) : 0;
  return 1 / service_rate + wait_probability / (servers * service_rate - arrival_rate);
}

const ErlangCTable& ErlangCTable::shared() {
  static const ErlangCTable table;
  return table;
}

double ErlangCTable::wait_probability(int servers, double utilisation) const {
  assert(servers >= 1 && servers <= kMaxServers);
  std::call_once(built_[servers], [&] {
    std::vector<double>& row = rows_[servers];
    row.resize(kSteps + 1);
    for (int i = 0; i <= kSteps; ++i) row[i] = erlang_c(servers, kMaxUtilisation * i / kSteps * servers);
  });
  const std::vector<double>& row = rows_[servers];
  const double position = std::clamp(utilisation * (kSteps / kMaxUtilisation), 0.0, double{kSteps});
  const int index = std::min(static_cast<int>(position), kSteps - 1);
  return row[index] + (row[index + 1] - row[index]) * (position - index);
}

namespace {

// Log-normal with mean 1 and coefficient of variation cv: ln S ~ N(m, σ²).
struct LogNormal {
  double sigma, m;
  explicit LogNormal(double cv) : sigma(std::sqrt(std::log1p(cv * cv))), m(-0.5 * std::log1p(cv * cv)) {}
  double z_of(double x) const { return (std::log(x) - m) / sigma; }
  double cdf(double x) const { return x <= 0 ? 0 : 0.5 * std::erfc(-z_of(x) / std::sqrt(2.0)); }
};

double standard_normal_density(double z) {
  return std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI);
}

// Adaptive Simpson on [a, b] to absolute tolerance `tolerance`.
template <class F>
double adaptive_simpson(const F& f, double a, double fa, double b, double fb, double m, double fm,
                        double whole, double tolerance, int depth) {
  const double left_mid = 0.5 * (a + m), right_mid = 0.5 * (m + b);
  const double f_left = f(left_mid), f_right = f(right_mid);
  const double left = (m - a) / 6 * (fa + 4 * f_left + fm), right = (b - m) / 6 * (fm + 4 * f_right + fb);
  if (depth <= 0 || std::abs(left + right - whole) <= 15 * tolerance)
    return left + right + (left + right - whole) / 15;
  return adaptive_simpson(f, a, fa, m, fm, left_mid, f_left, left, tolerance / 2, depth - 1) +
         adaptive_simpson(f, m, fm, b, fb, right_mid, f_right, right, tolerance / 2, depth - 1);
}

template <class F>
double integrate(const F& f, double a, double b, double tolerance) {
  const double fa = f(a), fb = f(b), m = 0.5 * (a + b), fm = f(m);
  return adaptive_simpson(f, a, fa, b, fb, m, fm, (b - a) / 6 * (fa + 4 * fm + fb), tolerance, 40);
}

}  // namespace

double SojournDistribution::convolution_cdf(ServiceTimeDistribution distribution, double cv, double w,
                                            double x) {
  if (x <= 0) return 0;
  if (distribution == ServiceTimeDistribution::kExponential) {
    if (std::abs(w - 1) < 1e-6) return 1 - (1 + x) * std::exp(-x);
    return 1 - (w * std::exp(-x / w) - std::exp(-x)) / (w - 1);
  }
  // P(S + wE ≤ x) = P(S ≤ x) − E[e^{−(x−S)/w}; S ≤ x], the expectation over z = (ln S − m)/σ, whose
  // integrand is smooth up to the upper limit S = x (adaptive Simpson refines where the exponential is
  // steep).
  const LogNormal service(cv);
  constexpr double kTailZ = 10;
  const double z_limit = std::min(service.z_of(x), kTailZ);
  if (z_limit <= -kTailZ) return 0;
  const auto integrand = [&](double z) {
    return standard_normal_density(z) * std::exp(-(x - std::exp(service.m + service.sigma * z)) / w);
  };
  const double correction = integrate(integrand, -kTailZ, z_limit, 1e-10);
  return std::clamp(service.cdf(x) - correction, 0.0, 1.0);
}

SojournDistribution::SojournDistribution(ServiceTimeDistribution distribution, double cv)
    : service_(kTimePoints), sojourn_(static_cast<std::size_t>(kTimePoints) * kWaitPoints) {
  const auto time_at = [](int i) { return kMinTime * std::pow(10.0, double(i) / kPointsPerDecade); };
  const auto wait_at = [](int j) { return kMinWait * std::pow(10.0, double(j) / kPointsPerDecade); };
  const LogNormal lognormal(cv);
  for (int i = 0; i < kTimePoints; ++i) {
    const double x = time_at(i);
    service_[i] = distribution == ServiceTimeDistribution::kExponential ? -std::expm1(-x) : lognormal.cdf(x);
  }
  for (int j = 0; j < kWaitPoints; ++j)
    for (int i = 0; i < kTimePoints; ++i)
      sojourn_[static_cast<std::size_t>(j) * kTimePoints + i] =
          convolution_cdf(distribution, cv, wait_at(j), time_at(i));
}

const SojournDistribution& SojournDistribution::shared(ServiceTimeDistribution distribution, double cv) {
  if (distribution == ServiceTimeDistribution::kExponential) cv = 1;
  static std::mutex mutex;
  static std::map<std::pair<ServiceTimeDistribution, double>, std::unique_ptr<SojournDistribution>> tables;
  const std::lock_guard lock(mutex);
  auto& table = tables[{distribution, cv}];
  if (!table) table.reset(new SojournDistribution(distribution, cv));
  return *table;
}

double SojournDistribution::quantile(double wait_probability, double mean_wait, double q) const {
  const AtWait wait = at_wait(wait_probability, wait_position(mean_wait));
  double lo = 0, hi = kTimePoints - 1;
  for (int i = 0; i < 50; ++i) {
    const double mid = 0.5 * (lo + hi);
    (wait.cdf_at(mid) < q ? lo : hi) = mid;
  }
  return kMinTime * std::exp(0.5 * (lo + hi) / kPositionsPerLog);
}

}  // namespace maestro::sim
