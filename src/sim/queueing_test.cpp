// The M/M/c formulas against known values and against a discrete-event simulation of the queue itself.
#include "sim/queueing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <queue>
#include <random>
#include <vector>

namespace maestro::sim {
namespace {

TEST(ErlangC, MatchesTextbookValues) {
  // One server: the probability of waiting is ρ.
  EXPECT_NEAR(erlang_c(1, 0.7), 0.7, 1e-12);
  // Two servers at a = 1: C = 1/3.
  EXPECT_NEAR(erlang_c(2, 1.0), 1.0 / 3, 1e-12);
  // Ten servers at a = 8: 0.4092 (standard tables).
  EXPECT_NEAR(erlang_c(10, 8.0), 0.4092, 5e-4);
}

TEST(Sojourn, SingleServerQuantileIsExponential) {
  // M/M/1: sojourn ~ Exp(μ − λ), p95 = ln 20 / (μ − λ).
  EXPECT_NEAR(mmc_sojourn_quantile(1, 60, 100, 0.95), std::log(20.0) / 40, 1e-9);
  EXPECT_NEAR(mmc_mean_sojourn(1, 60, 100), 1.0 / 40, 1e-12);
}

// p95 of sojourn times from simulating FIFO M/M/c request by request.
double simulated_p95(int servers, double arrival_rate, double service_rate, int requests,
                     std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> inter_arrival(arrival_rate), service(service_rate);
  std::priority_queue<double, std::vector<double>, std::greater<>> free_at;
  for (int i = 0; i < servers; ++i) free_at.push(0);
  std::vector<double> sojourn;
  sojourn.reserve(requests);
  double t = 0;
  for (int i = 0; i < requests; ++i) {
    t += inter_arrival(rng);
    const double start = std::max(t, free_at.top());
    free_at.pop();
    const double done = start + service(rng);
    free_at.push(done);
    if (i > requests / 10) sojourn.push_back(done - t);  // skip the warm-up
  }
  std::nth_element(sojourn.begin(), sojourn.begin() + sojourn.size() * 95 / 100, sojourn.end());
  return sojourn[sojourn.size() * 95 / 100];
}

TEST(Sojourn, ClosedFormAgreesWithADiscreteEventSimulation) {
  for (const int servers : {1, 4, 16}) {
    for (const double utilisation : {0.3, 0.7, 0.9}) {
      const double mu = 100, lambda = utilisation * servers * mu;
      const double closed = mmc_sojourn_quantile(servers, lambda, mu, 0.95);
      const double simulated = simulated_p95(servers, lambda, mu, 400000, 42 + servers);
      EXPECT_NEAR(simulated / closed, 1.0, 0.04) << servers << " servers at ρ=" << utilisation;
    }
  }
}

TEST(ErlangCTable, InterpolatesTheClosedForm) {
  const auto& table = ErlangCTable::shared();
  for (const int servers : {1, 3, 20, 100}) {
    for (const double utilisation : {0.0, 0.25, 0.5, 0.8, 0.93, 0.97}) {
      EXPECT_NEAR(table.wait_probability(servers, utilisation), erlang_c(servers, utilisation * servers),
                  2e-3)
          << servers << " " << utilisation;
    }
  }
  EXPECT_EQ(table.wait_probability(4, 1.5), table.wait_probability(4, ErlangCTable::kMaxUtilisation));
}

TEST(SojournDistribution, TableMatchesTheM_M_1ClosedForm) {
  // M/M/1: T ~ Exp(1 − ρ) in mean service times, i.e. wait probability ρ and mean wait 1/(1 − ρ).
  const auto& table = SojournDistribution::shared(ServiceTimeDistribution::kExponential, 1);
  for (const double rho : {0.1, 0.5, 0.7, 0.9, 0.98}) {
    for (const double x : {0.05, 0.5, 1.0, 3.0, 10.0, 100.0}) {
      const double exact = -std::expm1(-(1 - rho) * x);
      EXPECT_NEAR(table.cdf(rho, 1 / (1 - rho), x), exact, 2e-3 * exact + 1e-6) << rho << " " << x;
    }
    EXPECT_NEAR(table.quantile(rho, 1 / (1 - rho), 0.95) * (1 - rho), std::log(20.0), 1e-2) << rho;
  }
}

TEST(SojournDistribution, LogNormalConvolutionAgreesWithSampling) {
  // P(S + wE ≤ x) for a log-normal S of mean 1 and cv 1.5 against a million draws.
  const double cv = 1.5, sigma = std::sqrt(std::log1p(cv * cv)), m = -0.5 * sigma * sigma;
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> service(m, sigma);
  std::exponential_distribution<double> wait(1.0);
  const auto& table = SojournDistribution::shared(ServiceTimeDistribution::kLogNormal, cv);
  for (const double w : {0.01, 0.5, 3.0, 40.0}) {
    std::vector<double> draws(1'000'000);
    for (auto& d : draws) d = service(rng) + w * wait(rng);
    for (const double q : {0.5, 0.95}) {
      std::nth_element(draws.begin(), draws.begin() + static_cast<long>(q * draws.size()), draws.end());
      const double x = draws[static_cast<std::size_t>(q * draws.size())];
      EXPECT_NEAR(SojournDistribution::convolution_cdf(ServiceTimeDistribution::kLogNormal, cv, w, x), q,
                  2e-3)
          << w << " " << q;
      EXPECT_NEAR(table.cdf(1, w, x), q, 4e-3) << w << " " << q;
    }
  }
}

}  // namespace
}  // namespace maestro::sim
